// Package anchor converts an Active Directory source anchor (objectGUID or
// mS-DS-ConsistencyGuid) between the forms people and systems write it in:
// the raw 16 bytes as LDAP returns them, the GUID text that AD tools print,
// the Base64 immutableId that Entra ID stores in onPremisesImmutableId, hex,
// the Entra connector-space DN, and an LDAP filter escape.
//
// The byte order is the trap: LDAP hands out the bytes in .NET
// Guid.ToByteArray order (first three fields little-endian), while GUID text
// is written big-endian field by field. Reading GUID text as plain hex gives a
// plausible but wrong immutableId, so every conversion goes through Anchor,
// which always holds the AD byte order.
package anchor

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Size is the length of a GUID-based anchor in bytes.
const Size = 16

// Anchor is a GUID-based source anchor in AD byte order, exactly as the
// objectGUID or mS-DS-ConsistencyGuid attribute holds it.
type Anchor [Size]byte

// ErrInvalid is wrapped by every error this package returns for input that
// is not an anchor, so callers can tell bad input from other failures.
var ErrInvalid = errors.New("invalid anchor")

// Form names the notation an anchor was written in.
type Form string

// The notations Parse recognises.
const (
	FormGUID        Form = "guid"        // 3ab39606-c642-489b-84b6-58c038d3ef39, with or without braces
	FormImmutableID Form = "immutableId" // BpazOkLGm0iEtljAONPvOQ==
	FormHex         Form = "hex"         // 0696B33A42C69B4884B658C038D3EF39 (raw bytes, separators allowed)
	FormConnectorDN Form = "connectorDN" // CN={427061...3D3D}
	FormLDAPFilter  Form = "ldapEscape"  // \06\96\b3...
)

// guidFieldOrder maps a position in GUID text order (big-endian fields) to
// the position of that byte in AD order: the first three fields are
// byte-swapped, the last eight bytes are kept as written.
var guidFieldOrder = [Size]int{3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15}

// FromBytes copies a 16-byte value read from LDAP.
func FromBytes(b []byte) (Anchor, error) {
	var a Anchor
	if len(b) != Size {
		return a, fmt.Errorf("%w: %d bytes, want %d", ErrInvalid, len(b), Size)
	}
	copy(a[:], b)
	return a, nil
}

// FromGUID reads GUID text such as 3ab39606-c642-489b-84b6-58c038d3ef39,
// optionally in braces, in any letter case.
func FromGUID(s string) (Anchor, error) {
	var a Anchor
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "{") || strings.HasSuffix(t, "}") {
		if !strings.HasPrefix(t, "{") || !strings.HasSuffix(t, "}") {
			return a, fmt.Errorf("%w: GUID %q has unbalanced braces", ErrInvalid, s)
		}
		t = t[1 : len(t)-1]
	}
	if len(t) != 36 || t[8] != '-' || t[13] != '-' || t[18] != '-' || t[23] != '-' {
		return a, fmt.Errorf("%w: %q is not a GUID (want 8-4-4-4-12 hex digits)", ErrInvalid, s)
	}
	text, err := hex.DecodeString(t[0:8] + t[9:13] + t[14:18] + t[19:23] + t[24:36])
	if err != nil || len(text) != Size {
		return a, fmt.Errorf("%w: GUID %q: %w", ErrInvalid, s, err)
	}
	for i, j := range guidFieldOrder {
		a[j] = text[i]
	}
	return a, nil
}

// FromImmutableID decodes the Base64 immutableId of a GUID-based anchor.
// Padding may be omitted; any other length than 16 decoded bytes is refused,
// because such immutableIds (legal in Entra, set by other tools) do not come
// from a GUID: see ValidateImmutableID for those.
func FromImmutableID(s string) (Anchor, error) {
	var a Anchor
	t := strings.TrimSpace(s)
	enc := base64.StdEncoding
	if !strings.HasSuffix(t, "=") {
		enc = base64.RawStdEncoding
	}
	b, err := enc.Strict().DecodeString(t)
	if err != nil {
		return a, fmt.Errorf("%w: immutableId %q is not standard Base64: %w", ErrInvalid, s, err)
	}
	if len(b) != Size {
		return a, fmt.Errorf("%w: immutableId %q decodes to %d bytes, a GUID anchor has %d", ErrInvalid, s, len(b), Size)
	}
	copy(a[:], b)
	return a, nil
}

// FromHex reads the raw bytes in AD order written as hex: contiguous, or
// separated by spaces or colons, or byte by byte with dashes as PowerShell's
// BitConverter prints them ("06-96-B3-..."). GUID text, whose byte order
// differs, is refused rather than mistaken for raw bytes: use FromGUID.
func FromHex(s string) (Anchor, error) {
	var a Anchor
	t, ok := normalizeHex(s)
	if !ok {
		return a, fmt.Errorf("%w: %q is not 16 bytes of hex (GUID text is read by FromGUID)", ErrInvalid, s)
	}
	if _, err := hex.Decode(a[:], []byte(t)); err != nil {
		return Anchor{}, fmt.Errorf("%w: hex %q: %w", ErrInvalid, s, err)
	}
	return a, nil
}

// normalizeHex strips separators from a hex rendering of 16 bytes and
// reports whether what remains is 32 hex digits.
func normalizeHex(s string) (string, bool) {
	t := strings.TrimSpace(s)
	if strings.Contains(t, "-") {
		groups := strings.Split(t, "-")
		if len(groups) != Size {
			return "", false
		}
		for _, g := range groups {
			if len(g) != 2 {
				return "", false
			}
		}
		t = strings.Join(groups, "")
	}
	t = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', ':':
			return -1
		}
		return r
	}, t)
	if len(t) != 2*Size {
		return "", false
	}
	for _, r := range t {
		if !isHexDigit(r) {
			return "", false
		}
	}
	return t, true
}

// FromConnectorDN reads the Entra connector-space DN form CN={hex of the
// immutableId's ASCII characters}.
func FromConnectorDN(s string) (Anchor, error) {
	t := strings.TrimSpace(s)
	if len(t) < 5 || !strings.EqualFold(t[:4], "CN={") || !strings.HasSuffix(t, "}") {
		return Anchor{}, fmt.Errorf("%w: %q is not a connector DN (want CN={...})", ErrInvalid, s)
	}
	ascii, err := hex.DecodeString(t[4 : len(t)-1])
	if err != nil {
		return Anchor{}, fmt.Errorf("%w: connector DN %q: %w", ErrInvalid, s, err)
	}
	return FromImmutableID(string(ascii))
}

// FromLDAPFilterValue reads a value escaped byte by byte as \xx.
func FromLDAPFilterValue(s string) (Anchor, error) {
	t := strings.TrimSpace(s)
	if len(t) != 3*Size {
		return Anchor{}, fmt.Errorf("%w: escaped value %q has length %d, want %d", ErrInvalid, s, len(t), 3*Size)
	}
	var a Anchor
	for i := range Size {
		chunk := t[3*i : 3*i+3]
		if chunk[0] != '\\' {
			return Anchor{}, fmt.Errorf("%w: escaped value %q: byte %d does not start with a backslash", ErrInvalid, s, i)
		}
		if _, err := hex.Decode(a[i:i+1], []byte(chunk[1:])); err != nil {
			return Anchor{}, fmt.Errorf("%w: escaped value %q: %w", ErrInvalid, s, err)
		}
	}
	return a, nil
}

// Parse detects the notation of s and reads it. See ParseForm.
func Parse(s string) (Anchor, error) {
	a, _, err := ParseForm(s)
	return a, err
}

// ParseForm detects the notation of s and reads it, reporting which one it
// took. Detection is by shape, and the shapes do not overlap:
//
//   - 8-4-4-4-12 hex digits, optionally in braces: GUID text;
//   - CN={...}: connector DN;
//   - \xx repeated 16 times: LDAP filter escape;
//   - 32 hex digits, contiguous or separated per byte: raw bytes in AD order (a GUID written without dashes is therefore NOT read as a
//     GUID: write the dashes);
//   - otherwise Base64 of 16 bytes: immutableId.
func ParseForm(s string) (Anchor, Form, error) {
	t := strings.TrimSpace(s)
	switch {
	case t == "":
		return Anchor{}, "", fmt.Errorf("%w: empty value", ErrInvalid)
	case len(t) >= 4 && strings.EqualFold(t[:4], "CN={"):
		a, err := FromConnectorDN(t)
		return a, FormConnectorDN, err
	case strings.HasPrefix(t, `\`):
		a, err := FromLDAPFilterValue(t)
		return a, FormLDAPFilter, err
	case looksLikeGUID(t):
		a, err := FromGUID(t)
		return a, FormGUID, err
	case looksLikeHex(t):
		a, err := FromHex(t)
		return a, FormHex, err
	}
	a, err := FromImmutableID(t)
	if err != nil {
		return Anchor{}, "", fmt.Errorf("%w: %q is neither a GUID, 32 hex digits, an immutableId of 16 bytes, a connector DN nor an LDAP escape", ErrInvalid, s)
	}
	return a, FormImmutableID, nil
}

func looksLikeGUID(t string) bool {
	t = strings.TrimSuffix(strings.TrimPrefix(t, "{"), "}")
	return len(t) == 36 && strings.Count(t, "-") == 4 && t[8] == '-' && t[13] == '-' && t[18] == '-' && t[23] == '-'
}

func looksLikeHex(t string) bool {
	_, ok := normalizeHex(t)
	return ok
}

func isHexDigit(r rune) bool {
	return ('0' <= r && r <= '9') || ('a' <= r && r <= 'f') || ('A' <= r && r <= 'F')
}

// Bytes returns a copy of the raw bytes in AD order, as LDAP stores them.
func (a Anchor) Bytes() []byte { return append([]byte(nil), a[:]...) }

// GUID returns the lower-case GUID text, as Samba and AD tools print it.
func (a Anchor) GUID() string {
	var text [Size]byte
	for i, j := range guidFieldOrder {
		text[i] = a[j]
	}
	h := hex.EncodeToString(text[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// String returns the GUID text.
func (a Anchor) String() string { return a.GUID() }

// ImmutableID returns the Base64 (standard alphabet, padded) of the raw
// bytes: the value Entra ID keeps in onPremisesImmutableId.
func (a Anchor) ImmutableID() string { return base64.StdEncoding.EncodeToString(a[:]) }

// Hex returns the raw bytes as upper-case hex without separators.
func (a Anchor) Hex() string { return strings.ToUpper(hex.EncodeToString(a[:])) }

// ConnectorDN returns the DN under which the Entra connector space keeps the
// object: CN={upper-case hex of the immutableId's ASCII characters}.
func (a Anchor) ConnectorDN() string {
	return "CN={" + strings.ToUpper(hex.EncodeToString([]byte(a.ImmutableID()))) + "}"
}

// LDAPFilterValue returns the raw bytes escaped as \xx each, ready to be
// placed in an LDAP filter such as (objectGUID=...).
func (a Anchor) LDAPFilterValue() string {
	var b strings.Builder
	b.Grow(3 * Size)
	const digits = "0123456789abcdef"
	for _, c := range a {
		b.WriteByte('\\')
		b.WriteByte(digits[c>>4])
		b.WriteByte(digits[c&0x0f])
	}
	return b.String()
}

// IsZero reports whether every byte is zero (the nil GUID), which AD never
// assigns and which is therefore never a usable anchor.
func (a Anchor) IsZero() bool { return a == Anchor{} }
