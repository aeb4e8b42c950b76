package e2e_test

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/emulator"
)

func ptr[T any](v T) *T { return &v }

const (
	T = metav1.ConditionTrue
	F = metav1.ConditionFalse
)

// The manual procedure's hard match: the anchor is read from AD, Base64-encoded, written
// onto the cloud user, and the UserMatch becomes Ready once sync joins them.
func TestHardMatchEndToEnd(t *testing.T) {
	w := env(t)
	tw := w.newTwin(t, "hard", nil)
	w.userMatch(t, tw.sam, func(s *identityv1alpha1.UserMatchSpec) { s.ADUser.SAMAccountName = tw.sam })

	um := w.waitUM(t, tw.sam, "Matched", func(um *identityv1alpha1.UserMatch) bool {
		return cond(um, identityv1alpha1.ConditionMatched, T, identityv1alpha1.ReasonImmutableIDSet)
	})
	if got, want := immutableID(w.cloud(t, tw.cloudID)), tw.anchor.ImmutableID(); got != want {
		t.Fatalf("cloud immutableId = %q, want %q (from samba-tool's GUID)", got, want)
	}
	if um.Status.ImmutableID != tw.anchor.ImmutableID() || um.Status.AD.DistinguishedName != tw.dn || um.Status.Cloud.ObjectID != tw.cloudID {
		t.Errorf("status = %+v / %+v / %+v", um.Status.ImmutableID, um.Status.AD, um.Status.Cloud)
	}
	if !cond(um, identityv1alpha1.ConditionReady, F, identityv1alpha1.ReasonImmutableIDSet) {
		t.Errorf("before sync, Ready should be False/ImmutableIDSet:%s", describeStatus(um.Status.Conditions))
	}
	w.waitEvent(t, tw.sam, identityv1alpha1.ReasonImmutableIDSet)

	res := w.syncCycle(t, tw)
	if len(res) != 1 || res[0].Outcome != emulator.OutcomeHardMatch || res[0].ObjectID != tw.cloudID {
		t.Fatalf("sync results = %+v, want one HardMatch onto %s", res, tw.cloudID)
	}
	w.waitUM(t, tw.sam, "Ready after sync", func(um *identityv1alpha1.UserMatch) bool {
		return cond(um, identityv1alpha1.ConditionReady, T, identityv1alpha1.ReasonSyncJoined) && um.Status.SyncJoined
	})
	w.waitEvent(t, tw.sam, identityv1alpha1.ReasonSyncJoined)
}

func TestObserveModeNeverWrites(t *testing.T) {
	w := env(t)
	tw := w.newTwin(t, "observe", nil)
	w.userMatch(t, tw.sam, func(s *identityv1alpha1.UserMatchSpec) {
		s.ADUser.UserPrincipalName = tw.upn
		s.Mode = identityv1alpha1.ModeObserve
	})
	um := w.waitUM(t, tw.sam, "ObserveOnly", func(um *identityv1alpha1.UserMatch) bool {
		return cond(um, identityv1alpha1.ConditionMatched, F, identityv1alpha1.ReasonObserveOnly)
	})
	if !strings.Contains(condOf(um, identityv1alpha1.ConditionReady).Message, "would set") {
		t.Errorf("Ready should say what would be written:%s", describeStatus(um.Status.Conditions))
	}
	time.Sleep(2 * resync)
	if got := immutableID(w.cloud(t, tw.cloudID)); got != "" {
		t.Fatalf("Observe mode wrote immutableId %q", got)
	}
}

// Drift: someone changes the value before sync has joined the user; the
// operator sets it back on the next resync, with an Event and a count.
func TestDriftIsCorrected(t *testing.T) {
	w := env(t)
	tw := w.newTwin(t, "drift", nil)
	w.userMatch(t, tw.sam, func(s *identityv1alpha1.UserMatchSpec) { s.ADUser.SAMAccountName = tw.sam })
	w.waitUM(t, tw.sam, "Matched", func(um *identityv1alpha1.UserMatch) bool {
		return cond(um, identityv1alpha1.ConditionMatched, T, "")
	})
	w.setCloud(t, tw.cloudID, func(u *emulator.User) { u.OnPremisesImmutableID = ptr("c29tZW9uZSBlbHNl") })
	um := w.waitUM(t, tw.sam, "drift corrected", func(um *identityv1alpha1.UserMatch) bool {
		return um.Status.DriftCorrections >= 1 && cond(um, identityv1alpha1.ConditionMatched, T, "")
	})
	if got := immutableID(w.cloud(t, tw.cloudID)); got != tw.anchor.ImmutableID() {
		t.Fatalf("immutableId after correction = %q, want %q", got, tw.anchor.ImmutableID())
	}
	if um.Status.LastDriftTime == nil {
		t.Error("lastDriftTime not set")
	}
	ev := w.waitEvent(t, tw.sam, identityv1alpha1.ReasonDriftCorrected)
	if ev.Type != corev1.EventTypeWarning {
		t.Errorf("drift Event type = %s, want Warning", ev.Type)
	}
	// Cleared values count as drift too.
	w.setCloud(t, tw.cloudID, func(u *emulator.User) { u.OnPremisesImmutableID = nil })
	w.waitUM(t, tw.sam, "second drift corrected", func(um *identityv1alpha1.UserMatch) bool {
		return um.Status.DriftCorrections >= 2
	})
}

// Each case sets up a cloud state that Entra would refuse to match, and the
// UserMatch must say so without writing anything.
func TestBlockedCases(t *testing.T) {
	w := env(t)
	cases := []struct {
		name   string
		cloud  func(*emulator.User)
		extra  func(t *testing.T, tw twin) // after the twin exists
		reason string
		msg    string
	}{
		{
			name:   "global administrator",
			reason: identityv1alpha1.ReasonPrivilegedRole,
			extra: func(t *testing.T, tw twin) {
				w.addRole(t, tw.cloudID, "62e90394-69f5-4237-9190-012177145e10", false)
			},
			msg: "Global Administrator",
		},
		{
			name:   "eligible privileged role (PIM)",
			reason: identityv1alpha1.ReasonPrivilegedRole,
			extra: func(t *testing.T, tw twin) {
				w.addRole(t, tw.cloudID, "e8611ab8-c189-46e8-94e1-60213ab1f814", true) // Privileged Role Administrator
			},
			msg: "eligible",
		},
		{
			name:   "anchor already used by another object",
			reason: identityv1alpha1.ReasonImmutableIDConflict,
			extra: func(t *testing.T, tw twin) {
				if _, err := w.em.AddUser(emulator.User{UserPrincipalName: tw.sam + "9999@" + initialDomain, DisplayName: "dup",
					MailNickname: tw.sam + "dup", OnPremisesImmutableID: ptr(tw.anchor.ImmutableID())}); err != nil {
					t.Fatal(err)
				}
			},
			msg: tw9999(),
		},
		{
			name:   "synced from another anchor",
			reason: identityv1alpha1.ReasonSyncedFromOtherAnchor,
			cloud: func(u *emulator.User) {
				u.OnPremisesImmutableID = ptr("b3RoZXIgYW5jaG9y")
				u.OnPremisesSyncEnabled = ptr(true)
			},
			msg: "never overwrites a synced user",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tw := w.newTwin(t, "blk", tc.cloud)
			before := immutableID(w.cloud(t, tw.cloudID))
			if tc.extra != nil {
				tc.extra(t, tw)
			}
			w.userMatch(t, tw.sam, func(s *identityv1alpha1.UserMatchSpec) { s.ADUser.SAMAccountName = tw.sam })
			um := w.waitUM(t, tw.sam, "Blocked "+tc.reason, func(um *identityv1alpha1.UserMatch) bool {
				return cond(um, identityv1alpha1.ConditionBlocked, T, tc.reason)
			})
			if m := condOf(um, identityv1alpha1.ConditionBlocked).Message; !strings.Contains(m, tc.msg) {
				t.Errorf("Blocked message %q does not mention %q", m, tc.msg)
			}
			if !cond(um, identityv1alpha1.ConditionReady, F, tc.reason) {
				t.Errorf("Ready should be False/%s:%s", tc.reason, describeStatus(um.Status.Conditions))
			}
			w.waitEvent(t, tw.sam, tc.reason)
			if got := immutableID(w.cloud(t, tw.cloudID)); got != before {
				t.Fatalf("a blocked UserMatch changed immutableId from %q to %q", before, got)
			}
		})
	}
}

func tw9999() string { return "9999@" + initialDomain }

func TestTwoUserMatchesForOneUser(t *testing.T) {
	w := env(t)
	tw := w.newTwin(t, "claim", nil)
	w.userMatch(t, tw.sam, func(s *identityv1alpha1.UserMatchSpec) { s.ADUser.SAMAccountName = tw.sam })
	w.waitUM(t, tw.sam, "Matched", func(um *identityv1alpha1.UserMatch) bool {
		return cond(um, identityv1alpha1.ConditionMatched, T, "")
	})
	second := tw.sam + "-again"
	w.userMatch(t, second, func(s *identityv1alpha1.UserMatchSpec) { s.ADUser.UserPrincipalName = tw.upn })
	um := w.waitUM(t, second, "DuplicateClaim", func(um *identityv1alpha1.UserMatch) bool {
		return cond(um, identityv1alpha1.ConditionBlocked, T, identityv1alpha1.ReasonDuplicateClaim)
	})
	if m := condOf(um, identityv1alpha1.ConditionBlocked).Message; !strings.Contains(m, tw.sam) {
		t.Errorf("message %q should name the first UserMatch", m)
	}
}

func TestDeletionPolicies(t *testing.T) {
	w := env(t)
	for _, tc := range []struct {
		policy    identityv1alpha1.UserDeletionPolicy
		wantAfter func(tw twin) string
	}{
		{identityv1alpha1.UserDeletionOrphan, func(tw twin) string { return tw.anchor.ImmutableID() }},
		{identityv1alpha1.UserDeletionClearImmutableID, func(twin) string { return "" }},
	} {
		t.Run(string(tc.policy), func(t *testing.T) {
			tw := w.newTwin(t, "del", nil)
			um := w.userMatch(t, tw.sam, func(s *identityv1alpha1.UserMatchSpec) {
				s.ADUser.SAMAccountName = tw.sam
				s.DeletionPolicy = tc.policy
			})
			w.waitUM(t, tw.sam, "Matched", func(um *identityv1alpha1.UserMatch) bool {
				return cond(um, identityv1alpha1.ConditionMatched, T, "")
			})
			if err := w.k8s.Delete(ctxFor(t), um); err != nil {
				t.Fatal(err)
			}
			w.waitGone(t, um.Name)
			if got, want := immutableID(w.cloud(t, tw.cloudID)), tc.wantAfter(tw); got != want {
				t.Fatalf("after deletion immutableId = %q, want %q", got, want)
			}
		})
	}
	t.Run("ClearImmutableId leaves a synced user alone", func(t *testing.T) {
		tw := w.newTwin(t, "delsync", nil)
		um := w.userMatch(t, tw.sam, func(s *identityv1alpha1.UserMatchSpec) {
			s.ADUser.SAMAccountName = tw.sam
			s.DeletionPolicy = identityv1alpha1.UserDeletionClearImmutableID
		})
		w.waitUM(t, tw.sam, "Matched", func(um *identityv1alpha1.UserMatch) bool {
			return cond(um, identityv1alpha1.ConditionMatched, T, "")
		})
		w.syncCycle(t, tw)
		w.waitUM(t, tw.sam, "joined", func(um *identityv1alpha1.UserMatch) bool { return um.Status.SyncJoined })
		if err := w.k8s.Delete(ctxFor(t), um); err != nil {
			t.Fatal(err)
		}
		time.Sleep(resync)
		if got := immutableID(w.cloud(t, tw.cloudID)); got != tw.anchor.ImmutableID() {
			t.Fatalf("a synced user's immutableId was changed to %q", got)
		}
	})
}

func TestUPNSuffixWarning(t *testing.T) {
	w := env(t)
	tw := w.newTwin(t, "upn", nil)
	// Give the AD user a UPN in a suffix that is not a verified domain.
	local := tw.sam + "@corp.local"
	w.dc.Replace(t, tw.dn, "userPrincipalName", local)
	w.userMatch(t, tw.sam, func(s *identityv1alpha1.UserMatchSpec) {
		s.ADUser.SAMAccountName = tw.sam
		s.CloudUser = &identityv1alpha1.CloudUserSelector{UserPrincipalName: tw.upn}
	})
	um := w.waitUM(t, tw.sam, "UPNSuffixMismatch", func(um *identityv1alpha1.UserMatch) bool {
		return cond(um, identityv1alpha1.ConditionUPNSuffixMismatch, T, identityv1alpha1.ReasonNonRoutableUPNSuffix)
	})
	// A warning, not a block: the match still goes ahead.
	if !cond(um, identityv1alpha1.ConditionBlocked, F, "") {
		t.Errorf("a .local UPN must not block:%s", describeStatus(um.Status.Conditions))
	}
}

func TestCloudUserNotFound(t *testing.T) {
	w := env(t)
	tw := w.newTwin(t, "nocloud", nil)
	w.userMatch(t, tw.sam, func(s *identityv1alpha1.UserMatchSpec) {
		s.ADUser.SAMAccountName = tw.sam
		s.CloudUser = &identityv1alpha1.CloudUserSelector{UserPrincipalName: "nobody@" + w.dc.DNSDomain}
	})
	w.waitUM(t, tw.sam, "CloudUserNotFound", func(um *identityv1alpha1.UserMatch) bool {
		return cond(um, identityv1alpha1.ConditionCloudUserFound, F, identityv1alpha1.ReasonCloudUserNotFound) &&
			cond(um, identityv1alpha1.ConditionReady, F, identityv1alpha1.ReasonCloudUserNotFound)
	})
}

func TestADUserNotFound(t *testing.T) {
	w := env(t)
	w.userMatch(t, "ghost", func(s *identityv1alpha1.UserMatchSpec) { s.ADUser.SAMAccountName = "no-such-user" })
	w.waitUM(t, "ghost", "ADUserNotFound", func(um *identityv1alpha1.UserMatch) bool {
		return cond(um, identityv1alpha1.ConditionAnchorResolved, F, identityv1alpha1.ReasonADUserNotFound)
	})
}

func condOf(um *identityv1alpha1.UserMatch, typ string) metav1.Condition {
	for _, c := range um.Status.Conditions {
		if c.Type == typ {
			return c
		}
	}
	return metav1.Condition{}
}

// The manual procedure's reason for a hard match: a cloud user that already carries an
// immutableId cannot be soft-matched. With duplicate attribute resiliency
// (always on) the first sync does not fail: it provisions a new object for
// the AD user with the colliding UPN and address quarantined. With
// duplicates: Purge the UserMatch deletes and purges that proven duplicate,
// writes the AD anchor, and the next sync hard-matches.
func TestSoftMatchRefusedThenHardMatched(t *testing.T) {
	w := env(t)
	tw := w.newTwin(t, "stale", func(u *emulator.User) { u.OnPremisesImmutableID = ptr("c3RhbGUtYW5jaG9y") })

	res := w.syncCycle(t, tw)
	if len(res) != 1 || res[0].Outcome != emulator.OutcomeCreated || res[0].ObjectID == tw.cloudID {
		t.Fatalf("first sync = %+v: want a new object, not a match with a cloud user carrying another immutableId", res)
	}
	dup := w.cloud(t, res[0].ObjectID)
	if len(dup.OnPremisesProvisioningErrors) == 0 || strings.EqualFold(dup.UserPrincipalName, tw.upn) {
		t.Fatalf("the new object = %s with %+v, want its UPN quarantined", dup.UserPrincipalName, dup.OnPremisesProvisioningErrors)
	}

	w.userMatch(t, tw.sam, func(s *identityv1alpha1.UserMatchSpec) {
		s.ADUser.SAMAccountName = tw.sam
		s.Duplicates = identityv1alpha1.DuplicatesPurge
	})
	w.waitUM(t, tw.sam, "Matched", func(um *identityv1alpha1.UserMatch) bool {
		return cond(um, identityv1alpha1.ConditionMatched, T, "")
	})
	w.waitEvent(t, tw.sam, "DuplicatePurged")
	snap := w.em.Snapshot()
	for _, u := range append(snap.Users, snap.DeletedItems.Users...) {
		if u.ID == res[0].ObjectID {
			t.Fatalf("the duplicate %s is still in the tenant", u.ID)
		}
	}
	res = w.syncCycle(t, tw)
	if len(res) != 1 || res[0].Outcome != emulator.OutcomeHardMatch || res[0].ObjectID != tw.cloudID {
		t.Fatalf("second sync = %+v, want HardMatch onto %s", res, tw.cloudID)
	}
	w.waitUM(t, tw.sam, "Ready", func(um *identityv1alpha1.UserMatch) bool {
		return cond(um, identityv1alpha1.ConditionReady, T, identityv1alpha1.ReasonSyncJoined)
	})
}
