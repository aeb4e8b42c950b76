package controllers

import (
	"context"
	"testing"

	"github.com/go-logr/logr"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/anchor"
	"github.com/entramatch/entra-match-operator/internal/directory"
)

// consistencyRacer is a directory whose mS-DS-ConsistencyGuid was filled by
// someone else after the user was read.
type consistencyRacer struct {
	directory.Service
	writes int
}

func (c *consistencyRacer) SetConsistencyGUID(context.Context, string, anchor.Anchor) error {
	c.writes++
	return &directory.Error{Op: "set mS-DS-ConsistencyGuid", Class: directory.ErrConsistencyGUIDSet}
}

// With writeConsistencyGuid, a value written by another writer between the
// read and the write is the anchor: the pass stops rather than using
// objectGUID labelled as mS-DS-ConsistencyGuid, and the anchor is not
// reported as resolved.
func TestStampAnchorNeverUsesObjectGUIDOverAStoredValue(t *testing.T) {
	g, err := anchor.FromGUID("3ab39606-c642-489b-84b6-58c038d3ef39")
	if err != nil {
		t.Fatal(err)
	}
	ad := &identityv1alpha1.ActiveDirectory{Spec: identityv1alpha1.ActiveDirectorySpec{WriteConsistencyGuid: true}}
	d := &consistencyRacer{}
	s := &userMatchScope{pass: pass{log: logr.Discard()}, um: &identityv1alpha1.UserMatch{}, ad: ad, dirConn: d,
		adUser: directory.User{DN: "CN=a,DC=corp", ObjectGUID: g}, anchor: g, source: identityv1alpha1.AnchorSourceObjectGUID, resolved: true}
	if _, err := (&UserMatchReconciler{}).stampAnchor(context.Background(), s); err == nil {
		t.Fatal("stampAnchor returned no error for a transient AnchorChanged")
	}
	if d.writes != 1 || s.resolved || s.failed == nil || s.failed.reason != identityv1alpha1.ReasonAnchorChanged || !s.failed.transient {
		t.Fatalf("after %d writes: resolved=%t failed=%+v; want one write, a transient AnchorChanged and no anchor", d.writes, s.resolved, s.failed)
	}
	if s.stamp == nil || s.stamp.status || s.stamp.reason != identityv1alpha1.ReasonAnchorChanged {
		t.Errorf("ConsistencyGuidWritten = %+v, want False/AnchorChanged", s.stamp)
	}
	if s.adUser.ConsistencyGUID != nil {
		t.Errorf("the scope claims mS-DS-ConsistencyGuid %v after a failed write", s.adUser.ConsistencyGUID)
	}
}

// In Observe mode nothing is written to AD; the condition says what would be.
func TestStampAnchorObserveWritesNothing(t *testing.T) {
	g, _ := anchor.FromGUID("3ab39606-c642-489b-84b6-58c038d3ef39")
	ad := &identityv1alpha1.ActiveDirectory{Spec: identityv1alpha1.ActiveDirectorySpec{WriteConsistencyGuid: true}}
	d := &consistencyRacer{}
	um := &identityv1alpha1.UserMatch{Spec: identityv1alpha1.UserMatchSpec{Mode: identityv1alpha1.ModeObserve}}
	s := &userMatchScope{pass: pass{log: logr.Discard()}, um: um, ad: ad, dirConn: d, adUser: directory.User{DN: "CN=a,DC=corp", ObjectGUID: g}, resolved: true}
	res, err := (&UserMatchReconciler{}).stampAnchor(context.Background(), s)
	if err != nil || !res.IsZero() || d.writes != 0 || s.stamp == nil || s.stamp.reason != identityv1alpha1.ReasonObserveOnly {
		t.Fatalf("stampAnchor = %v, %v after %d writes, condition %+v; want no write and ObserveOnly", res, err, d.writes, s.stamp)
	}
}
