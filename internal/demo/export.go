package demo

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/entramatch/entra-match-operator/internal/anchor"
	"github.com/entramatch/entra-match-operator/internal/directory"
	"github.com/entramatch/entra-match-operator/internal/emulator"
)

// The emulated Entra Connect reads AD on its own connection, as the real
// one does with its AD DS connector account; the operator's directory
// client is not involved, so the two cannot hide each other's mistakes.

// ldapSource says how the emulated sync reaches the directory.
type ldapSource struct {
	URL      string
	CAPEM    []byte
	BindDN   string
	Password string
	BaseDN   string
	// Scope are OUs relative to BaseDN.
	Scope []string
}

var exportAttributes = []string{
	"objectClass", "objectGUID", "mS-DS-ConsistencyGuid", "sAMAccountName", "userPrincipalName",
	"mail", "mailNickname", "proxyAddresses", "displayName", "groupType",
}

// exportFilter selects what Entra Connect exports by default: users and groups.
const exportFilter = "(|(&(objectCategory=person)(objectClass=user))(objectClass=group))"

// readExports reads every user and group in scope and turns each into the
// object Entra Connect would export, in a stable order.
func readExports(ctx context.Context, src ldapSource) ([]emulator.SyncObject, error) {
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(src.CAPEM) {
		return nil, errors.New("reading the directory: no certificate in the CA bundle")
	}
	dialer := ldap.DialWithTLSConfig(&tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12})
	conn, err := ldap.DialURL(src.URL, dialer)
	if err != nil {
		return nil, fmt.Errorf("reading the directory: dialing %s: %w", src.URL, err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	conn.SetTimeout(30 * time.Second)
	if err := conn.Bind(src.BindDN, src.Password); err != nil {
		return nil, fmt.Errorf("reading the directory: binding as %s: %w", src.BindDN, err)
	}
	var out []emulator.SyncObject
	for _, ou := range src.Scope {
		base := ou + "," + src.BaseDN
		res, err := conn.SearchWithPaging(ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
			0, 0, false, exportFilter, exportAttributes, nil), 500)
		if err != nil {
			return nil, fmt.Errorf("reading the directory: searching %s: %w", base, err)
		}
		for _, e := range res.Entries {
			obj, err := exportOf(entryOf(e))
			if err != nil {
				return nil, err
			}
			out = append(out, obj)
		}
	}
	sortExports(out)
	return out, nil
}

// adEntry is the part of an LDAP entry that the export needs.
type adEntry struct {
	DN                string
	ObjectClass       []string
	ObjectGUID        []byte
	ConsistencyGUID   []byte
	SAMAccountName    string
	UserPrincipalName string
	Mail              string
	MailNickname      string
	ProxyAddresses    []string
	DisplayName       string
}

func entryOf(e *ldap.Entry) adEntry {
	return adEntry{
		DN:                e.DN,
		ObjectClass:       e.GetAttributeValues("objectClass"),
		ObjectGUID:        e.GetRawAttributeValue("objectGUID"),
		ConsistencyGUID:   e.GetRawAttributeValue("mS-DS-ConsistencyGuid"),
		SAMAccountName:    e.GetAttributeValue("sAMAccountName"),
		UserPrincipalName: e.GetAttributeValue("userPrincipalName"),
		Mail:              e.GetAttributeValue("mail"),
		MailNickname:      e.GetAttributeValue("mailNickname"),
		ProxyAddresses:    e.GetAttributeValues("proxyAddresses"),
		DisplayName:       e.GetAttributeValue("displayName"),
	}
}

// exportOf builds the exported object. Users are anchored like Entra
// Connect's default: mS-DS-ConsistencyGuid when set, else objectGUID;
// groups always on objectGUID
// (https://learn.microsoft.com/entra/identity/hybrid/connect/plan-connect-design-concepts).
func exportOf(e adEntry) (emulator.SyncObject, error) {
	guid, err := anchor.FromBytes(e.ObjectGUID)
	if err != nil {
		return emulator.SyncObject{}, fmt.Errorf("exporting %s: objectGUID: %w", e.DN, err)
	}
	obj := emulator.SyncObject{
		SourceAnchor:                guid.ImmutableID(),
		Mail:                        e.Mail,
		MailNickname:                e.MailNickname,
		ProxyAddresses:              e.ProxyAddresses,
		DisplayName:                 firstNonEmpty(e.DisplayName, e.SAMAccountName),
		OnPremisesDistinguishedName: e.DN,
		OnPremisesSamAccountName:    e.SAMAccountName,
		OnPremisesObjectIdentifier:  guid.GUID(),
	}
	switch {
	case hasClass(e.ObjectClass, "group"):
		obj.Type = "group"
	case hasClass(e.ObjectClass, "user"):
		obj.Type = "user"
		obj.UserPrincipalName = e.UserPrincipalName
		u := directory.User{DN: e.DN, ObjectGUID: guid}
		switch len(e.ConsistencyGUID) {
		case 0:
		case anchor.Size:
			cg, _ := anchor.FromBytes(e.ConsistencyGUID)
			u.ConsistencyGUID = &cg
		default:
			u.InvalidConsistencyGUID = e.ConsistencyGUID
		}
		a, err := directory.SourceAnchor(u, directory.AnchorAuto)
		if err != nil {
			return emulator.SyncObject{}, fmt.Errorf("exporting %s: %w", e.DN, err)
		}
		obj.SourceAnchor = a.ImmutableID()
	default:
		return emulator.SyncObject{}, fmt.Errorf("exporting %s: neither a user nor a group (objectClass %v)", e.DN, e.ObjectClass)
	}
	return obj, nil
}

func hasClass(classes []string, want string) bool {
	return slices.ContainsFunc(classes, func(c string) bool { return strings.EqualFold(c, want) })
}

// sortExports puts users before groups, each by sAMAccountName, so that
// every run exports (and prints) in the same order.
func sortExports(objs []emulator.SyncObject) {
	slices.SortStableFunc(objs, func(a, b emulator.SyncObject) int {
		if a.Type != b.Type {
			return strings.Compare(typeRank(a.Type), typeRank(b.Type))
		}
		return strings.Compare(strings.ToLower(a.OnPremisesSamAccountName), strings.ToLower(b.OnPremisesSamAccountName))
	})
}

func typeRank(t string) string {
	if t == "user" {
		return "0"
	}
	return "1" + t
}
