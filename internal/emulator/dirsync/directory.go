package dirsync

import (
	"sort"
	"strings"
	"time"

	"github.com/entramatch/entra-match-operator/internal/emulator/syncrules"
	"github.com/entramatch/entra-match-operator/internal/emulator/tenant"
)

// storeDirectory is the sync rules' read-only view of the live state,
// answered from the store's indexes. The caller holds the store lock.
type storeDirectory struct {
	st  *tenant.State
	now time.Time
}

var _ syncrules.Directory = storeDirectory{}

// ByImmutableID implements syncrules.Directory; soft-deleted objects keep
// their anchor and are returned too.
func (d storeDirectory) ByImmutableID(anchor string) []syncrules.CloudObject {
	id, ok := d.st.IDByAnchor(anchor)
	if !ok || anchor == "" {
		return nil
	}
	return d.objects(id)
}

// ByPrimarySMTP implements syncrules.Directory.
func (d storeDirectory) ByPrimarySMTP(addr string) []syncrules.CloudObject {
	return d.byAddress(addr, func(o syncrules.CloudObject) bool {
		return strings.EqualFold(cloudPrimarySMTP(o), addr)
	})
}

// ByProxyAddress implements syncrules.Directory.
func (d storeDirectory) ByProxyAddress(addr string) []syncrules.CloudObject {
	return d.byAddress(addr, func(o syncrules.CloudObject) bool {
		if strings.EqualFold(o.Mail, addr) {
			return true
		}
		for _, p := range o.ProxyAddresses {
			if len(p) > 5 && strings.EqualFold(p[:5], "smtp:") && strings.EqualFold(p[5:], addr) {
				return true
			}
		}
		return false
	})
}

// ByUPN implements syncrules.Directory.
func (d storeDirectory) ByUPN(upn string) []syncrules.CloudObject {
	id, ok := d.st.IDByUPN(upn)
	if !ok || upn == "" {
		return nil
	}
	return d.objects(id)
}

// VerifiedDomain implements syncrules.Directory.
func (d storeDirectory) VerifiedDomain(suffix string) bool {
	dom, ok := d.st.Domain(suffix)
	return ok && (dom.IsVerified || dom.IsInitial)
}

// InitialDomain implements syncrules.Directory.
func (d storeDirectory) InitialDomain() string { return d.st.InitialDomain() }

// byAddress gathers the active objects that hold addr as an SMTP proxy
// address or as mail, and keeps those that pass keep.
func (d storeDirectory) byAddress(addr string, keep func(syncrules.CloudObject) bool) []syncrules.CloudObject {
	if addr == "" {
		return nil
	}
	ids := map[string]bool{}
	if id, ok := d.st.IDByProxy("smtp:" + addr); ok {
		ids[key(id)] = true
	}
	for _, id := range d.st.IDsByMail(addr) {
		ids[key(id)] = true
	}
	var out []syncrules.CloudObject
	for _, id := range sortedKeys(ids) {
		for _, o := range d.objects(id) {
			if keep(o) {
				out = append(out, o)
			}
		}
	}
	return out
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// objects returns the object with id, active or soft-deleted, in the
// rules' terms.
func (d storeDirectory) objects(id string) []syncrules.CloudObject {
	st := d.st
	if u, deleted := st.User(id), false; u != nil || st.DeletedUser(id) != nil {
		if u == nil {
			u, deleted = st.DeletedUser(id), true
		}
		o := syncrules.CloudObject{
			ID: u.ID, Type: syncrules.User, UserPrincipalName: u.UserPrincipalName, Mail: deref(u.Mail),
			ProxyAddresses: u.ProxyAddresses, OnPremisesImmutableID: deref(u.OnPremisesImmutableID),
			OnPremisesSyncEnabled: u.OnPremisesSyncEnabled, OnPremisesObjectIdentifier: deref(u.OnPremisesObjectIdentifier),
			AdminRoleAssigned:      st.HasAnyRole(u.ID, d.now),
			AdminRoleEligible:      st.HasAnyEligibility(u.ID, d.now),
			PrivilegedRoleAssigned: st.HasPrivilegedRole(u.ID, d.now),
			PrivilegedRoleEligible: st.HasPrivilegedEligibility(u.ID, d.now),
			MailEnabled:            u.Mail != nil || hasSMTP(u.ProxyAddresses),
			Deleted:                deleted,
		}
		return []syncrules.CloudObject{o}
	}
	if g, deleted := st.Group(id), false; g != nil || st.DeletedGroup(id) != nil {
		if g == nil {
			g, deleted = st.DeletedGroup(id), true
		}
		return []syncrules.CloudObject{{
			ID: g.ID, Type: syncrules.Group, Mail: deref(g.Mail), ProxyAddresses: g.ProxyAddresses,
			OnPremisesImmutableID: deref(g.OnPremisesImmutableID), OnPremisesSyncEnabled: g.OnPremisesSyncEnabled,
			MailEnabled: g.MailEnabled, Deleted: deleted,
		}}
	}
	if c, deleted := st.Contact(id), false; c != nil || st.DeletedContact(id) != nil {
		if c == nil {
			c, deleted = st.DeletedContact(id), true
		}
		return []syncrules.CloudObject{{
			ID: c.ID, Type: syncrules.Contact, Mail: deref(c.Mail), ProxyAddresses: c.ProxyAddresses,
			OnPremisesImmutableID: deref(c.OnPremisesImmutableID), OnPremisesSyncEnabled: c.OnPremisesSyncEnabled,
			MailEnabled: true, Deleted: deleted,
		}}
	}
	return nil
}

// cloudPrimarySMTP is an object's primary SMTP address: its "SMTP:" proxy
// address, or mail when it has none.
func cloudPrimarySMTP(o syncrules.CloudObject) string {
	if p := primaryOf(o.ProxyAddresses); p != "" {
		return p
	}
	return o.Mail
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// key is the form the tenant compares object ids in.
func key(id string) string { return strings.ToLower(id) }
