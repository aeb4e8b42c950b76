package graph

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/entramatch/entra-match-operator/internal/cloud"
)

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
			got, err := resolveEndpoints(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(resolved{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// spec.custom.graphURL is documented as the service root without the API
// version; a trailing /v1.0 is accepted, another version refused.
func TestGraphServiceRoot(t *testing.T) {
	for _, c := range []struct {
		in, want string
		wantErr  bool
	}{
		{in: "https://graph.microsoft.com", want: "https://graph.microsoft.com/v1.0"},
		{in: "https://graph.microsoft.com/", want: "https://graph.microsoft.com/v1.0"},
		{in: "https://graph.microsoft.com/v1.0", want: "https://graph.microsoft.com/v1.0"},
		{in: "https://graph.microsoft.com/V1.0/", want: "https://graph.microsoft.com/v1.0"},
		{in: "https://127.0.0.1:8443", want: "https://127.0.0.1:8443/v1.0"},
		{in: "https://proxy.example/graph", want: "https://proxy.example/graph/v1.0"},
		{in: "https://proxy.example/graph/v1.0", want: "https://proxy.example/graph/v1.0"},
		{in: "https://graph.microsoft.com/beta", wantErr: true},
		{in: "https://graph.microsoft.com/v2.0", wantErr: true},
		{in: "graph.microsoft.com", wantErr: true},
	} {
		got, err := GraphServiceRoot(c.in)
		if (err != nil) != c.wantErr || got != c.want {
			t.Errorf("GraphServiceRoot(%q) = %q, %v; want %q (error %v)", c.in, got, err, c.want, c.wantErr)
		}
	}
}

// A token only ever goes to the host it was issued for: a custom Graph URL
// gets tokens for itself, and a non-Microsoft Graph host next to
// Microsoft's authority is refused rather than sent a Microsoft Graph token.
func TestCustomCloudTokenScope(t *testing.T) {
	for _, c := range []struct {
		name, graphURL, authority, wantScope string
		wantErr                              bool
	}{
		{"emulator", "https://127.0.0.1:8443", "https://127.0.0.1:8443", "https://127.0.0.1:8443/.default", false},
		{"proxy with its own authority", "https://graph.proxy.example/api", "https://login.proxy.example", "https://graph.proxy.example/.default", false},
		{"Microsoft Graph through Custom", "https://graph.microsoft.com", "https://login.microsoftonline.com", "https://graph.microsoft.com/.default", false},
		{"another host with Microsoft's authority", "https://graph.attacker.example", "https://login.microsoftonline.com", "", true},
		{"US Gov authority, foreign host", "https://graph.attacker.example", "https://login.microsoftonline.us", "", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := ConfigFor(cloud.Connection{Cloud: "Custom", GraphURL: c.graphURL, AuthorityURL: c.authority,
				TenantID: "t", ClientID: "c", ClientSecret: "s"})
			if c.wantErr {
				if cloud.ClassOf(err) != cloud.ClassWrongEndpoint {
					t.Fatalf("ConfigFor = %v, want a WrongEndpoint refusal", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			r, err := resolveEndpoints(cfg.Endpoints)
			if err != nil || r.scope != c.wantScope {
				t.Errorf("scope = %q (%v), want %q", r.scope, err, c.wantScope)
			}
		})
	}
}
