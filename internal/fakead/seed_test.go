package fakead

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-ldap/ldap/v3"
	"github.com/google/go-cmp/cmp"
)

const seedYAML = `
upnSuffixes: [contoso.com, fabrikam.com]
ous:
  - name: Staff
  - name: Sales
    parent: OU=Staff
users:
  - sAMAccountName: dana
    parent: OU=Sales,OU=Staff
    userPrincipalName: dana@contoso.com
    mail: dana@contoso.com
    proxyAddresses: ["SMTP:dana@contoso.com", "smtp:d@contoso.com"]
    givenName: Dana
    sn: Scully
    password: Dana-Passw0rd
    objectGUID: 3ab39606-c642-489b-84b6-58c038d3ef39
    consistencyGuid: a15df3dc-4416-414b-8b7d-5fbdcb5743c1
    attributes:
      telephoneNumber: ["+1 555 0100"]
  - sAMAccountName: admin2
    adminCount: 1
    disabled: true
groups:
  - cn: Sales Team
    groupType: 2
    mail: sales@contoso.com
    proxyAddresses: ["SMTP:sales@contoso.com"]
    members: [dana]
contacts:
  - cn: Partner
    mail: partner@fabrikam.com
`

func TestLoadSeed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seed.yaml")
	if err := os.WriteFile(path, []byte(seedYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	seed, err := ReadSeedFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Domain: testDomain, AdminPassword: testPassword})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if err := s.Load(seed); err != nil {
		t.Fatalf("Load: %v", err)
	}
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	c := dialAs(t, s, "dana@contoso.com", "Dana-Passw0rd")
	dana := "CN=dana,OU=Sales,OU=Staff," + testBase
	e := search(t, c, testBase, ldap.ScopeWholeSubtree, "(sAMAccountName=dana)",
		"objectGUID", "mS-DS-ConsistencyGuid", "telephoneNumber", "memberOf", "sn", "proxyAddresses")
	if len(e) != 1 || e[0].DN != dana {
		t.Fatalf("dana: %v", dns(e))
	}
	guid := mustGUID("3ab39606-c642-489b-84b6-58c038d3ef39")
	if !bytes.Equal(e[0].GetRawAttributeValue("objectGUID"), guid[:]) {
		t.Errorf("objectGUID % x, want % x", e[0].GetRawAttributeValue("objectGUID"), guid[:])
	}
	cons := mustGUID("a15df3dc-4416-414b-8b7d-5fbdcb5743c1")
	if !bytes.Equal(e[0].GetRawAttributeValue("mS-DS-ConsistencyGuid"), cons[:]) {
		t.Errorf("mS-DS-ConsistencyGuid % x, want % x", e[0].GetRawAttributeValue("mS-DS-ConsistencyGuid"), cons[:])
	}
	for attr, want := range map[string][]string{
		"telephoneNumber": {"+1 555 0100"},
		"memberOf":        {"CN=Sales Team,CN=Users," + testBase},
		"sn":              {"Scully"},
		"proxyAddresses":  {"SMTP:dana@contoso.com", "smtp:d@contoso.com"},
	} {
		if diff := cmp.Diff(want, e[0].GetAttributeValues(attr)); diff != "" {
			t.Errorf("%s mismatch (-want +got):\n%s", attr, diff)
		}
	}
	admin2 := search(t, c, testBase, ldap.ScopeWholeSubtree, "(sAMAccountName=admin2)", "userAccountControl", "adminCount")
	if len(admin2) != 1 || admin2[0].GetAttributeValue("userAccountControl") != "514" || admin2[0].GetAttributeValue("adminCount") != "1" {
		t.Errorf("admin2: %+v", admin2)
	}
	if got := search(t, c, testBase, ldap.ScopeWholeSubtree, "(mail=partner@fabrikam.com)", "1.1"); len(got) != 1 {
		t.Errorf("contact: %d entries", len(got))
	}
	sfx := search(t, c, "CN=Partitions,CN=Configuration,"+testBase, ldap.ScopeBaseObject, "(objectClass=*)", "uPNSuffixes")
	if diff := cmp.Diff([]string{"contoso.com", "fabrikam.com"}, sfx[0].GetAttributeValues("uPNSuffixes")); diff != "" {
		t.Errorf("uPNSuffixes mismatch (-want +got):\n%s", diff)
	}
}

func TestSeedErrors(t *testing.T) {
	cases := map[string]string{
		"unknown field":         "users:\n  - sAMAccountName: x\n    favouriteColour: blue\n",
		"invalid GUID":          "users:\n  - sAMAccountName: x\n    objectGUID: nope\n",
		"not YAML":              "users: [",
		"wrong type for a list": "users: alice\n",
	}
	for name, text := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseSeed([]byte(text)); err == nil {
				t.Fatal("ParseSeed accepted it")
			}
		})
	}
	loadCases := map[string]Seed{
		"duplicate sAMAccountName": {Users: []User{{SAMAccountName: "x"}, {CN: "y", SAMAccountName: "X"}}},
		"unknown member":           {Groups: []Group{{CN: "g", Members: []string{"ghost"}}}},
		"unknown attribute":        {Users: []User{{SAMAccountName: "x", Attributes: map[string][]string{"favouriteColour": {"blue"}}}}},
		"attribute set twice":      {Users: []User{{SAMAccountName: "x", Mail: "a@b", Attributes: map[string][]string{"MAIL": {"c@d"}}}}},
		"missing parent":           {Users: []User{{SAMAccountName: "x", Parent: "OU=Nowhere"}}},
		"duplicate GUID":           {Users: []User{{SAMAccountName: "x", ObjectGUID: aliceGUID}, {SAMAccountName: "y", ObjectGUID: aliceGUID}}},
		"nameless contact":         {Contacts: []Contact{{Mail: "a@b"}}},
	}
	for name, seed := range loadCases {
		t.Run(name, func(t *testing.T) {
			s, err := New(Config{Domain: testDomain, AdminPassword: testPassword})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := s.Load(seed); err == nil {
				t.Fatal("Load accepted it")
			}
		})
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	cases := map[string]Config{
		"no domain":           {AdminPassword: "x"},
		"single-label domain": {Domain: "corp", AdminPassword: "x"},
		"no admin password":   {Domain: testDomain},
		"base DN not DC=":     {Domain: testDomain, AdminPassword: "x", BaseDN: "OU=x,DC=corp"},
		"long NetBIOS name":   {Domain: testDomain, AdminPassword: "x", NetBIOSName: "ABCDEFGHIJKLMNOP"},
		"negative page size":  {Domain: testDomain, AdminPassword: "x", MaxPageSize: -1},
	}
	for name, cfg := range cases {
		t.Run(name, func(t *testing.T) {
			if s, err := New(cfg); err == nil {
				s.Close()
				t.Fatal("New accepted it")
			}
		})
	}
}
