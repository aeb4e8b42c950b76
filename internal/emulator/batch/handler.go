package batch

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"net/http"
	"strings"

	"github.com/entramatch/entra-match-operator/internal/emulator/odataerr"
)

// maxBodyBytes bounds the batch envelope; 20 directory requests fit comfortably.
const maxBodyBytes = 4 << 20

// Options tune the batch handler.
type Options struct {
	// Shuffle returns the responses in an order other than the requests' (for two or more):
	// "Individual responses might appear in a different order than the requests. The id
	// property can be used to correlate individual requests and responses" (json-batching,
	// microsoft-graph-docs-contrib concepts/json-batching.md). A client that pairs responses
	// with requests by position then fails every time, not once in a while.
	Shuffle bool
	// Perm returns a random permutation of n (math/rand/v2's Perm when nil); tests make it
	// deterministic.
	Perm func(n int) []int
}

// Handler serves POST {basePath}/$batch and passes every other request to inner. Each item is
// replayed through inner at basePath+item.url, carrying the item's headers and the outer
// request's Authorization header, context, host and remote address. Items run one at a time,
// in dependsOn order; responses come back in the order of the requests.
func Handler(inner http.Handler, basePath string) http.Handler {
	return HandlerWithOptions(inner, basePath, Options{})
}

// HandlerWithOptions is Handler with options: with Options.Shuffle the responses come back in
// another order than the requests.
func HandlerWithOptions(inner http.Handler, basePath string, opts Options) http.Handler {
	basePath = "/" + strings.Trim(basePath, "/")
	if basePath == "/" {
		basePath = ""
	}
	batchPath := basePath + "/$batch"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != batchPath {
			inner.ServeHTTP(w, r)
			return
		}
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			odataerr.Write(w, r, http.StatusMethodNotAllowed, "Request_BadRequest",
				"Specified HTTP method is not allowed for the request target.")
			return
		}
		data, err := readBody(w, r)
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				odataerr.Write(w, r, http.StatusRequestEntityTooLarge, "Request_EntityTooLarge",
					"The batch request body exceeds the maximum size.")
				return
			}
			odataerr.Write(w, r, http.StatusBadRequest, odataerr.CodeBadRequest, "invalid batch payload: "+err.Error())
			return
		}
		reqs, err := Parse(data)
		if err != nil {
			odataerr.Write(w, r, http.StatusBadRequest, odataerr.CodeBadRequest, err.Error())
			return
		}
		resps := run(inner, basePath, r, reqs)
		if opts.Shuffle {
			resps = shuffle(resps, opts.Perm)
		}
		out, err := json.Marshal(responseBody{Responses: resps})
		if err != nil {
			odataerr.Write(w, r, http.StatusInternalServerError, "generalException", "batch response could not be encoded")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(out)
	})
}

// readBody reads the envelope, decompressing it when the client gzipped it
// (msgraph-sdk-go's compression middleware does); the size limit applies to
// the decompressed payload too.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	var src io.Reader = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(src)
		if err != nil {
			return nil, fmt.Errorf("reading gzip body: %w", err)
		}
		defer zr.Close()
		src = zr
	default:
		return nil, fmt.Errorf("content encoding %q is not supported", enc)
	}
	data, err := io.ReadAll(io.LimitReader(src, maxBodyBytes+1))
	if err == nil && len(data) > maxBodyBytes {
		err = &http.MaxBytesError{Limit: maxBodyBytes}
	}
	return data, err
}

func run(inner http.Handler, basePath string, outer *http.Request, reqs []Request) []Response {
	order, _ := Order(reqs) // Parse has already rejected cycles and unknown ids
	status := make(map[string]int, len(reqs))
	resps := make([]Response, len(reqs))
	for _, i := range order {
		item := reqs[i]
		if dep, failed := failedDependency(item, status); failed {
			resps[i] = dependencyFailed(outer, item, dep)
		} else {
			resps[i] = execute(inner, basePath, outer, item)
		}
		status[strings.ToLower(item.ID)] = resps[i].Status
	}
	return resps
}

// shuffle reorders resps by a random permutation that is never the identity, so that the
// order differs from the requests' on every batch of two or more.
func shuffle(resps []Response, perm func(int) []int) []Response {
	n := len(resps)
	if n < 2 {
		return resps
	}
	if perm == nil {
		perm = rand.Perm
	}
	p := perm(n)
	identity := true
	for i, j := range p {
		identity = identity && i == j
	}
	if identity {
		p[0], p[1] = p[1], p[0]
	}
	out := make([]Response, n)
	for i, j := range p {
		out[i] = resps[j]
	}
	return out
}

func failedDependency(item Request, status map[string]int) (string, bool) {
	for _, d := range item.DependsOn {
		if status[strings.ToLower(d)] >= 400 {
			return d, true
		}
	}
	return "", false
}

func dependencyFailed(outer *http.Request, item Request, dep string) Response {
	body, _ := json.Marshal(odataerr.New(outer, odataerr.Now(outer), "FailedDependency",
		"the request depends on request id "+dep+", which failed"))
	return Response{ID: item.ID, Status: http.StatusFailedDependency,
		Headers: map[string]string{"Content-Type": "application/json"}, Body: body}
}

// execute replays one item through inner and records its response.
func execute(inner http.Handler, basePath string, outer *http.Request, item Request) Response {
	target := item.URL
	if !strings.HasPrefix(target, "/") {
		target = "/" + target
	}
	body, err := itemBody(item)
	if err != nil {
		return errorResponse(outer, item, http.StatusBadRequest, odataerr.CodeBadRequest, err.Error())
	}
	req, err := http.NewRequestWithContext(outer.Context(), item.Method, basePath+target, bytes.NewReader(body))
	if err != nil {
		return errorResponse(outer, item, http.StatusBadRequest, odataerr.CodeBadRequest, "invalid request: "+err.Error())
	}
	for k, v := range item.Headers {
		req.Header.Set(k, v)
	}
	if auth := outer.Header.Get("Authorization"); auth != "" {
		req.Header.Set("Authorization", auth)
	}
	req.Host = outer.Host
	req.RemoteAddr = outer.RemoteAddr
	req.TLS = outer.TLS
	req.RequestURI = basePath + target

	rec := &recorder{header: http.Header{}}
	inner.ServeHTTP(rec, req)
	return rec.response(item.ID)
}

// itemBody returns the bytes to send: JSON as is, or the decoded base64 string that Graph
// accepts for non-JSON content (images and the like).
func itemBody(item Request) ([]byte, error) {
	raw := bytes.TrimSpace(item.Body)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	if isJSON(header(item.Headers, "Content-Type")) || raw[0] != '"' {
		return raw, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, errors.New("body is not a valid JSON string")
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("a non-JSON body must be base64-encoded")
}

func errorResponse(outer *http.Request, item Request, status int, code, msg string) Response {
	body, _ := json.Marshal(odataerr.New(outer, odataerr.Now(outer), code, msg))
	return Response{ID: item.ID, Status: status, Headers: map[string]string{"Content-Type": "application/json"}, Body: body}
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// recorder captures an item's response. It is not an http.Hijacker: a handler that tries to
// drop the connection of a batch item has to abort instead (see package faults).
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(p)
}

func (r *recorder) response(id string) Response {
	resp := Response{ID: id, Status: r.status}
	if resp.Status == 0 {
		resp.Status = http.StatusOK
	}
	if len(r.header) > 0 {
		resp.Headers = make(map[string]string, len(r.header))
		for k, vs := range r.header {
			resp.Headers[k] = strings.Join(vs, ", ")
		}
	}
	b := r.body.Bytes()
	switch {
	case len(b) == 0:
	case isJSON(r.header.Get("Content-Type")) && json.Valid(b):
		resp.Body = json.RawMessage(append([]byte(nil), b...))
	default:
		enc, _ := json.Marshal(base64.StdEncoding.EncodeToString(b))
		resp.Body = enc
	}
	return resp
}
