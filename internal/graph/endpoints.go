package graph

import (
	"fmt"
	"net/url"
	"strings"
)

// knownAuthority tells the identity hosts for which azidentity's instance
// discovery works; any other authority (an emulator, a proxy) needs it off.
func knownAuthority(host string) bool {
	switch strings.ToLower(host) {
	case "login.microsoftonline.com", "login.microsoftonline.us", "login.chinacloudapi.cn":
		return true
	}
	return false
}

// resolved is Endpoints after validation, with the parts the client needs.
type resolved struct {
	graphURL     string // without trailing slash
	graphHost    string // hostname only, no port: kiota's allowed-host check compares hostnames
	authorityURL string // with trailing slash, as azidentity expects
	customAuth   bool
	scope        string
}

func resolveEndpoints(e Endpoints) (resolved, error) {
	g, err := parseHTTPSURL("GraphURL", e.GraphURL)
	if err != nil {
		return resolved{}, err
	}
	a, err := parseHTTPSURL("AuthorityURL", e.AuthorityURL)
	if err != nil {
		return resolved{}, err
	}
	scope := e.Scope
	if scope == "" {
		scope = g.Scheme + "://" + g.Host + "/.default"
	}
	auth := a.Scheme + "://" + a.Host + strings.TrimSuffix(a.Path, "/") + "/"
	return resolved{
		graphURL:     strings.TrimSuffix(g.String(), "/"),
		graphHost:    g.Hostname(),
		authorityURL: auth,
		customAuth:   !knownAuthority(a.Host) || a.Path != "" && a.Path != "/",
		scope:        scope,
	}, nil
}

func parseHTTPSURL(field, raw string) (*url.URL, error) {
	if raw == "" {
		return nil, fmt.Errorf("%s is required", field)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	// Tokens are bearer secrets: never send them over plain HTTP.
	if u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("%s %q must be an absolute https URL", field, raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%s %q must not carry a query or fragment", field, raw)
	}
	return u, nil
}
