package match

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/entramatch/entra-match-operator/internal/cloud"
)

var (
	ga   = Role{Kind: "Assignment", RoleDefinitionID: "62e90394-69f5-4237-9190-012177145e10", DirectoryScopeID: "/", Name: "Global Administrator", ID: "a1"}
	ua   = Role{Kind: "Assignment", RoleDefinitionID: "fe930be7-5e62-47db-91af-98c3a49a38b1", DirectoryScopeID: "/", Name: "User Administrator", ID: "a2"}
	pra  = Role{Kind: "Eligibility", RoleDefinitionID: "e8611ab8-c189-46e8-94e1-60213ab1f814", DirectoryScopeID: "/", Name: "Privileged Role Administrator", ID: "e1"}
	t0   = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	hold = 2 * time.Hour
	// praUntil is a time-bound eligibility ending an hour after t0.
	praUntil = func() Role { r := pra; end := t0.Add(time.Hour); r.End = &end; return r }()
	// activation is pra activated for eight hours: an active assignment.
	activation = func() Role {
		end := t0.Add(8 * time.Hour)
		return Role{Kind: "Assignment", RoleDefinitionID: pra.RoleDefinitionID, DirectoryScopeID: "/", Name: pra.Name, ID: "a3", End: &end, Activation: true}
	}()
)

func dropped(ds []Dropped) []int {
	var out []int
	for _, d := range ds {
		if d.Reason == "" {
			return []int{-1}
		}
		out = append(out, d.Index)
	}
	return out
}

func rec(restored bool, rs ...Role) []RecordedRole {
	out := make([]RecordedRole, 0, len(rs))
	for _, r := range rs {
		out = append(out, RecordedRole{Role: r, Restored: restored})
	}
	return out
}

// The workflow follows the admin-role workaround of
// learn.microsoft.com/entra/identity/hybrid/connect/how-to-connect-install-existing-tenant
// (remove roles, sync, add roles back); the table walks it step by step,
// including the states a crash can leave behind.
func TestDecideRoles(t *testing.T) {
	removedAt := t0
	type want struct {
		Step      RoleStep
		Record    []Role
		Remove    []Role
		Restore   []Role
		Confirmed []int
		Dropped   []int
		Expired   bool
	}
	cases := []struct {
		name string
		s    RoleState
		want want
	}{
		{"Observe mode never touches roles",
			RoleState{Enforce: false, Current: []Role{ga}},
			want{Step: RoleStepNone}},
		{"no roles: nothing to do",
			RoleState{Enforce: true},
			want{Step: RoleStepNone}},
		{"roles present: record all of them first, remove nothing yet",
			RoleState{Enforce: true, Current: []Role{ga, pra}},
			want{Step: RoleStepRecord, Record: []Role{ga, pra}}},
		{"already joined without a workflow: nothing to do",
			RoleState{Enforce: true, Current: []Role{ga}, Joined: true},
			want{Step: RoleStepNone}},
		{"recorded (confirmed in status): remove what is still present",
			RoleState{Enforce: true, Recorded: rec(false, ga, pra), Current: []Role{ga, pra}, RemovedAt: &removedAt, Now: t0},
			want{Step: RoleStepRemove, Remove: []Role{ga, pra}}},
		{"crash after the first removal: remove only the rest",
			RoleState{Enforce: true, Recorded: rec(false, ga, pra), Current: []Role{pra}, RemovedAt: &removedAt, Now: t0},
			want{Step: RoleStepRemove, Remove: []Role{pra}}},
		{"a role not recorded is never removed",
			RoleState{Enforce: true, Recorded: rec(false, ga), Current: []Role{ga, ua}, RemovedAt: &removedAt, Now: t0},
			want{Step: RoleStepRemove, Remove: []Role{ga}}},
		{"all removed: wait for sync",
			RoleState{Enforce: true, Recorded: rec(false, ga, pra), RemovedAt: &removedAt, Now: t0.Add(time.Hour), MaxHold: hold},
			want{Step: RoleStepWait}},
		{"joined: restore every recorded role",
			RoleState{Enforce: true, Recorded: rec(false, ga, pra), RemovedAt: &removedAt, Now: t0, Joined: true},
			want{Step: RoleStepRestore, Restore: []Role{ga, pra}}},
		{"crash after one restore: the one back is confirmed, not created twice",
			RoleState{Enforce: true, Recorded: rec(false, ga, pra), Current: []Role{{Kind: "Assignment", RoleDefinitionID: ga.RoleDefinitionID, DirectoryScopeID: "/", ID: "new"}}, Joined: true},
			want{Step: RoleStepRestore, Restore: []Role{pra}, Confirmed: []int{0}}},
		{"all back: confirm",
			RoleState{Enforce: true, Recorded: rec(false, ga, pra), Current: []Role{ga, pra}, Joined: true},
			want{Step: RoleStepConfirm, Confirmed: []int{0, 1}}},
		{"all confirmed: done, even if sync has not joined",
			RoleState{Enforce: true, Recorded: rec(true, ga, pra), Current: []Role{ga, pra}},
			want{Step: RoleStepDone}},
		{"hold expired before the match: restore and say so",
			RoleState{Enforce: true, Recorded: rec(false, ga), RemovedAt: &removedAt, Now: t0.Add(hold), MaxHold: hold},
			want{Step: RoleStepRestore, Restore: []Role{ga}, Expired: true}},
		{"hold expired and every role back: done, still saying why",
			RoleState{Enforce: true, Recorded: rec(true, ga), Current: []Role{ga}, RemovedAt: &removedAt, Now: t0.Add(3 * hold), MaxHold: hold},
			want{Step: RoleStepDone, Expired: true}},
		{"deleting mid-way: restore before the finalizer goes",
			RoleState{Enforce: true, Recorded: rec(false, ga), Deleting: true, Now: t0},
			want{Step: RoleStepRestore, Restore: []Role{ga}}},
		{"deleting without a workflow: nothing to do",
			RoleState{Enforce: true, Current: []Role{ga}, Deleting: true},
			want{Step: RoleStepNone}},
		{"a time-bound eligibility is restored with its end date while it lasts",
			RoleState{Enforce: true, Recorded: rec(false, ga, praUntil), RemovedAt: &removedAt, Now: t0.Add(30 * time.Minute), Joined: true},
			want{Step: RoleStepRestore, Restore: []Role{ga, praUntil}}},
		{"a time-bound eligibility that ended during the hold is not given back",
			RoleState{Enforce: true, Recorded: rec(false, ga, praUntil), RemovedAt: &removedAt, Now: t0.Add(time.Hour), Joined: true},
			want{Step: RoleStepRestore, Restore: []Role{ga}, Dropped: []int{1}}},
		{"nor one due to end within minutes: a PIM request could not be granted in time",
			RoleState{Enforce: true, Recorded: rec(false, praUntil), RemovedAt: &removedAt, Now: t0.Add(58 * time.Minute), Joined: true},
			want{Step: RoleStepConfirm, Dropped: []int{0}}},
		{"the rest back, the lapsed one already settled",
			RoleState{Enforce: true, Recorded: []RecordedRole{{Role: ga}, {Role: praUntil, NotRestored: true}}, Current: []Role{ga}, Now: t0.Add(2 * time.Hour), Joined: true},
			want{Step: RoleStepConfirm, Confirmed: []int{0}}},
		{"a PIM activation is removed like any active role",
			RoleState{Enforce: true, Recorded: rec(false, activation, pra), Current: []Role{activation, pra}, RemovedAt: &removedAt, Now: t0},
			want{Step: RoleStepRemove, Remove: []Role{activation, pra}}},
		{"but only its eligibility comes back: the activation is not re-created as a standing role",
			RoleState{Enforce: true, Recorded: rec(false, activation, pra), RemovedAt: &removedAt, Now: t0, Joined: true},
			want{Step: RoleStepRestore, Restore: []Role{pra}, Dropped: []int{0}}},
		{"hold expired, everything back, a new attempt asked for: record what the user holds now",
			RoleState{Enforce: true, Recorded: rec(true, ga), Current: []Role{ga, ua}, RemovedAt: &removedAt, Now: t0.Add(3 * hold), MaxHold: hold, Retry: true},
			want{Step: RoleStepRecord, Record: []Role{ga, ua}}},
		{"a new attempt waits until every role of the previous one is back",
			RoleState{Enforce: true, Recorded: rec(false, ga), RemovedAt: &removedAt, Now: t0.Add(3 * hold), MaxHold: hold, Retry: true},
			want{Step: RoleStepRestore, Restore: []Role{ga}, Expired: true}},
		{"no new attempt once sync has joined the user",
			RoleState{Enforce: true, Recorded: rec(true, ga), Current: []Role{ga}, Joined: true, Retry: true},
			want{Step: RoleStepDone}},
		{"switched to Observe mid-way: roles still come back",
			RoleState{Enforce: false, Recorded: rec(false, ga), RemovedAt: &removedAt, Now: t0},
			want{Step: RoleStepRestore, Restore: []Role{ga}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := DecideRoles(tc.s)
			got := want{Step: p.Step, Record: p.Record, Remove: p.Remove, Restore: p.Restore, Confirmed: p.Confirmed, Dropped: dropped(p.NotRestored), Expired: p.HoldExpired}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("plan (-want +got):\n%s\nmessage: %s", d, p.Message)
			}
			if p.Step != RoleStepNone && p.Message == "" {
				t.Error("a step without a message")
			}
		})
	}
}

// The messages say, from the record, what came back and what did not.
func TestDecideRolesMessages(t *testing.T) {
	done := DecideRoles(RoleState{Enforce: true, Recorded: []RecordedRole{{Role: ga, Restored: true}, {Role: praUntil, NotRestored: true}},
		Current: []Role{ga}, Now: t0.Add(48 * time.Hour)})
	want := "roles back: Global Administrator; not given back (ended during the hold, or a PIM activation): Privileged Role Administrator (eligible)"
	if done.Step != RoleStepDone || done.Message != want {
		t.Errorf("Done = %s %q, want %q", done.Step, done.Message, want)
	}
	// Later reads do not change it: a restored role that ends on its own
	// afterwards is still reported as restored.
	later := DecideRoles(RoleState{Enforce: true, Recorded: []RecordedRole{{Role: ga, Restored: true}, {Role: praUntil, NotRestored: true}},
		Now: t0.Add(96 * time.Hour)})
	if later.Message != want {
		t.Errorf("Done after the roles ended = %q, want %q", later.Message, want)
	}
}

// The workflow runs for roles already recorded, and otherwise only when
// the policy asks for it and privileged roles are the one thing in the way.
func TestRolesInPlay(t *testing.T) {
	withRoles := func(mut func(*Observation)) Observation {
		o := base()
		o.PrivilegedRoles = []string{"Global Administrator"}
		if mut != nil {
			mut(&o)
		}
		return o
	}
	cases := []struct {
		name             string
		removeAndRestore bool
		recorded         int
		obs              Observation
		want             bool
	}{
		{"recorded roles always come back, whatever the policy", false, 1, base(), true},
		{"Refuse policy: never", false, 0, withRoles(nil), false},
		{"no privileged roles: nothing to do", true, 0, base(), false},
		{"roles are the only obstacle", true, 0, withRoles(nil), true},
		{"another obstacle too: remove nothing", true, 0, withRoles(func(o *Observation) { o.Holders = []cloud.User{{ID: "other", OnPremisesImmutableID: testAnchor}} }), false},
		{"takeover blocked by the tenant: remove nothing", true, 0, withRoles(func(o *Observation) { o.Takeover.Blocked = true }), false},
		{"already joined: nothing to do", true, 0, withRoles(func(o *Observation) {
			o.Cloud.OnPremisesImmutableID = testAnchor
			o.Cloud.OnPremisesSyncEnabled = ptr(true)
		}), false},
	}
	for _, tc := range cases {
		if got := RolesInPlay(tc.removeAndRestore, tc.recorded, tc.obs); got != tc.want {
			t.Errorf("%s: RolesInPlay = %t, want %t", tc.name, got, tc.want)
		}
	}
}

func TestHeld(t *testing.T) {
	rs := []RecordedRole{{Role: ga}, {Role: ua, Restored: true}, {Role: pra, NotRestored: true}, {Role: praUntil}}
	if got := Held(rs); got != 2 {
		t.Errorf("Held = %d, want 2", got)
	}
}
