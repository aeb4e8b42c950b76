package v1alpha1

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// SyncFeatureFlags are the booleans of Graph's
// onPremisesDirectorySynchronizationFeature, under the same JSON names. A nil
// flag is left as the tenant has it.
type SyncFeatureFlags struct {
	// AllowOnPremUpdateOfOnPremisesObjectIdentifierEnabled lets sync remap a
	// cloud user whose onPremisesObjectIdentifier is already set (a temporary
	// tenant-wide bypass of the hard-match protection).
	// +optional
	AllowOnPremUpdateOfOnPremisesObjectIdentifierEnabled *bool `json:"allowOnPremUpdateOfOnPremisesObjectIdentifierEnabled,omitempty"`

	// BlockCloudObjectTakeoverThroughHardMatchEnabled stops hard matches from
	// taking over cloud-managed users. Keep it on except during a matching window.
	// +optional
	BlockCloudObjectTakeoverThroughHardMatchEnabled *bool `json:"blockCloudObjectTakeoverThroughHardMatchEnabled,omitempty"`

	// BlockSoftMatchEnabled stops soft matching (on primary SMTP address and
	// UPN). Keep it on except during a matching window.
	// +optional
	BlockSoftMatchEnabled *bool `json:"blockSoftMatchEnabled,omitempty"`

	// BypassDirSyncOverridesEnabled lets cloud changes to mobile phone and
	// alternate mobile phone survive sync.
	// +optional
	BypassDirSyncOverridesEnabled *bool `json:"bypassDirSyncOverridesEnabled,omitempty"`

	// CloudPasswordPolicyForPasswordSyncedUsersEnabled applies the cloud
	// password expiry policy to password-hash-synced users.
	// +optional
	CloudPasswordPolicyForPasswordSyncedUsersEnabled *bool `json:"cloudPasswordPolicyForPasswordSyncedUsersEnabled,omitempty"`

	// ConcurrentCredentialUpdateEnabled lets credentials be updated concurrently.
	// +optional
	ConcurrentCredentialUpdateEnabled *bool `json:"concurrentCredentialUpdateEnabled,omitempty"`

	// ConcurrentOrgIdProvisioningEnabled lets users be provisioned concurrently.
	// +optional
	ConcurrentOrgIdProvisioningEnabled *bool `json:"concurrentOrgIdProvisioningEnabled,omitempty"`

	// DeviceWritebackEnabled writes devices back to AD.
	// +optional
	DeviceWritebackEnabled *bool `json:"deviceWritebackEnabled,omitempty"`

	// DirectoryExtensionsEnabled syncs directory extension attributes.
	// +optional
	DirectoryExtensionsEnabled *bool `json:"directoryExtensionsEnabled,omitempty"`

	// FopeConflictResolutionEnabled resolves Forefront Online Protection for
	// Exchange conflicts.
	// +optional
	FopeConflictResolutionEnabled *bool `json:"fopeConflictResolutionEnabled,omitempty"`

	// GroupWriteBackEnabled writes groups back to AD.
	// +optional
	GroupWriteBackEnabled *bool `json:"groupWriteBackEnabled,omitempty"`

	// PasswordSyncEnabled is password hash synchronization.
	// +optional
	PasswordSyncEnabled *bool `json:"passwordSyncEnabled,omitempty"`

	// PasswordWritebackEnabled is documented as not in use and not updatable;
	// it is only ever reported, never written.
	// +optional
	PasswordWritebackEnabled *bool `json:"passwordWritebackEnabled,omitempty"`

	// QuarantineUponProxyAddressesConflictEnabled quarantines a proxy address
	// that collides with another object's.
	// +optional
	QuarantineUponProxyAddressesConflictEnabled *bool `json:"quarantineUponProxyAddressesConflictEnabled,omitempty"`

	// QuarantineUponUpnConflictEnabled quarantines a UPN that collides with
	// another object's.
	// +optional
	QuarantineUponUpnConflictEnabled *bool `json:"quarantineUponUpnConflictEnabled,omitempty"`

	// SoftMatchOnUpnEnabled lets soft matching fall back to the UPN. Once on
	// it cannot be turned off.
	// +optional
	SoftMatchOnUpnEnabled *bool `json:"softMatchOnUpnEnabled,omitempty"`

	// SynchronizeUpnForManagedUsersEnabled syncs UPN changes of managed,
	// licensed users. Once on it cannot be turned off.
	// +optional
	SynchronizeUpnForManagedUsersEnabled *bool `json:"synchronizeUpnForManagedUsersEnabled,omitempty"`

	// UnifiedGroupWritebackEnabled writes Microsoft 365 groups back to AD.
	// +optional
	UnifiedGroupWritebackEnabled *bool `json:"unifiedGroupWritebackEnabled,omitempty"`

	// UserForcePasswordChangeOnLogonEnabled syncs "must change password at
	// next logon" to the cloud.
	// +optional
	UserForcePasswordChangeOnLogonEnabled *bool `json:"userForcePasswordChangeOnLogonEnabled,omitempty"`

	// UserWritebackEnabled writes users back to AD.
	// +optional
	UserWritebackEnabled *bool `json:"userWritebackEnabled,omitempty"`
}

// SynchronizationPreventionType is Graph's onPremisesDirectorySynchronizationDeletionPreventionType.
// +kubebuilder:validation:Enum=disabled;enabledForCount;enabledForPercentage
type SynchronizationPreventionType string

const (
	// PreventionDisabled turns accidental deletion prevention off.
	PreventionDisabled SynchronizationPreventionType = "disabled"
	// PreventionEnabledForCount stops an export that deletes more than
	// alertThreshold objects.
	PreventionEnabledForCount SynchronizationPreventionType = "enabledForCount"
	// PreventionEnabledForPercentage stops an export that deletes more than
	// alertThreshold percent of the objects.
	PreventionEnabledForPercentage SynchronizationPreventionType = "enabledForPercentage"
)

// AccidentalDeletionPrevention is the tenant's guard against mass deletions by sync.
//
// +kubebuilder:validation:XValidation:rule="self.synchronizationPreventionType == 'disabled' || has(self.alertThreshold)",message="alertThreshold is required when synchronizationPreventionType is enabledForCount or enabledForPercentage",fieldPath=".alertThreshold",reason="FieldValueRequired"
// +kubebuilder:validation:XValidation:rule="self.synchronizationPreventionType != 'enabledForPercentage' || !has(self.alertThreshold) || self.alertThreshold <= 100",message="alertThreshold is a percentage with enabledForPercentage and cannot exceed 100",fieldPath=".alertThreshold"
type AccidentalDeletionPrevention struct {
	// SynchronizationPreventionType is disabled, enabledForCount or enabledForPercentage.
	// +required
	SynchronizationPreventionType SynchronizationPreventionType `json:"synchronizationPreventionType"`

	// AlertThreshold is the number (or percentage) of deletions in one export
	// above which sync stops.
	// +optional
	// +kubebuilder:validation:Minimum=1
	AlertThreshold *int32 `json:"alertThreshold,omitempty"`
}

// ObservedAccidentalDeletionPrevention is the deletion guard as Graph returned
// it. Unlike the spec form it is not validated, so that any value Graph sends
// (such as unknownFutureValue, or a zero threshold) can be reported.
type ObservedAccidentalDeletionPrevention struct {
	// SynchronizationPreventionType as Graph returned it.
	// +optional
	SynchronizationPreventionType string `json:"synchronizationPreventionType,omitempty"`

	// AlertThreshold as Graph returned it.
	// +optional
	AlertThreshold *int32 `json:"alertThreshold,omitempty"`
}

// SyncFeature is the JSON name of one flag of SyncFeatureFlags.
type SyncFeature string

// The SyncFeature names, identical to Graph's property names.
const (
	FeatureAllowOnPremUpdateOfOnPremisesObjectIdentifier SyncFeature = "allowOnPremUpdateOfOnPremisesObjectIdentifierEnabled"
	FeatureBlockCloudObjectTakeoverThroughHardMatch      SyncFeature = "blockCloudObjectTakeoverThroughHardMatchEnabled"
	FeatureBlockSoftMatch                                SyncFeature = "blockSoftMatchEnabled"
	FeatureBypassDirSyncOverrides                        SyncFeature = "bypassDirSyncOverridesEnabled"
	FeatureCloudPasswordPolicyForPasswordSyncedUsers     SyncFeature = "cloudPasswordPolicyForPasswordSyncedUsersEnabled"
	FeatureConcurrentCredentialUpdate                    SyncFeature = "concurrentCredentialUpdateEnabled"
	FeatureConcurrentOrgIdProvisioning                   SyncFeature = "concurrentOrgIdProvisioningEnabled"
	FeatureDeviceWriteback                               SyncFeature = "deviceWritebackEnabled"
	FeatureDirectoryExtensions                           SyncFeature = "directoryExtensionsEnabled"
	FeatureFopeConflictResolution                        SyncFeature = "fopeConflictResolutionEnabled"
	FeatureGroupWriteBack                                SyncFeature = "groupWriteBackEnabled"
	FeaturePasswordSync                                  SyncFeature = "passwordSyncEnabled"
	FeaturePasswordWriteback                             SyncFeature = "passwordWritebackEnabled"
	FeatureQuarantineUponProxyAddressesConflict          SyncFeature = "quarantineUponProxyAddressesConflictEnabled"
	FeatureQuarantineUponUpnConflict                     SyncFeature = "quarantineUponUpnConflictEnabled"
	FeatureSoftMatchOnUpn                                SyncFeature = "softMatchOnUpnEnabled"
	FeatureSynchronizeUpnForManagedUsers                 SyncFeature = "synchronizeUpnForManagedUsersEnabled"
	FeatureUnifiedGroupWriteback                         SyncFeature = "unifiedGroupWritebackEnabled"
	FeatureUserForcePasswordChangeOnLogon                SyncFeature = "userForcePasswordChangeOnLogonEnabled"
	FeatureUserWriteback                                 SyncFeature = "userWritebackEnabled"
)

// WindowFeature is a flag a matching window may change: every SyncFeature
// except passwordWritebackEnabled, which is not updatable.
// +kubebuilder:validation:Enum=allowOnPremUpdateOfOnPremisesObjectIdentifierEnabled;blockCloudObjectTakeoverThroughHardMatchEnabled;blockSoftMatchEnabled;bypassDirSyncOverridesEnabled;cloudPasswordPolicyForPasswordSyncedUsersEnabled;concurrentCredentialUpdateEnabled;concurrentOrgIdProvisioningEnabled;deviceWritebackEnabled;directoryExtensionsEnabled;fopeConflictResolutionEnabled;groupWriteBackEnabled;passwordSyncEnabled;quarantineUponProxyAddressesConflictEnabled;quarantineUponUpnConflictEnabled;softMatchOnUpnEnabled;synchronizeUpnForManagedUsersEnabled;unifiedGroupWritebackEnabled;userForcePasswordChangeOnLogonEnabled;userWritebackEnabled
type WindowFeature string

// MatchingWindow temporarily overrides one flag, typically to turn a block
// flag off while users are matched. Exactly one of until and duration is set.
//
// +kubebuilder:validation:XValidation:rule="has(self.until) != has(self.duration)",message="a matching window must set exactly one of until and duration"
// +kubebuilder:validation:XValidation:rule="!(self.feature in ['softMatchOnUpnEnabled', 'synchronizeUpnForManagedUsersEnabled']) || self.value",message="softMatchOnUpnEnabled and synchronizeUpnForManagedUsersEnabled cannot be turned off once enabled in Microsoft Entra ID; a window can only set them to true",fieldPath=".value"
type MatchingWindow struct {
	// Name identifies the window, e.g. wave-3-hard-match.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Name string `json:"name"`

	// Feature is the flag the window overrides.
	// +required
	Feature WindowFeature `json:"feature"`

	// Value the flag has while the window is open.
	// +required
	Value bool `json:"value"`

	// Until closes the window at this time (RFC 3339). A window stays open
	// at most MaxWindowDuration (7 days) from when it opened, whatever
	// until says.
	// +optional
	Until *metav1.Time `json:"until,omitempty"`

	// Duration closes the window this long after it opened, e.g. 2h; at
	// most 168h (7 days).
	// +optional
	// +kubebuilder:validation:XValidation:rule="duration(self) > duration('0s') && duration(self) <= duration('168h')",message="duration must be positive and at most 168h (7 days), e.g. 2h"
	Duration *metav1.Duration `json:"duration,omitempty"`
}

// MaxWindowDuration is the longest a matching window stays open: a block
// flag turned off must come back even if until was set far ahead.
const MaxWindowDuration = 7 * 24 * time.Hour

// FeatureDeletionPolicy says what happens to the tenant's flags when the
// TenantSyncFeatures object is deleted.
// +kubebuilder:validation:Enum=Leave;RestoreOriginal
type FeatureDeletionPolicy string

const (
	// FeatureDeletionLeave keeps the flags as they are.
	FeatureDeletionLeave FeatureDeletionPolicy = "Leave"
	// FeatureDeletionRestoreOriginal writes back the values recorded in
	// status.original before the first change.
	FeatureDeletionRestoreOriginal FeatureDeletionPolicy = "RestoreOriginal"
)

// TenantSyncFeaturesSpec declares the tenant-wide sync flags.
type TenantSyncFeaturesSpec struct {
	// TenantRef names the EntraTenant whose flags are managed. One
	// TenantSyncFeatures per tenant.
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="tenantRef is immutable: the flags already changed would stay behind in the old tenant; delete this object and create a new one"
	TenantRef TenantReference `json:"tenantRef"`

	// Features are the desired flags; omitted flags are left as they are.
	// +optional
	// +kubebuilder:validation:XValidation:rule="!has(self.softMatchOnUpnEnabled) || self.softMatchOnUpnEnabled",message="softMatchOnUpnEnabled cannot be turned off once enabled in Microsoft Entra ID; remove it or set it to true",fieldPath=".softMatchOnUpnEnabled"
	// +kubebuilder:validation:XValidation:rule="!has(self.synchronizeUpnForManagedUsersEnabled) || self.synchronizeUpnForManagedUsersEnabled",message="synchronizeUpnForManagedUsersEnabled cannot be turned off once enabled in Microsoft Entra ID; remove it or set it to true",fieldPath=".synchronizeUpnForManagedUsersEnabled"
	// +kubebuilder:validation:XValidation:rule="!has(self.passwordWritebackEnabled)",message="passwordWritebackEnabled is not updatable in Microsoft Graph; remove it",fieldPath=".passwordWritebackEnabled",reason="FieldValueForbidden"
	Features *SyncFeatureFlags `json:"features,omitempty"`

	// AccidentalDeletionPrevention is the desired deletion guard; omitted
	// means left as it is.
	// +optional
	AccidentalDeletionPrevention *AccidentalDeletionPrevention `json:"accidentalDeletionPrevention,omitempty"`

	// MatchingWindows temporarily override flags, at most one window per flag.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=20
	// +kubebuilder:validation:XValidation:rule="self.all(w, self.exists_one(x, x.feature == w.feature))",message="at most one matching window per feature: overlapping windows would fight over the flag; remove or merge the older one"
	MatchingWindows []MatchingWindow `json:"matchingWindows,omitempty"`

	// Mode Enforce writes the flags; Observe only reports differences.
	// +optional
	// +kubebuilder:default=Enforce
	Mode Mode `json:"mode,omitempty"`

	// DeletionPolicy says what happens to the flags when this object is deleted.
	// +optional
	// +kubebuilder:default=Leave
	DeletionPolicy FeatureDeletionPolicy `json:"deletionPolicy,omitempty"`
}

// FeatureDifference is a flag whose tenant value differs from the desired one.
type FeatureDifference struct {
	// Feature is the flag's name.
	// +required
	Feature SyncFeature `json:"feature"`

	// Desired is the value from spec (or an open window).
	// +required
	Desired bool `json:"desired"`

	// Actual is the tenant's value; absent when Graph did not return it.
	// +optional
	Actual *bool `json:"actual,omitempty"`
}

// WindowState is where a matching window is in its life.
// +kubebuilder:validation:Enum=Pending;Active;Expired
type WindowState string

const (
	// WindowPending has not been applied yet.
	WindowPending WindowState = "Pending"
	// WindowActive is applied and not expired.
	WindowActive WindowState = "Active"
	// WindowExpired has ended; the flag went back to its spec value.
	WindowExpired WindowState = "Expired"
)

// WindowStatus is the state of one matching window.
type WindowStatus struct {
	// Name of the window in spec.
	// +required
	Name string `json:"name"`

	// Feature the window overrides.
	// +required
	Feature SyncFeature `json:"feature"`

	// Value the window sets.
	// +required
	Value bool `json:"value"`

	// ActiveSince is when the window was first applied.
	// +optional
	ActiveSince *metav1.Time `json:"activeSince,omitempty"`

	// ExpiresAt is when the window closes.
	// +optional
	ExpiresAt *metav1.Time `json:"expiresAt,omitempty"`

	// PreviousValue is the tenant's value of the flag just before the window
	// opened. When the window closes and spec.features does not set the flag,
	// the flag goes back to this value.
	// +optional
	PreviousValue *bool `json:"previousValue,omitempty"`

	// State is Pending, Active or Expired.
	// +required
	State WindowState `json:"state"`
}

// SyncAccess is how the operator reaches a tenant's synchronization settings.
// +kubebuilder:validation:Enum=Application;Delegated
type SyncAccess string

const (
	// SyncAccessApplication is app-only access with the EntraTenant's credential.
	SyncAccessApplication SyncAccess = "Application"
	// SyncAccessDelegated is a Global Administrator's delegated sign-in.
	SyncAccessDelegated SyncAccess = "Delegated"
)

// TenantSyncFeaturesStatus is the tenant's flags as last read and what the
// operator did about them.
type TenantSyncFeaturesStatus struct {
	// Conditions: Ready (the tenant's flags are as desired), Synced (the last
	// reconcile succeeded).
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// ObservedGeneration is the spec generation the status reflects.
	// +optional
	// +kubebuilder:default=0
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Access is the kind of access the last pass used: Application (the
	// EntraTenant's app credential) or Delegated (its spec.delegated
	// sign-in).
	// +optional
	Access SyncAccess `json:"access,omitempty"`

	// Observed are the flags as last read from Graph.
	// +optional
	Observed *SyncFeatureFlags `json:"observed,omitempty"`

	// ObservedAccidentalDeletionPrevention is the deletion guard as last read.
	// +optional
	ObservedAccidentalDeletionPrevention *ObservedAccidentalDeletionPrevention `json:"observedAccidentalDeletionPrevention,omitempty"`

	// Differences are the flags whose tenant value differs from the desired one.
	// +optional
	// +listType=map
	// +listMapKey=feature
	Differences []FeatureDifference `json:"differences,omitempty"`

	// Original are the flags before the operator first changed them, for
	// deletionPolicy RestoreOriginal.
	// +optional
	Original *SyncFeatureFlags `json:"original,omitempty"`

	// LastCorrectionTime is when the operator last wrote the flags.
	// +optional
	LastCorrectionTime *metav1.Time `json:"lastCorrectionTime,omitempty"`

	// Corrections counts the writes of the flags.
	// +optional
	Corrections int64 `json:"corrections,omitempty"`

	// Windows are the states of the matching windows.
	// +optional
	// +listType=map
	// +listMapKey=name
	Windows []WindowStatus `json:"windows,omitempty"`
}

// TenantSyncFeatures keeps a tenant's directory synchronization flags (such as
// the soft- and hard-match blocks) at their declared values, and opens
// time-boxed matching windows.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=tsf,categories=entramatch
// +kubebuilder:printcolumn:name="Tenant",type=string,JSONPath=`.spec.tenantRef.name`
// +kubebuilder:printcolumn:name="BlockSoftMatch",type=boolean,JSONPath=`.status.observed.blockSoftMatchEnabled`
// +kubebuilder:printcolumn:name="BlockHardMatchTakeover",type=boolean,JSONPath=`.status.observed.blockCloudObjectTakeoverThroughHardMatchEnabled`
// +kubebuilder:printcolumn:name="Mode",type=string,JSONPath=`.spec.mode`
// +kubebuilder:printcolumn:name="Access",type=string,JSONPath=`.status.access`,priority=1
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type TenantSyncFeatures struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired flags.
	// +required
	Spec TenantSyncFeaturesSpec `json:"spec"`

	// Status is the observed flags.
	// +optional
	// Until the operator first reports, it is {observedGeneration: 0},
	// which GitOps tools (kstatus, Flux, Argo CD) read as in progress.
	// +kubebuilder:default={}
	Status TenantSyncFeaturesStatus `json:"status,omitempty"`
}

// TenantSyncFeaturesList is a list of TenantSyncFeatures.
//
// +kubebuilder:object:root=true
type TenantSyncFeaturesList struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []TenantSyncFeatures `json:"items"`
}

func init() {
	SchemeBuilder.Register(&TenantSyncFeatures{}, &TenantSyncFeaturesList{})
}
