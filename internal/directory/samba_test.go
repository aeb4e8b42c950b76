//go:build !unit

// Excluded from make unit (-tags unit): it needs a Samba AD DC.

package directory

// Integration tests against a real Samba AD DC (internal/testenv/samba).

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/entramatch/entra-match-operator/internal/anchor"
	"github.com/entramatch/entra-match-operator/internal/testenv/samba"
)

var sharedDC samba.Shared

func TestMain(m *testing.M) {
	code := m.Run()
	sharedDC.Stop()
	os.Exit(code)
}

func configFor(dc *samba.DC) Config {
	return Config{
		URLs:     []string{dc.URL},
		BaseDN:   dc.BaseDN,
		BindDN:   dc.BindUPN,
		Password: dc.Password,
		CAPEM:    dc.CAPEM,
		Timeout:  10 * time.Second,
	}
}

func dial(t *testing.T, cfg Config) *Client {
	t.Helper()
	c, err := Dial(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

type testUser struct {
	samba.User
	DN string
}

func createUser(t *testing.T, dc *samba.DC, prefix string, change func(*samba.User)) testUser {
	t.Helper()
	sam := samba.UniqueName(t, prefix)
	u := samba.User{
		Sam:            sam,
		UPN:            sam + "@" + dc.DNSDomain,
		Mail:           sam + "@example.com",
		ProxyAddresses: []string{"SMTP:" + sam + "@example.com", "smtp:" + sam + "@alias.example.net"},
		GivenName:      "Test",
		Surname:        sam,
	}
	if change != nil {
		change(&u)
	}
	return testUser{User: u, DN: dc.CreateUser(t, u)}
}

func TestFindUserByEachKey(t *testing.T) {
	dc := sharedDC.Get(t)
	c := dial(t, configFor(dc))
	u := createUser(t, dc, "find", nil)
	guidText := dc.GUIDString(t, u.Sam)
	guid, err := anchor.FromGUID(guidText)
	if err != nil {
		t.Fatalf("samba-tool's GUID %q: %v", guidText, err)
	}
	lookups := []Lookup{
		{KeySAMAccountName, u.Sam},
		{KeySAMAccountName, strings.ToUpper(u.Sam)},
		{KeyUserPrincipalName, u.UPN},
		{KeyDistinguishedName, u.DN},
		{KeyDistinguishedName, strings.ToLower(u.DN)},
		{KeyObjectGUID, guidText},
		{KeyObjectGUID, guid.ImmutableID()},
		{KeyObjectGUID, guid.Hex()},
		{KeyMail, u.Mail},
		{KeyMail, u.Sam + "@alias.example.net"},
	}
	for _, l := range lookups {
		t.Run(l.String(), func(t *testing.T) {
			got, err := c.FindUser(context.Background(), l)
			if err != nil {
				t.Fatalf("FindUser: %v", err)
			}
			if !strings.EqualFold(got.DN, u.DN) || got.SAMAccountName != u.Sam || got.UserPrincipalName != u.UPN || got.Mail != u.Mail {
				t.Errorf("FindUser = %+v, want %s / %s / %s / %s", got, u.DN, u.Sam, u.UPN, u.Mail)
			}
			// The independent check: samba-tool's GUID text and the LDAP
			// bytes read through internal/anchor must agree.
			if got.ObjectGUID.GUID() != guidText {
				t.Errorf("objectGUID = %s, samba-tool prints %s", got.ObjectGUID.GUID(), guidText)
			}
			slices.Sort(got.ProxyAddresses)
			if want := slices.Sorted(slices.Values(u.ProxyAddresses)); !slices.Equal(got.ProxyAddresses, want) {
				t.Errorf("proxyAddresses = %q, want %q", got.ProxyAddresses, want)
			}
			if got.ConsistencyGUID != nil || got.Disabled || got.AdminCount != 0 {
				t.Errorf("fresh user: ConsistencyGUID %v, Disabled %v, AdminCount %d", got.ConsistencyGUID, got.Disabled, got.AdminCount)
			}
		})
	}
}

func TestFindUsersInOneCall(t *testing.T) {
	dc := sharedDC.Get(t)
	c := dial(t, configFor(dc))
	a := createUser(t, dc, "batcha", nil)
	b := createUser(t, dc, "batchb", func(u *samba.User) { u.Disabled = true })
	dc.Replace(t, b.DN, "adminCount", "1")
	missing := Lookup{KeySAMAccountName, samba.UniqueName(t, "nobody")}
	injection := Lookup{KeySAMAccountName, "*)(objectClass=*"}
	badGUID := Lookup{KeyObjectGUID, "not-a-guid"}
	lookups := []Lookup{{KeySAMAccountName, a.Sam}, {KeyMail, b.Mail}, missing, injection, badGUID}
	users, errs := c.FindUsers(context.Background(), lookups)
	if got := users[lookups[0]]; got.SAMAccountName != a.Sam {
		t.Errorf("user a = %+v, error %v", got, errs[lookups[0]])
	}
	if got := users[lookups[1]]; got.SAMAccountName != b.Sam || !got.Disabled || got.AdminCount != 1 {
		t.Errorf("user b = %+v (want disabled, adminCount 1), error %v", got, errs[lookups[1]])
	}
	for l, want := range map[Lookup]error{missing: ErrNotFound, injection: ErrNotFound, badGUID: ErrInvalidLookup} {
		if _, ok := users[l]; ok || !errors.Is(errs[l], want) {
			t.Errorf("%s: user %v, error %v; want %v", l, ok, errs[l], want)
		}
	}
	if len(users)+len(errs) != len(lookups) {
		t.Errorf("%d users + %d errors for %d lookups", len(users), len(errs), len(lookups))
	}
}

func TestFindUsersManyLookupsAcrossBatches(t *testing.T) {
	dc := sharedDC.Get(t)
	c := dial(t, configFor(dc))
	var want []testUser
	for range 3 {
		want = append(want, createUser(t, dc, "many", nil))
	}
	var lookups []Lookup
	for i := range 2*lookupsPerSearch + 5 {
		lookups = append(lookups, Lookup{KeySAMAccountName, "absent" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + string(rune('a'+i/26))})
	}
	for _, u := range want {
		lookups = append(lookups, Lookup{KeyUserPrincipalName, u.UPN})
	}
	users, errs := c.FindUsers(context.Background(), lookups)
	for _, u := range want {
		if got := users[Lookup{KeyUserPrincipalName, u.UPN}]; got.SAMAccountName != u.Sam {
			t.Errorf("%s: got %+v", u.UPN, got)
		}
	}
	if len(users) != len(want) {
		t.Errorf("found %d users, want %d", len(users), len(want))
	}
	for l, err := range errs {
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: %v, want ErrNotFound", l, err)
		}
	}
}

func TestInjectionMatchesNothingExtra(t *testing.T) {
	dc := sharedDC.Get(t)
	c := dial(t, configFor(dc))
	createUser(t, dc, "inj", nil)
	attempts := []string{"*", "*)(objectClass=*", "*)(|(objectClass=*", `\2a`, "a*", "*)(sAMAccountName=*))(|(cn=*", "\x00"}
	for _, key := range []Key{KeySAMAccountName, KeyUserPrincipalName, KeyDistinguishedName, KeyObjectGUID, KeyMail} {
		for _, v := range attempts {
			l := Lookup{key, v}
			t.Run(l.String(), func(t *testing.T) {
				u, err := c.FindUser(context.Background(), l)
				if !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrInvalidLookup) {
					t.Fatalf("FindUser = %+v, %v; want ErrNotFound or ErrInvalidLookup", u, err)
				}
			})
		}
	}
}

func TestAmbiguousMail(t *testing.T) {
	dc := sharedDC.Get(t)
	c := dial(t, configFor(dc))
	first := createUser(t, dc, "ambi", nil)
	createUser(t, dc, "ambi", func(u *samba.User) {
		u.Mail = ""
		u.ProxyAddresses = []string{"SMTP:" + u.Sam + "@example.com", "smtp:" + first.Mail}
	})
	_, err := c.FindUser(context.Background(), Lookup{KeyMail, first.Mail})
	if !errors.Is(err, ErrAmbiguous) {
		t.Fatalf("FindUser(shared address) = %v, want ErrAmbiguous", err)
	}
}

func TestOnlyUserAccountsAreFound(t *testing.T) {
	dc := sharedDC.Get(t)
	c := dial(t, configFor(dc))
	hostname, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	// The DC's computer account is objectClass=user too, but no person.
	computer := strings.ToUpper(strings.Split(hostname, ".")[0]) + "$"
	for _, l := range []Lookup{
		{KeySAMAccountName, computer},
		{KeyDistinguishedName, "CN=Users," + dc.BaseDN},
	} {
		if u, err := c.FindUser(context.Background(), l); !errors.Is(err, ErrNotFound) {
			t.Errorf("FindUser(%s) = %+v, %v; want ErrNotFound", l, u, err)
		}
	}
	if _, err := c.FindUser(context.Background(), Lookup{KeySAMAccountName, "Administrator"}); err != nil {
		t.Errorf("the Administrator account should be found: %v", err)
	}
}

func TestDialFailures(t *testing.T) {
	dc := sharedDC.Get(t)
	otherCA := selfSignedCA(t)
	closed := closedPort(t)
	cases := []struct {
		name   string
		change func(*Config)
		want   error
	}{
		{"wrong password", func(c *Config) { c.Password += "x" }, ErrInvalidCredentials},
		{"unknown account", func(c *Config) { c.BindDN = "nobody@" + dc.DNSDomain }, ErrInvalidCredentials},
		{"wrong CA over LDAPS", func(c *Config) { c.CAPEM = otherCA }, ErrTLS},
		{"wrong CA with StartTLS", func(c *Config) { c.CAPEM = otherCA; c.URLs = []string{dc.StartTLSURL}; c.StartTLS = true }, ErrTLS},
		{"system roots do not know the test CA", func(c *Config) { c.CAPEM = nil }, ErrTLS},
		{"certificate not valid for the name", func(c *Config) { c.ServerName = "dc.elsewhere.test" }, ErrTLS},
		{"LDAPS to the plain LDAP port", func(c *Config) { c.URLs = []string{"ldaps://127.0.0.1:389"} }, ErrTLS},
		{"closed port", func(c *Config) { c.URLs = []string{closed} }, ErrUnreachable},
		{"every server down", func(c *Config) { c.URLs = []string{closed, closed} }, ErrUnreachable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := configFor(dc)
			tc.change(&cfg)
			c, err := Dial(context.Background(), cfg)
			if err == nil {
				c.Close()
				t.Fatal("Dial succeeded")
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Dial = %v, want %v", err, tc.want)
			}
			if strings.Contains(err.Error(), dc.Password) {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
}

func TestDialVariants(t *testing.T) {
	dc := sharedDC.Get(t)
	cases := []struct {
		name   string
		change func(*Config)
	}{
		{"LDAPS", func(*Config) {}},
		{"StartTLS", func(c *Config) { c.URLs = []string{dc.StartTLSURL}; c.StartTLS = true }},
		{"bind DN instead of UPN", func(c *Config) { c.BindDN = dc.BindDN }},
		{"failover past a dead server", func(c *Config) { c.URLs = []string{closedPort(t), dc.URL} }},
		{"explicitly unverified, wrong CA", func(c *Config) { c.CAPEM = selfSignedCA(t); c.InsecureSkipVerify = true }},
		{"server name matching the certificate", func(c *Config) { c.ServerName = "localhost" }},
		{"base DN from the root DSE", func(c *Config) { c.BaseDN = "" }},
	}
	u := createUser(t, dc, "variant", nil)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := configFor(dc)
			tc.change(&cfg)
			c := dial(t, cfg)
			if _, err := c.FindUser(context.Background(), Lookup{KeySAMAccountName, u.Sam}); err != nil {
				t.Fatalf("FindUser: %v", err)
			}
		})
	}
}

func TestReconnectsAfterConnectionLoss(t *testing.T) {
	dc := sharedDC.Get(t)
	c := dial(t, configFor(dc))
	u := createUser(t, dc, "reconn", nil)
	c.mu.Lock()
	c.conn.Close() // as when the DC restarts or drops an idle connection
	c.mu.Unlock()
	if _, err := c.FindUser(context.Background(), Lookup{KeySAMAccountName, u.Sam}); err != nil {
		t.Fatalf("FindUser after the connection was lost: %v", err)
	}
}

func TestCancelledContext(t *testing.T) {
	dc := sharedDC.Get(t)
	c := dial(t, configFor(dc))
	u := createUser(t, dc, "cancel", nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.FindUser(ctx, Lookup{KeySAMAccountName, u.Sam}); !errors.Is(err, context.Canceled) {
		t.Fatalf("FindUser with a cancelled context = %v, want context.Canceled", err)
	}
	if _, err := c.FindUser(context.Background(), Lookup{KeySAMAccountName, u.Sam}); err != nil {
		t.Fatalf("FindUser after a cancelled call: %v", err)
	}
}

func TestClosedClient(t *testing.T) {
	dc := sharedDC.Get(t)
	c := dial(t, configFor(dc))
	c.Close()
	if _, err := c.NamingContext(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("NamingContext after Close = %v, want ErrClosed", err)
	}
}

func TestNamingContextAndUPNSuffixes(t *testing.T) {
	dc := sharedDC.Get(t)
	c := dial(t, configFor(dc))
	nc, err := c.NamingContext(context.Background())
	if err != nil || !strings.EqualFold(nc, dc.BaseDN) {
		t.Fatalf("NamingContext = %q, %v; want %s", nc, err, dc.BaseDN)
	}
	suffix := samba.UniqueName(t, "upn") + ".example.com"
	dc.AddUPNSuffix(t, suffix)
	got, err := c.UPNSuffixes(context.Background())
	if err != nil {
		t.Fatalf("UPNSuffixes: %v", err)
	}
	if len(got) < 2 || !strings.EqualFold(got[0], dc.DNSDomain) || !slices.Contains(got, suffix) {
		t.Errorf("UPNSuffixes = %q, want %s first and %s among them", got, dc.DNSDomain, suffix)
	}
}

func TestSetConsistencyGUID(t *testing.T) {
	dc := sharedDC.Get(t)
	c := dial(t, configFor(dc))
	ctx := context.Background()
	u := createUser(t, dc, "cguid", nil)
	byDN := Lookup{KeyDistinguishedName, u.DN}
	before, err := c.FindUser(ctx, byDN)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := SourceAnchor(before, AnchorConsistencyGUID); !errors.Is(err, ErrAnchorMissing) {
		t.Errorf("SourceAnchor before the write = %v, want ErrAnchorMissing", err)
	}

	// Entra Connect's behaviour: stamp the objectGUID into the empty attribute.
	if err := c.SetConsistencyGUID(ctx, u.DN, before.ObjectGUID); err != nil {
		t.Fatalf("SetConsistencyGUID on an empty attribute: %v", err)
	}
	after, err := c.FindUser(ctx, byDN)
	if err != nil {
		t.Fatal(err)
	}
	if after.ConsistencyGUID == nil || *after.ConsistencyGUID != before.ObjectGUID {
		t.Fatalf("mS-DS-ConsistencyGuid = %v, want %s", after.ConsistencyGUID, before.ObjectGUID)
	}
	if a, err := SourceAnchor(after, AnchorAuto); err != nil || a != before.ObjectGUID {
		t.Errorf("SourceAnchor(Auto) = %s, %v", a, err)
	}

	if err := c.SetConsistencyGUID(ctx, u.DN, before.ObjectGUID); err != nil {
		t.Errorf("writing the same value again = %v, want success", err)
	}
	other := mustAnchor("a15df3dc-4416-414b-8b7d-5fbdcb5743c1")
	if err := c.SetConsistencyGUID(ctx, u.DN, other); !errors.Is(err, ErrConsistencyGUIDSet) {
		t.Errorf("writing a different value = %v, want ErrConsistencyGUIDSet", err)
	}
	if again, _ := c.FindUser(ctx, byDN); again.ConsistencyGUID == nil || *again.ConsistencyGUID != before.ObjectGUID {
		t.Errorf("the value was overwritten: %v", again.ConsistencyGUID)
	}

	dc.SetConsistencyGUID(t, u.DN, []byte("twenty bytes, no GUID"))
	if err := c.SetConsistencyGUID(ctx, u.DN, other); !errors.Is(err, ErrConsistencyGUIDSet) {
		t.Errorf("writing over a malformed value = %v, want ErrConsistencyGUIDSet", err)
	}
	odd, err := c.FindUser(ctx, byDN)
	if err != nil || odd.ConsistencyGUID != nil || string(odd.InvalidConsistencyGUID) != "twenty bytes, no GUID" {
		t.Errorf("malformed value read as %v / %q, %v", odd.ConsistencyGUID, odd.InvalidConsistencyGUID, err)
	}
	if _, err := SourceAnchor(odd, AnchorAuto); !errors.Is(err, ErrAnchorMalformed) {
		t.Errorf("SourceAnchor(Auto) with a malformed value = %v, want ErrAnchorMalformed", err)
	}

	missing := "CN=" + samba.UniqueName(t, "gone") + ",CN=Users," + dc.BaseDN
	if err := c.SetConsistencyGUID(ctx, missing, other); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetConsistencyGUID on a missing user = %v, want ErrNotFound", err)
	}
	if err := c.SetConsistencyGUID(ctx, "*)(objectClass=*", other); !errors.Is(err, ErrInvalidLookup) {
		t.Errorf("SetConsistencyGUID on a malformed DN = %v, want ErrInvalidLookup", err)
	}
}

func TestInsufficientAccess(t *testing.T) {
	dc := sharedDC.Get(t)
	const password = "Weak-Acct-1234!"
	reader := createUser(t, dc, "reader", func(u *samba.User) { u.Password = password })
	target := createUser(t, dc, "target", nil)
	cfg := configFor(dc)
	cfg.BindDN, cfg.Password = reader.UPN, password
	c := dial(t, cfg)
	got, err := c.FindUser(context.Background(), Lookup{KeySAMAccountName, target.Sam})
	if err != nil {
		t.Fatalf("an ordinary user can read users in AD: %v", err)
	}
	if err := c.SetConsistencyGUID(context.Background(), target.DN, got.ObjectGUID); !errors.Is(err, ErrInsufficientAccess) {
		t.Fatalf("SetConsistencyGUID as an ordinary user = %v, want ErrInsufficientAccess", err)
	}
}

// selfSignedCA returns a CA certificate that did not issue the DC's.
func selfSignedCA(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "unrelated test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// closedPort returns an ldaps URL on which nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "ldaps://" + addr
}

func TestConcurrentUse(t *testing.T) {
	dc := sharedDC.Get(t)
	c := dial(t, configFor(dc))
	users := []testUser{createUser(t, dc, "conc", nil), createUser(t, dc, "conc", nil)}
	errs := make(chan error, 20)
	for i := range cap(errs) {
		go func() {
			u := users[i%len(users)]
			if i == 7 {
				c.mu.Lock()
				c.conn.Close()
				c.mu.Unlock()
			}
			got, err := c.FindUser(context.Background(), Lookup{KeyUserPrincipalName, u.UPN})
			if err == nil && got.SAMAccountName != u.Sam {
				err = errors.New("got " + got.SAMAccountName + ", want " + u.Sam)
			}
			errs <- err
		}()
	}
	for range cap(errs) {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// A base DN that names no object is its own error, on the base read and on
// user searches under it: an empty answer would read as "no such user".
func TestMissingBaseDN(t *testing.T) {
	dc := sharedDC.Get(t)
	ctx := context.Background()
	good := dial(t, configFor(dc))
	if base, err := good.SearchBase(ctx); err != nil || !strings.EqualFold(base, dc.BaseDN) {
		t.Fatalf("SearchBase = %q, %v; want %s", base, err, dc.BaseDN)
	}
	cfg := configFor(dc)
	cfg.BaseDN = "OU=Nowhere," + dc.BaseDN
	c := dial(t, cfg)
	if _, err := c.SearchBase(ctx); !errors.Is(err, ErrBaseDNNotFound) {
		t.Fatalf("SearchBase of a missing base DN = %v, want ErrBaseDNNotFound", err)
	}
	u := createUser(t, dc, "nobase", nil)
	if _, err := c.FindUser(ctx, Lookup{KeySAMAccountName, u.Sam}); !errors.Is(err, ErrBaseDNNotFound) || errors.Is(err, ErrNotFound) {
		t.Fatalf("FindUser under a missing base DN = %v, want ErrBaseDNNotFound only", err)
	}
}

// The forest's alternative UPN suffixes are added and removed in one
// modify of CN=Partitions, and a bind account without the right to write
// there gets ErrInsufficientAccess (Samba's default ACL: Enterprise Admins).
func TestChangeUPNSuffixes(t *testing.T) {
	dc := sharedDC.Get(t)
	ctx := context.Background()
	c := dial(t, configFor(dc))
	suffix := samba.UniqueName(t, "sfx") + ".example.com"
	if err := c.ChangeUPNSuffixes(ctx, []string{suffix}, nil); err != nil {
		t.Fatalf("adding %s: %v", suffix, err)
	}
	removed := false
	t.Cleanup(func() {
		if !removed {
			_ = c.ChangeUPNSuffixes(context.Background(), nil, []string{suffix})
		}
	})
	f, err := c.ForestUPNSuffixes(ctx)
	if err != nil || !slices.Contains(f.Alternative, suffix) || !slices.Contains(f.Offered, suffix) {
		t.Fatalf("after adding: %+v, %v", f, err)
	}
	if !strings.HasPrefix(strings.ToUpper(f.PartitionsDN), "CN=PARTITIONS,CN=CONFIGURATION,") {
		t.Errorf("PartitionsDN = %q", f.PartitionsDN)
	}

	const pass = "Plain-Passw0rd-9a"
	u := createUser(t, dc, "plain", func(u *samba.User) { u.Password = pass })
	cfg := configFor(dc)
	cfg.BindDN, cfg.Password = u.UPN, pass
	plain := dial(t, cfg)
	if err := plain.ChangeUPNSuffixes(ctx, []string{"refused." + suffix}, nil); !errors.Is(err, ErrInsufficientAccess) {
		t.Fatalf("a plain user adding a suffix: %v, want ErrInsufficientAccess", err)
	}

	if err := c.ChangeUPNSuffixes(ctx, nil, []string{suffix}); err != nil {
		t.Fatalf("removing %s: %v", suffix, err)
	}
	removed = true
	if f, err := c.ForestUPNSuffixes(ctx); err != nil || slices.Contains(f.Alternative, suffix) {
		t.Fatalf("after removing: %+v, %v", f, err)
	}
}
