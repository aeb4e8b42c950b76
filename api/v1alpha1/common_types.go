package v1alpha1

// SecretKeyReference points at one key of a Secret. The kinds of this API are
// cluster-scoped, so the namespace is always spelled out.
type SecretKeyReference struct {
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

	// Key within the Secret's data whose value is used.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
	Key string `json:"key"`
}

// TenantReference names an EntraTenant.
type TenantReference struct {
	// Name of the EntraTenant object.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// DirectoryReference names an ActiveDirectory.
type DirectoryReference struct {
	// Name of the ActiveDirectory object.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// Mode says whether the operator may write to Microsoft Entra ID.
// +kubebuilder:validation:Enum=Enforce;Observe
type Mode string

const (
	// ModeEnforce lets the operator write the changes it has decided on.
	ModeEnforce Mode = "Enforce"
	// ModeObserve makes the operator report what it would change without
	// writing anything, so a plan can be reviewed before it is applied.
	ModeObserve Mode = "Observe"
)
