package tenant

import (
	"iter"
	"maps"
	"strings"
	"time"
)

// Ended reports whether a schedule that ends at end is over at now. A nil
// end never comes; the end instant itself still counts as active.
func Ended(end *time.Time, now time.Time) bool {
	return end != nil && now.After(*end)
}

// ActiveAt reports whether the assignment is in force at now. Graph
// removes an expired assignment from roleAssignments and from the
// instances; the emulator keeps it in the store (and in dumps) but no
// longer shows it.
func (a *RoleAssignment) ActiveAt(now time.Time) bool {
	return !Ended(a.EndDateTime, now)
}

// RoleDefinition returns the role definition with id, built-in or custom.
func (st *State) RoleDefinition(id string) (*RoleDefinition, bool) {
	d, ok := st.roleDefs[key(id)]
	return d, ok
}

// RoleDefinitions yields every role definition, in no particular order.
func (st *State) RoleDefinitions() iter.Seq[*RoleDefinition] { return maps.Values(st.roleDefs) }

// RoleAssignment returns the assignment with id, expired or not.
func (st *State) RoleAssignment(id string) (*RoleAssignment, bool) {
	a, ok := st.assignments[key(id)]
	return a, ok
}

// RoleAssignments yields every assignment, expired ones too, in no
// particular order.
func (st *State) RoleAssignments() iter.Seq[*RoleAssignment] { return maps.Values(st.assignments) }

// PutRoleAssignment stores a, replacing any assignment with its id.
func (st *State) PutRoleAssignment(a *RoleAssignment) { st.assignments[key(a.ID)] = a }

// RemoveRoleAssignment deletes the assignment with id.
func (st *State) RemoveRoleAssignment(id string) { delete(st.assignments, key(id)) }

// RoleEligibility returns the eligibility with id, expired or not.
func (st *State) RoleEligibility(id string) (*RoleEligibility, bool) {
	e, ok := st.eligibilities[key(id)]
	return e, ok
}

// RoleEligibilities yields every eligibility, expired ones too, in no
// particular order.
func (st *State) RoleEligibilities() iter.Seq[*RoleEligibility] { return maps.Values(st.eligibilities) }

// PutRoleEligibility stores e, replacing any eligibility with its id.
func (st *State) PutRoleEligibility(e *RoleEligibility) { st.eligibilities[key(e.ID)] = e }

// RemoveRoleEligibility deletes the eligibility with id.
func (st *State) RemoveRoleEligibility(id string) { delete(st.eligibilities, key(id)) }

// HoldsRole reports whether principalID holds roleDefinitionID through an
// active, tenant-wide assignment (an eligibility does not count until
// activated).
func (st *State) HoldsRole(principalID, roleDefinitionID string, now time.Time) bool {
	for _, a := range st.assignments {
		if strings.EqualFold(a.PrincipalID, principalID) && strings.EqualFold(a.RoleDefinitionID, roleDefinitionID) && a.DirectoryScopeID == "/" &&
			a.ActiveAt(now) {
			return true
		}
	}
	return false
}

// HasPrivilegedRole reports whether principalID holds a privileged role
// through an assignment active at now.
func (st *State) HasPrivilegedRole(principalID string, now time.Time) bool {
	for _, a := range st.assignments {
		if !strings.EqualFold(a.PrincipalID, principalID) || !a.ActiveAt(now) {
			continue
		}
		if d, ok := st.roleDefs[key(a.RoleDefinitionID)]; ok && d.IsPrivileged {
			return true
		}
	}
	return false
}

// HasPrivilegedEligibility reports whether principalID is eligible (PIM) for
// a privileged role at now; expired schedules do not count.
func (st *State) HasPrivilegedEligibility(principalID string, now time.Time) bool {
	for _, id := range st.EligibleRoles(principalID, now) {
		if d, ok := st.roleDefs[key(id)]; ok && d.IsPrivileged {
			return true
		}
	}
	return false
}

// HasAnyEligibility reports whether principalID is eligible (PIM) for any
// directory role at now.
func (st *State) HasAnyEligibility(principalID string, now time.Time) bool {
	return len(st.EligibleRoles(principalID, now)) > 0
}

// HasAnyRole reports whether principalID holds any directory role through
// an assignment active at now.
func (st *State) HasAnyRole(principalID string, now time.Time) bool {
	return len(st.AssignedRoles(principalID, now)) > 0
}

// AssignedRoles lists the role definition ids principalID holds through
// assignments active at now.
func (st *State) AssignedRoles(principalID string, now time.Time) []string {
	var out []string
	for _, a := range st.assignments {
		if strings.EqualFold(a.PrincipalID, principalID) && a.ActiveAt(now) {
			out = append(out, a.RoleDefinitionID)
		}
	}
	return out
}

// EligibleRoles lists the role definition ids principalID is eligible (PIM)
// for at now; expired schedules do not count.
func (st *State) EligibleRoles(principalID string, now time.Time) []string {
	var out []string
	for _, e := range st.eligibilities {
		if strings.EqualFold(e.PrincipalID, principalID) && !Ended(e.EndDateTime, now) {
			out = append(out, e.RoleDefinitionID)
		}
	}
	return out
}

// RoleTemplates maps role definition ids to the template ids that
// Microsoft's role tables are written in; a custom role maps to "" (it
// falls under "All other built-in and custom roles").
func (st *State) RoleTemplates(ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		d, ok := st.roleDefs[key(id)]
		switch {
		case !ok || !d.IsBuiltIn:
			out = append(out, "")
		case d.TemplateID != "":
			out = append(out, strings.ToLower(d.TemplateID))
		default:
			out = append(out, strings.ToLower(d.ID))
		}
	}
	return out
}
