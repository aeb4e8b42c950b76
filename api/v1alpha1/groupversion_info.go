// Package v1alpha1 holds the identity.entramatch.io/v1alpha1 API: the Entra
// tenants and Active Directory domains the operator talks to, the users it
// matches between them, and the tenant-wide synchronization flags it guards.
//
// +kubebuilder:object:generate=true
// +groupName=identity.entramatch.io
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version of every kind in this package.
	GroupVersion = schema.GroupVersion{Group: "identity.entramatch.io", Version: "v1alpha1"}

	// SchemeBuilder registers the kinds of this package with a runtime.Scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the kinds of this package to a runtime.Scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
