package fakead

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// ncOf returns the naming context holding key.
func (s *store) ncOf(key string) string {
	for _, nc := range s.ncKeys {
		if isUnder(key, nc) {
			return nc
		}
	}
	return ""
}

// searchParams is a Search request as the store sees it.
type searchParams struct {
	baseDN string
	scope  int64
	filter *filter
}

// find returns the keys of the entries a search selects, in creation
// order, as AD returns objects in the order of its internal index when no
// sort is requested.
func (s *store) find(principal string, p searchParams) ([]string, *ldapError) {
	baseKey, err := normDN(p.baseDN)
	if err != nil {
		return nil, errInvalidDN(p.baseDN)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if principal == "" {
		return nil, errBindRequired()
	}
	if _, ok := s.entries[baseKey]; !ok {
		return nil, errNoSuchObject(s.bestMatch(baseKey))
	}
	nc := s.ncOf(baseKey)
	ev := s.evaluator()
	var keys []string
	visit := func(k string, e *entry) {
		switch p.scope {
		case 0:
			if k != baseKey {
				return
			}
		case 1:
			if parentKey(k) != baseKey || s.ncOf(k) != nc {
				return
			}
		default:
			if !isUnder(k, baseKey) || s.ncOf(k) != nc {
				return
			}
		}
		if ev.matches(p.filter, e) {
			keys = append(keys, k)
		}
	}
	if cand, ok := s.index().candidates(s.schema, p.filter); ok {
		for k := range cand {
			if e, ok := s.entries[k]; ok {
				visit(k, e)
			}
		}
	} else {
		for k, e := range s.entries {
			visit(k, e)
		}
	}
	slices.SortFunc(keys, func(a, b string) int { return cmp.Compare(s.seq[a], s.seq[b]) })
	return keys, nil
}

// result is an entry as a search returns it.
type result struct {
	dn    string
	attrs []resultAttr
}

type resultAttr struct {
	name   string
	values [][]byte
}

// read returns the entries with the given keys that still exist, with the
// requested attributes.
func (s *store) read(keys []string, sel attrSelection) []result {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ev := s.evaluator()
	out := make([]result, 0, len(keys))
	for _, k := range keys {
		e, ok := s.entries[k]
		if !ok {
			continue
		}
		out = append(out, s.project(ev, e, sel))
	}
	return out
}

// attrSelection is the attribute list of a Search request.
type attrSelection struct {
	all       bool     // none requested, or "*"
	names     []string // explicitly requested, as sent
	typesOnly bool
}

func newAttrSelection(requested []string, typesOnly bool) attrSelection {
	sel := attrSelection{typesOnly: typesOnly}
	if len(requested) == 0 {
		sel.all = true
	}
	for _, n := range requested {
		switch n {
		case "*":
			sel.all = true
		case "1.1", "":
		default:
			sel.names = append(sel.names, n)
		}
	}
	return sel
}

func (s *store) project(ev *evaluator, e *entry, sel attrSelection) result {
	r := result{dn: e.dn}
	seen := map[string]bool{}
	emit := func(def attrDef) {
		k := strings.ToLower(def.name)
		if seen[k] || def.usage == passwordAttr {
			return
		}
		seen[k] = true
		vals := ev.values(e, def)
		if len(vals) == 0 {
			return
		}
		if sel.typesOnly {
			vals = nil
		}
		r.attrs = append(r.attrs, resultAttr{name: def.name, values: vals})
	}
	for _, n := range sel.names {
		if def, ok := s.schema.lookup(n); ok {
			emit(def)
		}
	}
	if sel.all {
		names := make([]string, 0, len(e.attrs)+1)
		for k := range e.attrs {
			names = append(names, k)
		}
		names = append(names, "memberof")
		slices.Sort(names)
		if i := slices.Index(names, "objectclass"); i > 0 {
			names = append([]string{"objectclass"}, slices.Delete(names, i, i+1)...)
		}
		for _, n := range names {
			if def, ok := s.schema.lookup(n); ok {
				emit(def)
			}
		}
	}
	return r
}

// rootDSE builds the root DSE that AD serves to anyone, bound or not.
func (s *store) rootDSE(f *filter, sel attrSelection) []result {
	s.mu.RLock()
	usn := s.usn
	s.mu.RUnlock()
	base := s.cfg.BaseDN
	config := "CN=Configuration," + base
	attrs := []resultAttr{
		{"currentTime", strs(formatGeneralizedTime(s.now()))},
		{"subschemaSubentry", strs("CN=Aggregate,CN=Schema," + config)},
		{"dsServiceName", strs("CN=NTDS Settings,CN=" + strings.ToUpper(firstLabel(s.cfg.HostName)) + ",CN=Servers,CN=Default-First-Site-Name,CN=Sites," + config)},
		{"namingContexts", strs(base, config, "CN=Schema,"+config)},
		{"defaultNamingContext", strs(base)},
		{"schemaNamingContext", strs("CN=Schema," + config)},
		{"configurationNamingContext", strs(config)},
		{"rootDomainNamingContext", strs(base)},
		{"supportedControl", strs(oidPagedResults, oidPermissiveModify)},
		{"supportedLDAPVersion", strs("3", "2")},
		{"supportedLDAPPolicies", strs("MaxPageSize")},
		{"highestCommittedUSN", strs(strconv.FormatInt(usn, 10))},
		{"dnsHostName", strs(s.cfg.HostName)},
		{"ldapServiceName", strs(s.cfg.Domain + ":" + strings.ToLower(firstLabel(s.cfg.HostName)) + "$@" + strings.ToUpper(s.cfg.Domain))},
		{"serverName", strs("CN=" + strings.ToUpper(firstLabel(s.cfg.HostName)) + ",CN=Servers,CN=Default-First-Site-Name,CN=Sites," + config)},
		{"supportedCapabilities", strs("1.2.840.113556.1.4.800")},
		{"isSynchronized", strs("TRUE")},
		{"isGlobalCatalogReady", strs("FALSE")},
		{"domainFunctionality", strs("7")},
		{"forestFunctionality", strs("7")},
		{"domainControllerFunctionality", strs("7")},
		{"supportedExtension", strs(oidStartTLS)},
	}
	if f != nil && !rootDSEMatches(f, attrs) {
		return nil
	}
	r := result{}
	for _, a := range attrs {
		if len(a.values) == 0 {
			continue
		}
		want := sel.all
		for _, n := range sel.names {
			if strings.EqualFold(n, a.name) {
				want = true
			}
		}
		if !want {
			continue
		}
		if sel.typesOnly {
			a.values = nil
		}
		r.attrs = append(r.attrs, a)
	}
	return []result{r}
}

// rootDSEMatches evaluates the few filters clients send to the root DSE:
// (objectClass=*) and presence or equality on its attributes.
func rootDSEMatches(f *filter, attrs []resultAttr) bool {
	switch f.op {
	case opPresent:
		if strings.EqualFold(f.attr, "objectClass") {
			return true
		}
		for _, a := range attrs {
			if strings.EqualFold(a.name, f.attr) && len(a.values) > 0 {
				return true
			}
		}
		return false
	case opEqual:
		for _, a := range attrs {
			if strings.EqualFold(a.name, f.attr) {
				for _, v := range a.values {
					if strings.EqualFold(string(v), string(f.value)) {
						return true
					}
				}
			}
		}
		return false
	case opAnd:
		for _, c := range f.children {
			if !rootDSEMatches(c, attrs) {
				return false
			}
		}
		return true
	case opOr:
		for _, c := range f.children {
			if rootDSEMatches(c, attrs) {
				return true
			}
		}
		return false
	case opNot:
		return len(f.children) == 1 && !rootDSEMatches(f.children[0], attrs)
	}
	return false
}

func strs(values ...string) [][]byte {
	out := make([][]byte, len(values))
	for i, v := range values {
		out[i] = []byte(v)
	}
	return out
}

func firstLabel(host string) string {
	l, _, _ := strings.Cut(host, ".")
	return l
}
