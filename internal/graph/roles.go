package graph

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/rolemanagement"

	"github.com/entramatch/entra-match-operator/internal/cloud"
)

// defaultJustification is sent when the caller gives none: PIM policies may
// require one, and an empty string would fail such a policy.
const defaultJustification = "Requested by entra-match-operator"

// RoleAssignments lists the active role assignments of a principal, with
// their role definitions expanded and, for
// time-bound ones, when they end.
func (c *Client) RoleAssignments(ctx context.Context, principalID string) ([]cloud.RoleAssignment, error) {
	const op = "RoleAssignments"
	if principalID == "" {
		return nil, invalid(op, "principal id is required")
	}
	filter := "principalId eq " + quote(principalID)
	out, err := c.roleAssignments(ctx, op, &filter)
	if err != nil || len(out) == 0 {
		return out, err
	}
	schedules, err := c.assignmentSchedules(ctx, op, filter)
	if err != nil {
		return nil, err
	}
	for i := range out {
		if in, ok := schedules[out[i].ID]; ok {
			out[i].EndDateTime = in.GetEndDateTime()
			out[i].Activated = strings.EqualFold(deref(in.GetAssignmentType()), "Activated")
		}
	}
	return out, nil
}

// assignmentSchedules reads the schedule instances of active assignments,
// by role assignment id: when they end and whether they are activations.
// Every active assignment has one, made through PIM or directly
// (https://learn.microsoft.com/graph/api/resources/unifiedroleassignmentscheduleinstance).
// A tenant without PIM has no time-bound assignments (see withoutPIM).
func (c *Client) assignmentSchedules(ctx context.Context, op, filter string) (map[string]models.UnifiedRoleAssignmentScheduleInstanceable, error) {
	ctx = withCall(ctx, op)
	rb := c.svc.RoleManagement().Directory().RoleAssignmentScheduleInstances()
	first, err := rb.Get(ctx, &rolemanagement.DirectoryRoleAssignmentScheduleInstancesRequestBuilderGetRequestConfiguration{
		QueryParameters: &rolemanagement.DirectoryRoleAssignmentScheduleInstancesRequestBuilderGetQueryParameters{Filter: &filter},
	})
	found, err := collect(c, first, err, func(link string) (models.UnifiedRoleAssignmentScheduleInstanceCollectionResponseable, error) {
		return rb.WithUrl(link).Get(ctx, nil)
	})
	if err != nil {
		return nil, withoutPIM(classify(ctx, op, err))
	}
	byOrigin := map[string]models.UnifiedRoleAssignmentScheduleInstanceable{}
	for _, in := range found {
		if in != nil {
			byOrigin[deref(in.GetRoleAssignmentOriginId())] = in
		}
	}
	return byOrigin, nil
}

// AllRoleAssignments lists every active role assignment of the tenant; a
// tenant has few, so one paged read serves all UserMatches of a resync.
func (c *Client) AllRoleAssignments(ctx context.Context) ([]cloud.RoleAssignment, error) {
	return c.roleAssignments(ctx, "AllRoleAssignments", nil)
}

func (c *Client) roleAssignments(ctx context.Context, op string, filter *string) ([]cloud.RoleAssignment, error) {
	ctx = withCall(ctx, op)
	rb := c.svc.RoleManagement().Directory().RoleAssignments()
	first, err := rb.Get(ctx, &rolemanagement.DirectoryRoleAssignmentsRequestBuilderGetRequestConfiguration{
		QueryParameters: &rolemanagement.DirectoryRoleAssignmentsRequestBuilderGetQueryParameters{
			Filter: filter, Expand: []string{"roleDefinition"},
		},
	})
	found, err := collect(c, first, err, func(link string) (models.UnifiedRoleAssignmentCollectionResponseable, error) {
		return rb.WithUrl(link).Get(ctx, nil)
	})
	if err != nil {
		return nil, classify(ctx, op, err)
	}
	out := make([]cloud.RoleAssignment, 0, len(found))
	for _, a := range found {
		if a != nil {
			out = append(out, toRoleAssignment(a))
		}
	}
	defs := map[string]cloud.RoleDefinition{}
	for i := range out {
		if err := c.completeRole(ctx, defs, &out[i].Role, out[i].RoleDefinitionID); err != nil {
			return nil, classify(ctx, op, err)
		}
	}
	return out, nil
}

// CreateRoleAssignment makes a permanent active assignment (roleAssignments
// has no end date). Graph's response does not expand the role definition,
// so the returned Role is the one the caller passed.
func (c *Client) CreateRoleAssignment(ctx context.Context, a cloud.RoleAssignment) (cloud.RoleAssignment, error) {
	const op = "CreateRoleAssignment"
	if a.PrincipalID == "" || a.RoleDefinitionID == "" || a.DirectoryScopeID == "" {
		return cloud.RoleAssignment{}, invalid(op, "principal id, role definition id and directory scope are required")
	}
	ctx = withCall(ctx, op)
	body := models.NewUnifiedRoleAssignment()
	body.SetPrincipalId(ptr(a.PrincipalID))
	body.SetRoleDefinitionId(ptr(a.RoleDefinitionID))
	body.SetDirectoryScopeId(ptr(a.DirectoryScopeID))
	created, err := c.svc.RoleManagement().Directory().RoleAssignments().Post(ctx, body, nil)
	if err != nil {
		return cloud.RoleAssignment{}, classify(ctx, op, err)
	}
	if created == nil {
		return cloud.RoleAssignment{}, &cloud.Error{Class: cloud.ClassTransient, Op: op, Message: "Graph returned no role assignment"}
	}
	out := toRoleAssignment(created)
	if created.GetRoleDefinition() == nil {
		out.Role = a.Role
	}
	return out, nil
}

// AssignRoleSchedule files a PIM adminAssign request for an active
// assignment starting now, until a.EndDateTime or permanent
// (https://learn.microsoft.com/graph/api/rbacapplication-post-roleassignmentschedulerequests).
// Unlike CreateRoleAssignment it is subject to the role's PIM policy.
func (c *Client) AssignRoleSchedule(ctx context.Context, a cloud.RoleAssignment, justification string) error {
	return c.roleScheduleRequest(ctx, "AssignRoleSchedule", a, justification, models.ADMINASSIGN_UNIFIEDROLESCHEDULEREQUESTACTIONS)
}

// RemoveRoleSchedule files a PIM adminRemove request for an active
// assignment: the documented way to end one that PIM manages (time-bound
// or activated).
func (c *Client) RemoveRoleSchedule(ctx context.Context, a cloud.RoleAssignment, justification string) error {
	return c.roleScheduleRequest(ctx, "RemoveRoleSchedule", a, justification, models.ADMINREMOVE_UNIFIEDROLESCHEDULEREQUESTACTIONS)
}

func (c *Client) roleScheduleRequest(ctx context.Context, op string, a cloud.RoleAssignment, justification string, action models.UnifiedRoleScheduleRequestActions) error {
	body := models.NewUnifiedRoleAssignmentScheduleRequest()
	if err := fillRequest(op, body, a.PrincipalID, a.RoleDefinitionID, a.DirectoryScopeID, justification, action); err != nil {
		return err
	}
	if action == models.ADMINASSIGN_UNIFIEDROLESCHEDULEREQUESTACTIONS {
		body.SetScheduleInfo(requestSchedule(a.EndDateTime))
	}
	ctx = withCall(ctx, op)
	_, err := c.svc.RoleManagement().Directory().RoleAssignmentScheduleRequests().Post(ctx, body, nil)
	return classify(ctx, op, err)
}

// DeleteRoleAssignment removes an active role assignment.
func (c *Client) DeleteRoleAssignment(ctx context.Context, id string) error {
	const op = "DeleteRoleAssignment"
	if id == "" {
		return invalid(op, "role assignment id is required")
	}
	ctx = withCall(ctx, op)
	return classify(ctx, op, c.svc.RoleManagement().Directory().RoleAssignments().ByUnifiedRoleAssignmentId(id).Delete(ctx, nil))
}

// RoleEligibilities lists the PIM eligibility schedule instances of a principal.
func (c *Client) RoleEligibilities(ctx context.Context, principalID string) ([]cloud.RoleEligibility, error) {
	const op = "RoleEligibilities"
	if principalID == "" {
		return nil, invalid(op, "principal id is required")
	}
	filter := "principalId eq " + quote(principalID)
	return c.roleEligibilities(ctx, op, &filter)
}

// AllRoleEligibilities lists every PIM eligibility instance of the tenant.
func (c *Client) AllRoleEligibilities(ctx context.Context) ([]cloud.RoleEligibility, error) {
	return c.roleEligibilities(ctx, "AllRoleEligibilities", nil)
}

func (c *Client) roleEligibilities(ctx context.Context, op string, filter *string) ([]cloud.RoleEligibility, error) {
	ctx = withCall(ctx, op)
	rb := c.svc.RoleManagement().Directory().RoleEligibilityScheduleInstances()
	first, err := rb.Get(ctx, &rolemanagement.DirectoryRoleEligibilityScheduleInstancesRequestBuilderGetRequestConfiguration{
		QueryParameters: &rolemanagement.DirectoryRoleEligibilityScheduleInstancesRequestBuilderGetQueryParameters{
			Filter: filter, Expand: []string{"roleDefinition"},
		},
	})
	found, err := collect(c, first, err, func(link string) (models.UnifiedRoleEligibilityScheduleInstanceCollectionResponseable, error) {
		return rb.WithUrl(link).Get(ctx, nil)
	})
	if err != nil {
		return nil, withoutPIM(classify(ctx, op, err))
	}
	out := make([]cloud.RoleEligibility, 0, len(found))
	for _, e := range found {
		if e != nil {
			out = append(out, toRoleEligibility(e))
		}
	}
	defs := map[string]cloud.RoleDefinition{}
	for i := range out {
		if err := c.completeRole(ctx, defs, &out[i].Role, out[i].RoleDefinitionID); err != nil {
			return nil, classify(ctx, op, err)
		}
	}
	return out, nil
}

// codeNoPIMLicense is Graph's error code on the PIM collections (role
// eligibility and assignment schedules) of a tenant without Microsoft Entra
// ID P2 or ID Governance, answered with 400.
const codeNoPIMLicense = "AadPremiumLicenseRequired"

// withoutPIM turns the refusal of a tenant without PIM into "nothing
// found": such a tenant has no eligibilities and no time-bound assignments.
// Every other error stays.
func withoutPIM(err error) error {
	var ce *cloud.Error
	if errors.As(err, &ce) && strings.EqualFold(ce.Code, codeNoPIMLicense) {
		return nil
	}
	return err
}

// completeRole fills role from GET roleDefinitions/{id} (once per id, via
// cache) when the server did not honour $expand=roleDefinition: whether a
// role is built-in, and its template id, decide whether it is privileged.
func (c *Client) completeRole(ctx context.Context, cache map[string]cloud.RoleDefinition, role *cloud.RoleDefinition, id string) error {
	if role.ID != "" || id == "" {
		return nil
	}
	if def, ok := cache[id]; ok {
		*role = def
		return nil
	}
	got, err := c.svc.RoleManagement().Directory().RoleDefinitions().ByUnifiedRoleDefinitionId(id).Get(ctx, nil)
	if err != nil {
		return err
	}
	cache[id] = toRoleDefinition(got)
	*role = cache[id]
	return nil
}

// AssignEligibility files a PIM adminAssign request for an eligibility
// starting now, until e.EndDateTime or permanent (requestSchedule).
func (c *Client) AssignEligibility(ctx context.Context, e cloud.RoleEligibility, justification string) error {
	return c.eligibilityRequest(ctx, "AssignEligibility", e, justification, models.ADMINASSIGN_UNIFIEDROLESCHEDULEREQUESTACTIONS)
}

// RemoveEligibility files a PIM adminRemove request.
func (c *Client) RemoveEligibility(ctx context.Context, e cloud.RoleEligibility, justification string) error {
	return c.eligibilityRequest(ctx, "RemoveEligibility", e, justification, models.ADMINREMOVE_UNIFIEDROLESCHEDULEREQUESTACTIONS)
}

func (c *Client) eligibilityRequest(ctx context.Context, op string, e cloud.RoleEligibility, justification string, action models.UnifiedRoleScheduleRequestActions) error {
	body := models.NewUnifiedRoleEligibilityScheduleRequest()
	if err := fillRequest(op, body, e.PrincipalID, e.RoleDefinitionID, e.DirectoryScopeID, justification, action); err != nil {
		return err
	}
	if action == models.ADMINASSIGN_UNIFIEDROLESCHEDULEREQUESTACTIONS {
		body.SetScheduleInfo(requestSchedule(e.EndDateTime))
	}
	ctx = withCall(ctx, op)
	_, err := c.svc.RoleManagement().Directory().RoleEligibilityScheduleRequests().Post(ctx, body, nil)
	return classify(ctx, op, err)
}

// requestSchedule starts a PIM request now and ends it at end, or never.
func requestSchedule(end *time.Time) models.RequestScheduleable {
	expiration := models.NewExpirationPattern()
	if end != nil {
		expiration.SetTypeEscaped(ptr(models.AFTERDATETIME_EXPIRATIONPATTERNTYPE))
		expiration.SetEndDateTime(ptr(end.UTC()))
	} else {
		expiration.SetTypeEscaped(ptr(models.NOEXPIRATION_EXPIRATIONPATTERNTYPE))
	}
	schedule := models.NewRequestSchedule()
	schedule.SetStartDateTime(ptr(time.Now().UTC().Truncate(time.Second)))
	schedule.SetExpiration(expiration)
	return schedule
}

// scheduleRequest is what eligibility and assignment schedule requests
// share.
type scheduleRequest interface {
	SetAction(*models.UnifiedRoleScheduleRequestActions)
	SetPrincipalId(*string)
	SetRoleDefinitionId(*string)
	SetDirectoryScopeId(*string)
	SetJustification(*string)
}

// fillRequest names the action, the principal, the role and the scope of a
// PIM request; PIM policies may require a justification, so an empty one
// is replaced with the operator's default.
func fillRequest(op string, body scheduleRequest, principalID, roleDefinitionID, scope, justification string, action models.UnifiedRoleScheduleRequestActions) error {
	// No default scope: a missing one must never become the whole tenant.
	if principalID == "" || roleDefinitionID == "" || scope == "" {
		return invalid(op, "principal id, role definition id and directory scope are required")
	}
	if justification == "" {
		justification = defaultJustification
	}
	body.SetAction(ptr(action))
	body.SetPrincipalId(ptr(principalID))
	body.SetRoleDefinitionId(ptr(roleDefinitionID))
	body.SetDirectoryScopeId(ptr(scope))
	body.SetJustification(ptr(justification))
	return nil
}
