package graph

import (
	"compress/gzip"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	fakeTenant = "11111111-2222-3333-4444-555555555555"
	fakeClient = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
	fakeSecret = "s3cret-value"
	fakeToken  = "fake-access-token"
)

// fakeCloud is a TLS server playing both the identity platform (discovery
// and client-credentials token endpoint) and Graph (/v1.0/...), recording
// every Graph request it receives.
type fakeCloud struct {
	t      *testing.T
	srv    *httptest.Server
	graph  http.HandlerFunc
	secret string
	// assertion, when set, accepts or refuses a client_assertion.
	assertion func(string) bool

	mu       sync.Mutex
	requests []recorded
}

type recorded struct {
	Method string
	Path   string
	Query  string
	Header http.Header
	Body   []byte
	// ContentLength as the server saw it: -1 for a chunked body.
	ContentLength int64
}

func newFakeCloud(t *testing.T, graph http.HandlerFunc) *fakeCloud {
	t.Helper()
	f := &fakeCloud{t: t, graph: graph, secret: fakeSecret}
	f.srv = httptest.NewTLSServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeCloud) serve(w http.ResponseWriter, r *http.Request) {
	base := f.srv.URL
	switch {
	case strings.HasSuffix(r.URL.Path, "/v2.0/.well-known/openid-configuration"):
		tenant := strings.Split(strings.Trim(r.URL.Path, "/"), "/")[0]
		writeJSON(w, http.StatusOK, map[string]any{
			"token_endpoint":         base + "/" + tenant + "/oauth2/v2.0/token",
			"authorization_endpoint": base + "/" + tenant + "/oauth2/v2.0/authorize",
			"issuer":                 base + "/" + tenant + "/v2.0",
			"jwks_uri":               base + "/" + tenant + "/discovery/v2.0/keys",
		})
	case strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token"):
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if a := r.PostForm.Get("client_assertion"); a != "" {
			if f.assertion == nil || !f.assertion(a) ||
				r.PostForm.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
				writeJSON(w, http.StatusUnauthorized, map[string]any{
					"error": "invalid_client", "error_description": "AADSTS700027: Client assertion failed signature validation.",
				})
				return
			}
		} else if r.PostForm.Get("client_secret") != f.secret {
			writeJSON(w, http.StatusUnauthorized, map[string]any{
				"error":             "invalid_client",
				"error_description": "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: 1\r\nCorrelation ID: 2",
				"error_codes":       []int{7000215},
			})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"token_type": "Bearer", "expires_in": 3600, "ext_expires_in": 3600, "access_token": fakeToken,
		})
	case strings.HasPrefix(r.URL.Path, "/v1.0/"):
		body, err := readBody(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.requests = append(f.requests, recorded{
			Method: r.Method, Path: strings.TrimPrefix(r.URL.Path, "/v1.0"), Query: r.URL.RawQuery,
			Header: r.Header.Clone(), Body: body, ContentLength: r.ContentLength,
		})
		f.mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer "+fakeToken {
			graphError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty.")
			return
		}
		f.graph(w, r)
	default:
		http.NotFound(w, r)
	}
}

// readBody undoes kiota's request compression.
func readBody(r *http.Request) ([]byte, error) {
	var rd io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, err
		}
		rd = zr
	}
	return io.ReadAll(rd)
}

func (f *fakeCloud) recorded() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.requests...)
}

func (f *fakeCloud) caPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.srv.Certificate().Raw})
}

func (f *fakeCloud) config() Config {
	return Config{
		Endpoints:  Endpoints{GraphURL: f.srv.URL + "/v1.0", AuthorityURL: f.srv.URL, CAPEM: f.caPEM()},
		Credential: Credential{TenantID: fakeTenant, ClientID: fakeClient, ClientSecret: fakeSecret},
		Timeout:    10 * time.Second,
	}
}

func (f *fakeCloud) client(obs Observer) *Client {
	f.t.Helper()
	cfg := f.config()
	cfg.Observer = obs
	c, err := New(cfg)
	if err != nil {
		f.t.Fatalf("New: %v", err)
	}
	return c
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

type detail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Target  string `json:"target,omitempty"`
}

// graphError writes the error shape Graph documents at
// https://learn.microsoft.com/graph/errors.
func graphError(w http.ResponseWriter, status int, code, message string, details ...detail) {
	w.Header().Set("request-id", "req-"+code)
	writeJSON(w, status, map[string]any{"error": map[string]any{
		"code": code, "message": message, "details": details,
		"innerError": map[string]any{"date": "2026-01-01T00:00:00", "request-id": "inner-" + code, "client-request-id": "c"},
	}})
}

// recordingObserver collects Observer calls.
type recordingObserver struct {
	mu    sync.Mutex
	calls []observation
}

type observation struct {
	Op     string
	Status int
}

func (o *recordingObserver) ObserveRequest(op string, status int, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls = append(o.calls, observation{op, status})
}

func (o *recordingObserver) all() []observation {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]observation(nil), o.calls...)
}
