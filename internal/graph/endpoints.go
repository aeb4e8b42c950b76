package graph

import (
	"fmt"
	"net/url"
	"strings"
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
	// which is what Microsoft's national-cloud guidance asks for.
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

func (e Endpoints) resolve() (resolved, error) {
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
