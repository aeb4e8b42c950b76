package controllers

import (
	"context"
	"errors"
	"testing"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/anchor"
	"github.com/entramatch/entra-match-operator/internal/directory"
)

// consistencyRacer is a directory whose mS-DS-ConsistencyGuid was filled by
// someone else after the user was read.
type consistencyRacer struct {
	DirectoryClient
	writes int
}

func (c *consistencyRacer) SetConsistencyGUID(context.Context, string, anchor.Anchor) error {
	c.writes++
	return &directory.Error{Op: "set mS-DS-ConsistencyGuid", Class: directory.ErrConsistencyGUIDSet}
}

// With writeConsistencyGuid, a value written by another writer between the
// read and the write is the anchor: the pass stops rather than using
// objectGUID labelled as mS-DS-ConsistencyGuid.
func TestSourceAnchorNeverUsesObjectGUIDOverAStoredValue(t *testing.T) {
	g, err := anchor.FromGUID("3ab39606-c642-489b-84b6-58c038d3ef39")
	if err != nil {
		t.Fatal(err)
	}
	ad := &identityv1alpha1.ActiveDirectory{Spec: identityv1alpha1.ActiveDirectorySpec{WriteConsistencyGuid: true}}
	um := &identityv1alpha1.UserMatch{}
	d := &consistencyRacer{}
	a, src, err := (&UserMatchReconciler{}).sourceAnchor(context.Background(), d, ad, um, directory.User{DN: "CN=a,DC=corp", ObjectGUID: g})
	if !errors.Is(err, directory.ErrConsistencyGUIDSet) || !a.IsZero() || src != "" || d.writes != 1 {
		t.Fatalf("sourceAnchor = %v, %q, %v after %d writes; want ErrConsistencyGUIDSet and no anchor", a, src, err, d.writes)
	}
	if oc := classifyDirectory(err); oc.reason != identityv1alpha1.ReasonAnchorChanged || !oc.transient {
		t.Errorf("classified as %+v, want a transient AnchorChanged", oc)
	}
}
