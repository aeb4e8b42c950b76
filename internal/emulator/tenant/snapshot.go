package tenant

import (
	"encoding/json"
	"fmt"
	"time"
)

// Snapshot is the whole emulated tenant: everything Replace loads and
// Snapshot dumps. Field names follow Graph's JSON names so a snapshot reads
// like Graph output; it loads from JSON or, via sigs.k8s.io/yaml, from YAML.
type Snapshot struct {
	Organization      Organization      `json:"organization"`
	Domains           []Domain          `json:"domains,omitempty"`
	Users             []User            `json:"users,omitempty"`
	Groups            []Group           `json:"groups,omitempty"`
	Contacts          []Contact         `json:"contacts,omitempty"`
	RoleDefinitions   []RoleDefinition  `json:"roleDefinitions,omitempty"`
	RoleAssignments   []RoleAssignment  `json:"roleAssignments,omitempty"`
	RoleEligibilities []RoleEligibility `json:"roleEligibilities,omitempty"`
	Sync              SyncState         `json:"onPremisesSynchronization"`
	DeletedItems      DeletedItems      `json:"deletedItems"`
}

// Organization is the tenant's organization object. Its id is always the
// tenant id.
type Organization struct {
	DisplayName                string     `json:"displayName,omitempty"`
	OnPremisesSyncEnabled      *bool      `json:"onPremisesSyncEnabled,omitempty"`
	OnPremisesLastSyncDateTime *time.Time `json:"onPremisesLastSyncDateTime,omitempty"`
	CreatedDateTime            *time.Time `json:"createdDateTime,omitempty"`
	CountryLetterCode          string     `json:"countryLetterCode,omitempty"`
}

// Domain is a tenant domain. AuthenticationType is "Managed" or "Federated".
type Domain struct {
	ID                 string `json:"id"`
	AuthenticationType string `json:"authenticationType,omitempty"`
	IsDefault          bool   `json:"isDefault"`
	IsInitial          bool   `json:"isInitial"`
	IsVerified         bool   `json:"isVerified"`
	IsRoot             bool   `json:"isRoot"`
	IsAdminManaged     bool   `json:"isAdminManaged"`
	// SupportedServices such as "Email", "OfficeCommunicationsOnline".
	SupportedServices []string `json:"supportedServices,omitempty"`
}

// ProvisioningError is one entry of onPremisesProvisioningErrors.
type ProvisioningError struct {
	Category             string     `json:"category,omitempty"`
	OccurredDateTime     *time.Time `json:"occurredDateTime,omitempty"`
	PropertyCausingError string     `json:"propertyCausingError,omitempty"`
	Value                string     `json:"value,omitempty"`
}

// User is a Graph user with the properties the emulator models.
type User struct {
	ID                            string              `json:"id"`
	UserPrincipalName             string              `json:"userPrincipalName"`
	DisplayName                   string              `json:"displayName,omitempty"`
	GivenName                     *string             `json:"givenName,omitempty"`
	Surname                       *string             `json:"surname,omitempty"`
	JobTitle                      *string             `json:"jobTitle,omitempty"`
	Mail                          *string             `json:"mail,omitempty"`
	MailNickname                  string              `json:"mailNickname,omitempty"`
	AccountEnabled                *bool               `json:"accountEnabled,omitempty"`
	UsageLocation                 *string             `json:"usageLocation,omitempty"`
	Department                    *string             `json:"department,omitempty"`
	EmployeeID                    *string             `json:"employeeId,omitempty"`
	MobilePhone                   *string             `json:"mobilePhone,omitempty"`
	OfficeLocation                *string             `json:"officeLocation,omitempty"`
	PreferredLanguage             *string             `json:"preferredLanguage,omitempty"`
	BusinessPhones                []string            `json:"businessPhones,omitempty"`
	ProxyAddresses                []string            `json:"proxyAddresses,omitempty"`
	UserType                      string              `json:"userType,omitempty"`
	CreatedDateTime               *time.Time          `json:"createdDateTime,omitempty"`
	DeletedDateTime               *time.Time          `json:"deletedDateTime,omitempty"`
	OnPremisesImmutableID         *string             `json:"onPremisesImmutableId,omitempty"`
	OnPremisesSyncEnabled         *bool               `json:"onPremisesSyncEnabled,omitempty"`
	OnPremisesLastSyncDateTime    *time.Time          `json:"onPremisesLastSyncDateTime,omitempty"`
	OnPremisesDistinguishedName   *string             `json:"onPremisesDistinguishedName,omitempty"`
	OnPremisesSamAccountName      *string             `json:"onPremisesSamAccountName,omitempty"`
	OnPremisesUserPrincipalName   *string             `json:"onPremisesUserPrincipalName,omitempty"`
	OnPremisesObjectIdentifier    *string             `json:"onPremisesObjectIdentifier,omitempty"`
	OnPremisesDomainName          *string             `json:"onPremisesDomainName,omitempty"`
	OnPremisesProvisioningErrors  []ProvisioningError `json:"onPremisesProvisioningErrors,omitempty"`
	OnPremisesExtensionAttributes ExtensionAttributes `json:"onPremisesExtensionAttributes,omitzero"`
	// Password is the initial password from passwordProfile. It is kept so a
	// snapshot round-trips, never returned by Graph (Graph never returns it either).
	Password string `json:"password,omitempty"`
}

// Group is a Graph group; only what matching needs is modelled.
type Group struct {
	ID              string     `json:"id"`
	DisplayName     string     `json:"displayName,omitempty"`
	Mail            *string    `json:"mail,omitempty"`
	MailEnabled     bool       `json:"mailEnabled"`
	MailNickname    string     `json:"mailNickname,omitempty"`
	SecurityEnabled bool       `json:"securityEnabled"`
	GroupTypes      []string   `json:"groupTypes,omitempty"`
	ProxyAddresses  []string   `json:"proxyAddresses,omitempty"`
	CreatedDateTime *time.Time `json:"createdDateTime,omitempty"`
	DeletedDateTime *time.Time `json:"deletedDateTime,omitempty"`
	// OnPremisesImmutableID is the source anchor of a synced group. Graph
	// does not expose it on groups; the emulator keeps it for matching.
	OnPremisesImmutableID        *string             `json:"onPremisesImmutableId,omitempty"`
	OnPremisesSyncEnabled        *bool               `json:"onPremisesSyncEnabled,omitempty"`
	OnPremisesLastSyncDateTime   *time.Time          `json:"onPremisesLastSyncDateTime,omitempty"`
	OnPremisesDomainName         *string             `json:"onPremisesDomainName,omitempty"`
	OnPremisesSamAccountName     *string             `json:"onPremisesSamAccountName,omitempty"`
	OnPremisesSecurityIdentifier *string             `json:"onPremisesSecurityIdentifier,omitempty"`
	OnPremisesProvisioningErrors []ProvisioningError `json:"onPremisesProvisioningErrors,omitempty"`
}

// Contact is a Graph orgContact; only what matching needs is modelled.
type Contact struct {
	ID              string     `json:"id"`
	DisplayName     string     `json:"displayName,omitempty"`
	GivenName       *string    `json:"givenName,omitempty"`
	Surname         *string    `json:"surname,omitempty"`
	Mail            *string    `json:"mail,omitempty"`
	MailNickname    string     `json:"mailNickname,omitempty"`
	ProxyAddresses  []string   `json:"proxyAddresses,omitempty"`
	DeletedDateTime *time.Time `json:"deletedDateTime,omitempty"`
	// OnPremisesImmutableID is the source anchor of a synced contact,
	// kept for matching like a group's.
	OnPremisesImmutableID        *string             `json:"onPremisesImmutableId,omitempty"`
	OnPremisesSyncEnabled        *bool               `json:"onPremisesSyncEnabled,omitempty"`
	OnPremisesLastSyncDateTime   *time.Time          `json:"onPremisesLastSyncDateTime,omitempty"`
	OnPremisesProvisioningErrors []ProvisioningError `json:"onPremisesProvisioningErrors,omitempty"`
}

// RoleDefinition is a unifiedRoleDefinition. Built-in definitions use the
// role's template id as id, as Graph does.
type RoleDefinition struct {
	ID          string `json:"id"`
	TemplateID  string `json:"templateId,omitempty"`
	DisplayName string `json:"displayName"`
	Description string `json:"description,omitempty"`
	IsBuiltIn   bool   `json:"isBuiltIn"`
	IsEnabled   bool   `json:"isEnabled"`
	// IsPrivileged is the tenant's own knowledge of which roles are
	// privileged (Entra labels them; the sync service's hard match
	// protections read it). It is snapshot state only: Graph v1.0 has no
	// such property, so the emulator never serves it there.
	IsPrivileged bool `json:"isPrivileged"`
}

// RoleAssignment is an active unifiedRoleAssignment. Assignments made
// through a PIM schedule request may be time-bound: once EndDateTime has
// passed the assignment is no longer active (Graph drops it from
// roleAssignments and roleAssignmentScheduleInstances). Without
// EndDateTime it is permanent.
type RoleAssignment struct {
	ID               string     `json:"id"`
	PrincipalID      string     `json:"principalId"`
	RoleDefinitionID string     `json:"roleDefinitionId"`
	DirectoryScopeID string     `json:"directoryScopeId"`
	StartDateTime    *time.Time `json:"startDateTime,omitempty"`
	EndDateTime      *time.Time `json:"endDateTime,omitempty"`
	// AssignmentType is "Activated" for a PIM activation of an
	// eligibility; empty means "Assigned".
	AssignmentType string `json:"assignmentType,omitempty"`
}

// RoleEligibility is a PIM eligibility (a unifiedRoleEligibilityScheduleInstance).
type RoleEligibility struct {
	ID               string     `json:"id"`
	PrincipalID      string     `json:"principalId"`
	RoleDefinitionID string     `json:"roleDefinitionId"`
	DirectoryScopeID string     `json:"directoryScopeId"`
	StartDateTime    *time.Time `json:"startDateTime,omitempty"`
	EndDateTime      *time.Time `json:"endDateTime,omitempty"`
}

// SyncState is the tenant's onPremisesDirectorySynchronization object.
type SyncState struct {
	Features      SyncFeatures      `json:"features"`
	Configuration SyncConfiguration `json:"configuration"`
}

// SyncFeatures holds every documented onPremisesDirectorySynchronizationFeature
// flag. Each is a plain bool: Graph returns all of them, false when off.
type SyncFeatures struct {
	AllowOnPremUpdateOfOnPremisesObjectIdentifierEnabled bool `json:"allowOnPremUpdateOfOnPremisesObjectIdentifierEnabled"`
	BlockCloudObjectTakeoverThroughHardMatchEnabled      bool `json:"blockCloudObjectTakeoverThroughHardMatchEnabled"`
	BlockSoftMatchEnabled                                bool `json:"blockSoftMatchEnabled"`
	BypassDirSyncOverridesEnabled                        bool `json:"bypassDirSyncOverridesEnabled"`
	CloudPasswordPolicyForPasswordSyncedUsersEnabled     bool `json:"cloudPasswordPolicyForPasswordSyncedUsersEnabled"`
	ConcurrentCredentialUpdateEnabled                    bool `json:"concurrentCredentialUpdateEnabled"`
	ConcurrentOrgIDProvisioningEnabled                   bool `json:"concurrentOrgIdProvisioningEnabled"`
	DeviceWritebackEnabled                               bool `json:"deviceWritebackEnabled"`
	DirectoryExtensionsEnabled                           bool `json:"directoryExtensionsEnabled"`
	FopeConflictResolutionEnabled                        bool `json:"fopeConflictResolutionEnabled"`
	GroupWriteBackEnabled                                bool `json:"groupWriteBackEnabled"`
	PasswordSyncEnabled                                  bool `json:"passwordSyncEnabled"`
	PasswordWritebackEnabled                             bool `json:"passwordWritebackEnabled"`
	QuarantineUponProxyAddressesConflictEnabled          bool `json:"quarantineUponProxyAddressesConflictEnabled"`
	QuarantineUponUpnConflictEnabled                     bool `json:"quarantineUponUpnConflictEnabled"`
	SoftMatchOnUpnEnabled                                bool `json:"softMatchOnUpnEnabled"`
	SynchronizeUpnForManagedUsersEnabled                 bool `json:"synchronizeUpnForManagedUsersEnabled"`
	UnifiedGroupWritebackEnabled                         bool `json:"unifiedGroupWritebackEnabled"`
	UserForcePasswordChangeOnLogonEnabled                bool `json:"userForcePasswordChangeOnLogonEnabled"`
	UserWritebackEnabled                                 bool `json:"userWritebackEnabled"`
}

// SyncConfiguration is onPremisesDirectorySynchronizationConfiguration.
type SyncConfiguration struct {
	AccidentalDeletionPrevention AccidentalDeletionPrevention `json:"accidentalDeletionPrevention"`
	// SynchronizationInterval and CustomerRequestedSynchronizationInterval
	// are ISO 8601 durations, e.g. "PT30M".
	SynchronizationInterval                  string `json:"synchronizationInterval,omitempty"`
	CustomerRequestedSynchronizationInterval string `json:"customerRequestedSynchronizationInterval,omitempty"`
}

// AccidentalDeletionPrevention settings. SynchronizationPreventionType is
// "disabled", "enabledForCount" or "enabledForPercentage".
type AccidentalDeletionPrevention struct {
	SynchronizationPreventionType string `json:"synchronizationPreventionType"`
	AlertThreshold                int32  `json:"alertThreshold"`
}

// DeletedItems holds soft-deleted objects (Graph keeps them 30 days; the
// emulator keeps them until permanently deleted or restored).
type DeletedItems struct {
	Users    []User    `json:"users,omitempty"`
	Groups   []Group   `json:"groups,omitempty"`
	Contacts []Contact `json:"contacts,omitempty"`
}

// DeepCopy returns an independent copy of s.
func (s Snapshot) DeepCopy() (Snapshot, error) {
	raw, err := json.Marshal(s)
	if err != nil {
		return Snapshot{}, fmt.Errorf("copying snapshot: %w", err)
	}
	var out Snapshot
	if err := json.Unmarshal(raw, &out); err != nil {
		return Snapshot{}, fmt.Errorf("copying snapshot: %w", err)
	}
	return out, nil
}
