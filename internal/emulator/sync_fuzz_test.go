package emulator

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzSyncRequest feeds arbitrary bodies to POST /_emulator/sync: the
// answer is 200 or a Graph-shaped 4xx, never a 500 or a panic, and the
// tenant stays loadable.
func FuzzSyncRequest(f *testing.F) {
	for _, seed := range []string{
		`{"objects":[{"type":"user","sourceAnchor":"QQ==","userPrincipalName":"a@contoso.com","proxyAddresses":["SMTP:a@contoso.com"]}]}`,
		`{"objects":[{"type":"group","sourceAnchor":"Rw==","mail":"g@contoso.com"},{"type":"contact","sourceAnchor":"Qw=="}],"fullSync":true}`,
		`{"objects":[{"type":"user","sourceAnchor":"a$b_c","userPrincipalName":"x y@corp.local"}]}`,
		`{"objects":[{"type":"user","sourceAnchor":"QQ==","userPrincipalName":"@"},{"type":"user","sourceAnchor":"QQ=="}]}`,
		`{"objects":null}`, `[]`, `{`, ``,
	} {
		f.Add(seed)
	}
	srv, err := New(Config{TenantID: testTenant, InitialDomain: testDomain,
		State: &Snapshot{Domains: []Domain{{ID: testVanity, IsVerified: true}}}})
	if err != nil {
		f.Fatal(err)
	}
	h := srv.Handler()
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest(http.MethodPost, "/_emulator/sync", strings.NewReader(body))
		req.RemoteAddr = "127.0.0.1:1234"
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK && (rec.Code < 400 || rec.Code >= 500) {
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body.String())
		}
		if err := srv.Replace(srv.Snapshot()); err != nil {
			t.Fatalf("state no longer loads after %q: %v", body, err)
		}
	})
}
