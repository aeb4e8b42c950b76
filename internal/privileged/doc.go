// Package privileged decides which directory roles Entra ID counts as
// privileged when it hardens hard matching: a cloud user assigned or
// eligible for such a role is refused a hard match, and the remove-and-
// restore workflow must engage for it.
//
// Graph v1.0 does not say: unifiedRoleDefinition.isPrivileged exists only in
// the beta API (it is absent from the v1.0 resource and from msgraph-sdk-go's
// v1.0 models). The decision is therefore made here, from Microsoft's list of
// privileged built-in roles kept in builtin.go, and it never reads missing
// information as "not privileged": a custom role, a built-in role the list
// does not know, or a role whose definition could not be read all count as
// privileged.
package privileged
