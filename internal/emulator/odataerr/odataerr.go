// Package odataerr writes error responses in the shape Microsoft Graph uses:
//
//	{"error":{"code":"...","message":"...","innerError":{"date":"...","request-id":"...","client-request-id":"..."}}}
//
// Clients such as msgraph-sdk-go decode this body into *odataerrors.ODataError, so every
// emulator component that fails a request should answer through this package.
package odataerr

import (
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
// (Retry-After, ...) on w before calling Write.
func Write(w http.ResponseWriter, r *http.Request, status int, code, message string, details ...Detail) {
	WriteBody(w, status, New(r, time.Now(), code, message, details...))
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
