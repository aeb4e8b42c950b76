// Package jose signs and verifies the compact JWS tokens that the emulator's
// identity platform issues and accepts. Only what Entra ID uses is supported:
// RSA keys with RS256 or PS256. It exists so the emulator needs no JWT library
// beyond the standard library.
package jose

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Algorithm names as they appear in the JWS "alg" header.
const (
	RS256 = "RS256"
	PS256 = "PS256"
)

// ErrMalformed means the token is not a well-formed compact JWS.
var ErrMalformed = errors.New("malformed token")

// ErrSignature means the signature does not verify with the given key.
var ErrSignature = errors.New("invalid signature")

// Token is a parsed but not yet verified compact JWS.
type Token struct {
	Header    map[string]any
	Claims    map[string]any
	signing   string // header.payload, the signed input
	signature []byte
}

// Alg returns the "alg" header, or "" when absent.
func (t *Token) Alg() string { return t.HeaderString("alg") }

// HeaderString returns a string header value, or "" when absent or not a string.
func (t *Token) HeaderString(name string) string {
	s, _ := t.Header[name].(string)
	return s
}

// ClaimString returns a string claim, or "" when absent or not a string.
func (t *Token) ClaimString(name string) string {
	s, _ := t.Claims[name].(string)
	return s
}

// ClaimInt returns a numeric claim (JSON numbers or numeric strings) and
// whether it was present and numeric.
func (t *Token) ClaimInt(name string) (int64, bool) {
	switch v := t.Claims[name].(type) {
	case json.Number:
		n, err := v.Int64()
		if err != nil {
			f, ferr := v.Float64()
			if ferr != nil {
				return 0, false
			}
			return int64(f), true
		}
		return n, true
	case float64:
		return int64(v), true
	default:
		return 0, false
	}
}

// ClaimStrings returns a claim that is a string or an array of strings.
func (t *Token) ClaimStrings(name string) []string {
	switch v := t.Claims[name].(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	default:
		return nil
	}
}

// Parse splits and decodes a compact JWS without verifying it.
func Parse(compact string) (*Token, error) {
	parts := strings.Split(compact, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("%w: want 3 dot-separated parts, got %d", ErrMalformed, len(parts))
	}
	var t Token
	if err := decodeJSONPart(parts[0], &t.Header); err != nil {
		return nil, fmt.Errorf("%w: header: %w", ErrMalformed, err)
	}
	if err := decodeJSONPart(parts[1], &t.Claims); err != nil {
		return nil, fmt.Errorf("%w: payload: %w", ErrMalformed, err)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, fmt.Errorf("%w: signature: %w", ErrMalformed, err)
	}
	t.signing = parts[0] + "." + parts[1]
	t.signature = sig
	return &t, nil
}

func decodeJSONPart(part string, into *map[string]any) error {
	raw, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(into); err != nil {
		return err
	}
	if *into == nil {
		return errors.New("not a JSON object")
	}
	return nil
}

// Verify checks the signature with key, using the token's own "alg" header
// restricted to RS256 and PS256.
func (t *Token) Verify(key *rsa.PublicKey) error {
	if key == nil {
		return fmt.Errorf("%w: no key", ErrSignature)
	}
	digest := sha256.Sum256([]byte(t.signing))
	switch t.Alg() {
	case RS256:
		if err := rsa.VerifyPKCS1v15(key, crypto.SHA256, digest[:], t.signature); err != nil {
			return fmt.Errorf("%w: %w", ErrSignature, err)
		}
	case PS256:
		opts := &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto, Hash: crypto.SHA256}
		if err := rsa.VerifyPSS(key, crypto.SHA256, digest[:], t.signature, opts); err != nil {
			return fmt.Errorf("%w: %w", ErrSignature, err)
		}
	default:
		return fmt.Errorf("%w: unsupported alg %q", ErrSignature, t.Alg())
	}
	return nil
}

// Sign produces a compact JWS with the given algorithm. The header's "alg"
// is set from alg; "typ" defaults to "JWT".
func Sign(alg string, key *rsa.PrivateKey, header, claims map[string]any) (string, error) {
	h := make(map[string]any, len(header)+2)
	for k, v := range header {
		h[k] = v
	}
	h["alg"] = alg
	if _, ok := h["typ"]; !ok {
		h["typ"] = "JWT"
	}
	hj, err := json.Marshal(h)
	if err != nil {
		return "", fmt.Errorf("encoding JWS header: %w", err)
	}
	cj, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("encoding JWS claims: %w", err)
	}
	signing := base64.RawURLEncoding.EncodeToString(hj) + "." + base64.RawURLEncoding.EncodeToString(cj)
	digest := sha256.Sum256([]byte(signing))
	var sig []byte
	switch alg {
	case RS256:
		sig, err = rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	case PS256:
		sig, err = rsa.SignPSS(rand.Reader, key, crypto.SHA256, digest[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	default:
		return "", fmt.Errorf("unsupported alg %q", alg)
	}
	if err != nil {
		return "", fmt.Errorf("signing JWS: %w", err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// DecodeThumbprint decodes an x5t or x5t#S256 header value. Microsoft's
// libraries send standard Base64 while RFC 7515 says base64url, so both
// alphabets are accepted, with or without padding.
func DecodeThumbprint(s string) ([]byte, error) {
	trimmed := strings.TrimRight(s, "=")
	if b, err := base64.RawURLEncoding.DecodeString(trimmed); err == nil {
		return b, nil
	}
	b, err := base64.RawStdEncoding.DecodeString(trimmed)
	if err != nil {
		return nil, fmt.Errorf("thumbprint is neither base64 nor base64url: %w", err)
	}
	return b, nil
}
