package jose

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func TestSignVerifyRoundTrip(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	for _, alg := range []string{RS256, PS256} {
		t.Run(alg, func(t *testing.T) {
			tok, err := Sign(alg, key, map[string]any{"kid": "k1"}, map[string]any{"sub": "abc", "exp": 42})
			if err != nil {
				t.Fatal(err)
			}
			p, err := Parse(tok)
			if err != nil {
				t.Fatal(err)
			}
			if p.Alg() != alg || p.HeaderString("kid") != "k1" || p.ClaimString("sub") != "abc" {
				t.Fatalf("unexpected parse: %#v %#v", p.Header, p.Claims)
			}
			if n, ok := p.ClaimInt("exp"); !ok || n != 42 {
				t.Fatalf("exp = %d, %v", n, ok)
			}
			if err := p.Verify(&key.PublicKey); err != nil {
				t.Fatalf("verify with right key: %v", err)
			}
			if err := p.Verify(&other.PublicKey); !errors.Is(err, ErrSignature) {
				t.Fatalf("verify with wrong key: got %v, want ErrSignature", err)
			}
			// Tampering with the payload must break the signature.
			parts := strings.Split(tok, ".")
			parts[1] = base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"evil","exp":42}`))
			tp, err := Parse(strings.Join(parts, "."))
			if err != nil {
				t.Fatal(err)
			}
			if err := tp.Verify(&key.PublicKey); !errors.Is(err, ErrSignature) {
				t.Fatalf("tampered token verified: %v", err)
			}
		})
	}
}

func TestParseMalformed(t *testing.T) {
	for _, in := range []string{"", "a.b", "a.b.c.d", "!!.e30.", "e30.!!.", "e30.e30.!!", "bnVsbA.e30."} {
		if _, err := Parse(in); !errors.Is(err, ErrMalformed) {
			t.Errorf("Parse(%q) = %v, want ErrMalformed", in, err)
		}
	}
}

func TestDecodeThumbprint(t *testing.T) {
	raw := []byte{0xfb, 0xff, 0x01, 0x02, 0xfe}
	for _, enc := range []string{
		base64.StdEncoding.EncodeToString(raw),
		base64.RawStdEncoding.EncodeToString(raw),
		base64.URLEncoding.EncodeToString(raw),
		base64.RawURLEncoding.EncodeToString(raw),
	} {
		got, err := DecodeThumbprint(enc)
		if err != nil || string(got) != string(raw) {
			t.Errorf("DecodeThumbprint(%q) = %x, %v", enc, got, err)
		}
	}
	if _, err := DecodeThumbprint("***"); err == nil {
		t.Error("want error for garbage")
	}
}
