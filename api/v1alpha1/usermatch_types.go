package v1alpha1

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// UserDeletionPolicy says what happens in Entra when a UserMatch is deleted.
// +kubebuilder:validation:Enum=Orphan;ClearImmutableId
type UserDeletionPolicy string

const (
	// UserDeletionOrphan leaves the cloud user as it is.
	UserDeletionOrphan UserDeletionPolicy = "Orphan"
	// UserDeletionClearImmutableID clears the onPremisesImmutableId the operator
	// wrote, when the user has not been joined by sync yet (a synced user's
	// immutable ID cannot be changed from the cloud).
	UserDeletionClearImmutableID UserDeletionPolicy = "ClearImmutableId"
)

// PrivilegedRolesPolicy says what to do when the cloud user holds directory
// roles, which make Entra refuse the match.
// +kubebuilder:validation:Enum=Refuse;RemoveAndRestore
type PrivilegedRolesPolicy string

const (
	// PrivilegedRolesRefuse stops with the Blocked condition and leaves the
	// roles alone.
	PrivilegedRolesRefuse PrivilegedRolesPolicy = "Refuse"
	// PrivilegedRolesRemoveAndRestore records the role assignments and
	// eligibilities in status, removes them, lets sync join the user, then
	// adds them back (the workaround Microsoft documents).
	PrivilegedRolesRemoveAndRestore PrivilegedRolesPolicy = "RemoveAndRestore"
)

// DuplicatesPolicy says what to do with cloud objects that sync created for
// the same AD user before the match (quarantined duplicates).
// +kubebuilder:validation:Enum=Report;Delete;Purge
type DuplicatesPolicy string

const (
	// DuplicatesReport lists duplicates in status and changes nothing.
	DuplicatesReport DuplicatesPolicy = "Report"
	// DuplicatesDelete soft-deletes active duplicates (restorable for 30 days).
	DuplicatesDelete DuplicatesPolicy = "Delete"
	// DuplicatesPurge soft-deletes active duplicates and then permanently
	// deletes them from deleted items, which cannot be undone.
	DuplicatesPurge DuplicatesPolicy = "Purge"
)

// UserMatchSpec names one AD user and the cloud user it must be matched to.
//
// +kubebuilder:validation:XValidation:rule="!has(self.maxRoleHoldDuration) || (has(self.privilegedRoles) && self.privilegedRoles == 'RemoveAndRestore')",message="maxRoleHoldDuration is only used with privilegedRoles RemoveAndRestore",fieldPath=".maxRoleHoldDuration",reason="FieldValueForbidden"
// +kubebuilder:validation:XValidation:rule="has(self.cloudUser) == has(oldSelf.cloudUser) && (!has(self.cloudUser) || self.cloudUser == oldSelf.cloudUser)",message="cloudUser is immutable: the first cloud user would keep the immutable ID; delete this UserMatch and create a new one to target another cloud user",fieldPath=".cloudUser"
type UserMatchSpec struct {
	// TenantRef names the EntraTenant that holds the cloud user.
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="tenantRef is immutable: the immutable ID already written would stay behind in the old tenant; delete this UserMatch and create a new one"
	TenantRef TenantReference `json:"tenantRef"`

	// DirectoryRef names the ActiveDirectory that holds the AD user.
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="directoryRef is immutable: the cloud user would be anchored to a user of another directory; delete this UserMatch and create a new one"
	DirectoryRef DirectoryReference `json:"directoryRef"`

	// ADUser identifies the on-premises user by exactly one attribute.
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="adUser is immutable: the cloud user would be re-anchored to another person; delete this UserMatch and create a new one"
	ADUser ADUserSelector `json:"adUser"`

	// CloudUser identifies the existing cloud user. When omitted, the cloud
	// user whose userPrincipalName equals the AD user's is used.
	// +optional
	CloudUser *CloudUserSelector `json:"cloudUser,omitempty"`

	// Mode Enforce writes the immutable ID (and whatever the policies below
	// allow); Observe only reports what would be done.
	// +optional
	// +kubebuilder:default=Enforce
	Mode Mode `json:"mode,omitempty"`

	// DeletionPolicy says what happens in Entra when this object is deleted.
	// +optional
	// +kubebuilder:default=Orphan
	DeletionPolicy UserDeletionPolicy `json:"deletionPolicy,omitempty"`

	// PrivilegedRoles says what to do when the cloud user is assigned or
	// eligible for directory roles, which block the match.
	// +optional
	// +kubebuilder:default=Refuse
	PrivilegedRoles PrivilegedRolesPolicy `json:"privilegedRoles,omitempty"`

	// MaxRoleHoldDuration bounds how long roles stay removed with
	// RemoveAndRestore: when it runs out before sync joins the user, the
	// roles are restored and the match is reported as failed. Example: 2h.
	// Unset means 4h (DefaultMaxRoleHoldDuration); at most 7 days.
	// +optional
	// +kubebuilder:validation:XValidation:rule="duration(self) > duration('0s') && duration(self) <= duration('168h')",message="maxRoleHoldDuration must be positive and at most 168h (7 days), e.g. 2h"
	MaxRoleHoldDuration *metav1.Duration `json:"maxRoleHoldDuration,omitempty"`

	// RestorePermanentOnPolicyRefusal lets a time-bound role come back as a
	// permanent assignment when PIM's policy refuses to give it back with
	// its end date. Off by default: the role is then left removed, with a
	// Warning Event that gives the exact request to restore it by hand.
	// +optional
	RestorePermanentOnPolicyRefusal bool `json:"restorePermanentOnPolicyRefusal,omitempty"`

	// RoleHoldAttempt runs the RemoveAndRestore workflow again when raised
	// above status.roleHoldAttempt, for example after a hold expired
	// (RoleHoldExpired) because no sync cycle ran in time. A new attempt
	// starts only once every role of the previous one is settled, so no
	// recorded role is ever forgotten.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:XValidation:rule="self >= oldSelf",message="roleHoldAttempt can only be raised (raise it by one to try the role workaround again)"
	RoleHoldAttempt int32 `json:"roleHoldAttempt,omitempty"`

	// Duplicates says what to do with cloud objects that sync created for
	// this AD user before the match.
	// +optional
	// +kubebuilder:default=Report
	Duplicates DuplicatesPolicy `json:"duplicates,omitempty"`
}

// ADUserSelector finds one AD user by exactly one attribute.
//
// +kubebuilder:validation:XValidation:rule="[has(self.sAMAccountName), has(self.userPrincipalName), has(self.distinguishedName), has(self.objectGUID), has(self.mail)].exists_one(x, x)",message="adUser must set exactly one of sAMAccountName, userPrincipalName, distinguishedName, objectGUID, mail"
type ADUserSelector struct {
	// SAMAccountName is the pre-Windows 2000 logon name, e.g. jdoe.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=20
	SAMAccountName string `json:"sAMAccountName,omitempty"`

	// UserPrincipalName is the AD logon name, e.g. jdoe@corp.example.com.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:XValidation:rule="self.contains('@')",message="adUser.userPrincipalName must look like name@suffix"
	UserPrincipalName string `json:"userPrincipalName,omitempty"`

	// DistinguishedName is the user's full DN, e.g.
	// CN=Jane Doe,OU=Staff,DC=corp,DC=example,DC=com.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self.contains('=')",message="adUser.distinguishedName must be a DN such as CN=Jane Doe,OU=Staff,DC=corp,DC=example,DC=com"
	DistinguishedName string `json:"distinguishedName,omitempty"`

	// ObjectGUID is the user's objectGUID in its usual string form, e.g.
	// 3ab39606-c642-489b-84b6-58c038d3ef39 (as Get-ADUser prints it).
	// +optional
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="self.matches('^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$')",message="adUser.objectGUID must be a GUID like 3ab39606-c642-489b-84b6-58c038d3ef39, without braces"
	ObjectGUID string `json:"objectGUID,omitempty"`

	// Mail is the user's mail attribute, e.g. jane.doe@example.com.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:XValidation:rule="self.contains('@')",message="adUser.mail must be an e-mail address"
	Mail string `json:"mail,omitempty"`
}

// CloudUserSelector finds one existing cloud user by at most one attribute.
//
// +kubebuilder:validation:XValidation:rule="!(has(self.userPrincipalName) && has(self.objectID))",message="cloudUser may set at most one of userPrincipalName, objectID"
type CloudUserSelector struct {
	// UserPrincipalName of the cloud user, e.g. jane.doe@example.com.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:XValidation:rule="self.contains('@')",message="cloudUser.userPrincipalName must look like name@domain"
	UserPrincipalName string `json:"userPrincipalName,omitempty"`

	// ObjectID is the cloud user's object ID, a GUID.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="self.matches('^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$')",message="cloudUser.objectID must be the user's object ID, a GUID"
	ObjectID string `json:"objectID,omitempty"`
}

// AnchorSource is the AD attribute the immutable ID was computed from.
// +kubebuilder:validation:Enum=objectGUID;mS-DS-ConsistencyGuid
type AnchorSource string

const (
	// AnchorSourceObjectGUID means the immutable ID encodes objectGUID.
	AnchorSourceObjectGUID AnchorSource = "objectGUID"
	// AnchorSourceConsistencyGUID means the immutable ID encodes mS-DS-ConsistencyGuid.
	AnchorSourceConsistencyGUID AnchorSource = "mS-DS-ConsistencyGuid"
)

// ADUserStatus is the AD user as last read.
type ADUserStatus struct {
	// DistinguishedName of the AD user.
	// +optional
	DistinguishedName string `json:"distinguishedName,omitempty"`

	// ObjectGUID of the AD user, in string form.
	// +optional
	ObjectGUID string `json:"objectGUID,omitempty"`

	// UserPrincipalName of the AD user.
	// +optional
	UserPrincipalName string `json:"userPrincipalName,omitempty"`

	// AnchorSource is the attribute the immutable ID was computed from.
	// +optional
	AnchorSource AnchorSource `json:"anchorSource,omitempty"`
}

// CloudUserStatus is the cloud user as last read.
type CloudUserStatus struct {
	// ObjectID of the cloud user.
	// +optional
	ObjectID string `json:"objectID,omitempty"`

	// UserPrincipalName of the cloud user.
	// +optional
	UserPrincipalName string `json:"userPrincipalName,omitempty"`
}

// RoleKind says whether a recorded role was active or PIM-eligible.
// +kubebuilder:validation:Enum=Assignment;Eligibility
type RoleKind string

const (
	// RoleKindAssignment is an active unifiedRoleAssignment.
	RoleKindAssignment RoleKind = "Assignment"
	// RoleKindEligibility is a PIM eligibility (roleEligibilityScheduleInstance).
	RoleKindEligibility RoleKind = "Eligibility"
)

// DefaultMaxRoleHoldDuration is how long roles stay removed at most when
// spec.maxRoleHoldDuration is unset.
const DefaultMaxRoleHoldDuration = 4 * time.Hour

// RecordedRole is a directory role the operator removed and must add back.
// It is written to status before the removal, so a crash never loses it.
type RecordedRole struct {
	// Kind is Assignment or Eligibility.
	// +required
	Kind RoleKind `json:"kind"`

	// RoleDefinitionID is the unifiedRoleDefinition ID (template ID).
	// +required
	RoleDefinitionID string `json:"roleDefinitionID"`

	// RoleName is the role's display name, for people reading the status.
	// +optional
	RoleName string `json:"roleName,omitempty"`

	// DirectoryScopeID is the scope of the assignment, "/" for the tenant.
	// +required
	DirectoryScopeID string `json:"directoryScopeID"`

	// ID of the removed assignment or eligibility schedule instance.
	// +required
	ID string `json:"id"`

	// EndTime is when the original assignment or eligibility was due to end;
	// empty for a permanent one. It is reused when the role is restored.
	// +optional
	EndTime *metav1.Time `json:"endTime,omitempty"`

	// Activation is true for an active assignment that was a PIM activation
	// of an eligibility: it is removed for the match but not re-created (the
	// person activates again through PIM, with its MFA and approval rules).
	// +optional
	Activation bool `json:"activation,omitempty"`

	// Restored is true once the role has been added back.
	// +optional
	Restored bool `json:"restored,omitempty"`

	// NotRestored is true when the role was settled without being added
	// back: its end date passed while it was removed, or it was an
	// activation.
	// +optional
	NotRestored bool `json:"notRestored,omitempty"`
}

// DuplicateLocation says where a duplicate cloud object was found.
// +kubebuilder:validation:Enum=Active;Deleted
type DuplicateLocation string

const (
	// DuplicateLocationActive is an active user.
	DuplicateLocationActive DuplicateLocation = "Active"
	// DuplicateLocationDeleted is a soft-deleted user in deleted items.
	DuplicateLocationDeleted DuplicateLocation = "Deleted"
)

// DuplicateAction is what the operator did with a duplicate.
// +kubebuilder:validation:Enum=Reported;Deleted;Purged
type DuplicateAction string

const (
	// DuplicateActionReported: listed only (policy Report, or Observe mode).
	DuplicateActionReported DuplicateAction = "Reported"
	// DuplicateActionDeleted: moved to deleted items (soft delete).
	DuplicateActionDeleted DuplicateAction = "Deleted"
	// DuplicateActionPurged: permanently deleted.
	DuplicateActionPurged DuplicateAction = "Purged"
)

// DuplicateObject is a cloud user that sync created for the same AD user.
type DuplicateObject struct {
	// ObjectID of the duplicate.
	// +required
	ObjectID string `json:"objectID"`

	// UserPrincipalName of the duplicate, often the quarantined
	// <prefix>+<digits>@<initial domain> form.
	// +optional
	UserPrincipalName string `json:"userPrincipalName,omitempty"`

	// Where the duplicate was found: Active or Deleted.
	// +required
	Where DuplicateLocation `json:"where"`

	// Action is what the operator did with it.
	// +required
	Action DuplicateAction `json:"action"`
}

// UserMatchStatus is the state of the match as last observed.
type UserMatchStatus struct {
	// Conditions: Ready (the users are matched, or sync has joined them),
	// Synced (last reconcile succeeded), AnchorResolved, CloudUserFound,
	// Matched, Blocked, and warnings such as UPNSuffixMismatch.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// ObservedGeneration is the spec generation the status reflects.
	// +optional
	// +kubebuilder:default=0
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// ImmutableID is the value computed from the AD anchor (Base64 of its 16
	// bytes), written to the cloud user's onPremisesImmutableId.
	// +optional
	ImmutableID string `json:"immutableID,omitempty"`

	// AD is the AD user as last read.
	// +optional
	AD *ADUserStatus `json:"ad,omitempty"`

	// Cloud is the cloud user as last read.
	// +optional
	Cloud *CloudUserStatus `json:"cloud,omitempty"`

	// SyncJoined is true once the sync engine has taken over the cloud user
	// (onPremisesSyncEnabled is true and the immutable ID is ours).
	// +optional
	SyncJoined bool `json:"syncJoined,omitempty"`

	// DriftCorrections counts how often the operator rewrote an immutable ID
	// that someone else had changed.
	// +optional
	DriftCorrections int32 `json:"driftCorrections,omitempty"`

	// LastDriftTime is when drift was last detected.
	// +optional
	LastDriftTime *metav1.Time `json:"lastDriftTime,omitempty"`

	// RolesRemovedTime is when the recorded roles were removed; with
	// maxRoleHoldDuration it bounds how long they stay removed.
	// +optional
	RolesRemovedTime *metav1.Time `json:"rolesRemovedTime,omitempty"`

	// RoleHoldAttempt is the spec.roleHoldAttempt the recorded roles belong to.
	// +optional
	RoleHoldAttempt int32 `json:"roleHoldAttempt,omitempty"`

	// RecordedRoles are the roles removed for the match, to be restored.
	// +optional
	// +listType=atomic
	RecordedRoles []RecordedRole `json:"recordedRoles,omitempty"`

	// RecordedRolesSeal is the operator's signature over recordedRoles and
	// the cloud user they belong to, made with a key only the manager holds.
	// A record whose seal does not verify (written or changed by anyone but
	// the operator) is never acted on: nothing is removed or restored from it.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	RecordedRolesSeal string `json:"recordedRolesSeal,omitempty"`

	// DuplicatesFound are cloud users sync created for this AD user.
	// +optional
	// +listType=atomic
	DuplicatesFound []DuplicateObject `json:"duplicatesFound,omitempty"`
}

// UserMatch hard-matches one on-premises AD user to an existing cloud user by
// writing the AD anchor into the cloud user's onPremisesImmutableId, so the
// sync engine joins them instead of creating a duplicate.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=um,categories=entramatch
// +kubebuilder:printcolumn:name="AD User",type=string,JSONPath=`.status.ad.userPrincipalName`
// +kubebuilder:printcolumn:name="Cloud User",type=string,JSONPath=`.status.cloud.userPrincipalName`
// +kubebuilder:printcolumn:name="ImmutableID",type=string,JSONPath=`.status.immutableID`,priority=1
// +kubebuilder:printcolumn:name="Mode",type=string,JSONPath=`.spec.mode`
// +kubebuilder:printcolumn:name="Synced",type=boolean,JSONPath=`.status.syncJoined`,description="Whether the sync engine has joined the cloud user"
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type UserMatch struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired match.
	// +required
	Spec UserMatchSpec `json:"spec"`

	// Status is the observed state of the match.
	// +optional
	// Until the operator first reports, it is {observedGeneration: 0},
	// which GitOps tools (kstatus, Flux, Argo CD) read as in progress.
	// +kubebuilder:default={}
	Status UserMatchStatus `json:"status,omitempty"`
}

// UserMatchList is a list of UserMatch.
//
// +kubebuilder:object:root=true
type UserMatchList struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []UserMatch `json:"items"`
}

func init() {
	SchemeBuilder.Register(&UserMatch{}, &UserMatchList{})
}
