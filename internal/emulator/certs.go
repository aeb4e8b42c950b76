package emulator

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // x5t is defined as a SHA-1 thumbprint (RFC 7515 §4.1.7)
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"math/big"
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

func serialNumber() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
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

// signingKey is the key the emulator signs access tokens with, published
// through the JWKS endpoint.
type signingKey struct {
	key     *rsa.PrivateKey
	certDER []byte
	kid     string // base64url SHA-1 thumbprint, as Entra's kid/x5t
}

func newSigningKey(now time.Time) (*signingKey, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generating token signing key: %w", err)
	}
	serial, err := serialNumber()
	if err != nil {
		return nil, fmt.Errorf("generating serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "entra-emulator token signing"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(5 * 365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		return nil, fmt.Errorf("creating token signing certificate: %w", err)
	}
	sum := sha1.Sum(der) //nolint:gosec // thumbprint, not a security boundary
	return &signingKey{key: k, certDER: der, kid: base64.RawURLEncoding.EncodeToString(sum[:])}, nil
}

// thumbprints returns the SHA-1 and SHA-256 thumbprints of a certificate,
// the values of the x5t and x5t#S256 JWS headers.
func thumbprints(der []byte) (sha1sum, sha256sum []byte) {
	a := sha1.Sum(der) //nolint:gosec // x5t is SHA-1 by definition
	b := sha256.Sum256(der)
	return a[:], b[:]
}
