package controllers

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

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
	// pending are lookups the fresh view does not know (UserMatches created
	// since it was read); they are read together, apart from the others,
	// by whoever finds no partial read running.
	pending map[directory.Lookup]bool
	partial chan struct{}
}

// find returns the user for l. A stale view is read again whole, with every
// lookup in all; a lookup the fresh view does not know is read on its own,
// batched with the other misses of the moment, so that creating UserMatches
// one by one never reads the whole directory once per UserMatch.
func (v *directoryView) find(ctx context.Context, d directory.Service, l directory.Lookup, all func() []directory.Lookup) (directory.User, error) {
	for attempt := 0; ; attempt++ {
		v.mu.Lock()
		if v.now().Sub(v.fetched) >= v.ttl {
			if wait := v.inflight; wait != nil && attempt == 0 {
				v.mu.Unlock()
				if err := waitFor(ctx, wait); err != nil {
					return directory.User{}, err
				}
				continue
			}
			done := make(chan struct{})
			v.inflight = done
			v.mu.Unlock()
			v.reload(ctx, d, append(all(), l), done)
			return v.known(l)
		}
		if u, ok := v.users[l]; ok {
			v.mu.Unlock()
			return u, nil
		}
		if err, ok := v.errs[l]; ok {
			v.mu.Unlock()
			return directory.User{}, err
		}
		if attempt > 3 {
			// The view keeps being replaced under us: read alone.
			v.mu.Unlock()
			users, errs := d.FindUsers(ctx, []directory.Lookup{l})
			return found(l, users, errs)
		}
		if v.pending == nil {
			v.pending = map[directory.Lookup]bool{}
		}
		v.pending[l] = true
		if wait := v.partial; wait != nil {
			v.mu.Unlock()
			if err := waitFor(ctx, wait); err != nil {
				return directory.User{}, err
			}
			continue
		}
		batch := make([]directory.Lookup, 0, len(v.pending))
		for p := range v.pending {
			batch = append(batch, p)
		}
		v.pending = nil
		done := make(chan struct{})
		v.partial = done
		v.mu.Unlock()

		users, errs := d.FindUsers(ctx, batch)

		v.mu.Lock()
		for _, b := range batch {
			if u, ok := users[b]; ok {
				v.users[b] = u
				delete(v.errs, b)
			} else if err := errs[b]; err != nil && ctx.Err() == nil {
				v.errs[b] = err
			}
		}
		v.partial = nil
		close(done)
		v.mu.Unlock()
		if ctx.Err() != nil {
			return directory.User{}, ctx.Err()
		}
	}
}

// reload reads every lookup again and replaces the view; the caller has
// made done the view's inflight read.
func (v *directoryView) reload(ctx context.Context, d directory.Service, lookups []directory.Lookup, done chan struct{}) {
	users, errs := d.FindUsers(ctx, dedupe(lookups))

	v.mu.Lock()
	v.users, v.errs, v.fetched, v.inflight = users, errs, v.now(), nil
	close(done)
	v.mu.Unlock()
}

// known answers l from the view as it is now.
func (v *directoryView) known(l directory.Lookup) (directory.User, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return found(l, v.users, v.errs)
}

func found(l directory.Lookup, users map[directory.Lookup]directory.User, errs map[directory.Lookup]error) (directory.User, error) {
	if u, ok := users[l]; ok {
		return u, nil
	}
	if err := errs[l]; err != nil {
		return directory.User{}, err
	}
	return directory.User{}, &directory.Error{Op: "find " + l.String(), Class: directory.ErrNotFound}
}

func waitFor(ctx context.Context, ch <-chan struct{}) error {
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
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
	// deltaLink continues the users delta query of the last refresh.
	deltaLink string
	// onChange is told the ids of users a refresh found changed by someone
	// else, so that their UserMatches look again without waiting for their
	// resync (drift is corrected within one shared-read period).
	onChange func(ids []string)
	// pacer spends the tenant's write quota (nil: unpaced).
	pacer *rate.Limiter
	// readsPausedUntil: Graph throttled a refresh; until then load answers
	// readErr without asking again.
	readsPausedUntil time.Time
	readErr          error
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

// reserveWrite takes a slot of the tenant's write quota for a write about
// to be made. When the next slot is further than inline away, nothing is
// taken and the wait is returned, so that the caller comes back then
// instead of holding a worker; a shorter wait is slept here.
func (v *tenantView) reserveWrite(ctx context.Context, inline time.Duration) (time.Duration, error) {
	if v.pacer == nil {
		return 0, nil
	}
	r := v.pacer.ReserveN(v.now(), 1)
	if !r.OK() {
		return 0, nil
	}
	d := r.DelayFrom(v.now())
	if d > inline {
		r.CancelAt(v.now())
		return d, nil
	}
	if d <= 0 {
		return 0, nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return 0, nil
	case <-ctx.Done():
		r.CancelAt(v.now())
		return 0, ctx.Err()
	}
}

// readsPaused returns until when Graph's Retry-After holds the tenant's
// shared reads, or the zero time.
func (v *tenantView) readsPaused() time.Time {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.now().Before(v.readsPausedUntil) {
		return v.readsPausedUntil
	}
	return time.Time{}
}

// writesPaused returns how long writes must still wait.
func (v *tenantView) writesPaused() time.Duration {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.writesPausedUntil.Sub(v.now())
}

// load refreshes the view when it is stale; concurrent callers share one read.
// Users are followed with Graph's delta query: after the first full round, a
// refresh costs requests in proportion to what changed, not to the number
// of users. The roles and the takeover flag are read whole each time (a
// few requests whatever the size of the tenant).
func (v *tenantView) load(ctx context.Context, c cloud.Client) error {
	for {
		v.mu.Lock()
		if v.now().Sub(v.fetched) < v.ttl {
			err := v.err
			v.mu.Unlock()
			return err
		}
		if v.now().Before(v.readsPausedUntil) {
			// Graph throttled the last refresh: every UserMatch of the
			// tenant waits out its Retry-After instead of asking again.
			err := v.readErr
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
		link := v.deltaLink
		v.mu.Unlock()

		changes, next, err := c.UsersDelta(ctx, link)
		if cloud.IsDeltaExpired(err) && link != "" {
			// Graph no longer knows the round: start a full one.
			link = ""
			changes, next, err = c.UsersDelta(ctx, "")
		}
		var roles map[string][]string
		if err == nil {
			roles, err = readRoles(ctx, c)
		}
		var takeover match.Takeover
		if err == nil {
			takeover, err = readTakeover(ctx, c, v.tenantID)
		}

		v.mu.Lock()
		v.inflight = nil
		close(done)
		var changed []string
		if err == nil {
			changed = v.apply(changes, link == "")
			v.deltaLink, v.roles, v.fetched, v.err = next, roles, v.now(), nil
			v.takeover = takeover
		} else if ra, ok := cloud.RetryAfter(err); ok {
			v.readsPausedUntil, v.readErr = v.now().Add(ra), err
		}
		onChange := v.onChange
		v.mu.Unlock()
		if len(changed) > 0 && onChange != nil {
			onChange(changed)
		}
		return err
	}
}

// apply merges a delta round into the view and returns the ids of users
// whose properties changed (not for a full round, which replaces the view:
// nothing was known before it). Our own writes, already in the view, do not
// count as changes. The caller holds the lock.
func (v *tenantView) apply(changes []cloud.UserChange, full bool) []string {
	if full || v.byID == nil {
		v.byID, v.byUPN, v.byAnchor = map[string]*cloud.User{}, map[string]*cloud.User{}, map[string][]*cloud.User{}
	}
	var changed []string
	for _, ch := range changes {
		id := strings.ToLower(ch.User.ID)
		old, known := v.byID[id]
		if ch.Removed {
			if known {
				v.unindex(old)
				changed = append(changed, ch.User.ID)
			}
			continue
		}
		var base cloud.User
		if known {
			base = *old
		}
		u := ch.Merge(base)
		if known {
			if reflect.DeepEqual(*old, u) {
				continue
			}
			v.unindex(old)
		}
		v.index(&u)
		if !full {
			changed = append(changed, u.ID)
		}
	}
	return changed
}

// index adds u to the view's maps; unindex takes it out. The caller holds
// the lock.
func (v *tenantView) index(u *cloud.User) {
	v.byID[strings.ToLower(u.ID)] = u
	v.byUPN[strings.ToLower(u.UserPrincipalName)] = u
	if u.OnPremisesImmutableID != "" {
		v.byAnchor[u.OnPremisesImmutableID] = append(v.byAnchor[u.OnPremisesImmutableID], u)
	}
}

func (v *tenantView) unindex(u *cloud.User) {
	delete(v.byID, strings.ToLower(u.ID))
	if v.byUPN[strings.ToLower(u.UserPrincipalName)] == u {
		delete(v.byUPN, strings.ToLower(u.UserPrincipalName))
	}
	v.unindexAnchor(u)
}

// readRoles lists the privileged roles of every principal.
func readRoles(ctx context.Context, c cloud.Client) (map[string][]string, error) {
	assignments, err := c.AllRoleAssignments(ctx)
	if err != nil {
		return nil, err
	}
	eligibilities, err := c.AllRoleEligibilities(ctx)
	if err != nil {
		return nil, err
	}
	return privilegedByPrincipal(assignments, eligibilities), nil
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

// WriteQuota is a number of Graph writes per period, per tenant. Graph
// documents a write quota of 3,000 writes per 150 s per app and tenant
// (Microsoft Graph service-specific throttling limits, identity and access);
// exceeding it costs a 429 and a Retry-After for every worker of the tenant,
// so the operator spends it at the documented rate instead.
type WriteQuota struct {
	Writes int
	Per    time.Duration
}

// DefaultWriteQuota is Graph's documented write quota.
var DefaultWriteQuota = WriteQuota{Writes: 3000, Per: 150 * time.Second}

// limiter is a token bucket of the quota's size refilled at its rate; nil
// for no pacing.
func (q WriteQuota) limiter() *rate.Limiter {
	if q.Writes <= 0 || q.Per <= 0 {
		return nil
	}
	return rate.NewLimiter(rate.Limit(float64(q.Writes)/q.Per.Seconds()), q.Writes)
}

// String is the flag form, e.g. 3000/150s.
func (q WriteQuota) String() string {
	if q.Writes <= 0 {
		return "0"
	}
	return fmt.Sprintf("%d/%s", q.Writes, q.Per)
}

// ParseWriteQuota reads N/duration (3000/150s), or 0 for no pacing.
func ParseWriteQuota(v string) (WriteQuota, error) {
	if strings.TrimSpace(v) == "0" {
		return WriteQuota{Writes: -1}, nil
	}
	n, per, ok := strings.Cut(v, "/")
	writes, err := strconv.Atoi(strings.TrimSpace(n))
	if !ok || err != nil || writes <= 0 {
		return WriteQuota{}, fmt.Errorf("write quota %q: want writes/period, such as 3000/150s, or 0", v)
	}
	d, err := time.ParseDuration(strings.TrimSpace(per))
	if err != nil || d <= 0 {
		return WriteQuota{}, fmt.Errorf("write quota %q: want writes/period, such as 3000/150s, or 0", v)
	}
	return WriteQuota{Writes: writes, Per: d}, nil
}

// views keeps one view per tenant and per directory.
type views struct {
	// changed is told, per EntraTenant name, the users a refresh found
	// changed by someone else.
	changed func(tenant string, ids []string)
	mu      sync.Mutex
	quota   WriteQuota
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

// pacing sets the write quota of the tenant views made from now on: the
// documented one for a zero quota, none for a negative one.
func (s *views) pacing(q WriteQuota) *views {
	if q.Writes == 0 {
		q = DefaultWriteQuota
	}
	s.quota = q
	return s
}

// tenant returns the view for a tenant credential; a new connection
// (rotated secret, other endpoint) starts a new view.
func (s *views) tenant(key, tenantID string) *tenantView {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.tenants[key]
	if !ok {
		evict(s.tenants, key)
		v = &tenantView{ttl: s.ttl, now: s.now, tenantID: tenantID, pacer: s.quota.limiter()}
		if s.changed != nil {
			name, _, _ := strings.Cut(key, "/")
			v.onChange = func(ids []string) { s.changed(name, ids) }
		}
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
	if u, ok := v.byID[strings.ToLower(id)]; ok {
		v.unindex(u)
	}
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
