// Package identity plays the Microsoft identity platform of the emulated
// tenant: the token endpoint (client credentials with a secret, a
// certificate or a federated credential; device code and refresh token
// grants), OpenID discovery and the signing keys, the app registrations,
// and the authentication of Graph requests by their bearer token.
package identity

import (
	"crypto/rsa"
	"log/slog"
	"time"

	"github.com/entramatch/entra-match-operator/internal/emulator/tenant"
)

// Tenant is what the identity platform reads of the tenant state (its
// domains, users and their roles); it never writes it.
type Tenant interface {
	Read(fn func(st *tenant.State))
}

// Config describes the identity platform of one tenant.
type Config struct {
	// TenantID is the tenant's GUID, lower case.
	TenantID string
	// Clock is the emulator clock.
	Clock func() time.Time
	// Logger receives the platform's errors.
	Logger *slog.Logger
	// OwnAudienceOnly makes Graph accept only tokens issued for the
	// emulator's own origin and refuse tokens for
	// https://graph.microsoft.com; the token endpoint issues either.
	OwnAudienceOnly bool
	// OnSecret, when set, is given every credential the platform issues.
	OnSecret func(string)
	// AccessTokenLifetime is how long issued access tokens live; 0 means
	// one hour.
	AccessTokenLifetime time.Duration
}

// Platform is the identity platform of one tenant.
type Platform struct {
	tenantID      string
	clock         func() time.Time
	log           *slog.Logger
	ownAudience   bool
	onSecret      func(string)
	apps          *Apps
	signer        *signingKey
	sessions      sessions
	tokenLifetime time.Duration
	tenant        Tenant
}

// New builds the identity platform of the tenant t for apps, with a fresh
// token signing key.
func New(cfg Config, apps *Apps, t Tenant) (*Platform, error) {
	p := &Platform{
		tenantID:      cfg.TenantID,
		clock:         cfg.Clock,
		log:           cfg.Logger,
		ownAudience:   cfg.OwnAudienceOnly,
		onSecret:      cfg.OnSecret,
		apps:          apps,
		tokenLifetime: cfg.AccessTokenLifetime,
		tenant:        t,
	}
	if p.tokenLifetime <= 0 {
		p.tokenLifetime = time.Hour
	}
	signer, err := newSigningKey(p.clock())
	if err != nil {
		return nil, err
	}
	p.signer = signer
	return p, nil
}

// PublicKey returns the token signing key as the JWKS endpoint publishes
// it: its kid and public key.
func (s *Platform) PublicKey() (kid string, key *rsa.PublicKey) {
	return s.signer.kid, &s.signer.key.PublicKey
}

// issued hands a credential to Config.OnSecret.
func (s *Platform) issued(v string) {
	if s.onSecret != nil && v != "" {
		s.onSecret(v)
	}
}
