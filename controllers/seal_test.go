package controllers

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/seal"
)

// Whoever may patch a UserMatch's status must not be able to make the
// operator grant a role: only a record the operator sealed is acted on, for
// the cloud user it was recorded from, at the scope it was recorded with.
func TestOnlySealedRecordsAreActedOn(t *testing.T) {
	key, _ := seal.NewKey()
	s, _ := seal.New(key)
	r := &UserMatchReconciler{Sealer: s}
	genuine := func() *identityv1alpha1.UserMatch {
		um := &identityv1alpha1.UserMatch{ObjectMeta: metav1.ObjectMeta{UID: "uid-1"}}
		um.Status.Cloud = &identityv1alpha1.CloudUserStatus{ObjectID: "victim"}
		um.Status.RecordedRoles = []identityv1alpha1.RecordedRole{{Kind: identityv1alpha1.RoleKindAssignment,
			RoleDefinitionID: "fe930be7-5e62-47db-91af-98c3a49a38b1", DirectoryScopeID: "/administrativeUnits/au1", ID: "a1"}}
		um.Status.RecordedRolesSeal = r.sealRecord(um)
		return um
	}
	if !r.recordSealed(genuine()) {
		t.Fatal("the operator's own record does not verify")
	}
	for name, forge := range map[string]func(*identityv1alpha1.UserMatch){
		"no seal": func(um *identityv1alpha1.UserMatch) { um.Status.RecordedRolesSeal = "" },
		"Global Administrator": func(um *identityv1alpha1.UserMatch) {
			um.Status.RecordedRoles[0].RoleDefinitionID = "62e90394-69f5-4237-9190-012177145e10"
		},
		"a role added": func(um *identityv1alpha1.UserMatch) {
			um.Status.RecordedRoles = append(um.Status.RecordedRoles, um.Status.RecordedRoles[0])
		},
		"scope widened to tenant":  func(um *identityv1alpha1.UserMatch) { um.Status.RecordedRoles[0].DirectoryScopeID = "/" },
		"scope emptied":            func(um *identityv1alpha1.UserMatch) { um.Status.RecordedRoles[0].DirectoryScopeID = "" },
		"restored to someone else": func(um *identityv1alpha1.UserMatch) { um.Status.Cloud.ObjectID = "attacker" },
		"copied to another UserMatch": func(um *identityv1alpha1.UserMatch) {
			um.UID = "uid-2"
		},
		"end date removed": func(um *identityv1alpha1.UserMatch) {
			end := metav1.Now()
			um.Status.RecordedRoles[0].EndTime = &end
		},
	} {
		um := genuine()
		forge(um)
		if r.recordSealed(um) {
			t.Errorf("%s: a forged record verified", name)
		}
	}
	// An unsealed scope-less record is refused even if someone sealed it.
	um := genuine()
	um.Status.RecordedRoles[0].DirectoryScopeID = ""
	um.Status.RecordedRolesSeal = r.sealRecord(um)
	if r.recordSealed(um) {
		t.Error("a record without a scope verified: it would be restored tenant-wide")
	}
	// Marks the operator sets as it goes do not break the seal.
	um = genuine()
	um.Status.RecordedRoles[0].Restored = true
	if !r.recordSealed(um) {
		t.Error("marking a role restored broke the seal")
	}
}
