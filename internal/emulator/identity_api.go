package emulator

import (
	"context"

	"github.com/entramatch/entra-match-operator/internal/emulator/identity"
)

// The identity platform's types, as package identity defines them.
type (
	// App is an app registration with its application permissions.
	App = identity.App
	// FederatedCredential is a federated identity credential of an app.
	FederatedCredential = identity.FederatedCredential
	// Caller is the authenticated principal of a Graph request.
	Caller = identity.Caller
)

// DefaultFederatedAudience is the audience Microsoft recommends (and the
// portal fills in) for federated identity credentials.
const DefaultFederatedAudience = identity.DefaultFederatedAudience

// ParseFederatedKeys reads an issuer key file for FederatedCredential: a
// JWKS document when it starts with '{', PEM otherwise.
func ParseFederatedKeys(data []byte) (FederatedCredential, error) {
	return identity.ParseFederatedKeys(data)
}

// CallerFrom returns the authenticated caller of a Graph request; Graph
// middlewares (throttling per app) use it.
func CallerFrom(ctx context.Context) (Caller, bool) { return identity.CallerFrom(ctx) }

// ApproveDeviceCode signs userPrincipalName in for a pending device code,
// as the user would at the verification page; in-process tests use it.
func (s *Server) ApproveDeviceCode(userCode, userPrincipalName string) error {
	return s.identity.ApproveDeviceCode(userCode, userPrincipalName)
}

// ServicePrincipalID returns the object id of the service principal of the
// configured app clientID: the oid of its app-only tokens and the
// principalId that role assignments to the app carry.
func (s *Server) ServicePrincipalID(clientID string) (string, bool) {
	return s.apps.ServicePrincipalID(clientID)
}
