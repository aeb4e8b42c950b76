package graph

import (
	"strings"
	"testing"
)

func TestFactoryCachesPerFingerprint(t *testing.T) {
	f := newFakeCloud(t, nil)
	fac := NewFactory(nil)
	cfg := f.config()

	a, err := fac.Client(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := fac.Client(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Error("same config must return the cached client")
	}

	rotated := cfg
	rotated.Credential.ClientSecret = "rotated"
	c, err := fac.Client(rotated)
	if err != nil {
		t.Fatal(err)
	}
	if c == a {
		t.Error("a rotated secret must yield a new client")
	}
	if n := len(fac.clients); n != 1 {
		t.Errorf("factory holds %d clients, want 1: the superseded one is dropped", n)
	}

	// Other endpoints: a client of its own, and the old one is gone with
	// its tokens.
	moved := rotated
	moved.Endpoints.GraphURL = strings.Replace(moved.Endpoints.GraphURL, "127.0.0.1", "localhost", 1)
	d, err := fac.Client(moved)
	if err != nil {
		t.Fatal(err)
	}
	if d == c {
		t.Error("new endpoints must yield a new client")
	}
	if n := len(fac.clients); n != 1 {
		t.Errorf("factory holds %d clients after an endpoint change, want 1", n)
	}
}

func TestFingerprint(t *testing.T) {
	base := Config{Credential: Credential{TenantID: "t", ClientID: "c", ClientSecret: "s"}}
	fp := fingerprint(base)
	if len(fp) != 64 || strings.Trim(fp, "0123456789abcdef") != "" {
		t.Errorf("fingerprint %q is not a sha256 hex digest", fp)
	}
	shifted := Config{Credential: Credential{TenantID: "t", ClientID: "cs", ClientSecret: ""}}
	changed := []Config{shifted, base, base, base}
	changed[1].Credential.ClientSecret = "s2"
	changed[2].Credential.CertificatePEM = []byte("x")
	changed[3].Endpoints.CAPEM = []byte("ca")
	for i, c := range changed {
		if fingerprint(c) == fp {
			t.Errorf("config %d has the same fingerprint as the base", i)
		}
	}
	if fingerprint(base) != fp {
		t.Error("fingerprint is not stable")
	}
}
