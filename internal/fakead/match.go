package fakead

import (
	"bytes"
	"strconv"
	"strings"
	"time"
)

// tri is the three-valued result of a filter (RFC 4511 section 4.5.1.7):
// an item the server cannot evaluate (an unknown attribute, an assertion
// that does not fit the attribute's syntax) is Undefined, and NOT of
// Undefined stays Undefined, so (!(unknown=x)) matches nothing.
type tri int8

const (
	triFalse tri = iota
	triTrue
	triUndefined
)

func triOf(b bool) tri {
	if b {
		return triTrue
	}
	return triFalse
}

// Matching rules AD implements beyond plain equality.
const (
	ruleBitAnd  = "1.2.840.113556.1.4.803"
	ruleBitOr   = "1.2.840.113556.1.4.804"
	ruleInChain = "1.2.840.113556.1.4.1941"
)

// evaluator matches filters against the entries of one directory state.
type evaluator struct {
	schema *schema
	// schemaKey is the key of CN=Schema,CN=Configuration,<forest>, under
	// which objectCategory values live.
	schemaKey string
	entries   map[string]*entry
	// backlinks maps an entry key to the DNs of the groups listing it in
	// member; built on first use, as most searches never need memberOf.
	backlinks map[string][][]byte
}

func (ev *evaluator) matches(f *filter, e *entry) bool {
	return ev.eval(f, e) == triTrue
}

func (ev *evaluator) eval(f *filter, e *entry) tri {
	switch f.op {
	case opAnd:
		out := triTrue
		for _, c := range f.children {
			switch ev.eval(c, e) {
			case triFalse:
				return triFalse
			case triUndefined:
				out = triUndefined
			}
		}
		return out
	case opOr:
		out := triFalse
		for _, c := range f.children {
			switch ev.eval(c, e) {
			case triTrue:
				return triTrue
			case triUndefined:
				out = triUndefined
			}
		}
		return out
	case opNot:
		if len(f.children) != 1 {
			return triUndefined
		}
		switch ev.eval(f.children[0], e) {
		case triTrue:
			return triFalse
		case triFalse:
			return triTrue
		}
		return triUndefined
	case opPresent:
		if strings.EqualFold(f.attr, "objectClass") {
			return triTrue
		}
		def, ok := ev.schema.lookup(f.attr)
		if !ok {
			return triFalse
		}
		return triOf(len(ev.values(e, def)) > 0)
	}

	def, ok := ev.schema.lookup(f.attr)
	if !ok {
		return triUndefined
	}
	values := ev.values(e, def)
	switch f.op {
	case opEqual, opApprox:
		return ev.anyValue(values, ev.equality(def, f.value))
	case opGreaterOrEqual, opLessOrEqual:
		cmp := ev.ordering(def, f.value)
		if cmp == nil {
			return triUndefined
		}
		ge := f.op == opGreaterOrEqual
		return ev.anyValue(values, func(v []byte) tri {
			c, ok := cmp(v)
			if !ok {
				return triUndefined
			}
			return triOf((ge && c >= 0) || (!ge && c <= 0))
		})
	case opSubstrings:
		if def.syntax != synString {
			return triUndefined
		}
		return ev.anyValue(values, func(v []byte) tri { return triOf(substringMatch(f, v)) })
	case opExtensible:
		return ev.extensible(f, def, e, values)
	}
	return triUndefined
}

// anyValue is TRUE when one value matches, FALSE when none does, and
// Undefined when none matches and some could not be compared.
func (ev *evaluator) anyValue(values [][]byte, match func([]byte) tri) tri {
	if match == nil {
		return triUndefined
	}
	out := triFalse
	for _, v := range values {
		switch match(v) {
		case triTrue:
			return triTrue
		case triUndefined:
			out = triUndefined
		}
	}
	return out
}

// values returns the values an entry holds for def, computing memberOf.
// Passwords are never matched, as AD never reveals them.
func (ev *evaluator) values(e *entry, def attrDef) [][]byte {
	switch def.usage {
	case passwordAttr:
		return nil
	case backlinkAttr:
		return ev.memberOf(e)
	}
	return e.values(def.name)
}

func (ev *evaluator) memberOf(e *entry) [][]byte {
	if ev.backlinks == nil {
		ev.backlinks = map[string][][]byte{}
		for _, g := range ev.entries {
			for _, m := range g.values("member") {
				if k, err := normDN(string(m)); err == nil {
					ev.backlinks[k] = append(ev.backlinks[k], []byte(g.dn))
				}
			}
		}
	}
	return ev.backlinks[e.key]
}

// equality returns the equality matching rule of def's syntax bound to the
// assertion, or nil when the assertion does not fit the syntax.
func (ev *evaluator) equality(def attrDef, assertion []byte) func([]byte) tri {
	switch def.syntax {
	case synString:
		want := string(assertion)
		return func(v []byte) tri { return triOf(strings.EqualFold(string(v), want)) }
	case synBinary:
		return func(v []byte) tri { return triOf(bytes.Equal(v, assertion)) }
	case synDN:
		want, ok := ev.dnAssertion(def, string(assertion))
		if !ok {
			return nil
		}
		return func(v []byte) tri {
			k, err := normDN(string(v))
			return triOf(err == nil && k == want)
		}
	case synInteger:
		want, err := strconv.ParseInt(string(assertion), 10, 64)
		if err != nil {
			return nil
		}
		return func(v []byte) tri {
			n, err := strconv.ParseInt(string(v), 10, 64)
			return triOf(err == nil && n == want)
		}
	case synTime:
		want, err := parseGeneralizedTime(string(assertion))
		if err != nil {
			return nil
		}
		return func(v []byte) tri {
			t, err := parseGeneralizedTime(string(v))
			return triOf(err == nil && t.Equal(want))
		}
	}
	return nil
}

// dnAssertion returns the key a DN-valued attribute is compared with. For
// objectCategory AD also takes a class's lDAPDisplayName,
// (objectCategory=person), standing for that class's defaultObjectCategory
// (MS-ADTS 3.1.1.3.1.3.5); another name that is no DN matches nothing.
func (ev *evaluator) dnAssertion(def attrDef, assertion string) (string, bool) {
	if strings.EqualFold(def.name, "objectCategory") && !strings.Contains(assertion, "=") {
		cat, ok := categoryAliases[strings.ToLower(assertion)]
		if !ok {
			return "", false
		}
		return "cn=" + keyEscape(strings.ToLower(cat)) + "," + ev.schemaKey, true
	}
	k, err := normDN(assertion)
	return k, err == nil
}

// ordering returns a comparison of a value with the assertion (negative
// when the value sorts first), or nil when def's syntax has no ordering.
func (ev *evaluator) ordering(def attrDef, assertion []byte) func([]byte) (int, bool) {
	switch def.syntax {
	case synString:
		want := strings.ToLower(string(assertion))
		return func(v []byte) (int, bool) { return strings.Compare(strings.ToLower(string(v)), want), true }
	case synBinary:
		return func(v []byte) (int, bool) { return bytes.Compare(v, assertion), true }
	case synInteger:
		want, err := strconv.ParseInt(string(assertion), 10, 64)
		if err != nil {
			return nil
		}
		return func(v []byte) (int, bool) {
			n, err := strconv.ParseInt(string(v), 10, 64)
			if err != nil {
				return 0, false
			}
			switch {
			case n < want:
				return -1, true
			case n > want:
				return 1, true
			}
			return 0, true
		}
	case synTime:
		want, err := parseGeneralizedTime(string(assertion))
		if err != nil {
			return nil
		}
		return func(v []byte) (int, bool) {
			t, err := parseGeneralizedTime(string(v))
			if err != nil {
				return 0, false
			}
			return t.Compare(want), true
		}
	}
	return nil
}

// substringMatch applies a substrings filter to a string value, ignoring
// case as AD's Unicode string syntax does.
func substringMatch(f *filter, v []byte) bool {
	s := strings.ToLower(string(v))
	if f.initial != nil {
		p := strings.ToLower(string(f.initial))
		if !strings.HasPrefix(s, p) {
			return false
		}
		s = s[len(p):]
	}
	var final string
	if f.final != nil {
		final = strings.ToLower(string(f.final))
		if len(final) > len(s) || !strings.HasSuffix(s, final) {
			return false
		}
		s = s[:len(s)-len(final)]
	}
	for _, a := range f.any {
		p := strings.ToLower(string(a))
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return true
}

// extensible evaluates attr:rule:=value for the rules AD offers: the
// bitwise AND and OR on integers (userAccountControl:1.2.840.113556.1.4.803:=2
// finds disabled accounts), the transitive in-chain match on DN links, and
// the standard equality rules by name or OID.
func (ev *evaluator) extensible(f *filter, def attrDef, e *entry, values [][]byte) tri {
	switch strings.ToLower(f.rule) {
	case "":
		return ev.anyValue(values, ev.equality(def, f.value))
	case ruleBitAnd, ruleBitOr:
		if def.syntax != synInteger {
			return triUndefined
		}
		mask, err := strconv.ParseInt(string(f.value), 10, 64)
		if err != nil {
			return triUndefined
		}
		and := f.rule == ruleBitAnd
		return ev.anyValue(values, func(v []byte) tri {
			n, err := strconv.ParseInt(string(v), 10, 64)
			if err != nil {
				return triUndefined
			}
			// AD compares the 32-bit value: groupType is stored signed.
			n &= 0xffffffff
			m := mask & 0xffffffff
			if and {
				return triOf(n&m == m)
			}
			return triOf(n&m != 0)
		})
	case ruleInChain:
		if def.syntax != synDN {
			return triUndefined
		}
		target, err := normDN(string(f.value))
		if err != nil {
			return triUndefined
		}
		return triOf(ev.inChain(e, def, target))
	case "2.5.13.2", "caseignorematch", "2.5.13.1", "distinguishednamematch", "2.5.13.14", "integermatch", "2.5.13.17", "octetstringmatch":
		return ev.anyValue(values, ev.equality(def, f.value))
	case "2.5.13.5", "caseexactmatch":
		if def.syntax != synString {
			return triUndefined
		}
		return ev.anyValue(values, func(v []byte) tri { return triOf(bytes.Equal(v, f.value)) })
	}
	return triUndefined
}

// inChain follows def's DN links from e (member from a group down, memberOf
// from a member up, manager up the hierarchy) and reports whether target
// is reachable.
func (ev *evaluator) inChain(e *entry, def attrDef, target string) bool {
	seen := map[string]bool{e.key: true}
	queue := []*entry{e}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, v := range ev.values(cur, def) {
			k, err := normDN(string(v))
			if err != nil || seen[k] {
				continue
			}
			if k == target {
				return true
			}
			seen[k] = true
			if next, ok := ev.entries[k]; ok {
				queue = append(queue, next)
			}
		}
	}
	return false
}

// generalizedTimeLayout is how AD writes whenCreated: 20260102150405.0Z.
const generalizedTimeLayout = "20060102150405.0Z"

func formatGeneralizedTime(t time.Time) string {
	return t.UTC().Format(generalizedTimeLayout)
}

func parseGeneralizedTime(s string) (time.Time, error) {
	for _, layout := range []string{generalizedTimeLayout, "20060102150405Z", "20060102150405.000Z", "20060102150405Z0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, &time.ParseError{Layout: generalizedTimeLayout, Value: s}
}
