package graph

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"

	"github.com/entramatch/entra-match-operator/internal/graph/graphconfig"
)

// The configuration types live in graphconfig, which does not import the
// Graph SDK; they are re-exported here for callers that build clients.
type (
	Endpoints  = graphconfig.Endpoints
	Credential = graphconfig.Credential
	Delegated  = graphconfig.Delegated
	Observer   = graphconfig.Observer
	Config     = graphconfig.Config
)

// OpAcquireToken is re-exported from graphconfig.
const OpAcquireToken = graphconfig.OpAcquireToken

// EndpointsFor returns the endpoints of a national cloud; see graphconfig.EndpointsFor.
func EndpointsFor(cloudName string) (Endpoints, error) { return graphconfig.EndpointsFor(cloudName) }

// fingerprint identifies a Config for client caching. It covers the secret
// material, so that a rotated secret or certificate yields a new client; it
// is a one-way hash, and still never logged. The Observer is not part of it:
// a Factory has one Observer for all its clients.
func fingerprint(c Config) string {
	h := sha256.New()
	for _, s := range []string{
		c.Endpoints.GraphURL, c.Endpoints.AuthorityURL, string(c.Endpoints.CAPEM), c.Endpoints.Scope,
		c.Credential.TenantID, c.Credential.ClientID, c.Credential.ClientSecret,
		string(c.Credential.CertificatePEM), c.Credential.FederatedTokenFile, delegatedID(c.Credential),
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

// delegatedID names a delegated sign-in's cache, or "" for an application
// credential. The cache's content is not part of a client's identity: the
// client reloads it before every token request.
func delegatedID(c Credential) string {
	if c.Delegated == nil {
		return ""
	}
	return "delegated:" + c.Delegated.CacheID
}
