package controllers

import (
	"context"
	"maps"
	"reflect"
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
)

// The informer's index and the client's list find the same members: the
// UserMatches the set controls and labels, by their AD user's objectGUID
// in lower case; not those of another set of the same name, those the set
// only owns without controlling, nor those without the set's label (the
// set's finalizer lists by label). The index hands out the stored objects
// themselves.
func TestSetMembersIndexAndListAgree(t *testing.T) {
	set := &identityv1alpha1.UserMatchSet{ObjectMeta: metav1.ObjectMeta{Name: "staff", UID: "uid-staff"}}
	yes, no := true, false
	um := func(name, guid string, uid types.UID, controller *bool) *identityv1alpha1.UserMatch {
		return &identityv1alpha1.UserMatch{
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{labelUserMatchSet: "staff"},
				OwnerReferences: []metav1.OwnerReference{{APIVersion: identityv1alpha1.GroupVersion.String(), Kind: "UserMatchSet",
					Name: "staff", UID: uid, Controller: controller}}},
			Spec: identityv1alpha1.UserMatchSpec{ADUser: identityv1alpha1.ADUserSelector{ObjectGUID: guid}},
		}
	}
	objs := []*identityv1alpha1.UserMatch{
		um("a", "AAAA-1", "uid-staff", &yes),
		um("b", "bbbb-2", "uid-staff", &yes),
		um("c", "cccc-3", "uid-earlier-staff", &yes), // a deleted set's, same name
		um("d", "dddd-4", "uid-staff", &no),          // owned, not controlled
		um("e", "eeee-5", "uid-staff", &yes),         // its label removed below
	}
	delete(objs[4].Labels, labelUserMatchSet)
	want := []string{"aaaa-1", "bbbb-2"}

	index := toolscache.NewIndexer(toolscache.MetaNamespaceKeyFunc, toolscache.Indexers{indexSetMembers: setMemberKeys})
	for _, o := range objs {
		if err := index.Add(o); err != nil {
			t.Fatal(err)
		}
	}
	got, err := setMembers{index: index}.of(context.Background(), set)
	if err != nil {
		t.Fatal(err)
	}
	if keys := slices.Sorted(maps.Keys(got)); !slices.Equal(keys, want) {
		t.Fatalf("index: members %v, want %v", keys, want)
	}
	if got["aaaa-1"] != objs[0] {
		t.Fatal("index: the member is a copy, not the stored object")
	}

	scheme := runtime.NewScheme()
	if err := identityv1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	b := fake.NewClientBuilder().WithScheme(scheme)
	for _, o := range objs {
		b = b.WithObjects(o.DeepCopy())
	}
	listed, err := setMembers{client: b.Build()}.of(context.Background(), set)
	if err != nil {
		t.Fatal(err)
	}
	if keys := slices.Sorted(maps.Keys(listed)); !slices.Equal(keys, want) {
		t.Fatalf("list: members %v, want %v", keys, want)
	}
}

// A pass that decided but could not read the set's members leaves the
// counts as they were: without members, every UserMatch would count as
// missing.
func TestSetStatusWithoutMembersKeepsCounts(t *testing.T) {
	set := &identityv1alpha1.UserMatchSet{ObjectMeta: metav1.ObjectMeta{Name: "staff", Generation: 2},
		Spec:   identityv1alpha1.UserMatchSetSpec{Mode: identityv1alpha1.ModeEnforce},
		Status: identityv1alpha1.UserMatchSetStatus{UserMatches: 7, Matched: 5, InFlight: 2}}
	before := set.Status.DeepCopy()
	s := &setScope{set: set, decided: true, pairs: []setPair{{adGUID: "a", key: "a", cloudID: "c", outcome: "NeedsUserMatch"}}}
	(&UserMatchSetReconciler{}).status(s)
	if !reflect.DeepEqual(set.Status, *before) {
		t.Fatalf("status changed without members: %+v", set.Status)
	}
	s.owned = map[string]*identityv1alpha1.UserMatch{}
	(&UserMatchSetReconciler{}).status(s)
	if set.Status.UserMatches != 0 || set.Status.NeedsUserMatch != 1 {
		t.Fatalf("with members read (none): %+v", set.Status)
	}
}
