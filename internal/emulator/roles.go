package emulator

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Role management follows
// https://learn.microsoft.com/en-us/graph/api/rbacapplication-list-roledefinitions,
// rbacapplication-list-roleassignments, rbacapplication-post-roleassignments,
// unifiedroleassignment-delete, rbacapplication-list-roleeligibilityscheduleinstances
// and rbacapplication-post-roleeligibilityschedulerequests.

var (
	permRoleRead = []string{"RoleManagement.Read.Directory", "RoleManagement.Read.All", "RoleManagement.ReadWrite.Directory",
		"Directory.Read.All", "Directory.ReadWrite.All"}
	permRoleWrite        = []string{"RoleManagement.ReadWrite.Directory"}
	permEligibilityRead  = []string{"RoleEligibilitySchedule.Read.Directory", "RoleEligibilitySchedule.ReadWrite.Directory", "RoleManagement.Read.Directory", "RoleManagement.Read.All", "RoleManagement.ReadWrite.Directory"}
	permEligibilityWrite = []string{"RoleEligibilitySchedule.ReadWrite.Directory", "RoleManagement.ReadWrite.Directory"}
)

var roleDefFilter = newSchema[RoleDefinition]("microsoft.graph.unifiedRoleDefinition", "UnifiedRoleDefinition",
	[]string{"description", "resourceScopes", "rolePermissions", "version", "inheritsPermissionsFrom"},
	filterField[RoleDefinition]{name: "id", get: func(d *RoleDefinition) ([]string, bool) { return str(d.ID), false }},
	filterField[RoleDefinition]{name: "templateId", get: func(d *RoleDefinition) ([]string, bool) { return str(d.TemplateID), false }},
	filterField[RoleDefinition]{name: "displayName", get: func(d *RoleDefinition) ([]string, bool) { return str(d.DisplayName), false }},
	filterField[RoleDefinition]{name: "isBuiltIn", kind: fieldBool, get: func(d *RoleDefinition) ([]string, bool) { return str(boolStr(d.IsBuiltIn)), false }},
	filterField[RoleDefinition]{name: "isPrivileged", kind: fieldBool, get: func(d *RoleDefinition) ([]string, bool) { return str(boolStr(d.IsPrivileged)), false }},
)

var roleAssignmentFilter = newSchema[RoleAssignment]("microsoft.graph.unifiedRoleAssignment", "UnifiedRoleAssignment",
	[]string{"appScopeId", "condition", "principal", "roleDefinition", "directoryScope", "appScope"},
	filterField[RoleAssignment]{name: "id", get: func(a *RoleAssignment) ([]string, bool) { return str(a.ID), false }},
	filterField[RoleAssignment]{name: "principalId", get: func(a *RoleAssignment) ([]string, bool) { return str(a.PrincipalID), false }},
	filterField[RoleAssignment]{name: "roleDefinitionId", get: func(a *RoleAssignment) ([]string, bool) { return str(a.RoleDefinitionID), false }},
	filterField[RoleAssignment]{name: "directoryScopeId", get: func(a *RoleAssignment) ([]string, bool) { return str(a.DirectoryScopeID), false }},
)

var eligibilityFilter = newSchema[RoleEligibility]("microsoft.graph.unifiedRoleEligibilityScheduleInstance", "UnifiedRoleEligibilityScheduleInstance",
	[]string{"appScopeId", "startDateTime", "endDateTime", "memberType", "roleEligibilityScheduleId"},
	filterField[RoleEligibility]{name: "id", get: func(e *RoleEligibility) ([]string, bool) { return str(e.ID), false }},
	filterField[RoleEligibility]{name: "principalId", get: func(e *RoleEligibility) ([]string, bool) { return str(e.PrincipalID), false }},
	filterField[RoleEligibility]{name: "roleDefinitionId", get: func(e *RoleEligibility) ([]string, bool) { return str(e.RoleDefinitionID), false }},
	filterField[RoleEligibility]{name: "directoryScopeId", get: func(e *RoleEligibility) ([]string, bool) { return str(e.DirectoryScopeID), false }},
)

func boolStr(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func renderRoleDef(d *RoleDefinition) map[string]any {
	return map[string]any{
		"id":                      d.ID,
		"templateId":              d.TemplateID,
		"displayName":             d.DisplayName,
		"description":             d.Description,
		"isBuiltIn":               d.IsBuiltIn,
		"isEnabled":               d.IsEnabled,
		"isPrivileged":            d.IsPrivileged,
		"resourceScopes":          []string{"/"},
		"rolePermissions":         []any{},
		"version":                 "1",
		"inheritsPermissionsFrom": []any{},
	}
}

func (s *Server) listRoleDefinitions(w http.ResponseWriter, r *http.Request) error {
	if err := s.require(r, permRoleRead...); err != nil {
		return err
	}
	q, err := parseListQuery(r, 1000, 1000)
	if err != nil {
		return err
	}
	match, err := roleDefFilter.matcher(q)
	if err != nil {
		return err
	}
	s.store.mu.RLock()
	var hits []*RoleDefinition
	for _, d := range s.store.st.roleDefs {
		if match(d) {
			cp := *d
			hits = append(hits, &cp)
		}
	}
	s.store.mu.RUnlock()
	items, next := page(r, s.baseURL(r), q, hits, func(d *RoleDefinition) string { return d.ID })
	values := make([]map[string]any, 0, len(items))
	for _, d := range items {
		values = append(values, renderRoleDef(d))
	}
	body := map[string]any{"@odata.context": s.metadata(r, "roleManagement/directory/roleDefinitions"), "value": values}
	if next != "" {
		body["@odata.nextLink"] = next
	}
	writeOData(w, http.StatusOK, body)
	return nil
}

func (s *Server) getRoleDefinition(w http.ResponseWriter, r *http.Request, id string) error {
	if err := s.require(r, permRoleRead...); err != nil {
		return err
	}
	s.store.mu.RLock()
	d, ok := s.store.st.roleDefs[key(id)]
	var cp RoleDefinition
	if ok {
		cp = *d
	}
	s.store.mu.RUnlock()
	if !ok {
		return errNotFound(id)
	}
	out := renderRoleDef(&cp)
	out["@odata.context"] = s.metadata(r, "roleManagement/directory/roleDefinitions/$entity")
	writeOData(w, http.StatusOK, out)
	return nil
}

func (s *Server) renderAssignment(st *state, a *RoleAssignment, expand bool) map[string]any {
	out := map[string]any{
		"id":               a.ID,
		"principalId":      a.PrincipalID,
		"roleDefinitionId": a.RoleDefinitionID,
		"directoryScopeId": a.DirectoryScopeID,
		"appScopeId":       nil,
		"condition":        nil,
	}
	if expand {
		if d, ok := st.roleDefs[key(a.RoleDefinitionID)]; ok {
			out["roleDefinition"] = renderRoleDef(d)
		}
	}
	return out
}

func expandsRoleDefinition(q listQuery) (bool, error) {
	for _, e := range q.expand {
		if !strings.EqualFold(e, "roleDefinition") {
			return false, errBadRequest("Expanding '%s' is not supported by the emulator; only 'roleDefinition' is.", e)
		}
	}
	return len(q.expand) > 0, nil
}

func (s *Server) listRoleAssignments(w http.ResponseWriter, r *http.Request) error {
	if err := s.require(r, permRoleRead...); err != nil {
		return err
	}
	q, err := parseListQuery(r, 100, 999)
	if err != nil {
		return err
	}
	expand, err := expandsRoleDefinition(q)
	if err != nil {
		return err
	}
	match, err := roleAssignmentFilter.matcher(q)
	if err != nil {
		return err
	}
	s.store.mu.RLock()
	defer s.store.mu.RUnlock()
	st := s.store.st
	var hits []*RoleAssignment
	for _, a := range st.assignments {
		if match(a) {
			hits = append(hits, a)
		}
	}
	items, next := page(r, s.baseURL(r), q, hits, func(a *RoleAssignment) string { return a.ID })
	values := make([]map[string]any, 0, len(items))
	for _, a := range items {
		values = append(values, s.renderAssignment(st, a, expand))
	}
	body := map[string]any{"@odata.context": s.metadata(r, "roleManagement/directory/roleAssignments"), "value": values}
	if next != "" {
		body["@odata.nextLink"] = next
	}
	writeOData(w, http.StatusOK, body)
	return nil
}

func (s *Server) getRoleAssignment(w http.ResponseWriter, r *http.Request, id string) error {
	if err := s.require(r, permRoleRead...); err != nil {
		return err
	}
	q, err := parseListQuery(r, 1, 1)
	if err != nil {
		return err
	}
	expand, err := expandsRoleDefinition(q)
	if err != nil {
		return err
	}
	s.store.mu.RLock()
	defer s.store.mu.RUnlock()
	a, ok := s.store.st.assignments[key(id)]
	if !ok {
		return errNotFound(id)
	}
	out := s.renderAssignment(s.store.st, a, expand)
	out["@odata.context"] = s.metadata(r, "roleManagement/directory/roleAssignments/$entity")
	writeOData(w, http.StatusOK, out)
	return nil
}

// assignmentID builds an id shaped like Graph's (opaque, base64url).
// findEligibility returns the store key of the eligibility matching the
// request's principal, role definition and scope, or "".
func findEligibility(st *state, rr roleRequest) string {
	for k, e := range st.eligibilities {
		if strings.EqualFold(e.PrincipalID, rr.PrincipalID) && strings.EqualFold(e.RoleDefinitionID, rr.RoleDefinitionID) &&
			scopeOrRoot(e.DirectoryScopeID) == scopeOrRoot(rr.DirectoryScopeID) {
			return k
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
				return rr, errBadRequest("A type named '%s' could not be resolved by the model.", strings.Trim(string(v), `"`))
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
			return rr, errNoSuchProperty(k, typeName)
		}
		if err := json.Unmarshal(v, target); err != nil {
			return rr, errInvalidValue(k, strings.TrimPrefix(typeName, "microsoft.graph."))
		}
	}
	if rr.PrincipalID == "" {
		return rr, errInvalidValue("principalId", strings.TrimPrefix(typeName, "microsoft.graph."))
	}
	if !isGUID(rr.PrincipalID) {
		return rr, errInvalidObjectID(rr.PrincipalID)
	}
	if rr.RoleDefinitionID == "" {
		return rr, errInvalidValue("roleDefinitionId", strings.TrimPrefix(typeName, "microsoft.graph."))
	}
	if rr.DirectoryScopeID == "" {
		return rr, errInvalidValue("directoryScopeId", strings.TrimPrefix(typeName, "microsoft.graph."))
	}
	if rr.DirectoryScopeID != "/" {
		return rr, errBadRequest("Only the tenant-wide directory scope '/' is supported by the emulator.")
	}
	return rr, nil
}

// principalExists reports whether id names an active user, group or
// service principal of a configured app.
func (s *Server) principalExists(st *state, id string) bool {
	if st.users[key(id)] != nil || st.groups[key(id)] != nil {
		return true
	}
	for _, a := range s.apps {
		if strings.EqualFold(a.objectID, id) {
			return true
		}
	}
	return false
}

func (s *Server) createRoleAssignment(w http.ResponseWriter, r *http.Request) error {
	if err := s.require(r, permRoleWrite...); err != nil {
		return err
	}
	body, err := readJSONObject(w, r)
	if err != nil {
		return err
	}
	rr, err := decodeRoleRequest(body, "microsoft.graph.unifiedRoleAssignment", nil)
	if err != nil {
		return err
	}
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	st := s.store.st
	if _, ok := st.roleDefs[key(rr.RoleDefinitionID)]; !ok {
		return errNotFound(rr.RoleDefinitionID)
	}
	if !s.principalExists(st, rr.PrincipalID) {
		return errNotFound(rr.PrincipalID)
	}
	id := assignmentID(rr.RoleDefinitionID, rr.PrincipalID)
	if _, dup := st.assignments[key(id)]; dup {
		return errBadRequest("A conflicting object with one or more of the specified property values is present in the directory.")
	}
	a := &RoleAssignment{ID: id, PrincipalID: strings.ToLower(rr.PrincipalID), RoleDefinitionID: strings.ToLower(rr.RoleDefinitionID), DirectoryScopeID: rr.DirectoryScopeID}
	st.assignments[key(id)] = a
	out := s.renderAssignment(st, a, false)
	out["@odata.context"] = s.metadata(r, "roleManagement/directory/roleAssignments/$entity")
	writeOData(w, http.StatusCreated, out)
	return nil
}

func (s *Server) deleteRoleAssignment(w http.ResponseWriter, r *http.Request, id string) error {
	if err := s.require(r, permRoleWrite...); err != nil {
		return err
	}
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	if _, ok := s.store.st.assignments[key(id)]; !ok {
		return errNotFound(id)
	}
	delete(s.store.st.assignments, key(id))
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func renderEligibility(e *RoleEligibility) map[string]any {
	return map[string]any{
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
}

func (s *Server) listEligibilityInstances(w http.ResponseWriter, r *http.Request) error {
	if err := s.require(r, permEligibilityRead...); err != nil {
		return err
	}
	q, err := parseListQuery(r, 100, 999)
	if err != nil {
		return err
	}
	match, err := eligibilityFilter.matcher(q)
	if err != nil {
		return err
	}
	now := s.clock()
	s.store.mu.RLock()
	var hits []*RoleEligibility
	for _, e := range s.store.st.eligibilities {
		if e.EndDateTime != nil && now.After(*e.EndDateTime) {
			continue // an expired schedule has no instance
		}
		if match(e) {
			cp := *e
			hits = append(hits, &cp)
		}
	}
	s.store.mu.RUnlock()
	items, next := page(r, s.baseURL(r), q, hits, func(e *RoleEligibility) string { return e.ID })
	values := make([]map[string]any, 0, len(items))
	for _, e := range items {
		values = append(values, renderEligibility(e))
	}
	body := map[string]any{"@odata.context": s.metadata(r, "roleManagement/directory/roleEligibilityScheduleInstances"), "value": values}
	if next != "" {
		body["@odata.nextLink"] = next
	}
	writeOData(w, http.StatusOK, body)
	return nil
}

func (s *Server) getEligibilityInstance(w http.ResponseWriter, r *http.Request, id string) error {
	if err := s.require(r, permEligibilityRead...); err != nil {
		return err
	}
	s.store.mu.RLock()
	e, ok := s.store.st.eligibilities[key(id)]
	var cp RoleEligibility
	if ok {
		cp = *e
	}
	s.store.mu.RUnlock()
	if !ok {
		return errNotFound(id)
	}
	out := renderEligibility(&cp)
	out["@odata.context"] = s.metadata(r, "roleManagement/directory/roleEligibilityScheduleInstances/$entity")
	writeOData(w, http.StatusOK, out)
	return nil
}

type scheduleInfo struct {
	StartDateTime *time.Time `json:"startDateTime"`
	Expiration    *struct {
		Type        string     `json:"type"`
		EndDateTime *time.Time `json:"endDateTime"`
		Duration    *string    `json:"duration"`
	} `json:"expiration"`
}

// createEligibilityRequest handles adminAssign and adminRemove: the
// request is provisioned at once (the emulator has no approval workflow)
// and the instance appears or disappears.
func (s *Server) createEligibilityRequest(w http.ResponseWriter, r *http.Request) error {
	if err := s.require(r, permEligibilityWrite...); err != nil {
		return err
	}
	body, err := readJSONObject(w, r)
	if err != nil {
		return err
	}
	var action, justification string
	var sched scheduleInfo
	var rawSched json.RawMessage
	extra := map[string]func(json.RawMessage) error{
		"action": func(v json.RawMessage) error {
			if err := json.Unmarshal(v, &action); err != nil {
				return errInvalidValue("action", "UnifiedRoleEligibilityScheduleRequest")
			}
			return nil
		},
		"justification": func(v json.RawMessage) error {
			if err := json.Unmarshal(v, &justification); err != nil {
				return errInvalidValue("justification", "UnifiedRoleEligibilityScheduleRequest")
			}
			return nil
		},
		"scheduleInfo": func(v json.RawMessage) error {
			rawSched = v
			if err := json.Unmarshal(v, &sched); err != nil {
				return errInvalidValue("scheduleInfo", "UnifiedRoleEligibilityScheduleRequest")
			}
			return nil
		},
		"isValidationOnly": func(json.RawMessage) error { return nil },
		"ticketInfo":       func(json.RawMessage) error { return nil },
	}
	rr, err := decodeRoleRequest(body, "microsoft.graph.unifiedRoleEligibilityScheduleRequest", extra)
	if err != nil {
		return err
	}
	now := s.clock().UTC().Truncate(time.Second)
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	st := s.store.st
	if _, ok := st.roleDefs[key(rr.RoleDefinitionID)]; !ok {
		return errNotFound(rr.RoleDefinitionID)
	}
	id := assignmentID(rr.RoleDefinitionID, rr.PrincipalID)
	// PIM names the eligibility a request acts on by principal, role and
	// scope, not by instance id: instances seeded or created elsewhere are
	// found the same way.
	existing := findEligibility(st, rr)
	status := "Provisioned"
	switch action {
	case "adminAssign":
		if !s.principalExists(st, rr.PrincipalID) {
			return errNotFound(rr.PrincipalID)
		}
		if existing != "" {
			return newGraphError(http.StatusBadRequest, "RoleAssignmentExists", "The Role assignment already exists.")
		}
		e := &RoleEligibility{ID: id, PrincipalID: strings.ToLower(rr.PrincipalID), RoleDefinitionID: strings.ToLower(rr.RoleDefinitionID),
			DirectoryScopeID: rr.DirectoryScopeID, StartDateTime: &now}
		if sched.StartDateTime != nil {
			e.StartDateTime = sched.StartDateTime
		}
		if sched.Expiration != nil && sched.Expiration.EndDateTime != nil && sched.Expiration.Type == "afterDateTime" {
			e.EndDateTime = sched.Expiration.EndDateTime
		}
		st.eligibilities[key(id)] = e
	case "adminRemove":
		if existing == "" {
			return newGraphError(http.StatusNotFound, "RoleAssignmentDoesNotExist", "The Role assignment does not exist.")
		}
		id = st.eligibilities[existing].ID
		delete(st.eligibilities, existing)
		status = "Revoked"
	case "":
		return errInvalidValue("action", "UnifiedRoleEligibilityScheduleRequest")
	default:
		return errBadRequest("Action '%s' is not supported by the emulator; use adminAssign or adminRemove.", action)
	}
	out := map[string]any{
		"@odata.context":    s.metadata(r, "roleManagement/directory/roleEligibilityScheduleRequests/$entity"),
		"id":                uuid.NewString(),
		"status":            status,
		"action":            action,
		"principalId":       strings.ToLower(rr.PrincipalID),
		"roleDefinitionId":  strings.ToLower(rr.RoleDefinitionID),
		"directoryScopeId":  rr.DirectoryScopeID,
		"appScopeId":        nil,
		"isValidationOnly":  false,
		"targetScheduleId":  id,
		"justification":     justification,
		"createdDateTime":   now.Format(time.RFC3339),
		"completedDateTime": now.Format(time.RFC3339),
		"scheduleInfo":      rawSched,
	}
	writeOData(w, http.StatusCreated, out)
	return nil
}
