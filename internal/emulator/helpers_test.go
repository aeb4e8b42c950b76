package emulator

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entramatch/entra-match-operator/internal/emulator/grapherr"
)

const (
	testTenant  = "5f1c0b7e-3d2a-4c6b-9e8f-0a1b2c3d4e5f"
	testDomain  = "contoso.onmicrosoft.com"
	testVanity  = "contoso.com"
	adminApp    = "11111111-1111-4111-8111-111111111111"
	readerApp   = "22222222-2222-4222-8222-222222222222"
	noPermApp   = "33333333-3333-4333-8333-333333333333"
	certApp     = "44444444-4444-4444-8444-444444444444"
	userOnlyApp = "55555555-5555-4555-8555-555555555555"
	// paaApp is configured by tests that need an app holding a directory role.
	paaApp     = "66666666-6666-4666-8666-666666666666"
	testSecret = "s3cr3t~value"
)

// The Graph error codes the tests expect, as package grapherr names them.
const (
	codeBadRequest          = grapherr.CodeBadRequest
	codeBadRequestPlain     = grapherr.CodeBadRequestPlain
	codeUnsupportedQuery    = grapherr.CodeUnsupportedQuery
	codeNotFound            = grapherr.CodeNotFound
	codeAuthorizationDenied = grapherr.CodeAuthorizationDenied
	codeInvalidToken        = grapherr.CodeInvalidToken
	codeObjectConflict      = grapherr.CodeObjectConflict
	codeEntityTooLarge      = grapherr.CodeEntityTooLarge
	codeMethodNotAllowed    = grapherr.CodeMethodNotAllowed
	codeInternal            = grapherr.CodeInternal
)

// Wire values of the identity platform that the tests send.
const (
	graphResourceURI = "https://graph.microsoft.com"
	grantDeviceCode  = "urn:ietf:params:oauth:grant-type:device_code"
	// assertionTypeJWTBearer is client_assertion_type of a client assertion.
	assertionTypeJWTBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
)

// Graph's answer to a body that is not one JSON object, and its request
// size limit (4 MB).
const (
	errUnreadableJSON = "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format."
	maxBodyBytes      = 4 << 20
)

var adminPerms = []string{
	"User.ReadWrite.All", "Domain.Read.All", "Organization.Read.All",
	"OnPremDirectorySynchronization.ReadWrite.All", "RoleManagement.ReadWrite.Directory",
}

// testClock is a settable clock shared by a test's server.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// testCert is a self-signed RSA certificate for client-assertion tests.
type testCert struct {
	key *rsa.PrivateKey
	der []byte
	pem []byte
}

var (
	certOnce   sync.Once
	sharedCert testCert
)

func newTestCert(t *testing.T) testCert {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7),
		Subject:      pkix.Name{CommonName: "test app"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return testCert{key: key, der: der, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

func appCert(t *testing.T) testCert {
	certOnce.Do(func() { sharedCert = newTestCert(t) })
	return sharedCert
}

type harness struct {
	t      *testing.T
	srv    *Server
	clock  *testClock
	client *http.Client
	tokens map[string]string
}

type harnessOpt func(*Config)

// withApp adds an app registration to the harness's tenant.
func withApp(a App) harnessOpt { return func(c *Config) { c.Apps = append(c.Apps, a) } }

func newHarness(t *testing.T, opts ...harnessOpt) *harness {
	t.Helper()
	clock := &testClock{now: time.Now().UTC().Truncate(time.Second)}
	cfg := Config{
		TenantID:      testTenant,
		InitialDomain: testDomain,
		Clock:         clock.Now,
		Apps: []App{
			{ClientID: adminApp, Secret: testSecret, Permissions: adminPerms},
			{ClientID: readerApp, Secret: testSecret, Permissions: []string{"User.Read.All", "RoleManagement.Read.Directory", "OnPremDirectorySynchronization.Read.All"}},
			{ClientID: noPermApp, Secret: testSecret},
			{ClientID: certApp, CertificatePEM: appCert(t).pem, Permissions: []string{"User.Read.All"}},
			{ClientID: userOnlyApp, Secret: testSecret, Permissions: []string{"User.ReadWrite.All"}},
		},
		State: &Snapshot{
			Domains: []Domain{{ID: testVanity, AuthenticationType: "Managed", IsVerified: true, IsDefault: true}},
			Sync:    DefaultSyncState(),
		},
		AppOnlySyncFeatures: true,
	}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := srv.Start("127.0.0.1:0", t.TempDir()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(srv.CACertPEM()) {
		t.Fatal("CA PEM did not parse")
	}
	client := &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}},
	}
	t.Cleanup(client.CloseIdleConnections) // runs before the server's Close
	return &harness{t: t, srv: srv, clock: clock, client: client, tokens: map[string]string{}}
}

type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

func (r response) errorCode() string {
	e, _ := r.body["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func (r response) errorMessage() string {
	e, _ := r.body["error"].(map[string]any)
	c, _ := e["message"].(string)
	return c
}

func (h *harness) tokenRequest(tenant string, form url.Values) response {
	h.t.Helper()
	return h.send(http.MethodPost, "/"+tenant+"/oauth2/v2.0/token", "", strings.NewReader(form.Encode()),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
}

func (h *harness) token(clientID string) string {
	h.t.Helper()
	if tok, ok := h.tokens[clientID]; ok {
		return tok
	}
	res := h.tokenRequest(testTenant, url.Values{
		"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {testSecret},
		"scope": {"https://graph.microsoft.com/.default"},
	})
	if res.status != http.StatusOK {
		h.t.Fatalf("token for %s: %d %s", clientID, res.status, res.raw)
	}
	tok, _ := res.body["access_token"].(string)
	h.tokens[clientID] = tok
	return tok
}

func (h *harness) send(method, path, token string, body io.Reader, headers map[string]string) response {
	h.t.Helper()
	req, err := http.NewRequest(method, h.srv.URL()+path, body)
	if err != nil {
		h.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	out := response{status: resp.StatusCode, header: resp.Header, raw: raw}
	if len(bytes.TrimSpace(raw)) > 0 && strings.Contains(resp.Header.Get("Content-Type"), "json") {
		if err := json.Unmarshal(raw, &out.body); err != nil {
			h.t.Fatalf("%s %s: response is not a JSON object: %v: %s", method, path, err, raw)
		}
	}
	return out
}

// graph calls a /v1.0 route as app clientID with an optional JSON body.
func (h *harness) graph(clientID, method, path string, body any, headers ...string) response {
	h.t.Helper()
	var rdr io.Reader
	if body != nil {
		switch b := body.(type) {
		case string:
			rdr = strings.NewReader(b)
		default:
			raw, err := json.Marshal(b)
			if err != nil {
				h.t.Fatal(err)
			}
			rdr = bytes.NewReader(raw)
		}
	}
	hdr := map[string]string{"Content-Type": "application/json"}
	for i := 0; i+1 < len(headers); i += 2 {
		hdr[headers[i]] = headers[i+1]
	}
	tok := ""
	if clientID != "" {
		tok = h.token(clientID)
	}
	return h.send(method, "/v1.0"+path, tok, rdr, hdr)
}

func (h *harness) mustStatus(res response, want int) {
	h.t.Helper()
	if res.status != want {
		h.t.Fatalf("status %d, want %d: %s", res.status, want, res.raw)
	}
}

// createUser creates a cloud user through Graph and returns its id.
func (h *harness) createUser(nick string, extra map[string]any) string {
	h.t.Helper()
	body := map[string]any{
		"accountEnabled": true, "displayName": nick, "mailNickname": nick,
		"userPrincipalName": nick + "@" + testVanity,
		"passwordProfile":   map[string]any{"password": "P@ssw0rd!", "forceChangePasswordNextSignIn": true},
	}
	for k, v := range extra {
		body[k] = v
	}
	res := h.graph(adminApp, http.MethodPost, "/users", body)
	h.mustStatus(res, http.StatusCreated)
	id, _ := res.body["id"].(string)
	return id
}

func ptr[T any](v T) *T { return &v }

// signingKey returns the kid and public key the emulator signs tokens with.
func (h *harness) signingKey() (string, *rsa.PublicKey) { return h.srv.identity.PublicKey() }
