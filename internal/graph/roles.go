package graph

import (
	"context"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/rolemanagement"

	"github.com/entramatch/entra-match-operator/internal/cloud"
)

// tenantScope is the directory scope of a tenant-wide role.
const tenantScope = "/"

// defaultJustification is sent when the caller gives none: PIM policies may
// require one, and an empty string would fail such a policy.
const defaultJustification = "Requested by entra-match-operator"

// RoleAssignments lists the active role assignments of a principal, with
// their role definitions expanded (isPrivileged included).
func (c *Client) RoleAssignments(ctx context.Context, principalID string) ([]cloud.RoleAssignment, error) {
	const op = "RoleAssignments"
	if principalID == "" {
		return nil, invalid(op, "principal id is required")
	}
	filter := "principalId eq " + quote(principalID)
	return c.roleAssignments(ctx, op, &filter)
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

// CreateRoleAssignment assigns a role. Graph's response does not expand the
// role definition, so the returned Role is the one the caller passed.
func (c *Client) CreateRoleAssignment(ctx context.Context, a cloud.RoleAssignment) (cloud.RoleAssignment, error) {
	const op = "CreateRoleAssignment"
	if a.PrincipalID == "" || a.RoleDefinitionID == "" {
		return cloud.RoleAssignment{}, invalid(op, "principal id and role definition id are required")
	}
	ctx = withCall(ctx, op)
	body := models.NewUnifiedRoleAssignment()
	body.SetPrincipalId(ptr(a.PrincipalID))
	body.SetRoleDefinitionId(ptr(a.RoleDefinitionID))
	body.SetDirectoryScopeId(ptr(scopeOrTenant(a.DirectoryScopeID)))
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
		return nil, classify(ctx, op, err)
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

// completeRole fills role from GET roleDefinitions/{id} (once per id, via
// cache) when the server did not honour $expand=roleDefinition: IsPrivileged
// drives matching decisions and must not silently read as false.
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
// starting now: until e.EndDateTime (afterDateTime) when set, else
// permanent (noExpiration).
func (c *Client) AssignEligibility(ctx context.Context, e cloud.RoleEligibility, justification string) error {
	const op = "AssignEligibility"
	body, err := eligibilityRequest(op, e, justification, models.ADMINASSIGN_UNIFIEDROLESCHEDULEREQUESTACTIONS)
	if err != nil {
		return err
	}
	expiration := models.NewExpirationPattern()
	if e.EndDateTime != nil {
		expiration.SetTypeEscaped(ptr(models.AFTERDATETIME_EXPIRATIONPATTERNTYPE))
		expiration.SetEndDateTime(ptr(e.EndDateTime.UTC()))
	} else {
		expiration.SetTypeEscaped(ptr(models.NOEXPIRATION_EXPIRATIONPATTERNTYPE))
	}
	schedule := models.NewRequestSchedule()
	schedule.SetStartDateTime(ptr(time.Now().UTC().Truncate(time.Second)))
	schedule.SetExpiration(expiration)
	body.SetScheduleInfo(schedule)
	ctx = withCall(ctx, op)
	_, err = c.svc.RoleManagement().Directory().RoleEligibilityScheduleRequests().Post(ctx, body, nil)
	return classify(ctx, op, err)
}

// RemoveEligibility files a PIM adminRemove request.
func (c *Client) RemoveEligibility(ctx context.Context, e cloud.RoleEligibility, justification string) error {
	const op = "RemoveEligibility"
	body, err := eligibilityRequest(op, e, justification, models.ADMINREMOVE_UNIFIEDROLESCHEDULEREQUESTACTIONS)
	if err != nil {
		return err
	}
	ctx = withCall(ctx, op)
	_, err = c.svc.RoleManagement().Directory().RoleEligibilityScheduleRequests().Post(ctx, body, nil)
	return classify(ctx, op, err)
}

func eligibilityRequest(op string, e cloud.RoleEligibility, justification string, action models.UnifiedRoleScheduleRequestActions) (models.UnifiedRoleEligibilityScheduleRequestable, error) {
	if e.PrincipalID == "" || e.RoleDefinitionID == "" {
		return nil, invalid(op, "principal id and role definition id are required")
	}
	if justification == "" {
		justification = defaultJustification
	}
	body := models.NewUnifiedRoleEligibilityScheduleRequest()
	body.SetAction(ptr(action))
	body.SetPrincipalId(ptr(e.PrincipalID))
	body.SetRoleDefinitionId(ptr(e.RoleDefinitionID))
	body.SetDirectoryScopeId(ptr(scopeOrTenant(e.DirectoryScopeID)))
	body.SetJustification(ptr(justification))
	return body, nil
}

func scopeOrTenant(scope string) string {
	if scope == "" {
		return tenantScope
	}
	return scope
}
