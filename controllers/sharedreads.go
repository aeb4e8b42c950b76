package controllers

import (
	"context"
	"strings"
	"sync"
	"time"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/cloud"
	"github.com/entramatch/entra-match-operator/internal/directory"
	"github.com/entramatch/entra-match-operator/internal/match"
	"github.com/entramatch/entra-match-operator/internal/privileged"
)

// Shared reads: with hundreds of UserMatches per tenant, reading each user
// on its own costs one LDAP search and four Graph calls per UserMatch per
// resync, which is what exhausts Graph's throttling budget. Instead, the
// first reconcile of a period reads everything the tenant's (or directory's)
// UserMatches need in a few paged calls, and the others use that view until
// it is older than the TTL. Our own writes are applied to the view, so a
// reconcile never mistakes its own write for drift.

// directoryView holds the users of the UserMatches of one directory.
type directoryView struct {
	mu       sync.Mutex
	ttl      time.Duration
	now      func() time.Time
	fetched  time.Time
	users    map[directory.Lookup]directory.User
	errs     map[directory.Lookup]error
	inflight chan struct{}
}

// find returns the user for l, reading it together with every lookup in all
// when the view is stale or does not know l.
func (v *directoryView) find(ctx context.Context, d directory.Service, l directory.Lookup, all func() []directory.Lookup) (directory.User, error) {
	for attempt := 0; ; attempt++ {
		v.mu.Lock()
		fresh := v.now().Sub(v.fetched) < v.ttl
		if fresh {
			if u, ok := v.users[l]; ok {
				v.mu.Unlock()
				return u, nil
			}
			if err, ok := v.errs[l]; ok {
				v.mu.Unlock()
				return directory.User{}, err
			}
		}
		if wait := v.inflight; wait != nil && attempt == 0 {
			v.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return directory.User{}, ctx.Err()
			}
		}
		done := make(chan struct{})
		v.inflight = done
		v.mu.Unlock()

		lookups := append(all(), l)
		users, errs := d.FindUsers(ctx, dedupe(lookups))

		v.mu.Lock()
		v.users, v.errs, v.fetched, v.inflight = users, errs, v.now(), nil
		close(done)
		u, ok := users[l]
		err := errs[l]
		v.mu.Unlock()
		if ok {
			return u, nil
		}
		if err == nil {
			err = &directory.Error{Op: "find " + l.String(), Class: directory.ErrNotFound}
		}
		return directory.User{}, err
	}
}

// expire makes the next find read the directory again.
func (v *directoryView) expire() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.fetched = time.Time{}
}

func dedupe(ls []directory.Lookup) []directory.Lookup {
	seen := make(map[directory.Lookup]bool, len(ls))
	out := ls[:0]
	for _, l := range ls {
		if !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	return out
}

// tenantView holds the users and privileged role holders of one tenant.
type tenantView struct {
	mu       sync.Mutex
	ttl      time.Duration
	now      func() time.Time
	fetched  time.Time
	byID     map[string]*cloud.User
	byUPN    map[string]*cloud.User
	byAnchor map[string][]*cloud.User
	roles    map[string][]string // principal id -> privileged role names
	// tenantID names the tenant's directory synchronization object, and
	// takeover is its hard-match takeover flag as read with the users.
	tenantID string
	takeover match.Takeover
	inflight chan struct{}
	err      error
	// writesPausedUntil: Graph throttled a write of this tenant; Microsoft's
	// guidance is to back off the whole client, so no UserMatch of the
	// tenant reads or writes for a write before then.
	writesPausedUntil time.Time
}

// pauseWrites records a Retry-After for the tenant's writes.
func (v *tenantView) pauseWrites(d time.Duration) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if until := v.now().Add(d); until.After(v.writesPausedUntil) {
		v.writesPausedUntil = until
	}
}

// writesPaused returns how long writes must still wait.
func (v *tenantView) writesPaused() time.Duration {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.writesPausedUntil.Sub(v.now())
}

// load refreshes the view when it is stale; concurrent callers share one read.
func (v *tenantView) load(ctx context.Context, c cloud.Client) error {
	for {
		v.mu.Lock()
		if v.now().Sub(v.fetched) < v.ttl {
			err := v.err
			v.mu.Unlock()
			return err
		}
		if wait := v.inflight; wait != nil {
			v.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		done := make(chan struct{})
		v.inflight = done
		v.mu.Unlock()

		byID, byUPN, byAnchor, roles, err := readTenant(ctx, c)
		var takeover match.Takeover
		if err == nil {
			takeover, err = readTakeover(ctx, c, v.tenantID)
		}

		v.mu.Lock()
		v.inflight = nil
		close(done)
		if err == nil {
			v.byID, v.byUPN, v.byAnchor, v.roles, v.fetched, v.err = byID, byUPN, byAnchor, roles, v.now(), nil
			v.takeover = takeover
		}
		v.mu.Unlock()
		return err
	}
}

func readTenant(ctx context.Context, c cloud.Client) (map[string]*cloud.User, map[string]*cloud.User, map[string][]*cloud.User, map[string][]string, error) {
	users, err := c.ListUsers(ctx)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	assignments, err := c.AllRoleAssignments(ctx)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	eligibilities, err := c.AllRoleEligibilities(ctx)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	byID := make(map[string]*cloud.User, len(users))
	byUPN := make(map[string]*cloud.User, len(users))
	byAnchor := map[string][]*cloud.User{}
	for i := range users {
		u := &users[i]
		byID[strings.ToLower(u.ID)] = u
		byUPN[strings.ToLower(u.UserPrincipalName)] = u
		if u.OnPremisesImmutableID != "" {
			byAnchor[u.OnPremisesImmutableID] = append(byAnchor[u.OnPremisesImmutableID], u)
		}
	}
	roles := privilegedByPrincipal(assignments, eligibilities)
	return byID, byUPN, byAnchor, roles, nil
}

// readTakeover reads blockCloudObjectTakeoverThroughHardMatchEnabled. A
// refusal (the read needs OnPremDirectorySynchronization.Read.All, and some
// tenants refuse it app-only) leaves the flag unknown rather than failing
// every match of the tenant; other failures fail the read.
func readTakeover(ctx context.Context, c cloud.Client, tenantID string) (match.Takeover, error) {
	s, err := c.SyncSettings(ctx, tenantID)
	switch cloud.ClassOf(err) {
	case "":
		if err != nil {
			return match.Takeover{}, err
		}
		return match.Takeover{Blocked: s.Features[cloud.FeatureBlockCloudObjectTakeoverThroughHardMatch],
			ObjectIdentifierUpdateAllowed: s.Features[cloud.FeatureAllowOnPremUpdateOfOnPremisesObjectIdentifier]}, nil
	case cloud.ClassPermission, cloud.ClassNotFound, cloud.ClassInvalid:
		return match.Takeover{Unknown: err.Error()}, nil
	}
	return match.Takeover{}, err
}

// expire makes the next load read the tenant again.
func (v *tenantView) expire() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.fetched = time.Time{}
}

// takeoverFlag returns the hard-match takeover flag as last read.
func (v *tenantView) takeoverFlag() match.Takeover {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.takeover
}

func privilegedByPrincipal(assignments []cloud.RoleAssignment, eligibilities []cloud.RoleEligibility) map[string][]string {
	roles := map[string][]string{}
	for _, a := range assignments {
		if privileged.IsPrivileged(a.Role, a.RoleDefinitionID) {
			roles[a.PrincipalID] = append(roles[a.PrincipalID],
				match.Role{Kind: string(identityv1alpha1.RoleKindAssignment), Name: a.Role.DisplayName, RoleDefinitionID: a.RoleDefinitionID}.Title())
		}
	}
	for _, e := range eligibilities {
		if privileged.IsPrivileged(e.Role, e.RoleDefinitionID) {
			roles[e.PrincipalID] = append(roles[e.PrincipalID],
				match.Role{Kind: string(identityv1alpha1.RoleKindEligibility), Name: e.Role.DisplayName, RoleDefinitionID: e.RoleDefinitionID}.Title())
		}
	}
	return roles
}

// user returns the user by object id, or by UPN, from the view. The two are
// never mixed: a UPN that happens to look like an object id must not find
// the user with that id.
func (v *tenantView) user(t target) (cloud.User, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	index := v.byUPN
	if t.byID {
		index = v.byID
	}
	if u, ok := index[strings.ToLower(t.key)]; ok {
		return *u, true
	}
	return cloud.User{}, false
}

func (v *tenantView) holders(anchor string) []cloud.User {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make([]cloud.User, 0, len(v.byAnchor[anchor]))
	for _, u := range v.byAnchor[anchor] {
		out = append(out, *u)
	}
	return out
}

func (v *tenantView) privileged(id string) []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]string(nil), v.roles[id]...)
}

// wrote applies our own immutableId write to the view.
func (v *tenantView) wrote(id, value string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	u, ok := v.byID[strings.ToLower(id)]
	if !ok {
		return
	}
	if u.OnPremisesImmutableID != "" {
		v.unindexAnchor(u)
	}
	u.OnPremisesImmutableID = value
	if value != "" {
		v.byAnchor[value] = append(v.byAnchor[value], u)
	}
}

// views keeps one view per tenant and per directory.
type views struct {
	mu      sync.Mutex
	ttl     time.Duration
	now     func() time.Time
	tenants map[string]*tenantView
	dirs    map[string]*directoryView
}

func newViews(ttl time.Duration, now func() time.Time) *views {
	if now == nil {
		now = time.Now
	}
	return &views{ttl: ttl, now: now, tenants: map[string]*tenantView{}, dirs: map[string]*directoryView{}}
}

// tenant returns the view for a tenant credential; a new connection
// (rotated secret, other endpoint) starts a new view.
func (s *views) tenant(key, tenantID string) *tenantView {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.tenants[key]
	if !ok {
		evict(s.tenants, key)
		v = &tenantView{ttl: s.ttl, now: s.now, tenantID: tenantID}
		s.tenants[key] = v
	}
	return v
}

// evict drops the views of the same resource (the part of key before the
// connection's fingerprint) made with another connection: a rotated
// credential or a new endpoint supersedes them, and keeping them would keep
// a copy of the tenant per rotation.
func evict[V any](m map[string]V, key string) {
	name, _, _ := strings.Cut(key, "/")
	for k := range m {
		if other, _, _ := strings.Cut(k, "/"); other == name && k != key {
			delete(m, k)
		}
	}
}

// expireTenant makes the next reconcile of the named EntraTenant's
// UserMatches read the tenant again, whatever the view's age: a tenant flag
// they decide on has just changed.
func (s *views) expireTenant(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, v := range s.tenants {
		if strings.HasPrefix(k, name+"/") {
			v.mu.Lock()
			v.fetched = time.Time{}
			v.mu.Unlock()
		}
	}
}

func (s *views) directory(key string) *directoryView {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.dirs[key]
	if !ok {
		evict(s.dirs, key)
		v = &directoryView{ttl: s.ttl, now: s.now}
		s.dirs[key] = v
	}
	return v
}

// removed drops a user we deleted from the view.
func (v *tenantView) removed(id string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	u, ok := v.byID[strings.ToLower(id)]
	if !ok {
		return
	}
	delete(v.byID, strings.ToLower(id))
	delete(v.byUPN, strings.ToLower(u.UserPrincipalName))
	v.unindexAnchor(u)
}

// unindexAnchor drops u from the holders of its current anchor; the caller
// holds the lock.
func (v *tenantView) unindexAnchor(u *cloud.User) {
	a := u.OnPremisesImmutableID
	kept := v.byAnchor[a][:0]
	for _, h := range v.byAnchor[a] {
		if h != u {
			kept = append(kept, h)
		}
	}
	v.byAnchor[a] = kept
}
