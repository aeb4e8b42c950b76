package samba

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/go-ldap/ldap/v3"
)

// User describes a user to create. Only Sam is required.
type User struct {
	Sam            string
	UPN            string
	Mail           string
	ProxyAddresses []string
	GivenName      string
	Surname        string
	DisplayName    string
	// Parent is the container DN; CN=Users under the base DN when empty.
	Parent   string
	Disabled bool
	// Password defaults to a random one that meets AD's complexity rules.
	Password string
}

// UniqueName returns prefix followed by 6 random hex digits, so that tests
// sharing one DC (or a DC kept across runs) never collide. The result fits
// sAMAccountName's 20 characters when prefix has at most 14.
func UniqueName(t testing.TB, prefix string) string {
	t.Helper()
	b := make([]byte, 3)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("random name: %v", err)
	}
	name := prefix + hex.EncodeToString(b)
	if len(name) > 20 {
		t.Fatalf("name prefix %q too long for a sAMAccountName", prefix)
	}
	return name
}

// Conn opens an LDAPS connection bound as Administrator, with the DC's
// certificate verified; it is closed by t.Cleanup.
func (d *DC) Conn(t testing.TB) *ldap.Conn {
	t.Helper()
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(d.CAPEM) {
		t.Fatalf("the DC's CA PEM holds no certificate")
	}
	conn, err := ldap.DialURL(d.URL, ldap.DialWithTLSConfig(&tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}))
	if err != nil {
		t.Fatalf("dialing %s: %v", d.URL, err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetTimeout(30 * time.Second)
	if err := conn.Bind(d.BindUPN, d.Password); err != nil {
		t.Fatalf("binding as %s: %v", d.BindUPN, err)
	}
	return conn
}

// CreateUser adds an enabled (unless u.Disabled) user and returns its DN.
// The user is deleted again by t.Cleanup.
func (d *DC) CreateUser(t testing.TB, u User) string {
	t.Helper()
	if u.Sam == "" {
		t.Fatalf("CreateUser: Sam is required")
	}
	parent := u.Parent
	if parent == "" {
		parent = "CN=Users," + d.BaseDN
	}
	dn := "CN=" + ldap.EscapeDN(u.Sam) + "," + parent
	password := u.Password
	if password == "" {
		password = "Usr-" + UniqueName(t, "") + "-Q7z"
	}
	uac := 0x200 // NORMAL_ACCOUNT
	if u.Disabled {
		uac |= 0x2 // ACCOUNTDISABLE
	}
	req := ldap.NewAddRequest(dn, nil)
	req.Attribute("objectClass", []string{"top", "person", "organizationalPerson", "user"})
	req.Attribute("sAMAccountName", []string{u.Sam})
	req.Attribute("unicodePwd", []string{unicodePwd(password)})
	req.Attribute("userAccountControl", []string{strconv.Itoa(uac)})
	for attr, v := range map[string]string{
		"userPrincipalName": u.UPN, "mail": u.Mail, "givenName": u.GivenName,
		"sn": u.Surname, "displayName": u.DisplayName,
	} {
		if v != "" {
			req.Attribute(attr, []string{v})
		}
	}
	if len(u.ProxyAddresses) > 0 {
		req.Attribute("proxyAddresses", u.ProxyAddresses)
	}
	conn := d.Conn(t)
	if err := conn.Add(req); err != nil {
		t.Fatalf("creating user %s: %v", dn, err)
	}
	t.Cleanup(func() {
		if err := conn.Del(ldap.NewDelRequest(dn, nil)); err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
			t.Errorf("deleting user %s: %v", dn, err)
		}
	})
	return dn
}

// unicodePwd encodes a password the way AD wants it in unicodePwd: the
// quoted string in UTF-16LE.
func unicodePwd(p string) string {
	units := utf16.Encode([]rune(`"` + p + `"`))
	b := make([]byte, 2*len(units))
	for i, u := range units {
		binary.LittleEndian.PutUint16(b[2*i:], u)
	}
	return string(b)
}

// Replace sets attr of dn to values (removes it when values is empty).
func (d *DC) Replace(t testing.TB, dn, attr string, values ...string) {
	t.Helper()
	req := ldap.NewModifyRequest(dn, nil)
	req.Replace(attr, values)
	if err := d.Conn(t).Modify(req); err != nil {
		t.Fatalf("setting %s on %s: %v", attr, dn, err)
	}
}

// SetConsistencyGUID writes raw bytes (any length: tests also need invalid
// values) into mS-DS-ConsistencyGuid; nil clears it.
func (d *DC) SetConsistencyGUID(t testing.TB, dn string, raw []byte) {
	t.Helper()
	if raw == nil {
		d.Replace(t, dn, "mS-DS-ConsistencyGuid")
		return
	}
	d.Replace(t, dn, "mS-DS-ConsistencyGuid", string(raw))
}

// AddUPNSuffix adds an alternative UPN suffix to the forest (uPNSuffixes on
// CN=Partitions) and removes it again by t.Cleanup.
func (d *DC) AddUPNSuffix(t testing.TB, suffix string) {
	t.Helper()
	dn := "CN=Partitions,CN=Configuration," + d.BaseDN
	conn := d.Conn(t)
	add := ldap.NewModifyRequest(dn, nil)
	add.Add("uPNSuffixes", []string{suffix})
	if err := conn.Modify(add); err != nil {
		t.Fatalf("adding UPN suffix %s: %v", suffix, err)
	}
	t.Cleanup(func() {
		del := ldap.NewModifyRequest(dn, nil)
		del.Delete("uPNSuffixes", []string{suffix})
		if err := conn.Modify(del); err != nil {
			t.Errorf("removing UPN suffix %s: %v", suffix, err)
		}
	})
}

// RemoveUPNSuffix removes an alternative UPN suffix from the forest.
func (d *DC) RemoveUPNSuffix(t testing.TB, suffix string) {
	t.Helper()
	del := ldap.NewModifyRequest("CN=Partitions,CN=Configuration,"+d.BaseDN, nil)
	del.Delete("uPNSuffixes", []string{suffix})
	if err := d.Conn(t).Modify(del); err != nil {
		t.Errorf("removing UPN suffix %s: %v", suffix, err)
	}
}

var guidLine = regexp.MustCompile(`(?m)^objectGUID: ([0-9a-fA-F-]{36})\s*$`)

// GUIDString asks samba-tool (not LDAP) for the objectGUID of sam, as GUID
// text: an independent check of any byte-order conversion.
func (d *DC) GUIDString(t testing.TB, sam string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "samba-tool", "user", "show", sam, "--attributes=objectGUID", "-s", d.Conf).CombinedOutput()
	if err != nil {
		t.Fatalf("samba-tool user show %s: %v\n%s", sam, err, out)
	}
	m := guidLine.FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("samba-tool user show %s printed no objectGUID:\n%s", sam, out)
	}
	return strings.ToLower(m[1])
}

// String describes the DC without its password.
func (d *DC) String() string {
	return fmt.Sprintf("samba DC %s (base %s, dir %s, pid %d)", d.URL, d.BaseDN, d.Dir, d.Pid)
}

// CreateObject adds an object of the given classes under parent (the base
// DN's CN=Users when empty) with the attributes given, and deletes it again
// by t.Cleanup (an OU after whatever was created in it). It returns the DN.
func (d *DC) CreateObject(t testing.TB, rdn, parent string, classes []string, attrs map[string][]string) string {
	t.Helper()
	if parent == "" {
		parent = "CN=Users," + d.BaseDN
	}
	dn := rdn + "," + parent
	req := ldap.NewAddRequest(dn, nil)
	req.Attribute("objectClass", classes)
	for a, v := range attrs {
		if len(v) > 0 {
			req.Attribute(a, v)
		}
	}
	conn := d.Conn(t)
	if err := conn.Add(req); err != nil {
		t.Fatalf("creating %s: %v", dn, err)
	}
	t.Cleanup(func() {
		if err := conn.Del(ldap.NewDelRequest(dn, nil)); err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
			t.Errorf("deleting %s: %v", dn, err)
		}
	})
	return dn
}
