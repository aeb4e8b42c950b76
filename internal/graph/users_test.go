package graph

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/entramatch/entra-match-operator/internal/cloud"
)

const (
	docUserGet  = "https://learn.microsoft.com/graph/api/user-get"
	docUserList = "https://learn.microsoft.com/graph/api/user-list"
	docPaging   = "https://learn.microsoft.com/graph/paging"
)

func selectedOf(t *testing.T, rawQuery string) []string {
	t.Helper()
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(q.Get("$select"), ",")
}

func TestGetUserSelectsOnPremisesProperties(t *testing.T) {
	f := newFakeCloud(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{
			"id": "u1", "userPrincipalName": "a@contoso.com", "displayName": "A", "mail": "a@contoso.com",
			"proxyAddresses": []string{"SMTP:a@contoso.com"}, "onPremisesImmutableId": "BpazOkLGm0iEtljAONPvOQ==",
			"onPremisesSyncEnabled": true, "onPremisesLastSyncDateTime": "2026-01-02T03:04:05Z",
			"onPremisesDistinguishedName": "CN=A,DC=corp", "onPremisesUserPrincipalName": "a@corp.example",
			"onPremisesObjectIdentifier": "oid-1",
		})
	})
	u, err := f.client(nil).GetUser(context.Background(), "a@contoso.com")
	if err != nil {
		t.Fatal(err)
	}
	if !u.Synced() || u.OnPremisesLastSyncDateTime == nil || u.OnPremisesLastSyncDateTime.Year() != 2026 {
		t.Errorf("sync fields not read: %+v", u)
	}
	u.OnPremisesSyncEnabled, u.OnPremisesLastSyncDateTime = nil, nil
	want := cloud.User{
		ID: "u1", UserPrincipalName: "a@contoso.com", DisplayName: "A", Mail: "a@contoso.com",
		ProxyAddresses: []string{"SMTP:a@contoso.com"}, OnPremisesImmutableID: "BpazOkLGm0iEtljAONPvOQ==",
		OnPremisesDistinguishedName: "CN=A,DC=corp", OnPremisesUserPrincipalName: "a@corp.example", OnPremisesObjectIdentifier: "oid-1",
	}
	if diff := cmp.Diff(want, u); diff != "" {
		t.Errorf("user mismatch (-want +got):\n%s", diff)
	}
	reqs := f.recorded()
	if len(reqs) != 1 || reqs[0].Path != "/users/a@contoso.com" {
		t.Fatalf("requests = %+v", reqs)
	}
	sel := selectedOf(t, reqs[0].Query)
	for _, p := range []string{"onPremisesImmutableId", "onPremisesSyncEnabled", "onPremisesLastSyncDateTime",
		"onPremisesDistinguishedName", "onPremisesUserPrincipalName", "onPremisesObjectIdentifier", "proxyAddresses", "mail"} {
		if !contains(sel, p) {
			t.Errorf("$select %v lacks %s (doc: %s)", sel, p, docUserGet)
		}
	}
}

// When v1.0 refuses onPremisesObjectIdentifier (a beta property), the client
// retries without it and stops asking for it.
func TestObjectIdentifierFallback(t *testing.T) {
	f := newFakeCloud(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.RawQuery, "onPremisesObjectIdentifier") {
			graphError(w, 400, "BadRequest", "Parsing OData Select and Expand failed: Could not find a property named 'onPremisesObjectIdentifier' on type 'microsoft.graph.user'.")
			return
		}
		writeJSON(w, 200, map[string]any{"id": "u1"})
	})
	c := f.client(nil)
	for i := 0; i < 2; i++ {
		if u, err := c.GetUser(context.Background(), "u1"); err != nil || u.ID != "u1" {
			t.Fatalf("GetUser #%d = %+v, %v", i, u, err)
		}
	}
	if n := len(f.recorded()); n != 3 {
		t.Errorf("Graph saw %d requests, want 3 (refused, retried, then no longer asked)", n)
	}
}

func TestUsersByImmutableIDIsAnAdvancedQuery(t *testing.T) {
	f := newFakeCloud(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"@odata.count": 1, "value": []any{map[string]any{"id": "u1", "onPremisesImmutableId": "it's"}}})
	})
	users, err := f.client(nil).UsersByImmutableID(context.Background(), "it's")
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 1 || users[0].ID != "u1" {
		t.Fatalf("users = %+v", users)
	}
	r := f.recorded()[0]
	q, _ := url.ParseQuery(r.Query)
	if got, want := q.Get("$filter"), "onPremisesImmutableId eq 'it''s'"; got != want {
		t.Errorf("$filter = %q, want %q (doc: %s)", got, want, docUserList)
	}
	if q.Get("$count") != "true" || r.Header.Get("ConsistencyLevel") != "eventual" {
		t.Errorf("advanced query needs $count=true and ConsistencyLevel: eventual; got query %q header %q (doc: %s)", r.Query, r.Header.Get("ConsistencyLevel"), docAdvanced)
	}
}

func TestListsFollowNextLink(t *testing.T) {
	var f *fakeCloud
	f = newFakeCloud(t, func(w http.ResponseWriter, r *http.Request) {
		page := r.URL.Query().Get("$skiptoken")
		switch page {
		case "":
			writeJSON(w, 200, map[string]any{
				"value":           []any{map[string]any{"id": "u1"}, map[string]any{"id": "u2"}},
				"@odata.nextLink": f.srv.URL + "/v1.0/users?$skiptoken=p2",
			})
		case "p2":
			if r.Header.Get("ConsistencyLevel") != "eventual" {
				graphError(w, 400, "Request_UnsupportedQuery", "ConsistencyLevel header missing on the next page")
				return
			}
			writeJSON(w, 200, map[string]any{"value": []any{map[string]any{"id": "u3"}}})
		}
	})
	users, err := f.client(nil).UsersByImmutableID(context.Background(), "x")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, u := range users {
		ids = append(ids, u.ID)
	}
	if diff := cmp.Diff([]string{"u1", "u2", "u3"}, ids); diff != "" {
		t.Errorf("ids (-want +got), doc %s:\n%s", docPaging, diff)
	}
}

func TestNextLinkOffEndpointIsRefused(t *testing.T) {
	f := newFakeCloud(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"value": []any{}, "@odata.nextLink": "https://evil.example/v1.0/domains?$skiptoken=x"})
	})
	_, err := f.client(nil).Domains(context.Background())
	if cloud.ClassOf(err) != cloud.ClassInvalid {
		t.Fatalf("class = %s, want Invalid (err %v)", cloud.ClassOf(err), err)
	}
}

func TestNextLinkLoopIsCut(t *testing.T) {
	var f *fakeCloud
	f = newFakeCloud(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"value": []any{}, "@odata.nextLink": f.srv.URL + "/v1.0/domains?$skiptoken=same"})
	})
	_, err := f.client(nil).Domains(context.Background())
	if err == nil {
		t.Fatal("want an error for a repeating nextLink")
	}
	if n := len(f.recorded()); n > 3 {
		t.Errorf("followed a repeating nextLink %d times", n)
	}
}

func TestSetImmutableIDBody(t *testing.T) {
	tests := []struct {
		name  string
		value *string
		want  string
	}{
		{"set", ptr("BpazOkLGm0iEtljAONPvOQ=="), `{"onPremisesImmutableId":"BpazOkLGm0iEtljAONPvOQ=="}`},
		{"clear with JSON null", nil, `{"onPremisesImmutableId":null}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeCloud(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
			if err := f.client(nil).SetImmutableID(context.Background(), "u1", tt.value); err != nil {
				t.Fatal(err)
			}
			r := f.recorded()[0]
			if r.Method != http.MethodPatch || r.Path != "/users/u1" {
				t.Errorf("request = %s %s, want PATCH /users/u1", r.Method, r.Path)
			}
			if got := string(r.Body); got != tt.want {
				t.Errorf("body = %s, want %s (doc: %s)", got, tt.want, docUserUpdate)
			}
			if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type = %q", ct)
			}
		})
	}
}

func TestDeletedUsersUsesTheCast(t *testing.T) {
	f := newFakeCloud(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1.0/directory/deletedItems/microsoft.graph.user" {
			graphError(w, 400, "Request_BadRequest", fmt.Sprintf("unexpected path %s", r.URL.Path))
			return
		}
		writeJSON(w, 200, map[string]any{"value": []any{map[string]any{"id": "d1", "deletedDateTime": "2026-02-03T04:05:06Z", "userPrincipalName": "x@contoso.com"}}})
	})
	got, err := f.client(nil).DeletedUsers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != "d1" || got[0].DeletedDateTime == nil || got[0].DeletedDateTime.Month() != 2 {
		t.Fatalf("deleted users = %+v", got)
	}
	if sel := selectedOf(t, f.recorded()[0].Query); !contains(sel, "deletedDateTime") || !contains(sel, "onPremisesImmutableId") {
		t.Errorf("$select = %v", sel)
	}
}

func TestEmptyArgumentsAreInvalidWithoutACall(t *testing.T) {
	f := newFakeCloud(t, func(w http.ResponseWriter, r *http.Request) { t.Error("no request expected") })
	c := f.client(nil)
	ctx := context.Background()
	_, e1 := c.GetUser(ctx, "")
	_, e2 := c.UsersByImmutableID(ctx, "")
	e3 := c.SetImmutableID(ctx, "", nil)
	e4 := c.DeleteUser(ctx, "")
	e5 := c.PurgeDeletedItem(ctx, "")
	_, e6 := c.RoleAssignments(ctx, "")
	_, e7 := c.CreateRoleAssignment(ctx, cloud.RoleAssignment{})
	e8 := c.DeleteRoleAssignment(ctx, "")
	_, e9 := c.RoleEligibilities(ctx, "")
	e10 := c.AssignEligibility(ctx, cloud.RoleEligibility{}, "")
	e11 := c.RemoveEligibility(ctx, cloud.RoleEligibility{}, "")
	_, e12 := c.SyncSettings(ctx, "")
	e13 := c.UpdateSyncSettings(ctx, cloud.SyncSettings{})
	for i, err := range []error{e1, e2, e3, e4, e5, e6, e7, e8, e9, e10, e11, e12, e13} {
		if cloud.ClassOf(err) != cloud.ClassInvalid {
			t.Errorf("call %d: class = %q, want Invalid (err %v)", i+1, cloud.ClassOf(err), err)
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Graph does not carry ConsistencyLevel over to the next page of an
// advanced query: the header must be sent with every page
// (https://learn.microsoft.com/graph/aad-advanced-queries), and
// @odata.count comes on the first page only.
func TestAdvancedQuerySendsConsistencyLevelOnEveryPage(t *testing.T) {
	var f *fakeCloud
	f = newFakeCloud(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("ConsistencyLevel") != "eventual" {
			graphError(w, 400, "Request_UnsupportedQuery", "Unsupported or invalid query filter clause specified for property 'onPremisesImmutableId' of resource 'User'.")
			return
		}
		switch r.URL.Query().Get("page") {
		case "":
			writeJSON(w, 200, map[string]any{"@odata.count": 3, "value": []any{map[string]any{"id": "u1", "onPremisesImmutableId": "A"}},
				"@odata.nextLink": f.srv.URL + "/v1.0/users?page=2&$filter=x"})
		case "2":
			writeJSON(w, 200, map[string]any{"value": []any{map[string]any{"id": "u2", "onPremisesImmutableId": "A"}},
				"@odata.nextLink": f.srv.URL + "/v1.0/users?page=3&$filter=x"})
		default:
			writeJSON(w, 200, map[string]any{"value": []any{map[string]any{"id": "u3", "onPremisesImmutableId": "A"}}})
		}
	})
	got, err := f.client(nil).UsersByImmutableID(context.Background(), "A")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("got %d users over three pages, want 3", len(got))
	}
	pages := 0
	for _, r := range f.recorded() {
		if r.Path == "/users" {
			pages++
			if r.Header.Get("ConsistencyLevel") != "eventual" {
				t.Errorf("page %s sent without ConsistencyLevel", r.Query)
			}
		}
	}
	if pages != 3 {
		t.Errorf("%d pages requested, want 3", pages)
	}
}
