// Package odataerr writes error responses in the shape Microsoft Graph uses:
//
//	{"error":{"code":"...","message":"...","innerError":{"date":"...","request-id":"...","client-request-id":"..."}}}
//
// Clients such as msgraph-sdk-go decode this body into *odataerrors.ODataError, so every
// emulator component that fails a request answers through this package, the emulator core
// included. The response's request-id header and innerError.request-id are always the same
// value, as on Graph, so a client can quote either when reporting a failure.
package odataerr

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// Well-known codes used by more than one emulator component.
const (
	CodeBadRequest      = "BadRequest"
	CodeTooManyRequests = "TooManyRequests"
)

// Body is the top-level JSON error document.
type Body struct {
	Error Error `json:"error"`
}

// Error is the OData error object.
type Error struct {
	Code       string   `json:"code"`
	Message    string   `json:"message"`
	InnerError Inner    `json:"innerError"`
	Details    []Detail `json:"details,omitempty"`
}

// Inner carries the correlation data Graph adds to every error.
type Inner struct {
	Date            string `json:"date"`
	RequestID       string `json:"request-id"`
	ClientRequestID string `json:"client-request-id"`
}

// Detail is one entry of the optional details array.
type Detail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Target  string `json:"target,omitempty"`
}

// dateLayout is the zone-less UTC timestamp Graph puts in innerError.date.
const dateLayout = "2006-01-02T15:04:05"

type clockKey struct{}

// WithClock returns a context whose requests' errors are dated by clock instead of the wall
// clock; the emulator installs its (possibly simulated) clock this way so every component
// dates errors alike.
func WithClock(ctx context.Context, clock func() time.Time) context.Context {
	return context.WithValue(ctx, clockKey{}, clock)
}

// Now returns the clock installed by WithClock on r's context, or the wall clock.
func Now(r *http.Request) time.Time {
	if r != nil {
		if c, ok := r.Context().Value(clockKey{}).(func() time.Time); ok && c != nil {
			return c()
		}
	}
	return time.Now()
}

// New builds an error body for r. The client-request-id is echoed from the request, as Graph
// does, so a client can correlate the failure with its own logs.
func New(r *http.Request, now time.Time, code, message string, details ...Detail) Body {
	inner := Inner{Date: now.UTC().Format(dateLayout), RequestID: newRequestID()}
	if r != nil {
		inner.ClientRequestID = r.Header.Get("client-request-id")
	}
	return Body{Error: Error{Code: code, Message: message, InnerError: inner, Details: details}}
}

// Write answers r with status and a Graph-shaped error body. Callers set any extra headers
// (Retry-After, ...) on w before calling Write. A request-id or client-request-id already on
// w's header (the emulator stamps both on every response before routing) is reused, so the
// body names the same ids as the headers and the emulator's request log.
func Write(w http.ResponseWriter, r *http.Request, status int, code, message string, details ...Detail) {
	b := New(r, Now(r), code, message, details...)
	if id := w.Header().Get("request-id"); id != "" {
		b.Error.InnerError.RequestID = id
	}
	if id := w.Header().Get("client-request-id"); id != "" {
		b.Error.InnerError.ClientRequestID = id
	}
	WriteBody(w, status, b)
}

// WriteBody writes an already built body; useful when the caller controls the clock.
func WriteBody(w http.ResponseWriter, status int, b Body) {
	buf, err := json.Marshal(b)
	if err != nil {
		// Only strings are marshalled, so this cannot fail; keep a valid body regardless.
		buf = []byte(`{"error":{"code":"generalException","message":"error body could not be encoded"}}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("request-id", b.Error.InnerError.RequestID)
	if id := b.Error.InnerError.ClientRequestID; id != "" {
		h.Set("client-request-id", id)
	}
	w.WriteHeader(status)
	_, _ = w.Write(buf)
}

// newRequestID returns a random RFC 4122 version 4 UUID string.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
