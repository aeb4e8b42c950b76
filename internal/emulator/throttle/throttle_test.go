package throttle

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/entramatch/entra-match-operator/internal/emulator/odataerr"
)

// fakeClock is advanced by hand; nothing in these tests sleeps.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time          { return c.now }
func (c *fakeClock) Advance(d time.Duration) { c.now = c.now.Add(d) }

func newLimiter(t *testing.T, size Size, scale float64) (*Limiter, *fakeClock) {
	t.Helper()
	clk := &fakeClock{now: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
	l, err := New(Config{Size: size, TimeScale: scale, Clock: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return l, clk
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// drain sends n identical requests and fails at the first refusal.
func drain(t *testing.T, l *Limiter, app, tenant, method string, u *url.URL, n int) {
	t.Helper()
	for i := range n {
		if ok, ra, h := l.Allow(app, tenant, method, u); !ok {
			t.Fatalf("request %d of %d refused early (retry %v, headers %v)", i+1, n, ra, h)
		}
	}
}

func TestResourceUnitQuotaPerSize(t *testing.T) {
	tests := []struct {
		size   Size
		ru     int
		waitMs string // 10 s / ru, rounded up
	}{{Small, 3500, "3"}, {Medium, 5000, "2"}, {Large, 8000, "2"}}
	for _, tt := range tests {
		t.Run(tt.size.String(), func(t *testing.T) {
			// doc: docLimits (application+tenant pair, per 10 seconds)
			l, _ := newLimiter(t, tt.size, 1)
			get := mustURL(t, "/v1.0/users/u1")
			drain(t, l, "app", "tenant", "GET", get, tt.ru)
			ok, ra, h := l.Allow("app", "tenant", "GET", get)
			if ok {
				t.Fatalf("request %d allowed", tt.ru+1)
			}
			// One RU comes back after window/capacity.
			want := time.Duration(float64(10*time.Second) / float64(tt.ru))
			if ra < want || ra > want+time.Nanosecond {
				t.Errorf("retryAfter = %v, want ≈ %v", ra, want)
			}
			wantH := map[string]string{
				"Retry-After":                    "1",
				"X-Ms-Resource-Unit":             "1",
				"X-Ms-Throttle-Scope":            "Tenant_Application/ReadWrite/app/tenant",
				"X-Ms-Throttle-Information":      "ResourceUnitLimitExceeded",
				"X-Ms-Throttle-Limit-Percentage": "1.00",
				"X-Emulator-Retry-After-Ms":      tt.waitMs,
			}
			if diff := cmp.Diff(wantH, flat(h)); diff != "" {
				t.Errorf("headers (-want +got):\n%s", diff)
			}
			// Another app, and the same app in another tenant, have their own buckets.
			if ok, _, _ := l.Allow("other-app", "tenant", "GET", get); !ok {
				t.Error("other app throttled")
			}
			if ok, _, _ := l.Allow("app", "other-tenant", "GET", get); !ok {
				t.Error("other tenant throttled")
			}
		})
	}
}

func TestRefusedRequestsConsumeNothingAndBudgetReturns(t *testing.T) {
	l, clk := newLimiter(t, Small, 1)
	list := mustURL(t, "/users") // 2 RU
	drain(t, l, "a", "t", "GET", list, 1750)
	for range 5 {
		if ok, _, _ := l.Allow("a", "t", "GET", list); ok {
			t.Fatal("allowed past the quota")
		}
	}
	_, ra, _ := l.Allow("a", "t", "GET", list)
	clk.Advance(ra)
	if ok, _, _ := l.Allow("a", "t", "GET", list); !ok {
		t.Fatalf("refused after waiting the advertised %v", ra)
	}
	// Half a window refills half the bucket.
	clk.Advance(5 * time.Second)
	drain(t, l, "a", "t", "GET", list, 875)
	if ok, _, _ := l.Allow("a", "t", "GET", list); ok {
		t.Fatal("refill exceeded half a window")
	}
	// A full idle window refills to capacity, never beyond.
	clk.Advance(time.Hour)
	drain(t, l, "a", "t", "GET", list, 1750)
	if ok, _, _ := l.Allow("a", "t", "GET", list); ok {
		t.Fatal("bucket grew past capacity")
	}
}

func TestTimeScaleShrinksWindowsAndQuotasButRetryAfterStaysWholeSeconds(t *testing.T) {
	// TimeScale 100: the write quota of 3,000 per 150 s becomes 30 per 1.5 s (same rate).
	l, clk := newLimiter(t, Large, 100)
	post := mustURL(t, "/v1.0/users")
	drain(t, l, "a", "t", "POST", post, 30)
	ok, ra, h := l.Allow("a", "t", "POST", post)
	if ok {
		t.Fatal("write 31 allowed")
	}
	if want := 50 * time.Millisecond; ra != want { // 1 write / 30 * 1.5 s
		t.Errorf("retryAfter = %v, want %v", ra, want)
	}
	if got := flat(h); got["Retry-After"] != "1" || got["X-Emulator-Retry-After-Ms"] != "50" ||
		got["X-Ms-Throttle-Scope"] != "Tenant_Application/Write/a/t" || got["X-Ms-Throttle-Information"] != "WriteLimitExceeded" {
		t.Errorf("headers = %v", got)
	}
	// Reads still pass: the RU bucket (8,000 / 100 = 80) is not exhausted by 30 writes.
	if ok, _, _ := l.Allow("a", "t", "GET", mustURL(t, "/users/u")); !ok {
		t.Error("read refused while only the write quota is exhausted")
	}
	clk.Advance(ra)
	if ok, _, _ := l.Allow("a", "t", "POST", post); !ok {
		t.Error("write refused after the scaled wait")
	}
}

func TestTimeScaleKeepsSustainedRateAndAFloor(t *testing.T) {
	// Scale 10: 350 RU per second as documented (3,500 per 10 s), burst 350.
	l, clk := newLimiter(t, Small, 10)
	get := mustURL(t, "/users/u")
	drain(t, l, "a", "t", "GET", get, 350)
	if ok, _, _ := l.Allow("a", "t", "GET", get); ok {
		t.Fatal("burst above the scaled quota allowed")
	}
	clk.Advance(time.Second)
	drain(t, l, "a", "t", "GET", get, 350)

	// An absurd scale leaves every quota at the floor, never below a request's cost.
	huge, _ := newLimiter(t, Small, 1e6)
	drain(t, huge, "a", "t", "GET", mustURL(t, "/users?$expand=manager"), minScaledCapacity/3)
}

func TestRetryAfterRoundsUpToWholeSeconds(t *testing.T) {
	l, _ := newLimiter(t, Small, 1)
	post := mustURL(t, "/users")
	drain(t, l, "a", "t", "POST", post, 3000)
	_, ra, h := l.Allow("a", "t", "POST", post)
	if ra != 50*time.Millisecond { // 150 s / 3000
		t.Errorf("retryAfter = %v", ra)
	}
	if got := h.Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After = %q", got)
	}
	if got := h.Get(HeaderRetryAfterMs); got != "50" {
		t.Errorf("precise wait = %q", got)
	}
}

func TestTenantWriteQuotaSpansApplications(t *testing.T) {
	// doc: docLimits (tenant: 18,000 writes per 5 minutes)
	l, _ := newLimiter(t, Small, 1)
	post := mustURL(t, "/users")
	for i := range 6 {
		drain(t, l, fmt.Sprint("app", i), "t", "POST", post, 3000)
	}
	ok, ra, h := l.Allow("app6", "t", "POST", post)
	if ok {
		t.Fatal("write 18,001 in the tenant allowed")
	}
	if got := h.Get(HeaderScope); got != "Tenant/Write/app6/t" {
		t.Errorf("scope = %q", got)
	}
	if want := 5 * time.Minute / 18000; ra < want || ra > want+time.Nanosecond {
		t.Errorf("retryAfter = %v, want ≈ %v", ra, want)
	}
	if ok, _, _ := l.Allow("app6", "other", "POST", post); !ok {
		t.Error("other tenant affected")
	}
}

func TestApplicationWriteQuotaSpansTenants(t *testing.T) {
	// doc: docLimits (application: 35,000 writes per 5 minutes; older versions said 70,000)
	l, _ := newLimiter(t, Small, 1)
	post := mustURL(t, "/users")
	for i := range 11 {
		drain(t, l, "app", fmt.Sprint("t", i), "POST", post, 3000)
	}
	drain(t, l, "app", "t11", "POST", post, 2000)
	ok, ra, h := l.Allow("app", "t12", "POST", post)
	if ok {
		t.Fatal("write 35,001 of the application allowed")
	}
	if got := h.Get(HeaderScope); got != "Application/Write/app/t12" {
		t.Errorf("scope = %q", got)
	}
	if want := 5 * time.Minute / 35000; ra < want || ra > want+time.Nanosecond {
		t.Errorf("retryAfter = %v, want ≈ %v", ra, want)
	}
	if ok, _, _ := l.Allow("other-app", "t12", "POST", post); !ok {
		t.Error("other application affected")
	}
}

func TestApplicationQuotaSpansTenants(t *testing.T) {
	// doc: docLimits (application: 150,000 RU per 20 seconds)
	l, _ := newLimiter(t, Large, 1)
	get := mustURL(t, "/users/u")
	for i := range 18 {
		drain(t, l, "app", fmt.Sprint("t", i), "GET", get, 8000)
	}
	drain(t, l, "app", "t18", "GET", get, 6000)
	ok, _, h := l.Allow("app", "t19", "GET", get)
	if ok {
		t.Fatal("RU 150,001 for the application allowed")
	}
	if got := h.Get(HeaderScope); got != "Application/ReadWrite/app/t19" {
		t.Errorf("scope = %q", got)
	}
}

func TestLimitPercentageOnlyAboveEightyPercent(t *testing.T) {
	// doc: docLimits ("Returned only when the application consumed more than 0.8 of its limit")
	l, _ := newLimiter(t, Small, 1)
	get := mustURL(t, "/users/u")
	drain(t, l, "a", "t", "GET", get, 2799)
	_, _, h := l.Allow("a", "t", "GET", get) // 2800/3500 = 0.8 exactly
	if v := h.Get(HeaderLimitPercentage); v != "" {
		t.Errorf("percentage at 0.8 = %q, want absent", v)
	}
	_, _, h = l.Allow("a", "t", "GET", get)
	v, err := strconv.ParseFloat(h.Get(HeaderLimitPercentage), 64)
	if err != nil || v < 0.8 || v > 1.8 {
		t.Errorf("percentage above 0.8 = %q (%v)", h.Get(HeaderLimitPercentage), err)
	}
}

func TestOffAndConfigValidation(t *testing.T) {
	l, _ := newLimiter(t, Off, 1)
	for range 10000 {
		if ok, _, h := l.Allow("a", "t", "POST", mustURL(t, "/users")); !ok || len(h) != 0 {
			t.Fatalf("Off limiter refused or set headers: %v", h)
		}
	}
	for _, cfg := range []Config{{Size: Large + 1}, {Size: -1}, {Size: Small, TimeScale: -2}} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
	var nilLimiter *Limiter
	if nilLimiter.Enabled() {
		t.Error("nil limiter enabled")
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]Size{"off": Off, "Small": Small, "MEDIUM": Medium, "large": Large} {
		got, err := ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseSize("huge"); err == nil {
		t.Error("ParseSize(huge) accepted")
	}
	for n, want := range map[int]Size{0: Small, 49: Small, 50: Medium, 500: Medium, 501: Large} {
		if got := SizeForUsers(n); got != want {
			t.Errorf("SizeForUsers(%d) = %v, want %v", n, got, want)
		}
	}
}

func TestMiddleware(t *testing.T) {
	l, _ := newLimiter(t, Small, 1)
	calls := 0
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		w.WriteHeader(http.StatusNoContent)
	})
	key := func(r *http.Request) (string, string) { return r.Header.Get("X-App"), r.Header.Get("X-Tenant") }
	h := l.Middleware(key, inner)

	do := func(method, target, app string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, target, nil)
		if app != "" {
			r.Header.Set("X-App", app)
			r.Header.Set("X-Tenant", "t")
		}
		r.Header.Set("client-request-id", "cid")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec
	}

	rec := do("GET", "/v1.0/users?$select=id", "a")
	if rec.Code != http.StatusNoContent || rec.Header().Get(HeaderResourceUnit) != "1" {
		t.Fatalf("first request: %d %v", rec.Code, rec.Header())
	}
	for range 3499 {
		do("GET", "/v1.0/users/u", "a")
	}
	before := calls
	rec = do("GET", "/v1.0/users/u", "a")
	if rec.Code != http.StatusTooManyRequests || calls != before {
		t.Fatalf("want 429 without calling next, got %d (calls %d→%d)", rec.Code, before, calls)
	}
	if rec.Header().Get("Retry-After") != "1" {
		t.Errorf("Retry-After = %q", rec.Header().Get("Retry-After"))
	}
	var body odataerr.Body
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("429 body: %v", err)
	}
	if body.Error.Code != "TooManyRequests" || body.Error.InnerError.ClientRequestID != "cid" {
		t.Errorf("429 body = %+v", body)
	}
	// The $batch envelope and unidentified callers are not counted.
	if rec := do("POST", "/v1.0/$batch", "a"); rec.Code != http.StatusNoContent || rec.Header().Get(HeaderResourceUnit) != "" {
		t.Errorf("$batch envelope throttled: %d %v", rec.Code, rec.Header())
	}
	if rec := do("GET", "/v1.0/users/u", ""); rec.Code != http.StatusNoContent {
		t.Errorf("anonymous request throttled: %d", rec.Code)
	}
}

func flat(h http.Header) map[string]string {
	out := map[string]string{}
	for k := range h {
		out[k] = h.Get(k)
	}
	return out
}

func TestConcurrentCallersShareOneBucket(t *testing.T) {
	l, _ := newLimiter(t, Small, 1) // the clock never moves: no refill
	get := mustURL(t, "/users/u")
	allowed := make(chan int)
	for range 8 {
		go func() {
			n := 0
			for range 500 {
				if ok, _, _ := l.Allow("a", "t", "GET", get); ok {
					n++
				}
			}
			allowed <- n
		}()
	}
	total := 0
	for range 8 {
		total += <-allowed
	}
	if total != 3500 {
		t.Errorf("%d of 4000 concurrent requests allowed, want exactly 3500", total)
	}
}
