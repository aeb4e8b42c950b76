package identity

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

const (
	testTenant = "5f1c0b7e-3d2a-4c6b-9e8f-0a1b2c3d4e5f"
	syncScope  = "https://graph.microsoft.com/OnPremDirectorySynchronization.ReadWrite.All"
	oidcScopes = " openid profile offline_access"
)

func TestSessionsPrune(t *testing.T) {
	now := time.Now()
	ss := sessions{}
	ss.init()
	old := &deviceAuth{deviceCode: "d1", userCode: "U1", expires: now.Add(-time.Second)}
	live := &deviceAuth{deviceCode: "d2", userCode: "U2", expires: now.Add(time.Minute)}
	ss.byDevice["d1"], ss.byUser["U1"] = old, old
	ss.byDevice["d2"], ss.byUser["U2"] = live, live
	ss.refresh["stale"] = refreshGrant{issued: now.Add(-refreshInactivity - time.Second)}
	ss.refresh["fresh"] = refreshGrant{issued: now}
	ss.prune(now)
	if len(ss.byDevice) != 1 || ss.byDevice["d2"] == nil || len(ss.byUser) != 1 || len(ss.refresh) != 1 {
		t.Errorf("after prune: %d device codes, %d user codes, %d refresh tokens", len(ss.byDevice), len(ss.byUser), len(ss.refresh))
	}
}

// FuzzDelegatedScope: any scope string parses or is refused, never panics,
// and what parses names only known permissions.
func FuzzDelegatedScope(f *testing.F) {
	for _, seed := range []string{syncScope + oidcScopes, "User.Read", "https://graph.microsoft.com/.default", "a/b/c", " ", "/", "https://x/"} {
		f.Add(seed)
	}
	s := &Platform{}
	req := httptest.NewRequest(http.MethodPost, "https://127.0.0.1:8443/t/oauth2/v2.0/token", nil)
	f.Fuzz(func(t *testing.T, scope string) {
		ds, te := s.parseDelegatedScope(req, scope, testTenant)
		if te != nil {
			return
		}
		for _, p := range ds.perms {
			if !knownDelegated(p) {
				t.Fatalf("unknown permission %q accepted from %q", p, scope)
			}
		}
	})
}
