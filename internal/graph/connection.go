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

// ConfigFor turns a cloud.Connection into a Config: a named national cloud
// gets its fixed hosts, Custom the given URLs and CA.
func ConfigFor(c cloud.Connection) (Config, error) {
	var ep Endpoints
	if strings.EqualFold(c.Cloud, "Custom") {
		ep = Endpoints{GraphURL: c.GraphURL, AuthorityURL: c.AuthorityURL}
	} else {
		var err error
		if ep, err = EndpointsFor(c.Cloud); err != nil {
			return Config{}, err
		}
	}
	ep.CAPEM = c.CAPEM
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
