package graph

import (
	"bytes"
	"context"
	"net/http"
	"sync/atomic"
	"testing"
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
