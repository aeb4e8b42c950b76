package fakead

import (
	"slices"
	"testing"
)

const (
	testDomain   = "corp.example.test"
	testBase     = "DC=corp,DC=example,DC=test"
	testPassword = "Adm1n-Passw0rd!"
	// docAnchor is where the GUID byte order and the immutableId examples
	// come from: entra-docs, the sourceAnchor section of the design concepts
	// (the byte order of the anchor: the first three GUID fields little-endian).
	docAnchor = "https://learn.microsoft.com/en-us/entra/identity/hybrid/connect/plan-connect-design-concepts"
	// docADTSModify is MS-ADTS on modify semantics and the permissive modify
	// control (3.1.1.3.4.1.8).
	docADTSModify = "https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-adts/49cdb1e3-3baa-4c7c-8cde-7c26b13d3ba7"
	// docMatchingRules is MS-ADTS 3.1.1.3.4.4, AD's extensible matching
	// rules (bitwise AND/OR, transitive in-chain).
	docMatchingRules = "https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-adts/4e638665-f466-4597-93c4-12f2ebfabab5"
	// docObjectCategory is MS-ADTS 3.1.1.3.1.3.5: a class name in an
	// objectCategory clause stands for the class's defaultObjectCategory.
	docObjectCategory = "https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-adts/e1c068a5-eb1d-4f62-ab3b-81218472cb57"
	// docCategoryPerson says user, person, organizationalPerson and contact
	// all have the category Person.
	docCategoryPerson = "https://learn.microsoft.com/en-us/windows/win32/ad/object-class-and-object-category"
)

// aliceGUID contains the byte 0x41 ('A'): a filter with 0x61 ('a') in its
// place must not match, which catches case-insensitive binary matching.
var aliceGUID = mustGUID("3ab39606-c642-489b-84b6-58c038d3ef41")

func mustGUID(s string) GUID {
	g, err := ParseGUID(s)
	if err != nil {
		panic(err)
	}
	return g
}

// fixture is a directory with a few objects of every kind.
type fixture struct {
	*Server
	alice, bob, carol, sales, allStaff, partner, staffOU string
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	s, err := New(Config{Domain: testDomain, AdminPassword: testPassword, UPNSuffixes: []string{"contoso.com"}})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(s.Close)
	f := &fixture{Server: s}
	must := func(dn string, _ GUID, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return dn
	}
	if f.staffOU, err = s.AddOU("Staff", ""); err != nil {
		t.Fatal(err)
	}
	consistency := mustGUID("a15df3dc-4416-414b-8b7d-5fbdcb5743c1")
	f.alice = must(s.AddUser(User{
		SAMAccountName: "alice", UserPrincipalName: "alice@contoso.com", Mail: "alice@contoso.com",
		ProxyAddresses: []string{"SMTP:alice@contoso.com", "smtp:a@contoso.com"},
		DisplayName:    "Alice Liddell", GivenName: "Alice", Surname: "Liddell",
		Password: "Al1ce-Passw0rd", AdminCount: 1, ObjectGUID: aliceGUID, ConsistencyGUID: &consistency,
	}))
	f.bob = must(s.AddUser(User{
		SAMAccountName: "bob", Parent: "OU=Staff", UserPrincipalName: "bob@corp.example.test",
		DisplayName: "Bob Builder", Password: "B0b-Passw0rd", Disabled: true,
	}))
	f.carol = must(s.AddUser(User{
		SAMAccountName: "carol", Parent: "OU=Staff", UserPrincipalName: "carol@contoso.com",
		Mail: "carol@contoso.com", Password: "Car0l-Passw0rd",
	}))
	f.sales = must(s.AddGroup(Group{CN: "Sales", GroupType: 2, Mail: "sales@contoso.com",
		ProxyAddresses: []string{"SMTP:sales@contoso.com"}, Members: []string{"alice"}}))
	f.allStaff = must(s.AddGroup(Group{CN: "All Staff", Members: []string{f.sales}}))
	f.partner = must(s.AddContact(Contact{CN: "Partner", Mail: "partner@fabrikam.com",
		ProxyAddresses: []string{"SMTP:partner@fabrikam.com"}}))
	return f
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}
