package emulator

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const (
	docUserDelta     = "https://learn.microsoft.com/en-us/graph/api/user-delta"
	docDeltaOverview = "https://learn.microsoft.com/en-us/graph/delta-query-overview"
	docDeltaUsers    = "https://learn.microsoft.com/en-us/graph/delta-query-users"
	// docDeltaTokenDuration: delta links of identity resources live seven
	// days; past that Graph answers BadRequest syncStateNotFound.
	docDeltaTokenDuration = "https://devblogs.microsoft.com/microsoft365dev/duration-of-change-tracking-tokens-for-identity-and-education-resources/"
)

// deltaPage is one page of a delta round.
type deltaPage struct {
	value     []map[string]any
	nextLink  string
	deltaLink string
}

// deltaGet requests a delta URL (a path under /v1.0, or a link the
// emulator gave) as app and returns the page; it fails the test on
// anything but 200.
func (h *harness) deltaGet(app, pathOrLink string) deltaPage {
	h.t.Helper()
	res := h.deltaRaw(app, pathOrLink)
	h.mustStatus(res, http.StatusOK)
	var p deltaPage
	vals, ok := res.body["value"].([]any)
	if !ok {
		h.t.Fatalf("no value array: %s", res.raw)
	}
	for _, v := range vals {
		p.value = append(p.value, v.(map[string]any))
	}
	p.nextLink, _ = res.body["@odata.nextLink"].(string)
	p.deltaLink, _ = res.body["@odata.deltaLink"].(string)
	// "A page can't contain both" (delta-query-overview); one is always there.
	if (p.nextLink == "") == (p.deltaLink == "") {
		h.t.Fatalf("a delta page needs exactly one of nextLink and deltaLink (%s): %s", docDeltaOverview, res.raw)
	}
	return p
}

func (h *harness) deltaRaw(app, pathOrLink string) response {
	h.t.Helper()
	path := strings.TrimPrefix(pathOrLink, h.srv.URL()+"/v1.0")
	return h.graph(app, http.MethodGet, path, nil)
}

// deltaRound follows nextLinks from start to the deltaLink and returns
// every entry, the number of pages and the deltaLink.
func (h *harness) deltaRound(app, start string) ([]map[string]any, int, string) {
	h.t.Helper()
	var all []map[string]any
	link := start
	for pages := 1; ; pages++ {
		p := h.deltaGet(app, link)
		all = append(all, p.value...)
		if p.deltaLink != "" {
			return all, pages, p.deltaLink
		}
		link = p.nextLink
	}
}

// byID indexes entries by id; an id twice is a test failure here (the
// emulator never replays within a round).
func byID(t *testing.T, entries []map[string]any) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, e := range entries {
		id, _ := e["id"].(string)
		if _, dup := out[id]; dup {
			t.Fatalf("id %s twice in one round", id)
		}
		out[id] = e
	}
	return out
}

func keysOf(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func linkQuery(t *testing.T, link string) url.Values {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

// seedUsers adds n users directly (nick prefix, i) with an immutable id each.
func (h *harness) seedUsers(prefix string, n int) []string {
	h.t.Helper()
	ids := make([]string, 0, n)
	for i := 0; i < n; i++ {
		u, err := h.srv.AddUser(User{UserPrincipalName: fmt.Sprintf("%s%03d@%s", prefix, i, testVanity), DisplayName: fmt.Sprintf("%s %d", prefix, i),
			MailNickname: fmt.Sprintf("%s%03d", prefix, i), AccountEnabled: ptr(true), OnPremisesImmutableID: ptr(fmt.Sprintf("%sAnchor%03d", prefix, i))})
		if err != nil {
			h.t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	return ids
}

const deltaSelect = "/users/delta?$select=displayName,onPremisesImmutableId"

func TestUsersDeltaInitialRoundIsPagedToADeltaLink(t *testing.T) {
	h := newHarness(t)
	ids := h.seedUsers("u", 230)
	first := h.deltaGet(readerApp, deltaSelect)
	// The first page is a nextLink page: query options are encoded into the
	// $skiptoken, not repeated (user-delta, "Query parameters").
	q := linkQuery(t, first.nextLink)
	if q.Get("$skiptoken") == "" || len(q) != 1 || len(first.value) != 100 {
		t.Fatalf("first page: %d entries, nextLink %q (%s)", len(first.value), first.nextLink, docUserDelta)
	}
	// Changes during the round do not move its pages: the round is the
	// tenant at its first request.
	late := h.createUser("late", nil)
	h.mustStatus(h.graph(adminApp, http.MethodPatch, "/users/"+ids[229], map[string]any{"displayName": "renamed"}), http.StatusNoContent)

	rest, pages, deltaLink := h.deltaRound(readerApp, first.nextLink)
	all := byID(t, append(first.value, rest...))
	if pages != 2 || len(all) != 230 {
		t.Fatalf("round: %d more pages, %d users; want 2 and 230", pages, len(all))
	}
	if _, ok := all[late]; ok {
		t.Error("a user created during the round showed in it")
	}
	dq := linkQuery(t, deltaLink)
	if dq.Get("$deltatoken") == "" || len(dq) != 1 {
		t.Errorf("deltaLink %q lacks a lone $deltatoken (%s)", deltaLink, docDeltaUsers)
	}
	// A new user is its standard representation: the selected properties
	// and id, always (delta-query-overview; user-delta, "$select").
	want := map[string]any{"id": ids[229], "displayName": "u 229", "onPremisesImmutableId": "uAnchor229"}
	if diff := cmp.Diff(want, all[ids[229]]); diff != "" {
		t.Errorf("entry (-want +got), per %s:\n%s", docDeltaOverview, diff)
	}

	// The next round reports what changed since the round began.
	changes, _, _ := h.deltaRound(readerApp, deltaLink)
	got := byID(t, changes)
	if len(got) != 2 || got[late]["displayName"] != "late" || !cmp.Equal(got[ids[229]], map[string]any{"id": ids[229], "displayName": "renamed"}) {
		t.Errorf("changes after the round = %v", changes)
	}
}

func TestUsersDeltaChanges(t *testing.T) {
	h := newHarness(t)
	ids := h.seedUsers("c", 5)
	_, _, link := h.deltaRound(readerApp, deltaSelect)

	// No change: an empty page with a new deltaLink (delta-query-users,
	// "deltaLink response").
	empty := h.deltaGet(readerApp, link)
	if len(empty.value) != 0 || empty.deltaLink == "" || empty.deltaLink == link {
		t.Fatalf("no change: %d entries, deltaLink %q (%s)", len(empty.value), empty.deltaLink, docDeltaUsers)
	}
	link = empty.deltaLink

	// step acts, then checks the next round against what act says it
	// should report.
	step := func(name string, act func() []map[string]any, doc string) {
		t.Helper()
		want := act()
		got, _, next := h.deltaRound(readerApp, link)
		link = next
		sort.Slice(got, func(i, j int) bool { return got[i]["id"].(string) < got[j]["id"].(string) })
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-want +got), per %s:\n%s", name, doc, diff)
		}
	}
	do := func(method, path string, body any, status int) {
		t.Helper()
		h.mustStatus(h.graph(adminApp, method, path, body), status)
	}
	removed := func(id, reason string) []map[string]any {
		return []map[string]any{{"id": id, "@removed": map[string]any{"reason": reason}}}
	}

	// An update is the id and the changed properties; the emulator sends no
	// unchanged one ("at least the properties that have been updated").
	step("PATCH onPremisesImmutableId", func() []map[string]any {
		do(http.MethodPatch, "/users/"+ids[0], map[string]any{"onPremisesImmutableId": "newAnchor0"}, http.StatusNoContent)
		return []map[string]any{{"id": ids[0], "onPremisesImmutableId": "newAnchor0"}}
	}, docDeltaOverview)
	// A property set to null is included, as null (user-delta, "Alternative:
	// return only the changed properties").
	step("clear onPremisesImmutableId", func() []map[string]any {
		do(http.MethodPatch, "/users/"+ids[1], map[string]any{"onPremisesImmutableId": nil}, http.StatusNoContent)
		return []map[string]any{{"id": ids[1], "onPremisesImmutableId": nil}}
	}, docUserDelta)
	// Only selected properties are tracked (delta-query-users).
	step("change of an unselected property", func() []map[string]any {
		do(http.MethodPatch, "/users/"+ids[2], map[string]any{"jobTitle": "Engineer"}, http.StatusNoContent)
		return nil
	}, docDeltaUsers)
	// A created user is its standard representation.
	step("create", func() []map[string]any {
		id := h.createUser("newcomer", nil)
		return []map[string]any{{"id": id, "displayName": "newcomer", "onPremisesImmutableId": nil}}
	}, docDeltaOverview)
	// A deleted user is its id and @removed, reason changed while it can be
	// restored (delta-query-users, "Initial response").
	step("soft delete", func() []map[string]any {
		do(http.MethodDelete, "/users/"+ids[3], nil, http.StatusNoContent)
		return removed(ids[3], "changed")
	}, docDeltaUsers)
	// Purged afterwards: removed again, for good.
	step("purge after soft delete", func() []map[string]any {
		do(http.MethodDelete, "/directory/deletedItems/"+ids[3], nil, http.StatusNoContent)
		return removed(ids[3], "deleted")
	}, docDeltaUsers)
	// Deleted and purged within one interval: reason deleted.
	step("delete and purge", func() []map[string]any {
		do(http.MethodDelete, "/users/"+ids[4], nil, http.StatusNoContent)
		do(http.MethodDelete, "/directory/deletedItems/"+ids[4], nil, http.StatusNoContent)
		return removed(ids[4], "deleted")
	}, docDeltaUsers)
	// Restored from deleted items: the user again, in full, without
	// annotation (delta-query-users).
	step("soft delete before restore", func() []map[string]any {
		do(http.MethodDelete, "/users/"+ids[2], nil, http.StatusNoContent)
		return removed(ids[2], "changed")
	}, docDeltaUsers)
	step("restore", func() []map[string]any {
		do(http.MethodPost, "/directory/deletedItems/"+ids[2]+"/restore", nil, http.StatusOK)
		return []map[string]any{{"id": ids[2], "displayName": "c 2", "onPremisesImmutableId": "cAnchor002"}}
	}, docDeltaUsers)
}

// The $select of the first request is carried by the state tokens; a
// request with a state token cannot change it (delta-query-users:
// "Subsequent requests can't be modified").
func TestUsersDeltaSelectIsCarriedByTheToken(t *testing.T) {
	h := newHarness(t)
	ids := h.seedUsers("s", 2)
	_, _, link := h.deltaRound(readerApp, "/users/delta?$select=displayName")
	h.mustStatus(h.graph(adminApp, http.MethodPatch, "/users/"+ids[0], map[string]any{"displayName": "S zero", "onPremisesImmutableId": "other0"}), http.StatusNoContent)
	got := h.deltaGet(readerApp, link)
	if len(got.value) != 1 || !cmp.Equal(keysOf(got.value[0]), []string{"displayName", "id"}) {
		t.Errorf("deltaLink round of $select=displayName = %v (%s)", got.value, docUserDelta)
	}
	res := h.deltaRaw(readerApp, got.deltaLink+"&$select=onPremisesImmutableId")
	if res.status != http.StatusBadRequest || res.errorCode() != codeBadRequest {
		t.Errorf("state token with $select: %d %s (%s)", res.status, res.raw, docDeltaUsers)
	}
	// Without $select the default property set is tracked and returned.
	entries, _, _ := h.deltaRound(readerApp, "/users/delta")
	if want := []string{"businessPhones", "displayName", "givenName", "id", "jobTitle", "mail", "mobilePhone", "officeLocation",
		"preferredLanguage", "surname", "userPrincipalName"}; len(entries) != 2 || !cmp.Equal(keysOf(entries[0]), want) {
		t.Errorf("default properties %v, want %v (%s)", keysOf(entries[0]), want, docUserDelta)
	}
}

// "$deltatoken=latest" answers a deltaLink and no resource data
// (delta-query-overview: directory resources support "sync from now").
func TestUsersDeltaLatest(t *testing.T) {
	h := newHarness(t)
	ids := h.seedUsers("l", 3)
	now := h.deltaGet(readerApp, "/users/delta?$deltatoken=latest&$select=onPremisesImmutableId")
	if len(now.value) != 0 || now.deltaLink == "" {
		t.Fatalf("latest: %v (%s)", now.value, docDeltaOverview)
	}
	h.mustStatus(h.graph(adminApp, http.MethodPatch, "/users/"+ids[1], map[string]any{"onPremisesImmutableId": "moved1"}), http.StatusNoContent)
	got := h.deltaGet(readerApp, now.deltaLink)
	if want := []map[string]any{{"id": ids[1], "onPremisesImmutableId": "moved1"}}; !cmp.Equal(got.value, want) {
		t.Errorf("after latest: %v, want %v", got.value, want)
	}
}

// Tokens the emulator does not hold (unknown, malformed, evicted, or
// older than seven days) answer Graph's 400 syncStateNotFound.
func TestUsersDeltaExpiredOrUnknownToken(t *testing.T) {
	h := newHarness(t)
	h.seedUsers("e", 1)
	_, _, link := h.deltaRound(readerApp, "/users/delta")
	bad := func(name, path, doc string) {
		t.Helper()
		res := h.deltaRaw(readerApp, path)
		if res.status != http.StatusBadRequest || res.errorCode() != "syncStateNotFound" {
			t.Errorf("%s: %d %s, want 400 syncStateNotFound (%s)", name, res.status, res.raw, doc)
		}
	}
	bad("unknown deltatoken", "/users/delta?$deltatoken=nope", docErrors)
	bad("unknown skiptoken", "/users/delta?$skiptoken=nope.100", docErrors)

	// Access tokens live an hour: fetch new ones after moving the clock.
	h.clock.Advance(7*24*time.Hour - time.Minute)
	h.tokens = map[string]string{}
	if p := h.deltaGet(readerApp, link); len(p.value) != 0 {
		t.Errorf("within seven days: %v", p.value)
	}
	h.clock.Advance(2 * time.Minute)
	h.tokens = map[string]string{}
	bad("older than seven days", link, docDeltaTokenDuration)

	// The emulator keeps 64 state tokens; the least recently used go first.
	_, _, oldest := h.deltaRound(readerApp, "/users/delta")
	for i := 0; i < 64; i++ {
		h.deltaGet(readerApp, "/users/delta?$deltatoken=latest")
	}
	bad("evicted", oldest, docDeltaOverview)
}

func TestUsersDeltaQueryOptions(t *testing.T) {
	h := newHarness(t)
	ids := h.seedUsers("q", 3)
	tests := []struct {
		name, path string
		status     int
		code       string
		doc        string
	}{
		{"$top", "/users/delta?$top=2", 400, codeUnsupportedQuery, docDeltaOverview},
		{"$orderby", "/users/delta?$orderby=displayName", 400, codeUnsupportedQuery, docDeltaOverview},
		{"$expand", "/users/delta?$expand=manager", 400, codeUnsupportedQuery, docDeltaOverview},
		{"$filter on another property", "/users/delta?$filter=" + url.QueryEscape("displayName eq 'q 1'"), 400, codeUnsupportedQuery, docUserDelta},
		{"$filter id ne", "/users/delta?$filter=" + url.QueryEscape("id ne '"+ids[0]+"'"), 400, codeUnsupportedQuery, docUserDelta},
		{"$count", "/users/delta?$count=true", 400, codeBadRequestPlain, docUserDelta},
		{"unknown $select", "/users/delta?$select=favouriteColour", 400, codeBadRequestPlain, docUserDelta},
		{"both tokens", "/users/delta?$deltatoken=a&$skiptoken=b", 400, codeBadRequest, docUserDelta},
		{"fully qualified name", "/users/microsoft.graph.delta", 200, "", docDeltaOverview},
		{"function call syntax (msgraph-sdk-go)", "/users/delta()", 200, "", docDeltaOverview},
		{"fully qualified call", "/users/microsoft.graph.delta()?$select=id", 200, "", docDeltaOverview},
		{"wrong method", "/users/delta", 405, codeMethodNotAllowed, docUserDelta},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := http.MethodGet
			if tt.status == 405 {
				method = http.MethodPost
			}
			res := h.graph(readerApp, method, tt.path, nil)
			if res.status != tt.status || res.errorCode() != tt.code {
				t.Errorf("got %d %s, want %d %s (%s)", res.status, res.raw, tt.status, tt.code, tt.doc)
			}
		})
	}

	// $filter on ids scopes the round to those users, up to 50 of them.
	filter := url.QueryEscape("id eq '" + ids[0] + "' or id eq '" + ids[2] + "'")
	entries, _, link := h.deltaRound(readerApp, "/users/delta?$select=displayName&$filter="+filter)
	if got := byID(t, entries); len(got) != 2 || got[ids[0]] == nil || got[ids[2]] == nil {
		t.Errorf("filtered round: %v (%s)", entries, docUserDelta)
	}
	h.mustStatus(h.graph(adminApp, http.MethodPatch, "/users/"+ids[1], map[string]any{"displayName": "outside"}), http.StatusNoContent)
	if p := h.deltaGet(readerApp, link); len(p.value) != 0 {
		t.Errorf("a change outside the filter showed: %v", p.value)
	}
	var many []string
	for i := 0; i < 51; i++ {
		many = append(many, fmt.Sprintf("id eq '%08d-0000-4000-8000-000000000000'", i))
	}
	res := h.graph(readerApp, http.MethodGet, "/users/delta?$filter="+url.QueryEscape(strings.Join(many, " or ")), nil)
	if res.status != 400 || res.errorCode() != codeUnsupportedQuery {
		t.Errorf("51 ids: %d %s (%s: limit of 50)", res.status, res.raw, docUserDelta)
	}
}

// User.Read.All is the least privileged permission; an app without a
// user-read permission gets 403 (user-delta, "Permissions").
func TestUsersDeltaPermissions(t *testing.T) {
	h := newHarness(t, withApp(App{ClientID: paaApp, Secret: testSecret, Permissions: []string{"Domain.Read.All", "Organization.Read.All"}}))
	for _, tt := range []struct {
		app    string
		status int
	}{{readerApp, 200}, {adminApp, 200}, {paaApp, 403}, {noPermApp, 403}} {
		res := h.graph(tt.app, http.MethodGet, "/users/delta", nil)
		if res.status != tt.status {
			t.Errorf("app %s: %d %s, want %d (%s)", tt.app, res.status, res.raw, tt.status, docUserDelta)
		}
		if tt.status == 403 && res.errorCode() != codeAuthorizationDenied {
			t.Errorf("app %s: code %s", tt.app, res.errorCode())
		}
	}
}
