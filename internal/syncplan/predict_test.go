package syncplan

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

const (
	pageExisting   = "https://learn.microsoft.com/entra/identity/hybrid/connect/how-to-connect-install-existing-tenant"
	pageResiliency = "https://learn.microsoft.com/entra/identity/hybrid/connect/how-to-connect-syncservice-duplicate-attribute-resiliency"
	pageTshoot     = "https://learn.microsoft.com/entra/identity/hybrid/connect/tshoot-connect-sync-errors"
	pageUPN        = "https://learn.microsoft.com/entra/identity/hybrid/connect/plan-connect-userprincipalname"
	pageUser       = "https://learn.microsoft.com/graph/api/resources/user"
)

func yes() *bool { b := true; return &b }

func world(f Flags) Tenant {
	return Tenant{
		VerifiedDomains: []string{"contoso.com", "contoso.onmicrosoft.com"},
		InitialDomain:   "contoso.onmicrosoft.com",
		Flags:           f,
		Objects: []CloudObject{
			{ID: "alice", Kind: User, UserPrincipalName: "alice@contoso.com", ProxyAddresses: []string{"SMTP:alice@contoso.com"}},
			{ID: "bob", Kind: User, UserPrincipalName: "bob@contoso.com", Mail: "bob@contoso.com"},
			{ID: "carol", Kind: User, UserPrincipalName: "carol@contoso.com", ImmutableID: "Q2Fyb2w="},
			{ID: "dave", Kind: User, UserPrincipalName: "dave@contoso.com", ImmutableID: "RGF2ZQ==", SyncEnabled: yes(), ObjectIdentifier: "oid-dave"},
			{ID: "erin", Kind: User, UserPrincipalName: "erin@contoso.com", ImmutableID: "RXJpbg==", PrivilegedEligible: true, AdminEligible: true},
			{ID: "frank", Kind: User, UserPrincipalName: "frank@contoso.com", ProxyAddresses: []string{"SMTP:frank@contoso.com"}, AdminAssigned: true},
			{ID: "judy", Kind: User, UserPrincipalName: "judy@contoso.com", ImmutableID: "SnVkeQ==", ObjectIdentifier: "oid-old"},
			{ID: "tax", Kind: Group, MailEnabled: true, ProxyAddresses: []string{"SMTP:tax@contoso.com"}},
			{ID: "vendor", Kind: Contact, Mail: "vendor@fabrikam.com"},
			{ID: "sue", Kind: User, UserPrincipalName: "sue@contoso.com", Mail: "shared@contoso.com"},
			{ID: "shared", Kind: Contact, Mail: "shared@contoso.com"},
			{ID: "synced-group", Kind: Group, MailEnabled: true, ProxyAddresses: []string{"SMTP:hr@contoso.com"}, SyncEnabled: yes(), AnchorHidden: true, SamAccountName: "HR"},
			{ID: "synced-contact", Kind: Contact, Mail: "partner@fabrikam.com", SyncEnabled: yes(), AnchorHidden: true},
			{ID: "gone", Kind: User, UserPrincipalName: "mallory@contoso.com", ProxyAddresses: []string{"SMTP:mallory@contoso.com"}, Deleted: true},
		},
	}
}

func TestPredictRules(t *testing.T) {
	upn := func(u, s string) Export {
		return Export{Kind: User, Anchor: "new", UserPrincipalName: u, ProxyAddresses: []string{"SMTP:" + s}}
	}
	for _, tc := range []struct {
		name  string
		page  string
		flags Flags
		e     Export
		want  Prediction
	}{
		{"hard match on a cloud-managed user", pageExisting, Flags{}, Export{Kind: User, Anchor: "Q2Fyb2w=", UserPrincipalName: "carol@contoso.com"},
			Prediction{Outcome: HardMatch, CloudID: "carol", UserPrincipalName: "carol@contoso.com"}},
		{"takeover blocked", pageTshoot, Flags{BlockTakeover: true}, Export{Kind: User, Anchor: "Q2Fyb2w=", UserPrincipalName: "carol@contoso.com"},
			Prediction{Outcome: Refused, Code: CodeInvalidHardMatch, CloudID: "carol"}},
		{"privileged eligibility blocks a hard match", pageExisting, Flags{}, Export{Kind: User, Anchor: "RXJpbg==", UserPrincipalName: "erin@contoso.com"},
			Prediction{Outcome: Refused, Code: CodeInvalidHardMatch, CloudID: "erin"}},
		{"the bypass flag lifts the protections", pageExisting, Flags{AllowObjectIdentifierUpdate: true}, Export{Kind: User, Anchor: "RXJpbg==", UserPrincipalName: "erin@contoso.com"},
			Prediction{Outcome: HardMatch, CloudID: "erin", UserPrincipalName: "erin@contoso.com"}},
		{"another onPremisesObjectIdentifier", pageTshoot, Flags{}, Export{Kind: User, Anchor: "SnVkeQ==", UserPrincipalName: "judy@contoso.com", ObjectIdentifier: "oid-new"},
			Prediction{Outcome: Refused, Code: CodeAttributeUpdateNotAllowed, CloudID: "judy"}},
		{"already synced: updated", pageExisting, Flags{}, Export{Kind: User, Anchor: "RGF2ZQ==", UserPrincipalName: "dave@contoso.com", ObjectIdentifier: "oid-dave"},
			Prediction{Outcome: Updated, CloudID: "dave", UserPrincipalName: "dave@contoso.com"}},
		{"synced object claimed by another on-premises object", pageExisting, Flags{}, Export{Kind: User, Anchor: "RGF2ZQ==", UserPrincipalName: "dave@contoso.com", ObjectIdentifier: "oid-x"},
			Prediction{Outcome: Refused, Code: CodeAttributeUpdateNotAllowed, CloudID: "dave"}},
		{"soft match on primary SMTP", pageExisting, Flags{}, upn("a@contoso.com", "alice@contoso.com"),
			Prediction{Outcome: SoftMatchSMTP, CloudID: "alice", UserPrincipalName: "alice@contoso.com"}},
		{"mail stands for the primary address when there is no SMTP:", pageUser, Flags{}, upn("b@contoso.com", "bob@contoso.com"),
			Prediction{Outcome: SoftMatchSMTP, CloudID: "bob", UserPrincipalName: "bob@contoso.com"}},
		{"soft match on UPN only with softMatchOnUpnEnabled", pageExisting, Flags{SoftMatchOnUPN: true}, Export{Kind: User, Anchor: "new", UserPrincipalName: "carol@contoso.com"},
			Prediction{Outcome: Created, Code: CodeAnchorTaken, UserPrincipalName: "carol@contoso.com", QuarantinedUPN: true}},
		{"an admin role keeps a user from soft-matching", pageTshoot, Flags{}, upn("f@contoso.com", "frank@contoso.com"),
			Prediction{Outcome: Created, Code: CodeExistingAdminRoleConflict, UserPrincipalName: "f@contoso.com", QuarantinedProxies: []string{"SMTP:frank@contoso.com"}}},
		{"an address of another type", pageTshoot, Flags{}, upn("t@contoso.com", "tax@contoso.com"),
			Prediction{Outcome: Refused, Code: CodeObjectTypeMismatch}},
		{"a contact matches a contact by mail", pageExisting, Flags{}, Export{Kind: Contact, Anchor: "new", Mail: "vendor@fabrikam.com"},
			Prediction{Outcome: SoftMatchSMTP, CloudID: "vendor"}},
		{"a group without mail is created again", pageExisting, Flags{}, Export{Kind: Group, Anchor: "new"},
			Prediction{Outcome: Created, Code: CodeNotMailEnabled}},
		{"soft match blocked", pageExisting, Flags{BlockSoftMatch: true}, upn("a@contoso.com", "alice@contoso.com"),
			Prediction{Outcome: Created, Code: CodeSoftMatchBlocked, UserPrincipalName: "a@contoso.com", QuarantinedProxies: []string{"SMTP:alice@contoso.com"}}},
		{"two objects answer to one address: none is matched", pageUser, Flags{}, upn("s@contoso.com", "shared@contoso.com"),
			Prediction{Outcome: Created, Code: CodeAmbiguous, UserPrincipalName: "s@contoso.com", QuarantinedProxies: []string{"SMTP:shared@contoso.com"}}},
		{"a deleted object is not soft-matched", pageResiliency, Flags{}, upn("m@contoso.com", "mallory@contoso.com"),
			Prediction{Outcome: Created, UserPrincipalName: "m@contoso.com"}},
		{"an unverified suffix gives the MOERA, from the primary SMTP prefix", pageUPN, Flags{SoftMatchOnUPN: true},
			Export{Kind: User, Anchor: "new", UserPrincipalName: "us3@corp.local", Mail: "us2@contoso.com", ProxyAddresses: []string{"SMTP:us1@contoso.com"}},
			Prediction{Outcome: Created, Code: CodeUPNNotVerified, UserPrincipalName: "us1@contoso.onmicrosoft.com"}},
		{"the MOERA from mailNickName first", pageUPN, Flags{}, Export{Kind: User, Anchor: "new", UserPrincipalName: "us3@corp.local", MailNickname: "us4"},
			Prediction{Outcome: Created, Code: CodeUPNNotVerified, UserPrincipalName: "us4@contoso.onmicrosoft.com"}},
		{"a synced group is recognized by its sAMAccountName, Graph hiding its anchor", pageExisting, Flags{},
			Export{Kind: Group, Anchor: "g", SamAccountName: "hr"}, Prediction{Outcome: Updated, Code: CodeAnchorHidden, CloudID: "synced-group"}},
		{"a synced contact by its address", pageExisting, Flags{}, Export{Kind: Contact, Anchor: "c", Mail: "partner@fabrikam.com"},
			Prediction{Outcome: Updated, Code: CodeAnchorHidden, CloudID: "synced-contact"}},
		{"a colliding UPN is quarantined", pageResiliency, Flags{}, Export{Kind: User, Anchor: "new", UserPrincipalName: "alice@contoso.com"},
			Prediction{Outcome: Created, UserPrincipalName: "alice@contoso.com", QuarantinedUPN: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Predict(world(tc.flags), []Export{tc.e})[0]
			got.Reason = ""
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("per %s (-want +got):\n%s", tc.page, diff)
			}
		})
	}
}

// An export changes what a later one finds: a matched object carries the
// anchor and the exported addresses from then on.
func TestPredictInOrder(t *testing.T) {
	got := Predict(world(Flags{}), []Export{
		{Kind: User, Anchor: "one", UserPrincipalName: "a1@contoso.com", ProxyAddresses: []string{"SMTP:alice@contoso.com"}},
		{Kind: User, Anchor: "two", UserPrincipalName: "a2@contoso.com", ProxyAddresses: []string{"SMTP:alice@contoso.com"}},
		{Kind: User, Anchor: "one", UserPrincipalName: "a1@contoso.com", ProxyAddresses: []string{"SMTP:alice@contoso.com"}},
	})
	if got[0].Outcome != SoftMatchSMTP || got[1].Outcome != Created || got[1].Code != CodeAnchorTaken || got[2].Outcome != Updated {
		t.Fatalf("%+v", got)
	}
}
