package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// SetDeletionPolicy says what happens to a UserMatchSet's UserMatches when
// the set is deleted.
// +kubebuilder:validation:Enum=Orphan;Delete
type SetDeletionPolicy string

const (
	// SetDeletionOrphan keeps the UserMatches (their owner reference goes).
	SetDeletionOrphan SetDeletionPolicy = "Orphan"
	// SetDeletionDelete deletes them, each with its own deletionPolicy.
	SetDeletionDelete SetDeletionPolicy = "Delete"
)

// PairingRule is one way to find an AD user's cloud user; exactly one of
// its fields is set.
//
// +kubebuilder:validation:XValidation:rule="[has(self.sameUPN), has(self.upnSuffix), has(self.mail), has(self.attribute)].exists_one(x, x)",message="a pairing rule sets exactly one of sameUPN, upnSuffix, mail, attribute"
type PairingRule struct {
	// SameUPN pairs users with the same userPrincipalName.
	// +optional
	SameUPN *SameUPNRule `json:"sameUPN,omitempty"`
	// UPNSuffix pairs jane@from in AD with jane@to in the cloud.
	// +optional
	UPNSuffix *UPNSuffixRule `json:"upnSuffix,omitempty"`
	// Mail pairs users whose mail (or primary SMTP address) is the same.
	// +optional
	Mail *MailRule `json:"mail,omitempty"`
	// Attribute pairs users whose AD attribute equals a cloud property,
	// e.g. employeeID in AD and employeeId in Entra, or sAMAccountName in AD
	// and mailNickname in Entra.
	// +optional
	Attribute *AttributeRule `json:"attribute,omitempty"`
}

// CloudPairingProperty is a cloud user property a pairing rule may read:
// employeeId; mailNickname (the Exchange alias); onPremisesSamAccountName
// (left on users once synced from another forest); or extensionAttribute1
// to extensionAttribute15 (onPremisesExtensionAttributes, Exchange's custom
// attributes, which a migration tool may have stamped).
// +kubebuilder:validation:Enum=employeeId;mailNickname;onPremisesSamAccountName;extensionAttribute1;extensionAttribute2;extensionAttribute3;extensionAttribute4;extensionAttribute5;extensionAttribute6;extensionAttribute7;extensionAttribute8;extensionAttribute9;extensionAttribute10;extensionAttribute11;extensionAttribute12;extensionAttribute13;extensionAttribute14;extensionAttribute15
type CloudPairingProperty string

// AttributeRule pairs on an AD attribute and a cloud property with the
// same value (case-insensitive); an empty value pairs nothing.
type AttributeRule struct {
	// AD is the AD attribute's LDAP name, e.g. employeeID.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^[A-Za-z][A-Za-z0-9-]*$`
	AD string `json:"ad"`
	// Cloud is the cloud user property.
	Cloud CloudPairingProperty `json:"cloud"`
}

// SameUPNRule pairs on equal userPrincipalName (case-insensitive).
type SameUPNRule struct{}

// MailRule pairs on equal mail or primary SMTP address.
type MailRule struct{}

// UPNSuffixRule pairs an AD UPN on one suffix with the cloud UPN with the
// same name on another.
type UPNSuffixRule struct {
	// From is the AD suffix, e.g. contoso.local.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	From string `json:"from"`
	// To is the cloud suffix, e.g. contoso.com.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	To string `json:"to"`
}

// ConfigMapKeyReference names one key of a ConfigMap.
type ConfigMapKeyReference struct {
	// Namespace of the ConfigMap.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace"`
	// Name of the ConfigMap.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
	// Key in the ConfigMap's data.
	// +optional
	// +kubebuilder:default=pairs.csv
	// +kubebuilder:validation:MaxLength=253
	Key string `json:"key,omitempty"`
}

// UserMatchTemplate is what the set's UserMatches are created with.
type UserMatchTemplate struct {
	// Mode of the UserMatches; Enforce by default.
	// +optional
	// +kubebuilder:default=Enforce
	Mode Mode `json:"mode,omitempty"`
	// DeletionPolicy of the UserMatches.
	// +optional
	// +kubebuilder:default=Orphan
	DeletionPolicy UserDeletionPolicy `json:"deletionPolicy,omitempty"`
	// PrivilegedRoles policy of the UserMatches.
	// +optional
	// +kubebuilder:default=Refuse
	PrivilegedRoles PrivilegedRolesPolicy `json:"privilegedRoles,omitempty"`
	// Duplicates policy of the UserMatches.
	// +optional
	// +kubebuilder:default=Report
	Duplicates DuplicatesPolicy `json:"duplicates,omitempty"`
}

// UserMatchSetSpec matches a whole scope of AD users declaratively: it pairs
// each with its cloud user by the rules, and creates a UserMatch for every
// pair that will not soft-match by itself.
//
// +kubebuilder:validation:XValidation:rule="!has(self.scope) || !has(oldSelf.scope) || self.scope == oldSelf.scope || self.mode == 'Observe'",message="scope can only change in Observe: switch mode to Observe, change the scope, review, then Enforce again"
// +kubebuilder:validation:XValidation:rule="(has(self.pairing) && size(self.pairing) > 0) || has(self.pairs)",message="set pairing rules (e.g. sameUPN: {}) or pairs (a ConfigMap of explicit pairs), or both"
type UserMatchSetSpec struct {
	// TenantRef names the EntraTenant.
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="tenantRef is immutable: the set's UserMatches belong to the first tenant; delete the set and create a new one"
	TenantRef TenantReference `json:"tenantRef"`

	// DirectoryRef names the ActiveDirectory.
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="directoryRef is immutable: the set's UserMatches belong to the first directory; delete the set and create a new one"
	DirectoryRef DirectoryReference `json:"directoryRef"`

	// Scope selects the AD users; group membership is a filter such as
	// (memberOf=CN=Migration,OU=Groups,DC=contoso,DC=local).
	// +optional
	Scope *UserScope `json:"scope,omitempty"`

	// Pairing are the rules that find each AD user's cloud user, tried in
	// order: the first that finds exactly one cloud user pairs them. Two
	// candidates, or a cloud user two AD users pair with, are never
	// guessed: reported as ambiguous, nothing created.
	// +optional
	// +kubebuilder:validation:MaxItems=10
	// +listType=atomic
	Pairing []PairingRule `json:"pairing,omitempty"`

	// Pairs names a ConfigMap with explicit pairs, one per line as CSV
	// "adUser,cloudUser" (the AD user by objectGUID, distinguishedName or
	// userPrincipalName; the cloud user by object ID or userPrincipalName),
	// e.g. exported from a migration tool. An explicit pair wins over the
	// rules. The ConfigMap must be in a namespace the operator reads
	// Secrets from.
	// +optional
	Pairs *ConfigMapKeyReference `json:"pairs,omitempty"`

	// Template is what each UserMatch is created with.
	// +optional
	Template UserMatchTemplate `json:"template,omitempty"`

	// Mode Observe (the default) reports what the set would create;
	// Enforce creates the UserMatches.
	// +optional
	// +kubebuilder:default=Observe
	Mode Mode `json:"mode,omitempty"`

	// MaxInFlight bounds how many of the set's UserMatches may be at work
	// at once (created, the anchor not written yet, not Stalled); new ones
	// wait.
	// +optional
	// +kubebuilder:default=10
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000
	MaxInFlight int32 `json:"maxInFlight,omitempty"`

	// Paused stops creating UserMatches; those created go on.
	// +optional
	Paused bool `json:"paused,omitempty"`

	// DeletionPolicy says what happens to the UserMatches when the set is
	// deleted.
	// +optional
	// +kubebuilder:default=Orphan
	DeletionPolicy SetDeletionPolicy `json:"deletionPolicy,omitempty"`
}

// SetPair is one AD user and what the set decided for it.
type SetPair struct {
	// ADUser is the AD user's distinguishedName.
	// +kubebuilder:validation:MaxLength=2048
	ADUser string `json:"adUser"`
	// CloudUser is the paired cloud user's userPrincipalName, if any.
	// +optional
	CloudUser string `json:"cloudUser,omitempty"`
	// Outcome is WillSoftMatch, Joined, NeedsUserMatch, Ambiguous or
	// Unpaired.
	Outcome string `json:"outcome"`
	// Message says why, in a sentence.
	// +kubebuilder:validation:MaxLength=1024
	Message string `json:"message"`
}

// UserMatchSetStatus summarizes the pairs and the UserMatches.
type UserMatchSetStatus struct {
	// Conditions: Ready, Synced, Stalled.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// ObservedGeneration is the spec generation the status reflects.
	// +optional
	// +kubebuilder:default=0
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// InScope is how many AD users the scope selects.
	// +optional
	InScope int32 `json:"inScope"`
	// Pairs is how many of them have exactly one cloud user.
	// +optional
	Pairs int32 `json:"pairs"`
	// WillSoftMatch pairs need nothing: sync will match them by itself.
	// +optional
	WillSoftMatch int32 `json:"willSoftMatch"`
	// NeedsUserMatch pairs need a hard match: a UserMatch each.
	// +optional
	NeedsUserMatch int32 `json:"needsUserMatch"`
	// Ambiguous AD users have several candidates, or share one.
	// +optional
	Ambiguous int32 `json:"ambiguous"`
	// Unpaired AD users have no cloud user: sync will create one.
	// +optional
	Unpaired int32 `json:"unpaired"`
	// UserMatches is how many UserMatches the set owns.
	// +optional
	UserMatches int32 `json:"userMatches"`
	// Matched is how many of them have written the anchor (Matched).
	// +optional
	Matched int32 `json:"matched"`
	// Joined is how many of them sync has joined.
	// +optional
	Joined int32 `json:"joined"`
	// Blocked is how many of them are Stalled (a person must act).
	// +optional
	Blocked int32 `json:"blocked"`
	// InFlight is how many of them are at work.
	// +optional
	InFlight int32 `json:"inFlight"`
	// Attention lists the first pairs that need a person (at most 50):
	// ambiguous, or whose UserMatch is blocked.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=50
	Attention []SetPair `json:"attention,omitempty"`
}

// UserMatchSet matches a whole scope of AD users to their cloud users: it
// pairs them by rules a person writes once, leaves the pairs that will
// soft-match alone, and creates and owns a UserMatch for each of the rest.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=ums,categories=entramatch
// +kubebuilder:printcolumn:name="Mode",type=string,JSONPath=`.spec.mode`
// +kubebuilder:printcolumn:name="In Scope",type=integer,JSONPath=`.status.inScope`
// +kubebuilder:printcolumn:name="Pairs",type=integer,JSONPath=`.status.pairs`
// +kubebuilder:printcolumn:name="Soft",type=integer,JSONPath=`.status.willSoftMatch`
// +kubebuilder:printcolumn:name="UserMatches",type=integer,JSONPath=`.status.userMatches`
// +kubebuilder:printcolumn:name="Matched",type=integer,JSONPath=`.status.matched`
// +kubebuilder:printcolumn:name="Joined",type=integer,JSONPath=`.status.joined`
// +kubebuilder:printcolumn:name="Blocked",type=integer,JSONPath=`.status.blocked`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type UserMatchSet struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired set.
	// +required
	Spec UserMatchSetSpec `json:"spec"`

	// Status is what was paired and created.
	// +optional
	// Until the operator first reports, it is {observedGeneration: 0},
	// which GitOps tools (kstatus, Flux, Argo CD) read as in progress.
	// +kubebuilder:default={}
	Status UserMatchSetStatus `json:"status,omitempty"`
}

// UserMatchSetList is a list of UserMatchSet.
//
// +kubebuilder:object:root=true
type UserMatchSetList struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []UserMatchSet `json:"items"`
}

func init() {
	SchemeBuilder.Register(&UserMatchSet{}, &UserMatchSetList{})
}
