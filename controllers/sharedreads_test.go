package controllers

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/entramatch/entra-match-operator/internal/cloud"
	"github.com/entramatch/entra-match-operator/internal/directory"
)

// fakeTenant serves the tenant-wide reads and counts them; every other
// cloud.Client method panics through the nil embedded interface.
type fakeTenant struct {
	cloud.Client
	users       []cloud.User
	assignments []cloud.RoleAssignment
	reads       atomic.Int32
	gate        chan struct{} // when set, UsersDelta waits for it
	mu          sync.Mutex
	rounds      map[string]map[string]cloud.User // delta link -> users then
	full        int                              // full rounds served
	expired     bool
	// settings answers SyncSettings; settingsErr refuses it.
	settings    cloud.SyncSettings
	settingsErr error
}

func (f *fakeTenant) SyncSettings(context.Context, string) (cloud.SyncSettings, error) {
	return f.settings, f.settingsErr
}

// UsersDelta plays Graph's delta query: a full round for "", else every
// user that differs from the round the link names (whole, as Graph may
// send) and the ones gone. expired makes every link unknown.
func (f *fakeTenant) UsersDelta(_ context.Context, link string) ([]cloud.UserChange, string, error) {
	f.reads.Add(1)
	if f.gate != nil {
		<-f.gate
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	whole := func(u cloud.User) cloud.UserChange {
		return cloud.UserChange{User: u, Present: map[string]bool{cloud.PropID: true, cloud.PropUserPrincipalName: true,
			cloud.PropOnPremisesImmutableID: true, cloud.PropMail: true}}
	}
	var out []cloud.UserChange
	before, known := f.rounds[link]
	switch {
	case link == "":
		f.full++
		for _, u := range f.users {
			out = append(out, whole(u))
		}
	case !known || f.expired:
		return nil, "", &cloud.Error{Class: cloud.ClassDeltaExpired, Code: "syncStateNotFound"}
	default:
		now := map[string]bool{}
		for _, u := range f.users {
			now[u.ID] = true
			if b, ok := before[u.ID]; !ok || !reflect.DeepEqual(b, u) {
				out = append(out, whole(u))
			}
		}
		for id := range before {
			if !now[id] {
				out = append(out, cloud.UserChange{User: cloud.User{ID: id}, Present: map[string]bool{cloud.PropID: true}, Removed: true})
			}
		}
	}
	if f.rounds == nil {
		f.rounds = map[string]map[string]cloud.User{}
	}
	next := fmt.Sprintf("delta-%d", len(f.rounds)+1)
	snap := map[string]cloud.User{}
	for _, u := range f.users {
		snap[u.ID] = u
	}
	f.rounds[next] = snap
	return out, next, nil
}

func (f *fakeTenant) AllRoleAssignments(context.Context) ([]cloud.RoleAssignment, error) {
	return f.assignments, nil
}

func (f *fakeTenant) AllRoleEligibilities(context.Context) ([]cloud.RoleEligibility, error) {
	return nil, nil
}

const directoryReadersTemplate = "88d8e3e3-8f55-4a1e-953a-9b9898b8876b"

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestTenantViewSharesOneReadAndExpires(t *testing.T) {
	clk := &clock{t: time.Unix(1000, 0)}
	f := &fakeTenant{
		users: []cloud.User{
			{ID: "A", UserPrincipalName: "Ada@contoso.com", OnPremisesImmutableID: "x"},
			{ID: "B", UserPrincipalName: "bob@contoso.com", OnPremisesImmutableID: "x"},
		},
		assignments: []cloud.RoleAssignment{
			{PrincipalID: "A", RoleDefinitionID: globalAdministratorTemplate, Role: cloud.RoleDefinition{
				ID: globalAdministratorTemplate, DisplayName: "Global Administrator", IsBuiltIn: true}},
			{PrincipalID: "B", RoleDefinitionID: directoryReadersTemplate, Role: cloud.RoleDefinition{
				ID: directoryReadersTemplate, DisplayName: "Directory Readers", IsBuiltIn: true}},
		},
		gate: make(chan struct{}),
	}
	v := &tenantView{ttl: 10 * time.Second, now: clk.now}

	// Ten reconciles arrive together: one read serves them all.
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := v.load(context.Background(), f); err != nil {
				t.Error(err)
			}
		}()
	}
	time.Sleep(50 * time.Millisecond)
	close(f.gate)
	wg.Wait()
	if n := f.reads.Load(); n != 1 {
		t.Fatalf("users read %d times for 10 concurrent loads, want 1", n)
	}

	if u, ok := v.user(target{key: "ada@CONTOSO.com"}); !ok || u.ID != "A" {
		t.Errorf("user by UPN (any case) = %+v, %v", u, ok)
	}
	if d := cmp.Diff([]string{"Global Administrator"}, v.privileged("A")); d != "" {
		t.Errorf("privileged roles (-want +got):\n%s", d)
	}
	if got := v.privileged("B"); len(got) != 0 {
		t.Errorf("a non-privileged role counted: %v", got)
	}
	if got := len(v.holders("x")); got != 2 {
		t.Errorf("holders of x = %d, want 2", got)
	}

	// Our own write moves the user between anchors at once, so the next
	// reconcile does not take it for drift.
	v.wrote("A", "y")
	if got := len(v.holders("x")); got != 1 {
		t.Errorf("after write, holders of x = %d, want 1", got)
	}
	if u, _ := v.user(target{key: "A", byID: true}); u.OnPremisesImmutableID != "y" || len(v.holders("y")) != 1 {
		t.Errorf("after write, user A = %+v", u)
	}

	// Within the TTL nothing is read again; after it, one read.
	clk.t = clk.t.Add(9 * time.Second)
	_ = v.load(context.Background(), f)
	clk.t = clk.t.Add(2 * time.Second)
	_ = v.load(context.Background(), f)
	if n := f.reads.Load(); n != 2 {
		t.Fatalf("users read %d times, want 2 (one refresh after the TTL)", n)
	}
}

// After the first full round, a refresh reads only what changed: changes
// made outside the operator are merged and reported (so that their
// UserMatches look again), our own write is not, and an expired round
// falls back on a full one.
func TestTenantViewFollowsDelta(t *testing.T) {
	clk := &clock{t: time.Unix(1000, 0)}
	f := &fakeTenant{users: []cloud.User{
		{ID: "A", UserPrincipalName: "ada@contoso.com", OnPremisesImmutableID: "x"},
		{ID: "B", UserPrincipalName: "bob@contoso.com"},
		{ID: "C", UserPrincipalName: "cy@contoso.com"},
	}}
	var reported [][]string
	v := &tenantView{ttl: time.Second, now: clk.now, onChange: func(ids []string) { reported = append(reported, ids) }}
	ctx := context.Background()
	refresh := func() {
		t.Helper()
		clk.t = clk.t.Add(2 * time.Second)
		if err := v.load(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	refresh()
	if f.full != 1 || len(reported) != 0 {
		t.Fatalf("first load: %d full rounds, reported %v", f.full, reported)
	}
	// Our write, then the same value seen by the next round: no change.
	v.wrote("B", "b-anchor")
	f.mu.Lock()
	f.users[1].OnPremisesImmutableID = "b-anchor"
	// Someone clears A's anchor and deletes C.
	f.users[0].OnPremisesImmutableID = ""
	f.users = f.users[:2]
	f.mu.Unlock()
	refresh()
	if f.full != 1 {
		t.Fatalf("a refresh read every user again (%d full rounds)", f.full)
	}
	if d := cmp.Diff([][]string{{"A", "C"}}, reported); d != "" {
		t.Errorf("reported changes (-want +got):\n%s", d)
	}
	if u, _ := v.user(target{key: "A", byID: true}); u.OnPremisesImmutableID != "" || len(v.holders("x")) != 0 {
		t.Errorf("A after its anchor was cleared: %+v, holders of x %d", u, len(v.holders("x")))
	}
	if _, ok := v.user(target{key: "cy@contoso.com"}); ok {
		t.Error("the deleted user is still in the view")
	}
	if u, _ := v.user(target{key: "B", byID: true}); u.OnPremisesImmutableID != "b-anchor" || len(v.holders("b-anchor")) != 1 {
		t.Errorf("B after our write: %+v", u)
	}
	// Graph forgets the round: a full one replaces the view.
	f.expired = true
	refresh()
	if f.full != 2 {
		t.Fatalf("an expired delta link did not start a full round (%d full rounds)", f.full)
	}
	if u, ok := v.user(target{key: "bob@contoso.com"}); !ok || u.ID != "B" {
		t.Errorf("after the full round, bob = %+v, %v", u, ok)
	}
}

type fakeDirectory struct {
	directory.Service
	users    map[directory.Lookup]directory.User
	searches [][]directory.Lookup
}

func (f *fakeDirectory) FindUsers(_ context.Context, ls []directory.Lookup) (map[directory.Lookup]directory.User, map[directory.Lookup]error) {
	f.searches = append(f.searches, append([]directory.Lookup(nil), ls...))
	found, errs := map[directory.Lookup]directory.User{}, map[directory.Lookup]error{}
	for _, l := range ls {
		if u, ok := f.users[l]; ok {
			found[l] = u
		} else {
			errs[l] = &directory.Error{Op: "find", Class: directory.ErrNotFound}
		}
	}
	return found, errs
}

func TestDirectoryViewOneSearchForAll(t *testing.T) {
	clk := &clock{t: time.Unix(1000, 0)}
	ada := directory.Lookup{By: directory.KeySAMAccountName, Value: "ada"}
	bob := directory.Lookup{By: directory.KeySAMAccountName, Value: "bob"}
	eve := directory.Lookup{By: directory.KeySAMAccountName, Value: "eve"}
	f := &fakeDirectory{users: map[directory.Lookup]directory.User{
		ada: {DN: "CN=ada"}, bob: {DN: "CN=bob"}, eve: {DN: "CN=eve"},
	}}
	v := &directoryView{ttl: 10 * time.Second, now: clk.now}
	all := func() []directory.Lookup { return []directory.Lookup{ada, bob} }
	ctx := context.Background()

	for _, l := range []directory.Lookup{ada, bob, ada} {
		if _, err := v.find(ctx, f, l, all); err != nil {
			t.Fatal(err)
		}
	}
	if len(f.searches) != 1 {
		t.Fatalf("%d searches for three finds of two users, want 1: %v", len(f.searches), f.searches)
	}
	// A lookup the fresh view does not know (a new UserMatch) triggers one
	// search of that lookup alone: creating UserMatches one by one must not
	// read the whole directory once each.
	u, err := v.find(ctx, f, eve, all)
	if err != nil || u.DN != "CN=eve" || len(f.searches) != 2 || len(f.searches[1]) != 1 || f.searches[1][0] != eve {
		t.Fatalf("new lookup: %+v %v after searches %v", u, err, f.searches)
	}
	// Once stale, the view is read whole again.
	clk.t = clk.t.Add(11 * time.Second)
	if _, err := v.find(ctx, f, ada, all); err != nil || len(f.searches) != 3 || len(f.searches[2]) != 2 {
		t.Fatalf("stale view: %v after searches %v", err, f.searches)
	}
	// Not found is remembered for the TTL too, and reported as such.
	ghost := directory.Lookup{By: directory.KeySAMAccountName, Value: "ghost"}
	if _, err := v.find(ctx, f, ghost, all); err == nil {
		t.Fatal("ghost found")
	}
	n := len(f.searches)
	if _, err := v.find(ctx, f, ghost, all); err == nil || len(f.searches) != n {
		t.Fatalf("second ghost lookup searched again (%d searches) or succeeded (%v)", len(f.searches), err)
	}
}

// blockingDirectory holds its first search until released, so that the
// lookups arriving meanwhile pile up.
type blockingDirectory struct {
	directory.Service
	mu       sync.Mutex
	release  chan struct{}
	searches [][]directory.Lookup
}

func (f *blockingDirectory) FindUsers(_ context.Context, ls []directory.Lookup) (map[directory.Lookup]directory.User, map[directory.Lookup]error) {
	f.mu.Lock()
	first := len(f.searches) == 1 // the search after the initial load
	f.searches = append(f.searches, append([]directory.Lookup(nil), ls...))
	f.mu.Unlock()
	if first {
		<-f.release
	}
	found := map[directory.Lookup]directory.User{}
	for _, l := range ls {
		found[l] = directory.User{DN: "CN=" + l.Value}
	}
	return found, map[directory.Lookup]error{}
}

// Misses that arrive while a partial read runs are read together by the
// next one: at most one search per burst, whatever the concurrency.
func TestDirectoryViewBatchesMisses(t *testing.T) {
	clk := &clock{t: time.Unix(1000, 0)}
	f := &blockingDirectory{release: make(chan struct{})}
	v := &directoryView{ttl: time.Hour, now: clk.now}
	ctx := context.Background()
	lookup := func(i int) directory.Lookup {
		return directory.Lookup{By: directory.KeySAMAccountName, Value: fmt.Sprintf("u%d", i)}
	}
	if _, err := v.find(ctx, f, lookup(0), func() []directory.Lookup { return nil }); err != nil {
		t.Fatal(err)
	}
	first := make(chan error, 1)
	go func() { _, err := v.find(ctx, f, lookup(1), nil); first <- err }()
	for {
		f.mu.Lock()
		n := len(f.searches)
		f.mu.Unlock()
		if n == 2 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := 2; i < 22; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u, err := v.find(ctx, f, lookup(i), nil)
			if err == nil && u.DN != "CN="+lookup(i).Value {
				err = fmt.Errorf("lookup %d found %s", i, u.DN)
			}
			errs <- err
		}()
	}
	// Let the twenty queue behind the blocked read, then release it.
	for {
		v.mu.Lock()
		n := len(v.pending)
		v.mu.Unlock()
		if n == 20 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	close(f.release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if len(f.searches) != 3 || len(f.searches[2]) != 20 {
		t.Fatalf("searches %v: want the initial load, the blocked miss, then one search of the 20 that waited", f.searches)
	}
}

func TestThrottledWritesPauseTheTenant(t *testing.T) {
	clk := &clock{t: time.Unix(1000, 0)}
	v := &tenantView{now: clk.now}
	if w := v.writesPaused(); w > 0 {
		t.Fatalf("paused %s before any 429", w)
	}
	v.pauseWrites(10 * time.Second)
	v.pauseWrites(3 * time.Second) // a shorter Retry-After never shortens the pause
	clk.t = clk.t.Add(4 * time.Second)
	if w := v.writesPaused(); w != 6*time.Second {
		t.Fatalf("writes paused for %s more, want 6s", w)
	}
	clk.t = clk.t.Add(6 * time.Second)
	if w := v.writesPaused(); w > 0 {
		t.Fatalf("still paused %s after the Retry-After", w)
	}
}

// The takeover flag is read with the users: on, off, or unknown when Graph
// refuses the read (the match then goes ahead with a caveat); a failure that
// is not a refusal fails the read.
func TestTenantViewReadsTakeoverFlag(t *testing.T) {
	on := cloud.SyncSettings{Features: map[string]bool{cloud.FeatureBlockCloudObjectTakeoverThroughHardMatch: true}}
	for _, c := range []struct {
		name        string
		settings    cloud.SyncSettings
		err         error
		wantBlocked bool
		wantUnknown bool
		wantErr     bool
	}{
		{name: "on", settings: on, wantBlocked: true},
		{name: "off", settings: cloud.SyncSettings{Features: map[string]bool{}}},
		{name: "refused", err: &cloud.Error{Class: cloud.ClassPermission, Op: "SyncSettings"}, wantUnknown: true},
		{name: "unreachable", err: &cloud.Error{Class: cloud.ClassTransient, Op: "SyncSettings"}, wantErr: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := &fakeTenant{settings: c.settings, settingsErr: c.err}
			v := newViews(time.Minute, nil).tenant("k", "tid")
			err := v.load(context.Background(), f)
			if (err != nil) != c.wantErr {
				t.Fatalf("load: %v, want error %v", err, c.wantErr)
			}
			got := v.takeoverFlag()
			if got.Blocked != c.wantBlocked || (got.Unknown != "") != c.wantUnknown {
				t.Errorf("takeover = %+v, want blocked %v unknown %v", got, c.wantBlocked, c.wantUnknown)
			}
		})
	}
}

// A UPN is looked up as a UPN only: an AD UPN shaped like an object id must
// not reach the user with that id.
func TestTargetByUPNNeverMatchesAnObjectID(t *testing.T) {
	const id = "3c9f1e4a-8b7d-4e6f-9a0b-1c2d3e4f5a6b"
	f := &fakeTenant{users: []cloud.User{{ID: id, UserPrincipalName: "admin@contoso.com"}}}
	v := newViews(time.Minute, nil).tenant("k", "tid")
	if err := v.load(context.Background(), f); err != nil {
		t.Fatal(err)
	}
	if u, ok := v.user(target{key: id}); ok {
		t.Fatalf("UPN %q found user %s by id", id, u.UserPrincipalName)
	}
	if _, ok := v.user(target{key: id, byID: true}); !ok {
		t.Fatal("lookup by id failed")
	}
	if _, err := getTarget(context.Background(), f, target{key: id}); cloud.ClassOf(err) != cloud.ClassNotFound {
		t.Fatalf("getTarget by a UPN without @ = %v, want NotFound before any Graph call", err)
	}
}

// A new connection for a tenant (a rotated secret, another endpoint)
// supersedes the old view: rotations must not pile up copies of a tenant.
func TestViewsAreEvictedOnANewConnection(t *testing.T) {
	vs := newViews(time.Minute, nil)
	a := vs.tenant("contoso/fp1", "tid")
	vs.tenant("fabrikam/fp1", "tid2")
	if vs.tenant("contoso/fp1", "tid") != a {
		t.Fatal("the same connection must reuse its view")
	}
	vs.tenant("contoso/fp2", "tid")
	if _, ok := vs.tenants["contoso/fp1"]; ok || len(vs.tenants) != 2 {
		t.Errorf("views after a rotation: %v", len(vs.tenants))
	}
	vs.directory("corp/fp1")
	vs.directory("corp/fp2")
	if len(vs.dirs) != 1 {
		t.Errorf("directory views after a rotation: %d", len(vs.dirs))
	}
}

// The pacer hands out the quota's burst at once, then one slot per
// period/writes; a slot further than the inline wait is not taken.
func TestWriteQuotaPacesWrites(t *testing.T) {
	clk := &clock{t: time.Unix(1000, 0)}
	v := &tenantView{now: clk.now, pacer: WriteQuota{Writes: 3, Per: 3 * time.Second}.limiter()}
	ctx := context.Background()
	for i := range 3 {
		if wait, err := v.reserveWrite(ctx, 0); err != nil || wait != 0 {
			t.Fatalf("write %d of the burst waits %s (%v)", i, wait, err)
		}
	}
	wait, err := v.reserveWrite(ctx, 0)
	if err != nil || wait != time.Second {
		t.Fatalf("fourth write: wait %s (%v), want 1s", wait, err)
	}
	// Refused slots are not taken: a second after, one slot is free.
	clk.t = clk.t.Add(time.Second)
	if wait, err := v.reserveWrite(ctx, 0); err != nil || wait != 0 {
		t.Fatalf("after a second: wait %s (%v), want 0", wait, err)
	}
	if wait, _ := v.reserveWrite(ctx, 0); wait != time.Second {
		t.Fatalf("then: wait %s, want 1s", wait)
	}
	if (&tenantView{now: clk.now}).pacer != nil {
		t.Fatal("a view without a quota paces")
	}
}

func TestParseWriteQuota(t *testing.T) {
	for in, want := range map[string]WriteQuota{
		"3000/150s": DefaultWriteQuota, "300/15s": {Writes: 300, Per: 15 * time.Second}, "0": {Writes: -1},
	} {
		got, err := ParseWriteQuota(in)
		if err != nil || got != want {
			t.Errorf("ParseWriteQuota(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "3000", "x/150s", "3000/", "-1/150s", "3000/0s", "3000/-5s"} {
		if _, err := ParseWriteQuota(bad); err == nil {
			t.Errorf("ParseWriteQuota(%q) accepted", bad)
		}
	}
	if newViews(time.Second, nil).pacing(WriteQuota{}).quota != DefaultWriteQuota {
		t.Error("a zero quota is not Graph's documented one")
	}
	if newViews(time.Second, nil).pacing(WriteQuota{Writes: -1}).quota.limiter() != nil {
		t.Error("quota 0 still paces")
	}
}

// throttledTenant answers every users read with a 429.
type throttledTenant struct {
	fakeTenant
}

func (f *throttledTenant) UsersDelta(context.Context, string) ([]cloud.UserChange, string, error) {
	f.reads.Add(1)
	return nil, "", &cloud.Error{Class: cloud.ClassThrottled, Status: 429, RetryAfter: 5 * time.Second}
}

// A throttled refresh pauses the tenant's reads for the Retry-After: the
// UserMatches of the tenant get the throttling error without each asking
// Graph again.
func TestTenantViewWaitsOutThrottledRefresh(t *testing.T) {
	clk := &clock{t: time.Unix(1000, 0)}
	f := &throttledTenant{}
	v := &tenantView{ttl: time.Second, now: clk.now}
	for range 10 {
		if err := v.load(context.Background(), f); cloud.ClassOf(err) != cloud.ClassThrottled {
			t.Fatalf("load = %v, want the throttling error", err)
		}
	}
	if n := f.reads.Load(); n != 1 {
		t.Fatalf("Graph asked %d times within the Retry-After, want 1", n)
	}
	// What the UserMatch reconciler tells the fair share.
	if until := v.readsPaused(); !until.Equal(clk.t.Add(5 * time.Second)) {
		t.Fatalf("reads paused until %v, want the Retry-After's end %v", until, clk.t.Add(5*time.Second))
	}
	clk.t = clk.t.Add(6 * time.Second)
	if until := v.readsPaused(); !until.IsZero() {
		t.Fatalf("reads paused until %v after the Retry-After", until)
	}
	_ = v.load(context.Background(), f)
	if n := f.reads.Load(); n != 2 {
		t.Fatalf("Graph asked %d times after the Retry-After, want 2", n)
	}
}
