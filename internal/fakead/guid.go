package fakead

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"

	"github.com/google/uuid"
)

// GUID holds the 16 bytes of an objectGUID exactly as AD stores and returns
// them over LDAP: the first three fields little-endian (the .NET
// Guid.ToByteArray order), the last eight as written. It converts to and
// from [16]byte without a cast.
type GUID [16]byte

// NewGUID returns a random (version 4) GUID.
func NewGUID() (GUID, error) {
	var g GUID
	if _, err := rand.Read(g[:]); err != nil {
		return GUID{}, fmt.Errorf("reading random bytes for a GUID: %w", err)
	}
	// The version and variant bits live in the string form's fields, so
	// they are set in the byte positions those fields occupy in AD order.
	g[7] = g[7]&0x0f | 0x40
	g[8] = g[8]&0x3f | 0x80
	return g, nil
}

// ParseGUID reads the usual text form (3ab39606-c642-489b-84b6-58c038d3ef39,
// braces optional) and returns the bytes in AD order.
func ParseGUID(s string) (GUID, error) {
	u, err := uuid.Parse(s)
	if err != nil {
		return GUID{}, fmt.Errorf("parsing GUID %q: %w", s, err)
	}
	return guidFromRFC(u), nil
}

// String returns the text form, as `Get-ADUser` or `samba-tool user show`
// print it.
func (g GUID) String() string {
	return g.rfc().String()
}

// IsZero reports whether g is the nil GUID.
func (g GUID) IsZero() bool { return g == GUID{} }

// MarshalText makes GUIDs read well in seed files.
func (g GUID) MarshalText() ([]byte, error) { return []byte(g.String()), nil }

// UnmarshalText accepts the text form.
func (g *GUID) UnmarshalText(b []byte) error {
	parsed, err := ParseGUID(string(b))
	if err != nil {
		return err
	}
	*g = parsed
	return nil
}

// rfc returns the RFC 4122 (big-endian) byte order used by the text form.
func (g GUID) rfc() uuid.UUID {
	var u uuid.UUID
	binary.BigEndian.PutUint32(u[0:4], binary.LittleEndian.Uint32(g[0:4]))
	binary.BigEndian.PutUint16(u[4:6], binary.LittleEndian.Uint16(g[4:6]))
	binary.BigEndian.PutUint16(u[6:8], binary.LittleEndian.Uint16(g[6:8]))
	copy(u[8:], g[8:])
	return u
}

func guidFromRFC(u uuid.UUID) GUID {
	var g GUID
	binary.LittleEndian.PutUint32(g[0:4], binary.BigEndian.Uint32(u[0:4]))
	binary.LittleEndian.PutUint16(g[4:6], binary.BigEndian.Uint16(u[4:6]))
	binary.LittleEndian.PutUint16(g[6:8], binary.BigEndian.Uint16(u[6:8]))
	copy(g[8:], u[8:])
	return g
}
