package controllers

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
)

// A set is woken, once and a moment later, when one of its UserMatches
// stops being at work; other status changes and other owners do not wake
// it.
func TestSetMemberDoneWakesTheOwner(t *testing.T) {
	q := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[reconcile.Request]())
	defer q.ShutDown()
	h := setMemberDone()
	yes := true
	um := func(owner string, conds ...metav1.Condition) *identityv1alpha1.UserMatch {
		return &identityv1alpha1.UserMatch{ObjectMeta: metav1.ObjectMeta{Name: "um", OwnerReferences: []metav1.OwnerReference{{
			APIVersion: identityv1alpha1.GroupVersion.String(), Kind: owner, Name: "staff", Controller: &yes}}},
			Status: identityv1alpha1.UserMatchStatus{Conditions: conds}}
	}
	working := metav1.Condition{Type: identityv1alpha1.ConditionMatched, Status: metav1.ConditionFalse}
	matched := metav1.Condition{Type: identityv1alpha1.ConditionMatched, Status: metav1.ConditionTrue}
	ctx := context.Background()
	h.Update(ctx, event.UpdateEvent{ObjectOld: um("UserMatchSet"), ObjectNew: um("UserMatchSet", working)}, q)
	h.Update(ctx, event.UpdateEvent{ObjectOld: um("SomethingElse", working), ObjectNew: um("SomethingElse", matched)}, q)
	h.Update(ctx, event.UpdateEvent{ObjectOld: um("UserMatchSet", working), ObjectNew: um("UserMatchSet", matched)}, q)
	h.Update(ctx, event.UpdateEvent{ObjectOld: um("UserMatchSet", working), ObjectNew: um("UserMatchSet", matched)}, q)
	if q.Len() != 0 {
		t.Fatalf("%d requests at once, want them after topUpDelay", q.Len())
	}
	time.Sleep(topUpDelay + 200*time.Millisecond)
	if q.Len() != 1 {
		t.Fatalf("%d requests after topUpDelay, want 1 (the set, once)", q.Len())
	}
	if req, _ := q.Get(); req.Name != "staff" {
		t.Fatalf("woke %v", req)
	}
}
