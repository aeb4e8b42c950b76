package controllers

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
)

// indexSetMembers indexes the cached UserMatches by the UID of the
// UserMatchSet that controls them.
const indexSetMembers = "identity.entramatch.io/usermatchset-uid"

// setMemberKeys is indexSetMembers' function: a UserMatch is a member of
// the set that controls it and whose label it carries, as the set's
// finalizer, which lists by label, sees its members.
func setMemberKeys(obj any) ([]string, error) {
	um, ok := obj.(*identityv1alpha1.UserMatch)
	if !ok {
		return nil, nil
	}
	ref := metav1.GetControllerOfNoCopy(um)
	if ref == nil || um.Labels[labelUserMatchSet] != ref.Name {
		return nil, nil
	}
	return []string{string(ref.UID)}, nil
}

// setMembers finds the UserMatches of a set. A set's pass comes every
// second while it rolls out; listing through the client would copy
// every member into a new list each time (at 10,000 members, megabytes
// per pass). The informer's index gives the cached objects themselves.
type setMembers struct {
	// index is the UserMatch informer's store. Without it (reconcilers
	// built without a manager, in tests) client lists.
	index  toolscache.Indexer
	client client.Reader
}

// indexedInformer is the part of client-go's SharedIndexInformer that
// controller-runtime's Informer interface hides: its store, whose ByIndex
// returns the stored objects instead of copies.
type indexedInformer interface {
	GetIndexer() toolscache.Indexer
}

// newSetMembers adds indexSetMembers to the cache's UserMatch informer
// (before the cache starts) and reads members through it. A cache whose
// informer keeps no client-go store is refused rather than listed from:
// that would bring back a copy of every member on every pass.
func newSetMembers(ctx context.Context, c cache.Cache) (setMembers, error) {
	inf, err := c.GetInformer(ctx, &identityv1alpha1.UserMatch{})
	if err != nil {
		return setMembers{}, err
	}
	ix, ok := inf.(indexedInformer)
	if !ok {
		return setMembers{}, fmt.Errorf("the cache's UserMatch informer (%T) has no index to read a set's members from", inf)
	}
	if err := inf.AddIndexers(toolscache.Indexers{indexSetMembers: setMemberKeys}); err != nil {
		return setMembers{}, err
	}
	return setMembers{index: ix.GetIndexer()}, nil
}

// of returns set's UserMatches by the lower-case objectGUID of their AD
// user (ownedKey). They are the cache's own objects: read them only.
func (m setMembers) of(ctx context.Context, set *identityv1alpha1.UserMatchSet) (map[string]*identityv1alpha1.UserMatch, error) {
	if m.index != nil {
		items, err := m.index.ByIndex(indexSetMembers, string(set.UID))
		if err != nil {
			return nil, err
		}
		owned := make(map[string]*identityv1alpha1.UserMatch, len(items))
		for _, it := range items {
			if um, ok := it.(*identityv1alpha1.UserMatch); ok {
				owned[ownedKey(um.Spec.ADUser.ObjectGUID)] = um
			}
		}
		return owned, nil
	}
	var list identityv1alpha1.UserMatchList
	if err := m.client.List(ctx, &list, client.MatchingLabels{labelUserMatchSet: set.Name}, client.UnsafeDisableDeepCopy); err != nil {
		return nil, err
	}
	owned := make(map[string]*identityv1alpha1.UserMatch, len(list.Items))
	for i := range list.Items {
		um := &list.Items[i]
		if metav1.IsControlledBy(um, set) {
			owned[ownedKey(um.Spec.ADUser.ObjectGUID)] = um
		}
	}
	return owned, nil
}
