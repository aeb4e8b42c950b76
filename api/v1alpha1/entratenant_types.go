package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// CloudName selects the Microsoft cloud (national cloud) that hosts a tenant.
// +kubebuilder:validation:Enum=Public;USGov;USGovDoD;China;Custom
type CloudName string

const (
	// CloudPublic is the global Azure cloud (login.microsoftonline.com, graph.microsoft.com).
	CloudPublic CloudName = "Public"
	// CloudUSGov is Azure Government (GCC High; login.microsoftonline.us, graph.microsoft.us).
	CloudUSGov CloudName = "USGov"
	// CloudUSGovDoD is Azure Government for the US Department of Defense (dod-graph.microsoft.us).
	CloudUSGovDoD CloudName = "USGovDoD"
	// CloudChina is Azure operated by 21Vianet (login.chinacloudapi.cn, microsoftgraph.chinacloudapi.cn).
	CloudChina CloudName = "China"
	// CloudCustom takes its endpoints from spec.custom, e.g. for an emulator or a sovereign cloud.
	CloudCustom CloudName = "Custom"
)

// EntraTenantSpec says which Microsoft Entra tenant to talk to and how to sign in.
//
// +kubebuilder:validation:XValidation:rule="!has(self.cloud) || self.cloud != 'Custom' || has(self.custom)",message="cloud Custom needs spec.custom with graphURL and authorityURL",fieldPath=".custom",reason="FieldValueRequired"
// +kubebuilder:validation:XValidation:rule="!has(self.custom) || (has(self.cloud) && self.cloud == 'Custom')",message="custom may only be set when cloud is Custom: the endpoints of the other clouds are built in",fieldPath=".custom",reason="FieldValueForbidden"
type EntraTenantSpec struct {
	// TenantID is the directory (tenant) ID of the Microsoft Entra tenant, a GUID
	// such as 72f988bf-86f1-41af-91ab-2d7cd011db47 (not a domain name).
	// +required
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="self.matches('^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$')",message="tenantID must be the tenant's directory ID, a GUID like 72f988bf-86f1-41af-91ab-2d7cd011db47, not a domain name"
	TenantID string `json:"tenantID"`

	// Cloud is the Microsoft cloud that hosts the tenant. Custom reads the
	// endpoints from spec.custom.
	// +optional
	// +kubebuilder:default=Public
	Cloud CloudName `json:"cloud,omitempty"`

	// Custom holds the endpoints of a cloud that is not built in. Required when
	// cloud is Custom and forbidden otherwise.
	// +optional
	Custom *CustomCloud `json:"custom,omitempty"`

	// Credentials of the application (service principal) the operator signs in
	// as. Exactly one method must be set.
	// +required
	Credentials TenantCredentials `json:"credentials"`

	// Delegated points at a Secret where the operator caches a refresh token of
	// a signed-in administrator, for the Graph calls that do not accept
	// application permissions (tenant synchronization features). Optional: without it
	// those calls are made with the application credentials.
	// +optional
	Delegated *DelegatedCredentials `json:"delegated,omitempty"`
}

// CustomCloud holds the endpoints of a cloud that is not built in.
type CustomCloud struct {
	// GraphURL is the service root of Microsoft Graph, without the API
	// version, e.g. https://graph.microsoft.com. The operator appends /v1.0
	// unless the URL already ends in /v1.0; any other version is refused.
	// +required
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && url(self).getScheme() == 'https'",message="graphURL must be an https:// URL such as https://graph.microsoft.com"
	GraphURL string `json:"graphURL"`

	// AuthorityURL is the base URL of the token authority, without the tenant,
	// e.g. https://login.microsoftonline.com.
	// +required
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && url(self).getScheme() == 'https'",message="authorityURL must be an https:// URL such as https://login.microsoftonline.com"
	AuthorityURL string `json:"authorityURL"`

	// CABundle is a PEM bundle of CA certificates trusted for both endpoints, in
	// addition to the system roots. It is given inline rather than by reference
	// because CA certificates are public and the tenant then carries everything
	// needed to reach its endpoints.
	// +optional
	// +kubebuilder:validation:MaxLength=65536
	// +kubebuilder:validation:XValidation:rule="self.contains('-----BEGIN CERTIFICATE-----')",message="caBundle must hold PEM-encoded certificates (-----BEGIN CERTIFICATE----- blocks)"
	CABundle string `json:"caBundle,omitempty"`
}

// TenantCredentials holds exactly one way for the operator's application to
// obtain tokens.
//
// +kubebuilder:validation:XValidation:rule="[has(self.clientSecret), has(self.clientCertificate), has(self.workloadIdentity)].exists_one(x, x)",message="credentials must set exactly one of clientSecret, clientCertificate, workloadIdentity"
type TenantCredentials struct {
	// ClientSecret signs in with the application's client secret.
	// +optional
	ClientSecret *ClientSecretCredential `json:"clientSecret,omitempty"`

	// ClientCertificate signs in with a certificate registered on the application.
	// +optional
	ClientCertificate *ClientCertificateCredential `json:"clientCertificate,omitempty"`

	// WorkloadIdentity signs in with a federated Kubernetes service account
	// token (Microsoft Entra Workload ID), so no secret is stored in the cluster.
	// +optional
	WorkloadIdentity *WorkloadIdentityCredential `json:"workloadIdentity,omitempty"`
}

// ClientID is the application (client) ID of whichever credential is set.
func (c TenantCredentials) ClientID() string {
	switch {
	case c.ClientSecret != nil:
		return c.ClientSecret.ClientID
	case c.ClientCertificate != nil:
		return c.ClientCertificate.ClientID
	case c.WorkloadIdentity != nil:
		return c.WorkloadIdentity.ClientID
	}
	return ""
}

// ClientSecretCredential is an application ID with its client secret.
type ClientSecretCredential struct {
	// ClientID is the application (client) ID, a GUID.
	// +required
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="self.matches('^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$')",message="clientID must be the application (client) ID, a GUID like 00000000-0000-0000-0000-000000000000"
	ClientID string `json:"clientID"`

	// SecretRef is the Secret key that holds the client secret value.
	// +required
	SecretRef SecretKeyReference `json:"secretRef"`
}

// ClientCertificateCredential is an application ID with a certificate and its
// private key.
type ClientCertificateCredential struct {
	// ClientID is the application (client) ID, a GUID.
	// +required
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="self.matches('^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$')",message="clientID must be the application (client) ID, a GUID like 00000000-0000-0000-0000-000000000000"
	ClientID string `json:"clientID"`

	// SecretRef is the Secret that holds the certificate and its unencrypted
	// private key. Without a key, the Secret's tls.crt and tls.key are read (a
	// kubernetes.io/tls Secret); with a key, that one value must be a PEM
	// bundle holding both the certificate and the private key.
	// +required
	SecretRef CertificateSecretReference `json:"secretRef"`

	// SendCertificateChain sends the certificate chain (x5c) with each token
	// request, as subject name / issuer authentication requires.
	// +optional
	SendCertificateChain bool `json:"sendCertificateChain,omitempty"`
}

// CertificateSecretReference points at a Secret holding a certificate and key.
type CertificateSecretReference struct {
	// Name of the Secret.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Name string `json:"name"`

	// Namespace of the Secret.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Namespace string `json:"namespace"`

	// Key of a single PEM value holding both certificate and private key. When
	// omitted, the keys tls.crt and tls.key are used.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
	Key string `json:"key,omitempty"`
}

// WorkloadIdentityCredential exchanges a projected service account token for an
// Entra token through a federated identity credential on the application.
type WorkloadIdentityCredential struct {
	// ClientID is the application (client) ID, a GUID.
	// +required
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="self.matches('^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$')",message="clientID must be the application (client) ID, a GUID like 00000000-0000-0000-0000-000000000000"
	ClientID string `json:"clientID"`

	// TokenFile is the absolute path, inside the operator's pod, of the
	// projected service account token. The default is where the Azure
	// Workload Identity webhook mounts it.
	// +optional
	// +kubebuilder:default="/var/run/secrets/azure/tokens/azure-identity-token"
	// +kubebuilder:validation:MaxLength=4096
	// +kubebuilder:validation:XValidation:rule="self.startsWith('/')",message="tokenFile must be an absolute path inside the operator's pod"
	TokenFile string `json:"tokenFile,omitempty"`
}

// DelegatedCredentials locates the refresh-token cache of a signed-in
// administrator.
type DelegatedCredentials struct {
	// SecretRef is the Secret key holding the token cache that
	// `entramatch login` wrote. The operator rewrites it each time Entra
	// rotates the refresh token, so the manager needs update on this Secret.
	// +required
	SecretRef SecretKeyReference `json:"secretRef"`

	// ClientID is the public client app (with "Allow public client flows")
	// the administrator signed in through. Defaults to the client ID of
	// spec.credentials.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="self.matches('^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$')",message="delegated.clientID must be the public client app's application (client) ID, a GUID like 00000000-0000-0000-0000-000000000000"
	ClientID string `json:"clientID,omitempty"`
}

// VerifiedDomain is a domain of the tenant as Graph's /domains reports it.
type VerifiedDomain struct {
	// Name of the domain, e.g. contoso.com.
	// +required
	Name string `json:"name"`

	// IsInitial is true for the tenant's <name>.onmicrosoft.com domain.
	// +optional
	IsInitial bool `json:"isInitial,omitempty"`

	// IsDefault is true for the domain new users get by default.
	// +optional
	IsDefault bool `json:"isDefault,omitempty"`

	// AuthenticationType is Managed or Federated. Users of a federated domain
	// need an immutable ID when they are created.
	// +optional
	AuthenticationType string `json:"authenticationType,omitempty"`
}

// EntraTenantStatus is what the operator last learned about the tenant.
type EntraTenantStatus struct {
	// Conditions: Ready (the operator can sign in and read the tenant) and
	// Synced (the last reconcile succeeded).
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// ObservedGeneration is the spec generation the status reflects.
	// +optional
	// +kubebuilder:default=0
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// TenantDisplayName is the organization's display name.
	// +optional
	TenantDisplayName string `json:"tenantDisplayName,omitempty"`

	// InitialDomain is the tenant's <name>.onmicrosoft.com domain, to which
	// Entra rewrites synced UPNs whose suffix is not verified.
	// +optional
	InitialDomain string `json:"initialDomain,omitempty"`

	// VerifiedDomains are the tenant's verified domains: only on-premises UPN
	// suffixes among them survive synchronization.
	// +optional
	// +listType=map
	// +listMapKey=name
	VerifiedDomains []VerifiedDomain `json:"verifiedDomains,omitempty"`

	// LastVerifiedTime is when the credentials last worked against the tenant.
	// +optional
	LastVerifiedTime *metav1.Time `json:"lastVerifiedTime,omitempty"`

	// Delegated describes the sign-in stored for spec.delegated, as read from
	// its Secret's annotations (never from the token cache itself).
	// +optional
	Delegated *DelegatedSignInStatus `json:"delegated,omitempty"`
}

// DelegatedSignInStatus is who signed in for delegated access, and when.
type DelegatedSignInStatus struct {
	// User is the signed-in person's user principal name.
	// +optional
	User string `json:"user,omitempty"`

	// SignedInTime is when `entramatch login` stored the sign-in.
	// +optional
	SignedInTime *metav1.Time `json:"signedInTime,omitempty"`

	// LastRefreshTime is when the operator last wrote back a rotated
	// refresh token.
	// +optional
	LastRefreshTime *metav1.Time `json:"lastRefreshTime,omitempty"`
}

// EntraTenant is a Microsoft Entra tenant the operator signs in to, with the
// application credentials it uses.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=et,categories=entramatch
// +kubebuilder:printcolumn:name="TenantID",type=string,JSONPath=`.spec.tenantID`
// +kubebuilder:printcolumn:name="Cloud",type=string,JSONPath=`.spec.cloud`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Signed In",type=string,JSONPath=`.status.delegated.user`,priority=1,description="Who signed in for delegated access (entramatch login)"
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type EntraTenant struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired tenant connection.
	// +required
	Spec EntraTenantSpec `json:"spec"`

	// Status is the observed state of the tenant connection.
	// +optional
	// Until the operator first reports, it is {observedGeneration: 0},
	// which GitOps tools (kstatus, Flux, Argo CD) read as in progress.
	// +kubebuilder:default={}
	Status EntraTenantStatus `json:"status,omitempty"`
}

// EntraTenantList is a list of EntraTenant.
//
// +kubebuilder:object:root=true
type EntraTenantList struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []EntraTenant `json:"items"`
}

func init() {
	SchemeBuilder.Register(&EntraTenant{}, &EntraTenantList{})
}
