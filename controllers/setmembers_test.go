package controllers

import (
	"context"
	"maps"
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
// UserMatches the set controls, by their AD user's objectGUID in lower
// case; not those of another set of the same name, nor those the set only
// owns without controlling. The index hands out the stored objects
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
	}
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
