package graph

import (
	"context"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/entramatch/entra-match-operator/internal/cloud"
)

const (
	docUserDelta = "https://learn.microsoft.com/graph/api/user-delta"
	// docDeltaOverview: delta query, its token duration and resets.
	docDeltaOverview = "https://learn.microsoft.com/graph/delta-query-overview"
)

// A round follows the nextLink to the deltaLink; an entry's Present set is
// what the JSON carried, a JSON null included (the SDK model alone would
// drop it), and @removed reasons tell soft from permanent deletion.
func TestUsersDeltaReadsPresenceAndRemovals(t *testing.T) {
	var f *fakeCloud
	f = newFakeCloud(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("$skiptoken") == "" {
			writeJSON(w, 200, map[string]any{
				"@odata.nextLink": f.srv.URL + "/v1.0/users/delta?$skiptoken=p2",
				"value": []map[string]any{{
					"id": "u1", "userPrincipalName": "a@contoso.com", "displayName": "A", "onPremisesImmutableId": "anchorA",
					"onPremisesSyncEnabled": nil, "proxyAddresses": []string{"SMTP:a@contoso.com"},
				}},
			})
			return
		}
		writeJSON(w, 200, map[string]any{
			"@odata.deltaLink": f.srv.URL + "/v1.0/users/delta?$deltatoken=d1",
			"value": []map[string]any{
				{"id": "u1", "onPremisesImmutableId": nil},
				{"id": "u2", "@removed": map[string]any{"reason": "changed"}},
				{"id": "u3", "@removed": map[string]any{"reason": "deleted"}},
			},
		})
	})
	obs := &recordingObserver{}
	changes, link, err := f.client(obs).UsersDelta(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if link != f.srv.URL+"/v1.0/users/delta?$deltatoken=d1" || len(changes) != 4 {
		t.Fatalf("link %q, %d changes", link, len(changes))
	}
	full := changes[0]
	if want := map[string]bool{"id": true, "userPrincipalName": true, "displayName": true, "onPremisesImmutableId": true,
		"onPremisesSyncEnabled": true, "proxyAddresses": true}; !cmp.Equal(full.Present, want) {
		t.Errorf("Present of a full entry = %v", full.Present)
	}
	if full.User.OnPremisesImmutableID != "anchorA" || full.User.UserPrincipalName != "a@contoso.com" || len(full.User.ProxyAddresses) != 1 {
		t.Errorf("full entry = %+v", full.User)
	}
	// A null clears: present, zero value; merging keeps what was absent.
	cleared := changes[1]
	if !cmp.Equal(cleared.Present, map[string]bool{"id": true, "onPremisesImmutableId": true}) {
		t.Errorf("Present of an update = %v (%s)", cleared.Present, docUserDelta)
	}
	merged := cleared.Merge(full.Merge(cloud.User{}))
	if merged.OnPremisesImmutableID != "" || merged.UserPrincipalName != "a@contoso.com" || merged.DisplayName != "A" {
		t.Errorf("merged = %+v", merged)
	}
	if c := changes[2]; !c.Removed || c.Permanent || c.User.ID != "u2" {
		t.Errorf("soft delete = %+v", c)
	}
	if c := changes[3]; !c.Removed || !c.Permanent || c.User.ID != "u3" {
		t.Errorf("permanent delete = %+v", c)
	}

	reqs := f.recorded()
	if len(reqs) != 2 {
		t.Fatalf("%d requests", len(reqs))
	}
	// $select goes in the first request only; both ask for minimal answers.
	if sel := selectedOf(t, reqs[0].Query); !contains(sel, "onPremisesImmutableId") || !contains(sel, "proxyAddresses") {
		t.Errorf("first request $select = %v", sel)
	}
	if reqs[1].Query != "$skiptoken=p2" {
		t.Errorf("nextLink request query %q, want the link as given", reqs[1].Query)
	}
	for _, r := range reqs {
		if r.Header.Get("Prefer") != "return=minimal" {
			t.Errorf("%s %s: Prefer %q (%s)", r.Method, r.Path, r.Header.Get("Prefer"), docUserDelta)
		}
	}
	pages := 0
	for _, o := range obs.all() {
		switch o.Op {
		case "UsersDelta":
			pages++
		case OpAcquireToken:
		default:
			t.Errorf("observed op %q", o.Op)
		}
	}
	if pages != 2 {
		t.Errorf("observed %d UsersDelta requests, want 2", pages)
	}
}

func TestUsersDeltaFailures(t *testing.T) {
	f := newFakeCloud(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("$deltatoken") {
		case "gone":
			w.Header().Set("Location", "https://graph.microsoft.com/v1.0/users/delta?$deltatoken=")
			graphError(w, http.StatusGone, "", "")
		case "loop":
			writeJSON(w, 200, map[string]any{"value": []any{}, "@odata.nextLink": "https://" + r.Host + r.URL.RequestURI()})
		case "bare":
			writeJSON(w, 200, map[string]any{"value": []any{}})
		default:
			graphError(w, http.StatusBadRequest, "syncStateNotFound", "The sync state generation is not found.")
		}
	})
	c := f.client(nil)
	ctx := context.Background()
	base := f.srv.URL + "/v1.0/users/delta?$deltatoken="
	tests := []struct {
		name string
		link string
		want cloud.Class
	}{
		{"expired token", base + "old", cloud.ClassDeltaExpired},
		{"410 resync", base + "gone", cloud.ClassDeltaExpired},
		{"nextLink repeats", base + "loop", cloud.ClassTransient},
		{"no link at all", base + "bare", cloud.ClassTransient},
		{"link off the Graph endpoint", "https://example.org/v1.0/users/delta?$deltatoken=x", cloud.ClassInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := c.UsersDelta(ctx, tt.link)
			if cloud.ClassOf(err) != tt.want || cloud.IsDeltaExpired(err) != (tt.want == cloud.ClassDeltaExpired) {
				t.Errorf("err = %v, want class %s", err, tt.want)
			}
		})
	}
	for _, r := range f.recorded() {
		if r.Query == "$deltatoken=x" {
			t.Error("a deltaLink off the Graph endpoint was requested")
		}
	}
}
