package controllers

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
)

func TestReadyTransition(t *testing.T) {
	ready := func(s metav1.ConditionStatus, reason, msg string) *metav1.Condition {
		return &metav1.Condition{Type: identityv1alpha1.ConditionReady, Status: s, Reason: reason, Message: msg}
	}
	tests := []struct {
		name          string
		before, after *metav1.Condition
		want          string // "" for no Event
	}{
		{"first verification", nil, ready(metav1.ConditionTrue, "Verified", "signed in"), "Normal Verified signed in"},
		{"first failure", nil, ready(metav1.ConditionFalse, "InvalidCredentials", "AADSTS7000215"), "Warning InvalidCredentials AADSTS7000215"},
		{"still ready, new domain list", ready(metav1.ConditionTrue, "Verified", "a"), ready(metav1.ConditionTrue, "Verified", "b"), ""},
		{"still failing the same way", ready(metav1.ConditionFalse, "Unreachable", "x"), ready(metav1.ConditionFalse, "Unreachable", "x"), ""},
		{"failing differently", ready(metav1.ConditionFalse, "Unreachable", "x"), ready(metav1.ConditionFalse, "InvalidCredentials", "y"), "Warning InvalidCredentials y"},
		{"same reason, new message", ready(metav1.ConditionFalse, "MissingPermission", "x"), ready(metav1.ConditionFalse, "MissingPermission", "y"), "Warning MissingPermission y"},
		{"recovered", ready(metav1.ConditionFalse, "InvalidCredentials", "x"), ready(metav1.ConditionTrue, "Verified", "signed in"), "Normal Verified signed in"},
		{"broke", ready(metav1.ConditionTrue, "Verified", "signed in"), ready(metav1.ConditionFalse, "TenantNotFound", "no such tenant"), "Warning TenantNotFound no such tenant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := events.NewFakeRecorder(4)
			var before []metav1.Condition
			if tt.before != nil {
				before = []metav1.Condition{*tt.before}
			}
			announce(rec, &identityv1alpha1.EntraTenant{}, before, []metav1.Condition{*tt.after}, readyTransition)
			got := ""
			select {
			case got = <-rec.Events:
			default:
			}
			if got != tt.want {
				t.Errorf("event = %q, want %q", got, tt.want)
			}
		})
	}
}
