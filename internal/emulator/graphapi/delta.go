package graphapi

import (
	"bytes"
	"container/list"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/entramatch/entra-match-operator/internal/emulator/grapherr"
	"github.com/entramatch/entra-match-operator/internal/emulator/identity"
	"github.com/entramatch/entra-match-operator/internal/emulator/odata"
	"github.com/entramatch/entra-match-operator/internal/emulator/tenant"
)

// Delta query on users follows https://learn.microsoft.com/en-us/graph/api/user-delta
// (microsoft-graph-docs-contrib api-reference/v1.0/api/user-delta.md),
// https://learn.microsoft.com/en-us/graph/delta-query-overview
// (concepts/delta-query-overview.md) and
// https://learn.microsoft.com/en-us/graph/delta-query-users
// (concepts/delta-query-users.md).
//
// A state token names a server-side record: the selected properties' values
// of every tracked user, and the soft-deleted ids, when the record was taken.
// A round starts from a record taken at its first request, so its nextLink
// pages are stable whatever changes meanwhile; a deltaLink request compares
// the tenant now with the record its token names.

const (
	// deltaPageSize: the pages give no page size for users delta; the
	// emulator uses 100, like a user list without $top.
	deltaPageSize = 100
	// deltaTokenLifetime: delta tokens of directory objects are valid for
	// seven days (delta-query-overview, "Token duration").
	deltaTokenLifetime = 7 * 24 * time.Hour
	// maxDeltaStates bounds the records and rounds kept per emulator; the
	// least recently used goes first, and its token then answers like an
	// expired one.
	maxDeltaStates = 64
	// maxDeltaFilterIDs: a $filter on id may name at most 50 objects (user-delta).
	maxDeltaFilterIDs = 50

	removedChanged = "changed" // soft-deleted: restorable from deleted items
	removedDeleted = "deleted" // permanently deleted
)

// deltaUser is one user as a record saw it. Records share a deltaUser
// while its values do not change, so a chain of records costs one map each.
type deltaUser struct {
	id   string
	vals []json.RawMessage // aligned with deltaRecord.props
}

// deltaRecord is the state a $deltatoken names. It never changes once taken.
type deltaRecord struct {
	props    []string // canonical selected properties, without id
	selected bool     // props came from $select (they show in @odata.context)
	scope    map[string]bool
	taken    time.Time
	users    map[string]*deltaUser // active users in scope, by lower-case id
	deleted  map[string]string     // soft-deleted users in scope: lower-case id -> id
	tokenKey string                // its $deltatoken once issued
}

// deltaItem is one entry of a round's answer.
type deltaItem struct {
	id      string
	user    *deltaUser // nil for a removal
	changed []int      // indexes into props; nil sends them all
	removed string
}

// deltaRound is a round in progress: the record taken at its start and the
// entries its pages serve, in order.
type deltaRound struct {
	rec   *deltaRecord
	items []deltaItem
}

// deltaStates keeps records and rounds, least recently used first out.
type deltaStates struct {
	mu    sync.Mutex
	order *list.List // of *deltaEntry, most recently used in front
	byKey map[string]*list.Element
}

type deltaEntry struct {
	key   string
	rec   *deltaRecord
	round *deltaRound
}

func newDeltaStates() *deltaStates {
	return &deltaStates{order: list.New(), byKey: map[string]*list.Element{}}
}

func newStateKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

func (d *deltaStates) put(e *deltaEntry) {
	d.byKey[e.key] = d.order.PushFront(e)
	for d.order.Len() > maxDeltaStates {
		old := d.order.Back()
		d.order.Remove(old)
		delete(d.byKey, old.Value.(*deltaEntry).key)
	}
}

func (d *deltaStates) get(key string) *deltaEntry {
	el, ok := d.byKey[key]
	if !ok {
		return nil
	}
	d.order.MoveToFront(el)
	return el.Value.(*deltaEntry)
}

// putRound keeps a new round and returns its key.
func (d *deltaStates) putRound(rd *deltaRound) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	key := "s" + newStateKey()
	d.put(&deltaEntry{key: key, round: rd})
	return key
}

func (d *deltaStates) round(key string) *deltaRound {
	d.mu.Lock()
	defer d.mu.Unlock()
	if e := d.get(key); e != nil {
		return e.round
	}
	return nil
}

// deltaToken returns the $deltatoken of rec, issuing it the first time: a
// repeated last page hands out the same token.
func (d *deltaStates) deltaToken(rec *deltaRecord) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if rec.tokenKey != "" {
		if e := d.get(rec.tokenKey); e != nil && e.rec == rec {
			return rec.tokenKey
		}
	}
	rec.tokenKey = "d" + newStateKey()
	d.put(&deltaEntry{key: rec.tokenKey, rec: rec})
	return rec.tokenKey
}

func (d *deltaStates) record(key string) *deltaRecord {
	d.mu.Lock()
	defer d.mu.Unlock()
	if e := d.get(key); e != nil {
		return e.rec
	}
	return nil
}

// errSyncStateNotFound is Graph's answer to a delta token it no longer
// holds: "a BadRequest response with the error code syncStateNotFound"
// once a directory delta link is older than seven days (Microsoft 365
// developer blog, "Duration of change tracking tokens for identity and
// education resources", 2020; delta-query-overview, "Token duration", and
// the code table of https://learn.microsoft.com/en-us/graph/errors). Graph
// documents no other answer for a token it does not know, so the emulator
// gives this one for every unknown, evicted, malformed or expired token.
func errSyncStateNotFound() error {
	return grapherr.New(http.StatusBadRequest, grapherr.CodeSyncStateNotFound,
		"The sync state generation is not found. The delta token is expired and data must be synchronized again.")
}

// errDeltaUnsupported refuses a query option users delta does not support;
// Graph answers such a delta query with Request_UnsupportedQuery
// "Unsupported Query." (Microsoft Q&A 1090594, "Does user delta query
// support filter query parameters?").
func errDeltaUnsupported() error {
	return grapherr.New(http.StatusBadRequest, grapherr.CodeUnsupportedQuery, "Unsupported Query.")
}

// deltaQuery is the parsed query of a users delta request.
type deltaQuery struct {
	deltaToken string
	skipToken  string
	selected   []string // nil: default property set
	scope      map[string]bool
}

// parseDeltaQuery reads a delta request's query. Query options belong to
// the first request of a round only: the state token carries them
// ("Subsequent requests can't be modified", delta-query-users), so a state
// token with any other option is refused rather than silently ignored.
func parseDeltaQuery(r *http.Request) (deltaQuery, error) {
	var q deltaQuery
	var options []string
	for name, vals := range r.URL.Query() {
		if !strings.HasPrefix(name, "$") || len(vals) == 0 {
			continue
		}
		v := vals[0]
		switch strings.ToLower(name) {
		case "$deltatoken":
			q.deltaToken = v
			continue
		case "$skiptoken":
			q.skipToken = v
			continue
		case "$select":
			sel, err := odata.ParseSelect(v)
			if err != nil {
				return q, grapherr.New(http.StatusBadRequest, grapherr.CodeBadRequestPlain, err.Error())
			}
			q.selected = sel
		case "$filter":
			scope, err := deltaFilterScope(v)
			if err != nil {
				return q, err
			}
			q.scope = scope
		case "$expand", "$top", "$orderby":
			// Not supported for users and groups (delta-query-overview,
			// "Optional query parameters").
			return q, errDeltaUnsupported()
		default:
			return q, grapherr.New(http.StatusBadRequest, grapherr.CodeBadRequestPlain,
				fmt.Sprintf("Query option '%s' is not supported by the emulator on delta.", name))
		}
		options = append(options, name)
	}
	if q.deltaToken != "" && q.skipToken != "" {
		return q, grapherr.BadRequest("A delta request carries either $deltatoken or $skiptoken, not both.")
	}
	if q.skipToken != "" || (q.deltaToken != "" && !strings.EqualFold(q.deltaToken, "latest")) {
		if len(options) > 0 {
			sort.Strings(options)
			return q, grapherr.BadRequest("Query option '%s' cannot be used with a state token: the query of a delta round is set by its first request.", options[0])
		}
	}
	return q, nil
}

// deltaFilterScope reads the one $filter users delta supports: equality on
// id, or-ed for up to 50 objects (user-delta, "OData query parameters").
func deltaFilterScope(v string) (map[string]bool, error) {
	e, err := odata.ParseFilter(v)
	if err != nil {
		return nil, grapherr.New(http.StatusBadRequest, grapherr.CodeBadRequestPlain, err.Error())
	}
	scope := map[string]bool{}
	var walk func(odata.Expr) bool
	walk = func(e odata.Expr) bool {
		switch e := e.(type) {
		case odata.Logical:
			return e.Op == "or" && walk(e.Left) && walk(e.Right)
		case odata.Compare:
			if !strings.EqualFold(e.Property, "id") || e.Op != "eq" || e.Value.Kind != odata.KindString {
				return false
			}
			scope[key(e.Value.Str)] = true
			return true
		}
		return false
	}
	if !walk(e) || len(scope) > maxDeltaFilterIDs {
		return nil, errDeltaUnsupported()
	}
	return scope, nil
}

// UsersDelta serves GET /users/delta (also spelled microsoft.graph.delta,
// the fully qualified name SDKs use, and delta() as msgraph-sdk-go sends it).
func (s *API) UsersDelta(w http.ResponseWriter, r *http.Request) error {
	q, err := parseDeltaQuery(r)
	if err != nil {
		return err
	}
	if q.skipToken != "" {
		key, offset, ok := parseSkipState(q.skipToken)
		if !ok {
			return errSyncStateNotFound()
		}
		rd := s.deltas.round(key)
		if rd == nil || offset > len(rd.items) {
			return errSyncStateNotFound()
		}
		return s.writeDeltaPage(w, r, key, rd, offset)
	}
	if q.deltaToken != "" && !strings.EqualFold(q.deltaToken, "latest") {
		base := s.deltas.record(q.deltaToken)
		if base == nil || s.clock().Sub(base.taken) > deltaTokenLifetime {
			return errSyncStateNotFound()
		}
		rec := s.takeDeltaRecord(base.props, base.selected, base.scope)
		rd := &deltaRound{rec: rec, items: diffDeltaRecords(base, rec)}
		return s.writeDeltaPage(w, r, s.deltas.putRound(rd), rd, 0)
	}
	props, err := resolveUserSelect(q.selected)
	if err != nil {
		return err
	}
	props = withoutID(props)
	rec := s.takeDeltaRecord(props, q.selected != nil, q.scope)
	if q.deltaToken != "" {
		// $deltatoken=latest: "sync from now", a deltaLink and no resource
		// data (delta-query-overview).
		rd := &deltaRound{rec: rec}
		return s.writeDeltaPage(w, r, "", rd, 0)
	}
	rd := &deltaRound{rec: rec, items: allDeltaItems(rec)}
	return s.writeDeltaPage(w, r, s.deltas.putRound(rd), rd, 0)
}

// withoutID drops id, which every entry carries anyway ("The id property
// is always returned", user-delta).
func withoutID(props []string) []string {
	out := make([]string, 0, len(props))
	for _, p := range props {
		if p != "id" {
			out = append(out, p)
		}
	}
	return out
}

// takeDeltaRecord records the tenant now.
func (s *API) takeDeltaRecord(props []string, selected bool, scope map[string]bool) *deltaRecord {
	rec := &deltaRecord{props: props, selected: selected, scope: scope, taken: s.clock(),
		users: map[string]*deltaUser{}, deleted: map[string]string{}}
	s.store.Read(func(st *tenant.State) {
		for u := range st.Users() {
			if scope == nil || scope[key(u.ID)] {
				rec.users[key(u.ID)] = &deltaUser{id: u.ID, vals: deltaValues(u, props)}
			}
		}
		for u := range st.DeletedUsers() {
			if scope == nil || scope[key(u.ID)] {
				rec.deleted[key(u.ID)] = u.ID
			}
		}
	})
	return rec
}

// deltaValues encodes u's values of props as a GET would render them.
func deltaValues(u *tenant.User, props []string) []json.RawMessage {
	rendered := renderUser(u, props)
	out := make([]json.RawMessage, len(props))
	for i, p := range props {
		raw, err := json.Marshal(rendered[p])
		if err != nil {
			raw = []byte("null")
		}
		out[i] = raw
	}
	return out
}

// allDeltaItems is the first round: every tracked user in full. Users
// removed before it are not reported (delta-query-overview).
func allDeltaItems(rec *deltaRecord) []deltaItem {
	items := make([]deltaItem, 0, len(rec.users))
	for _, u := range rec.users {
		items = append(items, deltaItem{id: u.id, user: u})
	}
	sortDeltaItems(items)
	return items
}

// diffDeltaRecords is what changed from base to next, per
// delta-query-overview ("Resource representation in the delta query
// response") and delta-query-users: a new or restored user in full, an
// updated one as its id and the changed properties only (Graph sends "at
// least" those; the emulator sends no more, as with Prefer: return=minimal,
// so that a client must merge), and a removed one as its id with @removed,
// reason changed while it is in deleted items and deleted once it is
// permanently gone. Unchanged users are shared with base.
func diffDeltaRecords(base, next *deltaRecord) []deltaItem {
	var items []deltaItem
	for k, u := range next.users {
		old, ok := base.users[k]
		if !ok {
			items = append(items, deltaItem{id: u.id, user: u})
			continue
		}
		var changed []int
		for i := range next.props {
			if !bytes.Equal(old.vals[i], u.vals[i]) {
				changed = append(changed, i)
			}
		}
		if changed == nil {
			next.users[k] = old
			continue
		}
		items = append(items, deltaItem{id: u.id, user: u, changed: changed})
	}
	for k, old := range base.users {
		if _, ok := next.users[k]; ok {
			continue
		}
		reason := removedDeleted
		if _, soft := next.deleted[k]; soft {
			reason = removedChanged
		}
		items = append(items, deltaItem{id: old.id, removed: reason})
	}
	// A user reported as soft-deleted that is then purged is removed again,
	// for good.
	for k, id := range base.deleted {
		_, active := next.users[k]
		_, soft := next.deleted[k]
		if !active && !soft {
			items = append(items, deltaItem{id: id, removed: removedDeleted})
		}
	}
	sortDeltaItems(items)
	return items
}

func sortDeltaItems(items []deltaItem) {
	sort.Slice(items, func(i, j int) bool { return key(items[i].id) < key(items[j].id) })
}

// Skip tokens of a round carry its key and the offset of the next page.
func skipState(key string, offset int) string { return key + "." + strconv.Itoa(offset) }

func parseSkipState(tok string) (string, int, bool) {
	key, off, ok := strings.Cut(tok, ".")
	n, err := strconv.Atoi(off)
	if !ok || err != nil || n < 0 {
		return "", 0, false
	}
	return key, n, true
}

func (s *API) writeDeltaPage(w http.ResponseWriter, r *http.Request, roundKey string, rd *deltaRound, offset int) error {
	end := min(offset+deltaPageSize, len(rd.items))
	values := make([]map[string]any, 0, end-offset)
	for _, it := range rd.items[offset:end] {
		values = append(values, renderDeltaItem(rd.rec, it))
	}
	context := "users"
	if rd.rec.selected {
		context += selectFragment(rd.rec.props)
	}
	body := map[string]any{"@odata.context": s.metadata(r, context), "value": values}
	link := identity.BaseURL(r) + "/v1.0/users/delta?"
	if end < len(rd.items) {
		body["@odata.nextLink"] = link + encodeQuery(url.Values{"$skiptoken": {skipState(roundKey, end)}})
	} else {
		body["@odata.deltaLink"] = link + encodeQuery(url.Values{"$deltatoken": {s.deltas.deltaToken(rd.rec)}})
	}
	writeOData(w, http.StatusOK, body)
	return nil
}

func renderDeltaItem(rec *deltaRecord, it deltaItem) map[string]any {
	if it.user == nil {
		return map[string]any{"id": it.id, "@removed": map[string]string{"reason": it.removed}}
	}
	out := map[string]any{"id": it.user.id}
	if it.changed == nil {
		for i, p := range rec.props {
			out[p] = it.user.vals[i]
		}
		return out
	}
	for _, i := range it.changed {
		out[rec.props[i]] = it.user.vals[i]
	}
	return out
}
