package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// AlignmentDeletionPolicy says what happens to the changed sign-in names
// when a SignInNameAlignment is deleted.
// +kubebuilder:validation:Enum=Keep;Restore
type AlignmentDeletionPolicy string

const (
	// AlignmentDeletionKeep leaves every changed name as it is now.
	AlignmentDeletionKeep AlignmentDeletionPolicy = "Keep"
	// AlignmentDeletionRestore puts every recorded name back (where it still
	// holds the value the operator wrote) before the object goes.
	AlignmentDeletionRestore AlignmentDeletionPolicy = "Restore"
)

// SignInNameAlignmentSpec moves the sign-in names of the AD users in a scope,
// and of the cloud-only users paired with them, onto one verified suffix, so
// that Entra's sync soft-matches them on userPrincipalName by itself.
//
// +kubebuilder:validation:XValidation:rule="(has(self.adSuffixes) ? size(self.adSuffixes) : 0) + (has(self.cloudSuffixes) ? size(self.cloudSuffixes) : 0) > 0",message="set adSuffixes (AD logon names to move, e.g. contoso.local) or cloudSuffixes (cloud sign-in names to move, e.g. contoso.onmicrosoft.com), or both"
// +kubebuilder:validation:XValidation:rule="!(has(self.adSuffixes) && self.adSuffixes.exists(s, s.lowerAscii() == self.targetSuffix.lowerAscii())) && !(has(self.cloudSuffixes) && self.cloudSuffixes.exists(s, s.lowerAscii() == self.targetSuffix.lowerAscii()))",message="targetSuffix must not also be listed in adSuffixes or cloudSuffixes: names are moved from those suffixes onto it"
type SignInNameAlignmentSpec struct {
	// TenantRef names the EntraTenant whose users are paired and renamed.
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="tenantRef is immutable: the recorded changes belong to the first tenant; delete this object (deletionPolicy Restore puts names back) and create a new one"
	TenantRef TenantReference `json:"tenantRef"`

	// DirectoryRef names the ActiveDirectory whose users are in scope.
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="directoryRef is immutable: the recorded changes belong to the first directory; delete this object and create a new one"
	DirectoryRef DirectoryReference `json:"directoryRef"`

	// Scope selects the AD users. Without it, every user under the
	// ActiveDirectory's baseDN is in scope.
	// +optional
	Scope *UserScope `json:"scope,omitempty"`

	// TargetSuffix is the suffix every sign-in name moves to, e.g.
	// contoso.com. It must be a verified domain of the tenant and (for AD
	// logon names) offered by the forest.
	// +required
	// +kubebuilder:validation:MinLength=3
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.matches('^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?([.][A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$')",message="targetSuffix must be a domain name such as contoso.com, without @"
	TargetSuffix string `json:"targetSuffix"`

	// ADSuffixes are the AD logon-name suffixes to move off, e.g.
	// contoso.local: a user in scope whose userPrincipalName ends in one of
	// them gets the same name on targetSuffix. Users on other suffixes are
	// left alone.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=20
	// +kubebuilder:validation:items:MaxLength=253
	// +kubebuilder:validation:items:Pattern=`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$`
	ADSuffixes []string `json:"adSuffixes,omitempty"`

	// CloudSuffixes are the cloud sign-in suffixes to move off, e.g.
	// contoso.onmicrosoft.com: a cloud-only user paired with an AD user in
	// scope (same name before the @, or the same mail) whose
	// userPrincipalName ends in one of them is renamed onto targetSuffix.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=20
	// +kubebuilder:validation:items:MaxLength=253
	// +kubebuilder:validation:items:Pattern=`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$`
	CloudSuffixes []string `json:"cloudSuffixes,omitempty"`

	// Mode Observe (the default) only plans and reports; Enforce writes.
	// +optional
	// +kubebuilder:default=Observe
	Mode Mode `json:"mode,omitempty"`

	// WritesPerMinute bounds how many names are changed per minute, across
	// AD and Entra. Each change is announced by its own Event.
	// +optional
	// +kubebuilder:default=30
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=600
	WritesPerMinute int32 `json:"writesPerMinute,omitempty"`

	// Undo, when true, puts every recorded name back (where it still holds
	// the value the operator wrote) and changes nothing else.
	// +optional
	Undo bool `json:"undo,omitempty"`

	// DeletionPolicy says what happens to the changed names when this object
	// is deleted.
	// +optional
	// +kubebuilder:default=Keep
	DeletionPolicy AlignmentDeletionPolicy `json:"deletionPolicy,omitempty"`
}

// UserScope selects AD users.
type UserScope struct {
	// BaseDN limits the scope to users under this DN, which must lie under
	// the ActiveDirectory's baseDN, e.g. OU=Staff,DC=contoso,DC=local.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self.contains('=')",message="scope.baseDN must be a DN such as OU=Staff,DC=contoso,DC=local"
	BaseDN string `json:"baseDN,omitempty"`

	// Filter is an LDAP filter ANDed with the user filter, e.g.
	// (department=Sales).
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:XValidation:rule="self.startsWith('(') && self.endsWith(')')",message="scope.filter must be an LDAP filter in parentheses, e.g. (department=Sales)"
	Filter string `json:"filter,omitempty"`
}

// NameSide says where a sign-in name lives.
// +kubebuilder:validation:Enum=ActiveDirectory;EntraID
type NameSide string

const (
	// SideActiveDirectory is an AD user's userPrincipalName (logon name).
	SideActiveDirectory NameSide = "ActiveDirectory"
	// SideEntraID is a cloud user's userPrincipalName (sign-in name).
	SideEntraID NameSide = "EntraID"
)

// NameChange is one sign-in name the operator changed (or is about to), kept
// so that it can be undone.
type NameChange struct {
	// Side is where the name lives.
	Side NameSide `json:"side"`
	// Object is the AD user's distinguishedName or the cloud user's object ID.
	// +kubebuilder:validation:MaxLength=2048
	Object string `json:"object"`
	// From is the name before the change.
	// +kubebuilder:validation:MaxLength=1024
	From string `json:"from"`
	// To is the name the operator wrote.
	// +kubebuilder:validation:MaxLength=1024
	To string `json:"to"`
	// Applied is false while the change is only intended (recorded before
	// the write, so that a crash cannot lose it).
	// +optional
	Applied bool `json:"applied,omitempty"`
	// Time is when the change was recorded.
	// +optional
	Time *metav1.Time `json:"time,omitempty"`
	// Seal is the operator's signature over the record: only a sealed
	// record is ever undone, so nobody who may patch the status can make
	// the operator rename a user of their choosing.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	Seal string `json:"seal,omitempty"`
}

// NameRefusal says why one user in scope is not aligned.
type NameRefusal struct {
	// User is the AD user's distinguishedName.
	// +kubebuilder:validation:MaxLength=2048
	User string `json:"user"`
	// Reason is a CamelCase reason (see docs/troubleshooting.md).
	// +kubebuilder:validation:MaxLength=128
	Reason string `json:"reason"`
	// Message says what to do, in a sentence.
	// +kubebuilder:validation:MaxLength=1024
	Message string `json:"message"`
}

// AlignmentCounts summarizes the scope.
type AlignmentCounts struct {
	// InScope is the number of AD users the scope selects.
	InScope int32 `json:"inScope"`
	// Aligned users need no change on either side.
	Aligned int32 `json:"aligned"`
	// Pending users need a change that is planned (Observe) or not made yet
	// (Enforce, rate-limited).
	Pending int32 `json:"pending"`
	// Refused users cannot be aligned; status.refusals says why.
	Refused int32 `json:"refused"`
	// Untouched users are on a suffix neither list names.
	Untouched int32 `json:"untouched"`
	// WillSoftMatch is how many users sync will soft-match to a cloud-only
	// user once aligned (on userPrincipalName or primary SMTP).
	WillSoftMatch int32 `json:"willSoftMatch"`
}

// SignInNameAlignmentStatus is what the operator found and changed.
type SignInNameAlignmentStatus struct {
	// Conditions: Ready, Synced, Aligned, Stalled.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// ObservedGeneration is the spec generation the status reflects.
	// +optional
	// +kubebuilder:default=0
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Counts summarize the last plan.
	// +optional
	Counts *AlignmentCounts `json:"counts,omitempty"`

	// LastPlanTime is when the plan was last computed.
	// +optional
	LastPlanTime *metav1.Time `json:"lastPlanTime,omitempty"`

	// Planned are the first changes the plan would make (Observe) or has
	// still to make (Enforce), at most 50.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=50
	Planned []NameChange `json:"planned,omitempty"`

	// Refusals are the first users that cannot be aligned, at most 50.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=50
	Refusals []NameRefusal `json:"refusals,omitempty"`

	// Changes are the names the operator changed and can undo, at most
	// 2000 per object (split larger scopes by OU or filter).
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=2000
	Changes []NameChange `json:"changes,omitempty"`

	// WindowStart is when the current one-minute window of writes began:
	// at most spec.writesPerMinute writes per window.
	// +optional
	WindowStart *metav1.Time `json:"windowStart,omitempty"`
	// WindowWrites is how many writes the current window has made.
	// +optional
	WindowWrites int32 `json:"windowWrites,omitempty"`
}

// SignInNameAlignment makes soft matching work by itself: it moves AD logon
// names (userPrincipalName) and the sign-in names of the paired cloud-only
// users onto a verified suffix, recording every change so it can be undone.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=sna,categories=entramatch
// +kubebuilder:printcolumn:name="Target",type=string,JSONPath=`.spec.targetSuffix`
// +kubebuilder:printcolumn:name="Mode",type=string,JSONPath=`.spec.mode`
// +kubebuilder:printcolumn:name="In Scope",type=integer,JSONPath=`.status.counts.inScope`
// +kubebuilder:printcolumn:name="Aligned",type=integer,JSONPath=`.status.counts.aligned`
// +kubebuilder:printcolumn:name="Pending",type=integer,JSONPath=`.status.counts.pending`
// +kubebuilder:printcolumn:name="Refused",type=integer,JSONPath=`.status.counts.refused`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type SignInNameAlignment struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired alignment.
	// +required
	Spec SignInNameAlignmentSpec `json:"spec"`

	// Status is what was found and changed.
	// +optional
	// Until the operator first reports, it is {observedGeneration: 0},
	// which GitOps tools (kstatus, Flux, Argo CD) read as in progress.
	// +kubebuilder:default={}
	Status SignInNameAlignmentStatus `json:"status,omitempty"`
}

// SignInNameAlignmentList is a list of SignInNameAlignment.
//
// +kubebuilder:object:root=true
type SignInNameAlignmentList struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []SignInNameAlignment `json:"items"`
}

func init() {
	SchemeBuilder.Register(&SignInNameAlignment{}, &SignInNameAlignmentList{})
}
