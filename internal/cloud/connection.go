package cloud

import "context"

// Connection says how to reach one tenant with one credential, with secret
// material already read from its Secrets. Exactly one credential is set.
type Connection struct {
	TenantID string
	// Cloud is Public, USGov, USGovDoD, China or Custom.
	Cloud string
	// GraphURL (the service root, e.g. https://graph.microsoft.com; /v1.0 is
	// appended unless present) and AuthorityURL are used for Custom; the
	// national clouds' hosts are fixed.
	GraphURL     string
	AuthorityURL string
	// CAPEM adds trusted roots, for custom endpoints such as the emulator.
	CAPEM []byte

	ClientID string
	// ClientSecret, CertificatePEM (certificate and key) or
	// FederatedTokenFile (workload identity).
	ClientSecret       string
	CertificatePEM     []byte
	FederatedTokenFile string

	// Delegated, when set, replaces the application credential with a
	// person's sign-in; ClientID is then ignored in favour of its own.
	Delegated *DelegatedAccess
}

// Factory builds Clients. Implementations cache one per Connection, so that
// a rotated Secret (a different Connection) gets a fresh client.
type Factory interface {
	Client(ctx context.Context, c Connection) (Client, error)
}

// FactoryFunc adapts a function to Factory.
type FactoryFunc func(ctx context.Context, c Connection) (Client, error)

// Client calls f.
func (f FactoryFunc) Client(ctx context.Context, c Connection) (Client, error) { return f(ctx, c) }
