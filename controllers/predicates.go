package controllers

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
)

// specOrReadyChanged passes events of a referenced EntraTenant or
// ActiveDirectory that can change what its dependents see: a new spec
// (credentials, endpoints) or a change of readiness (a fixed Secret). Their
// periodic status refresh does not pass: it would wake every dependent at
// each resync and cut short the waits for a Retry-After.
func specOrReadyChanged() predicate.Predicate {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			if e.ObjectOld.GetGeneration() != e.ObjectNew.GetGeneration() {
				return true
			}
			return readyOf(e.ObjectOld) != readyOf(e.ObjectNew)
		},
	}
}

func readyOf(o client.Object) bool {
	var conds []metav1.Condition
	switch v := o.(type) {
	case *identityv1alpha1.EntraTenant:
		conds = v.Status.Conditions
	case *identityv1alpha1.ActiveDirectory:
		conds = v.Status.Conditions
	}
	return meta.IsStatusConditionTrue(conds, identityv1alpha1.ConditionReady)
}

// takeoverChanged passes a TenantSyncFeatures whose last read of the
// hard-match takeover flag changed: a matching window opened or closed, and
// UserMatches held back by the flag can go ahead (or must wait) at once.
func takeoverChanged() predicate.Predicate {
	return predicate.Funcs{
		CreateFunc:  func(event.CreateEvent) bool { return false },
		DeleteFunc:  func(event.DeleteEvent) bool { return true },
		GenericFunc: func(event.GenericEvent) bool { return false },
		UpdateFunc: func(e event.UpdateEvent) bool {
			return takeoverOf(e.ObjectOld) != takeoverOf(e.ObjectNew)
		},
	}
}

func takeoverOf(o client.Object) string {
	t, ok := o.(*identityv1alpha1.TenantSyncFeatures)
	if !ok || t.Status.Observed == nil || t.Status.Observed.BlockCloudObjectTakeoverThroughHardMatchEnabled == nil {
		return ""
	}
	if *t.Status.Observed.BlockCloudObjectTakeoverThroughHardMatchEnabled {
		return "on"
	}
	return "off"
}
