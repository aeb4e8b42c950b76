//go:build !unit

// Excluded from make unit (-tags unit): it needs a Samba AD DC.

package samba

import (
	"os"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/entramatch/entra-match-operator/internal/anchor"
)

var shared Shared

func TestMain(m *testing.M) {
	code := m.Run()
	shared.Stop()
	os.Exit(code)
}

func TestCreateUserAndReadItBack(t *testing.T) {
	dc := shared.Get(t)
	sam := UniqueName(t, "helper")
	dn := dc.CreateUser(t, User{
		Sam:            sam,
		UPN:            sam + "@" + DNSDomain,
		Mail:           sam + "@example.com",
		ProxyAddresses: []string{"SMTP:" + sam + "@example.com", "smtp:" + sam + "@alias.example.com"},
		GivenName:      "Helper",
		Surname:        "Test",
	})
	dc.Replace(t, dn, "adminCount", "1")
	consistency := []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	dc.SetConsistencyGUID(t, dn, consistency)

	res, err := dc.Conn(t).Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=user)", []string{"objectGUID", "mS-DS-ConsistencyGuid", "proxyAddresses", "adminCount", "userAccountControl"}, nil))
	if err != nil {
		t.Fatalf("search %s: %v", dn, err)
	}
	if len(res.Entries) != 1 {
		t.Fatalf("search %s: %d entries", dn, len(res.Entries))
	}
	e := res.Entries[0]
	guid, err := anchor.FromBytes(e.GetRawAttributeValue("objectGUID"))
	if err != nil {
		t.Fatalf("objectGUID: %v", err)
	}
	if got, want := guid.GUID(), dc.GUIDString(t, sam); got != want {
		t.Errorf("objectGUID over LDAP reads as %s, samba-tool prints %s", got, want)
	}
	if got := e.GetRawAttributeValue("mS-DS-ConsistencyGuid"); string(got) != string(consistency) {
		t.Errorf("mS-DS-ConsistencyGuid = %x, want %x", got, consistency)
	}
	if got := e.GetAttributeValues("proxyAddresses"); len(got) != 2 {
		t.Errorf("proxyAddresses = %q, want 2 values", got)
	}
	if got := e.GetAttributeValue("adminCount"); got != "1" {
		t.Errorf("adminCount = %q, want 1", got)
	}
	if got := e.GetAttributeValue("userAccountControl"); got != "512" {
		t.Errorf("userAccountControl = %q, want 512 (enabled normal account)", got)
	}
	dc.SetConsistencyGUID(t, dn, nil)
}

func TestAddUPNSuffix(t *testing.T) {
	dc := shared.Get(t)
	suffix := UniqueName(t, "s") + ".example.com"
	dc.AddUPNSuffix(t, suffix)
	res, err := dc.Conn(t).Search(ldap.NewSearchRequest("CN=Partitions,CN=Configuration,"+dc.BaseDN, ldap.ScopeBaseObject,
		ldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)", []string{"uPNSuffixes"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, v := range res.Entries[0].GetAttributeValues("uPNSuffixes") {
		found = found || v == suffix
	}
	if !found {
		t.Errorf("uPNSuffixes lacks %s", suffix)
	}
}
