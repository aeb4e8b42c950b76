package batch_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/entramatch/entra-match-operator/internal/emulator/batch"
	"github.com/entramatch/entra-match-operator/internal/emulator/faults"
	"github.com/entramatch/entra-match-operator/internal/emulator/throttle"
)

// TestBatchOverFaultsAndThrottle wires the building blocks the way the emulator server is
// expected to: $batch outermost, then fault injection, then throttling, then Graph.
func TestBatchOverFaultsAndThrottle(t *testing.T) {
	// doc: https://learn.microsoft.com/graph/json-batching#batch-size-limitations
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	lim, err := throttle.New(throttle.Config{Size: throttle.Small, Clock: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	inj := faults.New()
	if err := inj.Set([]faults.Rule{{Method: "PATCH", Status: 503, RetryAfterSeconds: 2}}); err != nil {
		t.Fatal(err)
	}
	key := func(r *http.Request) (string, string) {
		app, tenant, _ := strings.Cut(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "), ":")
		return app, tenant
	}
	graph := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true}`))
	})
	h := batch.Handler(inj.Middleware(lim.Middleware(key, graph)), "/v1.0")

	// Leave exactly one resource unit in the app+tenant bucket.
	u, _ := url.Parse("/v1.0/users/x")
	for range 3499 {
		if ok, _, _ := lim.Allow("app", "tenant", "GET", u); !ok {
			t.Fatal("setup throttled")
		}
	}
	r := httptest.NewRequest(http.MethodPost, "/v1.0/$batch", strings.NewReader(`{"requests":[
		{"id":"1","method":"GET","url":"/users/a"},
		{"id":"2","method":"GET","url":"/users/b"},
		{"id":"3","method":"PATCH","url":"/users/c","headers":{"Content-Type":"application/json"},"body":{}},
		{"id":"4","method":"GET","url":"/users/d","dependsOn":["2"]}
	]}`))
	r.Header.Set("Authorization", "Bearer app:tenant")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != http.StatusOK {
		t.Fatalf("batch status %d (the envelope must not be throttled): %s", rec.Code, rec.Body.String())
	}
	var out struct {
		Responses []batch.Response `json:"responses"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	type item struct {
		Status     int
		RetryAfter string
		Unit       string
	}
	var got []item
	for _, resp := range out.Responses {
		got = append(got, item{resp.Status, resp.Headers["Retry-After"], resp.Headers["X-Ms-Resource-Unit"]})
	}
	want := []item{
		{200, "", "1"},
		{429, "1", "1"},
		{503, "2", ""}, // the fault fires before throttling is consulted
		{424, "", ""},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("items (-want +got):\n%s", diff)
	}
}
