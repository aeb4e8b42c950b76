package directory

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/go-ldap/ldap/v3"
	"github.com/google/go-cmp/cmp"

	"github.com/entramatch/entra-match-operator/internal/anchor"
)

const docDesignConcepts = "https://learn.microsoft.com/en-us/entra/identity/hybrid/connect/plan-connect-design-concepts"

func TestConfigValidate(t *testing.T) {
	good := Config{URLs: []string{"ldaps://dc1.corp.example.com"}, BindDN: "svc@corp.example.com", Password: "pw"}
	cases := []struct {
		name    string
		change  func(*Config)
		wantErr bool
	}{
		{"LDAPS", func(*Config) {}, false},
		{"StartTLS", func(c *Config) { c.URLs = []string{"ldap://dc1:389"}; c.StartTLS = true }, false},
		{"several servers", func(c *Config) { c.URLs = append(c.URLs, "ldaps://dc2:636") }, false},
		{"no URL", func(c *Config) { c.URLs = nil }, true},
		{"plain LDAP would leak the password", func(c *Config) { c.URLs = []string{"ldap://dc1"} }, true},
		{"plain LDAP when explicitly allowed", func(c *Config) { c.URLs = []string{"ldap://dc1"}; c.Plaintext = true }, false},
		{"StartTLS on LDAPS", func(c *Config) { c.StartTLS = true }, true},
		{"other scheme", func(c *Config) { c.URLs = []string{"https://dc1"} }, true},
		{"no host", func(c *Config) { c.URLs = []string{"ldaps://"} }, true},
		{"unparsable URL", func(c *Config) { c.URLs = []string{"ldaps://dc1:x:y%"} }, true},
		{"no bind DN", func(c *Config) { c.BindDN = "" }, true},
		{"no password", func(c *Config) { c.Password = "" }, true},
		{"CA PEM without certificate", func(c *Config) { c.CAPEM = []byte("not a PEM") }, true},
		{"negative timeout", func(c *Config) { c.Timeout = -1 }, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := good
			cfg.URLs = append([]string(nil), good.URLs...)
			tc.change(&cfg)
			err := cfg.validate()
			if (err != nil) != tc.wantErr {
				t.Fatalf("validate() = %v, wantErr %v", err, tc.wantErr)
			}
			if err != nil && !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("error %v is not ErrInvalidConfig", err)
			}
		})
	}
}

func TestDialRefusesInvalidConfigWithoutNetwork(t *testing.T) {
	_, err := Dial(context.Background(), Config{URLs: []string{"ldap://127.0.0.1:1"}, BindDN: "x", Password: "y"})
	if !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("Dial = %v, want ErrInvalidConfig", err)
	}
}

var guidA = mustAnchor("3ab39606-c642-489b-84b6-58c038d3ef39")

func mustAnchor(s string) anchor.Anchor {
	a, err := anchor.Parse(s)
	if err != nil {
		panic(err)
	}
	return a
}

func TestLookupFilters(t *testing.T) {
	cases := []struct {
		lookup  Lookup
		want    string
		wantErr bool
	}{
		{Lookup{KeySAMAccountName, "alice"}, "(sAMAccountName=alice)", false},
		{Lookup{KeySAMAccountName, " alice "}, "(sAMAccountName=alice)", false},
		{Lookup{KeyUserPrincipalName, "alice@corp.example.com"}, "(userPrincipalName=alice@corp.example.com)", false},
		{Lookup{KeyMail, "alice@example.com"}, "(|(mail=alice@example.com)(proxyAddresses=smtp:alice@example.com))", false},
		{Lookup{KeyDistinguishedName, "CN=Alice (HR),OU=Staff,DC=corp,DC=example,DC=com"}, `(distinguishedName=CN=Alice \28HR\29,OU=Staff,DC=corp,DC=example,DC=com)`, false},
		{Lookup{KeyObjectGUID, "3ab39606-c642-489b-84b6-58c038d3ef39"}, `(objectGUID=\06\96\b3\3a\42\c6\9b\48\84\b6\58\c0\38\d3\ef\39)`, false},
		{Lookup{KeyObjectGUID, "BpazOkLGm0iEtljAONPvOQ=="}, `(objectGUID=\06\96\b3\3a\42\c6\9b\48\84\b6\58\c0\38\d3\ef\39)`, false},
		// Injection attempts end up as literal characters.
		{Lookup{KeySAMAccountName, "*)(objectClass=*"}, `(sAMAccountName=\2a\29\28objectClass=\2a)`, false},
		{Lookup{KeyUserPrincipalName, "*"}, `(userPrincipalName=\2a)`, false},
		{Lookup{KeyMail, `a\2a)(|(x=*`}, `(|(mail=a\5c2a\29\28|\28x=\2a)(proxyAddresses=smtp:a\5c2a\29\28|\28x=\2a))`, false},
		{Lookup{KeySAMAccountName, "nul\x00byte"}, `(sAMAccountName=nul\00byte)`, false},
		{Lookup{KeyDistinguishedName, "*)(objectClass=*"}, "", true},
		{Lookup{KeyObjectGUID, "*)(objectClass=*"}, "", true},
		{Lookup{KeyObjectGUID, "alice"}, "", true},
		{Lookup{KeySAMAccountName, ""}, "", true},
		{Lookup{KeySAMAccountName, "   "}, "", true},
		{Lookup{"employeeID", "1"}, "", true},
	}
	for _, tc := range cases {
		t.Run(tc.lookup.String(), func(t *testing.T) {
			m, err := newMatcher(tc.lookup)
			if (err != nil) != tc.wantErr {
				t.Fatalf("newMatcher = %v, wantErr %v", err, tc.wantErr)
			}
			if err != nil {
				if !errors.Is(err, ErrInvalidLookup) {
					t.Errorf("error %v is not ErrInvalidLookup", err)
				}
				return
			}
			if m.filter != tc.want {
				t.Errorf("filter\n got %s\nwant %s", m.filter, tc.want)
			}
			if _, err := ldap.CompileFilter(userFilter([]matcher{m})); err != nil {
				t.Errorf("the search filter does not compile: %v", err)
			}
		})
	}
}

func TestUserFilterCombinesLookups(t *testing.T) {
	var batch []matcher
	for _, l := range []Lookup{{KeySAMAccountName, "a"}, {KeyMail, "b@x"}} {
		m, err := newMatcher(l)
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, m)
	}
	want := "(&(objectCategory=person)(objectClass=user)(|(sAMAccountName=a)(|(mail=b@x)(proxyAddresses=smtp:b@x))))"
	if got := userFilter(batch); got != want {
		t.Errorf("userFilter\n got %s\nwant %s", got, want)
	}
}

func entry(dn string, guid anchor.Anchor, attrs map[string][]string) *ldap.Entry {
	all := map[string][]string{"objectGUID": {string(guid[:])}}
	for k, v := range attrs {
		all[k] = v
	}
	return ldap.NewEntry(dn, all)
}

func TestMatcherPick(t *testing.T) {
	other := mustAnchor("a15df3dc-4416-414b-8b7d-5fbdcb5743c1")
	alice := entry("CN=Alice,CN=Users,DC=corp,DC=example,DC=com", guidA, map[string][]string{
		"sAMAccountName": {"alice"}, "userPrincipalName": {"Alice@Example.com"}, "mail": {"alice@example.com"},
		"proxyAddresses": {"SMTP:alice@example.com", "smtp:ali@example.net", "X500:/o=x"},
	})
	bob := entry("CN=Bob,CN=Users,DC=corp,DC=example,DC=com", other, map[string][]string{
		"sAMAccountName": {"bob"}, "proxyAddresses": {"smtp:alice@example.com"},
	})
	cases := []struct {
		name    string
		lookup  Lookup
		entries []*ldap.Entry
		wantDN  string
		wantErr error
	}{
		{"sam, other case", Lookup{KeySAMAccountName, "ALICE"}, []*ldap.Entry{alice, bob}, alice.DN, nil},
		{"upn, other case", Lookup{KeyUserPrincipalName, "alice@example.COM"}, []*ldap.Entry{alice, bob}, alice.DN, nil},
		{"dn, other case and spacing", Lookup{KeyDistinguishedName, "cn=alice, cn=users, dc=corp, dc=example, dc=com"}, []*ldap.Entry{alice, bob}, alice.DN, nil},
		{"guid text", Lookup{KeyObjectGUID, guidA.GUID()}, []*ldap.Entry{alice, bob}, alice.DN, nil},
		{"guid immutableId", Lookup{KeyObjectGUID, other.ImmutableID()}, []*ldap.Entry{alice, bob}, bob.DN, nil},
		{"secondary proxy address", Lookup{KeyMail, "ali@example.net"}, []*ldap.Entry{alice, bob}, alice.DN, nil},
		{"address on two users", Lookup{KeyMail, "alice@example.com"}, []*ldap.Entry{alice, bob}, "", ErrAmbiguous},
		{"X500 proxy is not an address", Lookup{KeyMail, "/o=x"}, []*ldap.Entry{alice, bob}, "", ErrNotFound},
		{"entries of other lookups only", Lookup{KeySAMAccountName, "carol"}, []*ldap.Entry{alice, bob}, "", ErrNotFound},
		{"no entries", Lookup{KeySAMAccountName, "alice"}, nil, "", ErrNotFound},
		{"same user twice in a reply still is ambiguous", Lookup{KeySAMAccountName, "bob"}, []*ldap.Entry{bob, bob}, "", ErrAmbiguous},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := newMatcher(tc.lookup)
			if err != nil {
				t.Fatal(err)
			}
			u, err := m.pick(tc.entries)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("pick = %+v, %v; want %v", u, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("pick: %v", err)
			}
			if u.DN != tc.wantDN {
				t.Errorf("DN = %s, want %s", u.DN, tc.wantDN)
			}
		})
	}
}

func TestUserFromEntry(t *testing.T) {
	consistency := mustAnchor("a15df3dc-4416-414b-8b7d-5fbdcb5743c1")
	cases := []struct {
		name    string
		attrs   map[string][]string
		want    User
		wantErr bool
	}{
		{
			name: "all attributes",
			attrs: map[string][]string{
				"sAMAccountName": {"alice"}, "userPrincipalName": {"alice@example.com"}, "mail": {"alice@example.com"},
				"proxyAddresses": {"SMTP:alice@example.com"}, "mS-DS-ConsistencyGuid": {string(consistency[:])},
				"userAccountControl": {"514"}, "adminCount": {"1"},
			},
			want: User{
				DN: "CN=A,DC=x", SAMAccountName: "alice", UserPrincipalName: "alice@example.com", Mail: "alice@example.com",
				ProxyAddresses: []string{"SMTP:alice@example.com"}, ObjectGUID: guidA, ConsistencyGUID: &consistency,
				Disabled: true, AdminCount: 1,
			},
		},
		{
			name:  "attribute names in other case",
			attrs: map[string][]string{"SAMACCOUNTNAME": {"alice"}, "msDS-other": {"x"}, "ms-ds-consistencyguid": {string(consistency[:])}},
			want:  User{DN: "CN=A,DC=x", SAMAccountName: "alice", ObjectGUID: guidA, ConsistencyGUID: &consistency},
		},
		{
			name:  "enabled, not protected",
			attrs: map[string][]string{"userAccountControl": {"512"}, "adminCount": {"0"}},
			want:  User{DN: "CN=A,DC=x", ObjectGUID: guidA},
		},
		{
			name:  "consistency guid of another length",
			attrs: map[string][]string{"mS-DS-ConsistencyGuid": {"12345678901234567890"}},
			want:  User{DN: "CN=A,DC=x", ObjectGUID: guidA, InvalidConsistencyGUID: []byte("12345678901234567890")},
		},
		{name: "garbage userAccountControl", attrs: map[string][]string{"userAccountControl": {"x"}}, wantErr: true},
		{name: "garbage adminCount", attrs: map[string][]string{"adminCount": {"x"}}, wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u, err := userFromEntry(entry("CN=A,DC=x", guidA, tc.attrs))
			if (err != nil) != tc.wantErr {
				t.Fatalf("userFromEntry = %v, wantErr %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, u); err == nil && diff != "" {
				t.Errorf("user (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := userFromEntry(ldap.NewEntry("CN=A,DC=x", map[string][]string{"objectGUID": {"short"}})); err == nil {
		t.Error("an objectGUID of 5 bytes was accepted")
	}
}

func TestSourceAnchor(t *testing.T) {
	consistency := mustAnchor("a15df3dc-4416-414b-8b7d-5fbdcb5743c1")
	plain := User{DN: "CN=plain", ObjectGUID: guidA}
	stamped := User{DN: "CN=stamped", ObjectGUID: guidA, ConsistencyGUID: &consistency}
	broken := User{DN: "CN=broken", ObjectGUID: guidA, InvalidConsistencyGUID: []byte{1, 2, 3}}
	noGUID := User{DN: "CN=none"}
	cases := []struct {
		name    string
		doc     string
		user    User
		mode    string
		want    anchor.Anchor
		wantErr error
	}{
		{"objectGUID mode ignores the consistency guid", docDesignConcepts, stamped, AnchorObjectGUID, guidA, nil},
		{"consistency mode", docDesignConcepts, stamped, AnchorConsistencyGUID, consistency, nil},
		{"consistency mode, attribute empty", docDesignConcepts, plain, AnchorConsistencyGUID, anchor.Anchor{}, ErrAnchorMissing},
		{"auto prefers the consistency guid", docDesignConcepts, stamped, AnchorAuto, consistency, nil},
		{"auto falls back to objectGUID", docDesignConcepts, plain, AnchorAuto, guidA, nil},
		{"auto refuses a malformed consistency guid", docDesignConcepts, broken, AnchorAuto, anchor.Anchor{}, ErrAnchorMalformed},
		{"consistency mode refuses a malformed value", docDesignConcepts, broken, AnchorConsistencyGUID, anchor.Anchor{}, ErrAnchorMalformed},
		{"objectGUID mode does not care about a malformed consistency guid", docDesignConcepts, broken, AnchorObjectGUID, guidA, nil},
		{"mode names ignore case", docDesignConcepts, stamped, "ms-ds-consistencyguid", consistency, nil},
		{"missing objectGUID", docDesignConcepts, noGUID, AnchorAuto, anchor.Anchor{}, ErrAnchorMissing},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SourceAnchor(tc.user, tc.mode)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("SourceAnchor = %s, %v; want %v (see %s)", got, err, tc.wantErr, tc.doc)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("SourceAnchor = %s, %v; want %s (see %s)", got, err, tc.want, tc.doc)
			}
		})
	}
	if _, err := SourceAnchor(plain, "employeeID"); err == nil {
		t.Error("an unknown mode was accepted")
	}
}

func TestClassify(t *testing.T) {
	cases := []struct {
		name   string
		err    error
		tlsErr error
		want   error
	}{
		{"wrong password", ldap.NewError(ldap.LDAPResultInvalidCredentials, errors.New("80090308: LdapErr")), nil, ErrInvalidCredentials},
		{"no rights", ldap.NewError(ldap.LDAPResultInsufficientAccessRights, errors.New("x")), nil, ErrInsufficientAccess},
		{"no such object", ldap.NewError(ldap.LDAPResultNoSuchObject, errors.New("x")), nil, ErrNotFound},
		{"busy", ldap.NewError(ldap.LDAPResultBusy, errors.New("x")), nil, ErrUnreachable},
		{"unavailable", ldap.NewError(ldap.LDAPResultUnavailable, errors.New("x")), nil, ErrUnreachable},
		{"connection lost", ldap.NewError(ldap.ErrorNetwork, errors.New("ldap: connection closed")), nil, ErrUnreachable},
		{"refused", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, nil, ErrUnreachable},
		{"deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), nil, ErrUnreachable},
		{"unknown CA", x509.UnknownAuthorityError{}, nil, ErrTLS},
		{"wrong name", x509.HostnameError{Host: "dc"}, nil, ErrTLS},
		{"flattened handshake error with recorded cause", ldap.NewError(ldap.ErrorNetwork, errors.New("TLS handshake failed (x509: ...)")), x509.UnknownAuthorityError{}, ErrTLS},
		{"other LDAP error stays unclassified", ldap.NewError(ldap.LDAPResultUnwillingToPerform, errors.New("x")), nil, nil},
	}
	classes := []error{ErrUnreachable, ErrTLS, ErrInvalidCredentials, ErrInsufficientAccess, ErrNotFound, ErrAmbiguous}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := classify("op", tc.err, tc.tlsErr)
			for _, class := range classes {
				if got, want := errors.Is(err, class), tc.want != nil && errors.Is(tc.want, class); got != want {
					t.Errorf("errors.Is(%v, %v) = %v, want %v", err, class, got, want)
				}
			}
			if !errors.Is(err, tc.err) {
				t.Errorf("the cause is lost: %v", err)
			}
		})
	}
}
