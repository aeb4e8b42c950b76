// Package odata parses the subset of OData v4 query options that the
// emulator understands: $filter expressions built from eq/ne comparisons,
// lambda any() over string collections, and/or, and parentheses; plus the
// $select list. Evaluation is left to the caller, which knows which
// properties support which operators (Graph differs per property).
package odata

import (
	"fmt"
	"strconv"
	"strings"
)

// MaxFilterLength bounds the input so a hostile $filter cannot make the
// parser allocate without limit.
const MaxFilterLength = 8192

// maxDepth bounds nesting (parentheses and and/or chains are iterative).
const maxDepth = 32

// Expr is a parsed $filter expression.
type Expr interface {
	String() string
	isExpr()
}

// Logical is "left and right" or "left or right".
type Logical struct {
	Op          string // "and" or "or"
	Left, Right Expr
}

// Compare is "Property Op Value", e.g. userPrincipalName eq 'a@b.com'.
// Property may be a path such as "onPremisesExtensionAttributes/extensionAttribute1".
type Compare struct {
	Property string
	Op       string // "eq" or "ne"
	Value    Literal
}

// Any is "Collection/any(Var:Var Op Value)", e.g.
// proxyAddresses/any(p:p eq 'smtp:a@b.com').
type Any struct {
	Collection string
	Var        string
	Op         string
	Value      Literal
}

func (Logical) isExpr() {}
func (Compare) isExpr() {}
func (Any) isExpr()     {}

// String prints the expression so that parsing it again yields the same
// tree: a left operand with the same operator needs no parentheses (the
// operators are left-associative); every other nested logical operand gets them.
func (l Logical) String() string {
	left := l.Left.String()
	if ll, ok := l.Left.(Logical); ok && ll.Op != l.Op {
		left = "(" + left + ")"
	}
	right := l.Right.String()
	if _, ok := l.Right.(Logical); ok {
		right = "(" + right + ")"
	}
	return left + " " + l.Op + " " + right
}

func (c Compare) String() string { return c.Property + " " + c.Op + " " + c.Value.String() }

func (a Any) String() string {
	return a.Collection + "/any(" + a.Var + ":" + a.Var + " " + a.Op + " " + a.Value.String() + ")"
}

// LiteralKind tells which field of a Literal is meaningful.
type LiteralKind int

// Literal kinds.
const (
	KindString LiteralKind = iota
	KindBool
	KindNull
	KindNumber
)

// Literal is a constant in a comparison.
type Literal struct {
	Kind   LiteralKind
	Str    string
	Bool   bool
	Number int64
}

// String renders the literal in OData syntax (strings quoted, quotes doubled).
func (l Literal) String() string {
	switch l.Kind {
	case KindBool:
		return strconv.FormatBool(l.Bool)
	case KindNull:
		return "null"
	case KindNumber:
		return strconv.FormatInt(l.Number, 10)
	default:
		return "'" + strings.ReplaceAll(l.Str, "'", "''") + "'"
	}
}

// SyntaxError reports where a $filter could not be parsed. Its message
// follows the wording Graph uses for malformed filters.
type SyntaxError struct {
	Pos    int
	Input  string
	Reason string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("Invalid filter clause: %s at position %d in '%s'.", e.Reason, e.Pos, e.Input)
}

type tokenKind int

const (
	tEOF tokenKind = iota
	tIdent
	tString
	tNumber
	tLParen
	tRParen
	tSlash
	tColon
)

type token struct {
	kind tokenKind
	text string // identifier text, unescaped string, or number text
	pos  int
}

func tokenize(in string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(in) {
		c := in[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			toks = append(toks, token{tLParen, "(", i})
			i++
		case c == ')':
			toks = append(toks, token{tRParen, ")", i})
			i++
		case c == '/':
			toks = append(toks, token{tSlash, "/", i})
			i++
		case c == ':':
			toks = append(toks, token{tColon, ":", i})
			i++
		case c == '\'':
			start := i
			i++
			var b strings.Builder
			closed := false
			for i < len(in) {
				if in[i] == '\'' {
					if i+1 < len(in) && in[i+1] == '\'' {
						b.WriteByte('\'')
						i += 2
						continue
					}
					i++
					closed = true
					break
				}
				b.WriteByte(in[i])
				i++
			}
			if !closed {
				return nil, &SyntaxError{Pos: start, Input: in, Reason: "unterminated string literal"}
			}
			toks = append(toks, token{tString, b.String(), start})
		case c == '-' || (c >= '0' && c <= '9'):
			start := i
			i++
			for i < len(in) && in[i] >= '0' && in[i] <= '9' {
				i++
			}
			if in[start:i] == "-" {
				return nil, &SyntaxError{Pos: start, Input: in, Reason: "syntax error"}
			}
			toks = append(toks, token{tNumber, in[start:i], start})
		case isIdentStart(c):
			start := i
			for i < len(in) && isIdentPart(in[i]) {
				i++
			}
			toks = append(toks, token{tIdent, in[start:i], start})
		default:
			return nil, &SyntaxError{Pos: i, Input: in, Reason: fmt.Sprintf("unexpected character '%c'", c)}
		}
	}
	toks = append(toks, token{tEOF, "", len(in)})
	return toks, nil
}

func isIdentStart(c byte) bool {
	return c == '_' || c == '@' || c == '$' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentPart(c byte) bool {
	return isIdentStart(c) || c == '.' || (c >= '0' && c <= '9')
}

type parser struct {
	in    string
	toks  []token
	i     int
	depth int
}

// ParseFilter parses a $filter value. It never panics; every failure is a
// *SyntaxError.
func ParseFilter(in string) (Expr, error) {
	if strings.TrimSpace(in) == "" {
		return nil, &SyntaxError{Pos: 0, Input: in, Reason: "empty expression"}
	}
	if len(in) > MaxFilterLength {
		return nil, &SyntaxError{Pos: MaxFilterLength, Input: in[:64] + "...", Reason: "expression too long"}
	}
	toks, err := tokenize(in)
	if err != nil {
		return nil, err
	}
	p := &parser{in: in, toks: toks}
	e, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.errAt(t, "syntax error")
	}
	return e, nil
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) errAt(t token, reason string) error {
	return &SyntaxError{Pos: t.pos, Input: p.in, Reason: reason}
}

func (p *parser) isKeyword(word string) bool {
	t := p.peek()
	return t.kind == tIdent && strings.EqualFold(t.text, word)
}

func (p *parser) parseOr() (Expr, error) {
	left, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	for p.isKeyword("or") {
		p.next()
		right, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		left = Logical{Op: "or", Left: left, Right: right}
	}
	return left, nil
}

func (p *parser) parseAnd() (Expr, error) {
	left, err := p.parsePrimary()
	if err != nil {
		return nil, err
	}
	for p.isKeyword("and") {
		p.next()
		right, err := p.parsePrimary()
		if err != nil {
			return nil, err
		}
		left = Logical{Op: "and", Left: left, Right: right}
	}
	return left, nil
}

func (p *parser) parsePrimary() (Expr, error) {
	t := p.peek()
	if t.kind == tLParen {
		p.depth++
		if p.depth > maxDepth {
			return nil, p.errAt(t, "expression nested too deeply")
		}
		p.next()
		e, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if r := p.next(); r.kind != tRParen {
			return nil, p.errAt(r, "')' expected")
		}
		p.depth--
		return e, nil
	}
	path, err := p.parsePath()
	if err != nil {
		return nil, err
	}
	if p.peek().kind == tSlash {
		return p.parseAny(path)
	}
	op, err := p.parseOperator()
	if err != nil {
		return nil, err
	}
	lit, err := p.parseLiteral()
	if err != nil {
		return nil, err
	}
	return Compare{Property: path, Op: op, Value: lit}, nil
}

// parsePath reads ident ('/' ident)* but stops before "/any".
func (p *parser) parsePath() (string, error) {
	t := p.next()
	if t.kind != tIdent || isReserved(t.text) {
		return "", p.errAt(t, "property name expected")
	}
	path := t.text
	for p.peek().kind == tSlash {
		after := p.toks[p.i+1]
		if after.kind == tIdent && strings.EqualFold(after.text, "any") && p.toks[p.i+2].kind == tLParen {
			break
		}
		p.next()
		seg := p.next()
		if seg.kind != tIdent || isReserved(seg.text) {
			return "", p.errAt(seg, "property name expected")
		}
		path += "/" + seg.text
	}
	return path, nil
}

func (p *parser) parseAny(collection string) (Expr, error) {
	p.next() // '/'
	if t := p.next(); t.kind != tIdent || !strings.EqualFold(t.text, "any") {
		return nil, p.errAt(t, "'any' expected")
	}
	if t := p.next(); t.kind != tLParen {
		return nil, p.errAt(t, "'(' expected")
	}
	v := p.next()
	if v.kind != tIdent || isReserved(v.text) {
		return nil, p.errAt(v, "range variable expected")
	}
	if t := p.next(); t.kind != tColon {
		return nil, p.errAt(t, "':' expected")
	}
	ref := p.next()
	if ref.kind != tIdent || ref.text != v.text {
		return nil, p.errAt(ref, fmt.Sprintf("range variable '%s' expected", v.text))
	}
	op, err := p.parseOperator()
	if err != nil {
		return nil, err
	}
	lit, err := p.parseLiteral()
	if err != nil {
		return nil, err
	}
	if t := p.next(); t.kind != tRParen {
		return nil, p.errAt(t, "')' expected")
	}
	return Any{Collection: collection, Var: v.text, Op: op, Value: lit}, nil
}

func (p *parser) parseOperator() (string, error) {
	t := p.next()
	if t.kind == tIdent {
		switch strings.ToLower(t.text) {
		case "eq", "ne":
			return strings.ToLower(t.text), nil
		case "gt", "ge", "lt", "le", "has", "in":
			return "", p.errAt(t, fmt.Sprintf("operator '%s' is not supported", t.text))
		}
	}
	return "", p.errAt(t, "comparison operator expected")
}

func (p *parser) parseLiteral() (Literal, error) {
	t := p.next()
	switch t.kind {
	case tString:
		return Literal{Kind: KindString, Str: t.text}, nil
	case tNumber:
		n, err := strconv.ParseInt(t.text, 10, 64)
		if err != nil {
			return Literal{}, p.errAt(t, "number out of range")
		}
		return Literal{Kind: KindNumber, Number: n}, nil
	case tIdent:
		switch strings.ToLower(t.text) {
		case "true":
			return Literal{Kind: KindBool, Bool: true}, nil
		case "false":
			return Literal{Kind: KindBool, Bool: false}, nil
		case "null":
			return Literal{Kind: KindNull}, nil
		}
	}
	return Literal{}, p.errAt(t, "literal expected")
}

func isReserved(word string) bool {
	switch strings.ToLower(word) {
	case "and", "or", "eq", "ne", "true", "false", "null", "any":
		return true
	}
	return false
}

// ParseSelect splits a $select value into property names. Names are
// returned as given; the caller resolves them case-insensitively.
func ParseSelect(in string) ([]string, error) {
	if strings.TrimSpace(in) == "" {
		return nil, fmt.Errorf("empty $select")
	}
	parts := strings.Split(in, ",")
	out := make([]string, 0, len(parts))
	for _, part := range parts {
		name := strings.TrimSpace(part)
		if name == "" {
			return nil, fmt.Errorf("empty property name in $select '%s'", in)
		}
		for i := 0; i < len(name); i++ {
			if !isIdentPart(name[i]) || (i == 0 && !isIdentStart(name[i])) {
				return nil, fmt.Errorf("invalid property name '%s' in $select", name)
			}
		}
		out = append(out, name)
	}
	return out, nil
}
