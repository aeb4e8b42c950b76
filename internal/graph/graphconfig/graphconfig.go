// Package graphconfig holds the configuration of a Graph client: endpoints,
// credential and observer. It is separate from package graph so that code
// which only builds a configuration (controller wiring, test environments)
// does not compile msgraph-sdk-go. Package graph re-exports these types.
package graphconfig

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/entramatch/entra-match-operator/internal/cloud"
)

// Endpoints locates one Microsoft cloud (or a local emulator).
type Endpoints struct {
	// GraphURL is the Graph service root including the version,
	// e.g. https://graph.microsoft.com/v1.0.
	GraphURL string
	// AuthorityURL is the identity platform host, e.g.
	// https://login.microsoftonline.com.
	AuthorityURL string
	// CAPEM holds extra PEM certificates to trust besides the system roots
	// (a TLS-inspecting proxy, or the emulator's CA).
	CAPEM []byte
	// Scope overrides the token scope. Empty means "{scheme}://{graph host}/.default",
	// which is what Microsoft's national-cloud guidance asks for; an emulator
	// serving Graph on a local address sets https://graph.microsoft.com/.default.
	Scope string
}

// Well-known cloud names accepted by EndpointsFor.
const (
	CloudPublic   = "Public"
	CloudUSGov    = "USGov"
	CloudUSGovDoD = "USGovDoD"
	CloudChina    = "China"
)

// EndpointsFor returns the Graph and identity endpoints of a national cloud,
// from https://learn.microsoft.com/graph/deployments. The name is matched
// case-insensitively; "" means Public.
func EndpointsFor(cloudName string) (Endpoints, error) {
	switch strings.ToLower(strings.TrimSpace(cloudName)) {
	case "", "public", "azurepublic", "azurepubliccloud", "global":
		return Endpoints{GraphURL: "https://graph.microsoft.com/v1.0", AuthorityURL: "https://login.microsoftonline.com"}, nil
	case "usgov", "azureusgovernment", "usgovernment", "gcchigh":
		return Endpoints{GraphURL: "https://graph.microsoft.us/v1.0", AuthorityURL: "https://login.microsoftonline.us"}, nil
	case "usgovdod", "dod":
		return Endpoints{GraphURL: "https://dod-graph.microsoft.us/v1.0", AuthorityURL: "https://login.microsoftonline.us"}, nil
	case "china", "azurechina", "azurechinacloud":
		return Endpoints{GraphURL: "https://microsoftgraph.chinacloudapi.cn/v1.0", AuthorityURL: "https://login.chinacloudapi.cn"}, nil
	}
	return Endpoints{}, fmt.Errorf("unknown cloud %q: want one of %s, %s, %s, %s", cloudName, CloudPublic, CloudUSGov, CloudUSGovDoD, CloudChina)
}

// Credential is how the operator proves its identity to Entra ID. Exactly
// one of ClientSecret, CertificatePEM, FederatedTokenFile and Delegated is set.
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
	// Delegated is a person's sign-in through the public client ClientID,
	// kept as a refresh token in a token cache.
	Delegated *Delegated
}

// Delegated locates the token cache of a delegated sign-in.
type Delegated struct {
	Cache cloud.TokenCache
	// CacheID names the cache for client reuse; it is not secret.
	CacheID string
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

// Config is everything needed to build a Graph client.
type Config struct {
	Endpoints  Endpoints
	Credential Credential
	Observer   Observer // may be nil
	Timeout    time.Duration
}

// Validate checks the parts of c that can be checked without a network call.
// Its messages never contain secret material.
func (c Config) Validate() error {
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
	if d := c.Credential.Delegated; d != nil {
		n++
		if d.Cache == nil {
			errs = append(errs, errors.New("credential: a delegated sign-in needs a token cache"))
		}
	}
	if n != 1 {
		errs = append(errs, fmt.Errorf("credential: exactly one of client secret, certificate, federated token file or delegated sign-in must be set, got %d", n))
	}
	if c.Timeout < 0 {
		errs = append(errs, errors.New("timeout must not be negative"))
	}
	return errors.Join(errs...)
}

// EffectiveTimeout is Timeout, or DefaultTimeout when Timeout is zero.
func (c Config) EffectiveTimeout() time.Duration {
	if c.Timeout == 0 {
		return DefaultTimeout
	}
	return c.Timeout
}
