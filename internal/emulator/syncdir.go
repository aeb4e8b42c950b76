package emulator

import (
	"sort"
	"strings"
	"time"

	"github.com/entramatch/entra-match-operator/internal/emulator/syncrules"
)

// storeDirectory is the sync rules' read-only view of the live state,
// answered from the store's indexes. The caller holds the store lock.
type storeDirectory struct {
	st  *state
	now time.Time
}

var _ syncrules.Directory = storeDirectory{}

// ByImmutableID implements syncrules.Directory; soft-deleted objects keep
// their anchor and are returned too.
func (d storeDirectory) ByImmutableID(anchor string) []syncrules.CloudObject {
	id, ok := d.st.immutable[anchor]
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
	id, ok := d.st.upn[key(upn)]
	if !ok || upn == "" {
		return nil
	}
	return d.objects(id)
}

// VerifiedDomain implements syncrules.Directory.
func (d storeDirectory) VerifiedDomain(suffix string) bool {
	dom, ok := d.st.domain(suffix)
	return ok && (dom.IsVerified || dom.IsInitial)
}

// InitialDomain implements syncrules.Directory.
func (d storeDirectory) InitialDomain() string { return d.st.initialDomain() }

// byAddress gathers the active objects that hold addr as an SMTP proxy
// address or as mail, and keeps those that pass keep.
func (d storeDirectory) byAddress(addr string, keep func(syncrules.CloudObject) bool) []syncrules.CloudObject {
	if addr == "" {
		return nil
	}
	ids := map[string]bool{}
	if id, ok := d.st.proxy["smtp:"+key(addr)]; ok {
		ids[key(id)] = true
	}
	for _, id := range d.st.mail[key(addr)] {
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
	k := key(id)
	if u, deleted := st.users[k], false; u != nil || st.deletedUsers[k] != nil {
		if u == nil {
			u, deleted = st.deletedUsers[k], true
		}
		o := syncrules.CloudObject{
			ID: u.ID, Type: syncrules.User, UserPrincipalName: u.UserPrincipalName, Mail: deref(u.Mail),
			ProxyAddresses: u.ProxyAddresses, OnPremisesImmutableID: deref(u.OnPremisesImmutableID),
			OnPremisesSyncEnabled: u.OnPremisesSyncEnabled, OnPremisesObjectIdentifier: deref(u.OnPremisesObjectIdentifier),
			AdminRoleAssigned:      st.hasAnyRole(u.ID, d.now),
			AdminRoleEligible:      st.hasAnyEligibility(u.ID, d.now),
			PrivilegedRoleAssigned: st.hasPrivilegedRole(u.ID, d.now),
			PrivilegedRoleEligible: st.hasPrivilegedEligibility(u.ID, d.now),
			MailEnabled:            u.Mail != nil || hasSMTP(u.ProxyAddresses),
			Deleted:                deleted,
		}
		return []syncrules.CloudObject{o}
	}
	if g, deleted := st.groups[k], false; g != nil || st.deletedGroups[k] != nil {
		if g == nil {
			g, deleted = st.deletedGroups[k], true
		}
		return []syncrules.CloudObject{{
			ID: g.ID, Type: syncrules.Group, Mail: deref(g.Mail), ProxyAddresses: g.ProxyAddresses,
			OnPremisesImmutableID: deref(g.OnPremisesImmutableID), OnPremisesSyncEnabled: g.OnPremisesSyncEnabled,
			MailEnabled: g.MailEnabled, Deleted: deleted,
		}}
	}
	if c, deleted := st.contacts[k], false; c != nil || st.deletedContacts[k] != nil {
		if c == nil {
			c, deleted = st.deletedContacts[k], true
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

// hasPrivilegedEligibility reports whether principalID is eligible (PIM) for
// a privileged role at now; expired schedules do not count.
func (st *state) hasPrivilegedEligibility(principalID string, now time.Time) bool {
	for _, id := range st.eligibleRoles(principalID, now) {
		if d, ok := st.roleDefs[key(id)]; ok && d.IsPrivileged {
			return true
		}
	}
	return false
}

// hasAnyEligibility reports whether principalID is eligible (PIM) for any
// directory role at now.
func (st *state) hasAnyEligibility(principalID string, now time.Time) bool {
	return len(st.eligibleRoles(principalID, now)) > 0
}

// hasAnyRole reports whether principalID holds any directory role through
// an assignment active at now.
func (st *state) hasAnyRole(principalID string, now time.Time) bool {
	return len(st.assignedRoles(principalID, now)) > 0
}

// assignedRoles lists the role definition ids principalID holds through
// assignments active at now.
func (st *state) assignedRoles(principalID string, now time.Time) []string {
	var out []string
	for _, a := range st.assignments {
		if strings.EqualFold(a.PrincipalID, principalID) && a.activeAt(now) {
			out = append(out, a.RoleDefinitionID)
		}
	}
	return out
}

// eligibleRoles lists the role definition ids principalID is eligible (PIM)
// for at now; expired schedules do not count.
func (st *state) eligibleRoles(principalID string, now time.Time) []string {
	var out []string
	for _, e := range st.eligibilities {
		if strings.EqualFold(e.PrincipalID, principalID) && !ended(e.EndDateTime, now) {
			out = append(out, e.RoleDefinitionID)
		}
	}
	return out
}
