// Package throttle plays Microsoft Graph's identity and access throttling: token buckets per
// application+tenant, per application and per tenant, costed in resource units (RU) and writes
// as documented in https://learn.microsoft.com/graph/throttling-limits#identity-and-access-service-limits.
//
// Every counted response carries x-ms-resource-unit; x-ms-throttle-limit-percentage appears
// only above 0.8 of a limit, as documented. A throttled request gets 429 TooManyRequests with
// Retry-After, x-ms-throttle-scope and x-ms-throttle-information, and consumes nothing.
//
// Time scaling: Config.TimeScale N plays every bucket N times faster in miniature: each window
// and each quota is divided by N (100 turns 3,500 RU per 10 s into 35 RU per 100 ms), so the
// sustained rates stay as documented while a burst of 1/N of a quota already reaches the limit
// and the wait to leave it is N times shorter. That is what lets a test see a 429 after a few
// dozen requests instead of thousands. A scaled quota never drops below minScaledCapacity, so
// every request stays affordable. Retry-After is the real (scaled) wait rounded up to whole
// seconds, at least 1, because the header only carries whole seconds and a client that sleeps
// that long must find the budget back; the exact wait is also sent, in milliseconds rounded up,
// in x-emulator-retry-after-ms for clients that want to wait less.
package throttle

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/entramatch/entra-match-operator/internal/emulator/odataerr"
)

// Size is the tenant size class that sets the application+tenant RU quota.
type Size int

// Tenant sizes: S under 50 users, M 50 to 500, L above 500. Off disables throttling.
const (
	Off Size = iota
	Small
	Medium
	Large
)

var sizeNames = [...]string{"off", "small", "medium", "large"}

func (s Size) String() string {
	if s < Off || s > Large {
		return fmt.Sprintf("Size(%d)", int(s))
	}
	return sizeNames[s]
}

// ParseSize reads "off", "small", "medium" or "large" (case-insensitive).
func ParseSize(v string) (Size, error) {
	for i, n := range sizeNames {
		if strings.EqualFold(v, n) {
			return Size(i), nil
		}
	}
	return Off, fmt.Errorf("unknown tenant size %q (want off, small, medium or large)", v)
}

// SizeForUsers returns the size class of a tenant with n users.
func SizeForUsers(n int) Size {
	switch {
	case n < 50:
		return Small
	case n <= 500:
		return Medium
	default:
		return Large
	}
}

// Response header names.
const (
	HeaderResourceUnit    = "x-ms-resource-unit"
	HeaderLimitPercentage = "x-ms-throttle-limit-percentage"
	HeaderScope           = "x-ms-throttle-scope"
	HeaderInformation     = "x-ms-throttle-information"
	HeaderRetryAfter      = "Retry-After"
	// HeaderRetryAfterMs is the emulator's precise wait; not a Microsoft header.
	HeaderRetryAfterMs = "x-emulator-retry-after-ms"
)

// Config configures a Limiter.
type Config struct {
	Size Size
	// TimeScale divides every window and quota (see the package doc); 0 means 1 (real time).
	TimeScale float64
	// Clock defaults to time.Now.
	Clock func() time.Time
}

type scope string

const (
	scopeTenantApp scope = "Tenant_Application"
	scopeApp       scope = "Application"
	scopeTenant    scope = "Tenant"
)

// limit is one documented quota.
type limit struct {
	scope    scope
	write    bool // counts writes, not resource units
	capacity float64
	window   time.Duration
}

// minScaledCapacity bounds how far time scaling shrinks a quota: above the dearest single
// request (5 RU plus 1 for $expand), so no request becomes impossible.
const minScaledCapacity = 10

// Limiter holds the buckets. It is safe for concurrent use.
type Limiter struct {
	limits []limit
	clock  func() time.Time

	mu      sync.Mutex
	buckets map[bucketKey]*bucket
}

type bucketKey struct {
	limit int
	id    string
}

type bucket struct {
	tokens float64
	last   time.Time
}

// New validates cfg and returns a Limiter. A Limiter with Size Off lets everything through.
func New(cfg Config) (*Limiter, error) {
	if cfg.Size < Off || cfg.Size > Large {
		return nil, fmt.Errorf("throttle: invalid size %d", int(cfg.Size))
	}
	scale := cfg.TimeScale
	if scale == 0 {
		scale = 1
	}
	if scale < 0 || math.IsNaN(scale) || math.IsInf(scale, 0) {
		return nil, fmt.Errorf("throttle: time scale must be a positive number, got %v", cfg.TimeScale)
	}
	clock := cfg.Clock
	if clock == nil {
		clock = time.Now
	}
	l := &Limiter{clock: clock, buckets: map[bucketKey]*bucket{}}
	if cfg.Size != Off {
		ru := map[Size]float64{Small: 3500, Medium: 5000, Large: 8000}[cfg.Size]
		documented := []limit{
			{scope: scopeTenantApp, capacity: ru, window: 10 * time.Second},
			{scope: scopeTenantApp, write: true, capacity: 3000, window: 150 * time.Second},
			{scope: scopeApp, capacity: 150000, window: 20 * time.Second},
			// 35,000 writes per 5 minutes per application; older versions of the page said
			// 70,000, the stricter current figure wins.
			{scope: scopeApp, write: true, capacity: 35000, window: 5 * time.Minute},
			{scope: scopeTenant, write: true, capacity: 18000, window: 5 * time.Minute},
		}
		for _, lim := range documented {
			lim.capacity = max(lim.capacity/scale, minScaledCapacity)
			lim.window = time.Duration(float64(lim.window) / scale)
			l.limits = append(l.limits, lim)
		}
	}
	return l, nil
}

// Enabled reports whether the limiter throttles at all.
func (l *Limiter) Enabled() bool { return l != nil && len(l.limits) > 0 }

// Allow charges one request of app in tenant. It returns whether the request may proceed, how
// long to wait otherwise (real, scaled time), and the headers to add to the response.
func (l *Limiter) Allow(app, tenant, method string, u *url.URL) (ok bool, retryAfter time.Duration, h http.Header) {
	h = http.Header{}
	if !l.Enabled() {
		return true, 0, h
	}
	ru, write := Cost(method, u)
	h.Set(HeaderResourceUnit, strconv.Itoa(ru))

	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock()

	type charge struct {
		b    *bucket
		lim  limit
		cost float64
	}
	var charges []charge
	var worst *limit
	usage := 0.0
	for i, lim := range l.limits {
		cost := float64(ru)
		if lim.write {
			if !write {
				continue
			}
			cost = 1
		}
		b := l.bucket(i, lim, app, tenant, now)
		charges = append(charges, charge{b, lim, cost})
		if b.tokens < cost {
			wait := time.Duration(math.Ceil((cost - b.tokens) / lim.capacity * float64(lim.window)))
			if wait > retryAfter {
				retryAfter, worst = wait, &l.limits[i]
			}
		}
		usage = max(usage, (lim.capacity-b.tokens+cost)/lim.capacity)
	}
	if usage > 0.8 {
		h.Set(HeaderLimitPercentage, strconv.FormatFloat(min(usage, 1.8), 'f', 2, 64))
	}
	if worst != nil {
		kind, info := "ReadWrite", "ResourceUnitLimitExceeded"
		if worst.write {
			kind, info = "Write", "WriteLimitExceeded"
		}
		h.Set(HeaderScope, fmt.Sprintf("%s/%s/%s/%s", worst.scope, kind, app, tenant))
		h.Set(HeaderInformation, info)
		h.Set(HeaderRetryAfter, strconv.FormatInt(max(1, int64(math.Ceil(retryAfter.Seconds()))), 10))
		h.Set(HeaderRetryAfterMs, strconv.FormatInt(max(1, int64(math.Ceil(float64(retryAfter)/float64(time.Millisecond)))), 10))
		return false, retryAfter, h
	}
	for _, c := range charges {
		c.b.tokens -= c.cost
	}
	return true, 0, h
}

// bucket returns the refilled bucket of limit i for the caller; l.mu must be held.
func (l *Limiter) bucket(i int, lim limit, app, tenant string, now time.Time) *bucket {
	id := app + "/" + tenant
	switch lim.scope {
	case scopeApp:
		id = app
	case scopeTenant:
		id = tenant
	}
	k := bucketKey{i, id}
	b, ok := l.buckets[k]
	if !ok {
		b = &bucket{tokens: lim.capacity, last: now}
		l.buckets[k] = b
		return b
	}
	if elapsed := now.Sub(b.last); elapsed > 0 {
		b.tokens = min(lim.capacity, b.tokens+lim.capacity*float64(elapsed)/float64(lim.window))
		b.last = now
	}
	return b
}

// KeyFunc tells the middleware which application and tenant a request belongs to; empty
// values mean "not identified" and the request is not counted (authentication rejects it).
type KeyFunc func(*http.Request) (app, tenant string)

// Middleware throttles next. The $batch envelope itself is not counted: the batch handler
// sends each item back through this middleware, so items are throttled one by one, as Graph
// does.
func (l *Limiter) Middleware(key KeyFunc, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !l.Enabled() || isBatch(r.URL) {
			next.ServeHTTP(w, r)
			return
		}
		app, tenant := key(r)
		if app == "" && tenant == "" {
			next.ServeHTTP(w, r)
			return
		}
		ok, _, h := l.Allow(app, tenant, r.Method, r.URL)
		for k, vs := range h {
			w.Header()[k] = vs
		}
		if !ok {
			odataerr.Write(w, r, http.StatusTooManyRequests, odataerr.CodeTooManyRequests,
				"Too many requests. Retry after the number of seconds in the Retry-After header.")
			return
		}
		next.ServeHTTP(w, r)
	})
}
