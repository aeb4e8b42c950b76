package match

import (
	"fmt"
	"strings"
	"time"
)

// The admin-role workaround of Microsoft's docs (remove the roles, let sync
// match, add the roles back), made crash-safe: every role is recorded in the
// UserMatch before the first removal, each step is decided again from fresh
// reads, and a role is only marked restored once a read shows it back, so a
// crash between any two writes repeats no write and loses no role.

// Role is a directory role assignment or PIM eligibility of the cloud user.
type Role struct {
	// Kind is "Assignment" or "Eligibility".
	Kind             string
	RoleDefinitionID string
	DirectoryScopeID string
	Name             string
	// ID is the assignment or eligibility instance id, as read.
	ID string
	// End is when a time-bound role ends; nil for a permanent one.
	End *time.Time
	// Activation marks an active assignment that is a PIM activation of an
	// eligibility.
	Activation bool
}

// lapseMargin: a role due to end this soon is not given back; a PIM
// request could not be granted in time, and it would end at once anyway.
const lapseMargin = 5 * time.Minute

// notRestored says why a recorded role is settled without being given
// back, or "" when it is to be restored: re-creating an activation would
// turn it into a standing assignment that skips PIM's activation rules,
// and re-creating a role past its end would grant more than was held.
func (r Role) notRestored(now time.Time) string {
	switch {
	case r.Activation:
		return "it was a PIM activation; the eligibility it came from is what is restored, and it can be activated again"
	case r.End != nil && !now.Add(lapseMargin).Before(*r.End):
		return "it ends at " + r.End.UTC().Format(time.RFC3339) + ", which passed (or is minutes away) while it was removed"
	}
	return ""
}

func (r Role) key() string { return r.Kind + "|" + r.RoleDefinitionID + "|" + r.DirectoryScopeID }

// Label is the role's display name, or its definition id when Graph gave none.
func (r Role) Label() string {
	if r.Name != "" {
		return r.Name
	}
	return r.RoleDefinitionID
}

// Title is the Label, marked when the role is a PIM eligibility.
func (r Role) Title() string {
	if r.Kind == "Eligibility" {
		return r.Label() + " (eligible)"
	}
	return r.Label()
}

// RecordedRole is a role kept in the UserMatch's status.
type RecordedRole struct {
	Role
	Restored bool
	// NotRestored: settled without being given back (see notRestored).
	NotRestored bool
}

func (r RecordedRole) settled() bool { return r.Restored || r.NotRestored }

// Held counts the recorded roles not yet settled: removed for the match and
// neither given back nor found not to be given back.
func Held(rs []RecordedRole) int {
	n := 0
	for _, r := range rs {
		if !r.settled() {
			n++
		}
	}
	return n
}

// RolesInPlay says whether the remove-and-restore workflow runs: always once
// roles are recorded (they must come back), and otherwise only when the
// policy asks for it and privileged roles are the one thing in the way, so
// that no role is removed for a match that would fail for another reason.
func RolesInPlay(removeAndRestore bool, recorded int, obs Observation) bool {
	if recorded > 0 {
		return true
	}
	if !removeAndRestore || len(obs.PrivilegedRoles) == 0 {
		return false
	}
	probe := obs
	probe.PrivilegedRoles = nil
	p := Decide(probe)
	return p.Block == nil && !p.Joined
}

// RoleState is what the role workflow reads before deciding.
type RoleState struct {
	Enforce  bool
	Recorded []RecordedRole
	// Current are all roles the cloud user holds or is eligible for now.
	Current   []Role
	RemovedAt *time.Time
	MaxHold   time.Duration // 0: no limit
	Now       time.Time
	// Joined: sync has matched the cloud user with our anchor.
	Joined bool
	// Deleting: the UserMatch is being deleted; restore before letting go.
	Deleting bool
	// Retry: a new attempt was asked for (spec.roleHoldAttempt raised).
	Retry bool
}

// RoleStep is the one kind of write a role plan asks for.
type RoleStep string

const (
	RoleStepNone RoleStep = "None"
	// RoleStepRecord writes the roles into status; nothing is removed
	// before that write is confirmed.
	RoleStepRecord RoleStep = "Record"
	// RoleStepRemove removes recorded roles that are still present.
	RoleStepRemove RoleStep = "Remove"
	// RoleStepWait: every recorded role is removed; the match goes ahead.
	RoleStepWait RoleStep = "Wait"
	// RoleStepRestore adds back recorded roles that are missing.
	RoleStepRestore RoleStep = "Restore"
	// RoleStepConfirm marks as restored the recorded roles a read shows back.
	RoleStepConfirm RoleStep = "Confirm"
	// RoleStepDone: every recorded role is back.
	RoleStepDone RoleStep = "Done"
)

// RolePlan is the outcome of DecideRoles.
type RolePlan struct {
	Step RoleStep
	// Record lists the roles to record (RoleStepRecord).
	Record []Role
	// Remove lists current roles to remove (RoleStepRemove).
	Remove []Role
	// Restore lists the recorded roles to add back (RoleStepRestore).
	Restore []Role
	// Confirmed lists indexes of Recorded that are back (any step).
	Confirmed []int
	// NotRestored lists indexes of Recorded settled without being given
	// back, with the reason (any step).
	NotRestored []Dropped
	// HoldExpired is true when roles come back because MaxHold ran out
	// before sync joined the user.
	HoldExpired bool
	Message     string
}

// Dropped is a recorded role that is not given back, and why.
type Dropped struct {
	Index  int
	Role   Role
	Reason string
}

// DecideRoles picks the next step of the workflow.
func DecideRoles(s RoleState) RolePlan {
	if !s.Enforce && len(s.Recorded) == 0 {
		return RolePlan{Step: RoleStepNone, Message: "Observe mode: roles are reported, never removed"}
	}
	if len(s.Recorded) == 0 {
		if s.Joined || s.Deleting || len(s.Current) == 0 {
			return RolePlan{Step: RoleStepNone}
		}
		return RolePlan{Step: RoleStepRecord, Record: append([]Role(nil), s.Current...),
			Message: fmt.Sprintf("recording %s before removing them", names(s.Current))}
	}
	present := map[string]Role{}
	for _, r := range s.Current {
		present[r.key()] = r
	}
	expired := s.RemovedAt != nil && s.MaxHold > 0 && !s.Now.Before(s.RemovedAt.Add(s.MaxHold))
	// Switching to Observe mid-way restores too: an operator that may not
	// write must not leave roles removed.
	restoring := s.Joined || s.Deleting || expired || !s.Enforce
	if allSettled(s.Recorded) {
		// A new attempt starts from what the user holds now, once nothing
		// of the previous one is outstanding.
		if s.Retry && s.Enforce && !s.Joined && !s.Deleting && len(s.Current) > 0 {
			return RolePlan{Step: RoleStepRecord, Record: append([]Role(nil), s.Current...),
				Message: fmt.Sprintf("new attempt: recording %s before removing them", names(s.Current))}
		}
		return RolePlan{Step: RoleStepDone, HoldExpired: expired && !s.Joined, Message: settledMessage(s.Recorded)}
	}
	p := RolePlan{HoldExpired: expired && !s.Joined}
	if restoring {
		after := append([]RecordedRole(nil), s.Recorded...)
		for i, r := range s.Recorded {
			if r.settled() {
				continue
			}
			_, ok := present[r.key()]
			why := r.notRestored(s.Now)
			switch {
			case ok:
				p.Confirmed = append(p.Confirmed, i)
				after[i].Restored = true
			case why != "":
				p.NotRestored = append(p.NotRestored, Dropped{Index: i, Role: r.Role, Reason: why})
				after[i].NotRestored = true
			default:
				p.Restore = append(p.Restore, r.Role)
			}
		}
		if len(p.Restore) > 0 {
			p.Step = RoleStepRestore
			p.Message = fmt.Sprintf("restoring %s", names(p.Restore))
		} else {
			p.Step = RoleStepConfirm
			p.Message = settledMessage(after)
		}
		return p
	}
	for _, r := range s.Recorded {
		if cur, ok := present[r.key()]; ok && !r.Restored {
			p.Remove = append(p.Remove, cur)
		}
	}
	if len(p.Remove) > 0 {
		p.Step = RoleStepRemove
		p.Message = fmt.Sprintf("removing %s for the match; they come back once sync has joined the user", names(p.Remove))
		return p
	}
	p.Step = RoleStepWait
	p.Message = fmt.Sprintf("%s removed; waiting for sync to join the user, then they are restored", recordedNames(s.Recorded))
	return p
}

func allSettled(rs []RecordedRole) bool {
	for _, r := range rs {
		if !r.settled() {
			return false
		}
	}
	return true
}

// settledMessage says, from the record alone, which roles came back and
// which were not given back.
func settledMessage(rs []RecordedRole) string {
	var back, dropped []Role
	for _, r := range rs {
		switch {
		case r.Restored:
			back = append(back, r.Role)
		case r.NotRestored:
			dropped = append(dropped, r.Role)
		}
	}
	var parts []string
	if len(back) > 0 {
		parts = append(parts, "roles back: "+names(back))
	}
	if len(dropped) > 0 {
		parts = append(parts, "not given back (ended during the hold, or a PIM activation): "+names(dropped))
	}
	return strings.Join(parts, "; ")
}

func names(rs []Role) string {
	parts := make([]string, 0, len(rs))
	for _, r := range rs {
		parts = append(parts, r.Title())
	}
	return strings.Join(parts, ", ")
}

func recordedNames(rs []RecordedRole) string {
	roles := make([]Role, 0, len(rs))
	for _, r := range rs {
		roles = append(roles, r.Role)
	}
	return names(roles)
}
