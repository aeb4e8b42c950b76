// Package entra starts the in-process Entra ID emulator for tests and hands
// out everything a Graph client needs to talk to it.
//
// It deliberately does not import package graph (and so msgraph-sdk-go):
// controller tests use it and must stay quick to compile. GraphConfig returns
// a graphconfig.Config, which graph.New accepts as is.
package entra

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"testing"
	"time"

	"github.com/entramatch/entra-match-operator/internal/emulator"
	"github.com/entramatch/entra-match-operator/internal/graph/graphconfig"
)

// Defaults of the emulated tenant.
const (
	DefaultTenantID       = "7c1d9f4e-2b3a-4c5d-8e6f-0a1b2c3d4e5f"
	DefaultClientID       = "3f0e8d2c-1b4a-4d6e-9f8a-7b6c5d4e3f21"
	DefaultCertClientID   = "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c10"
	DefaultInitialDomain  = "contoso.onmicrosoft.com"
	DefaultVerifiedDomain = "contoso.com"
)

// AllPermissions returns the application permissions of the default apps:
// everything the operator may need; tests of permission errors register a
// further app (WithApp) with fewer.
func AllPermissions() []string {
	return []string{
		"User.ReadWrite.All", "User.DeleteRestore.All", "Directory.ReadWrite.All",
		"Domain.Read.All", "Organization.Read.All",
		"OnPremDirectorySynchronization.ReadWrite.All",
		"RoleManagement.ReadWrite.Directory", "RoleEligibilitySchedule.ReadWrite.Directory",
		"Group.ReadWrite.All", "OrgContact.Read.All",
	}
}

// Env is a running emulated tenant.
type Env struct {
	Server         *emulator.Server
	URL            string // https://127.0.0.1:PORT
	CAPEM          []byte // the emulator's CA
	TenantID       string
	InitialDomain  string
	VerifiedDomain string

	// The default app, authenticating with a client secret.
	ClientID     string
	ClientSecret string

	// The certificate app, when WithCertificateApp was given.
	CertClientID string
	CertPEM      []byte // certificate and private key, as graph expects
}

type options struct {
	certApp     bool
	extraApps   []emulator.App
	state       *emulator.Snapshot
	appOnlySync bool
	mutate      []func(*emulator.Config)
}

// Option changes how Start builds the tenant.
type Option func(*options)

// WithCertificateApp registers a second app that authenticates with a
// certificate; Env.CertClientID and Env.CertPEM describe it.
func WithCertificateApp() Option { return func(o *options) { o.certApp = true } }

// WithApp registers a further app, for example one with fewer permissions.
func WithApp(a emulator.App) Option { return func(o *options) { o.extraApps = append(o.extraApps, a) } }

// WithState starts from s. When s has no domains, the default verified
// domain is added next to the initial domain.
func WithState(s emulator.Snapshot) Option { return func(o *options) { o.state = &s } }

// WithAppOnlySyncFeatures says whether app-only tokens may use the
// onPremisesSynchronization API (default true; see emulator.Config).
func WithAppOnlySyncFeatures(allowed bool) Option {
	return func(o *options) { o.appOnlySync = allowed }
}

// WithEmulatorConfig edits the emulator configuration last, for anything the
// other options do not cover (middleware, clock, logger).
func WithEmulatorConfig(fn func(*emulator.Config)) Option {
	return func(o *options) { o.mutate = append(o.mutate, fn) }
}

// Start runs an emulator on a loopback port for the duration of the test.
func Start(t testing.TB, opts ...Option) *Env {
	t.Helper()
	o := options{appOnlySync: true}
	perms := AllPermissions()
	for _, opt := range opts {
		opt(&o)
	}
	env := &Env{
		TenantID:       DefaultTenantID,
		InitialDomain:  DefaultInitialDomain,
		VerifiedDomain: DefaultVerifiedDomain,
		ClientID:       DefaultClientID,
		ClientSecret:   randomSecret(t),
	}
	apps := []emulator.App{{ClientID: env.ClientID, Secret: env.ClientSecret, Permissions: perms}}
	if o.certApp {
		certPEM, keyPEM := selfSignedCertificate(t)
		env.CertClientID = DefaultCertClientID
		env.CertPEM = append(append([]byte(nil), certPEM...), keyPEM...)
		apps = append(apps, emulator.App{ClientID: env.CertClientID, Permissions: perms, CertificatePEM: certPEM})
	}
	apps = append(apps, o.extraApps...)

	state := emulator.Snapshot{Sync: emulator.DefaultSyncState()}
	if o.state != nil {
		state = *o.state
	}
	if len(state.Domains) == 0 {
		state.Domains = []emulator.Domain{
			{ID: DefaultInitialDomain, AuthenticationType: "Managed", IsInitial: true, IsVerified: true},
			{ID: DefaultVerifiedDomain, AuthenticationType: "Managed", IsDefault: true, IsVerified: true},
		}
	}
	if state.Organization.DisplayName == "" {
		state.Organization.DisplayName = "Contoso"
	}
	cfg := emulator.Config{
		TenantID:            DefaultTenantID,
		InitialDomain:       DefaultInitialDomain,
		Apps:                apps,
		State:               &state,
		AppOnlySyncFeatures: o.appOnlySync,
		// Clients must request tokens for the emulator's own origin, the
		// Graph host they call: a public-cloud Graph token sent to it fails.
		OwnAudienceOnly: true,
	}
	for _, fn := range o.mutate {
		fn(&cfg)
	}
	srv, err := emulator.New(cfg)
	if err != nil {
		t.Fatalf("entra emulator: %v", err)
	}
	if err := srv.Start("127.0.0.1:0", t.TempDir()); err != nil {
		t.Fatalf("entra emulator: starting: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("entra emulator: closing: %v", err)
		}
	})
	env.Server = srv
	env.URL = srv.URL()
	env.CAPEM = srv.CACertPEM()
	return env
}

// Endpoints returns the emulator's Graph and authority endpoints.
func (e *Env) Endpoints() graphconfig.Endpoints {
	return graphconfig.Endpoints{
		GraphURL:     e.URL + "/v1.0",
		AuthorityURL: e.URL,
		CAPEM:        append([]byte(nil), e.CAPEM...),
	}
}

// GraphConfig is a configuration for graph.New using the default app and
// its client secret.
func (e *Env) GraphConfig() graphconfig.Config {
	return e.SecretConfig(e.ClientID, e.ClientSecret)
}

// SecretConfig is a configuration for any app registered with a secret
// (see WithApp), or for a wrong secret.
func (e *Env) SecretConfig(clientID, secret string) graphconfig.Config {
	return graphconfig.Config{
		Endpoints:  e.Endpoints(),
		Credential: graphconfig.Credential{TenantID: e.TenantID, ClientID: clientID, ClientSecret: secret},
		Timeout:    30 * time.Second,
	}
}

// CertificateConfig is a configuration for the certificate app; it needs
// WithCertificateApp.
func (e *Env) CertificateConfig(t testing.TB) graphconfig.Config {
	t.Helper()
	if e.CertClientID == "" {
		t.Fatal("entra emulator: CertificateConfig needs Start(t, WithCertificateApp())")
	}
	return graphconfig.Config{
		Endpoints:  e.Endpoints(),
		Credential: graphconfig.Credential{TenantID: e.TenantID, ClientID: e.CertClientID, CertificatePEM: append([]byte(nil), e.CertPEM...)},
		Timeout:    30 * time.Second,
	}
}

func randomSecret(t testing.TB) string {
	t.Helper()
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("entra emulator: secret: %v", err)
	}
	return hex.EncodeToString(b)
}

// selfSignedCertificate returns a certificate and its PKCS#8 key, PEM encoded.
func selfSignedCertificate(t testing.TB) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("entra emulator: key: %v", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()),
		Subject:      pkix.Name{CommonName: "entra-match-operator test app"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("entra emulator: certificate: %v", err)
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatalf("entra emulator: key: %v", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk})
}
