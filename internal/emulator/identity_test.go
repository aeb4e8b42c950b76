package emulator

import (
	"crypto/sha1" //nolint:gosec // test builds x5t thumbprints
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/entramatch/entra-match-operator/internal/emulator/jose"
)

const (
	docClientCreds = "https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow"
	docCertCreds   = "https://learn.microsoft.com/en-us/entra/identity-platform/certificate-credentials"
	docErrorCodes  = "https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes"
)

func TestDiscovery(t *testing.T) {
	h := newHarness(t)
	res := h.send(http.MethodGet, "/"+testTenant+"/v2.0/.well-known/openid-configuration", "", nil, nil)
	h.mustStatus(res, http.StatusOK)
	base := h.srv.URL() + "/" + testTenant
	for k, want := range map[string]string{
		"token_endpoint":                base + "/oauth2/v2.0/token",
		"authorization_endpoint":        base + "/oauth2/v2.0/authorize",
		"device_authorization_endpoint": base + "/oauth2/v2.0/devicecode",
		"issuer":                        base + "/v2.0",
		"jwks_uri":                      base + "/discovery/v2.0/keys",
	} {
		if got := res.body[k]; got != want {
			t.Errorf("%s = %v, want %s", k, got, want)
		}
	}
	// The tenant may also be named by one of its domains.
	h.mustStatus(h.send(http.MethodGet, "/"+testDomain+"/v2.0/.well-known/openid-configuration", "", nil, nil), http.StatusOK)

	keys := h.send(http.MethodGet, "/"+testTenant+"/discovery/v2.0/keys", "", nil, nil)
	h.mustStatus(keys, http.StatusOK)
	list, _ := keys.body["keys"].([]any)
	if len(list) != 1 {
		t.Fatalf("want one key, got %v", keys.body)
	}
	k := list[0].(map[string]any)
	kid, _ := h.signingKey()
	if k["kty"] != "RSA" || k["kid"] != kid || k["n"] == "" {
		t.Errorf("unexpected JWK %v", k)
	}
}

func TestTokenEndpoint(t *testing.T) {
	h := newHarness(t)
	graphScope := "https://graph.microsoft.com/.default"
	secretForm := func(client, secret, scope string) url.Values {
		return url.Values{"grant_type": {"client_credentials"}, "client_id": {client}, "client_secret": {secret}, "scope": {scope}}
	}
	tests := []struct {
		name       string
		tenant     string
		form       url.Values
		wantStatus int
		wantError  string
		wantCode   float64
		doc        string
	}{
		{"secret ok with MSAL's extra scopes", testTenant, secretForm(adminApp, testSecret, graphScope+" openid offline_access profile"), 200, "", 0, docClientCreds},
		{"tenant by domain", testDomain, secretForm(adminApp, testSecret, graphScope), 200, "", 0, docClientCreds},
		{"Graph app id as resource", testTenant, secretForm(adminApp, testSecret, "00000003-0000-0000-c000-000000000000/.default"), 200, "", 0, docClientCreds},
		{"wrong secret", testTenant, secretForm(adminApp, "nope", graphScope), 401, "invalid_client", 7000215, docErrorCodes},
		{"app without secret", testTenant, secretForm(certApp, "anything", graphScope), 401, "invalid_client", 7000215, docErrorCodes},
		{"unknown app", testTenant, secretForm(uuid.NewString(), testSecret, graphScope), 400, "unauthorized_client", 700016, docErrorCodes},
		{"unknown tenant", uuid.NewString(), secretForm(adminApp, testSecret, graphScope), 400, "invalid_tenant", 90002, docErrorCodes},
		{"no credential", testTenant, url.Values{"grant_type": {"client_credentials"}, "client_id": {adminApp}, "scope": {graphScope}}, 401, "invalid_client", 7000218, docErrorCodes},
		{"no grant type", testTenant, url.Values{"client_id": {adminApp}}, 400, "invalid_request", 900144, docErrorCodes},
		{"password grant", testTenant, url.Values{"grant_type": {"password"}, "client_id": {adminApp}}, 400, "unsupported_grant_type", 70003, docErrorCodes},
		{"scope without .default", testTenant, secretForm(adminApp, testSecret, "User.Read"), 400, "invalid_scope", 1002012, docClientCreds},
		{"other resource", testTenant, secretForm(adminApp, testSecret, "https://management.azure.com/.default"), 400, "invalid_resource", 500011, docErrorCodes},
		{"missing scope", testTenant, url.Values{"grant_type": {"client_credentials"}, "client_id": {adminApp}, "client_secret": {testSecret}}, 400, "invalid_request", 900144, docErrorCodes},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := h.tokenRequest(tt.tenant, tt.form)
			if res.status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", res.status, tt.wantStatus, res.raw)
			}
			if tt.wantError == "" {
				if res.body["token_type"] != "Bearer" || res.body["access_token"] == "" || res.body["expires_in"] == nil {
					t.Fatalf("bad token response %s", res.raw)
				}
				return
			}
			checkTokenError(t, res, tt.wantError, tt.wantCode)
		})
	}
}

func checkTokenError(t *testing.T, res response, wantErr string, wantCode float64) {
	t.Helper()
	if res.body["error"] != wantErr {
		t.Errorf("error = %v, want %s", res.body["error"], wantErr)
	}
	codes, _ := res.body["error_codes"].([]any)
	if len(codes) != 1 || codes[0] != wantCode {
		t.Errorf("error_codes = %v, want [%v]", res.body["error_codes"], wantCode)
	}
	desc, _ := res.body["error_description"].(string)
	if !strings.HasPrefix(desc, "AADSTS") || !strings.Contains(desc, "Trace ID:") {
		t.Errorf("error_description %q lacks the AADSTS prefix or trace id", desc)
	}
	for _, k := range []string{"timestamp", "trace_id", "correlation_id"} {
		if s, _ := res.body[k].(string); s == "" {
			t.Errorf("missing %s in %s", k, res.raw)
		}
	}
}

func TestClientAssertion(t *testing.T) {
	h := newHarness(t)
	cert := appCert(t)
	other := newTestCert(t)
	aud := h.srv.URL() + "/" + testTenant + "/oauth2/v2.0/token"
	now := time.Now()
	s1 := sha1.Sum(cert.der) //nolint:gosec
	s256 := sha256.Sum256(cert.der)
	claims := func(mod func(map[string]any)) map[string]any {
		c := map[string]any{"aud": aud, "iss": certApp, "sub": certApp, "jti": uuid.NewString(),
			"nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix()}
		if mod != nil {
			mod(c)
		}
		return c
	}
	sign := func(alg string, key *testCert, header map[string]any, c map[string]any) string {
		tok, err := jose.Sign(alg, key.key, header, c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	msalHeader := map[string]any{"x5t#S256": base64.StdEncoding.EncodeToString(s256[:])}
	tests := []struct {
		name      string
		assertion string
		wantErr   string
		wantCode  float64
		doc       string
	}{
		{"PS256 with x5t#S256 as MSAL sends", sign(jose.PS256, &cert, msalHeader, claims(nil)), "", 0, docCertCreds},
		{"RS256 with x5t", sign(jose.RS256, &cert, map[string]any{"x5t": base64.RawURLEncoding.EncodeToString(s1[:])}, claims(nil)), "", 0, docCertCreds},
		{"signed by another key", sign(jose.PS256, &other, msalHeader, claims(nil)), "invalid_client", 700027, docCertCreds},
		{"unknown thumbprint", sign(jose.PS256, &cert, map[string]any{"x5t#S256": base64.StdEncoding.EncodeToString(make([]byte, 32))}, claims(nil)), "invalid_client", 700027, docCertCreds},
		{"expired", sign(jose.PS256, &cert, msalHeader, claims(func(c map[string]any) {
			c["nbf"] = now.Add(-2 * time.Hour).Unix()
			c["exp"] = now.Add(-time.Hour).Unix()
		})), "invalid_client", 700024, docCertCreds},
		{"not yet valid", sign(jose.PS256, &cert, msalHeader, claims(func(c map[string]any) { c["nbf"] = now.Add(time.Hour).Unix() })), "invalid_client", 700024, docCertCreds},
		{"wrong audience", sign(jose.PS256, &cert, msalHeader, claims(func(c map[string]any) { c["aud"] = "https://example.com/token" })), "invalid_client", 700023, docCertCreds},
		{"issuer is not the client", sign(jose.PS256, &cert, msalHeader, claims(func(c map[string]any) { c["iss"] = adminApp; c["sub"] = adminApp })), "invalid_client", 700021, docCertCreds},
		{"malformed", "not-a-jwt", "invalid_request", 50027, docErrorCodes},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := h.tokenRequest(testTenant, url.Values{
				"grant_type": {"client_credentials"}, "client_id": {certApp}, "scope": {"https://graph.microsoft.com/.default"},
				"client_assertion_type": {assertionTypeJWTBearer}, "client_assertion": {tt.assertion},
			})
			if tt.wantErr == "" {
				h.mustStatus(res, http.StatusOK)
				tok, err := jose.Parse(res.body["access_token"].(string))
				if err != nil {
					t.Fatal(err)
				}
				if tok.ClaimString("appidacr") != "2" || tok.ClaimString("appid") != certApp {
					t.Errorf("certificate token claims %v", tok.Claims)
				}
				return
			}
			if res.status != http.StatusUnauthorized && res.status != http.StatusBadRequest {
				t.Fatalf("status %d: %s", res.status, res.raw)
			}
			checkTokenError(t, res, tt.wantErr, tt.wantCode)
		})
	}
}

func TestAccessTokenClaims(t *testing.T) {
	h := newHarness(t)
	tok, err := jose.Parse(h.token(adminApp))
	if err != nil {
		t.Fatal(err)
	}
	_, pub := h.signingKey()
	if err := tok.Verify(pub); err != nil {
		t.Fatal(err)
	}
	if tok.Alg() != jose.RS256 || tok.HeaderString("kid") == "" {
		t.Errorf("header %v", tok.Header)
	}
	if tok.ClaimString("aud") != graphResourceURI || tok.ClaimString("tid") != testTenant ||
		tok.ClaimString("appid") != adminApp || tok.ClaimString("azp") != adminApp || tok.ClaimString("idtyp") != "app" {
		t.Errorf("claims %v", tok.Claims)
	}
	roles := tok.ClaimStrings("roles")
	if strings.Join(roles, ",") != strings.Join(adminPerms, ",") {
		t.Errorf("roles = %v, want %v", roles, adminPerms)
	}
	iat, _ := tok.ClaimInt("iat")
	exp, _ := tok.ClaimInt("exp")
	if exp-iat != 3600 {
		t.Errorf("lifetime %d s, want 3600", exp-iat)
	}
}

// The emulator is Graph served at its own origin, the resource of a cloud
// whose Graph lives at a custom URL. A token's aud is the resource asked
// for; with OwnAudienceOnly, Graph refuses a token for the public cloud's
// Graph, so a client sending such a token to a custom host is caught.
func TestTokenAudienceFollowsTheRequestedResource(t *testing.T) {
	for _, c := range []struct {
		name      string
		ownOnly   bool
		scope     string
		wantGraph int
	}{
		{"own origin", false, "", http.StatusOK},
		{"public Graph, lenient", false, "https://graph.microsoft.com/.default", http.StatusOK},
		{"own origin, strict", true, "", http.StatusOK},
		{"public Graph, strict", true, "https://graph.microsoft.com/.default", http.StatusUnauthorized},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, func(cfg *Config) { cfg.OwnAudienceOnly = c.ownOnly })
			scope := c.scope
			if scope == "" {
				scope = h.srv.URL() + "/.default"
			}
			res := h.tokenRequest(testTenant, url.Values{"grant_type": {"client_credentials"}, "client_id": {adminApp},
				"client_secret": {testSecret}, "scope": {scope}})
			if res.status != http.StatusOK {
				t.Fatalf("token: %d %s", res.status, res.raw)
			}
			tok, _ := res.body["access_token"].(string)
			if got := h.send(http.MethodGet, "/v1.0/domains", tok, nil, nil); got.status != c.wantGraph {
				t.Errorf("Graph answered %d, want %d", got.status, c.wantGraph)
			}
		})
	}
	// Another host's resource does not exist in the tenant.
	h := newHarness(t)
	res := h.tokenRequest(testTenant, url.Values{"grant_type": {"client_credentials"}, "client_id": {adminApp},
		"client_secret": {testSecret}, "scope": {"https://graph.attacker.example/.default"}})
	if res.status != http.StatusBadRequest {
		t.Errorf("a token for another host was issued: %d", res.status)
	}
}
