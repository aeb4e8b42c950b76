package faults

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/entramatch/entra-match-operator/internal/emulator/odataerr"
)

// Error bodies follow https://learn.microsoft.com/graph/errors.

func TestRuleValidate(t *testing.T) {
	tests := []struct {
		name    string
		rule    Rule
		wantErr string
	}{
		{"status only", Rule{Status: 503}, ""},
		{"everything", Rule{Method: "PATCH", PathPrefix: "/v1.0/users", Every: 2, MaxCount: 3, Status: 429, RetryAfterSeconds: 5, Code: "x", Message: "y", LatencyMs: 10}, ""},
		{"reset at a rate", Rule{Rate: 0.5, Reset: true}, ""},
		{"latency only", Rule{LatencyMs: 1}, ""},
		{"does nothing", Rule{Method: "GET"}, "does nothing"},
		{"bad method", Rule{Method: "get", Status: 500}, "method"},
		{"relative prefix", Rule{PathPrefix: "users", Status: 500}, "pathPrefix"},
		{"rate above 1", Rule{Rate: 1.5, Status: 500}, "rate"},
		{"negative rate", Rule{Rate: -0.1, Status: 500}, "rate"},
		{"rate and every", Rule{Rate: 0.5, Every: 2, Status: 500}, "not both"},
		{"negative every", Rule{Every: -1, Status: 500}, "negative"},
		{"negative latency", Rule{LatencyMs: -1}, "negative"},
		{"huge latency", Rule{LatencyMs: 24 * 3600 * 1000}, "exceeds"},
		{"success status", Rule{Status: 200}, "error status"},
		{"status and reset", Rule{Status: 500, Reset: true}, "not both"},
		{"code without status", Rule{Reset: true, Code: "x"}, "need a status"},
		{"retry without status", Rule{LatencyMs: 1, RetryAfterSeconds: 1}, "need a status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.rule.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want one mentioning %q", err, tt.wantErr)
			}
		})
	}
}

// harness runs requests through an Injector in front of a handler that answers 204.
type harness struct {
	inj    *Injector
	h      http.Handler
	calls  int
	sleeps []time.Duration
}

func newHarness(t *testing.T, rules []Rule, rnd ...float64) *harness {
	t.Helper()
	hs := &harness{}
	n := 0
	opts := []Option{WithSleep(func(_ context.Context, d time.Duration) { hs.sleeps = append(hs.sleeps, d) })}
	if len(rnd) > 0 {
		opts = append(opts, WithRand(func() float64 { v := rnd[n%len(rnd)]; n++; return v }))
	}
	hs.inj = New(opts...)
	if err := hs.inj.Set(rules); err != nil {
		t.Fatal(err)
	}
	hs.h = hs.inj.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hs.calls++
		w.WriteHeader(http.StatusNoContent)
	}))
	return hs
}

func (hs *harness) do(method, path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	hs.h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec
}

func (hs *harness) statuses(method, path string, n int) []int {
	var out []int
	for range n {
		out = append(out, hs.do(method, path).Code)
	}
	return out
}

func TestTriggers(t *testing.T) {
	tests := []struct {
		name   string
		rules  []Rule
		rnd    []float64
		method string
		path   string
		want   []int
	}{
		{"every third", []Rule{{Every: 3, Status: 503}}, nil, "GET", "/v1.0/users",
			[]int{204, 204, 503, 204, 204, 503, 204}},
		{"every third at most once", []Rule{{Every: 3, MaxCount: 1, Status: 503}}, nil, "GET", "/v1.0/users",
			[]int{204, 204, 503, 204, 204, 204, 204}},
		{"always, at most twice", []Rule{{MaxCount: 2, Status: 500}}, nil, "GET", "/x",
			[]int{500, 500, 204, 204}},
		{"rate with a scripted source", []Rule{{Rate: 0.5, Status: 504}}, []float64{0.1, 0.9, 0.5, 0.49}, "GET", "/x",
			[]int{504, 204, 204, 504}},
		{"rate 1 always fires", []Rule{{Rate: 1, Status: 500}}, []float64{0.999}, "GET", "/x",
			[]int{500, 500}},
		{"other method untouched", []Rule{{Method: "PATCH", Status: 500}}, nil, "GET", "/x",
			[]int{204, 204}},
		{"other path untouched", []Rule{{PathPrefix: "/v1.0/groups", Status: 500}}, nil, "GET", "/v1.0/users",
			[]int{204, 204}},
		{"first triggered terminal rule wins", []Rule{{Every: 2, Status: 429}, {Status: 503}}, nil, "GET", "/x",
			[]int{503, 429, 503, 429}},
		{"admin path exempt", []Rule{{Status: 500}}, nil, "PUT", "/_emulator/faults",
			[]int{204, 204}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := newHarness(t, tt.rules, tt.rnd...)
			got := hs.statuses(tt.method, tt.path, len(tt.want))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("statuses (-want +got):\n%s", diff)
			}
			passed := 0
			for _, s := range tt.want {
				if s == 204 {
					passed++
				}
			}
			if hs.calls != passed {
				t.Errorf("next called %d times, want %d", hs.calls, passed)
			}
		})
	}
}

func TestFaultResponses(t *testing.T) {
	tests := []struct {
		name      string
		rule      Rule
		wantRetry string
		wantCode  string
		wantMsg   string
	}{
		{"429 gets Retry-After 1 by default", Rule{Status: 429}, "1", "TooManyRequests", "fault injected by the emulator: Too Many Requests"},
		{"429 custom Retry-After", Rule{Status: 429, RetryAfterSeconds: 7}, "7", "TooManyRequests", "fault injected by the emulator: Too Many Requests"},
		{"500 generalException", Rule{Status: 500}, "", "generalException", "fault injected by the emulator: Internal Server Error"},
		{"503 serviceNotAvailable with Retry-After", Rule{Status: 503, RetryAfterSeconds: 2}, "2", "serviceNotAvailable", "fault injected by the emulator: Service Unavailable"},
		{"504", Rule{Status: 504}, "", "GatewayTimeout", "fault injected by the emulator: Gateway Timeout"},
		{"custom code and message", Rule{Status: 400, Code: "Request_BadRequest", Message: "nope"}, "", "Request_BadRequest", "nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// doc: docErrors
			hs := newHarness(t, []Rule{tt.rule})
			r := httptest.NewRequest("GET", "/v1.0/users", nil)
			r.Header.Set("client-request-id", "cid")
			rec := httptest.NewRecorder()
			hs.h.ServeHTTP(rec, r)
			if rec.Code != tt.rule.Status {
				t.Fatalf("status %d", rec.Code)
			}
			if got := rec.Header().Get("Retry-After"); got != tt.wantRetry {
				t.Errorf("Retry-After %q, want %q", got, tt.wantRetry)
			}
			var b odataerr.Body
			if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil {
				t.Fatal(err)
			}
			want := odataerr.Error{Code: tt.wantCode, Message: tt.wantMsg, InnerError: odataerr.Inner{ClientRequestID: "cid"}}
			if diff := cmp.Diff(want, b.Error, cmpopts.IgnoreFields(odataerr.Inner{}, "Date", "RequestID")); diff != "" {
				t.Errorf("error body (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLatency(t *testing.T) {
	hs := newHarness(t, []Rule{{LatencyMs: 250}, {PathPrefix: "/slow-fail", LatencyMs: 100, Status: 503}})
	if rec := hs.do("GET", "/ok"); rec.Code != 204 {
		t.Errorf("latency-only rule must pass through, got %d", rec.Code)
	}
	if rec := hs.do("GET", "/slow-fail"); rec.Code != 503 {
		t.Errorf("latency+status: got %d", rec.Code)
	}
	want := []time.Duration{250 * time.Millisecond, 350 * time.Millisecond}
	if diff := cmp.Diff(want, hs.sleeps); diff != "" {
		t.Errorf("sleeps (-want +got):\n%s", diff)
	}
}

func TestLatencyHonoursCancellation(t *testing.T) {
	inj := New() // the real sleep
	if err := inj.Set([]Rule{{LatencyMs: 60_000}}); err != nil {
		t.Fatal(err)
	}
	called := false
	h := inj.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true }))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/x", nil).WithContext(ctx))
	if called || time.Since(start) > 10*time.Second {
		t.Errorf("cancelled request: next called %v after %v", called, time.Since(start))
	}
}

func TestResetDropsTheConnection(t *testing.T) {
	inj := New()
	if err := inj.Set([]Rule{{PathPrefix: "/reset", Reset: true}}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(inj.Middleware(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}

	resp, err := client.Get(srv.URL + "/reset")
	if err == nil {
		resp.Body.Close()
		t.Fatalf("got a response (%d), want a dropped connection", resp.StatusCode)
	}
	resp, err = client.Get(srv.URL + "/fine")
	if err != nil {
		t.Fatalf("other paths: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("other paths: %d", resp.StatusCode)
	}
}

func TestResetWithoutHijackAborts(t *testing.T) {
	inj := New()
	if err := inj.Set([]Rule{{Reset: true}}); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if v, _ := recover().(error); !errors.Is(v, http.ErrAbortHandler) {
			t.Errorf("recovered %v, want http.ErrAbortHandler", v)
		}
	}()
	// A ResponseRecorder cannot be hijacked, like a $batch item's recorder.
	inj.Middleware(http.NotFoundHandler()).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/x", nil))
}

func TestAdminHandler(t *testing.T) {
	inj := New()
	admin := inj.Handler()
	call := func(method, body string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		admin.ServeHTTP(rec, httptest.NewRequest(method, "/_emulator/faults", strings.NewReader(body)))
		return rec
	}
	rec := call("PUT", `{"rules":[{"method":"GET","pathPrefix":"/v1.0/users","every":2,"status":429,"retryAfterSeconds":3}]}`)
	if rec.Code != http.StatusOK {
		t.Fatalf("PUT: %d %s", rec.Code, rec.Body.String())
	}
	want := State{Rules: []Rule{{Method: "GET", PathPrefix: "/v1.0/users", Every: 2, Status: 429, RetryAfterSeconds: 3}}, Fired: []int{0}}
	var got State
	if err := json.Unmarshal(call("GET", "").Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GET state (-want +got):\n%s", diff)
	}

	// Counters run and are reported.
	mw := inj.Middleware(http.NotFoundHandler())
	for range 4 {
		mw.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/v1.0/users", nil))
	}
	if got := inj.State().Fired; !cmp.Equal(got, []int{2}) {
		t.Errorf("fired = %v", got)
	}

	bad := []struct{ name, body, wantMsg string }{
		{"unknown field", `{"rules":[{"status":500,"statuss":1}]}`, "unknown field"},
		{"second rule invalid", `{"rules":[{"status":500},{"status":302}]}`, "rule 1: status 302"},
		{"not JSON", `rules`, "invalid fault rules"},
		{"no rules property", `{}`, "rules property is required"},
		{"wrong type", `{"rules":[{"rate":"often","status":500}]}`, "invalid fault rules"},
	}
	for _, tt := range bad {
		rec := call("PUT", tt.body)
		var b odataerr.Body
		_ = json.Unmarshal(rec.Body.Bytes(), &b)
		if rec.Code != http.StatusBadRequest || b.Error.Code != "BadRequest" || !strings.Contains(b.Error.Message, tt.wantMsg) {
			t.Errorf("%s: %d %s", tt.name, rec.Code, rec.Body.String())
		}
	}
	// A rejected PUT leaves the previous rules in place.
	if got := inj.State(); len(got.Rules) != 1 || got.Fired[0] != 2 {
		t.Errorf("rules changed by a bad PUT: %+v", got)
	}
	// An empty list is valid and clears; so does DELETE.
	if rec := call("PUT", `{"rules":[]}`); rec.Code != http.StatusOK || len(inj.State().Rules) != 0 {
		t.Errorf("PUT empty: %d %+v", rec.Code, inj.State())
	}
	_ = inj.Set([]Rule{{Status: 500}})
	if rec := call("DELETE", ""); rec.Code != http.StatusNoContent || len(inj.State().Rules) != 0 {
		t.Errorf("DELETE: %d %+v", rec.Code, inj.State())
	}
	if rec := call("POST", "{}"); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", rec.Code)
	}
}

func TestSetRejectsAndKeeps(t *testing.T) {
	inj := New()
	if err := inj.Set([]Rule{{Status: 500}}); err != nil {
		t.Fatal(err)
	}
	err := inj.Set([]Rule{{Status: 500}, {}})
	if err == nil || !strings.HasPrefix(err.Error(), "rule 1:") {
		t.Fatalf("err = %v", err)
	}
	if len(inj.State().Rules) != 1 {
		t.Errorf("rules replaced despite the error")
	}
}

func TestConcurrentUse(t *testing.T) {
	inj := New()
	if err := inj.Set([]Rule{{Every: 2, Status: 503}}); err != nil {
		t.Fatal(err)
	}
	h := inj.Middleware(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) }))
	done := make(chan int)
	for range 8 {
		go func() {
			failed := 0
			for range 100 {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest("GET", "/x", nil))
				if rec.Code == 503 {
					failed++
				}
			}
			done <- failed
		}()
	}
	total := 0
	for range 8 {
		total += <-done
	}
	if total != 400 {
		t.Errorf("every 2nd of 800 requests should fail: %d failed", total)
	}
}
