package e2e_test

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/emulator"
	"github.com/entramatch/entra-match-operator/internal/emulator/faults"
	"github.com/entramatch/entra-match-operator/internal/metrics"
)

const (
	roleGlobalAdmin        = "62e90394-69f5-4237-9190-012177145e10"
	rolePrivilegedRoleAdmn = "e8611ab8-c189-46e8-94e1-60213ab1f814"
)

// The manual procedure's admin-role workaround, automated: the roles of a cloud Global
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
			if end == nil {
				for _, a := range w.em.Snapshot().RoleAssignments {
					if a.PrincipalID == tw.cloudID && a.EndDateTime != nil {
						t.Errorf("a permanent role came back with an end: %+v", a)
					}
				}
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
// Time-bound roles whose restore would grant more than was held: a PIM
// activation is removed but not re-created (its eligibility comes back), a
// role due to end within minutes is not given back, and a time-bound
// assignment that PIM's policy refuses to re-create is left removed with a
// Warning giving the request to restore it, or, when opted in, comes back
// permanent with a Warning.
func TestTimeBoundRolesEdgeCases(t *testing.T) {
	w := env(t)
	hold := func(t *testing.T, tw twin, muts ...func(*identityv1alpha1.UserMatchSpec)) *identityv1alpha1.UserMatch {
		t.Helper()
		w.userMatch(t, tw.sam, func(s *identityv1alpha1.UserMatchSpec) {
			s.ADUser.SAMAccountName = tw.sam
			s.PrivilegedRoles = identityv1alpha1.PrivilegedRolesRemoveAndRestore
			s.MaxRoleHoldDuration = &metav1.Duration{Duration: time.Hour}
			for _, m := range muts {
				m(s)
			}
		})
		return w.waitUM(t, tw.sam, "roles removed and immutableId set", func(um *identityv1alpha1.UserMatch) bool {
			return cond(um, identityv1alpha1.ConditionRolesRemoved, T, identityv1alpha1.ReasonRolesRemoved) &&
				cond(um, identityv1alpha1.ConditionMatched, T, "")
		})
	}
	release := func(t *testing.T, tw twin) *identityv1alpha1.UserMatch {
		t.Helper()
		if res := w.syncCycle(t, tw); res[0].Outcome != emulator.OutcomeHardMatch {
			t.Fatalf("sync = %+v, want HardMatch once the roles are gone", res)
		}
		return w.waitUM(t, tw.sam, "roles settled and Ready", func(um *identityv1alpha1.UserMatch) bool {
			return cond(um, identityv1alpha1.ConditionRolesRemoved, F, identityv1alpha1.ReasonRolesRestored) &&
				cond(um, identityv1alpha1.ConditionReady, T, identityv1alpha1.ReasonSyncJoined)
		})
	}

	t.Run("PIM activation", func(t *testing.T) {
		tw := w.newTwin(t, "rract", nil)
		end := time.Now().Add(8 * time.Hour).UTC().Truncate(time.Second)
		w.addRole(t, tw.cloudID, rolePrivilegedRoleAdmn, true)
		if err := w.em.Update(func(s *emulator.Snapshot) error {
			s.RoleAssignments = append(s.RoleAssignments, emulator.RoleAssignment{ID: "act-" + tw.cloudID, PrincipalID: tw.cloudID,
				RoleDefinitionID: rolePrivilegedRoleAdmn, DirectoryScopeID: "/", EndDateTime: &end, AssignmentType: "Activated"})
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		um := hold(t, tw)
		if len(um.Status.RecordedRoles) != 2 || w.roleCount(tw.cloudID, rolePrivilegedRoleAdmn) != 0 {
			t.Fatalf("recorded %+v, %d roles left", um.Status.RecordedRoles, w.roleCount(tw.cloudID, rolePrivilegedRoleAdmn))
		}
		um = release(t, tw)
		snap := w.em.Snapshot()
		var active, eligible int
		for _, a := range snap.RoleAssignments {
			if a.PrincipalID == tw.cloudID {
				active++
			}
		}
		for _, e := range snap.RoleEligibilities {
			if e.PrincipalID == tw.cloudID {
				eligible++
			}
		}
		if active != 0 || eligible != 1 {
			t.Errorf("after the restore: %d active assignments and %d eligibilities, want 0 and 1", active, eligible)
		}
		for _, rr := range um.Status.RecordedRoles {
			if rr.Kind == identityv1alpha1.RoleKindAssignment && (!rr.Activation || !rr.NotRestored || rr.Restored) {
				t.Errorf("activation record = %+v", rr)
			}
		}
		w.waitEvent(t, tw.sam, "RoleNotRestored")
	})

	t.Run("role due to end within minutes", func(t *testing.T) {
		tw := w.newTwin(t, "rrend", nil)
		w.addRoleUntil(t, tw.cloudID, rolePrivilegedRoleAdmn, true, time.Now().Add(4*time.Minute).UTC().Truncate(time.Second))
		hold(t, tw)
		um := release(t, tw)
		if n := w.roleCount(tw.cloudID, rolePrivilegedRoleAdmn); n != 0 {
			t.Errorf("a role minutes from its end was given back (%d)", n)
		}
		if rr := um.Status.RecordedRoles; len(rr) != 1 || !rr[0].NotRestored || rr[0].Restored {
			t.Errorf("record = %+v", rr)
		}
		if held := testutil.ToFloat64(metrics.RolesHeld.WithLabelValues(tw.sam)); held != 0 {
			t.Errorf("entramatch_privileged_roles_held = %v, want 0", held)
		}
		w.waitEvent(t, tw.sam, "RoleNotRestored")
	})

	refusePolicy := func(t *testing.T) {
		t.Helper()
		// The removal went through; now the policy refuses new time-bound
		// active assignments.
		if err := w.em.Faults().Set([]faults.Rule{{Method: "POST", PathPrefix: "/v1.0/roleManagement/directory/roleAssignmentScheduleRequests",
			Status: 400, Code: "RoleAssignmentRequestPolicyValidationFailed", Message: "The following policy rules failed: [\"ExpirationRule\"]"}}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = w.em.Faults().Set(nil) })
	}

	t.Run("PIM policy refuses the time-bound restore: left removed, never silently permanent", func(t *testing.T) {
		tw := w.newTwin(t, "rrpln", nil)
		w.addRoleUntil(t, tw.cloudID, roleGlobalAdmin, false, time.Now().Add(48*time.Hour).UTC().Truncate(time.Second))
		hold(t, tw)
		refusePolicy(t)
		um := release(t, tw)
		if n := w.roleCount(tw.cloudID, roleGlobalAdmin); n != 0 {
			t.Fatalf("role present %d times: a refused time-bound role was made permanent without the opt-in", n)
		}
		if rr := um.Status.RecordedRoles; len(rr) != 1 || !rr[0].NotRestored || rr[0].Restored {
			t.Errorf("record = %+v", rr)
		}
		if ev := w.waitEvent(t, tw.sam, "RoleNotRestored"); ev.Type != "Warning" || !strings.Contains(ev.Note, "roleAssignmentScheduleRequests") {
			t.Errorf("event = %s %q, want a Warning with the request to restore it", ev.Type, ev.Note)
		}
	})

	t.Run("PIM policy refuses the time-bound restore: permanent when opted in", func(t *testing.T) {
		tw := w.newTwin(t, "rrpol", nil)
		w.addRoleUntil(t, tw.cloudID, roleGlobalAdmin, false, time.Now().Add(48*time.Hour).UTC().Truncate(time.Second))
		hold(t, tw, func(s *identityv1alpha1.UserMatchSpec) { s.RestorePermanentOnPolicyRefusal = true })
		refusePolicy(t)
		release(t, tw)
		if n := w.roleCount(tw.cloudID, roleGlobalAdmin); n != 1 {
			t.Fatalf("role present %d times, want 1 (permanent)", n)
		}
		for _, a := range w.em.Snapshot().RoleAssignments {
			if a.PrincipalID == tw.cloudID && a.EndDateTime != nil {
				t.Errorf("the fallback should be permanent: %+v", a)
			}
		}
		if ev := w.waitEvent(t, tw.sam, "RoleRestoredPermanent"); ev.Type != "Warning" || !strings.Contains(ev.Note, "end it by hand") {
			t.Errorf("event = %s %q", ev.Type, ev.Note)
		}
	})
}

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

// The manual procedure's whole scenario with privileged cloud users and
// unmatched duplicates: a cloud Global Administrator and a PIM-eligible user have AD
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

	// A person asks for another attempt, and this time sync runs in time.
	base := um.DeepCopy()
	um.Spec.RoleHoldAttempt = 1
	um.Spec.MaxRoleHoldDuration = &metav1.Duration{Duration: time.Hour}
	if err := w.k8s.Patch(ctxFor(t), um, client.MergeFrom(base)); err != nil {
		t.Fatal(err)
	}
	w.waitUM(t, tw.sam, "roles removed again", func(um *identityv1alpha1.UserMatch) bool {
		return cond(um, identityv1alpha1.ConditionRolesRemoved, T, identityv1alpha1.ReasonRolesRemoved) && um.Status.RoleHoldAttempt == 1
	})
	if n := w.roleCount(tw.cloudID, roleGlobalAdmin); n != 0 {
		t.Fatalf("Global Administrator present %d times during the second attempt", n)
	}
	if res := w.syncCycle(t, tw); res[0].Outcome != emulator.OutcomeHardMatch {
		t.Fatalf("sync = %+v, want HardMatch in the second attempt", res)
	}
	w.waitUM(t, tw.sam, "second attempt: roles back and Ready", func(um *identityv1alpha1.UserMatch) bool {
		return cond(um, identityv1alpha1.ConditionRolesRemoved, F, identityv1alpha1.ReasonRolesRestored) &&
			cond(um, identityv1alpha1.ConditionReady, T, identityv1alpha1.ReasonSyncJoined)
	})
	if n := w.roleCount(tw.cloudID, roleGlobalAdmin); n != 1 {
		t.Fatalf("Global Administrator present %d times after the second attempt, want 1", n)
	}
}
