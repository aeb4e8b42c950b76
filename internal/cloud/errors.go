package cloud

import (
	"errors"
	"fmt"
	"time"
)

// Class is what a reconciler needs to know about a failed call. It is decided
// once, in the client, from the HTTP status and Graph's error code, so that
// reconcilers switch on classes and never on message text.
type Class string

const (
	ClassNotFound         Class = "NotFound"
	ClassConflict         Class = "Conflict"         // ObjectConflict: value used by another object
	ClassOnPremMastered   Class = "OnPremMastered"   // the object is mastered by directory sync
	ClassPermission       Class = "Permission"       // 403: the app lacks a permission or role
	ClassUnauthenticated  Class = "Unauthenticated"  // token could not be obtained or was refused
	ClassThrottled        Class = "Throttled"        // 429, honour RetryAfter
	ClassTransient        Class = "Transient"        // 5xx, timeouts, resets
	ClassInvalid          Class = "Invalid"          // 400 the request itself is wrong
	ClassUnsupportedQuery Class = "UnsupportedQuery" // an advanced query without its headers
	// ClassWrongEndpoint: what answered is not Microsoft Graph (no OData
	// JSON), so the configured endpoint is wrong, whatever status it gave.
	ClassWrongEndpoint Class = "WrongEndpoint"
	// ClassDeltaExpired: Graph no longer honours a delta link (expired,
	// unknown, or a resync it asks for); the caller starts a full round.
	ClassDeltaExpired Class = "DeltaExpired"
)

// Classes lists every class, for tables that must cover them all.
func Classes() []Class {
	return []Class{ClassNotFound, ClassConflict, ClassOnPremMastered, ClassPermission, ClassUnauthenticated,
		ClassThrottled, ClassTransient, ClassInvalid, ClassUnsupportedQuery, ClassWrongEndpoint, ClassDeltaExpired}
}

// Error is a classified Graph or token failure.
type Error struct {
	Class      Class
	Status     int
	Code       string // Graph's error code, e.g. "ObjectConflict"
	Message    string
	RetryAfter time.Duration // set for ClassThrottled when the server said
	RequestID  string
	// ConflictingObjectID names the object holding a unique value, when Graph
	// reports it in the error details.
	ConflictingObjectID string
	Op                  string // the operation, e.g. "GetUser"
	// Access describes the token of a refused (ClassPermission) call, when
	// the client could read it.
	Access *Access
	Err    error // the underlying error, kept for logs
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("%s: %s", e.Op, e.Class)
	if e.Code != "" {
		msg += " (" + e.Code + ")"
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Is lets errors.Is(err, cloud.ErrNotFound) match any Error of that class.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Op == "" && t.Code == "" && t.Class == e.Class
}

// Sentinels for errors.Is.
var (
	ErrNotFound   = &Error{Class: ClassNotFound}
	ErrPermission = &Error{Class: ClassPermission}
)

// ClassOf returns the class of err, or "" when it is not a classified error.
func ClassOf(err error) Class {
	var e *Error
	if errors.As(err, &e) {
		return e.Class
	}
	return ""
}

// IsDeltaExpired reports whether err says a delta link must be replaced by
// a full round.
func IsDeltaExpired(err error) bool { return ClassOf(err) == ClassDeltaExpired }

// RetryAfter returns the server's requested wait for a throttled error.
func RetryAfter(err error) (time.Duration, bool) {
	var e *Error
	if errors.As(err, &e) && e.Class == ClassThrottled && e.RetryAfter > 0 {
		return e.RetryAfter, true
	}
	return 0, false
}
