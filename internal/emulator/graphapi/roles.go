package graphapi

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/entramatch/entra-match-operator/internal/emulator/grapherr"
	"github.com/entramatch/entra-match-operator/internal/emulator/identity"
	"github.com/entramatch/entra-match-operator/internal/emulator/tenant"
)

// Role management follows
// https://learn.microsoft.com/en-us/graph/api/rbacapplication-list-roledefinitions,
// rbacapplication-list-roleassignments, rbacapplication-post-roleassignments,
// unifiedroleassignment-delete, rbacapplication-list-roleeligibilityscheduleinstances,
// rbacapplication-post-roleeligibilityschedulerequests,
// rbacapplication-list-roleassignmentscheduleinstances and
// rbacapplication-post-roleassignmentschedulerequests.

// roleDefFilter knows the v1.0 unifiedRoleDefinition only. isPrivileged
// is a beta property: the v1.0 resource page
// (microsoft-graph-docs-contrib api-reference/v1.0/resources/unifiedroledefinition.md)
// and the v1.0 metadata have no such property, so on v1.0 a filter on it
// fails as a filter on any unknown property does (400 "Could not find a
// property named 'isPrivileged' on type
// 'microsoft.graph.unifiedRoleDefinition'."), and it is never rendered.
var roleDefFilter = newSchema[tenant.RoleDefinition]("microsoft.graph.unifiedRoleDefinition", "UnifiedRoleDefinition",
	[]string{"isEnabled", "description", "resourceScopes", "rolePermissions", "version", "inheritsPermissionsFrom"},
	filterField[tenant.RoleDefinition]{name: "id", get: func(d *tenant.RoleDefinition) ([]string, bool) { return str(d.ID), false }},
	filterField[tenant.RoleDefinition]{name: "templateId", get: func(d *tenant.RoleDefinition) ([]string, bool) { return str(d.TemplateID), false }},
	filterField[tenant.RoleDefinition]{name: "displayName", get: func(d *tenant.RoleDefinition) ([]string, bool) { return str(d.DisplayName), false }},
	filterField[tenant.RoleDefinition]{name: "isBuiltIn", kind: fieldBool, get: func(d *tenant.RoleDefinition) ([]string, bool) { return str(boolStr(d.IsBuiltIn)), false }},
)

var roleAssignmentFilter = newSchema[tenant.RoleAssignment]("microsoft.graph.unifiedRoleAssignment", "UnifiedRoleAssignment",
	[]string{"appScopeId", "condition", "principal", "roleDefinition", "directoryScope", "appScope"},
	filterField[tenant.RoleAssignment]{name: "id", get: func(a *tenant.RoleAssignment) ([]string, bool) { return str(a.ID), false }},
	filterField[tenant.RoleAssignment]{name: "principalId", get: func(a *tenant.RoleAssignment) ([]string, bool) { return str(a.PrincipalID), false }},
	filterField[tenant.RoleAssignment]{name: "roleDefinitionId", get: func(a *tenant.RoleAssignment) ([]string, bool) { return str(a.RoleDefinitionID), false }},
	filterField[tenant.RoleAssignment]{name: "directoryScopeId", get: func(a *tenant.RoleAssignment) ([]string, bool) { return str(a.DirectoryScopeID), false }},
)

// assignmentInstanceFilter reads active assignments as
// unifiedRoleAssignmentScheduleInstances: the schedule and the origin carry
// the assignment's id, the instance an id of its own (so that a client
// joining on the wrong one is caught).
var assignmentInstanceFilter = newSchema[tenant.RoleAssignment]("microsoft.graph.unifiedRoleAssignmentScheduleInstance", "UnifiedRoleAssignmentScheduleInstance",
	[]string{"appScopeId", "startDateTime", "endDateTime", "activatedUsing", "principal", "roleDefinition", "directoryScope", "appScope"},
	filterField[tenant.RoleAssignment]{name: "id", get: func(a *tenant.RoleAssignment) ([]string, bool) { return str(AssignmentInstanceID(a.ID)), false }},
	filterField[tenant.RoleAssignment]{name: "principalId", get: func(a *tenant.RoleAssignment) ([]string, bool) { return str(a.PrincipalID), false }},
	filterField[tenant.RoleAssignment]{name: "roleDefinitionId", get: func(a *tenant.RoleAssignment) ([]string, bool) { return str(a.RoleDefinitionID), false }},
	filterField[tenant.RoleAssignment]{name: "directoryScopeId", get: func(a *tenant.RoleAssignment) ([]string, bool) { return str(a.DirectoryScopeID), false }},
	filterField[tenant.RoleAssignment]{name: "roleAssignmentOriginId", get: func(a *tenant.RoleAssignment) ([]string, bool) { return str(a.ID), false }},
	filterField[tenant.RoleAssignment]{name: "roleAssignmentScheduleId", get: func(a *tenant.RoleAssignment) ([]string, bool) { return str(a.ID), false }},
	filterField[tenant.RoleAssignment]{name: "assignmentType", get: func(a *tenant.RoleAssignment) ([]string, bool) { return str(assignmentType(a)), false }},
	filterField[tenant.RoleAssignment]{name: "memberType", get: func(*tenant.RoleAssignment) ([]string, bool) { return str("Direct"), false }},
)

var eligibilityFilter = newSchema[tenant.RoleEligibility]("microsoft.graph.unifiedRoleEligibilityScheduleInstance", "UnifiedRoleEligibilityScheduleInstance",
	[]string{"appScopeId", "startDateTime", "endDateTime", "memberType", "roleEligibilityScheduleId"},
	filterField[tenant.RoleEligibility]{name: "id", get: func(e *tenant.RoleEligibility) ([]string, bool) { return str(e.ID), false }},
	filterField[tenant.RoleEligibility]{name: "principalId", get: func(e *tenant.RoleEligibility) ([]string, bool) { return str(e.PrincipalID), false }},
	filterField[tenant.RoleEligibility]{name: "roleDefinitionId", get: func(e *tenant.RoleEligibility) ([]string, bool) { return str(e.RoleDefinitionID), false }},
	filterField[tenant.RoleEligibility]{name: "directoryScopeId", get: func(e *tenant.RoleEligibility) ([]string, bool) { return str(e.DirectoryScopeID), false }},
)

func boolStr(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// renderRoleDef shows a role definition as v1.0 does: the emulator's own
// privileged flag (RoleDefinition.IsPrivileged) stays internal, see
// roleDefFilter.
func renderRoleDef(d *tenant.RoleDefinition) map[string]any {
	return map[string]any{
		"id":              d.ID,
		"templateId":      d.TemplateID,
		"displayName":     d.DisplayName,
		"description":     d.Description,
		"isBuiltIn":       d.IsBuiltIn,
		"isEnabled":       d.IsEnabled,
		"resourceScopes":  []string{"/"},
		"rolePermissions": []any{},
		"version":         "1",
		// A relationship, read-only on v1.0; the emulator's roles inherit nothing.
		"inheritsPermissionsFrom": []any{},
	}
}

// selectRoleDef keeps the $select'ed properties of a rendered role
// definition; a name v1.0 does not know is refused like an unknown filter
// property.
func selectRoleDef(out map[string]any, sel []string) (map[string]any, error) {
	if sel == nil {
		return out, nil
	}
	kept := map[string]any{}
	for _, name := range sel {
		found := false
		for k, v := range out {
			if strings.EqualFold(k, name) {
				kept[k], found = v, true
			}
		}
		if !found {
			return nil, grapherr.New(http.StatusBadRequest, grapherr.CodeBadRequestPlain,
				fmt.Sprintf("Could not find a property named '%s' on type '%s'.", name, roleDefFilter.typeName))
		}
	}
	if _, ok := kept["id"]; !ok {
		kept["id"] = out["id"]
	}
	return kept, nil
}

// ListRoleDefinitions serves GET /roleManagement/directory/roleDefinitions.
func (s *API) ListRoleDefinitions(w http.ResponseWriter, r *http.Request) error {
	q, err := parseListQuery(r, 1000, 1000)
	if err != nil {
		return err
	}
	match, err := roleDefFilter.matcher(q)
	if err != nil {
		return err
	}
	var hits []*tenant.RoleDefinition
	s.store.Read(func(st *tenant.State) {
		for d := range st.RoleDefinitions() {
			if match(d) {
				cp := *d
				hits = append(hits, &cp)
			}
		}
	})
	items, next := page(r, identity.BaseURL(r), q, hits, func(d *tenant.RoleDefinition) string { return d.ID })
	values := make([]map[string]any, 0, len(items))
	for _, d := range items {
		v, err := selectRoleDef(renderRoleDef(d), q.selected)
		if err != nil {
			return err
		}
		values = append(values, v)
	}
	body := map[string]any{"@odata.context": s.metadata(r, "roleManagement/directory/roleDefinitions"+selectFragment(q.selected)), "value": values}
	if next != "" {
		body["@odata.nextLink"] = next
	}
	writeOData(w, http.StatusOK, body)
	return nil
}

// GetRoleDefinition serves GET /roleManagement/directory/roleDefinitions/{id}.
func (s *API) GetRoleDefinition(w http.ResponseWriter, r *http.Request, id string) error {
	q, err := parseListQuery(r, 1, 1)
	if err != nil {
		return err
	}
	var cp tenant.RoleDefinition
	var ok bool
	s.store.Read(func(st *tenant.State) {
		var d *tenant.RoleDefinition
		if d, ok = st.RoleDefinition(id); ok {
			cp = *d
		}
	})
	if !ok {
		return grapherr.NotFound(id)
	}
	out, err := selectRoleDef(renderRoleDef(&cp), q.selected)
	if err != nil {
		return err
	}
	out["@odata.context"] = s.metadata(r, "roleManagement/directory/roleDefinitions"+selectFragment(q.selected)+"/$entity")
	writeOData(w, http.StatusOK, out)
	return nil
}

func renderAssignment(st *tenant.State, a *tenant.RoleAssignment, expand bool) map[string]any {
	out := map[string]any{
		"id":               a.ID,
		"principalId":      a.PrincipalID,
		"roleDefinitionId": a.RoleDefinitionID,
		"directoryScopeId": a.DirectoryScopeID,
		"appScopeId":       nil,
		"condition":        nil,
	}
	if expand {
		if d, ok := st.RoleDefinition(a.RoleDefinitionID); ok {
			out["roleDefinition"] = renderRoleDef(d)
		}
	}
	return out
}

func expandsRoleDefinition(q listQuery) (bool, error) {
	for _, e := range q.expand {
		if !strings.EqualFold(e, "roleDefinition") {
			return false, grapherr.BadRequest("Expanding '%s' is not supported by the emulator; only 'roleDefinition' is.", e)
		}
	}
	return len(q.expand) > 0, nil
}

// assignmentView is one way Graph shows active assignments: as
// unifiedRoleAssignments, or as their schedule instances. Both list the
// same assignments, those in force at the emulator's clock.
type assignmentView struct {
	filter    filterSchema[tenant.RoleAssignment]
	entitySet string
	render    func(st *tenant.State, a *tenant.RoleAssignment, expand bool) map[string]any
	// idOf is the id the view shows for an assignment.
	idOf func(a *tenant.RoleAssignment) string
}

var (
	roleAssignmentsView = assignmentView{filter: roleAssignmentFilter,
		entitySet: "roleManagement/directory/roleAssignments", render: renderAssignment,
		idOf: func(a *tenant.RoleAssignment) string { return a.ID }}
	assignmentInstancesView = assignmentView{filter: assignmentInstanceFilter,
		entitySet: "roleManagement/directory/roleAssignmentScheduleInstances", render: renderAssignmentInstance,
		idOf: func(a *tenant.RoleAssignment) string { return AssignmentInstanceID(a.ID) }}
)

func (s *API) listAssignments(w http.ResponseWriter, r *http.Request, v assignmentView) error {
	q, err := parseListQuery(r, 100, 999)
	if err != nil {
		return err
	}
	expand, err := expandsRoleDefinition(q)
	if err != nil {
		return err
	}
	match, err := v.filter.matcher(q)
	if err != nil {
		return err
	}
	now := s.clock()
	// Rendered under the read lock, written after it: a slow client must
	// not hold up the tenant's writers.
	var values []map[string]any
	var next string
	s.store.Read(func(st *tenant.State) {
		var hits []*tenant.RoleAssignment
		for a := range st.RoleAssignments() {
			if a.ActiveAt(now) && match(a) {
				hits = append(hits, a)
			}
		}
		var items []*tenant.RoleAssignment
		items, next = page(r, identity.BaseURL(r), q, hits, v.idOf)
		values = make([]map[string]any, 0, len(items))
		for _, a := range items {
			values = append(values, v.render(st, a, expand))
		}
	})
	body := map[string]any{"@odata.context": s.metadata(r, v.entitySet), "value": values}
	if next != "" {
		body["@odata.nextLink"] = next
	}
	writeOData(w, http.StatusOK, body)
	return nil
}

func (s *API) getAssignment(w http.ResponseWriter, r *http.Request, id string, v assignmentView) error {
	q, err := parseListQuery(r, 1, 1)
	if err != nil {
		return err
	}
	expand, err := expandsRoleDefinition(q)
	if err != nil {
		return err
	}
	now := s.clock()
	var out map[string]any
	s.store.Read(func(st *tenant.State) {
		for a := range st.RoleAssignments() {
			if v.idOf(a) == id && a.ActiveAt(now) {
				out = v.render(st, a, expand)
			}
		}
	})
	if out == nil {
		return grapherr.NotFound(id)
	}
	out["@odata.context"] = s.metadata(r, v.entitySet+"/$entity")
	writeOData(w, http.StatusOK, out)
	return nil
}

// sameTarget reports whether a schedule with this principal, role and
// scope is the one rr names: PIM identifies what a request acts on by that
// triple, not by id, so objects seeded or created elsewhere are found too.
func sameTarget(principalID, roleDefinitionID, scope string, rr roleRequest) bool {
	return strings.EqualFold(principalID, rr.PrincipalID) && strings.EqualFold(roleDefinitionID, rr.RoleDefinitionID) &&
		scopeOrRoot(scope) == scopeOrRoot(rr.DirectoryScopeID)
}

// findEligibility returns the id of the unexpired eligibility rr names,
// or "".
func findEligibility(st *tenant.State, rr roleRequest, now time.Time) string {
	for e := range st.RoleEligibilities() {
		if !tenant.Ended(e.EndDateTime, now) && sameTarget(e.PrincipalID, e.RoleDefinitionID, e.DirectoryScopeID, rr) {
			return e.ID
		}
	}
	return ""
}

// findAssignment returns the id of the active assignment rr names, or "".
func findAssignment(st *tenant.State, rr roleRequest, now time.Time) string {
	for a := range st.RoleAssignments() {
		if a.ActiveAt(now) && sameTarget(a.PrincipalID, a.RoleDefinitionID, a.DirectoryScopeID, rr) {
			return a.ID
		}
	}
	return ""
}

func scopeOrRoot(s string) string {
	if s == "" {
		return "/"
	}
	return s
}

// assignmentID builds an id shaped like Graph's (opaque, base64url).
func assignmentID(roleDefID, principalID string) string {
	r, _ := uuid.Parse(roleDefID)
	p, _ := uuid.Parse(principalID)
	return base64.RawURLEncoding.EncodeToString(append(r[:], p[:]...)) + "-1"
}

type roleRequest struct {
	PrincipalID      string `json:"principalId"`
	RoleDefinitionID string `json:"roleDefinitionId"`
	DirectoryScopeID string `json:"directoryScopeId"`
}

// decodeRoleRequest reads the principal/role/scope triple shared by
// assignment and eligibility requests, refusing unknown properties.
func decodeRoleRequest(body map[string]json.RawMessage, typeName string, extra map[string]func(json.RawMessage) error) (roleRequest, error) {
	var rr roleRequest
	for k, v := range body {
		var target *string
		switch k {
		case "principalId":
			target = &rr.PrincipalID
		case "roleDefinitionId":
			target = &rr.RoleDefinitionID
		case "directoryScopeId":
			target = &rr.DirectoryScopeID
		case "@odata.type":
			if !isODataType(v, typeName) {
				return rr, grapherr.BadRequest("A type named '%s' could not be resolved by the model.", strings.Trim(string(v), `"`))
			}
			continue
		default:
			if fn, ok := extra[k]; ok {
				if err := fn(v); err != nil {
					return rr, err
				}
				continue
			}
			if strings.HasPrefix(k, "@") {
				continue
			}
			return rr, grapherr.NoSuchProperty(k, typeName)
		}
		if err := json.Unmarshal(v, target); err != nil {
			return rr, grapherr.InvalidValue(k, strings.TrimPrefix(typeName, "microsoft.graph."))
		}
	}
	if rr.PrincipalID == "" {
		return rr, grapherr.InvalidValue("principalId", strings.TrimPrefix(typeName, "microsoft.graph."))
	}
	if !tenant.IsGUID(rr.PrincipalID) {
		return rr, grapherr.InvalidObjectID(rr.PrincipalID)
	}
	if rr.RoleDefinitionID == "" {
		return rr, grapherr.InvalidValue("roleDefinitionId", strings.TrimPrefix(typeName, "microsoft.graph."))
	}
	if rr.DirectoryScopeID == "" {
		return rr, grapherr.InvalidValue("directoryScopeId", strings.TrimPrefix(typeName, "microsoft.graph."))
	}
	if rr.DirectoryScopeID != "/" {
		return rr, grapherr.BadRequest("Only the tenant-wide directory scope '/' is supported by the emulator.")
	}
	return rr, nil
}

// principalExists reports whether id names an active user, group or
// service principal of a configured app.
func (s *API) principalExists(st *tenant.State, id string) bool {
	return st.User(id) != nil || st.Group(id) != nil || s.apps.IsServicePrincipal(id)
}

// CreateRoleAssignment serves POST /roleManagement/directory/roleAssignments.
func (s *API) CreateRoleAssignment(w http.ResponseWriter, r *http.Request) error {
	body, err := readJSONObject(w, r)
	if err != nil {
		return err
	}
	rr, err := decodeRoleRequest(body, "microsoft.graph.unifiedRoleAssignment", nil)
	if err != nil {
		return err
	}
	return s.store.Write(func(st *tenant.State) error {
		if _, ok := st.RoleDefinition(rr.RoleDefinitionID); !ok {
			return grapherr.NotFound(rr.RoleDefinitionID)
		}
		if !s.principalExists(st, rr.PrincipalID) {
			return grapherr.NotFound(rr.PrincipalID)
		}
		// An expired assignment no longer exists for Graph, so it neither
		// conflicts nor survives: the new, permanent one replaces it.
		if findAssignment(st, rr, s.clock()) != "" {
			return grapherr.BadRequest("A conflicting object with one or more of the specified property values is present in the directory.")
		}
		id := assignmentID(rr.RoleDefinitionID, rr.PrincipalID)
		a := &tenant.RoleAssignment{ID: id, PrincipalID: strings.ToLower(rr.PrincipalID), RoleDefinitionID: strings.ToLower(rr.RoleDefinitionID), DirectoryScopeID: rr.DirectoryScopeID}
		st.PutRoleAssignment(a)
		out := renderAssignment(st, a, false)
		out["@odata.context"] = s.metadata(r, "roleManagement/directory/roleAssignments/$entity")
		writeOData(w, http.StatusCreated, out)
		return nil
	})
}

// DeleteRoleAssignment serves DELETE /roleManagement/directory/roleAssignments/{id}.
func (s *API) DeleteRoleAssignment(w http.ResponseWriter, r *http.Request, id string) error {
	return s.store.Write(func(st *tenant.State) error {
		a, ok := st.RoleAssignment(id)
		if !ok || !a.ActiveAt(s.clock()) {
			return grapherr.NotFound(id)
		}
		st.RemoveRoleAssignment(id)
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

func renderEligibility(st *tenant.State, e *tenant.RoleEligibility, expand bool) map[string]any {
	out := map[string]any{
		"id":                        e.ID,
		"principalId":               e.PrincipalID,
		"roleDefinitionId":          e.RoleDefinitionID,
		"directoryScopeId":          e.DirectoryScopeID,
		"appScopeId":                nil,
		"startDateTime":             timeVal(e.StartDateTime),
		"endDateTime":               timeVal(e.EndDateTime),
		"memberType":                "Direct",
		"roleEligibilityScheduleId": e.ID,
	}
	if expand {
		if d, ok := st.RoleDefinition(e.RoleDefinitionID); ok {
			out["roleDefinition"] = renderRoleDef(d)
		}
	}
	return out
}

// ListEligibilityInstances serves GET /roleManagement/directory/roleEligibilityScheduleInstances.
func (s *API) ListEligibilityInstances(w http.ResponseWriter, r *http.Request) error {
	q, err := parseListQuery(r, 100, 999)
	if err != nil {
		return err
	}
	expand, err := expandsRoleDefinition(q)
	if err != nil {
		return err
	}
	match, err := eligibilityFilter.matcher(q)
	if err != nil {
		return err
	}
	now := s.clock()
	// Rendered under the read lock, written after it.
	var values []map[string]any
	var next string
	s.store.Read(func(st *tenant.State) {
		var hits []*tenant.RoleEligibility
		for e := range st.RoleEligibilities() {
			if tenant.Ended(e.EndDateTime, now) {
				continue // an expired schedule has no instance
			}
			if match(e) {
				hits = append(hits, e)
			}
		}
		var items []*tenant.RoleEligibility
		items, next = page(r, identity.BaseURL(r), q, hits, func(e *tenant.RoleEligibility) string { return e.ID })
		values = make([]map[string]any, 0, len(items))
		for _, e := range items {
			values = append(values, renderEligibility(st, e, expand))
		}
	})
	body := map[string]any{"@odata.context": s.metadata(r, "roleManagement/directory/roleEligibilityScheduleInstances"), "value": values}
	if next != "" {
		body["@odata.nextLink"] = next
	}
	writeOData(w, http.StatusOK, body)
	return nil
}

// GetEligibilityInstance serves GET /roleManagement/directory/roleEligibilityScheduleInstances/{id}.
func (s *API) GetEligibilityInstance(w http.ResponseWriter, r *http.Request, id string) error {
	q, err := parseListQuery(r, 1, 1)
	if err != nil {
		return err
	}
	expand, err := expandsRoleDefinition(q)
	if err != nil {
		return err
	}
	var out map[string]any
	s.store.Read(func(st *tenant.State) {
		if e, ok := st.RoleEligibility(id); ok && !tenant.Ended(e.EndDateTime, s.clock()) {
			out = renderEligibility(st, e, expand)
		}
	})
	if out == nil {
		return grapherr.NotFound(id)
	}
	out["@odata.context"] = s.metadata(r, "roleManagement/directory/roleEligibilityScheduleInstances/$entity")
	writeOData(w, http.StatusOK, out)
	return nil
}

// AssignmentInstanceID derives the id of an assignment's schedule instance
// from the assignment's: stable, opaque, and different from it, so that a
// client joining on the wrong one is caught.
func AssignmentInstanceID(assignmentID string) string {
	sum := sha256.Sum256([]byte("instance:" + assignmentID))
	return base64.RawURLEncoding.EncodeToString(sum[:18])
}

// assignmentType is Graph's assignmentType of the instance.
func assignmentType(a *tenant.RoleAssignment) string {
	if a.AssignmentType == "" {
		return "Assigned"
	}
	return a.AssignmentType
}

// renderAssignmentInstance shows an active assignment as its
// unifiedRoleAssignmentScheduleInstance. Every assignment is its own
// schedule and origin, whether made directly or through a request (Graph
// does the same for direct assignments); one made directly has no
// startDateTime.
func renderAssignmentInstance(st *tenant.State, a *tenant.RoleAssignment, expand bool) map[string]any {
	out := map[string]any{
		"id":                       AssignmentInstanceID(a.ID),
		"principalId":              a.PrincipalID,
		"roleDefinitionId":         a.RoleDefinitionID,
		"directoryScopeId":         a.DirectoryScopeID,
		"appScopeId":               nil,
		"startDateTime":            timeVal(a.StartDateTime),
		"endDateTime":              timeVal(a.EndDateTime),
		"assignmentType":           assignmentType(a),
		"memberType":               "Direct",
		"roleAssignmentOriginId":   a.ID,
		"roleAssignmentScheduleId": a.ID,
	}
	if expand {
		if d, ok := st.RoleDefinition(a.RoleDefinitionID); ok {
			out["roleDefinition"] = renderRoleDef(d)
		}
	}
	return out
}

// requestSchedule is Graph's requestSchedule
// (https://learn.microsoft.com/en-us/graph/api/resources/requestschedule);
// recurrence is unsupported by PIM and ignored.
type requestSchedule struct {
	StartDateTime *time.Time         `json:"startDateTime"`
	Expiration    *expirationPattern `json:"expiration"`
}

// expirationPattern is Graph's expirationPattern
// (https://learn.microsoft.com/en-us/graph/api/resources/expirationpattern).
type expirationPattern struct {
	Type        string     `json:"type"`
	EndDateTime *time.Time `json:"endDateTime"`
	Duration    *string    `json:"duration"`
}

// schedulePeriod is what a request's schedule grants: from start until
// end, or for good when end is nil. pattern is the expiration in Graph's
// canonical spelling, echoed in the response.
type schedulePeriod struct {
	start   time.Time
	end     *time.Time
	pattern expirationPattern
}

// resolve turns a requested schedule into the period it grants. The
// emulator has no role management policies, so a missing or notSpecified
// expiration grants a permanent schedule.
func (rs requestSchedule) resolve(now time.Time, resource string) (schedulePeriod, error) {
	p := schedulePeriod{start: now, pattern: expirationPattern{Type: "noExpiration"}}
	if rs.StartDateTime != nil {
		p.start = rs.StartDateTime.UTC()
	}
	e := rs.Expiration
	if e == nil {
		return p, nil
	}
	switch strings.ToLower(e.Type) {
	case "", "notspecified":
		p.pattern.Type = "notSpecified"
	case "noexpiration":
	case "afterdatetime":
		if e.EndDateTime == nil {
			return p, grapherr.BadRequest("An expiration of type 'afterDateTime' requires an endDateTime.")
		}
		end := e.EndDateTime.UTC()
		if !end.After(p.start) {
			return p, grapherr.BadRequest("The schedule's endDateTime '%s' must be later than its startDateTime '%s'.",
				end.Format(time.RFC3339), p.start.Format(time.RFC3339))
		}
		p.end = &end
		p.pattern = expirationPattern{Type: "afterDateTime", EndDateTime: &end}
	case "afterduration":
		if e.Duration == nil {
			return p, grapherr.BadRequest("An expiration of type 'afterDuration' requires a duration.")
		}
		d, ok := parseISODuration(*e.Duration)
		if !ok || d <= 0 {
			return p, grapherr.BadRequest("The duration '%s' is not a positive ISO 8601 duration of days, hours, minutes or seconds.", *e.Duration)
		}
		end := p.start.Add(d)
		p.end = &end
		p.pattern = expirationPattern{Type: "afterDuration", Duration: e.Duration}
	default:
		return p, grapherr.InvalidValue("expiration", resource)
	}
	return p, nil
}

// parseISODuration reads the day-time subset of an ISO 8601 duration
// (PnW, PnDTnHnMnS) that PIM schedules use. Years and months have no fixed
// length and are refused.
func parseISODuration(s string) (time.Duration, bool) {
	rest, ok := strings.CutPrefix(strings.ToUpper(s), "P")
	if !ok || rest == "" {
		return 0, false
	}
	var total time.Duration
	inTime := false
	for rest != "" {
		if rest[0] == 'T' {
			if inTime || len(rest) == 1 {
				return 0, false
			}
			inTime, rest = true, rest[1:]
			continue
		}
		i := 0
		for i < len(rest) && (rest[i] >= '0' && rest[i] <= '9' || rest[i] == '.') {
			i++
		}
		if i == 0 || i == len(rest) {
			return 0, false
		}
		n, err := strconv.ParseFloat(rest[:i], 64)
		if err != nil {
			return 0, false
		}
		var unit time.Duration
		switch c := rest[i]; {
		case !inTime && c == 'W':
			unit = 7 * 24 * time.Hour
		case !inTime && c == 'D':
			unit = 24 * time.Hour
		case inTime && c == 'H':
			unit = time.Hour
		case inTime && c == 'M':
			unit = time.Minute
		case inTime && c == 'S':
			unit = time.Second
		default:
			return 0, false
		}
		part := n * float64(unit)
		if part > float64(math.MaxInt64)-float64(total) {
			return 0, false
		}
		total += time.Duration(part)
		rest = rest[i+1:]
	}
	return total, true
}

// scheduleRequest is a decoded PIM schedule request.
type scheduleRequest struct {
	roleRequest
	action        string
	justification *string
	customData    *string
	period        schedulePeriod
}

// decodeScheduleRequest reads the body shared by
// unifiedRoleEligibilityScheduleRequest and
// unifiedRoleAssignmentScheduleRequest and resolves its schedule at now.
func decodeScheduleRequest(body map[string]json.RawMessage, typeName string, now time.Time) (scheduleRequest, error) {
	resource := strings.TrimPrefix(typeName, "microsoft.graph.")
	resource = strings.ToUpper(resource[:1]) + resource[1:]
	var req scheduleRequest
	var sched requestSchedule
	stringInto := func(name string, target **string) func(json.RawMessage) error {
		return func(v json.RawMessage) error {
			if err := json.Unmarshal(v, target); err != nil {
				return grapherr.InvalidValue(name, resource)
			}
			return nil
		}
	}
	var action *string
	extra := map[string]func(json.RawMessage) error{
		"action":        stringInto("action", &action),
		"justification": stringInto("justification", &req.justification),
		"customData":    stringInto("customData", &req.customData),
		"scheduleInfo": func(v json.RawMessage) error {
			if err := json.Unmarshal(v, &sched); err != nil {
				return grapherr.InvalidValue("scheduleInfo", resource)
			}
			return nil
		},
		"isValidationOnly": func(v json.RawMessage) error {
			var only *bool
			if err := json.Unmarshal(v, &only); err != nil {
				return grapherr.InvalidValue("isValidationOnly", resource)
			}
			// Carrying out a request meant only to be checked would be
			// worse than refusing it.
			if only != nil && *only {
				return grapherr.BadRequest("isValidationOnly requests are not supported by the emulator.")
			}
			return nil
		},
		"ticketInfo": func(json.RawMessage) error { return nil },
	}
	rr, err := decodeRoleRequest(body, typeName, extra)
	if err != nil {
		return req, err
	}
	req.roleRequest = rr
	if action == nil || *action == "" {
		return req, grapherr.InvalidValue("action", resource)
	}
	switch strings.ToLower(*action) {
	case "adminassign":
		req.action = "adminAssign"
	case "adminremove":
		req.action = "adminRemove"
	default:
		return req, grapherr.BadRequest("Action '%s' is not supported by the emulator; use adminAssign or adminRemove.", *action)
	}
	if req.period, err = sched.resolve(now, resource); err != nil {
		return req, err
	}
	return req, nil
}

// scheduleRequestKind is what differs between PIM's two request
// collections. Decoding, the schedule, the assign/remove rules and the
// response are shared so eligibility and assignment requests behave alike.
type scheduleRequestKind struct {
	typeName  string // OData type of the request
	entitySet string // collection path under the service root
	// find returns the id of the schedule in force that the request names,
	// or "".
	find func(st *tenant.State, rr roleRequest, now time.Time) string
	// put stores a new schedule for the request and returns its id.
	put func(st *tenant.State, req scheduleRequest) string
	// drop removes the schedule with id.
	drop func(st *tenant.State, id string)
}

var eligibilityRequests = scheduleRequestKind{
	typeName:  "microsoft.graph.unifiedRoleEligibilityScheduleRequest",
	entitySet: "roleManagement/directory/roleEligibilityScheduleRequests",
	find:      findEligibility,
	put: func(st *tenant.State, req scheduleRequest) string {
		id := assignmentID(req.RoleDefinitionID, req.PrincipalID)
		start := req.period.start
		st.PutRoleEligibility(&tenant.RoleEligibility{ID: id, PrincipalID: strings.ToLower(req.PrincipalID),
			RoleDefinitionID: strings.ToLower(req.RoleDefinitionID), DirectoryScopeID: req.DirectoryScopeID,
			StartDateTime: &start, EndDateTime: req.period.end})
		return id
	},
	drop: (*tenant.State).RemoveRoleEligibility,
}

// assignmentRequests write to the same assignments that roleAssignments
// lists: a PIM assignment is an ordinary role assignment with a period.
var assignmentRequests = scheduleRequestKind{
	typeName:  "microsoft.graph.unifiedRoleAssignmentScheduleRequest",
	entitySet: "roleManagement/directory/roleAssignmentScheduleRequests",
	find:      findAssignment,
	put: func(st *tenant.State, req scheduleRequest) string {
		id := assignmentID(req.RoleDefinitionID, req.PrincipalID)
		start := req.period.start
		st.PutRoleAssignment(&tenant.RoleAssignment{ID: id, PrincipalID: strings.ToLower(req.PrincipalID),
			RoleDefinitionID: strings.ToLower(req.RoleDefinitionID), DirectoryScopeID: req.DirectoryScopeID,
			StartDateTime: &start, EndDateTime: req.period.end})
		return id
	},
	drop: (*tenant.State).RemoveRoleAssignment,
}

// CreateEligibilityRequest serves POST /roleManagement/directory/roleEligibilityScheduleRequests.
func (s *API) CreateEligibilityRequest(w http.ResponseWriter, r *http.Request) error {
	return s.createScheduleRequest(w, r, eligibilityRequests)
}

// CreateAssignmentScheduleRequest serves POST /roleManagement/directory/roleAssignmentScheduleRequests.
func (s *API) CreateAssignmentScheduleRequest(w http.ResponseWriter, r *http.Request) error {
	return s.createScheduleRequest(w, r, assignmentRequests)
}

// createScheduleRequest handles adminAssign and adminRemove: the request
// is provisioned at once (the emulator has no approval workflow) and the
// schedule appears or disappears. A schedule whose end has passed no
// longer exists: it neither blocks adminAssign nor can be removed.
func (s *API) createScheduleRequest(w http.ResponseWriter, r *http.Request, kind scheduleRequestKind) error {
	body, err := readJSONObject(w, r)
	if err != nil {
		return err
	}
	now := s.clock().UTC().Truncate(time.Second)
	req, err := decodeScheduleRequest(body, kind.typeName, now)
	if err != nil {
		return err
	}
	return s.store.Write(func(st *tenant.State) error {
		if _, ok := st.RoleDefinition(req.RoleDefinitionID); !ok {
			return grapherr.NotFound(req.RoleDefinitionID)
		}
		existing := kind.find(st, req.roleRequest, now)
		var target, status string
		switch req.action {
		case "adminAssign":
			if !s.principalExists(st, req.PrincipalID) {
				return grapherr.NotFound(req.PrincipalID)
			}
			if existing != "" {
				return grapherr.New(http.StatusBadRequest, "RoleAssignmentExists", "The Role assignment already exists.")
			}
			target, status = kind.put(st, req), "Provisioned"
		case "adminRemove":
			if existing == "" {
				// Microsoft's PIM error table answers a request on an
				// assignment that does not exist with "400 BadRequest |
				// RoleAssignmentDoesNotExist" (governanceroleassignmentrequest-post,
				// microsoft-graph-docs-contrib api-reference/beta/api/governanceroleassignmentrequest-post.md,
				// error codes); adminRemove of a schedule that is gone is
				// answered the same way, eligibility or assignment alike.
				return grapherr.New(http.StatusBadRequest, "RoleAssignmentDoesNotExist", "The Role assignment does not exist.")
			}
			kind.drop(st, existing)
			target, status = existing, "Revoked"
		}
		writeOData(w, http.StatusCreated, s.renderScheduleRequest(r, kind, req, target, status, now))
		return nil
	})
}

// renderScheduleRequest shapes the answer like Graph's
// unifiedRoleEligibilityScheduleRequest / unifiedRoleAssignmentScheduleRequest,
// with the schedule as it was resolved (start filled in, type canonical).
func (s *API) renderScheduleRequest(r *http.Request, kind scheduleRequestKind, req scheduleRequest, target, status string, now time.Time) map[string]any {
	p := req.period
	start := p.start
	return map[string]any{
		"@odata.context":    s.metadata(r, kind.entitySet+"/$entity"),
		"id":                uuid.NewString(),
		"status":            status,
		"action":            req.action,
		"principalId":       strings.ToLower(req.PrincipalID),
		"roleDefinitionId":  strings.ToLower(req.RoleDefinitionID),
		"directoryScopeId":  req.DirectoryScopeID,
		"appScopeId":        nil,
		"isValidationOnly":  false,
		"targetScheduleId":  target,
		"justification":     req.justification,
		"customData":        req.customData,
		"approvalId":        nil,
		"createdDateTime":   now.Format(time.RFC3339),
		"completedDateTime": now.Format(time.RFC3339),
		"scheduleInfo": map[string]any{
			"startDateTime": timeVal(&start),
			"recurrence":    nil,
			"expiration": map[string]any{
				"type":        p.pattern.Type,
				"endDateTime": timeVal(p.pattern.EndDateTime),
				"duration":    p.pattern.Duration,
			},
		},
	}
}
