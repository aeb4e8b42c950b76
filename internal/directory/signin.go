package directory

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// ErrNameChanged: the logon name is no longer the value it was read as; a
// rename never overwrites a value it did not read.
var ErrNameChanged = errors.New("userPrincipalName changed since it was read")

// UsersInScope returns every user account under base (the search base
// when empty) that also matches filter (any LDAP filter, or none), with
// the extra attributes asked for in User.Attributes. A base
// outside the search base is ErrInvalidLookup: a scope never reaches
// further than the directory it names.
func (c *Client) UsersInScope(ctx context.Context, base, filter string, extra ...string) ([]User, error) {
	op := "search users in scope"
	base, f, err := c.scope(ctx, op, base, "(&(objectCategory=person)(objectClass=user)", filter)
	if err != nil {
		return nil, err
	}
	out, err := searchEach(c, ctx, op, userSearch(base, f, extra...), func(e *ldap.Entry) (User, error) {
		u, err := userFromEntry(e)
		if err != nil {
			return User{}, &Error{Op: op, Class: ErrAnchorMalformed, Err: fmt.Errorf("%s: %w", e.DN, err)}
		}
		for _, a := range extra {
			if v := e.GetEqualFoldAttributeValue(a); v != "" {
				if u.Attributes == nil {
					u.Attributes = map[string]string{}
				}
				u.Attributes[a] = v
			}
		}
		return u, nil
	})
	if err = baseMissing(base, err); err != nil {
		return nil, err
	}
	return out, nil
}

// scope checks a scope from a resource: base must lie under the search
// base (the search base when empty), filter must compile. It returns the
// base and the filter kinds ANDed with filter ("(&" + kinds + filter + ")").
func (c *Client) scope(ctx context.Context, op, base, kinds, filter string) (string, string, error) {
	root, err := c.searchBase(ctx)
	if err != nil {
		return "", "", err
	}
	if strings.TrimSpace(base) == "" {
		base = root
	} else if ok, err := Within(base, root); err != nil || !ok {
		if err == nil {
			err = fmt.Errorf("%s is not under the directory's base DN %s", base, root)
		}
		return "", "", &Error{Op: op, Class: ErrInvalidLookup, Err: err}
	}
	if strings.TrimSpace(filter) != "" {
		if _, err := ldap.CompileFilter(filter); err != nil {
			return "", "", &Error{Op: op, Class: ErrInvalidLookup, Err: fmt.Errorf("filter %q: %w", filter, err)}
		}
	}
	return base, kinds + filter + ")", nil
}

// Within reports whether dn is base or lies under it.
func Within(dn, base string) (bool, error) {
	d, err := parseDN(dn)
	if err != nil {
		return false, err
	}
	b, err := parseDN(base)
	if err != nil {
		return false, err
	}
	return b.EqualFold(d) || b.AncestorOfFold(d), nil
}

// UPNHolders returns, for each name (lower-case), the DNs of every object
// of the domain that has it as userPrincipalName: users, computers and
// service accounts all share one namespace of logon names. An account also
// holds its implicit name, sAMAccountName@<the domain's DNS name>, which AD
// accepts at sign-in and Samba refuses to give to another account. It
// searches the domain's naming context, which in a single-domain forest is
// the forest.
func (c *Client) UPNHolders(ctx context.Context, names []string) (map[string][]string, error) {
	forest, err := c.ForestUPNSuffixes(ctx)
	if err != nil {
		return nil, err
	}
	own := ""
	if len(forest.Offered) > 0 && !slices.ContainsFunc(forest.Alternative, func(a string) bool { return strings.EqualFold(a, forest.Offered[0]) }) {
		own = strings.ToLower(forest.Offered[0])
	}
	out := map[string][]string{}
	for start := 0; start < len(names); start += lookupsPerSearch {
		batch := names[start:min(start+lookupsPerSearch, len(names))]
		implicit := map[string]string{} // lower sAMAccountName -> lower name
		var b strings.Builder
		b.WriteString("(|")
		for _, n := range batch {
			b.WriteString("(userPrincipalName=" + ldap.EscapeFilter(n) + ")")
			if at := strings.LastIndex(n, "@"); at > 0 && own != "" && strings.EqualFold(n[at+1:], own) {
				implicit[strings.ToLower(n[:at])] = strings.ToLower(n)
				b.WriteString("(sAMAccountName=" + ldap.EscapeFilter(n[:at]) + ")")
			}
		}
		b.WriteString(")")
		entries, err := searchEach(c, ctx, "search logon names", ldap.NewSearchRequest(forest.NamingContext, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
			b.String(), []string{"userPrincipalName", "sAMAccountName"}, nil), rawEntry)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			held := map[string]bool{}
			if v := strings.ToLower(e.GetEqualFoldAttributeValue("userPrincipalName")); v != "" {
				held[v] = true
			}
			if v, ok := implicit[strings.ToLower(e.GetEqualFoldAttributeValue("sAMAccountName"))]; ok {
				held[v] = true
			}
			for k := range held {
				out[k] = append(out[k], e.DN)
			}
		}
	}
	return out, nil
}

// SetUserPrincipalName changes a user's logon name from one value to
// another in one modify: deleting the old value fails on the server when
// the attribute holds anything else, so a name someone changed since it
// was read is never overwritten (ErrNameChanged).
func (c *Client) SetUserPrincipalName(ctx context.Context, dn, from, to string) error {
	op := "set userPrincipalName of " + dn
	if _, err := parseDN(dn); err != nil {
		return &Error{Op: op, Class: ErrInvalidLookup, Err: err}
	}
	if !strings.Contains(to, "@") || !strings.Contains(from, "@") {
		return &Error{Op: op, Class: ErrInvalidLookup, Err: fmt.Errorf("refusing to write %q over %q: both must be name@suffix", to, from)}
	}
	err := c.do(ctx, op, func(conn *ldap.Conn) error {
		req := ldap.NewModifyRequest(dn, nil)
		req.Delete("userPrincipalName", []string{from})
		req.Add("userPrincipalName", []string{to})
		return conn.Modify(req)
	})
	if ldap.IsErrorAnyOf(err, ldap.LDAPResultNoSuchAttribute) {
		return &Error{Op: op, Class: ErrNameChanged, Err: fmt.Errorf("it no longer holds %s", from)}
	}
	return err
}
