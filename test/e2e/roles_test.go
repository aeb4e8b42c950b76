package e2e_test

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/emulator"
	"github.com/entramatch/entra-match-operator/internal/metrics"
)

const (
	roleGlobalAdmin        = "62e90394-69f5-4237-9190-012177145e10"
	rolePrivilegedRoleAdmn = "e8611ab8-c189-46e8-94e1-60213ab1f814"
)

// The seed's admin-role workaround, automated: the roles of a cloud Global
// Administrator and of a PIM-eligible user are recorded, removed, the
// immutableId is set, sync hard-matches, and every role comes back exactly once.
func TestRemoveAndRestorePrivilegedRoles(t *testing.T) {
	w := env(t)
	for _, tc := range []struct {
		name     string
		eligible bool
		roleDef  string
		until    time.Duration // a time-bound eligibility
	}{
		{"global administrator", false, roleGlobalAdmin, 0},
		{"eligible privileged role administrator", true, rolePrivilegedRoleAdmn, 0},
		{"time-bound eligible privileged role administrator", true, rolePrivilegedRoleAdmn, 48 * time.Hour},
		{"time-bound global administrator", false, roleGlobalAdmin, 48 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tw := w.newTwin(t, "rr", nil)
			var end *time.Time
			if tc.until > 0 {
				e := time.Now().Add(tc.until).UTC().Truncate(time.Second)
				end = &e
				w.addRoleUntil(t, tw.cloudID, tc.roleDef, tc.eligible, e)
			} else {
				w.addRole(t, tw.cloudID, tc.roleDef, tc.eligible)
			}
			w.userMatch(t, tw.sam, func(s *identityv1alpha1.UserMatchSpec) {
				s.ADUser.SAMAccountName = tw.sam
				s.PrivilegedRoles = identityv1alpha1.PrivilegedRolesRemoveAndRestore
				s.MaxRoleHoldDuration = &metav1.Duration{Duration: 3600e9}
			})
			um := w.waitUM(t, tw.sam, "roles removed and immutableId set", func(um *identityv1alpha1.UserMatch) bool {
				return cond(um, identityv1alpha1.ConditionRolesRemoved, T, identityv1alpha1.ReasonRolesRemoved) &&
					cond(um, identityv1alpha1.ConditionMatched, T, "")
			})
			if len(um.Status.RecordedRoles) != 1 || um.Status.RecordedRoles[0].RoleDefinitionID != tc.roleDef || um.Status.RecordedRoles[0].Restored {
				t.Fatalf("recorded roles = %+v", um.Status.RecordedRoles)
			}
			if n := w.roleCount(tw.cloudID, tc.roleDef); n != 0 {
				t.Fatalf("role still present %d times while waiting for sync", n)
			}
			w.waitEvent(t, tw.sam, "RoleRemoved")
			if held := testutil.ToFloat64(metrics.RolesHeld.WithLabelValues(tw.sam)); held != 1 {
				t.Errorf("entramatch_privileged_roles_held = %v while the role is removed, want 1", held)
			}

			res := w.syncCycle(t, tw)
			if res[0].Outcome != emulator.OutcomeHardMatch {
				t.Fatalf("sync = %+v, want HardMatch once the roles are gone", res)
			}
			um = w.waitUM(t, tw.sam, "roles restored and Ready", func(um *identityv1alpha1.UserMatch) bool {
				return cond(um, identityv1alpha1.ConditionRolesRemoved, F, identityv1alpha1.ReasonRolesRestored) &&
					cond(um, identityv1alpha1.ConditionReady, T, identityv1alpha1.ReasonSyncJoined)
			})
			if !um.Status.RecordedRoles[0].Restored {
				t.Errorf("recorded role not marked restored: %+v", um.Status.RecordedRoles)
			}
			if n := w.roleCount(tw.cloudID, tc.roleDef); n != 1 {
				t.Fatalf("role present %d times after restore, want exactly 1", n)
			}
			w.waitEvent(t, tw.sam, "RoleRestored")
			if held := testutil.ToFloat64(metrics.RolesHeld.WithLabelValues(tw.sam)); held != 0 {
				t.Errorf("entramatch_privileged_roles_held = %v after the restore, want 0", held)
			}
			if end != nil {
				// Restored with its end date, not as a permanent eligibility.
				if rec := um.Status.RecordedRoles[0].EndTime; rec == nil || !rec.Time.Equal(*end) {
					t.Errorf("recorded end = %v, want %s", rec, end)
				}
				snap := w.em.Snapshot()
				ends := map[string]*time.Time{}
				for _, e := range snap.RoleEligibilities {
					ends[e.PrincipalID+"/eligible"] = e.EndDateTime
				}
				for _, a := range snap.RoleAssignments {
					ends[a.PrincipalID+"/active"] = a.EndDateTime
				}
				kind := map[bool]string{true: "/eligible", false: "/active"}[tc.eligible]
				if got, ok := ends[tw.cloudID+kind]; !ok || got == nil || !got.Equal(*end) {
					t.Errorf("restored role ends %v (present %t), want %s", got, ok, end)
				}
			}
		})
	}
}

// Deleting a UserMatch in the middle of the workflow restores the roles
// before the finalizer is released.
func TestDeleteMidWorkflowRestoresRoles(t *testing.T) {
	w := env(t)
	tw := w.newTwin(t, "rrdel", nil)
	w.addRole(t, tw.cloudID, roleGlobalAdmin, false)
	um := w.userMatch(t, tw.sam, func(s *identityv1alpha1.UserMatchSpec) {
		s.ADUser.SAMAccountName = tw.sam
		s.PrivilegedRoles = identityv1alpha1.PrivilegedRolesRemoveAndRestore
	})
	w.waitUM(t, tw.sam, "roles removed", func(um *identityv1alpha1.UserMatch) bool {
		return cond(um, identityv1alpha1.ConditionRolesRemoved, T, identityv1alpha1.ReasonRolesRemoved)
	})
	if err := w.k8s.Delete(ctxFor(t), um); err != nil {
		t.Fatal(err)
	}
	w.waitGone(t, um.Name)
	if n := w.roleCount(tw.cloudID, roleGlobalAdmin); n != 1 {
		t.Fatalf("Global Administrator present %d times after deletion, want exactly 1", n)
	}
}

// With the default policy (Refuse) nothing is removed.
func TestRefusePolicyKeepsRoles(t *testing.T) {
	w := env(t)
	tw := w.newTwin(t, "refuse", nil)
	w.addRole(t, tw.cloudID, roleGlobalAdmin, false)
	w.userMatch(t, tw.sam, func(s *identityv1alpha1.UserMatchSpec) { s.ADUser.SAMAccountName = tw.sam })
	w.waitUM(t, tw.sam, "Blocked", func(um *identityv1alpha1.UserMatch) bool {
		return cond(um, identityv1alpha1.ConditionBlocked, T, identityv1alpha1.ReasonPrivilegedRole)
	})
	if n := w.roleCount(tw.cloudID, roleGlobalAdmin); n != 1 {
		t.Fatalf("Refuse policy changed roles: %d present", n)
	}
}

// roleCount counts assignments and eligibilities of a role for a principal.
func (w *world) roleCount(principal, roleDef string) int {
	s := w.em.Snapshot()
	n := 0
	for _, a := range s.RoleAssignments {
		if a.PrincipalID == principal && a.RoleDefinitionID == roleDef {
			n++
		}
	}
	for _, e := range s.RoleEligibilities {
		if e.PrincipalID == principal && e.RoleDefinitionID == roleDef {
			n++
		}
	}
	return n
}

// The seed's whole scenario (issue: privileged cloud users and unmatched
// duplicates): a cloud Global Administrator and a PIM-eligible user have AD
// twins; the first sync is refused for both (ExistingAdminRoleConflict) and
// creates duplicates carrying their anchors; with RemoveAndRestore and
// duplicates: Purge the operator removes the roles, deletes and purges the
// duplicates, writes the anchors, the next sync hard-matches, and the roles
// come back.
func TestSeedScenarioPrivilegedUsersWithDuplicates(t *testing.T) {
	w := env(t)
	admin := w.newTwin(t, "seedga", nil)
	w.addRole(t, admin.cloudID, roleGlobalAdmin, false)
	eligible := w.newTwin(t, "seedpim", nil)
	w.addRole(t, eligible.cloudID, rolePrivilegedRoleAdmn, true)

	first := w.syncCycle(t, admin, eligible)
	dups := map[string]string{}
	for i, tw := range []twin{admin, eligible} {
		r := first[i]
		if r.Outcome != emulator.OutcomeCreated || r.Error == nil || r.Error.Code != "ExistingAdminRoleConflict" {
			t.Fatalf("first sync of %s = %+v, want Created with ExistingAdminRoleConflict", tw.sam, r)
		}
		if r.ObjectID == tw.cloudID {
			t.Fatalf("first sync matched the privileged user %s", tw.sam)
		}
		dups[tw.sam] = r.ObjectID
	}

	for _, tw := range []twin{admin, eligible} {
		w.userMatch(t, tw.sam, func(s *identityv1alpha1.UserMatchSpec) {
			s.ADUser.SAMAccountName = tw.sam
			s.PrivilegedRoles = identityv1alpha1.PrivilegedRolesRemoveAndRestore
			s.Duplicates = identityv1alpha1.DuplicatesPurge
		})
	}
	for _, tw := range []twin{admin, eligible} {
		um := w.waitUM(t, tw.sam, "duplicate purged, roles removed, immutableId set", func(um *identityv1alpha1.UserMatch) bool {
			return cond(um, identityv1alpha1.ConditionRolesRemoved, T, identityv1alpha1.ReasonRolesRemoved) &&
				cond(um, identityv1alpha1.ConditionMatched, T, "")
		})
		w.waitEvent(t, tw.sam, "DuplicateDeleted")
		w.waitEvent(t, tw.sam, "DuplicatePurged")
		snap := w.em.Snapshot()
		for _, u := range append(snap.Users, snap.DeletedItems.Users...) {
			if u.ID == dups[tw.sam] {
				t.Fatalf("duplicate %s of %s still exists (status %+v)", u.UserPrincipalName, tw.sam, um.Status.DuplicatesFound)
			}
		}
	}

	second := w.syncCycle(t, admin, eligible)
	for i, tw := range []twin{admin, eligible} {
		if second[i].Outcome != emulator.OutcomeHardMatch || second[i].ObjectID != tw.cloudID {
			t.Fatalf("second sync of %s = %+v, want HardMatch onto %s", tw.sam, second[i], tw.cloudID)
		}
	}
	for _, tc := range []struct {
		tw   twin
		role string
	}{{admin, roleGlobalAdmin}, {eligible, rolePrivilegedRoleAdmn}} {
		w.waitUM(t, tc.tw.sam, "roles restored and Ready", func(um *identityv1alpha1.UserMatch) bool {
			return cond(um, identityv1alpha1.ConditionRolesRemoved, F, identityv1alpha1.ReasonRolesRestored) &&
				cond(um, identityv1alpha1.ConditionReady, T, identityv1alpha1.ReasonSyncJoined)
		})
		if n := w.roleCount(tc.tw.cloudID, tc.role); n != 1 {
			t.Fatalf("%s: role present %d times after the workflow, want exactly 1", tc.tw.sam, n)
		}
	}
}

// maxRoleHoldDuration: when sync does not join the user in time, the roles
// come back anyway and the condition says why.
func TestRoleHoldExpires(t *testing.T) {
	w := env(t)
	tw := w.newTwin(t, "hold", nil)
	w.addRole(t, tw.cloudID, roleGlobalAdmin, false)
	w.userMatch(t, tw.sam, func(s *identityv1alpha1.UserMatchSpec) {
		s.ADUser.SAMAccountName = tw.sam
		s.PrivilegedRoles = identityv1alpha1.PrivilegedRolesRemoveAndRestore
		s.MaxRoleHoldDuration = &metav1.Duration{Duration: 4e9}
	})
	w.waitUM(t, tw.sam, "roles removed", func(um *identityv1alpha1.UserMatch) bool {
		return cond(um, identityv1alpha1.ConditionRolesRemoved, T, identityv1alpha1.ReasonRolesRemoved)
	})
	// No sync runs: the hold runs out.
	um := w.waitUM(t, tw.sam, "RoleHoldExpired", func(um *identityv1alpha1.UserMatch) bool {
		return cond(um, identityv1alpha1.ConditionRolesRemoved, F, identityv1alpha1.ReasonRoleHoldExpired)
	})
	if n := w.roleCount(tw.cloudID, roleGlobalAdmin); n != 1 {
		t.Fatalf("Global Administrator present %d times after the hold expired, want 1", n)
	}
	if um.Status.SyncJoined {
		t.Error("reported as joined although no sync ran")
	}
}
