package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TLSMode says how the LDAP connection is protected.
// +kubebuilder:validation:Enum=LDAPS;StartTLS;Insecure
type TLSMode string

const (
	// TLSModeLDAPS connects with TLS from the first byte (ldaps://, port 636).
	TLSModeLDAPS TLSMode = "LDAPS"
	// TLSModeStartTLS connects in plain text and upgrades with StartTLS
	// before binding (ldap://, port 389).
	TLSModeStartTLS TLSMode = "StartTLS"
	// TLSModeInsecure sends the bind password in clear text (ldap://). Only
	// for labs; it must be confirmed with tls.insecure: true.
	TLSModeInsecure TLSMode = "Insecure"
)

// AnchorAttribute is the AD attribute whose bytes become the cloud user's
// onPremisesImmutableId (the sourceAnchor).
// +kubebuilder:validation:Enum=Auto;objectGUID;mS-DS-ConsistencyGuid
type AnchorAttribute string

const (
	// AnchorAuto uses mS-DS-ConsistencyGuid when the user has one and
	// objectGUID otherwise, as Entra Connect Sync and Cloud Sync do.
	AnchorAuto AnchorAttribute = "Auto"
	// AnchorObjectGUID always uses objectGUID, as Entra Connect up to 1.1.486 did.
	AnchorObjectGUID AnchorAttribute = "objectGUID"
	// AnchorConsistencyGUID always uses mS-DS-ConsistencyGuid.
	AnchorConsistencyGUID AnchorAttribute = "mS-DS-ConsistencyGuid"
)

// ActiveDirectorySpec says how to reach and bind to an Active Directory domain.
//
// +kubebuilder:validation:XValidation:rule="(has(self.tls) && has(self.tls.mode) && self.tls.mode != 'LDAPS') ? self.urls.all(u, u.startsWith('ldap://')) : self.urls.all(u, u.startsWith('ldaps://'))",message="urls must all use ldaps:// when tls.mode is LDAPS (the default), and ldap:// when tls.mode is StartTLS or Insecure",fieldPath=".urls"
// +kubebuilder:validation:XValidation:rule="!has(self.writeConsistencyGuid) || !self.writeConsistencyGuid || !has(self.anchorAttribute) || self.anchorAttribute != 'objectGUID'",message="writeConsistencyGuid needs anchorAttribute Auto or mS-DS-ConsistencyGuid: with objectGUID as the anchor the written value would never be read",fieldPath=".writeConsistencyGuid"
type ActiveDirectorySpec struct {
	// URLs of the domain controllers, tried in order, e.g.
	// ldaps://dc1.corp.example.com:636. The scheme must agree with tls.mode.
	// +required
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MaxLength=512
	// +kubebuilder:validation:XValidation:rule="self.all(u, u.startsWith('ldaps://') || u.startsWith('ldap://'))",message="every url must start with ldaps:// or ldap://, e.g. ldaps://dc1.corp.example.com:636"
	// +listType=atomic
	URLs []string `json:"urls"`

	// BaseDN is where user searches start, e.g. DC=corp,DC=example,DC=com.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self.contains('=')",message="baseDN must be a distinguished name such as DC=corp,DC=example,DC=com"
	BaseDN string `json:"baseDN"`

	// Bind is the account the operator binds as.
	// +required
	Bind LDAPBind `json:"bind"`

	// TLS protects the connection. When omitted, LDAPS with the system CA roots.
	// +optional
	// +kubebuilder:default={}
	TLS *LDAPTLS `json:"tls,omitempty"`

	// AnchorAttribute is the attribute whose value becomes the cloud user's
	// immutable ID. It must be the one the sync engine (Entra Connect or Cloud
	// Sync) uses, or the engine will not join the matched users.
	// +optional
	// +kubebuilder:default=Auto
	AnchorAttribute AnchorAttribute `json:"anchorAttribute,omitempty"`

	// WriteConsistencyGuid lets the operator copy objectGUID into an empty
	// mS-DS-ConsistencyGuid before matching, as Entra Connect does, so the
	// anchor survives moving the user to another forest. Needs write access
	// to that attribute.
	// +optional
	WriteConsistencyGuid bool `json:"writeConsistencyGuid,omitempty"`

	// ForestUPNSuffixes declares the alternative UPN suffixes the forest must
	// offer (uPNSuffixes on CN=Partitions,CN=Configuration), so that users
	// can be given a UPN in the mail domain and soft-match on it. The
	// operator adds the missing ones and never removes a suffix it did not
	// add.
	// +optional
	ForestUPNSuffixes *ForestUPNSuffixes `json:"forestUPNSuffixes,omitempty"`
}

// ForestUPNSuffixes are alternative UPN suffixes the forest must offer.
type ForestUPNSuffixes struct {
	// Mode Observe (the default) reports the missing suffixes; Enforce adds
	// them, and removes a suffix the operator added once it leaves the list.
	// +optional
	// +kubebuilder:default=Observe
	Mode Mode `json:"mode,omitempty"`

	// Suffixes are DNS names such as contoso.com: the verified domains of the
	// tenant that users should sign in with.
	// +required
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.all(s, s.matches('^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?[.])+[A-Za-z]{2,63}$'))",message="every suffix must be a DNS name such as contoso.com (letters, digits and hyphens, with a dot)"
	// +kubebuilder:validation:XValidation:rule="self.all(s, !s.lowerAscii().endsWith('.local') && !s.lowerAscii().endsWith('.onmicrosoft.com'))",message="a .local or onmicrosoft.com suffix cannot match a verified mail domain in Entra ID: declare the routable domain users sign in with, such as contoso.com"
	// +listType=set
	Suffixes []string `json:"suffixes"`
}

// LDAPBind is a simple-bind account.
type LDAPBind struct {
	// DN is the bind account, as a distinguished name
	// (CN=svc-entramatch,OU=Service,DC=corp,DC=example,DC=com) or a user
	// principal name (svc-entramatch@corp.example.com).
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self.contains('=') || self.contains('@')",message="bind.dn must be a distinguished name (CN=svc,OU=Service,DC=corp,DC=example,DC=com) or a user principal name (svc@corp.example.com)"
	DN string `json:"dn"`

	// PasswordSecretRef is the Secret key holding the bind password.
	// +required
	PasswordSecretRef SecretKeyReference `json:"passwordSecretRef"`
}

// LDAPTLS says how the LDAP connection is protected and which CAs to trust.
//
// +kubebuilder:validation:XValidation:rule="!(has(self.caBundle) && has(self.caSecretRef))",message="set at most one of tls.caBundle and tls.caSecretRef"
// +kubebuilder:validation:XValidation:rule="!has(self.mode) || self.mode != 'Insecure' || (has(self.insecure) && self.insecure)",message="tls.mode Insecure sends the bind password in clear text; confirm it with tls.insecure: true, or use LDAPS or StartTLS",fieldPath=".insecure",reason="FieldValueRequired"
// +kubebuilder:validation:XValidation:rule="!has(self.insecure) || !self.insecure || (has(self.mode) && self.mode == 'Insecure')",message="tls.insecure: true is only meaningful with tls.mode Insecure; remove it",fieldPath=".insecure",reason="FieldValueForbidden"
// +kubebuilder:validation:XValidation:rule="!has(self.mode) || self.mode != 'Insecure' || (!has(self.caBundle) && !has(self.caSecretRef) && !has(self.serverName))",message="tls.caBundle, tls.caSecretRef and tls.serverName have no effect with tls.mode Insecure; remove them"
type LDAPTLS struct {
	// Mode is LDAPS (TLS from the start), StartTLS (upgrade before bind) or
	// Insecure (clear text; needs insecure: true).
	// +optional
	// +kubebuilder:default=LDAPS
	Mode TLSMode `json:"mode,omitempty"`

	// Insecure confirms that tls.mode Insecure is intended.
	// +optional
	Insecure bool `json:"insecure,omitempty"`

	// CABundle is a PEM bundle of CA certificates that sign the domain
	// controllers' certificates. When neither it nor caSecretRef is set, the
	// system roots are used.
	// +optional
	// +kubebuilder:validation:MaxLength=65536
	// +kubebuilder:validation:XValidation:rule="self.contains('-----BEGIN CERTIFICATE-----')",message="tls.caBundle must hold PEM-encoded certificates (-----BEGIN CERTIFICATE----- blocks)"
	CABundle string `json:"caBundle,omitempty"`

	// CASecretRef is a Secret key holding the PEM CA bundle, for clusters
	// that distribute CAs as Secrets.
	// +optional
	CASecretRef *SecretKeyReference `json:"caSecretRef,omitempty"`

	// ServerName overrides the host name checked against the domain
	// controllers' certificates, e.g. when urls use IP addresses.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	ServerName string `json:"serverName,omitempty"`
}

// ActiveDirectoryStatus is what the operator last learned about the domain.
type ActiveDirectoryStatus struct {
	// Conditions: Ready (the operator can bind and search) and Synced (the
	// last reconcile succeeded).
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// ObservedGeneration is the spec generation the status reflects.
	// +optional
	// +kubebuilder:default=0
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// NamingContext is the domain's defaultNamingContext from the RootDSE.
	// +optional
	NamingContext string `json:"namingContext,omitempty"`

	// ConnectedURL is the URL of the domain controller last used.
	// +optional
	ConnectedURL string `json:"connectedURL,omitempty"`

	// UPNSuffixes are the forest's UPN suffixes: its DNS name and the
	// alternative suffixes (uPNSuffixes on CN=Partitions).
	// +optional
	// +listType=set
	UPNSuffixes []string `json:"upnSuffixes,omitempty"`

	// AddedUPNSuffixes are the alternative suffixes the operator added to
	// the forest for spec.forestUPNSuffixes: the only ones it ever removes.
	// +optional
	// +listType=set
	AddedUPNSuffixes []string `json:"addedUPNSuffixes,omitempty"`
}

// ActiveDirectory is an on-premises Active Directory domain the operator reads
// users (and their anchors) from.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=ad,categories=entramatch
// +kubebuilder:printcolumn:name="URL",type=string,JSONPath=`.spec.urls[0]`
// +kubebuilder:printcolumn:name="Anchor",type=string,JSONPath=`.spec.anchorAttribute`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ActiveDirectory struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired directory connection.
	// +required
	Spec ActiveDirectorySpec `json:"spec"`

	// Status is the observed state of the directory connection.
	// +optional
	// Until the operator first reports, it is {observedGeneration: 0},
	// which GitOps tools (kstatus, Flux, Argo CD) read as in progress.
	// +kubebuilder:default={}
	Status ActiveDirectoryStatus `json:"status,omitempty"`
}

// ActiveDirectoryList is a list of ActiveDirectory.
//
// +kubebuilder:object:root=true
type ActiveDirectoryList struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ActiveDirectory `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ActiveDirectory{}, &ActiveDirectoryList{})
}
