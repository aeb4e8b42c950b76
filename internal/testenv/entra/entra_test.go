package entra

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func httpClient(t *testing.T, caPEM []byte) *http.Client {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatal("CA PEM holds no certificate")
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
}

// The environment serves the documented client-credentials flow and Graph
// with the default tenant, using only net/http.
func TestStartServesTokenAndDomains(t *testing.T) {
	env := Start(t, WithCertificateApp())
	hc := httpClient(t, env.CAPEM)

	token := func(scope string) string {
		form := url.Values{
			"grant_type":    {"client_credentials"},
			"client_id":     {env.ClientID},
			"client_secret": {env.ClientSecret},
			"scope":         {scope},
		}
		resp, err := hc.PostForm(env.URL+"/"+env.TenantID+"/oauth2/v2.0/token", form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != 200 || tok.AccessToken == "" {
			t.Fatalf("token: status %d, err %v", resp.StatusCode, err)
		}
		return tok.AccessToken
	}
	// A token for the public cloud's Graph is not for this host: refused.
	pub, _ := http.NewRequest(http.MethodGet, env.URL+"/v1.0/domains", nil)
	pub.Header.Set("Authorization", "Bearer "+token("https://graph.microsoft.com/.default"))
	presp, err := hc.Do(pub)
	if err != nil {
		t.Fatal(err)
	}
	presp.Body.Close()
	if presp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a graph.microsoft.com token was accepted by the emulator's Graph: %d", presp.StatusCode)
	}
	tok := struct{ AccessToken string }{token(env.URL + "/.default")}

	req, _ := http.NewRequest(http.MethodGet, env.URL+"/v1.0/domains", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	dresp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer dresp.Body.Close()
	var domains struct {
		Value []struct {
			ID         string `json:"id"`
			IsVerified bool   `json:"isVerified"`
			IsInitial  bool   `json:"isInitial"`
		} `json:"value"`
	}
	if err := json.NewDecoder(dresp.Body).Decode(&domains); err != nil || dresp.StatusCode != 200 {
		t.Fatalf("domains: status %d, err %v", dresp.StatusCode, err)
	}
	got := map[string]bool{}
	for _, d := range domains.Value {
		got[d.ID] = d.IsVerified
	}
	if !got[DefaultInitialDomain] || !got[DefaultVerifiedDomain] {
		t.Errorf("domains = %+v, want %s and %s verified", domains.Value, DefaultInitialDomain, DefaultVerifiedDomain)
	}

	cfg := env.GraphConfig()
	if err := cfg.Validate(); err != nil {
		t.Errorf("GraphConfig invalid: %v", err)
	}
	if !strings.HasPrefix(cfg.Endpoints.GraphURL, "https://127.0.0.1:") || cfg.Endpoints.Scope != "" {
		t.Errorf("endpoints = %+v", cfg.Endpoints)
	}
	if err := env.CertificateConfig(t).Validate(); err != nil {
		t.Errorf("CertificateConfig invalid: %v", err)
	}
}
