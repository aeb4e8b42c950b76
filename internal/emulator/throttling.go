package emulator

import (
	"net/http"
	"time"

	"github.com/entramatch/entra-match-operator/internal/emulator/throttle"
)

// throttling applies Graph's identity and access limits
// (https://learn.microsoft.com/en-us/graph/throttling-limits#identity-and-access-service-limits)
// per application and tenant, the key Graph uses.
type throttling struct {
	auto     bool
	fixed    throttle.Size
	limiters map[throttle.Size]*throttle.Limiter
}

// newThrottling returns nil when throttling is off.
func newThrottling(p ThrottleProfile, scale float64, clock func() time.Time) (*throttling, error) {
	p, err := ParseThrottleProfile(string(p))
	if err != nil {
		return nil, err
	}
	if p == ThrottleOff {
		return nil, nil
	}
	t := &throttling{auto: p == ThrottleAuto, limiters: map[throttle.Size]*throttle.Limiter{}}
	sizes := []throttle.Size{throttle.Small, throttle.Medium, throttle.Large}
	if !t.auto {
		t.fixed, _ = throttle.ParseSize(string(p))
		sizes = []throttle.Size{t.fixed}
	}
	for _, size := range sizes {
		l, err := throttle.New(throttle.Config{Size: size, TimeScale: scale, Clock: clock})
		if err != nil {
			return nil, err
		}
		t.limiters[size] = l
	}
	return t, nil
}

// middleware throttles next per caller. With the auto profile the size
// class follows the user count at each request; a tenant that crosses a
// class boundary starts with a full bucket of the new class, as its quota
// changes anyway.
func (s *Server) throttleMiddleware(next http.Handler) http.Handler {
	t := s.throttle
	if t == nil {
		return next
	}
	key := func(r *http.Request) (string, string) {
		c, ok := CallerFrom(r.Context())
		if !ok {
			return "", ""
		}
		return c.AppID, c.TenantID
	}
	handlers := map[throttle.Size]http.Handler{}
	for size, l := range t.limiters {
		handlers[size] = l.Middleware(key, next)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		size := t.fixed
		if t.auto {
			size = throttle.SizeForUsers(s.UserCount())
		}
		handlers[size].ServeHTTP(w, r)
	})
}
