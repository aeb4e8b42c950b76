package graph

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"time"
)

// Credential is how the operator proves its identity to Entra ID. Exactly
// one of ClientSecret, CertificatePEM and FederatedTokenFile is set.
type Credential struct {
	TenantID string
	ClientID string
	// ClientSecret is an application client secret.
	ClientSecret string
	// CertificatePEM holds the certificate and its private key, PEM encoded.
	CertificatePEM []byte
	// FederatedTokenFile is the path of a projected service account token
	// (workload identity federation); it is re-read for every token request
	// because the kubelet rotates it.
	FederatedTokenFile string
}

// Observer receives one call per HTTP attempt (retries included), so that
// metrics show what actually reached Graph and the token endpoint.
type Observer interface {
	// ObserveRequest reports an operation name (a cloud.Client method, or
	// OpAcquireToken), the HTTP status (0 when no response arrived) and the
	// attempt's duration.
	ObserveRequest(op string, status int, d time.Duration)
}

// OpAcquireToken is the operation name observed for token endpoint calls.
const OpAcquireToken = "AcquireToken"

// DefaultTimeout bounds one Graph call, retries included, when Config.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// Config is everything needed to build a Client.
type Config struct {
	Endpoints  Endpoints
	Credential Credential
	Observer   Observer // may be nil
	Timeout    time.Duration
}

func (c Config) validate() error {
	var errs []error
	if c.Credential.TenantID == "" {
		errs = append(errs, errors.New("credential: tenant id is required"))
	}
	if c.Credential.ClientID == "" {
		errs = append(errs, errors.New("credential: client id is required"))
	}
	n := 0
	if c.Credential.ClientSecret != "" {
		n++
	}
	if len(c.Credential.CertificatePEM) > 0 {
		n++
	}
	if c.Credential.FederatedTokenFile != "" {
		n++
	}
	if n != 1 {
		errs = append(errs, fmt.Errorf("credential: exactly one of client secret, certificate or federated token file must be set, got %d", n))
	}
	if c.Timeout < 0 {
		errs = append(errs, errors.New("timeout must not be negative"))
	}
	return errors.Join(errs...)
}

func (c Config) timeout() time.Duration {
	if c.Timeout == 0 {
		return DefaultTimeout
	}
	return c.Timeout
}

// fingerprint identifies a Config for client caching. It covers the secret
// material, so that a rotated secret or certificate yields a new client; it is
// a one-way hash and must still never be logged next to the tenant it belongs to.
// The Observer is not part of it: a Factory has one Observer for all clients.
func (c Config) fingerprint() string {
	h := sha256.New()
	for _, s := range []string{
		c.Endpoints.GraphURL, c.Endpoints.AuthorityURL, string(c.Endpoints.CAPEM), c.Endpoints.Scope,
		c.Credential.TenantID, c.Credential.ClientID, c.Credential.ClientSecret,
		string(c.Credential.CertificatePEM), c.Credential.FederatedTokenFile,
	} {
		writeField(h, s)
	}
	_ = binary.Write(h, binary.BigEndian, int64(c.Timeout))
	return hex.EncodeToString(h.Sum(nil))
}

// writeField length-prefixes each field so that moving bytes from one field
// to the next cannot produce the same hash.
func writeField(h hash.Hash, s string) {
	_ = binary.Write(h, binary.BigEndian, uint64(len(s)))
	_, _ = h.Write([]byte(s))
}
