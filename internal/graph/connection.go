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

// ConfigFor turns a cloud.Connection into a Config: a named national cloud
// gets its fixed hosts, Custom the given URLs and CA.
func ConfigFor(c cloud.Connection) (Config, error) {
	var ep Endpoints
	if strings.EqualFold(c.Cloud, "Custom") {
		graphURL, err := GraphServiceRoot(c.GraphURL)
		if err != nil {
			return Config{}, &cloud.Error{Class: cloud.ClassWrongEndpoint, Op: "Connect", Message: err.Error()}
		}
		if err := tokenStaysHome(graphURL, c.AuthorityURL); err != nil {
			return Config{}, err
		}
		// No Scope: tokens are requested for the configured Graph host
		// itself, so a token is only ever sent to the host it was issued for.
		ep = Endpoints{GraphURL: graphURL, AuthorityURL: c.AuthorityURL}
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

// microsoftGraphHosts are the Graph hosts of Microsoft's clouds
// (https://learn.microsoft.com/graph/deployments).
var microsoftGraphHosts = map[string]bool{
	"graph.microsoft.com": true, "graph.microsoft.us": true, "dod-graph.microsoft.us": true, "microsoftgraph.chinacloudapi.cn": true,
}

// tokenStaysHome refuses a custom Graph URL that is not a Microsoft Graph
// host paired with Microsoft's authority: Microsoft's identity platform
// issues tokens for Microsoft's resources, and the only way to use one
// there would be to send a Microsoft Graph token to a host someone chose.
func tokenStaysHome(graphURL, authorityURL string) error {
	g, err := url.Parse(graphURL)
	if err != nil {
		return &cloud.Error{Class: cloud.ClassWrongEndpoint, Op: "Connect", Message: err.Error()}
	}
	a, err := url.Parse(authorityURL)
	if err != nil || a.Host == "" {
		return &cloud.Error{Class: cloud.ClassWrongEndpoint, Op: "Connect", Message: fmt.Sprintf("authority URL %q is not an absolute URL", authorityURL)}
	}
	if knownAuthority(a.Host) && !microsoftGraphHosts[strings.ToLower(g.Hostname())] {
		return &cloud.Error{Class: cloud.ClassWrongEndpoint, Op: "Connect", Message: fmt.Sprintf(
			"custom Graph URL %s is not a Microsoft Graph host but the authority is Microsoft's (%s): its tokens must not be sent there; "+
				"use the built-in cloud, a Microsoft Graph host, or the authority that issues tokens for %s", graphURL, a.Host, g.Host)}
	}
	return nil
}
