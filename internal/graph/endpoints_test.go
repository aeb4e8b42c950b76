package graph

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

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

func TestResolve(t *testing.T) {
	tests := []struct {
		name    string
		in      Endpoints
		want    resolved
		wantErr bool
	}{
		{
			name: "public cloud keeps instance discovery",
			in:   Endpoints{GraphURL: "https://graph.microsoft.com/v1.0", AuthorityURL: "https://login.microsoftonline.com"},
			want: resolved{graphURL: "https://graph.microsoft.com/v1.0", graphHost: "graph.microsoft.com",
				authorityURL: "https://login.microsoftonline.com/", scope: "https://graph.microsoft.com/.default"},
		},
		{
			name: "emulator: host without port, discovery off",
			in:   Endpoints{GraphURL: "https://127.0.0.1:8443/v1.0/", AuthorityURL: "https://127.0.0.1:8443"},
			want: resolved{graphURL: "https://127.0.0.1:8443/v1.0", graphHost: "127.0.0.1",
				authorityURL: "https://127.0.0.1:8443/", customAuth: true, scope: "https://127.0.0.1:8443/.default"},
		},
		{
			name: "scope override",
			in:   Endpoints{GraphURL: "https://127.0.0.1:8443/v1.0", AuthorityURL: "https://127.0.0.1:8443", Scope: "https://graph.microsoft.com/.default"},
			want: resolved{graphURL: "https://127.0.0.1:8443/v1.0", graphHost: "127.0.0.1",
				authorityURL: "https://127.0.0.1:8443/", customAuth: true, scope: "https://graph.microsoft.com/.default"},
		},
		{name: "plain http refused", in: Endpoints{GraphURL: "http://graph.microsoft.com/v1.0", AuthorityURL: "https://login.microsoftonline.com"}, wantErr: true},
		{name: "missing authority", in: Endpoints{GraphURL: "https://graph.microsoft.com/v1.0"}, wantErr: true},
		{name: "query refused", in: Endpoints{GraphURL: "https://graph.microsoft.com/v1.0?x=1", AuthorityURL: "https://login.microsoftonline.com"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.in.resolve()
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(resolved{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
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
		if err := tt.cfg.validate(); (err != nil) != tt.wantErr {
			t.Errorf("%s: err = %v, wantErr %v", tt.name, err, tt.wantErr)
		}
	}
}
