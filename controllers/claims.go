package controllers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
)

// Two UserMatches created together for one cloud user both see no claim
// in each other's status and would both write. The API server's create is
// atomic: before its first write to a cloud user, a UserMatch creates a
// Lease named after the tenant and the cloud user, in the manager's
// namespace. Whoever creates it writes; the other is told who holds it.

// +kubebuilder:rbac:groups=coordination.k8s.io,namespace=system,resources=leases,verbs=get;create;delete

// claimLabel marks the Leases that are claims, with the holder's name.
const claimLabel = "identity.entramatch.io/usermatch"

// claims takes and releases the per-cloud-user claims.
type claims struct {
	reader    client.Reader // uncached: a claim must be read as it is now
	writer    client.Client
	namespace string
}

// claimName is the Lease of one cloud user of one tenant.
func claimName(tenantID, cloudID string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(tenantID) + "/" + strings.ToLower(cloudID)))
	return "usermatch-claim-" + hex.EncodeToString(sum[:12])
}

// take claims cloudID for um. It returns the name of the UserMatch that
// holds the claim when it is not um ("" when um holds it now). A claim
// whose holder no longer exists is taken over.
func (c claims) take(ctx context.Context, um *identityv1alpha1.UserMatch, tenantID, cloudID string) (string, error) {
	key := types.NamespacedName{Namespace: c.namespace, Name: claimName(tenantID, cloudID)}
	for range 3 {
		holder := string(um.UID)
		lease := &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name,
				Labels:          map[string]string{claimLabel: um.Name},
				OwnerReferences: []metav1.OwnerReference{{APIVersion: identityv1alpha1.GroupVersion.String(), Kind: "UserMatch", Name: um.Name, UID: um.UID}}},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: &holder},
		}
		err := c.writer.Create(ctx, lease)
		if err == nil {
			return "", nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return "", fmt.Errorf("claiming cloud user %s: %w", cloudID, err)
		}
		var held coordinationv1.Lease
		if err := c.reader.Get(ctx, key, &held); err != nil {
			if apierrors.IsNotFound(err) {
				continue
			}
			return "", fmt.Errorf("reading the claim on cloud user %s: %w", cloudID, err)
		}
		if held.Spec.HolderIdentity != nil && *held.Spec.HolderIdentity == string(um.UID) {
			return "", nil
		}
		name := held.Labels[claimLabel]
		var other identityv1alpha1.UserMatch
		err = c.reader.Get(ctx, types.NamespacedName{Name: name}, &other)
		switch {
		case err == nil && held.Spec.HolderIdentity != nil && string(other.UID) == *held.Spec.HolderIdentity && other.DeletionTimestamp.IsZero():
			return name, nil
		case err != nil && !apierrors.IsNotFound(err):
			return "", err
		}
		// The holder is gone: take the claim over, unless someone else
		// already did (the precondition).
		uid := held.UID
		if err := c.writer.Delete(ctx, &held, client.Preconditions{UID: &uid}); err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return "", err
		}
	}
	return "", fmt.Errorf("claiming cloud user %s: the claim kept changing", cloudID)
}

// release gives up um's claim on cloudID, if it holds it.
func (c claims) release(ctx context.Context, um *identityv1alpha1.UserMatch, tenantID, cloudID string) error {
	key := types.NamespacedName{Namespace: c.namespace, Name: claimName(tenantID, cloudID)}
	var held coordinationv1.Lease
	if err := c.reader.Get(ctx, key, &held); err != nil {
		return client.IgnoreNotFound(err)
	}
	if held.Spec.HolderIdentity == nil || *held.Spec.HolderIdentity != string(um.UID) {
		return nil
	}
	uid := held.UID
	err := c.writer.Delete(ctx, &held, client.Preconditions{UID: &uid})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil
	}
	return err
}
