package graph

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entramatch/entra-match-operator/internal/cloud"
)

const docCertCredentials = "https://learn.microsoft.com/entra/identity-platform/certificate-credentials"

// selfSignedPEM returns a certificate and its PKCS#8 key, PEM encoded.
func selfSignedPEM(t *testing.T) []byte {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "entra-match-operator-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk})...)
}

// jwtParts decodes a JWT's header and claims without verifying it (the fake
// only checks the shape azidentity produces).
func jwtParts(a string) (header, claims map[string]any, ok bool) {
	parts := strings.Split(a, ".")
	if len(parts) != 3 {
		return nil, nil, false
	}
	dec := func(s string, v any) bool {
		b, err := base64.RawURLEncoding.DecodeString(s)
		return err == nil && json.Unmarshal(b, v) == nil
	}
	if !dec(parts[0], &header) || !dec(parts[1], &claims) {
		return nil, nil, false
	}
	return header, claims, true
}

func TestCertificateCredential(t *testing.T) {
	var sawAssertion bool
	f := newFakeCloud(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"value": []any{map[string]any{"id": "contoso.com", "isVerified": true}}})
	})
	f.assertion = func(a string) bool {
		h, c, ok := jwtParts(a)
		sawAssertion = ok && c["iss"] == fakeClient && c["sub"] == fakeClient && (h["x5t"] != nil || h["x5t#S256"] != nil)
		return sawAssertion
	}
	cfg := f.config()
	cfg.Credential.ClientSecret = ""
	cfg.Credential.CertificatePEM = selfSignedPEM(t)
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	domains, err := c.Domains(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !sawAssertion || len(domains) != 1 || !domains[0].IsVerified {
		t.Errorf("assertion accepted = %v, domains = %+v (doc: %s)", sawAssertion, domains, docCertCredentials)
	}
}

func TestCertificateCredentialRejectsBadPEM(t *testing.T) {
	cfg := Config{
		Endpoints:  Endpoints{GraphURL: "https://graph.microsoft.com/v1.0", AuthorityURL: "https://login.microsoftonline.com"},
		Credential: Credential{TenantID: fakeTenant, ClientID: fakeClient, CertificatePEM: []byte("not a pem")},
	}
	if _, err := New(cfg); err == nil {
		t.Fatal("want an error for a PEM without certificate and key")
	}
}

func TestFederatedTokenFileIsReadPerRequest(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "token")
	if err := os.WriteFile(path, []byte("federated-token-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var got []string
	f := newFakeCloud(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"value": []any{}})
	})
	f.assertion = func(a string) bool {
		got = append(got, a)
		return strings.HasPrefix(a, "federated-token-")
	}
	cfg := f.config()
	cfg.Credential.ClientSecret = ""
	cfg.Credential.FederatedTokenFile = path
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Domains(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != "federated-token-1" {
		t.Errorf("assertions sent = %q, want the trimmed file content", got)
	}

	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if _, err := readAssertion(path); err == nil {
		t.Error("a missing token file must be an error")
	}
}

func TestRefusedAssertionIsUnauthenticated(t *testing.T) {
	f := newFakeCloud(t, func(w http.ResponseWriter, r *http.Request) { t.Error("Graph must not be called") })
	f.assertion = func(string) bool { return false }
	cfg := f.config()
	cfg.Credential.ClientSecret = ""
	cfg.Credential.CertificatePEM = selfSignedPEM(t)
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Domains(context.Background())
	if cloud.ClassOf(err) != cloud.ClassUnauthenticated {
		t.Fatalf("class = %s, want Unauthenticated (err %v)", cloud.ClassOf(err), err)
	}
}
