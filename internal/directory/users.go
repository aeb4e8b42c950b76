package directory

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"github.com/entramatch/entra-match-operator/internal/anchor"
)

// User is what the operator needs to know about an AD user.
type User struct {
	DN                string
	SAMAccountName    string
	UserPrincipalName string
	Mail              string
	ProxyAddresses    []string
	ObjectGUID        anchor.Anchor
	// ConsistencyGUID is mS-DS-ConsistencyGuid; nil when empty or when it
	// holds something other than 16 bytes (then see InvalidConsistencyGUID).
	ConsistencyGUID *anchor.Anchor
	// InvalidConsistencyGUID holds the raw mS-DS-ConsistencyGuid when it is
	// not 16 bytes long (written by some other tool). Such a value is never
	// used as an anchor and never overwritten: a person has to look at it.
	InvalidConsistencyGUID []byte
	// Disabled mirrors ACCOUNTDISABLE in userAccountControl.
	Disabled bool
	// AdminCount is 1 for accounts that are or were in a protected
	// (administrative) group, as AdminSDHolder marks them.
	AdminCount int
	// Attributes holds the extra attributes a search asked for (by the
	// name asked), first value each.
	Attributes map[string]string
}

// Key is the attribute a Lookup matches on.
type Key string

// The keys a user can be looked up by.
const (
	KeySAMAccountName    Key = "SAMAccountName"
	KeyUserPrincipalName Key = "UserPrincipalName"
	KeyDistinguishedName Key = "DistinguishedName"
	// KeyObjectGUID takes any notation anchor.Parse reads.
	KeyObjectGUID Key = "ObjectGUID"
	// KeyMail matches the mail attribute or any SMTP proxy address,
	// primary or secondary: both make the address belong to the user, and
	// an address on two users must show as ErrAmbiguous.
	KeyMail Key = "Mail"
)

// Lookup names one user.
type Lookup struct {
	By    Key
	Value string
}

func (l Lookup) String() string { return string(l.By) + "=" + l.Value }

// userAttributes are read for every user.
var userAttributes = []string{
	"sAMAccountName", "userPrincipalName", "mail", "proxyAddresses", "objectGUID",
	"mS-DS-ConsistencyGuid", "userAccountControl", "adminCount",
}

const (
	// lookupsPerSearch bounds the OR filter of one search; AD refuses
	// requests beyond its MaxReceiveBuffer, and a huge filter is slow.
	lookupsPerSearch  = 100
	pageSize          = 500
	uacAccountDisable = 0x2
)

// FindUser returns the one user matching l: ErrNotFound when none does,
// ErrAmbiguous when several do.
func (c *Client) FindUser(ctx context.Context, l Lookup) (User, error) {
	users, errs := c.FindUsers(ctx, []Lookup{l})
	if err := errs[l]; err != nil {
		return User{}, err
	}
	return users[l], nil
}

// FindUsers resolves many lookups with few round trips: one paged search
// with an OR filter per batch of lookups. Each lookup ends up either in the
// user map or in the error map, never both.
func (c *Client) FindUsers(ctx context.Context, lookups []Lookup) (map[Lookup]User, map[Lookup]error) {
	users := map[Lookup]User{}
	errs := map[Lookup]error{}
	var valid []matcher
	seen := map[Lookup]bool{}
	for _, l := range lookups {
		if seen[l] {
			continue
		}
		seen[l] = true
		m, err := newMatcher(l)
		if err != nil {
			errs[l] = err
			continue
		}
		valid = append(valid, m)
	}
	if len(valid) == 0 {
		return users, errs
	}
	base, err := c.searchBase(ctx)
	if err != nil {
		for _, m := range valid {
			errs[m.lookup] = err
		}
		return users, errs
	}
	for batch := range slices.Chunk(valid, lookupsPerSearch) {
		entries, err := c.searchUsers(ctx, base, userFilter(batch))
		for _, m := range batch {
			if err != nil {
				errs[m.lookup] = err
				continue
			}
			u, err := m.pick(entries)
			if err != nil {
				errs[m.lookup] = err
				continue
			}
			users[m.lookup] = u
		}
	}
	return users, errs
}

// searchUsers returns the raw entries of a search for users: for searches
// of a bounded size (one batch of lookups), whose entries are read whole.
func (c *Client) searchUsers(ctx context.Context, base, filter string) ([]*ldap.Entry, error) {
	entries, err := searchEach(c, ctx, "search users", userSearch(base, filter), rawEntry)
	return entries, baseMissing(base, err)
}

func userSearch(base, filter string, extra ...string) *ldap.SearchRequest {
	attrs := append(append([]string(nil), userAttributes...), extra...)
	return ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false, filter, attrs, nil)
}

// userFilter selects user accounts (objectCategory=person excludes
// computers, objectClass=user excludes contacts) matching any lookup.
func userFilter(batch []matcher) string {
	var b strings.Builder
	b.WriteString("(&(objectCategory=person)(objectClass=user)(|")
	for _, m := range batch {
		b.WriteString(m.filter)
	}
	b.WriteString("))")
	return b.String()
}

// matcher is a validated lookup: the filter term that finds candidates,
// and the test that tells which returned entries belong to this lookup.
type matcher struct {
	lookup  Lookup
	filter  string
	matches func(*ldap.Entry) bool
}

func newMatcher(l Lookup) (matcher, error) {
	invalid := func(err error) (matcher, error) {
		return matcher{}, &Error{Op: "look up " + l.String(), Class: ErrInvalidLookup, Err: err}
	}
	v := strings.TrimSpace(l.Value)
	if v == "" {
		return invalid(errors.New("empty value"))
	}
	eq := func(attr string) func(*ldap.Entry) bool {
		return func(e *ldap.Entry) bool {
			return slices.ContainsFunc(e.GetEqualFoldAttributeValues(attr), func(s string) bool { return strings.EqualFold(s, v) })
		}
	}
	esc := ldap.EscapeFilter(v)
	switch l.By {
	case KeySAMAccountName:
		return matcher{l, "(sAMAccountName=" + esc + ")", eq("sAMAccountName")}, nil
	case KeyUserPrincipalName:
		return matcher{l, "(userPrincipalName=" + esc + ")", eq("userPrincipalName")}, nil
	case KeyMail:
		proxy := "smtp:" + v
		return matcher{l, "(|(mail=" + esc + ")(proxyAddresses=" + ldap.EscapeFilter(proxy) + "))", func(e *ldap.Entry) bool {
			return eq("mail")(e) || slices.ContainsFunc(e.GetEqualFoldAttributeValues("proxyAddresses"), func(s string) bool { return strings.EqualFold(s, proxy) })
		}}, nil
	case KeyDistinguishedName:
		// A malformed DN in the filter makes AD fail the whole search,
		// taking the other lookups of the batch with it.
		want, err := parseDN(v)
		if err != nil {
			return invalid(err)
		}
		return matcher{l, "(distinguishedName=" + esc + ")", func(e *ldap.Entry) bool {
			got, err := ldap.ParseDN(e.DN)
			return err == nil && got.EqualFold(want)
		}}, nil
	case KeyObjectGUID:
		a, err := anchor.Parse(v)
		if err != nil {
			return invalid(err)
		}
		return matcher{l, "(objectGUID=" + a.LDAPFilterValue() + ")", func(e *ldap.Entry) bool {
			return string(e.GetEqualFoldRawAttributeValue("objectGUID")) == string(a[:])
		}}, nil
	}
	return invalid(fmt.Errorf("unknown key %q", l.By))
}

// attributeType is an LDAP attribute description: a name or an OID.
var attributeType = regexp.MustCompile(`^(?:[A-Za-z][A-Za-z0-9-]*|[0-9]+(?:\.[0-9]+)*)$`)

// parseDN parses a DN more strictly than ldap.ParseDN, which accepts
// "*)(objectClass=*" as an RDN of type "*)(objectClass".
func parseDN(s string) (*ldap.DN, error) {
	dn, err := ldap.ParseDN(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not a distinguished name: %w", s, err)
	}
	if len(dn.RDNs) == 0 {
		return nil, fmt.Errorf("%q is not a distinguished name: it is empty", s)
	}
	for _, rdn := range dn.RDNs {
		for _, atv := range rdn.Attributes {
			if !attributeType.MatchString(atv.Type) {
				return nil, fmt.Errorf("%q is not a distinguished name: %q is not an attribute type", s, atv.Type)
			}
		}
	}
	return dn, nil
}

func (m matcher) pick(entries []*ldap.Entry) (User, error) {
	var found []*ldap.Entry
	for _, e := range entries {
		if m.matches(e) {
			found = append(found, e)
		}
	}
	op := "look up " + m.lookup.String()
	switch len(found) {
	case 0:
		return User{}, &Error{Op: op, Class: ErrNotFound, Err: errors.New("no user matches")}
	case 1:
		u, err := userFromEntry(found[0])
		if err != nil {
			return User{}, &Error{Op: op, Err: err}
		}
		return u, nil
	}
	dns := make([]string, len(found))
	for i, e := range found {
		dns[i] = e.DN
	}
	return User{}, &Error{Op: op, Class: ErrAmbiguous, Err: fmt.Errorf("%d users match: %s", len(found), strings.Join(dns, "; "))}
}

func userFromEntry(e *ldap.Entry) (User, error) {
	guid, err := anchor.FromBytes(e.GetEqualFoldRawAttributeValue("objectGUID"))
	if err != nil {
		return User{}, fmt.Errorf("objectGUID of %s: %w", e.DN, err)
	}
	u := User{
		DN:                e.DN,
		SAMAccountName:    e.GetEqualFoldAttributeValue("sAMAccountName"),
		UserPrincipalName: e.GetEqualFoldAttributeValue("userPrincipalName"),
		Mail:              e.GetEqualFoldAttributeValue("mail"),
		ObjectGUID:        guid,
	}
	if p := e.GetEqualFoldAttributeValues("proxyAddresses"); len(p) > 0 {
		u.ProxyAddresses = p
	}
	if raw := e.GetEqualFoldRawAttributeValue("mS-DS-ConsistencyGuid"); len(raw) > 0 {
		if a, err := anchor.FromBytes(raw); err == nil {
			u.ConsistencyGUID = &a
		} else {
			u.InvalidConsistencyGUID = bytes.Clone(raw) // raw points into the whole reply
		}
	}
	if s := e.GetEqualFoldAttributeValue("userAccountControl"); s != "" {
		uac, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return User{}, fmt.Errorf("userAccountControl %q of %s: %w", s, e.DN, err)
		}
		u.Disabled = uac&uacAccountDisable != 0
	}
	if s := e.GetEqualFoldAttributeValue("adminCount"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return User{}, fmt.Errorf("adminCount %q of %s: %w", s, e.DN, err)
		}
		u.AdminCount = n
	}
	return u, nil
}
