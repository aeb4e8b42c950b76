package emulator

import (

	//nolint:gosec // x5t is defined as a SHA-1 thumbprint (RFC 7515 §4.1.7)

	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/entramatch/entra-match-operator/internal/selfsigned"
)

// tlsMaterial is the emulator's private CA and the loopback server
// certificate it signed.
type tlsMaterial struct {
	caPEM   []byte
	certPEM []byte
	keyPEM  []byte
	pair    tls.Certificate
}

// newTLSMaterial creates a CA and a server certificate for 127.0.0.1, ::1
// and localhost.
func newTLSMaterial(now time.Time) (*tlsMaterial, error) {
	a, err := selfsigned.New("entra-emulator", []string{"127.0.0.1", "::1", "localhost"}, now,
		selfsigned.Lifetimes{CA: 10 * 365 * 24 * time.Hour, Server: 2 * 365 * 24 * time.Hour})
	if err != nil {
		return nil, err
	}
	return &tlsMaterial{caPEM: a.CAPEM, certPEM: a.CertPEM, keyPEM: a.KeyPEM, pair: a.Pair}, nil
}

// write stores ca.crt, tls.crt and tls.key in dir (created if missing).
func (m *tlsMaterial) write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating cert dir: %w", err)
	}
	files := []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{"ca.crt", m.caPEM, 0o644},
		{"tls.crt", m.certPEM, 0o644},
		{"tls.key", m.keyPEM, 0o600},
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f.name), f.data, f.mode); err != nil {
			return fmt.Errorf("writing %s: %w", f.name, err)
		}
	}
	return nil
}
