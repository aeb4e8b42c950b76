package directory

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"

	"github.com/go-ldap/ldap/v3"
)

// Error classes. Every error a Client returns wraps at most one of them;
// callers switch on the class with errors.Is, never on the text.
var (
	// ErrUnreachable: no server answered, the connection broke or timed
	// out, or the server said it is busy or unavailable. Transient.
	ErrUnreachable = errors.New("directory unreachable")
	// ErrTLS: the server's certificate is not trusted for its name, or
	// the TLS handshake failed.
	ErrTLS = errors.New("directory TLS failure")
	// ErrInvalidCredentials: the bind DN or password is wrong (or the
	// account is disabled, locked or expired: AD does not say which).
	ErrInvalidCredentials = errors.New("invalid directory credentials")
	// ErrInsufficientAccess: bound, but not allowed to do this.
	ErrInsufficientAccess = errors.New("insufficient directory access")
	// ErrNotFound: no object matches.
	ErrNotFound = errors.New("not found in directory")
	// ErrBaseDNNotFound: the configured search base names no object on
	// the server, so no user can ever be found under it; fix the base DN.
	ErrBaseDNNotFound = errors.New("base DN not found in directory")
	// ErrAmbiguous: more than one user matches a lookup that must name one.
	ErrAmbiguous = errors.New("ambiguous directory lookup")
	// ErrInvalidConfig: the Config cannot work; fix it, retrying won't.
	ErrInvalidConfig = errors.New("invalid directory configuration")
	// ErrInvalidLookup: the lookup's key or value is malformed.
	ErrInvalidLookup = errors.New("invalid directory lookup")
	// ErrConsistencyGUIDSet: mS-DS-ConsistencyGuid already holds a
	// different value, which this client never overwrites.
	ErrConsistencyGUIDSet = errors.New("mS-DS-ConsistencyGuid already set")
	// ErrAnchorMissing: the user has no value for the chosen anchor.
	ErrAnchorMissing = errors.New("source anchor missing")
	// ErrAnchorMalformed: the anchor attribute holds a value that is not a
	// 16-byte GUID.
	ErrAnchorMalformed = errors.New("source anchor malformed")
	// ErrClosed: the Client was closed.
	ErrClosed = errors.New("directory client closed")
)

// Error carries the class of a failure next to the underlying error, so
// that errors.Is finds the class and errors.As still finds, for example,
// the *ldap.Error with its result code.
type Error struct {
	// Op is what was being done, e.g. "bind to ldaps://dc1:636".
	Op string
	// Class is one of the Err* values, or nil when unclassified.
	Class error
	// Err is the cause.
	Err error
}

func (e *Error) Error() string {
	if e.Class == nil {
		return fmt.Sprintf("%s: %v", e.Op, e.Err)
	}
	return fmt.Sprintf("%s: %v: %v", e.Op, e.Class, e.Err)
}

// Unwrap exposes both the class and the cause to errors.Is and errors.As.
func (e *Error) Unwrap() []error {
	if e.Class == nil {
		return []error{e.Err}
	}
	return []error{e.Class, e.Err}
}

// classify wraps err with its class. tlsErr is the certificate verification
// failure recorded during the handshake, if any: go-ldap's StartTLS flattens
// the handshake error to text, so the type would be lost otherwise.
func classify(op string, err error, tlsErr error) error {
	if err == nil {
		return nil
	}
	var already *Error
	if errors.As(err, &already) {
		return err
	}
	return &Error{Op: op, Class: classOf(err, tlsErr), Err: err}
}

func classOf(err, tlsErr error) error {
	if tlsErr != nil || isTLSError(err) {
		return ErrTLS
	}
	var lerr *ldap.Error
	if errors.As(err, &lerr) {
		switch lerr.ResultCode {
		case ldap.LDAPResultInvalidCredentials:
			return ErrInvalidCredentials
		case ldap.LDAPResultInsufficientAccessRights:
			return ErrInsufficientAccess
		case ldap.LDAPResultStrongAuthRequired, ldap.LDAPResultConfidentialityRequired:
			// The server refuses a clear-text bind: it wants TLS.
			return ErrTLS
		case ldap.LDAPResultNoSuchObject:
			return ErrNotFound
		case ldap.LDAPResultBusy, ldap.LDAPResultUnavailable, ldap.ErrorNetwork:
			return ErrUnreachable
		}
	}
	var nerr net.Error
	if errors.As(err, &nerr) || errors.Is(err, context.DeadlineExceeded) {
		return ErrUnreachable
	}
	return nil
}

func isTLSError(err error) bool {
	var (
		unknownAuthority x509.UnknownAuthorityError
		hostname         x509.HostnameError
		invalid          x509.CertificateInvalidError
		verification     *tls.CertificateVerificationError
		record           tls.RecordHeaderError
		alert            tls.AlertError
	)
	return errors.As(err, &unknownAuthority) || errors.As(err, &hostname) || errors.As(err, &invalid) ||
		errors.As(err, &verification) || errors.As(err, &record) || errors.As(err, &alert)
}

// isConnectionError reports whether err means the connection itself is
// gone, so that a fresh one may succeed where this one failed.
func isConnectionError(err error) bool {
	var lerr *ldap.Error
	if errors.As(err, &lerr) {
		return lerr.ResultCode == ldap.ErrorNetwork
	}
	var nerr net.Error
	return errors.As(err, &nerr)
}
