package match

import (
	"strings"
	"testing"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"

	"github.com/google/go-cmp/cmp"

	"github.com/entramatch/entra-match-operator/internal/cloud"
)

const testAnchor = "BpazOkLGm0iEtljAONPvOQ=="

func ptr[T any](v T) *T { return &v }

var verified = []cloud.Domain{
	{ID: "contoso.com", IsVerified: true, IsDefault: true},
	{ID: "contoso.onmicrosoft.com", IsVerified: true, IsInitial: true},
	{ID: "pending.example", IsVerified: false},
}

func base() Observation {
	return Observation{
		Mode:                Enforce,
		Anchor:              testAnchor,
		ADUserPrincipalName: "ada@contoso.com",
		Cloud:               cloud.User{ID: "u1", UserPrincipalName: "ada@contoso.com"},
		Domains:             verified,
	}
}

// Each case names the rule of entra.md (and the Microsoft page behind it) it encodes.
func TestDecide(t *testing.T) {
	type want struct {
		action  Action
		joined  bool
		drift   bool
		block   string // reason
		reason  string
		warning string
		msg     string // substring of the block or plan message
	}
	cases := []struct {
		name string
		doc  string
		mut  func(*Observation)
		want want
	}{
		{
			name: "empty immutableId on a cloud-only user is set",
			doc:  "manual procedure: Update-MgUser -OnPremisesImmutableId; learn.microsoft.com/graph/api/user-update",
			mut:  func(*Observation) {},
			want: want{action: ActionSetImmutableID, reason: identityv1alpha1.ReasonImmutableIDSet},
		},
		{
			name: "a foreign value on a cloud-only user is replaced: the manual procedure's reason for a hard match",
			doc:  "manual procedure: soft matching fails because the cloud account has immutableID populated",
			mut:  func(o *Observation) { o.Cloud.OnPremisesImmutableID = "c29tZXRoaW5nIGVsc2U=" },
			want: want{action: ActionSetImmutableID, reason: identityv1alpha1.ReasonImmutableIDSet},
		},
		{
			name: "a value we set that changed since is drift and is set back",
			mut: func(o *Observation) {
				o.Cloud.OnPremisesImmutableID = "c29tZXRoaW5nIGVsc2U="
				o.PreviouslySet = true
			},
			want: want{action: ActionSetImmutableID, drift: true, reason: identityv1alpha1.ReasonDriftCorrected, msg: "outside the operator"},
		},
		{
			name: "a value we set that was cleared is drift too",
			mut:  func(o *Observation) { o.PreviouslySet = true },
			want: want{action: ActionSetImmutableID, drift: true, reason: identityv1alpha1.ReasonDriftCorrected},
		},
		{
			name: "value already in place: nothing to write, wait for sync",
			mut:  func(o *Observation) { o.Cloud.OnPremisesImmutableID = testAnchor; o.PreviouslySet = true },
			want: want{action: ActionNone, reason: identityv1alpha1.ReasonImmutableIDSet, msg: "is set on"},
		},
		{
			name: "synced with our anchor: joined, stop writing",
			doc:  "entra.md §1: after a match the object is on-premises mastered",
			mut: func(o *Observation) {
				o.Cloud.OnPremisesImmutableID = testAnchor
				o.Cloud.OnPremisesSyncEnabled = ptr(true)
			},
			want: want{action: ActionNone, joined: true, reason: identityv1alpha1.ReasonSyncJoined},
		},
		{
			name: "synced with another anchor: never overwritten",
			doc:  "learn.microsoft.com/graph/api/user-update: on-premises mastered objects cannot be updated",
			mut: func(o *Observation) {
				o.Cloud.OnPremisesImmutableID = "b3RoZXI="
				o.Cloud.OnPremisesSyncEnabled = ptr(true)
			},
			want: want{action: ActionNone, block: identityv1alpha1.ReasonSyncedFromOtherAnchor, msg: `"b3RoZXI="`},
		},
		{
			name: "synced wins over every other problem",
			mut: func(o *Observation) {
				o.Cloud.OnPremisesImmutableID = "b3RoZXI="
				o.Cloud.OnPremisesSyncEnabled = ptr(true)
				o.PrivilegedRoles = []string{"Global Administrator"}
				o.Mode = Observe
			},
			want: want{action: ActionNone, block: identityv1alpha1.ReasonSyncedFromOtherAnchor},
		},
		{
			name: "sync disabled (removed from scope) is not synced: may be written",
			doc:  "entra.md §1: onPremisesSyncEnabled false = removed from sync scope",
			mut:  func(o *Observation) { o.Cloud.OnPremisesSyncEnabled = ptr(false) },
			want: want{action: ActionSetImmutableID, reason: identityv1alpha1.ReasonImmutableIDSet},
		},
		{
			name: "anchor held by another object is refused, naming it",
			doc:  "learn.microsoft.com/graph/api/user-update: ObjectConflict on onPremisesImmutableId",
			mut: func(o *Observation) {
				o.Holders = []cloud.User{{ID: "dup1", UserPrincipalName: "ada1234@contoso.onmicrosoft.com"}}
			},
			want: want{action: ActionNone, block: identityv1alpha1.ReasonImmutableIDConflict, msg: "ada1234@contoso.onmicrosoft.com (dup1)"},
		},
		{
			name: "the target itself among holders is not a conflict",
			mut: func(o *Observation) {
				o.Cloud.OnPremisesImmutableID = testAnchor
				o.Holders = []cloud.User{{ID: "u1", UserPrincipalName: "ada@contoso.com"}}
			},
			want: want{action: ActionNone, reason: identityv1alpha1.ReasonImmutableIDSet, msg: "is set on"},
		},
		{
			name: "privileged roles block the write with the roles named",
			doc:  "learn.microsoft.com/entra/identity/hybrid/connect/how-to-connect-install-existing-tenant: admin role users are not matched",
			mut:  func(o *Observation) { o.PrivilegedRoles = []string{"User Administrator", "Global Administrator"} },
			want: want{action: ActionNone, block: identityv1alpha1.ReasonPrivilegedRole, msg: "(Global Administrator, User Administrator)"},
		},
		{
			name: "two UserMatches for one user: refused",
			mut:  func(o *Observation) { o.ClaimedBy = "ada-other" },
			want: want{action: ActionNone, block: identityv1alpha1.ReasonDuplicateClaim, msg: "ada-other"},
		},
		{
			name: "characters Graph forbids are refused before any write",
			doc:  "entra.md §2: Graph refuses $ and _ in onPremisesImmutableId",
			mut:  func(o *Observation) { o.Anchor = "abc_def" },
			want: want{action: ActionNone, block: identityv1alpha1.ReasonInvalidAnchor, msg: "'$' or '_'"},
		},
		{
			name: "Observe mode reports and never writes",
			mut:  func(o *Observation) { o.Mode = Observe },
			want: want{action: ActionNone, reason: identityv1alpha1.ReasonObserveOnly, msg: "would set"},
		},
		{
			name: "takeover blocked by the tenant flag: no write, the way out named",
			doc:  "how-to-connect-install-existing-tenant: blockCloudObjectTakeoverThroughHardMatchEnabled; tshoot-connect-sync-errors: InvalidHardMatch",
			mut:  func(o *Observation) { o.Takeover.Blocked = true },
			want: want{action: ActionNone, block: identityv1alpha1.ReasonHardMatchTakeoverBlocked, msg: "matchingWindows"},
		},
		{
			name: "takeover blocked, anchor already written: still blocked, sync would refuse",
			mut: func(o *Observation) {
				o.Takeover.Blocked = true
				o.Cloud.OnPremisesImmutableID = testAnchor
			},
			want: want{action: ActionNone, block: identityv1alpha1.ReasonHardMatchTakeoverBlocked, msg: "InvalidHardMatch"},
		},
		{
			name: "another on-premises object named in onPremisesObjectIdentifier: no write",
			doc:  "entra.md: from mid-2026 a cloud user with onPremisesObjectIdentifier set is not remapped (AttributeUpdateNotAllowed)",
			mut: func(o *Observation) {
				o.ADObjectGUID = "3ab39606-c642-489b-84b6-58c038d3ef39"
				o.Cloud.OnPremisesObjectIdentifier = "0f0e5c47-1d2b-4c3a-9e8f-7a6b5c4d3e2f"
			},
			want: want{action: ActionNone, block: identityv1alpha1.ReasonObjectIdentifierSet, msg: "AttributeUpdateNotAllowed"},
		},
		{
			name: "onPremisesObjectIdentifier names this AD user: not a remap",
			mut: func(o *Observation) {
				o.ADObjectGUID = "3ab39606-c642-489b-84b6-58c038d3ef39"
				o.Cloud.OnPremisesObjectIdentifier = "3AB39606-C642-489B-84B6-58C038D3EF39"
			},
			want: want{action: ActionSetImmutableID, reason: identityv1alpha1.ReasonImmutableIDSet},
		},
		{
			name: "onPremisesObjectIdentifier of another object, tenant bypass on: the write goes ahead",
			doc:  "entra.md: allowOnPremUpdateOfOnPremisesObjectIdentifierEnabled is the temporary tenant-wide bypass",
			mut: func(o *Observation) {
				o.ADObjectGUID = "3ab39606-c642-489b-84b6-58c038d3ef39"
				o.Cloud.OnPremisesObjectIdentifier = "0f0e5c47-1d2b-4c3a-9e8f-7a6b5c4d3e2f"
				o.Takeover.ObjectIdentifierUpdateAllowed = true
			},
			want: want{action: ActionSetImmutableID, reason: identityv1alpha1.ReasonImmutableIDSet},
		},
		{
			name: "takeover flag unreadable: the write goes ahead and the message says what may refuse it",
			mut:  func(o *Observation) { o.Takeover.Unknown = "Graph refused the read (403)" },
			want: want{action: ActionSetImmutableID, reason: identityv1alpha1.ReasonImmutableIDSet, msg: "could not be read: Graph refused the read (403)"},
		},
		{
			name: "a synced user is joined whatever the takeover flag",
			mut: func(o *Observation) {
				o.Takeover.Blocked = true
				o.Cloud.OnPremisesImmutableID = testAnchor
				o.Cloud.OnPremisesSyncEnabled = ptr(true)
			},
			want: want{action: ActionNone, joined: true, reason: identityv1alpha1.ReasonSyncJoined},
		},
		{
			name: "Observe mode still reports blocks",
			mut:  func(o *Observation) { o.Mode = Observe; o.PrivilegedRoles = []string{"Global Administrator"} },
			want: want{action: ActionNone, block: identityv1alpha1.ReasonPrivilegedRole},
		},
		{
			name: ".local UPN is warned about, not blocked",
			doc:  "manual procedure: the logon name should be username@domain.com rather than username@domain.local",
			mut:  func(o *Observation) { o.ADUserPrincipalName = "ada@corp.local" },
			want: want{action: ActionSetImmutableID, reason: identityv1alpha1.ReasonImmutableIDSet, warning: identityv1alpha1.ReasonNonRoutableUPNSuffix},
		},
		{
			name: "onmicrosoft.com UPN is warned about",
			doc:  "manual procedure: the user should have username@domain.com in AAD, not username@tenant.onmicrosoft.com",
			mut:  func(o *Observation) { o.ADUserPrincipalName = "ada@contoso.onmicrosoft.com" },
			want: want{action: ActionSetImmutableID, reason: identityv1alpha1.ReasonImmutableIDSet, warning: identityv1alpha1.ReasonInitialDomainUPNSuffix},
		},
		{
			name: "unverified or unknown suffix is warned about",
			doc:  "entra.md §1: a UPN suffix that is not verified is rewritten to the initial domain",
			mut:  func(o *Observation) { o.ADUserPrincipalName = "ada@pending.example" },
			want: want{action: ActionSetImmutableID, reason: identityv1alpha1.ReasonImmutableIDSet, warning: identityv1alpha1.ReasonUPNSuffixNotVerified},
		},
		{
			name: "suffix comparison ignores case",
			mut:  func(o *Observation) { o.ADUserPrincipalName = "Ada@Contoso.COM" },
			want: want{action: ActionSetImmutableID, reason: identityv1alpha1.ReasonImmutableIDSet},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := base()
			tc.mut(&o)
			p := Decide(o)
			got := want{action: p.Action, joined: p.Joined, drift: p.Drift, reason: p.Reason}
			msg := p.Message
			if p.Block != nil {
				got.block = p.Block.Reason
				msg = p.Block.Message
			}
			if p.Warning != nil {
				got.warning = p.Warning.Reason
			}
			wantMsg := tc.want.msg
			tc.want.msg = ""
			if d := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); d != "" {
				t.Errorf("plan mismatch (-want +got):\n%s\nmessage: %s", d, msg)
			}
			if !strings.Contains(msg, wantMsg) {
				t.Errorf("message %q does not contain %q", msg, wantMsg)
			}
		})
	}
}
