package graph

import (
	"context"
	"strings"

	"github.com/entramatch/entra-match-operator/internal/cloud"
)

// ForConnection adapts the Factory to cloud.Factory, so that controllers name
// a tenant and credential without importing this package's SDK types.
func (f *Factory) ForConnection() cloud.Factory {
	return cloud.FactoryFunc(func(_ context.Context, c cloud.Connection) (cloud.Client, error) {
		cfg, err := ConfigFor(c)
		if err != nil {
			return nil, err
		}
		return f.Client(cfg)
	})
}

// publicGraphScope is the token scope of the public cloud's Graph.
const publicGraphScope = "https://graph.microsoft.com/.default"

// ConfigFor turns a cloud.Connection into a Config: a named national cloud
// gets its fixed hosts, Custom the given URLs and CA.
func ConfigFor(c cloud.Connection) (Config, error) {
	var ep Endpoints
	if strings.EqualFold(c.Cloud, "Custom") {
		// A custom endpoint still serves Microsoft Graph (through a proxy, or
		// the emulator), so tokens are requested for Graph's own resource,
		// not for the custom host.
		ep = Endpoints{GraphURL: c.GraphURL, AuthorityURL: c.AuthorityURL, Scope: publicGraphScope}
	} else {
		var err error
		if ep, err = EndpointsFor(c.Cloud); err != nil {
			return Config{}, err
		}
	}
	ep.CAPEM = c.CAPEM
	if d := c.Delegated; d != nil {
		return Config{Endpoints: ep, Credential: Credential{
			TenantID:  c.TenantID,
			ClientID:  d.ClientID,
			Delegated: &Delegated{Cache: d.Cache, CacheID: d.CacheID},
		}}, nil
	}
	return Config{
		Endpoints: ep,
		Credential: Credential{
			TenantID:           c.TenantID,
			ClientID:           c.ClientID,
			ClientSecret:       c.ClientSecret,
			CertificatePEM:     c.CertificatePEM,
			FederatedTokenFile: c.FederatedTokenFile,
		},
	}, nil
}
