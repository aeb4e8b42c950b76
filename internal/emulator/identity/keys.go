package identity

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // x5t is defined as a SHA-1 thumbprint (RFC 7515 §4.1.7)
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"math/big"
	"time"
)

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

func serialNumber() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
}
