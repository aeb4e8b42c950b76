package graph

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	khttp "github.com/microsoft/kiota-http-go"
)

// A write goes out as plain JSON with its Content-Length, not gzipped and
// not chunked, and a retried write carries the same body.
func TestWriteBodyIsPlainWithItsLength(t *testing.T) {
	var hits atomic.Int32
	f := newFakeCloud(t, func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			w.Header().Set("Retry-After", "0")
			graphError(w, http.StatusServiceUnavailable, "serviceNotAvailable", "Service unavailable.")
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	id := "K9fT0xWJXUuyA1N0Vb3dNg=="
	if err := f.client(nil).SetImmutableID(context.Background(), "00000000-0000-0000-0000-000000000001", &id); err != nil {
		t.Fatal(err)
	}
	reqs := f.recorded()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want the PATCH and its retry", len(reqs))
	}
	for i, r := range reqs {
		if r.Method != http.MethodPatch || !bytes.Contains(r.Body, []byte(id)) {
			t.Errorf("request %d: %s %s", i, r.Method, r.Body)
		}
		if enc := r.Header.Get("Content-Encoding"); enc != "" {
			t.Errorf("request %d: Content-Encoding %q, want none", i, enc)
		}
		if r.ContentLength != int64(len(r.Body)) {
			t.Errorf("request %d: Content-Length %d for a body of %d bytes", i, r.ContentLength, len(r.Body))
		}
	}
	if !bytes.Equal(reqs[0].Body, reqs[1].Body) {
		t.Errorf("the retry sent %s, the first attempt %s", reqs[1].Body, reqs[0].Body)
	}
}

// Requests carry the SdkVersion header msgraph-sdk-go's own client sends,
// though the client is built without the SDK's root package.
func TestRequestsNameTheSDKVersion(t *testing.T) {
	f := newFakeCloud(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"value":[]}`))
	})
	if _, err := f.client(nil).Domains(context.Background()); err != nil {
		t.Fatal(err)
	}
	reqs := f.recorded()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	want := "graph-go/" + sdkVersion + ", graph-go-core/"
	if got := reqs[0].Header.Get("SdkVersion"); !strings.HasPrefix(got, want) {
		t.Errorf("SdkVersion %q, want it to start with %q", got, want)
	}
}

// The version sent is the one go.mod requires.
func TestSDKVersionIsGoMods(t *testing.T) {
	mod, err := os.ReadFile(filepath.Join("..", "..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(mod), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "github.com/microsoftgraph/msgraph-sdk-go" {
			if f[1] != "v"+sdkVersion {
				t.Fatalf("go.mod requires msgraph-sdk-go %s; sdkVersion is %q", f[1], sdkVersion)
			}
			return
		}
	}
	t.Fatal("go.mod does not require github.com/microsoftgraph/msgraph-sdk-go")
}

// lateReader stands for net/http reading a request body after RoundTrip has
// returned, as it may when the server answers first.
type lateReader struct{ late chan io.ReadCloser }

func (l lateReader) RoundTrip(req *http.Request) (*http.Response, error) {
	l.late <- req.Body
	return &http.Response{StatusCode: http.StatusServiceUnavailable, Body: http.NoBody, Request: req}, nil
}

// An attempt's body read late by the transport leaves the request's own
// body, which a retry re-sends, untouched.
func TestEachAttemptReadsItsOwnBody(t *testing.T) {
	late := make(chan io.ReadCloser, 1)
	req, err := http.NewRequest(http.MethodPatch, "https://graph.invalid/v1.0/users/x", khttp.NopCloser(bytes.NewReader([]byte(`{"a":1}`))))
	if err != nil {
		t.Fatal(err)
	}
	// What plainBody leaves on a request.
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader([]byte(`{"a":1}`))), nil }
	resp, err := (ownBody{lateReader{late}}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if b, _ := io.ReadAll(<-late); string(b) != `{"a":1}` {
		t.Fatalf("the attempt's body was %q", b)
	}
	if b, _ := io.ReadAll(req.Body); string(b) != `{"a":1}` {
		t.Fatalf("the request's body was consumed by the attempt: %q left", b)
	}
}
