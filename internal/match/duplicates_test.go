package match

import (
	"strings"
	"testing"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"

	"github.com/google/go-cmp/cmp"

	"github.com/entramatch/entra-match-operator/internal/cloud"
)

// Duplicates follow the step "delete the duplicate object which is synced
// from AD but not matched to the cloud object" of the hard-match procedure
// and the admin-role workaround's "hard-delete the quarantined object"
// (learn.microsoft.com/entra/identity/hybrid/connect/how-to-connect-install-existing-tenant),
// with the quarantine that marks such an object
// (how-to-connect-syncservice-duplicate-attribute-resiliency).
func TestDecideDuplicates(t *testing.T) {
	yes := true
	target := cloud.User{ID: "t", UserPrincipalName: "grace@contoso.com", Mail: "grace@contoso.com",
		ProxyAddresses: []string{"SMTP:grace@contoso.com", "smtp:g@contoso.com"}}
	quarantinedUPN := []cloud.ProvisioningError{{Category: "PropertyConflict", PropertyCausingError: "UserPrincipalName", Value: "grace@contoso.com"}}
	syncedDup := cloud.User{ID: "d1", UserPrincipalName: "grace+1234@contoso.onmicrosoft.com", OnPremisesImmutableID: "A",
		OnPremisesSyncEnabled: &yes, ProvisioningErrors: quarantinedUPN}
	joinedElsewhere := cloud.User{ID: "j1", UserPrincipalName: "grace.h@contoso.com", OnPremisesImmutableID: "A", OnPremisesSyncEnabled: &yes}
	cloudOnlyHolder := cloud.User{ID: "h1", UserPrincipalName: "other@contoso.com", OnPremisesImmutableID: "A"}
	deletedDup := cloud.DeletedUser{User: cloud.User{ID: "x1", UserPrincipalName: "grace+5678@contoso.onmicrosoft.com", OnPremisesImmutableID: "A",
		OnPremisesSyncEnabled: &yes, ProvisioningErrors: []cloud.ProvisioningError{{PropertyCausingError: "ProxyAddresses", Value: "smtp:g@contoso.com"}}}}
	deletedWithUPN := cloud.DeletedUser{User: cloud.User{ID: "x2", UserPrincipalName: "GRACE@contoso.com"}}
	deletedOther := cloud.DeletedUser{User: cloud.User{ID: "x3", UserPrincipalName: "bob@contoso.com", OnPremisesImmutableID: "B"}}
	holders := []cloud.User{target, syncedDup, cloudOnlyHolder}
	deleted := []cloud.DeletedUser{deletedDup, deletedWithUPN, deletedOther}
	reported := func(d Duplicate) Duplicate { d.Action = "Reported"; return d }
	d1 := Duplicate{ID: "d1", UserPrincipalName: syncedDup.UserPrincipalName, Action: "Deleted", Proven: true}
	x1 := Duplicate{ID: "x1", UserPrincipalName: deletedDup.UserPrincipalName, Deleted: true, Action: "Purged", Proven: true}
	allowed := Plan{Action: ActionSetImmutableID}

	cases := []struct {
		name     string
		in       DuplicateInput
		want     DuplicatePlan
		wantHeld string
	}{
		{"Report lists, touches nothing", DuplicateInput{Policy: DuplicatesReport, Enforce: true, Match: allowed},
			DuplicatePlan{Found: []Duplicate{reported(d1), reported(x1)}}, ""},
		{"Delete soft-deletes the proven synced duplicate only", DuplicateInput{Policy: DuplicatesDelete, Enforce: true, Match: allowed},
			DuplicatePlan{Found: []Duplicate{d1, reported(x1)}, Delete: []string{"d1"}}, ""},
		{"Purge also purges the proven deleted duplicate; a deleted user with the target's UPN alone is not one",
			DuplicateInput{Policy: DuplicatesPurge, Enforce: true, Match: allowed},
			DuplicatePlan{Found: []Duplicate{d1, x1}, Delete: []string{"d1"}, Purge: []string{"x1"}}, ""},
		{"Observe mode only reports, whatever the policy", DuplicateInput{Policy: DuplicatesPurge, Match: allowed},
			DuplicatePlan{Found: []Duplicate{reported(d1), reported(x1)}}, "Observe mode"},
		{"a blocked match deletes nothing", DuplicateInput{Policy: DuplicatesPurge, Enforce: true,
			Match: Plan{Block: &Block{Reason: identityv1alpha1.ReasonDuplicateClaim, Message: "UserMatch other already claims this AD or cloud user"}}},
			DuplicatePlan{Found: []Duplicate{reported(d1), reported(x1)}}, "DuplicateClaim"},
		{"an already joined user deletes nothing", DuplicateInput{Policy: DuplicatesPurge, Enforce: true, Match: Plan{Joined: true}},
			DuplicatePlan{Found: []Duplicate{reported(d1), reported(x1)}}, "already joined"},
		{"a duplicate another UserMatch claims is never deleted", DuplicateInput{Policy: DuplicatesPurge, Enforce: true, Match: allowed,
			Claimed: map[string]bool{"d1": true}},
			DuplicatePlan{Found: []Duplicate{{ID: "d1", UserPrincipalName: syncedDup.UserPrincipalName, Action: "Reported"}, x1}, Purge: []string{"x1"}}, "not proven"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			in.Anchor, in.Target, in.Holders, in.Deleted = "A", target, holders, deleted
			got := DecideDuplicates(in)
			held := got.Held
			got.Held = ""
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
			if (held == "") != (tc.wantHeld == "") || !strings.Contains(held, tc.wantHeld) {
				t.Errorf("Held = %q, want %q", held, tc.wantHeld)
			}
		})
	}

	// The person's real account, joined to this AD user by an earlier sync,
	// carries the anchor and is synced but recorded no collision with the
	// target: reported, never deleted.
	got := DecideDuplicates(DuplicateInput{Policy: DuplicatesPurge, Enforce: true, Anchor: "A", Target: target,
		Holders: []cloud.User{joinedElsewhere}, Match: allowed})
	if len(got.Delete) != 0 || len(got.Found) != 1 || got.Found[0].Proven || !strings.Contains(got.Held, "not proven") {
		t.Errorf("a joined account was treated as a duplicate: %+v", got)
	}
	// A cloud-only user holding the anchor is a conflict for a person to
	// look at, never a duplicate to delete: it was not created by sync.
	got = DecideDuplicates(DuplicateInput{Policy: DuplicatesPurge, Enforce: true, Anchor: "A", Target: target,
		Holders: []cloud.User{cloudOnlyHolder}, Match: allowed})
	if len(got.Found) != 0 || len(got.Delete) != 0 {
		t.Errorf("a cloud-only holder was treated as a duplicate: %+v", got)
	}
}

func TestProvenNeedsACollisionWithTheTarget(t *testing.T) {
	yes := true
	target := cloud.User{ID: "t", UserPrincipalName: "grace@contoso.com", ProxyAddresses: []string{"SMTP:grace@contoso.com"}}
	base := cloud.User{ID: "d", OnPremisesImmutableID: "A", OnPremisesSyncEnabled: &yes}
	for _, c := range []struct {
		name  string
		value string
		want  bool
	}{
		{"quarantined UPN equal to the target's", "GRACE@contoso.com", true},
		{"quarantined primary address of the target", "SMTP:grace@contoso.com", true},
		{"quarantined value of someone else", "bob@contoso.com", false},
		{"no value", "", false},
	} {
		u := base
		if c.value != "" {
			u.ProvisioningErrors = []cloud.ProvisioningError{{Value: c.value}}
		}
		if got := Proven(u, target, "A", nil); got != c.want {
			t.Errorf("%s: Proven = %v, want %v", c.name, got, c.want)
		}
	}
	notSynced := base
	notSynced.OnPremisesSyncEnabled = nil
	notSynced.ProvisioningErrors = []cloud.ProvisioningError{{Value: "grace@contoso.com"}}
	if Proven(notSynced, target, "A", nil) {
		t.Error("a cloud-managed object is never a sync-created duplicate")
	}
}
