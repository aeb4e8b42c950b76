package graph_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/entramatch/entra-match-operator/internal/cloud"
	"github.com/entramatch/entra-match-operator/internal/emulator"
	"github.com/entramatch/entra-match-operator/internal/testenv/entra"
)

const (
	docUserDelta     = "https://learn.microsoft.com/graph/api/user-delta"
	docDeltaOverview = "https://learn.microsoft.com/graph/delta-query-overview"
)

// settableClock is the emulator clock of a test.
type settableClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *settableClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *settableClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// applyDelta merges a round into a cache of users the way a caller must:
// removals drop the user, other entries merge their present properties.
func applyDelta(cache map[string]cloud.User, changes []cloud.UserChange) {
	for _, ch := range changes {
		if ch.Removed {
			delete(cache, ch.User.ID)
			continue
		}
		cache[ch.User.ID] = ch.Merge(cache[ch.User.ID])
	}
}

func sortedUsers(m map[string]cloud.User) []cloud.User {
	out := make([]cloud.User, 0, len(m))
	for _, u := range m {
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// listedUsers is ListUsers sorted by id, the reference a delta cache must equal.
func listedUsers(t *testing.T, c cloud.Client) []cloud.User {
	t.Helper()
	us, err := c.ListUsers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(us, func(i, j int) bool { return us[i].ID < us[j].ID })
	return us
}

// A full round and then a round of changes, merged into a cache, give what
// ListUsers reads; an expired or unknown deltaLink is ClassDeltaExpired and
// a new full round recovers.
func TestEmulatorUsersDelta(t *testing.T) {
	clock := &settableClock{now: time.Now().UTC().Truncate(time.Second)}
	env := entra.Start(t, entra.WithEmulatorConfig(func(c *emulator.Config) { c.Clock = clock.Now }))
	obs := &opRecorder{}
	cfg := env.GraphConfig()
	cfg.Observer = obs
	c := newClient(t, cfg)
	ctx := context.Background()

	const n = 150 // two pages of the emulator's 100
	var ids []string
	for i := 0; i < n; i++ {
		u := addUser(t, env, emulator.User{UserPrincipalName: fmt.Sprintf("d%03d@contoso.com", i), DisplayName: fmt.Sprintf("D %d", i),
			MailNickname: fmt.Sprintf("d%03d", i), AccountEnabled: bp(true), OnPremisesImmutableID: sp(fmt.Sprintf("anchor%03d", i)),
			Mail: sp(fmt.Sprintf("d%03d@contoso.com", i)), ProxyAddresses: []string{fmt.Sprintf("SMTP:d%03d@contoso.com", i)}})
		ids = append(ids, u.ID)
	}

	changes, link, err := c.UsersDelta(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != n || link == "" || obs.count("UsersDelta", 200) != 2 {
		t.Fatalf("full round: %d changes in %d pages, deltaLink %q", len(changes), obs.count("UsersDelta", 200), link)
	}
	cache := map[string]cloud.User{}
	applyDelta(cache, changes)
	if diff := cmp.Diff(listedUsers(t, c), sortedUsers(cache)); diff != "" {
		t.Fatalf("cache after the full round (-ListUsers +delta):\n%s", diff)
	}

	// Changes: a new anchor, a cleared one, a rename, a new user, a soft
	// delete and a permanent one.
	if err := c.SetImmutableID(ctx, ids[0], sp("moved000")); err != nil {
		t.Fatal(err)
	}
	if err := c.SetImmutableID(ctx, ids[1], nil); err != nil {
		t.Fatal(err)
	}
	if err := c.SetUserPrincipalName(ctx, ids[2], "renamed002@contoso.com"); err != nil {
		t.Fatal(err)
	}
	added := addUser(t, env, emulator.User{UserPrincipalName: "newcomer@contoso.com", DisplayName: "Newcomer", MailNickname: "newcomer",
		AccountEnabled: bp(true), EmployeeID: sp("E-1")})
	if err := c.DeleteUser(ctx, ids[3]); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteUser(ctx, ids[4]); err != nil {
		t.Fatal(err)
	}
	if err := c.PurgeDeletedItem(ctx, ids[4]); err != nil {
		t.Fatal(err)
	}

	changes, link, err = c.UsersDelta(ctx, link)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]cloud.UserChange{}
	for _, ch := range changes {
		got[ch.User.ID] = ch
	}
	if len(got) != 6 {
		t.Fatalf("%d changes, want 6: %+v", len(got), changes)
	}
	// The emulator sends an update as its id and the changed properties only.
	if p := got[ids[0]].Present; !cmp.Equal(p, map[string]bool{"id": true, "onPremisesImmutableId": true}) {
		t.Errorf("anchor change carried %v (%s)", p, docDeltaOverview)
	}
	if ch := got[ids[1]]; !ch.Has(cloud.PropOnPremisesImmutableID) || ch.User.OnPremisesImmutableID != "" {
		t.Errorf("cleared anchor = %+v (%s: a property set to null is included)", ch, docUserDelta)
	}
	if ch := got[ids[3]]; !ch.Removed || ch.Permanent {
		t.Errorf("soft-deleted user = %+v, want removed, restorable", ch)
	}
	if ch := got[ids[4]]; !ch.Removed || !ch.Permanent {
		t.Errorf("purged user = %+v, want removed permanently", ch)
	}
	if ch := got[added.ID]; ch.Removed || ch.User.EmployeeID != "E-1" || !ch.Has(cloud.PropOnPremisesImmutableID) {
		t.Errorf("new user = %+v, want it whole", ch)
	}
	applyDelta(cache, changes)
	if diff := cmp.Diff(listedUsers(t, c), sortedUsers(cache)); diff != "" {
		t.Errorf("cache after merging the changes (-ListUsers +delta):\n%s", diff)
	}

	// Nothing changed: no entries, a new deltaLink.
	none, again, err := c.UsersDelta(ctx, link)
	if err != nil || len(none) != 0 || again == "" {
		t.Fatalf("no change: %d entries, %q, %v", len(none), again, err)
	}

	// Unknown and expired links (seven days for directory objects) ask for
	// a full round.
	if _, _, err := c.UsersDelta(ctx, env.URL+"/v1.0/users/delta?$deltatoken=unknown"); !cloud.IsDeltaExpired(err) {
		t.Errorf("unknown token: %v", err)
	}
	clock.Advance(8 * 24 * time.Hour)
	// The old client's access token has expired on the emulator clock.
	c = newClient(t, cfg)
	if _, _, err := c.UsersDelta(ctx, again); !cloud.IsDeltaExpired(err) || classOf(t, err) != cloud.ClassDeltaExpired {
		t.Fatalf("expired token: %v (%s, token duration)", err, docDeltaOverview)
	}
	restart, _, err := c.UsersDelta(ctx, "")
	if err != nil || len(restart) != len(cache) {
		t.Fatalf("full round after expiry: %d entries, %v", len(restart), err)
	}
}
