package anchor

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxImmutableIDLength is the exclusive upper bound on the length of a
// sourceAnchor: Entra requires "fewer than 60 characters".
const MaxImmutableIDLength = 60

// ValidateImmutableID checks a value before it is written to a user's
// onPremisesImmutableId through Graph. It accepts any immutableId Graph
// accepts as far as documented, not only the Base64 of a GUID: other tools
// legitimately set values of other lengths (an employee number, the Base64
// of a 20-byte value), and refusing them would make such users unmanageable.
// Use FromImmutableID to also require a GUID anchor.
func ValidateImmutableID(s string) error {
	switch {
	case s == "":
		return fmt.Errorf("%w: immutableId is empty", ErrInvalid)
	case !utf8.ValidString(s):
		return fmt.Errorf("%w: immutableId is not valid UTF-8", ErrInvalid)
	case strings.ContainsAny(s, "$_"):
		// Graph refuses these two characters in onPremisesImmutableId.
		return fmt.Errorf("%w: immutableId %q contains '$' or '_', which Graph refuses", ErrInvalid, s)
	case utf8.RuneCountInString(s) >= MaxImmutableIDLength:
		return fmt.Errorf("%w: immutableId has %d characters, it must have fewer than %d", ErrInvalid, utf8.RuneCountInString(s), MaxImmutableIDLength)
	case strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		// Not documented as refused, but a blank or control character in an
		// anchor is always a copy-paste accident, and the value is immutable
		// once synced: better to stop here than to stamp it.
		return fmt.Errorf("%w: immutableId %q contains white space or a control character", ErrInvalid, s)
	}
	return nil
}

// IsGUIDImmutableID reports whether s is exactly the padded Base64 of a
// 16-byte GUID anchor, the kind Entra Connect and Cloud Sync write.
func IsGUIDImmutableID(s string) bool {
	a, err := FromImmutableID(s)
	return err == nil && a.ImmutableID() == s
}
