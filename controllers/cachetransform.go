package controllers

import (
	"unique"

	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
)

// CacheTransform prepares every object before the manager's cache keeps
// it: managedFields go (the operator never reads them), and a UserMatch's
// strings that thousands of UserMatches repeat (condition types, statuses
// and reasons, the tenant's and the directory's names, the set's owner
// reference, label and finalizer) share one copy. The JSON decoder
// allocates every string of every object on its own; at 10,000
// UserMatches these repeats are several MiB that the cache would hold for
// the manager's whole life.
func CacheTransform() toolscache.TransformFunc {
	strip := cache.TransformStripManagedFields()
	return func(in any) (any, error) {
		out, err := strip(in)
		if um, ok := out.(*identityv1alpha1.UserMatch); ok && err == nil {
			shareUserMatchStrings(um)
		}
		return out, err
	}
}

// shared returns the one copy of s that every caller gets for an equal s.
// The copies live while some object uses them (package unique).
func shared[S ~string](s S) S {
	if s == "" {
		return s
	}
	return S(unique.Make(string(s)).Value())
}

// sameAs returns other when it equals s, so that one copy serves both.
func sameAs(s, other string) string {
	if s == other {
		return other
	}
	return s
}

// shareUserMatchStrings replaces, in place, the strings many UserMatches
// have in common by their shared copy. Strings of one UserMatch alone
// (names, UIDs, DNs, messages) are left: sharing them saves nothing.
func shareUserMatchStrings(um *identityv1alpha1.UserMatch) {
	for i := range um.Finalizers {
		um.Finalizers[i] = shared(um.Finalizers[i])
	}
	for i := range um.OwnerReferences {
		r := &um.OwnerReferences[i]
		r.APIVersion, r.Kind, r.Name = shared(r.APIVersion), shared(r.Kind), shared(r.Name)
	}
	if len(um.Labels) > 0 {
		labels := make(map[string]string, len(um.Labels))
		for k, v := range um.Labels {
			labels[shared(k)] = shared(v)
		}
		um.Labels = labels
	}
	spec := &um.Spec
	spec.TenantRef.Name, spec.DirectoryRef.Name = shared(spec.TenantRef.Name), shared(spec.DirectoryRef.Name)
	spec.Mode, spec.DeletionPolicy, spec.PrivilegedRoles, spec.Duplicates =
		shared(spec.Mode), shared(spec.DeletionPolicy), shared(spec.PrivilegedRoles), shared(spec.Duplicates)
	st := &um.Status
	for i := range st.Conditions {
		c := &st.Conditions[i]
		c.Type, c.Status, c.Reason = shared(c.Type), shared(c.Status), shared(c.Reason)
	}
	// What status observed repeats what spec selects, most often.
	if st.AD != nil {
		st.AD.AnchorSource = shared(st.AD.AnchorSource)
		st.AD.ObjectGUID = sameAs(st.AD.ObjectGUID, spec.ADUser.ObjectGUID)
		st.AD.DistinguishedName = sameAs(st.AD.DistinguishedName, spec.ADUser.DistinguishedName)
		st.AD.UserPrincipalName = sameAs(st.AD.UserPrincipalName, spec.ADUser.UserPrincipalName)
	}
	if st.Cloud != nil && spec.CloudUser != nil {
		st.Cloud.ObjectID = sameAs(st.Cloud.ObjectID, spec.CloudUser.ObjectID)
		st.Cloud.UserPrincipalName = sameAs(st.Cloud.UserPrincipalName, spec.CloudUser.UserPrincipalName)
	}
	for i := range st.RecordedRoles {
		r := &st.RecordedRoles[i]
		r.Kind, r.RoleDefinitionID, r.RoleName = shared(r.Kind), shared(r.RoleDefinitionID), shared(r.RoleName)
	}
}
