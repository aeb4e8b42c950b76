package directory

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// systemFlagDomain marks a crossRef that names a domain (FLAG_CR_NTDS_DOMAIN).
const systemFlagDomain = 0x2

// NamingContext returns the domain's default naming context
// (DC=corp,DC=example,DC=com) from the root DSE.
func (c *Client) NamingContext(ctx context.Context) (string, error) {
	attrs, err := c.rootDSE(ctx, "defaultNamingContext")
	if err != nil {
		return "", err
	}
	return attrs["defaultNamingContext"], nil
}

func (c *Client) rootDSE(ctx context.Context, names ...string) (map[string]string, error) {
	out := map[string]string{}
	err := c.do(ctx, "read root DSE", func(conn *ldap.Conn) error {
		res, err := conn.Search(ldap.NewSearchRequest("", ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
			"(objectClass=*)", names, nil))
		if err != nil {
			return err
		}
		if len(res.Entries) != 1 {
			return errors.New("no root DSE")
		}
		for _, n := range names {
			v := res.Entries[0].GetEqualFoldAttributeValue(n)
			if v == "" {
				return errors.New("root DSE lacks " + n)
			}
			out[n] = v
		}
		return nil
	})
	return out, err
}

// ForestSuffixes are the UPN suffixes a forest offers.
type ForestSuffixes struct {
	// Offered: the DNS names of its domains (this one first) and the
	// alternative suffixes, without repeats.
	Offered []string
	// Alternative: the values of uPNSuffixes on CN=Partitions, which an
	// administrator adds and removes.
	Alternative []string
	// PartitionsDN is CN=Partitions,<configuration naming context>.
	PartitionsDN string
	// NamingContext is the domain's defaultNamingContext, read with them.
	NamingContext string
}

// UPNSuffixes returns the UPN suffixes users of this forest can have: the
// DNS names of its domains (this one first) and the alternative suffixes
// an administrator added (uPNSuffixes on CN=Partitions). Entra can only
// soft-match on UPN when the suffix is also a verified domain of the
// tenant, which is why the operator wants this list.
func (c *Client) UPNSuffixes(ctx context.Context) ([]string, error) {
	f, err := c.ForestUPNSuffixes(ctx)
	return f.Offered, err
}

// ForestUPNSuffixes reads what the forest offers, and which of it are
// alternative suffixes.
func (c *Client) ForestUPNSuffixes(ctx context.Context) (ForestSuffixes, error) {
	dse, err := c.rootDSE(ctx, "defaultNamingContext", "configurationNamingContext")
	if err != nil {
		return ForestSuffixes{}, err
	}
	partitions := "CN=Partitions," + dse["configurationNamingContext"]
	var own string
	var domains, extra []string
	err = c.do(ctx, "read UPN suffixes", func(conn *ldap.Conn) error {
		own, domains, extra = "", nil, nil
		res, err := conn.Search(ldap.NewSearchRequest(partitions, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
			"(objectClass=*)", []string{"uPNSuffixes"}, nil))
		if err != nil {
			return err
		}
		if len(res.Entries) == 1 {
			extra = res.Entries[0].GetEqualFoldAttributeValues("uPNSuffixes")
		}
		refs, err := conn.Search(ldap.NewSearchRequest(partitions, ldap.ScopeSingleLevel, ldap.NeverDerefAliases, 0, 0, false,
			"(objectClass=crossRef)", []string{"nCName", "dnsRoot", "systemFlags"}, nil))
		if err != nil {
			return err
		}
		for _, e := range refs.Entries {
			flags, _ := strconv.Atoi(e.GetEqualFoldAttributeValue("systemFlags"))
			root := e.GetEqualFoldAttributeValue("dnsRoot")
			if flags&systemFlagDomain == 0 || root == "" {
				continue
			}
			if strings.EqualFold(e.GetEqualFoldAttributeValue("nCName"), dse["defaultNamingContext"]) {
				own = root
			} else {
				domains = append(domains, root)
			}
		}
		return nil
	})
	if err != nil {
		return ForestSuffixes{}, err
	}
	slices.Sort(domains)
	slices.Sort(extra)
	out := ForestSuffixes{Alternative: extra, PartitionsDN: partitions, NamingContext: dse["defaultNamingContext"]}
	for _, s := range append(append([]string{own}, domains...), extra...) {
		if s != "" && !slices.ContainsFunc(out.Offered, func(o string) bool { return strings.EqualFold(o, s) }) {
			out.Offered = append(out.Offered, s)
		}
	}
	return out, nil
}

// ChangeUPNSuffixes adds and removes alternative UPN suffixes in one modify
// of CN=Partitions. Writing there needs Enterprise Admins (or a delegated
// right on that object): without it the error is ErrInsufficientAccess.
func (c *Client) ChangeUPNSuffixes(ctx context.Context, add, remove []string) error {
	if len(add)+len(remove) == 0 {
		return nil
	}
	dse, err := c.rootDSE(ctx, "configurationNamingContext")
	if err != nil {
		return err
	}
	partitions := "CN=Partitions," + dse["configurationNamingContext"]
	return c.do(ctx, "change uPNSuffixes of "+partitions, func(conn *ldap.Conn) error {
		req := ldap.NewModifyRequest(partitions, nil)
		if len(add) > 0 {
			req.Add("uPNSuffixes", add)
		}
		if len(remove) > 0 {
			req.Delete("uPNSuffixes", remove)
		}
		return conn.Modify(req)
	})
}
