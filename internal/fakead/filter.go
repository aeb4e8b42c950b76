package fakead

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// filterOp is the kind of a search filter node (RFC 4511 section 4.5.1.7).
type filterOp int

const (
	opAnd filterOp = iota
	opOr
	opNot
	opEqual
	opSubstrings
	opGreaterOrEqual
	opLessOrEqual
	opPresent
	opApprox
	opExtensible
)

// filter is a parsed search filter. gldap hands the handler the filter as
// RFC 4515 text (re-encoded from the request's BER by go-ldap's
// DecompileFilter, which escapes every byte above 0x7f), so binary
// assertion values such as an objectGUID arrive as \xx escapes and are
// turned back into raw bytes here.
type filter struct {
	op       filterOp
	attr     string
	value    []byte // equality, ordering, approx and extensible assertions
	initial  []byte // substrings: nil when absent
	any      [][]byte
	final    []byte // substrings: nil when absent
	rule     string // extensible match: matching rule OID or name
	dnAttrs  bool   // extensible match: the :dn flag
	children []*filter
}

// maxFilterDepth bounds nesting so that a hostile filter cannot exhaust
// the stack; AD's own limit is lower in practice.
const maxFilterDepth = 64

var attrDescription = regexp.MustCompile(`^(?:[A-Za-z][A-Za-z0-9-]*|[0-9]+(?:\.[0-9]+)*)(?:;[A-Za-z0-9-]+)*$`)

var ruleName = regexp.MustCompile(`^(?:[A-Za-z][A-Za-z0-9-]*|[0-9]+(?:\.[0-9]+)*)$`)

// parseFilter parses the RFC 4515 string form. The empty AND "(&)" and OR
// "(|)" of RFC 4526 are accepted.
func parseFilter(s string) (*filter, error) {
	p := filterParser{s: s}
	f, err := p.filter(0)
	if err != nil {
		return nil, err
	}
	if p.pos != len(s) {
		return nil, fmt.Errorf("filter %q: unexpected text at position %d", s, p.pos)
	}
	return f, nil
}

type filterParser struct {
	s   string
	pos int
}

func (p *filterParser) errorf(format string, args ...any) error {
	return fmt.Errorf("filter %q: position %d: %s", p.s, p.pos, fmt.Sprintf(format, args...))
}

func (p *filterParser) filter(depth int) (*filter, error) {
	if depth > maxFilterDepth {
		return nil, p.errorf("nested more than %d levels", maxFilterDepth)
	}
	if p.pos >= len(p.s) || p.s[p.pos] != '(' {
		return nil, p.errorf("expected '('")
	}
	p.pos++
	if p.pos >= len(p.s) {
		return nil, p.errorf("unexpected end")
	}
	var f *filter
	switch p.s[p.pos] {
	case '&', '|':
		f = &filter{op: opAnd}
		if p.s[p.pos] == '|' {
			f.op = opOr
		}
		p.pos++
		for p.pos < len(p.s) && p.s[p.pos] == '(' {
			child, err := p.filter(depth + 1)
			if err != nil {
				return nil, err
			}
			f.children = append(f.children, child)
		}
	case '!':
		p.pos++
		child, err := p.filter(depth + 1)
		if err != nil {
			return nil, err
		}
		f = &filter{op: opNot, children: []*filter{child}}
	default:
		end := strings.IndexByte(p.s[p.pos:], ')')
		if end < 0 {
			return nil, p.errorf("missing ')'")
		}
		item, err := parseItem(p.s[p.pos : p.pos+end])
		if err != nil {
			return nil, p.errorf("%v", err)
		}
		p.pos += end
		f = item
	}
	if p.pos >= len(p.s) || p.s[p.pos] != ')' {
		return nil, p.errorf("expected ')'")
	}
	p.pos++
	return f, nil
}

// parseItem parses the inside of a simple filter: attr=value, attr>=value,
// attr<=value, attr~=value, attr=*, attr=a*b*c or attr:dn:rule:=value.
func parseItem(s string) (*filter, error) {
	if strings.ContainsRune(s, '(') {
		return nil, errors.New("unescaped '(' in a value")
	}
	eq := strings.IndexByte(s, '=')
	if eq < 0 {
		return nil, errors.New("no '=' in filter item")
	}
	left, raw := s[:eq], s[eq+1:]
	op := opEqual
	if eq > 0 {
		switch s[eq-1] {
		case '~':
			op, left = opApprox, s[:eq-1]
		case '>':
			op, left = opGreaterOrEqual, s[:eq-1]
		case '<':
			op, left = opLessOrEqual, s[:eq-1]
		case ':':
			return parseExtensible(s[:eq-1], raw)
		}
	}
	if !attrDescription.MatchString(left) {
		return nil, fmt.Errorf("%q is not an attribute description", left)
	}
	if op != opEqual || !strings.Contains(raw, "*") {
		v, err := unescapeValue(raw)
		if err != nil {
			return nil, err
		}
		return &filter{op: op, attr: left, value: v}, nil
	}
	if strings.Trim(raw, "*") == "" {
		return &filter{op: opPresent, attr: left}, nil
	}
	parts := strings.Split(raw, "*")
	f := &filter{op: opSubstrings, attr: left}
	for i, part := range parts {
		v, err := unescapeValue(part)
		if err != nil {
			return nil, err
		}
		switch {
		case i == 0:
			if part != "" {
				f.initial = v
			}
		case i == len(parts)-1:
			if part != "" {
				f.final = v
			}
		case part != "":
			f.any = append(f.any, v)
		}
	}
	return f, nil
}

// parseExtensible parses "attr:dn:rule", "attr:rule", "attr", ":dn:rule" or
// ":rule" (left, without the trailing ':') and the assertion value.
func parseExtensible(left, raw string) (*filter, error) {
	parts := strings.Split(left, ":")
	f := &filter{op: opExtensible, attr: parts[0]}
	rest := parts[1:]
	if len(rest) > 0 && strings.EqualFold(rest[0], "dn") {
		f.dnAttrs = true
		rest = rest[1:]
	}
	switch len(rest) {
	case 0:
	case 1:
		f.rule = rest[0]
		if !ruleName.MatchString(f.rule) {
			return nil, fmt.Errorf("%q is not a matching rule", f.rule)
		}
	default:
		return nil, fmt.Errorf("%q is not an extensible match", left+":=")
	}
	if f.attr == "" && f.rule == "" {
		return nil, errors.New("extensible match needs an attribute or a matching rule")
	}
	if f.attr != "" && !attrDescription.MatchString(f.attr) {
		return nil, fmt.Errorf("%q is not an attribute description", f.attr)
	}
	v, err := unescapeValue(raw)
	if err != nil {
		return nil, err
	}
	f.value = v
	return f, nil
}

// unescapeValue turns the \xx escapes of RFC 4515 into bytes.
func unescapeValue(s string) ([]byte, error) {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			if i+2 >= len(s) {
				return nil, errors.New("incomplete escape in value")
			}
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if !ok1 || !ok2 {
				return nil, fmt.Errorf("invalid escape %q in value", s[i:i+3])
			}
			out = append(out, hi<<4|lo)
			i += 2
		case '(', ')', '*', 0:
			return nil, fmt.Errorf("unescaped %q in value", c)
		default:
			out = append(out, c)
		}
	}
	return out, nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// escapeValue is the inverse of unescapeValue, escaping everything that is
// not printable ASCII so that the result is safe to log.
func escapeValue(v []byte) string {
	var b strings.Builder
	for _, c := range v {
		if c < 0x20 || c > 0x7e || c == '(' || c == ')' || c == '*' || c == '\\' {
			fmt.Fprintf(&b, `\%02x`, c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// String returns the filter in RFC 4515 form; parsing it gives an equal
// filter.
func (f *filter) String() string {
	var b strings.Builder
	f.write(&b)
	return b.String()
}

func (f *filter) write(b *strings.Builder) {
	b.WriteByte('(')
	switch f.op {
	case opAnd, opOr, opNot:
		b.WriteByte("&|!"[f.op])
		for _, c := range f.children {
			c.write(b)
		}
	case opEqual:
		b.WriteString(f.attr + "=" + escapeValue(f.value))
	case opApprox:
		b.WriteString(f.attr + "~=" + escapeValue(f.value))
	case opGreaterOrEqual:
		b.WriteString(f.attr + ">=" + escapeValue(f.value))
	case opLessOrEqual:
		b.WriteString(f.attr + "<=" + escapeValue(f.value))
	case opPresent:
		b.WriteString(f.attr + "=*")
	case opSubstrings:
		b.WriteString(f.attr + "=" + escapeValue(f.initial))
		for _, a := range f.any {
			b.WriteString("*" + escapeValue(a))
		}
		b.WriteString("*" + escapeValue(f.final))
	case opExtensible:
		b.WriteString(f.attr)
		if f.dnAttrs {
			b.WriteString(":dn")
		}
		if f.rule != "" {
			b.WriteString(":" + f.rule)
		}
		b.WriteString(":=" + escapeValue(f.value))
	}
	b.WriteByte(')')
}
