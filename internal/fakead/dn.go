package fakead

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// attributeType matches an attribute description in a DN: a name or an OID.
var attributeType = regexp.MustCompile(`^(?:[A-Za-z][A-Za-z0-9-]*|[0-9]+(?:\.[0-9]+)*)$`)

// parsedDN is a DN split into its RDNs, most specific first, with every
// type and value unescaped.
type parsedDN struct {
	rdns [][]typeValue
}

type typeValue struct {
	typ, value string
}

// parseDN parses an RFC 4514 DN; "" is the root (zero RDNs). It is stricter
// than ldap.ParseDN, which takes "*)(x" for an attribute type.
func parseDN(s string) (parsedDN, error) {
	d, err := ldap.ParseDN(s)
	if err != nil {
		return parsedDN{}, fmt.Errorf("invalid DN %q: %w", s, err)
	}
	out := parsedDN{rdns: make([][]typeValue, 0, len(d.RDNs))}
	for _, rdn := range d.RDNs {
		tvs := make([]typeValue, 0, len(rdn.Attributes))
		for _, atv := range rdn.Attributes {
			if !attributeType.MatchString(atv.Type) {
				return parsedDN{}, fmt.Errorf("invalid DN %q: %q is not an attribute type", s, atv.Type)
			}
			if atv.Value == "" {
				return parsedDN{}, fmt.Errorf("invalid DN %q: empty value for %s", s, atv.Type)
			}
			tvs = append(tvs, typeValue{typ: atv.Type, value: atv.Value})
		}
		if len(tvs) == 0 {
			return parsedDN{}, errors.New("invalid DN " + s + ": empty RDN")
		}
		out.rdns = append(out.rdns, tvs)
	}
	return out, nil
}

// key returns the form used to compare DNs: types and values folded to
// lower case, and every character that separates parts hex-escaped, so the
// parent of a key is simply what follows its first comma.
func (d parsedDN) key() string {
	parts := make([]string, len(d.rdns))
	for i, rdn := range d.rdns {
		tvs := make([]string, len(rdn))
		for j, tv := range rdn {
			tvs[j] = keyEscape(strings.ToLower(tv.typ)) + "=" + keyEscape(strings.ToLower(tv.value))
		}
		sort.Strings(tvs)
		parts[i] = strings.Join(tvs, "+")
	}
	return strings.Join(parts, ",")
}

func keyEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ',', '+', '=', '\\':
			fmt.Fprintf(&b, `\%02x`, c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// rdnString returns the first RDN as AD prints it: the type in upper case
// (CN=, OU=, DC=) and the value escaped.
func (d parsedDN) rdnString() string {
	if len(d.rdns) == 0 {
		return ""
	}
	tvs := make([]string, len(d.rdns[0]))
	for i, tv := range d.rdns[0] {
		tvs[i] = strings.ToUpper(tv.typ) + "=" + ldap.EscapeDN(tv.value)
	}
	return strings.Join(tvs, "+")
}

// parentKey returns the key of the parent of the DN with key k ("" for a
// top-level DN).
func parentKey(k string) string {
	_, parent, _ := strings.Cut(k, ",")
	return parent
}

// isUnder reports whether key k is at or below key base.
func isUnder(k, base string) bool {
	if base == "" || k == base {
		return true
	}
	return strings.HasSuffix(k, ","+base)
}

// normDN returns the comparison key of s, or an error when s is no DN.
func normDN(s string) (string, error) {
	d, err := parseDN(s)
	if err != nil {
		return "", err
	}
	return d.key(), nil
}

// domainToDN turns corp.example.test into DC=corp,DC=example,DC=test.
func domainToDN(domain string) string {
	labels := strings.Split(strings.Trim(domain, "."), ".")
	for i, l := range labels {
		labels[i] = "DC=" + ldap.EscapeDN(l)
	}
	return strings.Join(labels, ",")
}
