package graphconfig

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

const docDeployments = "https://learn.microsoft.com/graph/deployments"

func TestEndpointsFor(t *testing.T) {
	tests := []struct {
		name    string
		want    Endpoints
		wantErr bool
	}{
		{"", Endpoints{GraphURL: "https://graph.microsoft.com/v1.0", AuthorityURL: "https://login.microsoftonline.com"}, false},
		{"Public", Endpoints{GraphURL: "https://graph.microsoft.com/v1.0", AuthorityURL: "https://login.microsoftonline.com"}, false},
		{"usgov", Endpoints{GraphURL: "https://graph.microsoft.us/v1.0", AuthorityURL: "https://login.microsoftonline.us"}, false},
		{"USGovDoD", Endpoints{GraphURL: "https://dod-graph.microsoft.us/v1.0", AuthorityURL: "https://login.microsoftonline.us"}, false},
		{"China", Endpoints{GraphURL: "https://microsoftgraph.chinacloudapi.cn/v1.0", AuthorityURL: "https://login.chinacloudapi.cn"}, false},
		{"Germany", Endpoints{}, true},
	}
	for _, tt := range tests {
		got, err := EndpointsFor(tt.name)
		if (err != nil) != tt.wantErr {
			t.Errorf("EndpointsFor(%q) err = %v", tt.name, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("EndpointsFor(%q) (-want +got), doc %s:\n%s", tt.name, docDeployments, diff)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	base := Credential{TenantID: "t", ClientID: "c"}
	with := func(f func(*Credential)) Config {
		c := base
		f(&c)
		return Config{Credential: c}
	}
	tests := []struct {
		name    string
		cfg     Config
		wantErr bool
	}{
		{"secret", with(func(c *Credential) { c.ClientSecret = "s" }), false},
		{"certificate", with(func(c *Credential) { c.CertificatePEM = []byte("pem") }), false},
		{"federated", with(func(c *Credential) { c.FederatedTokenFile = "/var/run/token" }), false},
		{"none", with(func(*Credential) {}), true},
		{"two", with(func(c *Credential) { c.ClientSecret = "s"; c.FederatedTokenFile = "/f" }), true},
		{"no tenant", Config{Credential: Credential{ClientID: "c", ClientSecret: "s"}}, true},
		{"negative timeout", Config{Credential: Credential{TenantID: "t", ClientID: "c", ClientSecret: "s"}, Timeout: -1}, true},
	}
	for _, tt := range tests {
		if err := tt.cfg.Validate(); (err != nil) != tt.wantErr {
			t.Errorf("%s: err = %v, wantErr %v", tt.name, err, tt.wantErr)
		}
	}
}
