// Package seal makes records the operator keeps in a resource's status
// tamper-evident. Whoever may patch a status could otherwise write a list
// of roles for the operator to "restore": a way to a Global Administrator
// assignment for anyone with that one permission. The operator seals what
// it records with a key only the manager holds, and acts on a record only
// when the seal verifies.
package seal

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
)

// KeySize is the size of a generated key; shorter keys are refused.
const KeySize = 32

// Sealer signs and verifies records with one key.
type Sealer struct{ key []byte }

// New returns a Sealer for key, which must hold at least KeySize bytes.
func New(key []byte) (*Sealer, error) {
	if len(key) < KeySize {
		return nil, errors.New("seal key must be at least 32 bytes")
	}
	return &Sealer{key: append([]byte(nil), key...)}, nil
}

// NewKey returns a fresh random key.
func NewKey() ([]byte, error) {
	k := make([]byte, KeySize)
	_, err := rand.Read(k)
	return k, err
}

// Seal signs the fields of a record. Each field is length-prefixed, so
// that no two different records encode alike.
func (s *Sealer) Seal(fields ...string) string {
	m := hmac.New(sha256.New, s.key)
	var n [8]byte
	for _, f := range fields {
		binary.BigEndian.PutUint64(n[:], uint64(len(f)))
		m.Write(n[:])
		m.Write([]byte(f))
	}
	return "v1:" + base64.RawStdEncoding.EncodeToString(m.Sum(nil))
}

// Verify reports whether seal was made by Seal over the same fields with
// this key.
func (s *Sealer) Verify(seal string, fields ...string) bool {
	return hmac.Equal([]byte(seal), []byte(s.Seal(fields...)))
}
