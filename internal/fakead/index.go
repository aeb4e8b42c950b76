package fakead

import (
	"strings"
	"sync"
)

// AD answers equality on indexed attributes (sAMAccountName,
// userPrincipalName, mail, proxyAddresses, objectGUID) from its indexes, so a search
// ORing a hundred names costs little whatever the size of the directory.
// The store does the same: when every way a filter can be true goes
// through an equality on one of these attributes, only the entries holding
// the asserted values are evaluated, with the whole filter as before. The
// index is rebuilt lazily after a write; searches between writes share it.

var indexedAttributes = []string{"sAMAccountName", "userPrincipalName", "mail", "proxyAddresses"}

type eqIndex struct {
	version int64
	// values maps attribute (lower case) -> ASCII value (lower case) -> keys.
	values map[string]map[string][]string
	// unfoldable are entries holding a non-ASCII value of an indexed
	// attribute: lower-casing is not AD's case folding for them, so they
	// are always candidates.
	unfoldable []string
	// guids maps objectGUID bytes to the key holding them.
	guids map[string]string
}

type indexCache struct {
	mu  sync.Mutex
	idx *eqIndex
}

// index returns the equality index of the current entries; the caller
// holds s.mu (read or write).
func (s *store) index() *eqIndex {
	s.indexes.mu.Lock()
	defer s.indexes.mu.Unlock()
	if ix := s.indexes.idx; ix != nil && ix.version == s.version {
		return ix
	}
	ix := &eqIndex{version: s.version, values: map[string]map[string][]string{}, guids: map[string]string{}}
	for _, a := range indexedAttributes {
		ix.values[strings.ToLower(a)] = map[string][]string{}
	}
	for k, e := range s.entries {
		ix.addEntry(k, e)
	}
	s.indexes.idx = ix
	return ix
}

// indexAdd brings a current index up to date with an added entry, so that
// adding many users one by one does not rebuild it each time; the caller
// holds s.mu for writing and has just counted the add in s.version.
func (s *store) indexAdd(k string, e *entry) {
	s.indexes.mu.Lock()
	defer s.indexes.mu.Unlock()
	ix := s.indexes.idx
	if ix == nil || ix.version != s.version-1 {
		return
	}
	ix.version = s.version
	ix.addEntry(k, e)
}

func (ix *eqIndex) addEntry(k string, e *entry) {
	if g := e.first("objectGUID"); g != "" {
		ix.guids[g] = k
	}
	odd := false
	for _, a := range indexedAttributes {
		m := ix.values[strings.ToLower(a)]
		for _, v := range e.values(a) {
			if !isASCII(string(v)) {
				odd = true
				continue
			}
			lv := strings.ToLower(string(v))
			m[lv] = append(m[lv], k)
		}
	}
	if odd {
		ix.unfoldable = append(ix.unfoldable, k)
	}
}

// holders returns the keys that may hold value in attr (an indexed
// attribute), or false when value is not ASCII and every entry must be
// looked at.
func (ix *eqIndex) holders(attr, value string) ([]string, bool) {
	if !isASCII(value) {
		return nil, false
	}
	return append(ix.values[strings.ToLower(attr)][strings.ToLower(value)], ix.unfoldable...), true
}

// candidates returns the keys that can match f, or false when f can be
// true without an indexed equality (the whole directory must be read).
func (ix *eqIndex) candidates(sch *schema, f *filter) (map[string]bool, bool) {
	switch f.op {
	case opAnd:
		// An AND is true only when each child is: one indexed child bounds it.
		for _, c := range f.children {
			if keys, ok := ix.candidates(sch, c); ok {
				return keys, true
			}
		}
	case opOr:
		out := map[string]bool{}
		for _, c := range f.children {
			keys, ok := ix.candidates(sch, c)
			if !ok {
				return nil, false
			}
			for k := range keys {
				out[k] = true
			}
		}
		return out, true
	case opEqual:
		def, ok := sch.lookup(f.attr)
		if ok && strings.EqualFold(def.name, "objectGUID") {
			// Binary equality is exact: the entry holding those bytes, if any.
			out := map[string]bool{}
			if k, held := ix.guids[string(f.value)]; held {
				out[k] = true
			}
			return out, true
		}
		if !ok || def.syntax != synString || !isASCII(string(f.value)) {
			return nil, false
		}
		m, indexed := ix.values[strings.ToLower(def.name)]
		if !indexed {
			return nil, false
		}
		out := map[string]bool{}
		for _, k := range m[strings.ToLower(string(f.value))] {
			out[k] = true
		}
		for _, k := range ix.unfoldable {
			out[k] = true
		}
		return out, true
	}
	return nil, false
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
