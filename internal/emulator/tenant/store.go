// Package tenant holds the emulated tenant: the Snapshot that the emulator
// loads and dumps, and the Store that keeps it indexed behind one lock with
// the directory's uniqueness rules. Every surface (Graph, the identity
// platform, the sync service) reads and writes the tenant through a Store.
package tenant

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/google/uuid"

	"github.com/entramatch/entra-match-operator/internal/emulator/grapherr"
)

// Store is the tenant state behind one lock. Readers take the read lock;
// every mutation takes the write lock for its whole check-then-write so
// uniqueness checks cannot race.
type Store struct {
	mu sync.RWMutex
	st *State
	// initialDomain is the configured initial domain every loaded state
	// gets, whatever the snapshot lists.
	initialDomain string
}

// State is the indexed form of a Snapshot. Map keys are lower-case ids.
// Its methods do not lock: Store.Read and Store.Write hold the lock around
// them.
type State struct {
	org           Organization
	domains       []Domain
	users         map[string]*User
	groups        map[string]*Group
	contacts      map[string]*Contact
	roleDefs      map[string]*RoleDefinition
	assignments   map[string]*RoleAssignment
	eligibilities map[string]*RoleEligibility
	sync          SyncState

	deletedUsers    map[string]*User
	deletedGroups   map[string]*Group
	deletedContacts map[string]*Contact

	// upn indexes active users by lower-case userPrincipalName.
	upn map[string]string
	// immutable indexes onPremisesImmutableId (case-sensitive, as source
	// anchors are) of active and soft-deleted objects: a soft-deleted object
	// still holds its anchor until it is permanently deleted. Synced groups
	// and contacts carry anchors too; source anchors are unique tenant-wide.
	immutable map[string]string
	// mail indexes the lower-cased mail of active users, groups and
	// contacts. Mail is not unique; the sync service's soft match reads it
	// when an object has no primary SMTP proxy address.
	mail map[string][]string
	// proxy indexes lower-cased proxy addresses of active users, groups and
	// contacts; they are unique across object types.
	proxy map[string]string
}

func key(id string) string { return strings.ToLower(id) }

// NewStore puts st behind the store's lock. initialDomain is the
// configured initial domain, which every state the store loads later
// (Replace, Update) gets too.
func NewStore(st *State, initialDomain string) *Store {
	return &Store{st: st, initialDomain: initialDomain}
}

// Read runs fn under the read lock. fn must not keep st or anything it
// reaches after it returns, nor write through it.
func (s *Store) Read(fn func(st *State)) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	fn(s.st)
}

// Write runs fn under the write lock and returns its error. A
// check-then-write must happen within one fn, so that no other writer
// changes the state between the check and the write.
func (s *Store) Write(fn func(st *State) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fn(s.st)
}

// Snapshot returns a deep copy of the state.
func (s *Store) Snapshot() Snapshot {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.st.snapshot()
}

// Replace validates snap and swaps it in as the whole tenant state.
func (s *Store) Replace(snap Snapshot) error {
	cp, err := snap.DeepCopy()
	if err != nil {
		return err
	}
	st, err := Load(cp, s.initialDomain)
	if err != nil {
		return fmt.Errorf("replacing state: %w", err)
	}
	s.mu.Lock()
	s.st = st
	s.mu.Unlock()
	return nil
}

// Update applies fn to a copy of the state and swaps the result in if fn
// succeeds and the result is valid; the write lock is held throughout, so
// no other write interleaves.
func (s *Store) Update(fn func(*Snapshot) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	snap := s.st.snapshot()
	if err := fn(&snap); err != nil {
		return err
	}
	st, err := Load(snap, s.initialDomain)
	if err != nil {
		return fmt.Errorf("applying update: %w", err)
	}
	s.st = st
	return nil
}

// UserCount returns the number of active users.
func (s *Store) UserCount() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.st.users)
}

// IsGUID reports whether s is a GUID in its canonical 8-4-4-4-12 form.
func IsGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	_, err := uuid.Parse(s)
	return err == nil
}

// Load validates a snapshot and builds its indexes. The snapshot is
// not retained; callers pass a copy they own.
func Load(s Snapshot, initialDomain string) (*State, error) {
	st := &State{
		org:             s.Organization,
		users:           map[string]*User{},
		groups:          map[string]*Group{},
		contacts:        map[string]*Contact{},
		roleDefs:        map[string]*RoleDefinition{},
		assignments:     map[string]*RoleAssignment{},
		eligibilities:   map[string]*RoleEligibility{},
		sync:            s.Sync,
		deletedUsers:    map[string]*User{},
		deletedGroups:   map[string]*Group{},
		deletedContacts: map[string]*Contact{},
		upn:             map[string]string{},
		immutable:       map[string]string{},
		mail:            map[string][]string{},
		proxy:           map[string]string{},
	}
	if err := st.loadDomains(s.Domains, initialDomain); err != nil {
		return nil, err
	}
	if st.sync == (SyncState{}) {
		// A snapshot without an onPremisesSynchronization section describes
		// a tenant that never configured it.
		st.sync = DefaultSyncState()
	}
	if st.sync.Configuration.AccidentalDeletionPrevention.SynchronizationPreventionType == "" {
		st.sync.Configuration.AccidentalDeletionPrevention.SynchronizationPreventionType = "disabled"
	}
	if err := ValidPreventionType(st.sync.Configuration.AccidentalDeletionPrevention.SynchronizationPreventionType); err != nil {
		return nil, err
	}
	seen := map[string]string{} // every directory object id -> kind, ids are unique tenant-wide
	claim := func(id, kind string) error {
		if !IsGUID(id) {
			return fmt.Errorf("%s id %q is not a GUID", kind, id)
		}
		if prev, ok := seen[key(id)]; ok {
			return fmt.Errorf("%s id %q is already used by a %s", kind, id, prev)
		}
		seen[key(id)] = kind
		return nil
	}
	for i := range s.Users {
		u := s.Users[i]
		if err := claim(u.ID, "user"); err != nil {
			return nil, err
		}
		u.DeletedDateTime = nil
		if err := st.CheckUser(&u, ""); err != nil {
			return nil, fmt.Errorf("user %s: %w", u.ID, err)
		}
		st.indexUser(&u)
		st.users[key(u.ID)] = &u
	}
	for i := range s.DeletedItems.Users {
		u := s.DeletedItems.Users[i]
		if err := claim(u.ID, "deleted user"); err != nil {
			return nil, err
		}
		if err := st.claimAnchor(u.OnPremisesImmutableID, u.ID); err != nil {
			return nil, fmt.Errorf("deleted user %s: %w", u.ID, err)
		}
		st.deletedUsers[key(u.ID)] = &u
	}
	for i := range s.Groups {
		g := s.Groups[i]
		if err := claim(g.ID, "group"); err != nil {
			return nil, err
		}
		g.DeletedDateTime = nil
		if err := st.CheckProxies(g.ProxyAddresses, g.ID); err != nil {
			return nil, fmt.Errorf("group %s: %w", g.ID, err)
		}
		if err := st.claimAnchor(g.OnPremisesImmutableID, g.ID); err != nil {
			return nil, fmt.Errorf("group %s: %w", g.ID, err)
		}
		st.indexProxies(g.ProxyAddresses, g.ID)
		st.indexMail(g.Mail, g.ID)
		st.groups[key(g.ID)] = &g
	}
	for i := range s.DeletedItems.Groups {
		g := s.DeletedItems.Groups[i]
		if err := claim(g.ID, "deleted group"); err != nil {
			return nil, err
		}
		if err := st.claimAnchor(g.OnPremisesImmutableID, g.ID); err != nil {
			return nil, fmt.Errorf("deleted group %s: %w", g.ID, err)
		}
		st.deletedGroups[key(g.ID)] = &g
	}
	for i := range s.Contacts {
		c := s.Contacts[i]
		if err := claim(c.ID, "contact"); err != nil {
			return nil, err
		}
		c.DeletedDateTime = nil
		if err := st.CheckProxies(c.ProxyAddresses, c.ID); err != nil {
			return nil, fmt.Errorf("contact %s: %w", c.ID, err)
		}
		if err := st.claimAnchor(c.OnPremisesImmutableID, c.ID); err != nil {
			return nil, fmt.Errorf("contact %s: %w", c.ID, err)
		}
		st.indexProxies(c.ProxyAddresses, c.ID)
		st.indexMail(c.Mail, c.ID)
		st.contacts[key(c.ID)] = &c
	}
	for i := range s.DeletedItems.Contacts {
		c := s.DeletedItems.Contacts[i]
		if err := claim(c.ID, "deleted contact"); err != nil {
			return nil, err
		}
		if err := st.claimAnchor(c.OnPremisesImmutableID, c.ID); err != nil {
			return nil, fmt.Errorf("deleted contact %s: %w", c.ID, err)
		}
		st.deletedContacts[key(c.ID)] = &c
	}
	for _, d := range BuiltinRoleDefinitions() {
		st.roleDefs[key(d.ID)] = &d
	}
	for i := range s.RoleDefinitions {
		d := s.RoleDefinitions[i]
		if !IsGUID(d.ID) {
			return nil, fmt.Errorf("role definition id %q is not a GUID", d.ID)
		}
		if d.DisplayName == "" {
			return nil, fmt.Errorf("role definition %s has no displayName", d.ID)
		}
		st.roleDefs[key(d.ID)] = &d // a snapshot may override a built-in, e.g. to flip isPrivileged
	}
	for i := range s.RoleAssignments {
		a := s.RoleAssignments[i]
		if err := st.checkRoleRef(a.ID, a.PrincipalID, a.RoleDefinitionID, &a.DirectoryScopeID); err != nil {
			return nil, fmt.Errorf("role assignment: %w", err)
		}
		if _, dup := st.assignments[key(a.ID)]; dup {
			return nil, fmt.Errorf("role assignment id %q is duplicated", a.ID)
		}
		st.assignments[key(a.ID)] = &a
	}
	for i := range s.RoleEligibilities {
		e := s.RoleEligibilities[i]
		if err := st.checkRoleRef(e.ID, e.PrincipalID, e.RoleDefinitionID, &e.DirectoryScopeID); err != nil {
			return nil, fmt.Errorf("role eligibility: %w", err)
		}
		if _, dup := st.eligibilities[key(e.ID)]; dup {
			return nil, fmt.Errorf("role eligibility id %q is duplicated", e.ID)
		}
		st.eligibilities[key(e.ID)] = &e
	}
	return st, nil
}

func (st *State) loadDomains(domains []Domain, initial string) error {
	seen := map[string]bool{}
	hasInitial, hasDefault := false, false
	for _, d := range domains {
		if d.ID == "" {
			return fmt.Errorf("domain without id")
		}
		if seen[key(d.ID)] {
			return fmt.Errorf("domain %q is duplicated", d.ID)
		}
		seen[key(d.ID)] = true
		if d.AuthenticationType == "" {
			d.AuthenticationType = "Managed"
		}
		if d.AuthenticationType != "Managed" && d.AuthenticationType != "Federated" {
			return fmt.Errorf("domain %q: authenticationType must be Managed or Federated", d.ID)
		}
		hasInitial = hasInitial || d.IsInitial
		hasDefault = hasDefault || d.IsDefault
		st.domains = append(st.domains, d)
	}
	if initial != "" && !seen[key(initial)] {
		st.domains = append(st.domains, Domain{ID: initial, AuthenticationType: "Managed", IsInitial: !hasInitial,
			IsDefault: !hasDefault, IsVerified: true, IsRoot: true, IsAdminManaged: true,
			SupportedServices: []string{"Email", "OfficeCommunicationsOnline"}})
	}
	if len(st.domains) == 0 {
		return fmt.Errorf("the tenant needs at least one domain")
	}
	return nil
}

func (st *State) checkRoleRef(id, principalID, roleDefID string, scope *string) error {
	if id == "" {
		return fmt.Errorf("missing id")
	}
	if !IsGUID(principalID) {
		return fmt.Errorf("%s: principalId %q is not a GUID", id, principalID)
	}
	if _, ok := st.roleDefs[key(roleDefID)]; !ok {
		return fmt.Errorf("%s: unknown roleDefinitionId %q", id, roleDefID)
	}
	if *scope == "" {
		*scope = "/"
	}
	return nil
}

// Domain returns the tenant domain named name (case-insensitive).
func (st *State) Domain(name string) (Domain, bool) {
	for _, d := range st.domains {
		if strings.EqualFold(d.ID, name) {
			return d, true
		}
	}
	return Domain{}, false
}

// InitialDomain is the name of the tenant's initial domain.
func (st *State) InitialDomain() string {
	for _, d := range st.domains {
		if d.IsInitial {
			return d.ID
		}
	}
	return st.domains[0].ID
}

// CheckUser verifies u's own fields and its uniqueness against every
// other object; selfID names the object being replaced ("" for a new one).
func (st *State) CheckUser(u *User, selfID string) error {
	if u.UserPrincipalName == "" {
		return grapherr.InvalidValue("userPrincipalName", "User")
	}
	at := strings.LastIndex(u.UserPrincipalName, "@")
	if at <= 0 || at == len(u.UserPrincipalName)-1 {
		return grapherr.InvalidValue("userPrincipalName", "User")
	}
	if _, ok := st.Domain(u.UserPrincipalName[at+1:]); !ok {
		return grapherr.BadRequest("The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization.")
	}
	if other, ok := st.upn[key(u.UserPrincipalName)]; ok && !strings.EqualFold(other, selfID) {
		return grapherr.Conflict("userPrincipalName", other, "User")
	}
	if u.OnPremisesImmutableID != nil {
		if err := ValidImmutableID(*u.OnPremisesImmutableID); err != nil {
			return err
		}
		if other, ok := st.immutable[*u.OnPremisesImmutableID]; ok && !strings.EqualFold(other, selfID) {
			return grapherr.Conflict("onPremisesImmutableId", other, st.kindOf(other))
		}
	}
	return st.CheckProxies(u.ProxyAddresses, selfID)
}

// CheckProxies verifies that no object but selfID holds any of addrs:
// proxy addresses are unique across object types.
func (st *State) CheckProxies(addrs []string, selfID string) error {
	seen := map[string]bool{}
	for _, a := range addrs {
		k := key(a)
		if seen[k] {
			continue
		}
		seen[k] = true
		if other, ok := st.proxy[k]; ok && !strings.EqualFold(other, selfID) {
			return grapherr.Conflict("proxyAddresses", other, st.kindOf(other))
		}
	}
	return nil
}

func (st *State) kindOf(id string) string {
	switch {
	case st.users[key(id)] != nil:
		return "User"
	case st.groups[key(id)] != nil:
		return "Group"
	case st.contacts[key(id)] != nil:
		return "Contact"
	case st.deletedUsers[key(id)] != nil:
		return "User"
	case st.deletedGroups[key(id)] != nil:
		return "Group"
	case st.deletedContacts[key(id)] != nil:
		return "Contact"
	}
	return "DirectoryObject"
}

// claimAnchor indexes an object's source anchor at load time, refusing
// one that another object already holds.
func (st *State) claimAnchor(anchor *string, id string) error {
	if anchor == nil {
		return nil
	}
	if err := ValidImmutableID(*anchor); err != nil {
		return fmt.Errorf("onPremisesImmutableId: %w", err)
	}
	if other, ok := st.immutable[*anchor]; ok && !strings.EqualFold(other, id) {
		return fmt.Errorf("onPremisesImmutableId already used by %s", other)
	}
	st.immutable[*anchor] = id
	return nil
}

func (st *State) indexMail(mail *string, id string) {
	if mail == nil || *mail == "" {
		return
	}
	k := key(*mail)
	for _, other := range st.mail[k] {
		if strings.EqualFold(other, id) {
			return
		}
	}
	st.mail[k] = append(st.mail[k], id)
}

func (st *State) unindexMail(mail *string, id string) {
	if mail == nil || *mail == "" {
		return
	}
	k := key(*mail)
	ids := st.mail[k][:0]
	for _, other := range st.mail[k] {
		if !strings.EqualFold(other, id) {
			ids = append(ids, other)
		}
	}
	if len(ids) == 0 {
		delete(st.mail, k)
		return
	}
	st.mail[k] = ids
}

func (st *State) indexUser(u *User) {
	st.upn[key(u.UserPrincipalName)] = u.ID
	if u.OnPremisesImmutableID != nil {
		st.immutable[*u.OnPremisesImmutableID] = u.ID
	}
	st.indexProxies(u.ProxyAddresses, u.ID)
	st.indexMail(u.Mail, u.ID)
}

func (st *State) unindexUser(u *User, keepAnchor bool) {
	if strings.EqualFold(st.upn[key(u.UserPrincipalName)], u.ID) {
		delete(st.upn, key(u.UserPrincipalName))
	}
	if u.OnPremisesImmutableID != nil && !keepAnchor && strings.EqualFold(st.immutable[*u.OnPremisesImmutableID], u.ID) {
		delete(st.immutable, *u.OnPremisesImmutableID)
	}
	st.unindexProxies(u.ProxyAddresses, u.ID)
	st.unindexMail(u.Mail, u.ID)
}

func (st *State) indexProxies(addrs []string, id string) {
	for _, a := range addrs {
		st.proxy[key(a)] = id
	}
}

func (st *State) unindexProxies(addrs []string, id string) {
	for _, a := range addrs {
		if strings.EqualFold(st.proxy[key(a)], id) {
			delete(st.proxy, key(a))
		}
	}
}

// LookupUser finds an active user by object id or userPrincipalName, the
// two forms Graph accepts in /users/{id | userPrincipalName}.
func (st *State) LookupUser(idOrUPN string) *User {
	if strings.Contains(idOrUPN, "@") {
		if id, ok := st.upn[key(idOrUPN)]; ok {
			return st.users[key(id)]
		}
		return nil
	}
	return st.users[key(idOrUPN)]
}

// PutUser stores the new version of a user that passed CheckUser,
// replacing old (nil for a new user) in every index.
func (st *State) PutUser(old, u *User) {
	if old != nil {
		st.unindexUser(old, false)
	}
	st.indexUser(u)
	st.users[key(u.ID)] = u
}

// snapshot returns a deep copy of the state, every list sorted by id so
// dumps are deterministic.
func (st *State) snapshot() Snapshot {
	s := Snapshot{Organization: st.org, Sync: st.sync}
	s.Domains = append([]Domain(nil), st.domains...)
	s.Users = sortedValues(st.users, func(u *User) string { return u.ID })
	s.Groups = sortedValues(st.groups, func(g *Group) string { return g.ID })
	s.Contacts = sortedValues(st.contacts, func(c *Contact) string { return c.ID })
	s.RoleDefinitions = sortedValues(st.roleDefs, func(d *RoleDefinition) string { return d.ID })
	s.RoleAssignments = sortedValues(st.assignments, func(a *RoleAssignment) string { return a.ID })
	s.RoleEligibilities = sortedValues(st.eligibilities, func(e *RoleEligibility) string { return e.ID })
	s.DeletedItems.Users = sortedValues(st.deletedUsers, func(u *User) string { return u.ID })
	s.DeletedItems.Groups = sortedValues(st.deletedGroups, func(g *Group) string { return g.ID })
	s.DeletedItems.Contacts = sortedValues(st.deletedContacts, func(c *Contact) string { return c.ID })
	out, err := s.DeepCopy()
	if err != nil {
		// Every field is plain data, so marshalling cannot fail; keep the
		// shallow copy rather than lose the dump if it ever does.
		return s
	}
	return out
}

func sortedValues[T any](m map[string]*T, id func(*T) string) []T {
	if len(m) == 0 {
		return nil
	}
	out := make([]T, 0, len(m))
	for _, v := range m {
		out = append(out, *v)
	}
	sort.Slice(out, func(i, j int) bool { return key(id(&out[i])) < key(id(&out[j])) })
	return out
}

// ValidImmutableID applies Graph's documented limits on
// onPremisesImmutableId: no '$' or '_', and (as for every source anchor)
// fewer than 60 characters.
func ValidImmutableID(v string) error {
	if v == "" || len(v) >= 60 || strings.ContainsAny(v, "$_") {
		return grapherr.InvalidValue("onPremisesImmutableId", "User")
	}
	for _, r := range v {
		if r < 0x21 || r > 0x7e {
			return grapherr.InvalidValue("onPremisesImmutableId", "User")
		}
	}
	return nil
}

// ValidPreventionType refuses a synchronizationPreventionType Graph does
// not define.
func ValidPreventionType(v string) error {
	switch v {
	case "disabled", "enabledForCount", "enabledForPercentage":
		return nil
	}
	return grapherr.InvalidValue("synchronizationPreventionType", "onPremisesAccidentalDeletionPrevention")
}
