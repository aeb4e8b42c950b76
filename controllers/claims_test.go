package controllers

import (
	"context"
	"sync"
	"testing"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
)

// Two UserMatches for one cloud user, reconciled at the same instant:
// exactly one gets the claim and writes; the other is told who holds it.
// A claim whose holder is gone is taken over; a released claim is free.
func TestOnlyOneUserMatchClaimsACloudUser(t *testing.T) {
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = identityv1alpha1.AddToScheme(scheme)
	a := &identityv1alpha1.UserMatch{ObjectMeta: metav1.ObjectMeta{Name: "ada", UID: "uid-a"}}
	b := &identityv1alpha1.UserMatch{ObjectMeta: metav1.ObjectMeta{Name: "ada-again", UID: "uid-b"}}
	k := fake.NewClientBuilder().WithScheme(scheme).WithObjects(a, b).Build()
	c := claims{reader: k, writer: k, namespace: "entra-match-system"}
	ctx := context.Background()

	for round := range 20 {
		holders := make([]string, 2)
		var wg sync.WaitGroup
		for i, um := range []*identityv1alpha1.UserMatch{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				h, err := c.take(ctx, um, "tenant", "user-1")
				if err != nil {
					t.Error(err)
				}
				holders[i] = h
			}()
		}
		wg.Wait()
		won := 0
		for _, h := range holders {
			if h == "" {
				won++
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d UserMatches got the claim (holders %q)", round, won, holders)
		}
		// Taking again is idempotent for the holder.
		winner := a
		if holders[0] != "" {
			winner = b
		}
		if h, _ := c.take(ctx, winner, "tenant", "user-1"); h != "" {
			t.Fatalf("the holder lost its own claim to %s", h)
		}
		if err := c.release(ctx, winner, "tenant", "user-1"); err != nil {
			t.Fatal(err)
		}
	}

	// A claim held by a UserMatch that no longer exists is taken over.
	gone := &identityv1alpha1.UserMatch{ObjectMeta: metav1.ObjectMeta{Name: "gone", UID: "uid-gone"}}
	if h, err := c.take(ctx, gone, "tenant", "user-2"); err != nil || h != "" {
		t.Fatalf("first claim: %q %v", h, err)
	}
	if h, err := c.take(ctx, a, "tenant", "user-2"); err != nil || h != "" {
		t.Fatalf("a claim whose holder is gone was not taken over: %q %v", h, err)
	}
	// Releasing someone else's claim does nothing.
	if err := c.release(ctx, b, "tenant", "user-2"); err != nil {
		t.Fatal(err)
	}
	var l coordinationv1.Lease
	if err := k.Get(ctx, types.NamespacedName{Namespace: "entra-match-system", Name: claimName("tenant", "user-2")}, &l); err != nil ||
		*l.Spec.HolderIdentity != "uid-a" {
		t.Errorf("claim after another's release: %v %+v", err, l.Spec)
	}
}
