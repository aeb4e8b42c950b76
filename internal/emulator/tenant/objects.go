package tenant

import (
	"iter"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/entramatch/entra-match-operator/internal/emulator/grapherr"
)

// User returns the active user with object id id, or nil.
func (st *State) User(id string) *User { return st.users[key(id)] }

// Users yields every active user, in no particular order.
func (st *State) Users() iter.Seq[*User] { return maps.Values(st.users) }

// DeletedUser returns the soft-deleted user with object id id, or nil.
func (st *State) DeletedUser(id string) *User { return st.deletedUsers[key(id)] }

// DeletedUsers yields every soft-deleted user, in no particular order.
func (st *State) DeletedUsers() iter.Seq[*User] { return maps.Values(st.deletedUsers) }

// SoftDeleteUser moves the active user u to the deleted items, stamped
// with at. It keeps its source anchor: a soft-deleted object holds it until
// it is permanently deleted.
func (st *State) SoftDeleteUser(u *User, at time.Time) {
	st.unindexUser(u, true)
	delete(st.users, key(u.ID))
	u.DeletedDateTime = &at
	st.deletedUsers[key(u.ID)] = u
}

// RemoveDeletedUser takes the user with id out of the deleted items, for
// a restore that stores it again with PutUser.
func (st *State) RemoveDeletedUser(id string) { delete(st.deletedUsers, key(id)) }

// PurgeUser permanently deletes the soft-deleted user u, freeing its source
// anchor.
func (st *State) PurgeUser(u *User) {
	if u.OnPremisesImmutableID != nil && strings.EqualFold(st.immutable[*u.OnPremisesImmutableID], u.ID) {
		delete(st.immutable, *u.OnPremisesImmutableID)
	}
	delete(st.deletedUsers, key(u.ID))
	// A permanently deleted principal loses its roles.
	for k, a := range st.assignments {
		if strings.EqualFold(a.PrincipalID, u.ID) {
			delete(st.assignments, k)
		}
	}
	for k, e := range st.eligibilities {
		if strings.EqualFold(e.PrincipalID, u.ID) {
			delete(st.eligibilities, k)
		}
	}
}

// Group returns the active group with object id id, or nil.
func (st *State) Group(id string) *Group { return st.groups[key(id)] }

// Groups yields every active group, in no particular order.
func (st *State) Groups() iter.Seq[*Group] { return maps.Values(st.groups) }

// DeletedGroup returns the soft-deleted group with object id id, or nil.
func (st *State) DeletedGroup(id string) *Group { return st.deletedGroups[key(id)] }

// DeletedGroups yields every soft-deleted group, in no particular order.
func (st *State) DeletedGroups() iter.Seq[*Group] { return maps.Values(st.deletedGroups) }

// PutGroup stores the new version of a group that passed
// CheckSyncedObject, replacing old (nil for a new or restored group) in
// every index.
func (st *State) PutGroup(old, g *Group) {
	if old != nil {
		st.UnindexObject(old.ProxyAddresses, old.Mail, old.OnPremisesImmutableID, old.ID)
	}
	st.IndexObject(g.ProxyAddresses, g.Mail, g.OnPremisesImmutableID, g.ID)
	st.groups[key(g.ID)] = g
}

// SoftDeleteGroup moves the active group g to the deleted items, stamped
// with at; like a user it keeps its source anchor.
func (st *State) SoftDeleteGroup(g *Group, at time.Time) {
	st.unindexProxies(g.ProxyAddresses, g.ID)
	st.unindexMail(g.Mail, g.ID)
	delete(st.groups, key(g.ID))
	g.DeletedDateTime = &at
	st.deletedGroups[key(g.ID)] = g
}

// RemoveDeletedGroup takes the group with id out of the deleted items, for
// a restore that stores it again with PutGroup.
func (st *State) RemoveDeletedGroup(id string) { delete(st.deletedGroups, key(id)) }

// Contact returns the active contact with object id id, or nil.
func (st *State) Contact(id string) *Contact { return st.contacts[key(id)] }

// Contacts yields every active contact, in no particular order.
func (st *State) Contacts() iter.Seq[*Contact] { return maps.Values(st.contacts) }

// DeletedContact returns the soft-deleted contact with object id id, or
// nil.
func (st *State) DeletedContact(id string) *Contact { return st.deletedContacts[key(id)] }

// PutContact stores the new version of a contact that passed
// CheckSyncedObject, replacing old (nil for a new or restored contact) in
// every index.
func (st *State) PutContact(old, c *Contact) {
	if old != nil {
		st.UnindexObject(old.ProxyAddresses, old.Mail, old.OnPremisesImmutableID, old.ID)
	}
	st.IndexObject(c.ProxyAddresses, c.Mail, c.OnPremisesImmutableID, c.ID)
	st.contacts[key(c.ID)] = c
}

// SoftDeleteContact moves the active contact c to the deleted items,
// stamped with at; like a user it keeps its source anchor.
func (st *State) SoftDeleteContact(c *Contact, at time.Time) {
	st.unindexProxies(c.ProxyAddresses, c.ID)
	st.unindexMail(c.Mail, c.ID)
	delete(st.contacts, key(c.ID))
	c.DeletedDateTime = &at
	st.deletedContacts[key(c.ID)] = c
}

// RemoveDeletedContact takes the contact with id out of the deleted items,
// for a restore that stores it again with PutContact.
func (st *State) RemoveDeletedContact(id string) { delete(st.deletedContacts, key(id)) }

// IDByUPN returns the id of the active user whose userPrincipalName is upn
// (case-insensitive).
func (st *State) IDByUPN(upn string) (string, bool) {
	id, ok := st.upn[key(upn)]
	return id, ok
}

// IDByAnchor returns the id of the object, active or soft-deleted, whose
// onPremisesImmutableId is anchor (case-sensitive).
func (st *State) IDByAnchor(anchor string) (string, bool) {
	id, ok := st.immutable[anchor]
	return id, ok
}

// IDByProxy returns the id of the active object holding the proxy address
// addr, with its prefix (case-insensitive).
func (st *State) IDByProxy(addr string) (string, bool) {
	id, ok := st.proxy[key(addr)]
	return id, ok
}

// IDsByMail returns the ids of the active objects whose mail is addr
// (case-insensitive); mail is not unique.
func (st *State) IDsByMail(addr string) []string { return st.mail[key(addr)] }

// CheckSyncedObject applies the directory's uniqueness rules to a group or
// contact about to be written.
func (st *State) CheckSyncedObject(id string, proxies []string, anchor string) error {
	if err := ValidImmutableID(anchor); err != nil {
		return err
	}
	if other, ok := st.immutable[anchor]; ok && !strings.EqualFold(other, id) {
		return grapherr.Conflict("onPremisesImmutableId", other, st.kindOf(other))
	}
	return st.CheckProxies(proxies, id)
}

// IndexObject indexes the addresses and anchor (either may be nil) of the
// group or contact id.
func (st *State) IndexObject(proxies []string, mail, anchor *string, id string) {
	st.indexProxies(proxies, id)
	st.indexMail(mail, id)
	if anchor != nil {
		st.immutable[*anchor] = id
	}
}

// UnindexObject drops what IndexObject indexed, where id still holds it.
func (st *State) UnindexObject(proxies []string, mail, anchor *string, id string) {
	st.unindexProxies(proxies, id)
	st.unindexMail(mail, id)
	if anchor != nil && strings.EqualFold(st.immutable[*anchor], id) {
		delete(st.immutable, *anchor)
	}
}

// Domains returns a copy of the tenant's domains.
func (st *State) Domains() []Domain { return slices.Clone(st.domains) }

// Organization returns the organization object.
func (st *State) Organization() Organization { return st.org }

// RecordSync marks the organization as synced, last at now.
func (st *State) RecordSync(now time.Time) {
	t := true
	st.org.OnPremisesSyncEnabled = &t
	st.org.OnPremisesLastSyncDateTime = &now
}

// Sync returns the onPremisesDirectorySynchronization object.
func (st *State) Sync() SyncState { return st.sync }

// SetSync replaces the onPremisesDirectorySynchronization object.
func (st *State) SetSync(s SyncState) { st.sync = s }

// UPNDomain is the domain part of a userPrincipalName, "" when it has
// none.
func UPNDomain(upn string) string {
	if at := strings.LastIndex(upn, "@"); at >= 0 {
		return upn[at+1:]
	}
	return ""
}
