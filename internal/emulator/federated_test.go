package emulator

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/entramatch/entra-match-operator/internal/emulator/jose"
)

const (
	docWorkloadFederation = "https://learn.microsoft.com/en-us/entra/workload-id/workload-identity-federation"
	// The error texts Entra returns for federation mismatches are quoted in
	// the azure-workload-identity troubleshooting guide.
	docWorkloadTroubleshooting = "https://github.com/Azure/azure-workload-identity/blob/main/docs/book/src/troubleshooting.md"

	fedApp     = "66666666-6666-4666-8666-666666666666"
	fedIssuer  = "https://oidc.cluster.example/issuer"
	fedSubject = "system:serviceaccount:entramatch-system:operator"
)

func jwksFor(t *testing.T, c testCert, kid string) []byte {
	t.Helper()
	pub := c.key.PublicKey
	raw, err := json.Marshal(map[string]any{"keys": []any{map[string]any{
		"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
		"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}}})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestFederatedAssertion(t *testing.T) {
	issuerKey := newTestCert(t)
	pemIssuerKey := newTestCert(t)
	stranger := newTestCert(t)
	pubDER, err := x509.MarshalPKIXPublicKey(&pemIssuerKey.key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	const pemIssuer = "https://token.actions.example"
	h := newHarness(t, func(c *Config) {
		c.Apps = append(c.Apps, App{ClientID: fedApp, Permissions: []string{"User.Read.All"}, FederatedCredentials: []FederatedCredential{
			{Issuer: fedIssuer, Subject: fedSubject, JWKS: jwksFor(t, issuerKey, "k1")},
			{Issuer: pemIssuer, Subject: "repo:org/repo:ref:refs/heads/main", Audiences: []string{"api://custom"},
				PublicKeysPEM: pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})},
		}})
	})
	now := h.clock.Now()
	claims := func(mod func(map[string]any)) map[string]any {
		c := map[string]any{"iss": fedIssuer, "sub": fedSubject, "aud": []string{DefaultFederatedAudience},
			"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix()}
		if mod != nil {
			mod(c)
		}
		return c
	}
	sign := func(key testCert, kid string, c map[string]any) string {
		hdr := map[string]any{}
		if kid != "" {
			hdr["kid"] = kid
		}
		tok, err := jose.Sign(jose.RS256, key.key, hdr, c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	tests := []struct {
		name      string
		client    string
		assertion string
		status    int
		wantErr   string
		wantCode  float64
		doc       string
	}{
		{"kubernetes service account token", fedApp, sign(issuerKey, "k1", claims(nil)), 200, "", 0, docWorkloadFederation},
		{"no kid header still finds the key", fedApp, sign(issuerKey, "", claims(nil)), 200, "", 0, docWorkloadFederation},
		{"PEM key, custom audience", fedApp, sign(pemIssuerKey, "", claims(func(c map[string]any) {
			c["iss"], c["sub"], c["aud"] = pemIssuer, "repo:org/repo:ref:refs/heads/main", "api://custom"
		})), 200, "", 0, docWorkloadFederation},
		{"unknown issuer", fedApp, sign(issuerKey, "k1", claims(func(c map[string]any) { c["iss"] = "https://evil.example" })),
			400, "invalid_client", 700211, docWorkloadTroubleshooting},
		{"issuer differs by a trailing slash", fedApp, sign(issuerKey, "k1", claims(func(c map[string]any) { c["iss"] = fedIssuer + "/" })),
			400, "invalid_client", 700211, docWorkloadTroubleshooting},
		{"other service account", fedApp, sign(issuerKey, "k1", claims(func(c map[string]any) { c["sub"] = "system:serviceaccount:default:default" })),
			400, "invalid_client", 700213, docWorkloadTroubleshooting},
		{"default service account token audience", fedApp, sign(issuerKey, "k1", claims(func(c map[string]any) { c["aud"] = "https://kubernetes.default.svc" })),
			400, "invalid_client", 700212, docWorkloadTroubleshooting},
		{"signed by another key", fedApp, sign(stranger, "k1", claims(nil)), 401, "invalid_client", 700027, docErrorCodes},
		{"expired", fedApp, sign(issuerKey, "k1", claims(func(c map[string]any) {
			c["nbf"], c["exp"] = now.Add(-2*time.Hour).Unix(), now.Add(-time.Hour).Unix()
		})), 400, "invalid_client", 700024, docErrorCodes},
		{"not yet valid", fedApp, sign(issuerKey, "k1", claims(func(c map[string]any) { c["nbf"] = now.Add(time.Hour).Unix() })),
			400, "invalid_client", 700024, docErrorCodes},
		{"app without federated credentials", adminApp, sign(issuerKey, "k1", claims(nil)), 400, "invalid_request", 70021, docWorkloadTroubleshooting},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := h.tokenRequest(testTenant, url.Values{
				"grant_type": {"client_credentials"}, "client_id": {tt.client}, "scope": {"https://graph.microsoft.com/.default"},
				"client_assertion_type": {assertionTypeJWTBearer}, "client_assertion": {tt.assertion},
			})
			if res.status != tt.status {
				t.Fatalf("status %d, want %d: %s", res.status, tt.status, res.raw)
			}
			if tt.wantErr != "" {
				checkTokenError(t, res, tt.wantErr, tt.wantCode)
				return
			}
			tok, err := jose.Parse(res.body["access_token"].(string))
			if err != nil {
				t.Fatal(err)
			}
			if tok.ClaimString("appid") != fedApp || tok.ClaimString("idtyp") != "app" {
				t.Errorf("claims %v", tok.Claims)
			}
			// The token works on Graph with the app's permissions.
			got := h.send(http.MethodGet, "/v1.0/users", res.body["access_token"].(string), nil, nil)
			h.mustStatus(got, http.StatusOK)
		})
	}
}

func TestFederatedCredentialConfig(t *testing.T) {
	key := newTestCert(t)
	tests := []struct {
		name string
		fc   FederatedCredential
		ok   bool
	}{
		{"JWKS", FederatedCredential{Issuer: fedIssuer, Subject: fedSubject, JWKS: jwksFor(t, key, "k")}, true},
		{"certificate PEM", FederatedCredential{Issuer: fedIssuer, Subject: fedSubject, PublicKeysPEM: key.pem}, true},
		{"no key", FederatedCredential{Issuer: fedIssuer, Subject: fedSubject}, false},
		{"no subject", FederatedCredential{Issuer: fedIssuer, JWKS: jwksFor(t, key, "k")}, false},
		{"bad JWKS", FederatedCredential{Issuer: fedIssuer, Subject: fedSubject, JWKS: []byte(`{"keys":[{"kty":"RSA","n":"!!","e":"AQAB"}]}`)}, false},
		{"garbage PEM", FederatedCredential{Issuer: fedIssuer, Subject: fedSubject, PublicKeysPEM: []byte("nope")}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(Config{TenantID: testTenant, InitialDomain: testDomain,
				Apps: []App{{ClientID: uuid.NewString(), FederatedCredentials: []FederatedCredential{tt.fc}}}})
			if (err == nil) != tt.ok {
				t.Fatalf("New err = %v, want ok=%v", err, tt.ok)
			}
		})
	}
	for _, data := range [][]byte{jwksFor(t, key, "k"), key.pem} {
		if _, err := ParseFederatedKeys(data); err != nil {
			t.Errorf("ParseFederatedKeys: %v", err)
		}
	}
	if _, err := ParseFederatedKeys([]byte("{}")); err == nil {
		t.Error("ParseFederatedKeys accepted an empty JWKS")
	}
}
