package fakead

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// started is a fixture served over LDAPS.
func started(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t)
	if err := f.Start("127.0.0.1:0"); err != nil {
		t.Fatalf("Start: %v", err)
	}
	return f
}

func tlsConfig(t *testing.T, s *Server) *tls.Config {
	t.Helper()
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(s.CAPEM()) {
		t.Fatal("CAPEM holds no certificate")
	}
	return &tls.Config{RootCAs: roots, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
}

// dial opens an unbound LDAPS connection that verifies the certificate.
func dial(t *testing.T, s *Server) *ldap.Conn {
	t.Helper()
	c, err := ldap.DialURL(s.URL(), ldap.DialWithTLSConfig(tlsConfig(t, s)))
	if err != nil {
		t.Fatalf("dial %s: %v", s.URL(), err)
	}
	c.SetTimeout(10 * time.Second)
	t.Cleanup(func() { c.Close() })
	return c
}

func dialAs(t *testing.T, s *Server, name, password string) *ldap.Conn {
	t.Helper()
	c := dial(t, s)
	if err := c.Bind(name, password); err != nil {
		t.Fatalf("bind as %s: %v", name, err)
	}
	return c
}

func resultCode(err error) uint16 {
	var le *ldap.Error
	if errors.As(err, &le) {
		return le.ResultCode
	}
	return 0
}

func search(t *testing.T, c *ldap.Conn, base string, scope int, filter string, attrs ...string) []*ldap.Entry {
	t.Helper()
	res, err := c.Search(ldap.NewSearchRequest(base, scope, ldap.NeverDerefAliases, 0, 0, false, filter, attrs, nil))
	if err != nil {
		t.Fatalf("search %s under %s: %v", filter, base, err)
	}
	return res.Entries
}

func dns(entries []*ldap.Entry) []string {
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.DN
	}
	return sorted(out)
}

func TestURLAndCertificate(t *testing.T) {
	f := started(t)
	if !strings.HasPrefix(f.URL(), "ldaps://127.0.0.1:") || strings.HasSuffix(f.URL(), ":0") {
		t.Fatalf("URL() = %q, want ldaps://127.0.0.1:<port>", f.URL())
	}
	// Without the CA the certificate must be refused.
	_, err := ldap.DialURL(f.URL(), ldap.DialWithTLSConfig(&tls.Config{MinVersion: tls.VersionTLS12}))
	if err == nil {
		t.Fatal("dial without trusting CAPEM succeeded")
	}
}

func TestBind(t *testing.T) {
	f := started(t)
	cases := []struct {
		name, user, password string
		wantCode             uint16
		wantData             string // AD's sub-code in the diagnostic
	}{
		{name: "administrator by DN", user: f.AdminDN(), password: testPassword},
		{name: "administrator by implicit UPN", user: f.AdminUPN(), password: testPassword},
		{name: "DN ignores case", user: strings.ToLower(f.AdminDN()), password: testPassword},
		{name: "explicit UPN", user: "alice@contoso.com", password: "Al1ce-Passw0rd"},
		{name: "implicit UPN of a user with another UPN", user: "alice@" + testDomain, password: "Al1ce-Passw0rd"},
		{name: "NetBIOS domain", user: `CORP\alice`, password: "Al1ce-Passw0rd"},
		{name: "wrong password", user: f.AdminUPN(), password: "nope", wantCode: ldap.LDAPResultInvalidCredentials, wantData: "data 52e"},
		{name: "unknown user", user: "nobody@" + testDomain, password: "x", wantCode: ldap.LDAPResultInvalidCredentials, wantData: "data 52e"},
		{name: "disabled account", user: "bob@corp.example.test", password: "B0b-Passw0rd", wantCode: ldap.LDAPResultInvalidCredentials, wantData: "data 533"},
		{name: "disabled account, wrong password", user: "bob@corp.example.test", password: "x", wantCode: ldap.LDAPResultInvalidCredentials, wantData: "data 52e"},
		{name: "a group cannot bind", user: f.sales, password: "x", wantCode: ldap.LDAPResultInvalidCredentials, wantData: "data 52e"},
		{name: "other NetBIOS domain", user: `OTHER\alice`, password: "Al1ce-Passw0rd", wantCode: ldap.LDAPResultInvalidCredentials, wantData: "data 52e"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := dial(t, f.Server).Bind(tc.user, tc.password)
			if tc.wantCode == 0 {
				if err != nil {
					t.Fatalf("bind: %v", err)
				}
				return
			}
			if got := resultCode(err); got != tc.wantCode {
				t.Fatalf("bind error %v, want result %d", err, tc.wantCode)
			}
			if !strings.Contains(err.Error(), tc.wantData) {
				t.Errorf("bind error %q lacks %q", err, tc.wantData)
			}
		})
	}
}

func TestAnonymousAccess(t *testing.T) {
	f := started(t)
	c := dial(t, f.Server)
	// The root DSE is public, as in AD.
	if got := search(t, c, "", ldap.ScopeBaseObject, "(objectClass=*)", "defaultNamingContext"); len(got) != 1 {
		t.Fatalf("anonymous root DSE read returned %d entries", len(got))
	}
	_, err := c.Search(ldap.NewSearchRequest(testBase, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false, "(objectClass=user)", nil, nil))
	if resultCode(err) != ldap.LDAPResultOperationsError || !strings.Contains(err.Error(), "successful bind must be completed") {
		t.Fatalf("anonymous search: %v, want operationsError 000004DC", err)
	}
	// A failed bind leaves the connection anonymous.
	if err := c.Bind(f.AdminUPN(), "wrong"); err == nil {
		t.Fatal("bind with a wrong password succeeded")
	}
	_, err = c.Search(ldap.NewSearchRequest(testBase, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false, "(objectClass=user)", nil, nil))
	if resultCode(err) != ldap.LDAPResultOperationsError {
		t.Fatalf("search after a failed bind: %v, want operationsError", err)
	}
	mod := ldap.NewModifyRequest(f.alice, nil)
	mod.Replace("mail", []string{"x@contoso.com"})
	if err := c.Modify(mod); resultCode(err) != ldap.LDAPResultOperationsError {
		t.Fatalf("anonymous modify: %v, want operationsError", err)
	}
}

func TestRootDSE(t *testing.T) {
	f := started(t)
	c := dialAs(t, f.Server, f.AdminUPN(), testPassword)
	got := search(t, c, "", ldap.ScopeBaseObject, "(objectClass=*)")
	if len(got) != 1 {
		t.Fatalf("root DSE: %d entries", len(got))
	}
	e := got[0]
	want := map[string]string{
		"defaultNamingContext":       testBase,
		"configurationNamingContext": "CN=Configuration," + testBase,
		"rootDomainNamingContext":    testBase,
		"schemaNamingContext":        "CN=Schema,CN=Configuration," + testBase,
		"dnsHostName":                "dc1." + testDomain,
	}
	for attr, v := range want {
		if g := e.GetEqualFoldAttributeValue(attr); g != v {
			t.Errorf("%s = %q, want %q", attr, g, v)
		}
	}
	if !slices.Contains(e.GetAttributeValues("supportedControl"), "1.2.840.113556.1.4.319") {
		t.Errorf("supportedControl %v lacks the paged results control", e.GetAttributeValues("supportedControl"))
	}
	// Attribute selection applies to the root DSE too.
	only := search(t, c, "", ldap.ScopeBaseObject, "(objectClass=*)", "dnsHostName")
	if len(only[0].Attributes) != 1 || only[0].Attributes[0].Name != "dnsHostName" {
		t.Errorf("root DSE with one attribute requested returned %d attributes", len(only[0].Attributes))
	}
}

func TestSearchByAttribute(t *testing.T) {
	f := started(t)
	zoe, _, err := f.AddUser(User{SAMAccountName: "zoe", DisplayName: "Zoë Ångström", GivenName: "Zoë", Mail: "zoe@contoso.com"})
	if err != nil {
		t.Fatal(err)
	}
	c := dialAs(t, f.Server, f.AdminUPN(), testPassword)
	cases := []struct {
		name   string
		filter string
		want   []string
	}{
		{"sAMAccountName", "(sAMAccountName=alice)", []string{f.alice}},
		{"userPrincipalName", "(userPrincipalName=ALICE@contoso.com)", []string{f.alice}},
		{"mail", "(mail=carol@contoso.com)", []string{f.carol}},
		{"proxyAddresses", "(proxyAddresses=smtp:sales@contoso.com)", []string{f.sales}},
		{"objectGUID escaped byte by byte", binaryFilter("objectGUID", aliceGUID[:]), []string{f.alice}},
		{"objectGUID escaped by go-ldap", "(objectGUID=" + ldap.EscapeFilter(string(aliceGUID[:])) + ")", []string{f.alice}},
		{"distinguishedName", "(distinguishedName=" + ldap.EscapeFilter(f.carol) + ")", []string{f.carol}},
		{"displayName with a space", "(displayName=Bob Builder)", []string{f.bob}},
		{"non-ASCII value ignores case", "(displayName=zoë ÅNGSTRÖM)", []string{zoe}},
		{"non-ASCII substring", "(givenName=zo*)", []string{zoe}},
		{"bitwise AND through go-ldap", "(userAccountControl:1.2.840.113556.1.4.803:=2)", []string{f.bob}},
		{"in-chain through go-ldap", "(memberOf:1.2.840.113556.1.4.1941:=" + ldap.EscapeFilter(f.allStaff) + ")", []string{f.alice, f.sales}},
		{"NOT and presence", "(&(objectClass=user)(!(mS-DS-ConsistencyGuid=*))(mail=*))", []string{f.carol, zoe}},
		{"the operator's user filter", "(&(objectCategory=person)(objectClass=user)(|(sAMAccountName=alice)(mail=carol@contoso.com)(proxyAddresses=smtp:carol@contoso.com)))", []string{f.alice, f.carol}},
		{"injection in a value", "(sAMAccountName=" + ldap.EscapeFilter("*)(objectClass=*") + ")", nil},
		{"injection with a NUL byte", "(sAMAccountName=" + ldap.EscapeFilter("alice\x00") + ")", nil},
		{"injection closing the OR", "(&(objectClass=user)(|(sAMAccountName=" + ldap.EscapeFilter("x)(sAMAccountName=*") + ")))", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := dns(search(t, c, testBase, ldap.ScopeWholeSubtree, tc.filter, "1.1"))
			if diff := cmp.Diff(sorted(tc.want), got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s mismatch (-want +got):\n%s", tc.filter, diff)
			}
		})
	}
}

func TestSearchReturnsAttributesLikeAD(t *testing.T) {
	f := started(t)
	c := dialAs(t, f.Server, "alice@contoso.com", "Al1ce-Passw0rd")
	got := search(t, c, testBase, ldap.ScopeWholeSubtree, "(sAMAccountName=alice)",
		"OBJECTGUID", "ms-ds-consistencyguid", "proxyAddresses", "memberOf", "unicodePwd", "noSuchAttribute")
	if len(got) != 1 {
		t.Fatalf("%d entries", len(got))
	}
	e := got[0]
	var names []string
	for _, a := range e.Attributes {
		names = append(names, a.Name)
	}
	// Names come back in the schema's spelling; passwords and unknown
	// names are left out.
	if diff := cmp.Diff([]string{"objectGUID", "mS-DS-ConsistencyGuid", "proxyAddresses", "memberOf"}, names); diff != "" {
		t.Errorf("attribute names mismatch (-want +got):\n%s", diff)
	}
	if raw := e.GetRawAttributeValue("objectGUID"); !bytes.Equal(raw, aliceGUID[:]) {
		t.Errorf("objectGUID = % x, want % x", raw, aliceGUID[:])
	}
	want := mustGUID("a15df3dc-4416-414b-8b7d-5fbdcb5743c1")
	if raw := e.GetRawAttributeValue("mS-DS-ConsistencyGuid"); !bytes.Equal(raw, want[:]) {
		t.Errorf("mS-DS-ConsistencyGuid = % x, want % x", raw, want[:])
	}
	if diff := cmp.Diff([]string{f.sales}, e.GetAttributeValues("memberOf")); diff != "" {
		t.Errorf("memberOf mismatch (-want +got):\n%s", diff)
	}

	all := search(t, c, f.alice, ldap.ScopeBaseObject, "(objectClass=*)")[0]
	if all.Attributes[0].Name != "objectClass" {
		t.Errorf("first attribute is %s, want objectClass", all.Attributes[0].Name)
	}
	for attr, v := range map[string]string{
		"distinguishedName": f.alice, "sAMAccountType": "805306368", "userAccountControl": "512",
		"objectCategory": "CN=Person,CN=Schema,CN=Configuration," + testBase, "primaryGroupID": "513",
	} {
		if g := all.GetAttributeValue(attr); g != v {
			t.Errorf("%s = %q, want %q", attr, g, v)
		}
	}
	if sid := all.GetRawAttributeValue("objectSid"); len(sid) != 28 || sid[0] != 1 || sid[1] != 5 {
		t.Errorf("objectSid = % x, want a domain SID with 5 sub-authorities", sid)
	}
	if all.GetAttributeValue("unicodePwd") != "" {
		t.Error("the password was returned")
	}

	typesOnly, err := c.Search(ldap.NewSearchRequest(f.alice, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, true, "(objectClass=*)", []string{"mail"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	if a := typesOnly.Entries[0].Attributes; len(a) != 1 || a[0].Name != "mail" || len(a[0].Values) != 0 {
		t.Errorf("typesOnly returned %+v", a)
	}
}

func TestSearchErrors(t *testing.T) {
	f := started(t)
	c := dialAs(t, f.Server, f.AdminUPN(), testPassword)
	_, err := c.Search(ldap.NewSearchRequest("CN=Nobody,CN=Users,"+testBase, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)", nil, nil))
	if resultCode(err) != ldap.LDAPResultNoSuchObject {
		t.Fatalf("search under a missing base: %v, want noSuchObject", err)
	}
	var le *ldap.Error
	if errors.As(err, &le) && le.MatchedDN != "CN=Users,"+testBase {
		t.Errorf("matchedDN = %q, want CN=Users,%s", le.MatchedDN, testBase)
	}
	req := ldap.NewSearchRequest(testBase, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false, "(objectClass=user)", nil,
		[]ldap.Control{&ldap.ControlString{ControlType: "1.2.3.4.5", Criticality: true}})
	if _, err := c.Search(req); resultCode(err) != ldap.LDAPResultUnavailableCriticalExtension {
		t.Fatalf("unknown critical control: %v, want unavailableCriticalExtension", err)
	}
	req.Controls = []ldap.Control{&ldap.ControlString{ControlType: "1.2.3.4.5"}}
	if _, err := c.Search(req); err != nil {
		t.Fatalf("unknown non-critical control: %v", err)
	}
}

func TestPagedSearch(t *testing.T) {
	f := newFixture(t)
	f.store.cfg.MaxPageSize = 8
	if err := f.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	ou, err := f.AddOU("Bulk", "")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range 25 {
		dn, _, err := f.AddUser(User{SAMAccountName: fmt.Sprintf("bulk%02d", i), Parent: ou})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, dn)
	}
	c := dialAs(t, f.Server, f.AdminUPN(), testPassword)
	filter := "(&(objectCategory=person)(objectClass=user))"

	t.Run("pages by hand", func(t *testing.T) {
		paging := ldap.NewControlPaging(5)
		req := ldap.NewSearchRequest(ou, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false, filter, []string{"sAMAccountName"}, []ldap.Control{paging})
		var sizes []int
		var got []string
		for {
			res, err := c.Search(req)
			if err != nil {
				t.Fatal(err)
			}
			sizes = append(sizes, len(res.Entries))
			for _, e := range res.Entries {
				got = append(got, e.DN)
			}
			ctl, ok := ldap.FindControl(res.Controls, ldap.ControlTypePaging).(*ldap.ControlPaging)
			if !ok {
				t.Fatal("response without a paging control")
			}
			if len(ctl.Cookie) == 0 {
				break
			}
			paging.SetCookie(ctl.Cookie)
		}
		if diff := cmp.Diff([]int{5, 5, 5, 5, 5}, sizes); diff != "" {
			t.Errorf("page sizes mismatch (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("entries mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("SearchWithPaging", func(t *testing.T) {
		req := ldap.NewSearchRequest(ou, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false, filter, []string{"1.1"}, nil)
		res, err := c.SearchWithPaging(req, 10)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, dnsInOrder(res.Entries)); diff != "" {
			t.Errorf("entries mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("page size above MaxPageSize is capped", func(t *testing.T) {
		paging := ldap.NewControlPaging(100)
		req := ldap.NewSearchRequest(ou, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false, filter, []string{"1.1"}, []ldap.Control{paging})
		res, err := c.Search(req)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Entries) != 8 {
			t.Errorf("first page has %d entries, want MaxPageSize 8", len(res.Entries))
		}
	})
	t.Run("unpaged search beyond MaxPageSize", func(t *testing.T) {
		res, err := c.Search(ldap.NewSearchRequest(ou, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false, filter, []string{"1.1"}, nil))
		if resultCode(err) != ldap.LDAPResultSizeLimitExceeded {
			t.Fatalf("err = %v, want sizeLimitExceeded", err)
		}
		if res == nil || len(res.Entries) != 8 {
			t.Fatalf("got %v entries, want 8", res)
		}
	})
	t.Run("size limit", func(t *testing.T) {
		res, err := c.Search(ldap.NewSearchRequest(ou, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 3, 0, false, filter, []string{"1.1"}, nil))
		if resultCode(err) != ldap.LDAPResultSizeLimitExceeded || len(res.Entries) != 3 {
			t.Fatalf("size limit 3: %d entries, err %v", len(res.Entries), err)
		}
		res, err = c.SearchWithPaging(ldap.NewSearchRequest(ou, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 7, 0, false, filter, []string{"1.1"}, nil), 5)
		if resultCode(err) != ldap.LDAPResultSizeLimitExceeded || len(res.Entries) != 7 {
			t.Fatalf("paged with size limit 7: %d entries, err %v", len(res.Entries), err)
		}
	})
	t.Run("a cookie from another search", func(t *testing.T) {
		paging := ldap.NewControlPaging(5)
		req := ldap.NewSearchRequest(ou, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false, filter, nil, []ldap.Control{paging})
		res, err := c.Search(req)
		if err != nil {
			t.Fatal(err)
		}
		paging.SetCookie(ldap.FindControl(res.Controls, ldap.ControlTypePaging).(*ldap.ControlPaging).Cookie)
		req.Filter = "(objectClass=*)"
		if _, err := c.Search(req); resultCode(err) != ldap.LDAPResultUnwillingToPerform {
			t.Fatalf("cookie reused with another filter: %v, want unwillingToPerform", err)
		}
		paging.SetCookie([]byte("forged"))
		req.Filter = filter
		if _, err := c.Search(req); resultCode(err) != ldap.LDAPResultUnwillingToPerform {
			t.Fatalf("forged cookie: %v, want unwillingToPerform", err)
		}
	})
	t.Run("a cookie is bound to its connection", func(t *testing.T) {
		paging := ldap.NewControlPaging(5)
		req := ldap.NewSearchRequest(ou, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false, filter, nil, []ldap.Control{paging})
		res, err := c.Search(req)
		if err != nil {
			t.Fatal(err)
		}
		paging.SetCookie(ldap.FindControl(res.Controls, ldap.ControlTypePaging).(*ldap.ControlPaging).Cookie)
		other := dialAs(t, f.Server, f.AdminUPN(), testPassword)
		if _, err := other.Search(req); resultCode(err) != ldap.LDAPResultUnwillingToPerform {
			t.Fatalf("cookie used on another connection: %v, want unwillingToPerform", err)
		}
	})
}

func dnsInOrder(entries []*ldap.Entry) []string {
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.DN
	}
	return out
}

func TestModifyConsistencyGUIDGuard(t *testing.T) {
	f := started(t)
	c := dialAs(t, f.Server, f.AdminUPN(), testPassword)
	carolGUID, err := f.Attribute(f.carol, "objectGUID")
	if err != nil {
		t.Fatal(err)
	}
	other := mustGUID("a15df3dc-4416-414b-8b7d-5fbdcb5743c1")
	write := func(op func(*ldap.ModifyRequest)) error {
		req := ldap.NewModifyRequest(f.carol, nil)
		op(req)
		return c.Modify(req)
	}
	// Only-if-empty, as the operator writes it: add to the single-valued
	// attribute.
	if err := write(func(r *ldap.ModifyRequest) { r.Add("mS-DS-ConsistencyGuid", []string{string(carolGUID[0])}) }); err != nil {
		t.Fatalf("first write: %v", err)
	}
	got := search(t, c, f.carol, ldap.ScopeBaseObject, "(objectClass=*)", "mS-DS-ConsistencyGuid")[0]
	if !bytes.Equal(got.GetRawAttributeValue("mS-DS-ConsistencyGuid"), carolGUID[0]) {
		t.Fatalf("mS-DS-ConsistencyGuid = % x, want % x", got.GetRawAttributeValue("mS-DS-ConsistencyGuid"), carolGUID[0])
	}
	err = write(func(r *ldap.ModifyRequest) { r.Add("mS-DS-ConsistencyGuid", []string{string(other[:])}) })
	if resultCode(err) != ldap.LDAPResultAttributeOrValueExists {
		t.Fatalf("second write: %v, want attributeOrValueExists", err)
	}
	// Compare and swap: delete the expected old value, add the new one.
	err = write(func(r *ldap.ModifyRequest) {
		r.Delete("mS-DS-ConsistencyGuid", []string{string(other[:])})
		r.Add("mS-DS-ConsistencyGuid", []string{string(other[:])})
	})
	if resultCode(err) != ldap.LDAPResultNoSuchAttribute {
		t.Fatalf("swap with a wrong old value: %v, want noSuchAttribute", err)
	}
	err = write(func(r *ldap.ModifyRequest) { r.Delete("mS-DS-ConsistencyGuid", nil) })
	if err != nil {
		t.Fatalf("clearing: %v", err)
	}
	err = write(func(r *ldap.ModifyRequest) { r.Delete("mS-DS-ConsistencyGuid", nil) })
	if resultCode(err) != ldap.LDAPResultNoSuchAttribute {
		t.Fatalf("clearing an empty attribute: %v, want noSuchAttribute", err)
	}
	// The permissive modify control turns that into success, as in AD.
	req := ldap.NewModifyRequest(f.carol, []ldap.Control{&ldap.ControlString{ControlType: "1.2.840.113556.1.4.1413"}})
	req.Delete("mS-DS-ConsistencyGuid", nil)
	if err := c.Modify(req); err != nil {
		t.Fatalf("permissive delete: %v", err)
	}
	// A value that is not 16 bytes, as another tool might write.
	if err := write(func(r *ldap.ModifyRequest) { r.Replace("mS-DS-ConsistencyGuid", []string{"short"}) }); err != nil {
		t.Fatalf("odd value: %v", err)
	}
}

func TestWriteAccess(t *testing.T) {
	f := started(t)
	// carol is an ordinary user: she may read but not write.
	c := dialAs(t, f.Server, "carol@contoso.com", "Car0l-Passw0rd")
	if got := search(t, c, testBase, ldap.ScopeWholeSubtree, "(sAMAccountName=alice)", "1.1"); len(got) != 1 {
		t.Fatalf("ordinary user read %d entries, want 1", len(got))
	}
	req := ldap.NewModifyRequest(f.alice, nil)
	req.Replace("mail", []string{"x@contoso.com"})
	if err := c.Modify(req); resultCode(err) != ldap.LDAPResultInsufficientAccessRights {
		t.Fatalf("modify by an ordinary user: %v, want insufficientAccessRights", err)
	}
	// Membership in Domain Admins, even nested, grants writes.
	if err := f.AddToGroup(f.DomainAdminsDN(), f.allStaff); err != nil {
		t.Fatal(err)
	}
	if err := f.AddToGroup(f.allStaff, "carol"); err != nil {
		t.Fatal(err)
	}
	if err := c.Modify(req); err != nil {
		t.Fatalf("modify by a nested Domain Admin: %v", err)
	}
}

func TestAddAndDelete(t *testing.T) {
	f := started(t)
	c := dialAs(t, f.Server, f.AdminDN(), testPassword)
	dn := "CN=New User,OU=Staff," + testBase
	req := ldap.NewAddRequest(dn, nil)
	req.Attribute("objectClass", []string{"top", "person", "organizationalPerson", "user"})
	req.Attribute("sAMAccountName", []string{"newuser"})
	req.Attribute("userPrincipalName", []string{"newuser@contoso.com"})
	req.Attribute("unicodePwd", []string{string(unicodePwd("N3w-Passw0rd"))})
	req.Attribute("userAccountControl", []string{"512"})
	req.Attribute("proxyAddresses", []string{"SMTP:newuser@contoso.com"})
	if err := c.Add(req); err != nil {
		t.Fatalf("add: %v", err)
	}
	e := search(t, c, dn, ldap.ScopeBaseObject, "(objectClass=*)", "objectGUID", "cn", "objectClass")[0]
	if len(e.GetRawAttributeValue("objectGUID")) != 16 {
		t.Errorf("objectGUID has %d bytes, want 16", len(e.GetRawAttributeValue("objectGUID")))
	}
	if diff := cmp.Diff([]string{"top", "person", "organizationalPerson", "user"}, e.GetAttributeValues("objectClass")); diff != "" {
		t.Errorf("objectClass mismatch (-want +got):\n%s", diff)
	}
	dialAs(t, f.Server, "newuser@contoso.com", "N3w-Passw0rd")

	cases := []struct {
		name  string
		dn    string
		attrs map[string][]string
		want  uint16
	}{
		{"existing DN", dn, map[string][]string{"objectClass": {"user"}}, ldap.LDAPResultEntryAlreadyExists},
		{"duplicate sAMAccountName", "CN=Other,CN=Users," + testBase, map[string][]string{"objectClass": {"user"}, "sAMAccountName": {"NEWUSER"}}, ldap.LDAPResultEntryAlreadyExists},
		{"duplicate UPN", "CN=Other,CN=Users," + testBase, map[string][]string{"objectClass": {"user"}, "userPrincipalName": {"newuser@contoso.com"}}, ldap.LDAPResultConstraintViolation},
		{"missing parent", "CN=Other,OU=Nowhere," + testBase, map[string][]string{"objectClass": {"user"}}, ldap.LDAPResultNoSuchObject},
		{"unknown attribute", "CN=Other,CN=Users," + testBase, map[string][]string{"objectClass": {"user"}, "favouriteColour": {"blue"}}, ldap.LDAPResultUndefinedAttributeType},
		{"objectGUID is assigned by the server", "CN=Other,CN=Users," + testBase, map[string][]string{"objectClass": {"user"}, "objectGUID": {"0123456789abcdef"}}, ldap.LDAPResultConstraintViolation},
		{"no structural class", "CN=Other,CN=Users," + testBase, map[string][]string{"objectClass": {"top"}}, ldap.LDAPResultObjectClassViolation},
		{"wrong naming attribute", "OU=Other,CN=Users," + testBase, map[string][]string{"objectClass": {"user"}}, ldap.LDAPResultNamingViolation},
		{"invalid DN", "not a DN", map[string][]string{"objectClass": {"user"}}, ldap.LDAPResultInvalidDNSyntax},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := ldap.NewAddRequest(tc.dn, nil)
			for _, k := range sortedKeys(tc.attrs) {
				req.Attribute(k, tc.attrs[k])
			}
			if err := c.Add(req); resultCode(err) != tc.want {
				t.Fatalf("add: %v, want result %d", err, tc.want)
			}
		})
	}

	if err := c.Del(ldap.NewDelRequest("OU=Staff,"+testBase, nil)); resultCode(err) != ldap.LDAPResultNotAllowedOnNonLeaf {
		t.Fatalf("deleting a non-leaf: %v, want notAllowedOnNonLeaf", err)
	}
	if err := c.Del(ldap.NewDelRequest(f.AdminDN(), nil)); resultCode(err) != ldap.LDAPResultUnwillingToPerform {
		t.Fatalf("deleting Administrator: %v, want unwillingToPerform", err)
	}
	if err := c.Del(ldap.NewDelRequest(dn, nil)); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if err := c.Del(ldap.NewDelRequest(dn, nil)); resultCode(err) != ldap.LDAPResultNoSuchObject {
		t.Fatalf("deleting again: %v, want noSuchObject", err)
	}
	// Deleting a member removes it from its groups.
	if err := c.Del(ldap.NewDelRequest(f.alice, nil)); err != nil {
		t.Fatal(err)
	}
	if members, _ := f.Attribute(f.sales, "member"); len(members) != 0 {
		t.Errorf("Sales still lists %q", members)
	}
}

func sortedKeys(m map[string][]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestUPNSuffixes(t *testing.T) {
	f := started(t)
	c := dialAs(t, f.Server, f.AdminUPN(), testPassword)
	partitions := "CN=Partitions,CN=Configuration," + testBase
	read := func() []string {
		return search(t, c, partitions, ldap.ScopeBaseObject, "(objectClass=*)", "uPNSuffixes")[0].GetAttributeValues("uPNSuffixes")
	}
	if diff := cmp.Diff([]string{"contoso.com"}, read()); diff != "" {
		t.Errorf("uPNSuffixes mismatch (-want +got):\n%s", diff)
	}
	if err := f.SetUPNSuffixes("contoso.com", "fabrikam.com"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"contoso.com", "fabrikam.com"}, read()); diff != "" {
		t.Errorf("uPNSuffixes mismatch (-want +got):\n%s", diff)
	}
	// The domain's crossRef, which clients read for the domain's own suffix.
	refs := search(t, c, partitions, ldap.ScopeSingleLevel, "(objectClass=crossRef)", "nCName", "dnsRoot", "systemFlags", "nETBIOSName")
	if len(refs) != 1 {
		t.Fatalf("%d crossRefs", len(refs))
	}
	for attr, v := range map[string]string{"nCName": testBase, "dnsRoot": testDomain, "systemFlags": "3", "nETBIOSName": "CORP"} {
		if g := refs[0].GetAttributeValue(attr); g != v {
			t.Errorf("crossRef %s = %q, want %q", attr, g, v)
		}
	}
}

func TestStartTLS(t *testing.T) {
	f := newFixture(t)
	if err := f.StartLDAP("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(f.StartTLSURL(), "ldap://127.0.0.1:") {
		t.Fatalf("StartTLSURL() = %q", f.StartTLSURL())
	}
	c, err := ldap.DialURL(f.StartTLSURL())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetTimeout(10 * time.Second)
	if err := c.Bind(f.AdminUPN(), testPassword); resultCode(err) != ldap.LDAPResultStrongAuthRequired {
		t.Fatalf("bind in clear: %v, want strongerAuthRequired", err)
	}
	if err := c.StartTLS(tlsConfig(t, f.Server)); err != nil {
		t.Fatalf("StartTLS: %v", err)
	}
	if err := c.Bind(f.AdminUPN(), testPassword); err != nil {
		t.Fatalf("bind after StartTLS: %v", err)
	}
	if got := search(t, c, testBase, ldap.ScopeWholeSubtree, "(sAMAccountName=alice)", "1.1"); len(got) != 1 {
		t.Fatalf("search after StartTLS: %d entries", len(got))
	}
}

func TestConcurrentClients(t *testing.T) {
	f := started(t)
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := ldap.DialURL(f.URL(), ldap.DialWithTLSConfig(tlsConfig(t, f.Server)))
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			if err := c.Bind(f.AdminUPN(), testPassword); err != nil {
				errs <- err
				return
			}
			for j := range 5 {
				req := ldap.NewModifyRequest(f.carol, nil)
				req.Replace("description", []string{fmt.Sprintf("writer %d round %d", i, j)})
				if err := c.Modify(req); err != nil {
					errs <- err
				}
				res, err := c.SearchWithPaging(ldap.NewSearchRequest(testBase, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
					"(objectClass=user)", []string{"description"}, nil), 2)
				if err != nil {
					errs <- err
				} else if len(res.Entries) != 4 {
					errs <- fmt.Errorf("%d users, want 4", len(res.Entries))
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestCloseCutsClients(t *testing.T) {
	f := newFixture(t)
	if err := f.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	c := dialAs(t, f.Server, f.AdminUPN(), testPassword)
	start := time.Now()
	f.Close()
	if d := time.Since(start); d >= closeGrace {
		t.Errorf("Close took %s with a bound client connected", d)
	}
	if _, err := c.Search(ldap.NewSearchRequest("", ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)", nil, nil)); err == nil {
		t.Error("search on a closed server succeeded")
	}
	if err := f.Start("127.0.0.1:0"); err == nil {
		t.Error("Start after Close succeeded")
	}
}

// rawRequest builds an LDAP message with the given protocol op and
// optional controls.
func rawRequest(id int64, op *ber.Packet, controls ...*ber.Packet) []byte {
	msg := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "LDAP Request")
	msg.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, id, "MessageID"))
	msg.AppendChild(op)
	if len(controls) > 0 {
		ctl := ber.Encode(ber.ClassContext, ber.TypeConstructed, 0, nil, "Controls")
		for _, c := range controls {
			ctl.AppendChild(c)
		}
		msg.AppendChild(ctl)
	}
	return msg.Bytes()
}

func rawSearch(base string) *ber.Packet {
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, 3, nil, "Search Request")
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, base, "Base DN"))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, 0, "Scope"))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, 0, "Deref"))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, 0, "Size"))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, 0, "Time"))
	op.AppendChild(ber.NewBoolean(ber.ClassUniversal, ber.TypePrimitive, ber.TagBoolean, false, "TypesOnly"))
	op.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 7, "objectClass", "Present"))
	op.AppendChild(ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "Attributes"))
	return op
}

func TestMalformedRequestsDoNotStopTheServer(t *testing.T) {
	f := started(t)
	badPaging := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "Control")
	badPaging.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "1.2.840.113556.1.4.319", "Type"))
	badPaging.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "\x02\x01\x05", "Value: an INTEGER, not a SEQUENCE"))

	modify := ber.Encode(ber.ClassApplication, ber.TypeConstructed, 6, nil, "Modify Request")
	modify.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, f.alice, "DN"))
	changes := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "Changes")
	chg := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "Change")
	chg.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, 2, "Operation"))
	attr := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "Attribute")
	attr.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "mail", "Type"))
	set := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSet, nil, "Values")
	set.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, 5, "not an OCTET STRING"))
	attr.AppendChild(set)
	chg.AppendChild(attr)
	changes.AppendChild(chg)
	modify.AppendChild(changes)

	bind := ber.Encode(ber.ClassApplication, ber.TypeConstructed, 0, nil, "Bind Request")
	bind.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, 3, "Version"))
	bind.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, f.AdminDN(), "Name"))
	bind.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 0, testPassword, "Password"))

	cases := []struct {
		name     string
		payload  []byte
		wantCode int64 // result of the last reply; -1 when the server may just hang up
	}{
		{"garbage", []byte("\x30\x84\xff\xff\xff\xffnot ldap at all"), -1},
		{"truncated message", rawRequest(1, rawSearch(testBase))[:20], -1},
		{"malformed paging control", rawRequest(2, rawSearch(testBase), badPaging), -1},
		{"unknown operation", rawRequest(4, ber.Encode(ber.ClassApplication, ber.TypeConstructed, 30, nil, "Unknown")), -1},
		{"modify value that is no OCTET STRING", append(rawRequest(5, bind), rawRequest(6, modify)...), ldap.LDAPResultProtocolError},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := tls.Dial("tcp", strings.TrimPrefix(f.URL(), "ldaps://"), tlsConfig(t, f.Server))
			if err != nil {
				t.Fatal(err)
			}
			_ = conn.SetDeadline(time.Now().Add(500 * time.Millisecond))
			_, _ = conn.Write(tc.payload)
			var last *ber.Packet
			for {
				p, err := ber.ReadPacket(conn)
				if err != nil {
					break
				}
				last = p
				if tc.wantCode >= 0 && len(p.Children) > 1 && p.Children[1].Tag == 7 {
					break // the modify response
				}
			}
			conn.Close()
			if tc.wantCode >= 0 {
				if last == nil || len(last.Children) < 2 || len(last.Children[1].Children) == 0 {
					t.Fatalf("no reply")
				}
				if code, _ := last.Children[1].Children[0].Value.(int64); code != tc.wantCode {
					t.Fatalf("result %d, want %d", code, tc.wantCode)
				}
			}
			// The server must still answer others.
			c := dial(t, f.Server)
			if got := search(t, c, "", ldap.ScopeBaseObject, "(objectClass=*)", "dnsHostName"); len(got) != 1 {
				t.Fatalf("root DSE afterwards: %d entries", len(got))
			}
		})
	}
}
