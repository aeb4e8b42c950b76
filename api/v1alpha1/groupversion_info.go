// Package v1alpha1 holds the identity.entramatch.io/v1alpha1 API: the Entra
// tenants and Active Directory domains the operator talks to, the users it
// matches between them, and the tenant-wide synchronization flags it guards.
//
// +kubebuilder:object:generate=true
// +groupName=identity.entramatch.io
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the group and version of every kind in this package.
	GroupVersion = schema.GroupVersion{Group: "identity.entramatch.io", Version: "v1alpha1"}

	// SchemeBuilder registers the kinds of this package with a runtime.Scheme.
	SchemeBuilder = &schemeBuilder{}

	// AddToScheme adds the kinds of this package to a runtime.Scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

// schemeBuilder collects the kinds of this package. It depends on
// apimachinery only, so that importing the API stays cheap for clients.
type schemeBuilder struct{ objects []runtime.Object }

// Register adds kinds; each types file calls it from init.
func (b *schemeBuilder) Register(objs ...runtime.Object) { b.objects = append(b.objects, objs...) }

// AddToScheme adds every registered kind to s.
func (b *schemeBuilder) AddToScheme(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion, b.objects...)
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
