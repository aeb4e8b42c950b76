package emulator

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/entramatch/entra-match-operator/internal/emulator/faults"
)

// Throttling follows
// https://learn.microsoft.com/en-us/graph/throttling-limits#identity-and-access-service-limits
// and batching https://learn.microsoft.com/en-us/graph/json-batching.

func withThrottle(p ThrottleProfile, scale float64) harnessOpt {
	return func(c *Config) { c.Throttle, c.TimeScale = p, scale }
}

// sameRequestID checks that an error names the request-id of its response.
func sameRequestID(t *testing.T, res response) {
	t.Helper()
	e, _ := res.body["error"].(map[string]any)
	inner, _ := e["innerError"].(map[string]any)
	if id := res.header.Get("request-id"); id == "" || inner["request-id"] != id {
		t.Errorf("request-id header %q, innerError %v", id, inner["request-id"])
	}
	if inner["client-request-id"] != res.header.Get("client-request-id") {
		t.Errorf("client-request-id header %q, innerError %v", res.header.Get("client-request-id"), inner["client-request-id"])
	}
}

func TestThrottling(t *testing.T) {
	// doc: docThrottling. Small tenant, time scale 100: 35 RU per 100 ms. The
	// harness clock stands still, so nothing refills until the test moves it.
	h := newHarness(t, withThrottle(ThrottleSmall, 100))
	id := h.createUser("throttled", nil) // 1 RU + 1 write
	get := "/users/" + id                // 1 RU
	for i := 0; i < 34; i++ {
		res := h.graph(readerApp, http.MethodGet, get, nil)
		h.mustStatus(res, http.StatusOK)
		if i == 0 && res.header.Get("x-ms-resource-unit") != "1" {
			t.Errorf("x-ms-resource-unit = %q", res.header.Get("x-ms-resource-unit"))
		}
	}
	res := h.graph(readerApp, http.MethodGet, "/users", nil) // 2 RU, 1 left
	if res.status != http.StatusTooManyRequests || res.errorCode() != "TooManyRequests" {
		t.Fatalf("want 429 TooManyRequests, got %d %s", res.status, res.raw)
	}
	want := map[string]string{
		"Retry-After":               "1",
		"X-Ms-Throttle-Scope":       "Tenant_Application/ReadWrite/" + readerApp + "/" + testTenant,
		"X-Ms-Throttle-Information": "ResourceUnitLimitExceeded",
		"X-Ms-Resource-Unit":        "2",
	}
	got := map[string]string{}
	for k := range want {
		got[k] = res.header.Get(k)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("429 headers (-want +got):\n%s", diff)
	}
	sameRequestID(t, res)
	// Each app has its own bucket; the throttled one recovers once time moves on.
	h.mustStatus(h.graph(adminApp, http.MethodGet, "/users", nil), http.StatusOK)
	h.clock.Advance(time.Second)
	h.mustStatus(h.graph(readerApp, http.MethodGet, "/users", nil), http.StatusOK)
}

func TestThrottlingAutoFollowsTenantSize(t *testing.T) {
	// doc: docThrottling (S < 50 users: 3,500 RU; M 50-500: 5,000 RU per 10 s)
	h := newHarness(t, withThrottle(ThrottleAuto, 100))
	used := func(app string) int {
		n := 0
		for ; n < 100; n++ {
			if res := h.graph(app, http.MethodGet, "/organization", nil); res.status == http.StatusTooManyRequests {
				return n
			}
		}
		return n
	}
	if n := used(readerApp); n != 35 {
		t.Errorf("small tenant allowed %d RU, want 35", n)
	}
	for i := 0; i < 60; i++ {
		if _, err := h.srv.AddUser(User{UserPrincipalName: "m" + itoa(i) + "@" + testVanity, DisplayName: "m", MailNickname: "m" + itoa(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if n := used(adminApp); n != 50 {
		t.Errorf("medium tenant allowed %d RU, want 50", n)
	}
}

func TestThrottlingOffByDefault(t *testing.T) {
	// doc: docThrottling (the library plays no limits unless configured)
	h := newHarness(t)
	for i := 0; i < 200; i++ {
		res := h.graph(readerApp, http.MethodGet, "/organization", nil)
		h.mustStatus(res, http.StatusOK)
		if res.header.Get("x-ms-resource-unit") != "" {
			t.Fatal("throttle headers without throttling")
		}
	}
	if _, err := New(Config{TenantID: testTenant, InitialDomain: testDomain, Throttle: "huge"}); err == nil {
		t.Error("unknown throttle profile accepted")
	}
}

func batchItems(t *testing.T, res response) map[string]map[string]any {
	t.Helper()
	if res.status != http.StatusOK {
		t.Fatalf("batch status %d: %s", res.status, res.raw)
	}
	out := map[string]map[string]any{}
	for _, r := range res.body["responses"].([]any) {
		m := r.(map[string]any)
		out[m["id"].(string)] = m
	}
	return out
}

func itemStatus(items map[string]map[string]any) map[string]int {
	out := map[string]int{}
	for id, m := range items {
		out[id] = int(m["status"].(float64))
	}
	return out
}

func TestBatch(t *testing.T) {
	// doc: docBatching
	h := newHarness(t)
	id := h.createUser("batchy", nil)
	// A request depends on at most one other, in one of the documented
	// patterns: a serial batch, then one whose dependents share a dependency.
	serial := map[string]any{"requests": []map[string]any{
		{"id": "get", "method": "GET", "url": "/users/" + id + "?$select=id,onPremisesImmutableId"},
		{"id": "patch", "method": "PATCH", "url": "/users/" + id, "dependsOn": []string{"get"},
			"headers": map[string]string{"Content-Type": "application/json"}, "body": map[string]any{"onPremisesImmutableId": "QmF0Y2h5"}},
		{"id": "find", "method": "GET", "url": "/users?$filter=onPremisesImmutableId eq 'QmF0Y2h5'&$count=true", "dependsOn": []string{"patch"},
			"headers": map[string]string{"ConsistencyLevel": "eventual"}},
	}}
	body := map[string]any{"requests": []map[string]any{
		{"id": "plain", "method": "GET", "url": "/users?$filter=onPremisesImmutableId eq 'QmF0Y2h5'"},
		{"id": "missing", "method": "GET", "url": "/users/00000000-0000-4000-8000-000000000000"},
		{"id": "after-missing", "method": "GET", "url": "/organization", "dependsOn": []string{"missing"}},
		{"id": "denied", "method": "GET", "url": "/directory/deletedItems/microsoft.graph.group"},
	}}
	items := batchItems(t, h.graph(adminApp, http.MethodPost, "/$batch", serial))
	for id, m := range batchItems(t, h.graph(adminApp, http.MethodPost, "/$batch", body)) {
		items[id] = m
	}
	want := map[string]int{"get": 200, "patch": 204, "find": 200, "plain": 400, "missing": 404, "after-missing": 424, "denied": 403}
	if diff := cmp.Diff(want, itemStatus(items)); diff != "" {
		t.Errorf("item statuses (-want +got):\n%s", diff)
	}
	if v := items["find"]["body"].(map[string]any)["value"].([]any); len(v) != 1 {
		t.Errorf("advanced query inside the batch found %d users", len(v))
	}
	// Per-item errors carry their own request-id, equal in header and body.
	missing := items["missing"]
	rid := missing["headers"].(map[string]any)["Request-Id"]
	inner := missing["body"].(map[string]any)["error"].(map[string]any)["innerError"].(map[string]any)
	if rid == nil || inner["request-id"] != rid {
		t.Errorf("item request-id header %v, body %v", rid, inner["request-id"])
	}

	// The envelope needs a token; items are authorized one by one.
	res := h.graph("", http.MethodPost, "/$batch", body)
	if res.status != http.StatusUnauthorized || res.errorCode() != codeInvalidToken {
		t.Errorf("anonymous batch: %d %s", res.status, res.raw)
	}
	reader := batchItems(t, h.graph(readerApp, http.MethodPost, "/$batch", map[string]any{"requests": []map[string]any{
		{"id": "1", "method": "GET", "url": "/users/" + id},
		{"id": "2", "method": "PATCH", "url": "/users/" + id, "headers": map[string]string{"Content-Type": "application/json"}, "body": map[string]any{"jobTitle": "x"}},
	}}))
	if diff := cmp.Diff(map[string]int{"1": 200, "2": 403}, itemStatus(reader)); diff != "" {
		t.Errorf("reader batch (-want +got):\n%s", diff)
	}
	// More than 20 requests are refused whole.
	var many []map[string]any
	for i := 0; i < 21; i++ {
		many = append(many, map[string]any{"id": itoa(i), "method": "GET", "url": "/organization"})
	}
	if res := h.graph(adminApp, http.MethodPost, "/$batch", map[string]any{"requests": many}); res.status != 400 {
		t.Errorf("21 requests: %d", res.status)
	}
}

func TestBatchItemsAreThrottledAndFaulted(t *testing.T) {
	// doc: docBatching ("each request is evaluated against throttling limits
	// individually; a throttled item gets 429 inside a 200 response")
	h := newHarness(t, withThrottle(ThrottleSmall, 100))
	if err := h.srv.Faults().Set([]faults.Rule{{Method: http.MethodPatch, Status: 503, RetryAfterSeconds: 2}}); err != nil {
		t.Fatal(err)
	}
	var reqs []map[string]any
	for i := 0; i < 19; i++ { // 19 × 2 RU > 35 RU
		reqs = append(reqs, map[string]any{"id": itoa(i), "method": "GET", "url": "/users"})
	}
	reqs = append(reqs, map[string]any{"id": "patch", "method": "PATCH", "url": "/users/x",
		"headers": map[string]string{"Content-Type": "application/json"}, "body": map[string]any{}})
	items := batchItems(t, h.graph(adminApp, http.MethodPost, "/$batch", map[string]any{"requests": reqs}))
	statuses := itemStatus(items)
	ok, throttled := 0, 0
	for i := 0; i < 19; i++ {
		switch statuses[itoa(i)] {
		case 200:
			ok++
		case 429:
			throttled++
			if ra := items[itoa(i)]["headers"].(map[string]any)["Retry-After"]; ra != "1" {
				t.Errorf("throttled item Retry-After %v", ra)
			}
		}
	}
	if ok != 17 || throttled != 2 {
		t.Errorf("%d items passed and %d were throttled, want 17 and 2", ok, throttled)
	}
	if statuses["patch"] != 503 || items["patch"]["headers"].(map[string]any)["Retry-After"] != "2" {
		t.Errorf("faulted item: %v", items["patch"])
	}
}

func TestFaultsAdminAPI(t *testing.T) {
	// doc: docErrors (status codes and error shape a fault imitates)
	h := newHarness(t)
	admin := func(method, body string) response {
		t.Helper()
		return h.send(method, "/_emulator/faults", "", strings.NewReader(body), map[string]string{"Content-Type": "application/json"})
	}
	h.mustStatus(admin(http.MethodPut, `{"rules":[{"method":"GET","pathPrefix":"/v1.0/users","status":503,"maxCount":1},
		{"pathPrefix":"/v1.0/domains","status":429}]}`), http.StatusOK)

	res := h.graph(readerApp, http.MethodGet, "/users", nil)
	if res.status != 503 || res.errorCode() != "serviceNotAvailable" {
		t.Fatalf("faulted request: %d %s", res.status, res.raw)
	}
	sameRequestID(t, res)
	h.mustStatus(h.graph(readerApp, http.MethodGet, "/users", nil), http.StatusOK) // maxCount 1 used up
	res = h.graph(adminApp, http.MethodGet, "/domains", nil)
	if res.status != 429 || res.header.Get("Retry-After") != "1" {
		t.Errorf("429 fault: %d Retry-After %q", res.status, res.header.Get("Retry-After"))
	}
	state := admin(http.MethodGet, "")
	h.mustStatus(state, http.StatusOK)
	if fired := state.body["fired"].([]any); fired[0] != 1.0 || fired[1] != 1.0 {
		t.Errorf("fired counters %v", fired)
	}

	bad := admin(http.MethodPut, `{"rules":[{"status":200}]}`)
	if bad.status != 400 || bad.errorCode() != "BadRequest" {
		t.Errorf("invalid rule: %d %s", bad.status, bad.raw)
	}
	h.mustStatus(admin(http.MethodDelete, ""), http.StatusNoContent)
	h.mustStatus(h.graph(adminApp, http.MethodGet, "/domains", nil), http.StatusOK)

	// The token endpoint can fail too; the admin API never does.
	h.mustStatus(admin(http.MethodPut, `{"rules":[{"pathPrefix":"/`+testTenant+`/oauth2/","status":504}]}`), http.StatusOK)
	tok := h.tokenRequest(testTenant, url.Values{"grant_type": {"client_credentials"}, "client_id": {adminApp},
		"client_secret": {testSecret}, "scope": {"https://graph.microsoft.com/.default"}})
	if tok.status != 504 {
		t.Errorf("token request under a fault: %d", tok.status)
	}
	h.mustStatus(admin(http.MethodPut, `{"rules":[{"status":500}]}`), http.StatusOK)
	h.mustStatus(admin(http.MethodGet, ""), http.StatusOK)
	h.mustStatus(h.send(http.MethodGet, "/_emulator/state", "", nil, nil), http.StatusOK)
	h.mustStatus(admin(http.MethodDelete, ""), http.StatusNoContent)
}

func TestFaultResetAndLatency(t *testing.T) {
	// doc: docErrors (clients must survive dropped connections and slow answers)
	h := newHarness(t)
	if err := h.srv.Faults().Set([]faults.Rule{{PathPrefix: "/v1.0/organization", Reset: true, MaxCount: 1}}); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, h.srv.URL()+"/v1.0/organization", nil)
	req.Header.Set("Authorization", "Bearer "+h.token(readerApp))
	// A fresh connection: net/http silently retries a GET that fails on a
	// reused one, which would hide the reset.
	tr := h.client.Transport.(*http.Transport).Clone()
	defer tr.CloseIdleConnections()
	if resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("reset fault answered %d", resp.StatusCode)
	}
	h.mustStatus(h.graph(readerApp, http.MethodGet, "/organization", nil), http.StatusOK)

	// Over HTTP/2 the connection cannot be taken over: the stream is reset,
	// and the emulator must not turn the abort into a 500.
	if err := h.srv.Faults().Set([]faults.Rule{{PathPrefix: "/v1.0/organization", Reset: true, MaxCount: 1}}); err != nil {
		t.Fatal(err)
	}
	h2 := h.client.Transport.(*http.Transport).Clone()
	h2.ForceAttemptHTTP2 = true
	defer h2.CloseIdleConnections()
	req, _ = http.NewRequest(http.MethodGet, h.srv.URL()+"/v1.0/organization", nil)
	req.Header.Set("Authorization", "Bearer "+h.token(readerApp))
	if resp, err := (&http.Client{Transport: h2, Timeout: 10 * time.Second}).Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("reset fault over %s answered %d", resp.Proto, resp.StatusCode)
	}

	if err := h.srv.Faults().Set([]faults.Rule{{PathPrefix: "/v1.0/organization", LatencyMs: 150}}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	h.mustStatus(h.graph(readerApp, http.MethodGet, "/organization", nil), http.StatusOK)
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("latency fault took %v", d)
	}
}

func TestErrorsNameTheirRequestID(t *testing.T) {
	// doc: docErrors (innerError carries request-id and client-request-id)
	h := newHarness(t)
	for _, res := range []response{
		h.graph(readerApp, http.MethodGet, "/users/00000000-0000-4000-8000-000000000000", nil),
		h.graph(readerApp, http.MethodGet, "/nope", nil, "client-request-id", "mine"),
		h.graph("", http.MethodGet, "/users", nil),
		h.graph(readerApp, http.MethodPost, "/users", "{"),
	} {
		if res.status < 400 {
			t.Fatalf("want an error, got %d", res.status)
		}
		sameRequestID(t, res)
		var body map[string]any
		if err := json.Unmarshal(res.raw, &body); err != nil {
			t.Fatal(err)
		}
	}
	res := h.graph(readerApp, http.MethodGet, "/nope", nil, "client-request-id", "mine")
	if res.header.Get("client-request-id") != "mine" {
		t.Errorf("client-request-id not echoed: %q", res.header.Get("client-request-id"))
	}
}
