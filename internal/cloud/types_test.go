package cloud

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A users delta update may carry only the properties that changed
// (https://learn.microsoft.com/graph/delta-query-overview, "Resource
// representation in the delta query response"): Merge takes those and
// keeps the rest; a present zero value (Graph's null) clears.
func TestUserChangeMerge(t *testing.T) {
	synced := true
	known := User{ID: "u1", UserPrincipalName: "a@contoso.com", DisplayName: "A", Mail: "a@contoso.com",
		ProxyAddresses: []string{"SMTP:a@contoso.com"}, OnPremisesImmutableID: "anchor", OnPremisesSyncEnabled: &synced, EmployeeID: "E1"}
	tests := []struct {
		name   string
		change UserChange
		want   User
	}{
		{"anchor cleared, the rest kept",
			UserChange{User: User{ID: "u1"}, Present: map[string]bool{PropID: true, PropOnPremisesImmutableID: true}},
			func() User { u := known; u.OnPremisesImmutableID = ""; return u }()},
		{"rename",
			UserChange{User: User{ID: "u1", UserPrincipalName: "b@contoso.com", DisplayName: "ignored"},
				Present: map[string]bool{PropID: true, PropUserPrincipalName: true}},
			func() User { u := known; u.UserPrincipalName = "b@contoso.com"; return u }()},
		{"removal leaves the decision to the caller",
			UserChange{User: User{ID: "u1"}, Present: map[string]bool{PropID: true}, Removed: true}, known},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.change.Merge(known)); diff != "" {
				t.Errorf("Merge (-want +got):\n%s", diff)
			}
		})
	}
	whole := UserChange{User: known, Present: map[string]bool{}}
	for _, p := range []string{PropID, PropUserPrincipalName, PropDisplayName, PropMail, PropProxyAddresses, PropOnPremisesImmutableID,
		PropOnPremisesSyncEnabled, PropOnPremisesLastSyncDateTime, PropOnPremisesDistinguishedName, PropOnPremisesObjectIdentifier,
		PropOnPremisesUserPrincipalName, PropEmployeeID, PropOnPremisesProvisioningErrors} {
		whole.Present[p] = true
	}
	if diff := cmp.Diff(known, whole.Merge(User{})); diff != "" {
		t.Errorf("a whole user merged into nothing (-want +got):\n%s", diff)
	}
}
