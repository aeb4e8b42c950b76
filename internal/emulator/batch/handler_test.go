package batch

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/entramatch/entra-match-operator/internal/emulator/odataerr"
)

// The cases follow https://learn.microsoft.com/graph/json-batching and its known
// issues (https://developer.microsoft.com/en-us/graph/known-issues/?filterBy=JSON%20batching).

// graph is a stand-in for the emulated Graph handler; it records what reached it.
type graph struct {
	calls []string
	// limit, when > 0, answers 429 after that many calls (a per-item throttle).
	limit int
}

func (g *graph) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.calls = append(g.calls, r.Method+" "+r.URL.RequestURI())
	if g.limit > 0 && len(g.calls) > g.limit {
		w.Header().Set("Retry-After", "3")
		odataerr.Write(w, r, http.StatusTooManyRequests, "TooManyRequests", "slow down")
		return
	}
	if r.Header.Get("Authorization") != "Bearer outer" {
		odataerr.Write(w, r, http.StatusUnauthorized, "InvalidAuthenticationToken", "no token")
		return
	}
	switch {
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v1.0/users/"):
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":%q,"consistency":%q,"query":%q}`,
			strings.TrimPrefix(r.URL.Path, "/v1.0/users/"), r.Header.Get("ConsistencyLevel"), r.URL.RawQuery)
	case r.Method == http.MethodPost && r.URL.Path == "/v1.0/users":
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Location", "/v1.0/users/new")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write(b)
	case r.Method == http.MethodPut && r.URL.Path == "/v1.0/photo":
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(append([]byte("echo:"), b...))
	case r.Method == http.MethodDelete:
		w.WriteHeader(http.StatusNoContent)
	default:
		odataerr.Write(w, r, http.StatusNotFound, "Request_ResourceNotFound", "not found")
	}
}

func post(t *testing.T, h http.Handler, path, body string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authorization", "Bearer outer")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

func decode(t *testing.T, rec *httptest.ResponseRecorder) []Response {
	t.Helper()
	if rec.Code != http.StatusOK {
		t.Fatalf("batch status %d: %s", rec.Code, rec.Body.String())
	}
	var out responseBody
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("batch body: %v\n%s", err, rec.Body.String())
	}
	return out.Responses
}

// summary keeps what a test compares; error bodies are reduced to their code.
type summary struct {
	ID, Body    string
	Status      int
	ContentType string
}

func summarize(t *testing.T, rs []Response) []summary {
	t.Helper()
	var out []summary
	for _, r := range rs {
		s := summary{ID: r.ID, Status: r.Status, ContentType: r.Headers["Content-Type"], Body: string(r.Body)}
		if r.Status >= 400 {
			var e odataerr.Body
			if err := json.Unmarshal(r.Body, &e); err != nil {
				t.Fatalf("item %s error body: %v", r.ID, err)
			}
			s.Body = e.Error.Code
		}
		out = append(out, s)
	}
	return out
}

func TestBatchExecutesItemsThroughInner(t *testing.T) {
	// doc: docBatch (creating a batch request; example JSON batch response)
	g := &graph{}
	h := Handler(g, "/v1.0")
	rec := post(t, h, "/v1.0/$batch", `{"requests":[
		{"id":"1","method":"GET","url":"/users/u1?$select=id","headers":{"ConsistencyLevel":"eventual"}},
		{"id":"2","method":"POST","url":"users","headers":{"Content-Type":"application/json"},"body":{"displayName":"N"}},
		{"id":"3","method":"GET","url":"/nothing"},
		{"id":"4","method":"DELETE","url":"/users/u9"},
		{"id":"5","method":"PUT","url":"/photo","headers":{"Content-Type":"image/png"},"body":"`+base64.StdEncoding.EncodeToString([]byte("PNG"))+`"}
	]}`)
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("batch content-type %q", ct)
	}
	got := decode(t, rec)
	want := []summary{
		{ID: "1", Status: 200, ContentType: "application/json", Body: `{"id":"u1","consistency":"eventual","query":"$select=id"}`},
		{ID: "2", Status: 201, ContentType: "application/json", Body: `{"displayName":"N"}`},
		{ID: "3", Status: 404, ContentType: "application/json", Body: "Request_ResourceNotFound"},
		{ID: "4", Status: 204},
		{ID: "5", Status: 200, ContentType: "image/png", Body: `"` + base64.StdEncoding.EncodeToString([]byte("echo:PNG")) + `"`},
	}
	if diff := cmp.Diff(want, summarize(t, got)); diff != "" {
		t.Errorf("responses (-want +got):\n%s", diff)
	}
	if got[1].Headers["Location"] != "/v1.0/users/new" {
		t.Errorf("item headers not kept: %v", got[1].Headers)
	}
	wantCalls := []string{"GET /v1.0/users/u1?$select=id", "POST /v1.0/users", "GET /v1.0/nothing", "DELETE /v1.0/users/u9", "PUT /v1.0/photo"}
	if diff := cmp.Diff(wantCalls, g.calls); diff != "" {
		t.Errorf("inner calls (-want +got):\n%s", diff)
	}
}

func TestDependsOnOrderAndFailedDependency(t *testing.T) {
	// doc: docBatch#sequencing-requests-with-the-dependson-property, and the "Serial" pattern
	// of docBatchKnownIssues
	g := &graph{}
	h := Handler(g, "/v1.0")
	got := decode(t, post(t, h, "/v1.0/$batch", `{"requests":[
		{"id":"a","method":"GET","url":"/users/a"},
		{"id":"b","method":"GET","url":"/users/b","dependsOn":["A"]},
		{"id":"c","method":"GET","url":"/missing","dependsOn":["b"]},
		{"id":"d","method":"GET","url":"/users/d","dependsOn":["c"]},
		{"id":"e","method":"GET","url":"/users/e","dependsOn":["d"]}
	]}`))
	want := []summary{
		{ID: "a", Status: 200, ContentType: "application/json", Body: `{"id":"a","consistency":"","query":""}`},
		{ID: "b", Status: 200, ContentType: "application/json", Body: `{"id":"b","consistency":"","query":""}`},
		{ID: "c", Status: 404, ContentType: "application/json", Body: "Request_ResourceNotFound"},
		{ID: "d", Status: 424, ContentType: "application/json", Body: "FailedDependency"},
		{ID: "e", Status: 424, ContentType: "application/json", Body: "FailedDependency"},
	}
	if diff := cmp.Diff(want, summarize(t, got)); diff != "" {
		t.Errorf("responses (-want +got):\n%s", diff)
	}
	wantCalls := []string{"GET /v1.0/users/a", "GET /v1.0/users/b", "GET /v1.0/missing"}
	if diff := cmp.Diff(wantCalls, g.calls); diff != "" {
		t.Errorf("execution order (-want +got):\n%s", diff)
	}
}

func TestSameDependencyRunsItFirst(t *testing.T) {
	// doc: docBatchKnownIssues ("Same - all individual requests that state a dependency in the
	// dependsOn property, state the same dependency")
	g := &graph{}
	h := Handler(g, "/v1.0")
	got := decode(t, post(t, h, "/v1.0/$batch", `{"requests":[
		{"id":"a","method":"GET","url":"/users/a","dependsOn":["C"]},
		{"id":"b","method":"GET","url":"/users/b"},
		{"id":"c","method":"GET","url":"/users/c"},
		{"id":"d","method":"GET","url":"/users/d","dependsOn":["c"]}
	]}`))
	if len(got) != 4 {
		t.Fatalf("responses %v", got)
	}
	wantCalls := []string{"GET /v1.0/users/c", "GET /v1.0/users/a", "GET /v1.0/users/b", "GET /v1.0/users/d"}
	if diff := cmp.Diff(wantCalls, g.calls); diff != "" {
		t.Errorf("execution order (-want +got):\n%s", diff)
	}
}

// TestShuffledResponses follows docBatch ("Individual responses might appear in a different
// order than the requests. The id property can be used to correlate individual requests and
// responses.").
func TestShuffledResponses(t *testing.T) {
	body := `{"requests":[
		{"id":"1","method":"GET","url":"/users/1"},
		{"id":"2","method":"GET","url":"/users/2"},
		{"id":"3","method":"GET","url":"/users/3"}
	]}`
	identity := func(n int) []int {
		p := make([]int, n)
		for i := range p {
			p[i] = i
		}
		return p
	}
	reverse := func(n int) []int {
		p := identity(n)
		for i, j := 0, n-1; i < j; i, j = i+1, j-1 {
			p[i], p[j] = p[j], p[i]
		}
		return p
	}
	tests := []struct {
		name string
		opts Options
		want []string
	}{
		{"in request order without the option", Options{}, []string{"1", "2", "3"}},
		{"a permutation", Options{Shuffle: true, Perm: reverse}, []string{"3", "2", "1"}},
		{"never the request order", Options{Shuffle: true, Perm: identity}, []string{"2", "1", "3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &graph{}
			got := decode(t, post(t, HandlerWithOptions(g, "/v1.0", tt.opts), "/v1.0/$batch", body))
			var ids []string
			for _, r := range got {
				ids = append(ids, r.ID)
				var b map[string]any
				if err := json.Unmarshal(r.Body, &b); err != nil || b["id"] != r.ID {
					t.Errorf("response %s carries %v", r.ID, b)
				}
			}
			if diff := cmp.Diff(tt.want, ids); diff != "" {
				t.Errorf("response order (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"GET /v1.0/users/1", "GET /v1.0/users/2", "GET /v1.0/users/3"}, g.calls); diff != "" {
				t.Errorf("execution order (-want +got):\n%s", diff)
			}
		})
	}
	// The default permutation is random but still never the identity.
	for range 20 {
		got := decode(t, post(t, HandlerWithOptions(&graph{}, "/v1.0", Options{Shuffle: true}), "/v1.0/$batch", body))
		if got[0].ID == "1" && got[1].ID == "2" && got[2].ID == "3" {
			t.Fatal("shuffled responses came back in request order")
		}
	}
}

func TestItemsAreThrottledOneByOne(t *testing.T) {
	// doc: docBatch#batch-size-limitations ("Requests in a batch are evaluated individually")
	g := &graph{limit: 2}
	h := Handler(g, "/v1.0")
	got := decode(t, post(t, h, "/v1.0/$batch", `{"requests":[
		{"id":"1","method":"GET","url":"/users/1"},
		{"id":"2","method":"GET","url":"/users/2"},
		{"id":"3","method":"GET","url":"/users/3"},
		{"id":"4","method":"GET","url":"/users/4","dependsOn":["3"]}
	]}`))
	var statuses []int
	for _, r := range got {
		statuses = append(statuses, r.Status)
	}
	if diff := cmp.Diff([]int{200, 200, 429, 424}, statuses); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if got[2].Headers["Retry-After"] != "3" {
		t.Errorf("429 item lost Retry-After: %v", got[2].Headers)
	}
}

func TestOuterAuthorizationWins(t *testing.T) {
	g := &graph{}
	h := Handler(g, "/v1.0")
	got := decode(t, post(t, h, "/v1.0/$batch", `{"requests":[
		{"id":"1","method":"GET","url":"/users/1","headers":{"Authorization":"Bearer forged"}}]}`))
	if got[0].Status != http.StatusOK {
		t.Errorf("item with its own Authorization: status %d", got[0].Status)
	}
}

func TestBadBatches(t *testing.T) {
	item := func(id string) string { return fmt.Sprintf(`{"id":%q,"method":"GET","url":"/users/x"}`, id) }
	many := func(n int) string {
		var items []string
		for i := range n {
			items = append(items, item(fmt.Sprint(i)))
		}
		return `{"requests":[` + strings.Join(items, ",") + `]}`
	}
	tests := []struct {
		name, body string
	}{
		{"more than 20 requests", many(21)},
		{"duplicate id, case-insensitive", `{"requests":[` + item("a") + `,` + item("A") + `]}`},
		{"missing id", `{"requests":[{"method":"GET","url":"/users"}]}`},
		{"missing method", `{"requests":[{"id":"1","url":"/users"}]}`},
		{"unknown method", `{"requests":[{"id":"1","method":"FETCH","url":"/users"}]}`},
		{"lower-case method", `{"requests":[{"id":"1","method":"get","url":"/users"}]}`},
		{"missing url", `{"requests":[{"id":"1","method":"GET"}]}`},
		{"absolute url", `{"requests":[{"id":"1","method":"GET","url":"https://graph.microsoft.com/v1.0/users"}]}`},
		{"scheme-relative url", `{"requests":[{"id":"1","method":"GET","url":"//evil/users"}]}`},
		{"nested batch", `{"requests":[{"id":"1","method":"POST","url":"/$batch"}]}`},
		{"unknown dependency", `{"requests":[{"id":"1","method":"GET","url":"/users","dependsOn":["9"]}]}`},
		{"self dependency", `{"requests":[{"id":"1","method":"GET","url":"/users","dependsOn":["1"]}]}`},
		{"cycle", `{"requests":[{"id":"1","method":"GET","url":"/u","dependsOn":["2"]},{"id":"2","method":"GET","url":"/u","dependsOn":["1"]}]}`},
		// docBatchKnownIssues: "requests can only depend on a single other request, and must
		// follow one of these three patterns"
		{"two dependencies", `{"requests":[` + item("1") + `,` + item("2") + `,{"id":"3","method":"GET","url":"/u","dependsOn":["1","2"]}]}`},
		{"neither parallel, serial nor same", `{"requests":[` + item("1") + `,{"id":"2","method":"GET","url":"/u","dependsOn":["1"]},` +
			`{"id":"3","method":"GET","url":"/u","dependsOn":["2"]},` + item("4") + `]}`},
		{"serial out of request order", `{"requests":[{"id":"1","method":"GET","url":"/u","dependsOn":["3"]},` +
			`{"id":"2","method":"GET","url":"/u","dependsOn":["1"]},` + item("3") + `]}`},
		{"body without Content-Type", `{"requests":[{"id":"1","method":"POST","url":"/users","body":{}}]}`},
		{"not JSON", `requests`},
		{"no requests property", `{"reqs":[]}`},
		{"empty requests", `{"requests":[]}`},
		{"null requests", `{"requests":null}`},
		{"trailing data", `{"requests":[` + item("1") + `]} {}`},
		{"non-string header", `{"requests":[{"id":"1","method":"GET","url":"/u","headers":{"a":1}}]}`},
		{"empty body", ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// doc: docBatch (malformed batch → 400; id unique; at most 20 requests)
			g := &graph{}
			rec := post(t, Handler(g, "/v1.0"), "/v1.0/$batch", tt.body)
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", rec.Code, rec.Body.String())
			}
			var e odataerr.Body
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error.Code != "BadRequest" || e.Error.Message == "" {
				t.Errorf("body %s (%v)", rec.Body.String(), err)
			}
			if len(g.calls) != 0 {
				t.Errorf("inner called for a rejected batch: %v", g.calls)
			}
		})
	}
	if rec := post(t, Handler(&graph{}, "/v1.0"), "/v1.0/$batch", many(20)); rec.Code != http.StatusOK {
		t.Errorf("20 requests: status %d", rec.Code)
	}
}

func TestRoutingAndMethod(t *testing.T) {
	g := &graph{}
	h := Handler(g, "v1.0/")
	r := httptest.NewRequest(http.MethodGet, "/v1.0/$batch", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "POST" {
		t.Errorf("GET $batch: %d %v", rec.Code, rec.Header())
	}
	r = httptest.NewRequest(http.MethodGet, "/v1.0/users/x", nil)
	r.Header.Set("Authorization", "Bearer outer")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != http.StatusOK || len(g.calls) != 1 {
		t.Errorf("other paths must reach inner: %d %v", rec.Code, g.calls)
	}
	// An empty base path serves /$batch at the root.
	got := decode(t, post(t, Handler(g, ""), "/$batch", `{"requests":[{"id":"1","method":"DELETE","url":"/x"}]}`))
	if diff := cmp.Diff([]Response{{ID: "1", Status: 204}}, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("root batch (-want +got):\n%s", diff)
	}
}

func TestItemBodyDecoding(t *testing.T) {
	tests := []struct {
		name    string
		item    Request
		want    string
		wantErr bool
	}{
		{"json object", Request{Headers: map[string]string{"content-type": "application/json"}, Body: json.RawMessage(`{"a":1}`)}, `{"a":1}`, false},
		{"json string kept for JSON content", Request{Headers: map[string]string{"Content-Type": "application/json"}, Body: json.RawMessage(`"x"`)}, `"x"`, false},
		{"base64 std", Request{Headers: map[string]string{"Content-Type": "image/png"}, Body: json.RawMessage(`"aGk="`)}, "hi", false},
		{"base64 url, unpadded", Request{Headers: map[string]string{"Content-Type": "text/plain"}, Body: json.RawMessage(`"-_8"`)}, "\xfb\xff", false},
		{"not base64", Request{Headers: map[string]string{"Content-Type": "text/plain"}, Body: json.RawMessage(`"!!"`)}, "", true},
		{"null", Request{Body: json.RawMessage(`null`)}, "", false},
	}
	for _, tt := range tests {
		got, err := itemBody(tt.item)
		if (err != nil) != tt.wantErr || string(got) != tt.want {
			t.Errorf("%s: itemBody = %q, %v", tt.name, got, err)
		}
	}
}

func TestGzipEnvelope(t *testing.T) {
	// msgraph-sdk-go's compression middleware gzips request bodies, the $batch envelope included.
	// doc: https://learn.microsoft.com/graph/json-batching (request body), RFC 9110 Content-Encoding
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write([]byte(`{"requests":[{"id":"1","method":"GET","url":"/users/u1"}]}`))
	_ = zw.Close()
	for _, tt := range []struct {
		name     string
		encoding string
		body     []byte
		status   int
	}{
		{"gzip", "gzip", buf.Bytes(), http.StatusOK},
		{"corrupt gzip", "gzip", []byte("not gzip"), http.StatusBadRequest},
		{"unknown encoding", "br", buf.Bytes(), http.StatusBadRequest},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/v1.0/$batch", bytes.NewReader(tt.body))
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("Content-Encoding", tt.encoding)
			r.Header.Set("Authorization", "Bearer outer")
			rec := httptest.NewRecorder()
			Handler(&graph{}, "/v1.0").ServeHTTP(rec, r)
			if rec.Code != tt.status {
				t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
			}
		})
	}
}
