// Package graphapi serves the Microsoft Graph v1.0 resources the emulator
// models: users (with the $filter, $select and paging rules of directory
// objects, and delta query), role definitions, assignments and PIM schedules, deleted
// items, domains, the organization and onPremisesSynchronization, and the
// sensitive-action rules on users. The root package routes requests here
// after authentication and the permission check.
package graphapi

import (
	"net/http"
	"time"

	"github.com/entramatch/entra-match-operator/internal/emulator/tenant"
)

// Apps is what Graph needs of the tenant's app registrations: whether an
// id names a service principal (a principal a role can be assigned to),
// and the directory roles configured for an app, which count in the
// sensitive-action rules.
type Apps interface {
	IsServicePrincipal(id string) bool
	DirectoryRoles(clientID string) []string
}

// Config tunes the Graph surface of one tenant.
type Config struct {
	// TenantID is the tenant's GUID, lower case: the id of its organization
	// and onPremisesSynchronization objects.
	TenantID string
	// Clock is the emulator clock.
	Clock func() time.Time
	// AppOnlySyncFeatures says whether app-only tokens may use
	// /directory/onPremisesSynchronization.
	AppOnlySyncFeatures bool
	// SensitiveActionsIgnoreEligibility judges sensitive actions on a user
	// by its active role assignments only.
	SensitiveActionsIgnoreEligibility bool
}

// API serves Graph's resources over the tenant state.
type API struct {
	tenantID    string
	clock       func() time.Time
	store       *tenant.Store
	apps        Apps
	appOnlySync bool
	// sensitiveIgnoresEligibility: Config.SensitiveActionsIgnoreEligibility.
	sensitiveIgnoresEligibility bool
	// deltas holds the state tokens of users delta (delta.go).
	deltas *deltaStates
}

// New returns the Graph surface of the tenant in store.
func New(cfg Config, store *tenant.Store, apps Apps) *API {
	return &API{
		tenantID:    cfg.TenantID,
		clock:       cfg.Clock,
		store:       store,
		apps:        apps,
		appOnlySync: cfg.AppOnlySyncFeatures,

		sensitiveIgnoresEligibility: cfg.SensitiveActionsIgnoreEligibility,
		deltas:                      newDeltaStates(),
	}
}

// ListRoleAssignments serves GET /roleManagement/directory/roleAssignments.
func (s *API) ListRoleAssignments(w http.ResponseWriter, r *http.Request) error {
	return s.listAssignments(w, r, roleAssignmentsView)
}

// GetRoleAssignment serves GET /roleManagement/directory/roleAssignments/{id}.
func (s *API) GetRoleAssignment(w http.ResponseWriter, r *http.Request, id string) error {
	return s.getAssignment(w, r, id, roleAssignmentsView)
}

// ListAssignmentInstances serves GET
// /roleManagement/directory/roleAssignmentScheduleInstances.
func (s *API) ListAssignmentInstances(w http.ResponseWriter, r *http.Request) error {
	return s.listAssignments(w, r, assignmentInstancesView)
}

// GetAssignmentInstance serves GET
// /roleManagement/directory/roleAssignmentScheduleInstances/{id}.
func (s *API) GetAssignmentInstance(w http.ResponseWriter, r *http.Request, id string) error {
	return s.getAssignment(w, r, id, assignmentInstancesView)
}
