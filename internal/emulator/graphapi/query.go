package graphapi

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/entramatch/entra-match-operator/internal/emulator/grapherr"
	"github.com/entramatch/entra-match-operator/internal/emulator/odata"
)

// Query options follow https://learn.microsoft.com/en-us/graph/query-parameters
// and, for directory objects,
// https://learn.microsoft.com/en-us/graph/aad-advanced-queries.

type fieldKind int

const (
	fieldString fieldKind = iota
	fieldBool
	fieldStringCollection
)

// filterField says how one property may be filtered.
type filterField[T any] struct {
	name          string // canonical name
	kind          fieldKind
	eqAdvanced    bool // eq needs an advanced query (ConsistencyLevel + $count)
	caseSensitive bool
	get           func(*T) (vals []string, null bool) // bools as "true"/"false"
}

// filterSchema lists the filterable properties of one resource type.
type filterSchema[T any] struct {
	typeName string // e.g. microsoft.graph.user
	resource string // e.g. User, as Graph names it in filter errors
	fields   map[string]filterField[T]
	// known lists other properties of the type, which exist but cannot be
	// filtered on.
	known map[string]bool
}

func newSchema[T any](typeName, resource string, known []string, fields ...filterField[T]) filterSchema[T] {
	s := filterSchema[T]{typeName: typeName, resource: resource, fields: map[string]filterField[T]{}, known: map[string]bool{}}
	for _, f := range fields {
		s.fields[strings.ToLower(f.name)] = f
		s.known[strings.ToLower(f.name)] = true
	}
	for _, k := range known {
		s.known[strings.ToLower(k)] = true
	}
	return s
}

func (s filterSchema[T]) unsupported(prop string) *grapherr.GraphError {
	return grapherr.New(http.StatusBadRequest, grapherr.CodeUnsupportedQuery,
		fmt.Sprintf("Unsupported or invalid query filter clause specified for property '%s' of resource '%s'.", prop, s.resource))
}

func (s filterSchema[T]) lookup(prop string) (filterField[T], error) {
	f, ok := s.fields[strings.ToLower(prop)]
	if ok {
		return f, nil
	}
	if s.known[strings.ToLower(prop)] {
		return f, s.unsupported(prop)
	}
	return f, grapherr.New(http.StatusBadRequest, grapherr.CodeBadRequestPlain,
		fmt.Sprintf("Could not find a property named '%s' on type '%s'.", prop, s.typeName))
}

func incompatible(kind fieldKind, lit odata.Literal) *grapherr.GraphError {
	want := "Edm.String"
	if kind == fieldBool {
		want = "Edm.Boolean"
	}
	got := map[odata.LiteralKind]string{odata.KindString: "Edm.String", odata.KindBool: "Edm.Boolean", odata.KindNumber: "Edm.Int64", odata.KindNull: "null"}[lit.Kind]
	return grapherr.New(http.StatusBadRequest, grapherr.CodeBadRequestPlain,
		fmt.Sprintf("A binary operator with incompatible types was detected. Found operand types '%s' and '%s' for operator kind 'Equal'.", want, got))
}

// compile checks expr against the schema and the query's advanced-ness and
// returns the predicate. Rules: ne, null comparisons and properties marked
// eqAdvanced need an advanced query.
// matcher compiles the query's $filter, or matches everything without one.
func (s filterSchema[T]) matcher(q listQuery) (func(*T) bool, error) {
	if q.filter == nil {
		return func(*T) bool { return true }, nil
	}
	return s.compile(q.filter, q.advanced)
}

func (s filterSchema[T]) compile(expr odata.Expr, advanced bool) (func(*T) bool, error) {
	switch e := expr.(type) {
	case odata.Logical:
		l, err := s.compile(e.Left, advanced)
		if err != nil {
			return nil, err
		}
		r, err := s.compile(e.Right, advanced)
		if err != nil {
			return nil, err
		}
		if e.Op == "and" {
			return func(t *T) bool { return l(t) && r(t) }, nil
		}
		return func(t *T) bool { return l(t) || r(t) }, nil
	case odata.Compare:
		f, err := s.lookup(e.Property)
		if err != nil {
			return nil, err
		}
		if f.kind == fieldStringCollection {
			return nil, s.unsupported(e.Property)
		}
		needsAdvanced := f.eqAdvanced || e.Op == "ne" || e.Value.Kind == odata.KindNull
		if needsAdvanced && !advanced {
			return nil, s.unsupported(f.name)
		}
		match, err := literalMatcher(f, e.Value)
		if err != nil {
			return nil, err
		}
		negate := e.Op == "ne"
		return func(t *T) bool {
			vals, null := f.get(t)
			return match(vals, null) != negate
		}, nil
	case odata.Any:
		f, err := s.lookup(e.Collection)
		if err != nil {
			return nil, err
		}
		if f.kind != fieldStringCollection {
			return nil, s.unsupported(e.Collection)
		}
		if e.Op != "eq" || e.Value.Kind != odata.KindString {
			if e.Value.Kind != odata.KindString {
				return nil, incompatible(fieldString, e.Value)
			}
			if !advanced {
				return nil, s.unsupported(f.name)
			}
		}
		want := e.Value.Str
		negate := e.Op == "ne"
		return func(t *T) bool {
			vals, _ := f.get(t)
			for _, v := range vals {
				if equalFold(v, want, f.caseSensitive) != negate {
					return true
				}
			}
			return false
		}, nil
	}
	return nil, grapherr.New(http.StatusBadRequest, grapherr.CodeBadRequestPlain, "Invalid filter clause.")
}

func equalFold(a, b string, caseSensitive bool) bool {
	if caseSensitive {
		return a == b
	}
	return strings.EqualFold(a, b)
}

func literalMatcher[T any](f filterField[T], lit odata.Literal) (func(vals []string, null bool) bool, error) {
	if lit.Kind == odata.KindNull {
		return func(_ []string, null bool) bool { return null }, nil
	}
	switch f.kind {
	case fieldBool:
		if lit.Kind != odata.KindBool {
			return nil, incompatible(f.kind, lit)
		}
		want := strconv.FormatBool(lit.Bool)
		return func(vals []string, null bool) bool { return !null && len(vals) == 1 && vals[0] == want }, nil
	default:
		if lit.Kind != odata.KindString {
			return nil, incompatible(f.kind, lit)
		}
		return func(vals []string, null bool) bool {
			return !null && len(vals) == 1 && equalFold(vals[0], lit.Str, f.caseSensitive)
		}, nil
	}
}

// listQuery is the parsed query of a collection GET.
type listQuery struct {
	filter   odata.Expr
	selected []string // nil: default property set
	top      int
	count    bool
	advanced bool
	after    string // resume after this id (from $skiptoken)
	expand   []string
}

// parseListQuery reads $filter, $select, $top, $count, $skiptoken and
// $expand. Other $-options are refused so a client relying on one notices.
func parseListQuery(r *http.Request, defaultTop, maxTop int) (listQuery, error) {
	q := listQuery{top: defaultTop}
	vals := r.URL.Query()
	for name := range vals {
		if !strings.HasPrefix(name, "$") {
			continue
		}
		switch strings.ToLower(name) {
		case "$filter", "$select", "$top", "$count", "$skiptoken", "$expand":
		default:
			return q, grapherr.New(http.StatusBadRequest, grapherr.CodeBadRequestPlain,
				fmt.Sprintf("Query option '%s' is not supported by the emulator.", name))
		}
	}
	get := func(opt string) (string, bool) {
		for name, v := range vals {
			if strings.EqualFold(name, opt) && len(v) > 0 {
				return v[0], true
			}
		}
		return "", false
	}
	if v, ok := get("$count"); ok {
		switch strings.ToLower(v) {
		case "true":
			q.count = true
		case "false":
		default:
			return q, grapherr.New(http.StatusBadRequest, grapherr.CodeBadRequestPlain,
				fmt.Sprintf("'%s' is not a valid count option.", v))
		}
	}
	// Advanced queries need both the header and $count=true
	// (aad-advanced-queries). The header belongs to each request: a next
	// link followed without it is a plain query again, "any additional
	// request headers such as the ConsistencyLevel header are not included
	// by default in subsequent page requests" (paging, microsoft-graph-docs-contrib
	// concepts/paging.md), so an advanced-only filter then fails as on a
	// first page without the header.
	q.advanced = q.count && strings.EqualFold(r.Header.Get("ConsistencyLevel"), "eventual")
	if v, ok := get("$filter"); ok {
		e, err := odata.ParseFilter(v)
		if err != nil {
			return q, grapherr.New(http.StatusBadRequest, grapherr.CodeBadRequestPlain, err.Error())
		}
		q.filter = e
	}
	if v, ok := get("$select"); ok {
		sel, err := odata.ParseSelect(v)
		if err != nil {
			return q, grapherr.New(http.StatusBadRequest, grapherr.CodeBadRequestPlain, err.Error())
		}
		q.selected = sel
	}
	if v, ok := get("$expand"); ok {
		for _, e := range strings.Split(v, ",") {
			q.expand = append(q.expand, strings.TrimSpace(e))
		}
	}
	if v, ok := get("$top"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxTop {
			return q, grapherr.New(http.StatusBadRequest, grapherr.CodeBadRequest,
				fmt.Sprintf("Invalid page size specified: '%s'. Must be between 1 and %d inclusive.", v, maxTop))
		}
		q.top = n
	}
	if v, ok := get("$skiptoken"); ok {
		after, err := decodeSkipToken(v)
		if err != nil {
			return q, grapherr.New(http.StatusBadRequest, grapherr.CodeBadRequest, "Invalid paging token specified.")
		}
		q.after = after
	}
	return q, nil
}

// countOnPage reports whether this page carries @odata.count. Without
// ConsistencyLevel: eventual, directory objects silently ignore
// "?$count=true" ("the request ... silently ignores the $count query
// parameter (?$count=true) if it's used", aad-advanced-queries,
// microsoft-graph-docs-contrib concepts/aad-advanced-queries.md, error
// handling), and "the @odata.count property will be present only in the
// first page of the paged data" (paging).
func (q listQuery) countOnPage() bool {
	return q.count && q.advanced && q.after == ""
}

// skipTokenPrefix starts every skip token, as Graph's directory skip
// tokens do. A token carries no consistency level: the next request's own
// headers decide it.
const skipTokenPrefix = "RFNwdAIAAQAAA"

// Skip tokens are opaque to clients; inside they carry the last id served.
func encodeSkipToken(lastID string) string {
	return skipTokenPrefix + base64.RawURLEncoding.EncodeToString([]byte("after:"+lastID))
}

func decodeSkipToken(tok string) (string, error) {
	rest, ok := strings.CutPrefix(tok, skipTokenPrefix)
	if !ok {
		return "", fmt.Errorf("unknown skip token")
	}
	raw, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil {
		return "", err
	}
	id, ok := strings.CutPrefix(string(raw), "after:")
	if !ok || id == "" {
		return "", fmt.Errorf("bad skip token")
	}
	return id, nil
}

// page sorts items by id, applies the skip token and $top, and returns the
// page plus the next link ("" on the last page).
func page[T any](r *http.Request, base string, q listQuery, items []*T, id func(*T) string) ([]*T, string) {
	sort.Slice(items, func(i, j int) bool { return key(id(items[i])) < key(id(items[j])) })
	start := 0
	if q.after != "" {
		after := key(q.after)
		start = sort.Search(len(items), func(i int) bool { return key(id(items[i])) > after })
	}
	end := start + q.top
	if end >= len(items) {
		return items[start:], ""
	}
	out := items[start:end]
	vals := r.URL.Query()
	for name := range vals {
		if strings.EqualFold(name, "$skiptoken") {
			vals.Del(name)
		}
	}
	vals.Set("$skiptoken", encodeSkipToken(id(out[len(out)-1])))
	next := base + r.URL.EscapedPath() + "?" + encodeQuery(vals)
	return out, next
}

// encodeQuery is url.Values.Encode but keeps '$' readable, as Graph's
// own next links do.
func encodeQuery(v url.Values) string {
	return strings.ReplaceAll(v.Encode(), "%24", "$")
}

// key is the form directory object ids sort and compare in: Graph's are
// case-insensitive.
func key(id string) string { return strings.ToLower(id) }
