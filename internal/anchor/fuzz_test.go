package anchor

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzParse checks that Parse never panics, that every error wraps
// ErrInvalid, and that whatever it accepts survives a round trip through
// every output form.
func FuzzParse(f *testing.F) {
	for _, tc := range knownAnchors {
		f.Add(tc.want.GUID)
		f.Add(tc.want.ImmutableID)
		f.Add(tc.want.Hex)
		f.Add(tc.want.ConnectorDN)
		f.Add(tc.want.LDAPFilter)
	}
	f.Add("")
	f.Add("{00000000-0000-0000-0000-000000000000}")
	f.Add("*)(objectClass=*")
	f.Fuzz(func(t *testing.T, s string) {
		a, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse(%q) error %v does not wrap ErrInvalid", s, err)
			}
			return
		}
		for _, out := range []string{a.GUID(), "{" + a.GUID() + "}", a.ImmutableID(), a.Hex(), a.ConnectorDN(), a.LDAPFilterValue()} {
			b, err := Parse(out)
			if err != nil {
				t.Fatalf("Parse(%q) accepted, but its form %q is refused: %v", s, out, err)
			}
			if b != a {
				t.Fatalf("round trip of %q through %q: got %s, want %s", s, out, b, a)
			}
		}
		if !bytes.Equal(a.Bytes(), a[:]) {
			t.Fatalf("Bytes() differs from the anchor")
		}
		if err := ValidateImmutableID(a.ImmutableID()); err != nil {
			t.Fatalf("the immutableId of a parsed anchor is not valid: %v", err)
		}
	})
}
