package match

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/entramatch/entra-match-operator/internal/cloud"
)

// Duplicates follow the seed's step "delete the duplicate object which is
// synced from AD but not matched to the cloud object" and the admin-role
// workaround's "hard-delete the quarantined object" (learn.microsoft.com/entra/
// identity/hybrid/connect/how-to-connect-install-existing-tenant).
func TestDecideDuplicates(t *testing.T) {
	yes := true
	target := cloud.User{ID: "t", UserPrincipalName: "grace@contoso.com"}
	syncedDup := cloud.User{ID: "d1", UserPrincipalName: "grace1234@contoso.onmicrosoft.com", OnPremisesImmutableID: "A", OnPremisesSyncEnabled: &yes}
	cloudOnlyHolder := cloud.User{ID: "h1", UserPrincipalName: "other@contoso.com", OnPremisesImmutableID: "A"}
	deletedWithAnchor := cloud.DeletedUser{User: cloud.User{ID: "x1", UserPrincipalName: "grace5678@contoso.onmicrosoft.com", OnPremisesImmutableID: "A"}}
	deletedWithUPN := cloud.DeletedUser{User: cloud.User{ID: "x2", UserPrincipalName: "GRACE@contoso.com"}}
	deletedOther := cloud.DeletedUser{User: cloud.User{ID: "x3", UserPrincipalName: "bob@contoso.com", OnPremisesImmutableID: "B"}}
	holders := []cloud.User{target, syncedDup, cloudOnlyHolder}
	deleted := []cloud.DeletedUser{deletedWithAnchor, deletedWithUPN, deletedOther}

	cases := []struct {
		name    string
		policy  DuplicatesPolicy
		enforce bool
		want    DuplicatePlan
	}{
		{"Report lists, touches nothing", DuplicatesReport, true, DuplicatePlan{Found: []Duplicate{
			{ID: "d1", UserPrincipalName: syncedDup.UserPrincipalName, Action: "Reported"},
			{ID: "x1", UserPrincipalName: deletedWithAnchor.UserPrincipalName, Deleted: true, Action: "Reported"},
			{ID: "x2", UserPrincipalName: "GRACE@contoso.com", Deleted: true, Action: "Reported"},
		}}},
		{"Delete soft-deletes the synced duplicate only", DuplicatesDelete, true, DuplicatePlan{Found: []Duplicate{
			{ID: "d1", UserPrincipalName: syncedDup.UserPrincipalName, Action: "Deleted"},
			{ID: "x1", UserPrincipalName: deletedWithAnchor.UserPrincipalName, Deleted: true, Action: "Reported"},
			{ID: "x2", UserPrincipalName: "GRACE@contoso.com", Deleted: true, Action: "Reported"},
		}, Delete: []string{"d1"}}},
		{"Purge also deletes permanently what carries our anchor or UPN", DuplicatesPurge, true, DuplicatePlan{Found: []Duplicate{
			{ID: "d1", UserPrincipalName: syncedDup.UserPrincipalName, Action: "Deleted"},
			{ID: "x1", UserPrincipalName: deletedWithAnchor.UserPrincipalName, Deleted: true, Action: "Purged"},
			{ID: "x2", UserPrincipalName: "GRACE@contoso.com", Deleted: true, Action: "Purged"},
		}, Delete: []string{"d1"}, Purge: []string{"x1", "x2"}}},
		{"Observe mode only reports, whatever the policy", DuplicatesPurge, false, DuplicatePlan{Found: []Duplicate{
			{ID: "d1", UserPrincipalName: syncedDup.UserPrincipalName, Action: "Reported"},
			{ID: "x1", UserPrincipalName: deletedWithAnchor.UserPrincipalName, Deleted: true, Action: "Reported"},
			{ID: "x2", UserPrincipalName: "GRACE@contoso.com", Deleted: true, Action: "Reported"},
		}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := DecideDuplicates(tc.policy, tc.enforce, "A", target, holders, deleted)
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
	// A cloud-only user holding the anchor is a conflict for a person to
	// look at, never a duplicate to delete: it was not created by sync.
	got := DecideDuplicates(DuplicatesPurge, true, "A", target, []cloud.User{cloudOnlyHolder}, nil)
	if len(got.Found) != 0 || len(got.Delete) != 0 {
		t.Errorf("a cloud-only holder was treated as a duplicate: %+v", got)
	}
}
