package graph

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
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
		graphURL, err := GraphServiceRoot(c.GraphURL)
		if err != nil {
			return Config{}, err
		}
		ep = Endpoints{GraphURL: graphURL, AuthorityURL: c.AuthorityURL, Scope: publicGraphScope}
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

// graphVersion is the Graph API version the operator speaks.
const graphVersion = "v1.0"

var versionSegment = regexp.MustCompile(`^[vV][0-9]+(\.[0-9]+)?$`)

// GraphServiceRoot turns a custom Graph URL, documented as the service root
// without the API version (https://graph.microsoft.com), into the versioned
// base URL the SDK calls. The rule: /v1.0 is appended unless the path
// already ends in /v1.0; any other version is refused, since the operator
// reads v1.0 shapes only.
func GraphServiceRoot(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", fmt.Errorf("custom Graph URL %q is not an absolute URL", raw)
	}
	path := strings.TrimRight(u.Path, "/")
	last := path[strings.LastIndexByte(path, '/')+1:]
	switch {
	case strings.EqualFold(last, graphVersion):
		u.Path = path[:len(path)-len(last)] + graphVersion
	case strings.EqualFold(last, "beta") || versionSegment.MatchString(last):
		return "", fmt.Errorf("custom Graph URL %q names API version %q: give the service root (such as https://graph.microsoft.com); the operator uses %s", raw, last, graphVersion)
	default:
		u.Path = path + "/" + graphVersion
	}
	u.RawPath = ""
	return u.String(), nil
}
