package controllers

import (
	"context"
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
	gate        chan struct{} // when set, ListUsers waits for it
	// settings answers SyncSettings; settingsErr refuses it.
	settings    cloud.SyncSettings
	settingsErr error
}

func (f *fakeTenant) SyncSettings(context.Context, string) (cloud.SyncSettings, error) {
	return f.settings, f.settingsErr
}

func (f *fakeTenant) ListUsers(context.Context) ([]cloud.User, error) {
	f.reads.Add(1)
	if f.gate != nil {
		<-f.gate
	}
	return append([]cloud.User(nil), f.users...), nil
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
		t.Fatalf("ListUsers called %d times for 10 concurrent loads, want 1", n)
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
		t.Fatalf("ListUsers called %d times, want 2 (one refresh after the TTL)", n)
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
	// A lookup the view does not know (a new UserMatch) triggers one search.
	u, err := v.find(ctx, f, eve, all)
	if err != nil || u.DN != "CN=eve" || len(f.searches) != 2 {
		t.Fatalf("new lookup: %+v %v after %d searches", u, err, len(f.searches))
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
