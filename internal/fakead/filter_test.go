package fakead

import (
	"fmt"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"
	"github.com/google/go-cmp/cmp"
)

func TestParseFilter(t *testing.T) {
	cases := []struct {
		in      string
		want    string // String() of the result; "" when an error is expected
		wantErr bool
	}{
		{in: "(cn=alice)", want: "(cn=alice)"},
		{in: "(&(objectCategory=person)(objectClass=user))", want: "(&(objectCategory=person)(objectClass=user))"},
		{in: "(|(a=1)(!(b=2)))", want: "(|(a=1)(!(b=2)))"},
		{in: "(cn=*)", want: "(cn=*)"},
		{in: "(cn=**)", want: "(cn=*)"},
		{in: "(cn=al*)", want: "(cn=al*)"},
		{in: "(cn=*ce)", want: "(cn=*ce)"},
		{in: "(cn=a*l*i*e)", want: "(cn=a*l*i*e)"},
		{in: "(uSNChanged>=12)", want: "(uSNChanged>=12)"},
		{in: "(uSNChanged<=12)", want: "(uSNChanged<=12)"},
		{in: "(cn~=alice)", want: "(cn~=alice)"},
		{in: `(objectGUID=\06\96\B3\3a)`, want: `(objectGUID=\06\96\b3:)`},
		{in: `(cn=a\2ab)`, want: `(cn=a\2ab)`},
		{in: "(userAccountControl:1.2.840.113556.1.4.803:=2)", want: "(userAccountControl:1.2.840.113556.1.4.803:=2)"},
		{in: "(cn:dn:caseExactMatch:=x)", want: "(cn:dn:caseExactMatch:=x)"},
		{in: "(:1.2.3:=x)", want: "(:1.2.3:=x)"},
		{in: "(&)", want: "(&)"},
		{in: "(|)", want: "(|)"},
		{in: "(cn=)", want: "(cn=)"},
		{in: "(cn;binary=x)", want: "(cn;binary=x)"},
		{in: "", wantErr: true},
		{in: "cn=alice", wantErr: true},
		{in: "(cn=alice", wantErr: true},
		{in: "(cn=alice))", wantErr: true},
		{in: "(cn=al(ice)", wantErr: true},
		{in: `(cn=\zz)`, wantErr: true},
		{in: `(cn=abc\)`, wantErr: true},
		{in: `(cn=abc\4)`, wantErr: true},
		{in: "(=alice)", wantErr: true},
		{in: "(*)(cn=*)", wantErr: true},
		{in: "(c n=alice)", wantErr: true},
		{in: "(!(a=1)(b=2))", wantErr: true},
		{in: "(!)", wantErr: true},
		{in: "(:=x)", wantErr: true},
		{in: "(cn:a:b:c:=x)", wantErr: true},
		{in: "(cn>=a*)", wantErr: true},
		{in: strings.Repeat("(!", maxFilterDepth+2) + "(a=1)" + strings.Repeat(")", maxFilterDepth+2), wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			f, err := parseFilter(tc.in)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("parseFilter(%q) = %s, want an error", tc.in, f)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseFilter(%q): %v", tc.in, err)
			}
			if diff := cmp.Diff(tc.want, f.String()); diff != "" {
				t.Errorf("parseFilter(%q).String() mismatch (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestParseFilterUnescapesBinary(t *testing.T) {
	f, err := parseFilter(`(objectGUID=\00\ff\41a)`)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]byte{0x00, 0xff, 'A', 'a'}, f.value); diff != "" {
		t.Errorf("value mismatch (-want +got):\n%s", diff)
	}
}

// binaryFilter writes an equality filter on raw bytes as go-ldap and the
// operator do: one \xx escape per byte.
func binaryFilter(attr string, value []byte) string {
	var b strings.Builder
	for _, c := range value {
		fmt.Fprintf(&b, `\%02x`, c)
	}
	return "(" + attr + "=" + b.String() + ")"
}

func TestSearchFilters(t *testing.T) {
	f := newFixture(t)
	users := "CN=Users," + testBase
	admin := "CN=Administrator," + users
	domainUsers := "CN=Domain Users," + users
	domainAdmins := "CN=Domain Admins," + users
	otherGUID := aliceGUID
	consistency := mustGUID("a15df3dc-4416-414b-8b7d-5fbdcb5743c1")
	otherGUID[15] = 'a' // 0x61 where alice has 0x41: equal only if compared ignoring case

	cases := []struct {
		name   string
		doc    string
		base   string // testBase when empty
		scope  string // "base", "one", or subtree when empty
		filter string
		want   []string
	}{
		{name: "string equality ignores case", filter: "(sAMAccountName=ALICE)", want: []string{f.alice}},
		{name: "binary GUID matches byte for byte", doc: docAnchor, filter: binaryFilter("objectGUID", aliceGUID[:]), want: []string{f.alice}},
		{name: "binary GUID never matches ignoring case", doc: docAnchor, filter: binaryFilter("objectGUID", otherGUID[:]), want: nil},
		{name: "consistency GUID by bytes", doc: docAnchor, filter: binaryFilter("mS-DS-ConsistencyGuid", consistency[:]), want: []string{f.alice}},
		{name: "objectCategory=person finds users and contacts", doc: docCategoryPerson, filter: "(objectCategory=person)", want: []string{admin, f.alice, f.bob, f.carol, f.partner}},
		{name: "objectCategory=user means Person too", doc: docObjectCategory, filter: "(objectCategory=user)", want: []string{admin, f.alice, f.bob, f.carol, f.partner}},
		{name: "objectCategory=contact means Person too", doc: docObjectCategory, filter: "(objectCategory=contact)", want: []string{admin, f.alice, f.bob, f.carol, f.partner}},
		{name: "objectCategory as a DN", doc: docObjectCategory, filter: "(objectCategory=cn=person,cn=schema,cn=configuration," + strings.ToLower(testBase) + ")", want: []string{admin, f.alice, f.bob, f.carol, f.partner}},
		{name: "objectCategory with an unknown class name", doc: docObjectCategory, filter: "(objectCategory=Organizational-Unit)", want: nil},
		{name: "users only", doc: docCategoryPerson, filter: "(&(objectCategory=person)(objectClass=user))", want: []string{admin, f.alice, f.bob, f.carol}},
		{name: "organizational units", filter: "(objectCategory=organizationalUnit)", want: []string{"OU=Domain Controllers," + testBase, f.staffOU}},
		{name: "groups", filter: "(objectClass=group)", want: []string{domainUsers, domainAdmins, f.sales, f.allStaff}},
		{name: "proxy address ignores the prefix case", filter: "(proxyAddresses=smtp:alice@contoso.com)", want: []string{f.alice}},
		{name: "secondary proxy address", filter: "(proxyAddresses=SMTP:A@CONTOSO.COM)", want: []string{f.alice}},
		{name: "substring initial", filter: "(mail=ali*)", want: []string{f.alice}},
		{name: "substring final", filter: "(mail=*@CONTOSO.com)", want: []string{f.alice, f.carol, f.sales}},
		{name: "substring any", filter: "(displayName=*LIDD*)", want: []string{f.alice}},
		{name: "substring does not overlap", filter: "(sAMAccountName=ali*lice)", want: nil},
		{name: "absent attribute under NOT", filter: "(&(objectClass=user)(!(mail=*)))", want: []string{admin, f.bob}},
		{name: "unknown attribute is Undefined, NOT keeps it Undefined", filter: "(!(noSuchAttribute=x))", want: nil},
		{name: "Undefined OR true", filter: "(|(noSuchAttribute=x)(sAMAccountName=bob))", want: []string{f.bob}},
		{name: "disabled accounts by bitwise AND", doc: docMatchingRules, filter: "(userAccountControl:1.2.840.113556.1.4.803:=2)", want: []string{f.bob}},
		{name: "bitwise OR", doc: docMatchingRules, filter: "(&(objectClass=user)(userAccountControl:1.2.840.113556.1.4.804:=65538))", want: []string{admin, f.bob}},
		{name: "security groups by bitwise AND on a negative groupType", doc: docMatchingRules, filter: "(groupType:1.2.840.113556.1.4.803:=2147483648)", want: []string{domainUsers, domainAdmins, f.allStaff}},
		{name: "integers compare as numbers", filter: "(&(objectClass=user)(userAccountControl<=1000))", want: []string{f.alice, f.bob, f.carol}},
		{name: "integer greater or equal", filter: "(userAccountControl>=514)", want: []string{admin, f.bob}},
		{name: "adminCount", filter: "(adminCount=1)", want: []string{admin, f.alice, domainAdmins}},
		{name: "memberOf direct", filter: "(memberOf=" + strings.ToUpper(f.sales) + ")", want: []string{f.alice}},
		{name: "memberOf direct is not transitive", filter: "(memberOf=" + f.allStaff + ")", want: []string{f.sales}},
		{name: "memberOf in chain", doc: docMatchingRules, filter: "(memberOf:1.2.840.113556.1.4.1941:=" + f.allStaff + ")", want: []string{f.alice, f.sales}},
		{name: "member in chain", doc: docMatchingRules, filter: "(member:1.2.840.113556.1.4.1941:=" + f.alice + ")", want: []string{f.sales, f.allStaff}},
		{name: "distinguishedName ignores case", filter: "(distinguishedName=cn=ALICE,cn=users," + strings.ToLower(testBase) + ")", want: []string{f.alice}},
		{name: "time ordering", filter: "(&(objectClass=contact)(whenCreated>=20000101000000.0Z))", want: []string{f.partner}},
		{name: "presence of a binary attribute", filter: "(mS-DS-ConsistencyGuid=*)", want: []string{f.alice}},
		{name: "escaped injection matches nothing", filter: "(sAMAccountName=" + ldap.EscapeFilter("alice)(objectClass=*") + ")", want: nil},
		{name: "escaped star matches only a literal star", filter: "(sAMAccountName=" + ldap.EscapeFilter("*") + ")", want: nil},
		{name: "empty AND is true", base: f.staffOU, filter: "(&)", want: []string{f.staffOU, f.bob, f.carol}},
		{name: "empty OR is false", filter: "(|)", want: nil},
		{name: "password is never matched", filter: "(unicodePwd=*)", want: nil},
		{name: "base scope", base: f.alice, scope: "base", filter: "(objectClass=*)", want: []string{f.alice}},
		{name: "one level", base: f.staffOU, scope: "one", filter: "(objectClass=*)", want: []string{f.bob, f.carol}},
		{name: "subtree stays in the domain partition", filter: "(objectClass=crossRef)", want: nil},
		{name: "configuration partition", base: "CN=Configuration," + testBase, filter: "(objectClass=crossRef)", want: []string{"CN=CORP,CN=Partitions,CN=Configuration," + testBase}},
		{name: "one level does not cross into configuration", base: testBase, scope: "one", filter: "(objectClass=configuration)", want: nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			flt, err := parseFilter(tc.filter)
			if err != nil {
				t.Fatalf("parseFilter(%q): %v", tc.filter, err)
			}
			base := tc.base
			if base == "" {
				base = testBase
			}
			scope := map[string]int64{"base": 0, "one": 1, "": 2}[tc.scope]
			keys, lerr := f.store.find(systemPrincipal, searchParams{baseDN: base, scope: scope, filter: flt})
			if lerr != nil {
				t.Fatalf("find: %v", lerr)
			}
			var got []string
			for _, r := range f.store.read(keys, newAttrSelection([]string{"1.1"}, false)) {
				got = append(got, r.dn)
			}
			if diff := cmp.Diff(sorted(tc.want), sorted(got)); diff != "" {
				t.Errorf("filter %s (doc %s) mismatch (-want +got):\n%s", tc.filter, tc.doc, diff)
			}
		})
	}
}

func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{
		"(cn=alice)", "(&(objectCategory=person)(objectClass=user)(|(mail=a*)(proxyAddresses=smtp:x)))",
		`(objectGUID=\06\96\b3\3a\42\c6\9b\48\84\b6\58\c0\38\d3\ef\39)`, "(!(a=*))", "(a>=1)", "(a<=z)",
		"(userAccountControl:1.2.840.113556.1.4.803:=2)", "(&)", "(|)", "(cn=a*b*c)", "(:dn:1.2:=x)",
		"(memberOf:1.2.840.113556.1.4.1941:=CN=x,DC=y)", "((", ")", `(\`, "(a=\\",
	} {
		f.Add(s)
	}
	fx := newFixture(f)
	f.Fuzz(func(t *testing.T, s string) {
		flt, err := parseFilter(s)
		if err != nil {
			return
		}
		again, err := parseFilter(flt.String())
		if err != nil {
			t.Fatalf("String() of %q gives %q, which does not parse: %v", s, flt.String(), err)
		}
		if again.String() != flt.String() {
			t.Fatalf("round trip of %q: %q then %q", s, flt.String(), again.String())
		}
		// Evaluating must not panic, whatever the filter says.
		_, _ = fx.store.find(systemPrincipal, searchParams{baseDN: testBase, scope: 2, filter: flt})
	})
}
