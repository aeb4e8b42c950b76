package cloud

import (
	"context"
	"errors"
)

// TokenCache keeps the serialized token cache of a delegated sign-in (its
// refresh token) outside the process, so that a restarted operator, or a
// second replica after a leader change, continues the same sign-in. The
// bytes are opaque to callers.
type TokenCache interface {
	// Load returns the stored cache; empty when nothing is stored. Its
	// errors are *Error values, so that a missing cache (CodeNoSignIn) is
	// told apart from an unreachable store.
	Load(ctx context.Context) ([]byte, error)
	// Store replaces the stored cache with what the last Load returned,
	// updated after the identity platform rotated the refresh token (the
	// previous one may no longer be redeemable). It must not overwrite a
	// cache stored by someone else since that Load: it then returns
	// ErrSignInReplaced and the caller starts again from a new Load.
	Store(ctx context.Context, data []byte) error
}

// ErrSignInReplaced is returned by TokenCache.Store when a new sign-in was
// stored since the cache was loaded: the new sign-in wins.
var ErrSignInReplaced = errors.New("the stored sign-in was replaced by a new one")

// CodeNoSignIn is the Error code (class Unauthenticated) for a token cache
// that holds no usable sign-in: missing, empty or unreadable.
const CodeNoSignIn = "NoSignIn"

// DelegatedAccess is a sign-in of a person, used for the calls that Graph
// does not allow with application permissions.
type DelegatedAccess struct {
	// ClientID is the public client app the person signed in through.
	ClientID string
	// Cache holds the refresh token.
	Cache TokenCache
	// CacheID names the cache (e.g. the Secret and key) so that clients are
	// reused per sign-in; it is not secret.
	CacheID string
}

// Access describes the token a refused call was made with, read from its
// claims, so that a refusal can be explained precisely: which application
// permission or delegated scope was present, and who was signed in.
type Access struct {
	// Delegated is true for a token of a signed-in person.
	Delegated bool
	// Permissions are the token's application roles (app-only) or scopes
	// (delegated).
	Permissions []string
	// User is the signed-in person's UPN, for delegated tokens.
	User string
	// DirectoryRoles are the role template ids in the token's wids claim.
	DirectoryRoles []string
}

// Has reports whether the token carries permission p.
func (a *Access) Has(p string) bool {
	if a == nil {
		return false
	}
	for _, q := range a.Permissions {
		if q == p {
			return true
		}
	}
	return false
}
