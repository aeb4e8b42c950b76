package syncrules

import (
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// Microsoft pages the rows follow (MicrosoftDocs/entra-docs, docs/identity/hybrid/connect/).
const (
	docExisting   = "https://learn.microsoft.com/entra/identity/hybrid/connect/how-to-connect-install-existing-tenant"
	docResiliency = "https://learn.microsoft.com/entra/identity/hybrid/connect/how-to-connect-syncservice-duplicate-attribute-resiliency"
	docTshoot     = "https://learn.microsoft.com/entra/identity/hybrid/connect/tshoot-connect-sync-errors"
	docUPN        = "https://learn.microsoft.com/entra/identity/hybrid/connect/plan-connect-userprincipalname"
	docDeletes    = "https://learn.microsoft.com/entra/identity/hybrid/connect/how-to-connect-sync-feature-prevent-accidental-deletes"
)

const initial = "contoso.onmicrosoft.com"

var quarantined = regexp.MustCompile(`^alice\+[0-9]{4}@contoso\.onmicrosoft\.com$`)

// tenant is the cloud side every row starts from.
func tenant() StaticDirectory {
	return StaticDirectory{
		Initial:  initial,
		Verified: []string{"contoso.com"},
		Objects: []CloudObject{
			{ID: "u-cloud", Type: User, UserPrincipalName: "alice@contoso.com", ProxyAddresses: []string{"SMTP:alice@contoso.com"}},
			{ID: "u-synced", Type: User, UserPrincipalName: "bob@contoso.com", ProxyAddresses: []string{"SMTP:bob@contoso.com"},
				OnPremisesImmutableID: "Qm9iQm9i", OnPremisesSyncEnabled: Synced(true), OnPremisesObjectIdentifier: "oid-bob"},
			{ID: "u-synced-soft", Type: User, UserPrincipalName: "grace@contoso.com", ProxyAddresses: []string{"SMTP:grace@contoso.com"},
				OnPremisesImmutableID: "R3JhY2U=", OnPremisesSyncEnabled: Synced(true)},
			{ID: "u-admin", Type: User, UserPrincipalName: "admin@contoso.com", ProxyAddresses: []string{"SMTP:admin@contoso.com"}, PrivilegedRoleAssigned: true},
			{ID: "u-elig", Type: User, UserPrincipalName: "elig@contoso.com", ProxyAddresses: []string{"SMTP:elig@contoso.com"}, PrivilegedRoleEligible: true},
			{ID: "u-upn", Type: User, UserPrincipalName: "frank@contoso.com"},
			{ID: "u-hard", Type: User, UserPrincipalName: "carol@contoso.com", OnPremisesImmutableID: "Q2Fyb2w="},
			{ID: "u-removed", Type: User, UserPrincipalName: "dave@contoso.com", OnPremisesImmutableID: "RGF2ZQ==",
				OnPremisesSyncEnabled: Synced(false), Deleted: true},
			{ID: "u-hard-admin", Type: User, UserPrincipalName: "erin@contoso.com", OnPremisesImmutableID: "RXJpbg==", PrivilegedRoleAssigned: true},
			{ID: "u-hard-elig", Type: User, UserPrincipalName: "ivan@contoso.com", OnPremisesImmutableID: "SXZhbg==", PrivilegedRoleEligible: true},
			{ID: "u-hard-oid", Type: User, UserPrincipalName: "judy@contoso.com", OnPremisesImmutableID: "SnVkeQ==", OnPremisesObjectIdentifier: "oid-old"},
			{ID: "u-gone", Type: User, UserPrincipalName: "mallory@contoso.com", ProxyAddresses: []string{"SMTP:mallory@contoso.com"}, Deleted: true},
			{ID: "u-taken-q", Type: User, UserPrincipalName: "alice+0042@" + initial},
			{ID: "u-exa", Type: User, UserPrincipalName: "exa@contoso.com", ProxyAddresses: []string{"SMTP:exa@contoso.com"}, AdminRoleAssigned: true},
			{ID: "u-reader-elig", Type: User, UserPrincipalName: "reader@contoso.com", ProxyAddresses: []string{"SMTP:reader@contoso.com"}, AdminRoleEligible: true},
			{ID: "u-deleted-admin", Type: User, UserPrincipalName: "peggy@contoso.com", OnPremisesImmutableID: "UGVnZ3k=",
				OnPremisesSyncEnabled: Synced(true), Deleted: true, AdminRoleAssigned: true, PrivilegedRoleAssigned: true},
			{ID: "u-deleted-plain", Type: User, UserPrincipalName: "paul@contoso.com", OnPremisesImmutableID: "UGF1bA==",
				OnPremisesSyncEnabled: Synced(true), Deleted: true, AdminRoleAssigned: true},
			{ID: "g-mail", Type: Group, MailEnabled: true, ProxyAddresses: []string{"SMTP:tax@contoso.com"}},
			{ID: "c-vendor", Type: Contact, ProxyAddresses: []string{"SMTP:vendor@fabrikam.com"}},
			// Mail is not unique: two objects answer to one address.
			{ID: "u-shared-mail", Type: User, UserPrincipalName: "sue@contoso.com", Mail: "shared@contoso.com"},
			{ID: "c-shared-mail", Type: Contact, Mail: "shared@contoso.com"},
		},
	}
}

// suffixes returns a deterministic quarantine suffix source.
func suffixes(ns ...int) func() int {
	i := 0
	return func() int {
		n := ns[i%len(ns)]
		i++
		return n
	}
}

// adminConflict is the ExistingAdminRoleConflict message for the cloud user id.
func adminConflict(id string) string {
	return "Microsoft Entra Connect isn't allowed to soft match a user object from on-premises AD with a user object in Microsoft Entra ID that has an administrative role assigned to it (" + id + ")."
}

func pe(prop, value string) ProvisioningError {
	return ProvisioningError{Category: CategoryPropertyConflict, PropertyCausingError: prop, Value: value}
}

func TestDecide(t *testing.T) {
	on := func(f Features) Config { return Config{Features: f} }
	tests := []struct {
		name string
		doc  string
		e    Export
		cfg  Config
		want Decision
	}{
		// --- hard match ---
		{
			name: "hard match on a cloud-managed user that carries the anchor",
			doc:  docExisting + "#hard-match-vs-soft-match",
			e:    Export{Type: User, SourceAnchor: "Q2Fyb2w=", UserPrincipalName: "carol@contoso.com", ProxyAddresses: []string{"SMTP:carol@contoso.com"}},
			want: Decision{Outcome: HardMatch, TargetID: "u-hard", UserPrincipalName: "carol@contoso.com", MailNickname: "carol",
				ProxyAddresses: []string{"SMTP:carol@contoso.com"}},
		},
		{
			name: "hard match refused when takeover is blocked (never synced)",
			doc:  docTshoot + "#invalidhardmatch",
			e:    Export{Type: User, SourceAnchor: "Q2Fyb2w=", UserPrincipalName: "carol@contoso.com"},
			cfg:  on(Features{BlockCloudObjectTakeoverThroughHardMatch: true}),
			want: Decision{Outcome: Error, TargetID: "u-hard", Code: CodeInvalidHardMatch, Message: MessageTakeoverBlocked},
		},
		{
			name: "hard match restores an object removed from sync scope",
			doc:  docTshoot + "#invalidhardmatch",
			e:    Export{Type: User, SourceAnchor: "RGF2ZQ==", UserPrincipalName: "dave@contoso.com"},
			want: Decision{Outcome: HardMatch, TargetID: "u-removed", Restore: true, UserPrincipalName: "dave@contoso.com", MailNickname: "dave"},
		},
		{
			name: "removed from scope and takeover blocked gives InvalidHardMatch",
			doc:  docTshoot + "#invalidhardmatch",
			e:    Export{Type: User, SourceAnchor: "RGF2ZQ==", UserPrincipalName: "dave@contoso.com"},
			cfg:  on(Features{BlockCloudObjectTakeoverThroughHardMatch: true}),
			want: Decision{Outcome: Error, TargetID: "u-removed", Code: CodeInvalidHardMatch, Message: MessageTakeoverBlocked},
		},
		{
			name: "hard match blocked: target holds a privileged role",
			doc:  docExisting + "#hard-match-security-protections",
			e:    Export{Type: User, SourceAnchor: "RXJpbg==", UserPrincipalName: "erin@contoso.com"},
			want: Decision{Outcome: Error, TargetID: "u-hard-admin", Code: CodeInvalidHardMatch, Message: MessagePrivilegedTakeover},
		},
		{
			name: "privileged target matches when the emulator plays the pre-2026 service",
			doc:  docExisting + "#hard-match-security-protections",
			e:    Export{Type: User, SourceAnchor: "RXJpbg==", UserPrincipalName: "erin@contoso.com"},
			cfg:  Config{LegacyHardMatch: true},
			want: Decision{Outcome: HardMatch, TargetID: "u-hard-admin", UserPrincipalName: "erin@contoso.com", MailNickname: "erin"},
		},
		{
			name: "hard match blocked: target eligible for a privileged role",
			doc:  docExisting + "#hard-match-scenarios-and-recovery-paths",
			e:    Export{Type: User, SourceAnchor: "SXZhbg==", UserPrincipalName: "ivan@contoso.com"},
			want: Decision{Outcome: Error, TargetID: "u-hard-elig", Code: CodeInvalidHardMatch, Message: MessagePrivilegedTakeover},
		},
		{
			name: "hard match blocked: target soft-deleted and privileged, although it was synced",
			doc:  docExisting + "#hard-match-scenarios-and-recovery-paths",
			e:    Export{Type: User, SourceAnchor: "UGVnZ3k=", UserPrincipalName: "peggy@contoso.com"},
			want: Decision{Outcome: Error, TargetID: "u-deleted-admin", Code: CodeInvalidHardMatch, Message: MessagePrivilegedTakeover},
		},
		{
			name: "soft-deleted synced target with a non-privileged role is restored",
			doc:  docExisting + "#hard-match-scenarios-and-recovery-paths",
			e:    Export{Type: User, SourceAnchor: "UGF1bA==", UserPrincipalName: "paul@contoso.com"},
			want: Decision{Outcome: Updated, TargetID: "u-deleted-plain", Restore: true, UserPrincipalName: "paul@contoso.com", MailNickname: "paul"},
		},
		{
			name: "the temporary bypass lifts the soft-deleted privileged protection",
			doc:  docExisting + "#temporarily-allow-onpremisesobjectidentifier-updates",
			e:    Export{Type: User, SourceAnchor: "UGVnZ3k=", UserPrincipalName: "peggy@contoso.com"},
			cfg:  on(Features{AllowOnPremUpdateOfOnPremisesObjectIdentifier: true}),
			want: Decision{Outcome: Updated, TargetID: "u-deleted-admin", Restore: true, UserPrincipalName: "peggy@contoso.com", MailNickname: "peggy"},
		},
		{
			name: "temporary bypass lifts the privileged-role protection",
			doc:  docExisting + "#temporarily-allow-onpremisesobjectidentifier-updates",
			e:    Export{Type: User, SourceAnchor: "SXZhbg==", UserPrincipalName: "ivan@contoso.com"},
			cfg:  on(Features{AllowOnPremUpdateOfOnPremisesObjectIdentifier: true}),
			want: Decision{Outcome: HardMatch, TargetID: "u-hard-elig", UserPrincipalName: "ivan@contoso.com", MailNickname: "ivan"},
		},
		{
			name: "remap blocked: onPremisesObjectIdentifier already set",
			doc:  docExisting + "#hard-match-scenarios-and-recovery-paths",
			e:    Export{Type: User, SourceAnchor: "SnVkeQ==", UserPrincipalName: "judy@contoso.com", ObjectIdentifier: "oid-new"},
			want: Decision{Outcome: Error, TargetID: "u-hard-oid", Code: CodeAttributeUpdateNotAllowed, Message: MessageObjectIdentifierSet},
		},
		{
			name: "identifier set and export sends none: still a remap",
			doc:  docExisting + "#hard-match-security-protections",
			e:    Export{Type: User, SourceAnchor: "SnVkeQ==", UserPrincipalName: "judy@contoso.com"},
			want: Decision{Outcome: Error, TargetID: "u-hard-oid", Code: CodeAttributeUpdateNotAllowed, Message: MessageObjectIdentifierSet},
		},
		{
			name: "same on-premises object re-joins (identifier equal, case-insensitive)",
			doc:  docExisting + "#hard-match-security-protections",
			e:    Export{Type: User, SourceAnchor: "SnVkeQ==", UserPrincipalName: "judy@contoso.com", ObjectIdentifier: "OID-OLD"},
			want: Decision{Outcome: HardMatch, TargetID: "u-hard-oid", UserPrincipalName: "judy@contoso.com", MailNickname: "judy"},
		},
		{
			name: "bypass flag allows the identifier remap",
			doc:  docExisting + "#temporarily-allow-onpremisesobjectidentifier-updates",
			e:    Export{Type: User, SourceAnchor: "SnVkeQ==", UserPrincipalName: "judy@contoso.com", ObjectIdentifier: "oid-new"},
			cfg:  on(Features{AllowOnPremUpdateOfOnPremisesObjectIdentifier: true}),
			want: Decision{Outcome: HardMatch, TargetID: "u-hard-oid", UserPrincipalName: "judy@contoso.com", MailNickname: "judy"},
		},
		{
			name: "anchor of an object already synced: update, not a match",
			doc:  docExisting + "#sync-with-existing-users-in-microsoft-entra-id",
			e: Export{Type: User, SourceAnchor: "Qm9iQm9i", UserPrincipalName: "bob@contoso.com", ObjectIdentifier: "oid-bob",
				ProxyAddresses: []string{"SMTP:bob@contoso.com", "smtp:robert@contoso.com"}},
			cfg: on(Features{BlockCloudObjectTakeoverThroughHardMatch: true, BlockSoftMatch: true}),
			want: Decision{Outcome: Updated, TargetID: "u-synced", UserPrincipalName: "bob@contoso.com", MailNickname: "bob",
				ProxyAddresses: []string{"SMTP:bob@contoso.com", "smtp:robert@contoso.com"}},
		},
		{
			name: "recreated AD object with the same anchor cannot take over a synced user",
			doc:  docExisting + "#hard-match-scenarios-and-recovery-paths",
			e:    Export{Type: User, SourceAnchor: "Qm9iQm9i", UserPrincipalName: "bob@contoso.com", ObjectIdentifier: "oid-bob-2"},
			want: Decision{Outcome: Error, TargetID: "u-synced", Code: CodeAttributeUpdateNotAllowed, Message: MessageHardMatchHardening},
		},
		{
			name: "anchor held by an object of another type",
			doc:  docTshoot + "#objecttypemismatch",
			e:    Export{Type: Group, SourceAnchor: "Q2Fyb2w=", MailEnabled: true},
			want: Decision{Outcome: Error, TargetID: "u-hard", Code: CodeObjectTypeMismatch,
				Message: "the source anchor belongs to a user, the exported object is a group"},
		},
		{
			name: "anchor comparison is case-sensitive",
			doc:  docExisting + "#hard-match-vs-soft-match",
			e:    Export{Type: User, SourceAnchor: "q2fyb2w=", UserPrincipalName: "carol2@contoso.com"},
			want: Decision{Outcome: Created, UserPrincipalName: "carol2@contoso.com", MailNickname: "carol2"},
		},

		// --- soft match ---
		{
			name: "soft match on the primary SMTP address",
			doc:  docExisting + "#sync-with-existing-users-in-microsoft-entra-id",
			e:    Export{Type: User, SourceAnchor: "new1", UserPrincipalName: "alice@contoso.com", ProxyAddresses: []string{"SMTP:Alice@Contoso.com"}},
			want: Decision{Outcome: SoftMatchSMTP, TargetID: "u-cloud", UserPrincipalName: "alice@contoso.com", MailNickname: "Alice",
				ProxyAddresses: []string{"SMTP:Alice@Contoso.com"}},
		},
		{
			name: "primary derived from mail when the export has no proxy addresses",
			doc:  docExisting + "#sync-with-existing-users-in-microsoft-entra-id",
			e:    Export{Type: User, SourceAnchor: "new1", UserPrincipalName: "al@contoso.com", Mail: "alice@contoso.com"},
			want: Decision{Outcome: SoftMatchSMTP, TargetID: "u-cloud", UserPrincipalName: "al@contoso.com", MailNickname: "alice"},
		},
		{
			name: "secondary smtp does not soft match; colliding value quarantined",
			doc:  docExisting + "#sync-with-existing-users-in-microsoft-entra-id",
			e:    Export{Type: User, SourceAnchor: "new2", UserPrincipalName: "alice2@contoso.com", ProxyAddresses: []string{"smtp:alice@contoso.com"}},
			want: Decision{Outcome: Created, UserPrincipalName: "alice2@contoso.com", MailNickname: "alice2",
				ProvisioningErrors: []ProvisioningError{pe(PropertyProxyAddresses, "smtp:alice@contoso.com")}, Quarantined: true},
		},
		{
			name: "soft match blocked: new object, UPN and proxy quarantined",
			doc:  docResiliency + "#behavior-with-duplicate-attribute-resiliency",
			e:    Export{Type: User, SourceAnchor: "new3", UserPrincipalName: "alice@contoso.com", ProxyAddresses: []string{"SMTP:alice@contoso.com", "X500:/o=x"}},
			cfg:  Config{Features: Features{BlockSoftMatch: true, SoftMatchOnUpn: true}, QuarantineSuffix: suffixes(7)},
			want: Decision{Outcome: Created, UserPrincipalName: "alice+0007@" + initial, MailNickname: "alice",
				ProxyAddresses: []string{"X500:/o=x"},
				ProvisioningErrors: []ProvisioningError{
					pe(PropertyUserPrincipalName, "alice@contoso.com"),
					pe(PropertyProxyAddresses, "SMTP:alice@contoso.com"),
				}, Quarantined: true},
		},
		{
			name: "quarantine suffix retried while the placeholder UPN is taken",
			doc:  docResiliency + "#behavior-with-duplicate-attribute-resiliency",
			e:    Export{Type: User, SourceAnchor: "new4", UserPrincipalName: "alice@contoso.com"},
			cfg:  Config{QuarantineSuffix: suffixes(42, 3)},
			want: Decision{Outcome: Created, UserPrincipalName: "alice+0003@" + initial, MailNickname: "alice",
				ProvisioningErrors: []ProvisioningError{pe(PropertyUserPrincipalName, "alice@contoso.com")}, Quarantined: true},
		},
		{
			name: "soft match on UPN when softMatchOnUpnEnabled",
			doc:  docExisting + "#sync-with-existing-users-in-microsoft-entra-id",
			e:    Export{Type: User, SourceAnchor: "new5", UserPrincipalName: "Frank@contoso.com", ProxyAddresses: []string{"SMTP:frank.x@contoso.com"}},
			cfg:  on(Features{SoftMatchOnUpn: true}),
			want: Decision{Outcome: SoftMatchUPN, TargetID: "u-upn", UserPrincipalName: "Frank@contoso.com", MailNickname: "frank.x",
				ProxyAddresses: []string{"SMTP:frank.x@contoso.com"}},
		},
		{
			name: "no UPN soft match when softMatchOnUpnEnabled is off",
			doc:  docExisting + "#sync-with-existing-users-in-microsoft-entra-id",
			e:    Export{Type: User, SourceAnchor: "new6", UserPrincipalName: "frank@contoso.com"},
			cfg:  Config{QuarantineSuffix: suffixes(1234)},
			want: Decision{Outcome: Created, UserPrincipalName: "frank+1234@" + initial, MailNickname: "frank",
				ProvisioningErrors: []ProvisioningError{pe(PropertyUserPrincipalName, "frank@contoso.com")}, Quarantined: true},
		},
		{
			name: "non-verified UPN suffix rewritten to MailNickName@initial, so no UPN match",
			doc:  docUPN + "#nonverified-upn-suffix",
			e:    Export{Type: User, SourceAnchor: "new7", UserPrincipalName: "frank@contoso.local"},
			cfg:  on(Features{SoftMatchOnUpn: true}),
			want: Decision{Outcome: Created, UserPrincipalName: "frank@" + initial, MailNickname: "frank"},
		},
		{
			name: "non-verified suffix uses the on-premises mailNickName first",
			doc:  docUPN + "#scenario-1-nonverified-upn-suffix--initial-synchronization",
			e: Export{Type: User, SourceAnchor: "new8", UserPrincipalName: "user3@contoso.local", MailNickname: "",
				Mail: "user2@contoso.local", ProxyAddresses: []string{"SMTP:user1@contoso.local"}},
			want: Decision{Outcome: Created, UserPrincipalName: "user1@" + initial, MailNickname: "user1",
				ProxyAddresses: []string{"SMTP:user1@contoso.local"}},
		},
		{
			name: "UPN with white space is invalid and recalculated",
			doc:  docUPN + "#verified-upn-suffix",
			e:    Export{Type: User, SourceAnchor: "new9", UserPrincipalName: "kim lee@contoso.com", MailNickname: "klee"},
			cfg:  on(Features{SoftMatchOnUpn: true}),
			want: Decision{Outcome: Created, UserPrincipalName: "klee@" + initial, MailNickname: "klee"},
		},
		{
			name: "admin role: no match, new quarantined object, ExistingAdminRoleConflict",
			doc:  docTshoot + "#existing-admin-role-conflict",
			e:    Export{Type: User, SourceAnchor: "new10", UserPrincipalName: "admin@contoso.com", ProxyAddresses: []string{"SMTP:admin@contoso.com"}},
			cfg:  Config{Features: Features{SoftMatchOnUpn: true}, QuarantineSuffix: suffixes(9)},
			want: Decision{Outcome: Created, Code: CodeExistingAdminRoleConflict,
				Message:           adminConflict("u-admin"),
				UserPrincipalName: "admin+0009@" + initial, MailNickname: "admin",
				ProvisioningErrors: []ProvisioningError{
					pe(PropertyUserPrincipalName, "admin@contoso.com"),
					pe(PropertyProxyAddresses, "SMTP:admin@contoso.com"),
				}, Quarantined: true},
		},
		{
			name: "admin role: any directory role blocks soft match, not only a privileged one",
			doc:  docExisting + "#considerations-on-soft-matching-user-with-admin-role",
			e:    Export{Type: User, SourceAnchor: "new10b", UserPrincipalName: "exa@contoso.com", ProxyAddresses: []string{"SMTP:exa@contoso.com"}},
			cfg:  Config{QuarantineSuffix: suffixes(5)},
			want: Decision{Outcome: Created, Code: CodeExistingAdminRoleConflict, Message: adminConflict("u-exa"),
				UserPrincipalName: "exa+0005@" + initial, MailNickname: "exa",
				ProvisioningErrors: []ProvisioningError{
					pe(PropertyUserPrincipalName, "exa@contoso.com"),
					pe(PropertyProxyAddresses, "SMTP:exa@contoso.com"),
				}, Quarantined: true},
		},
		{
			name: "admin role: eligibility for a non-privileged role blocks soft match by default",
			doc:  docTshoot + "#existing-admin-role-conflict",
			e:    Export{Type: User, SourceAnchor: "new10c", UserPrincipalName: "reader@contoso.com", ProxyAddresses: []string{"SMTP:reader@contoso.com"}},
			cfg:  Config{QuarantineSuffix: suffixes(6)},
			want: Decision{Outcome: Created, Code: CodeExistingAdminRoleConflict, Message: adminConflict("u-reader-elig"),
				UserPrincipalName: "reader+0006@" + initial, MailNickname: "reader",
				ProvisioningErrors: []ProvisioningError{
					pe(PropertyUserPrincipalName, "reader@contoso.com"),
					pe(PropertyProxyAddresses, "SMTP:reader@contoso.com"),
				}, Quarantined: true},
		},
		{
			name: "switch: PIM eligibility alone does not block soft match",
			doc:  docExisting + "#considerations-on-soft-matching-user-with-admin-role",
			e:    Export{Type: User, SourceAnchor: "new11", UserPrincipalName: "elig@contoso.com", ProxyAddresses: []string{"SMTP:elig@contoso.com"}},
			cfg:  Config{SoftMatchIgnoresEligibility: true},
			want: Decision{Outcome: SoftMatchSMTP, TargetID: "u-elig", UserPrincipalName: "elig@contoso.com", MailNickname: "elig",
				ProxyAddresses: []string{"SMTP:elig@contoso.com"}},
		},
		{
			name: "PIM eligibility blocks soft match by default",
			doc:  docExisting + "#considerations-on-soft-matching-user-with-admin-role",
			e:    Export{Type: User, SourceAnchor: "new11", UserPrincipalName: "elig@contoso.com", ProxyAddresses: []string{"SMTP:elig@contoso.com"}},
			cfg:  Config{QuarantineSuffix: suffixes(1)},
			want: Decision{Outcome: Created, Code: CodeExistingAdminRoleConflict,
				Message:           adminConflict("u-elig"),
				UserPrincipalName: "elig+0001@" + initial, MailNickname: "elig",
				ProvisioningErrors: []ProvisioningError{
					pe(PropertyUserPrincipalName, "elig@contoso.com"),
					pe(PropertyProxyAddresses, "SMTP:elig@contoso.com"),
				}, Quarantined: true},
		},
		{
			name: "switch: soft match refused with InvalidSoftMatch, target already has another source anchor",
			doc:  docTshoot + "#invalidsoftmatch",
			e:    Export{Type: User, SourceAnchor: "new12", UserPrincipalName: "grace2@contoso.com", ProxyAddresses: []string{"SMTP:grace@contoso.com"}},
			cfg:  Config{SoftMatchConflict: ConflictInvalidSoftMatch},
			want: Decision{Outcome: Error, TargetID: "u-synced-soft", Code: CodeInvalidSoftMatch,
				Message: "the object matching on primary SMTP address already has a different source anchor"},
		},
		{
			name: "anchored target, by default (duplicate attribute resiliency): provisioned with the value quarantined",
			doc:  docTshoot + "#invalidsoftmatch",
			e:    Export{Type: User, SourceAnchor: "new12", UserPrincipalName: "grace2@contoso.com", ProxyAddresses: []string{"SMTP:grace@contoso.com"}},
			want: Decision{Outcome: Created, UserPrincipalName: "grace2@contoso.com", MailNickname: "grace",
				ProvisioningErrors: []ProvisioningError{pe(PropertyProxyAddresses, "SMTP:grace@contoso.com")}, Quarantined: true},
		},
		{
			name: "anchored target, 2026 page: AttributeValueMustBeUnique",
			doc:  docExisting + "#hard-match-vs-soft-match",
			e:    Export{Type: User, SourceAnchor: "new12", UserPrincipalName: "grace2@contoso.com", ProxyAddresses: []string{"SMTP:grace@contoso.com"}},
			cfg:  Config{SoftMatchConflict: ConflictAttributeValueMustBeUnique},
			want: Decision{Outcome: Error, TargetID: "u-synced-soft", Code: CodeAttributeValueMustBeUnique,
				Message: "another object already uses this primary SMTP address value"},
		},
		{
			name: "switch: UPN soft match on an anchored user is InvalidSoftMatch too",
			doc:  docTshoot + "#invalidsoftmatch",
			e:    Export{Type: User, SourceAnchor: "new13", UserPrincipalName: "grace@contoso.com"},
			cfg:  Config{Features: Features{SoftMatchOnUpn: true}, SoftMatchConflict: ConflictInvalidSoftMatch},
			want: Decision{Outcome: Error, TargetID: "u-synced-soft", Code: CodeInvalidSoftMatch,
				Message: "the object matching on userPrincipalName already has a different source anchor"},
		},
		{
			name: "user whose primary SMTP equals a group's: ObjectTypeMismatch",
			doc:  docTshoot + "#objecttypemismatch",
			e:    Export{Type: User, SourceAnchor: "new14", UserPrincipalName: "tax@contoso.com", ProxyAddresses: []string{"SMTP:tax@contoso.com"}},
			want: Decision{Outcome: Error, TargetID: "g-mail", Code: CodeObjectTypeMismatch,
				Message: "the primary SMTP address value matches a group, the exported object is a user"},
		},
		{
			name: "mail-enabled group soft matches on proxyAddresses",
			doc:  docExisting + "#other-objects-than-users",
			e:    Export{Type: Group, SourceAnchor: "grp1", MailEnabled: true, ProxyAddresses: []string{"SMTP:tax@contoso.com"}},
			want: Decision{Outcome: SoftMatchSMTP, TargetID: "g-mail", ProxyAddresses: []string{"SMTP:tax@contoso.com"}},
		},
		{
			name: "non-mail-enabled group is never matched; colliding address quarantined",
			doc:  docExisting + "#other-objects-than-users",
			e:    Export{Type: Group, SourceAnchor: "grp2", ProxyAddresses: []string{"SMTP:tax@contoso.com"}},
			want: Decision{Outcome: Created,
				ProvisioningErrors: []ProvisioningError{pe(PropertyProxyAddresses, "SMTP:tax@contoso.com")}, Quarantined: true},
		},
		{
			name: "contact soft matches on proxyAddresses",
			doc:  docExisting + "#other-objects-than-users",
			e:    Export{Type: Contact, SourceAnchor: "ct1", ProxyAddresses: []string{"SMTP:vendor@fabrikam.com"}},
			want: Decision{Outcome: SoftMatchSMTP, TargetID: "c-vendor", ProxyAddresses: []string{"SMTP:vendor@fabrikam.com"}},
		},
		{
			name: "soft-deleted objects neither match nor hold values",
			doc:  docResiliency,
			e:    Export{Type: User, SourceAnchor: "new15", UserPrincipalName: "mallory@contoso.com", ProxyAddresses: []string{"SMTP:mallory@contoso.com"}},
			cfg:  on(Features{SoftMatchOnUpn: true}),
			want: Decision{Outcome: Created, UserPrincipalName: "mallory@contoso.com", MailNickname: "mallory",
				ProxyAddresses: []string{"SMTP:mallory@contoso.com"}},
		},

		// --- provisioning ---
		{
			name: "brand-new user without collisions",
			doc:  docExisting + "#hard-match-vs-soft-match",
			e: Export{Type: User, SourceAnchor: "new16", UserPrincipalName: "nina@contoso.com",
				ProxyAddresses: []string{"SMTP:nina@contoso.com", "smtp:NINA@contoso.com", "smtp:n@contoso.com", "SIP:nina@contoso.com"}},
			want: Decision{Outcome: Created, UserPrincipalName: "nina@contoso.com", MailNickname: "nina",
				ProxyAddresses: []string{"SMTP:nina@contoso.com", "smtp:n@contoso.com", "SIP:nina@contoso.com"}},
		},
		{
			// Found by the differential test against internal/syncplan: the
			// first of several candidates used to be matched. No page says
			// which one Entra would take, so none is (the stricter reading).
			name: "two objects answer to the primary SMTP address: none is matched",
			doc:  docExisting + "#hard-match-vs-soft-match",
			e:    Export{Type: User, SourceAnchor: "new18", UserPrincipalName: "sam@contoso.com", ProxyAddresses: []string{"SMTP:shared@contoso.com"}},
			want: Decision{Outcome: Created, UserPrincipalName: "sam@contoso.com", MailNickname: "shared", Quarantined: true,
				ProvisioningErrors: []ProvisioningError{{Category: CategoryPropertyConflict, PropertyCausingError: PropertyProxyAddresses, Value: "SMTP:shared@contoso.com"}}},
		},
		{
			name: "missing sourceAnchor",
			doc:  docTshoot + "#identitydatavalidationfailed",
			e:    Export{Type: User, UserPrincipalName: "x@contoso.com"},
			want: Decision{Outcome: Error, Code: CodeIdentityDataValidationFailed, Message: "the exported object has no sourceAnchor"},
		},
		{
			name: "unknown object type",
			doc:  docTshoot + "#identitydatavalidationfailed",
			e:    Export{Type: "device", SourceAnchor: "d1"},
			want: Decision{Outcome: Error, Code: CodeIdentityDataValidationFailed, Message: `unknown object type "device"`},
		},
		{
			name: "user without any name to build a UPN from",
			doc:  docUPN + "#microsoft-entra-mailnickname-attribute-value-calculation",
			e:    Export{Type: User, SourceAnchor: "new17"},
			want: Decision{Outcome: Error, Code: CodeIdentityDataValidationFailed,
				Message: "the user has neither a valid userPrincipalName nor a value to derive a mailNickname from"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.doc == "" {
				t.Fatal("every row must cite the Microsoft page it follows")
			}
			got := Decide(tt.e, tt.cfg, tenant())
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Decide() mismatch (-want +got), per %s:\n%s", tt.doc, diff)
			}
		})
	}
}

func TestDecideRandomSuffixHasFourDigits(t *testing.T) {
	// doc: how-to-connect-syncservice-duplicate-attribute-resiliency (<OriginalPrefix>+<4DigitNumber>@<initial>)
	d := Decide(Export{Type: User, SourceAnchor: "r", UserPrincipalName: "alice@contoso.com", ProxyAddresses: []string{"SMTP:other@contoso.com"}},
		Config{}, tenant())
	if d.Outcome != Created || !d.Quarantined {
		t.Fatalf("want a quarantined create, got %+v", d)
	}
	if !quarantined.MatchString(d.UserPrincipalName) {
		t.Errorf("quarantined UPN %q does not look like alice+NNNN@%s", d.UserPrincipalName, initial)
	}
}

func TestDecideDoesNotMutateDirectory(t *testing.T) {
	dir := tenant()
	before := tenant()
	for _, e := range []Export{
		{Type: User, SourceAnchor: "Q2Fyb2w=", UserPrincipalName: "carol@contoso.com"},
		{Type: User, SourceAnchor: "n", UserPrincipalName: "alice@contoso.com", ProxyAddresses: []string{"SMTP:alice@contoso.com"}},
	} {
		Decide(e, Config{Features: Features{BlockSoftMatch: true}}, dir)
	}
	if diff := cmp.Diff(before, dir); diff != "" {
		t.Errorf("directory changed:\n%s", diff)
	}
}
