package emulator

import "github.com/entramatch/entra-match-operator/internal/emulator/tenant"

// The tenant's types, as package tenant defines them; callers of the
// emulator need only this package.
type (
	// Snapshot is the whole emulated tenant: everything Replace loads and
	// Snapshot dumps.
	Snapshot = tenant.Snapshot
	// Organization is the tenant's organization object.
	Organization = tenant.Organization
	// Domain is a tenant domain.
	Domain = tenant.Domain
	// ProvisioningError is one entry of onPremisesProvisioningErrors.
	ProvisioningError = tenant.ProvisioningError
	// User is a Graph user with the properties the emulator models.
	User = tenant.User
	// Group is a Graph group.
	Group = tenant.Group
	// Contact is a Graph orgContact.
	Contact = tenant.Contact
	// RoleDefinition is a unifiedRoleDefinition.
	RoleDefinition = tenant.RoleDefinition
	// RoleAssignment is an active unifiedRoleAssignment.
	RoleAssignment = tenant.RoleAssignment
	// RoleEligibility is a PIM eligibility.
	RoleEligibility = tenant.RoleEligibility
	// SyncState is the tenant's onPremisesDirectorySynchronization object.
	SyncState = tenant.SyncState
	// SyncFeatures holds the onPremisesDirectorySynchronizationFeature flags.
	SyncFeatures = tenant.SyncFeatures
	// SyncConfiguration is onPremisesDirectorySynchronizationConfiguration.
	SyncConfiguration = tenant.SyncConfiguration
	// AccidentalDeletionPrevention settings of the sync configuration.
	AccidentalDeletionPrevention = tenant.AccidentalDeletionPrevention
	// DeletedItems holds soft-deleted objects.
	DeletedItems = tenant.DeletedItems
)

// Template ids of built-in roles, as package tenant lists them.
const (
	RoleGlobalAdministrator                   = tenant.RoleGlobalAdministrator
	RolePrivilegedRoleAdministrator           = tenant.RolePrivilegedRoleAdministrator
	RolePrivilegedAuthenticationAdministrator = tenant.RolePrivilegedAuthenticationAdministrator
	RoleUserAdministrator                     = tenant.RoleUserAdministrator
	RoleHelpdeskAdministrator                 = tenant.RoleHelpdeskAdministrator
	RoleAuthenticationAdministrator           = tenant.RoleAuthenticationAdministrator
	RolePasswordAdministrator                 = tenant.RolePasswordAdministrator
	RoleHybridIdentityAdministrator           = tenant.RoleHybridIdentityAdministrator
	RoleSecurityAdministrator                 = tenant.RoleSecurityAdministrator
	RoleSecurityReader                        = tenant.RoleSecurityReader
	RoleGlobalReader                          = tenant.RoleGlobalReader
	RoleDirectoryWriters                      = tenant.RoleDirectoryWriters
	RoleDirectoryReaders                      = tenant.RoleDirectoryReaders
	RoleDirectorySynchronizationAccounts      = tenant.RoleDirectorySynchronizationAccounts
	RoleApplicationAdministrator              = tenant.RoleApplicationAdministrator
	RoleCloudApplicationAdministrator         = tenant.RoleCloudApplicationAdministrator
	RoleExchangeAdministrator                 = tenant.RoleExchangeAdministrator
	RoleGroupsAdministrator                   = tenant.RoleGroupsAdministrator
	RoleLicenseAdministrator                  = tenant.RoleLicenseAdministrator
	RoleGuestInviter                          = tenant.RoleGuestInviter
	RoleMessageCenterReader                   = tenant.RoleMessageCenterReader
	RoleReportsReader                         = tenant.RoleReportsReader
	RoleUserExperienceSuccessManager          = tenant.RoleUserExperienceSuccessManager
	RoleUsageSummaryReportsReader             = tenant.RoleUsageSummaryReportsReader
)

// BuiltinRoleDefinitions returns the built-in role definitions the emulator
// seeds. A fresh slice is returned on every call.
func BuiltinRoleDefinitions() []RoleDefinition { return tenant.BuiltinRoleDefinitions() }

// BuiltinRoleID returns the template id of the built-in role named name
// (case-insensitive display name) or given by its template id.
func BuiltinRoleID(name string) (string, bool) { return tenant.BuiltinRoleID(name) }

// DefaultSyncState is the synchronization object of a tenant that has never
// been configured (see tenant.DefaultSyncState).
func DefaultSyncState() SyncState { return tenant.DefaultSyncState() }
