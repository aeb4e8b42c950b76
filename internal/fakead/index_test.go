package fakead

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// The index only narrows which entries a search evaluates: every filter
// must select exactly what evaluating it on every entry selects, before and
// after writes (the index is rebuilt after each).
func TestIndexedSearchSelectsWhatAScanSelects(t *testing.T) {
	f := newFixture(t)
	s := f.store
	filters := []string{
		"(sAMAccountName=alice)",
		"(samaccountname=ALICE)",
		"(|(sAMAccountName=alice)(sAMAccountName=carol)(sAMAccountName=nobody))",
		"(&(objectCategory=person)(objectClass=user)(|(sAMAccountName=bob)(userPrincipalName=CAROL@contoso.com)))",
		"(&(objectClass=user)(|(mail=alice@contoso.com)(proxyAddresses=smtp:a@contoso.com)))",
		"(|(sAMAccountName=alice)(displayName=Bob Builder))", // one unindexed branch: a scan
		"(&(sAMAccountName=alice)(!(userAccountControl:1.2.840.113556.1.4.803:=2)))",
		"(userPrincipalName=élodie@contoso.com)",
		"(|(sAMAccountName=élodie)(sAMAccountName=alice))",
		"(sAMAccountName~=alice)",
		"(sAMAccountName=caroline)",                  // only after the modify below
		"(&(objectClass=user)(sAMAccountName=dora))", // only after the add below
	}
	check := func(stage string) {
		t.Helper()
		for _, text := range filters {
			flt, err := parseFilter(text)
			if err != nil {
				t.Fatal(err)
			}
			got, lerr := s.find(systemPrincipal, searchParams{baseDN: f.BaseDN(), scope: 2, filter: flt})
			if lerr != nil {
				t.Fatal(lerr)
			}
			s.mu.RLock()
			ev := s.evaluator()
			var want []string
			for k, e := range s.entries {
				if isUnder(k, s.baseKey) && s.ncOf(k) == s.ncOf(s.baseKey) && ev.matches(flt, e) {
					want = append(want, k)
				}
			}
			s.mu.RUnlock()
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("%s: %s selected %v, a scan %v", stage, text, got, want)
			}
		}
	}
	check("fixture")
	if _, _, err := f.AddUser(User{SAMAccountName: "élodie", UserPrincipalName: "Élodie@contoso.com"}); err != nil {
		t.Fatal(err)
	}
	_, dora, err := f.AddUser(User{SAMAccountName: "dora"})
	if err != nil {
		t.Fatal(err)
	}
	// objectGUID is indexed too (binary, exact): the lookups a UserMatchSet's
	// UserMatches make, a hundred GUIDs ORed in one search.
	escaped := func(b []byte) string {
		var out strings.Builder
		for _, c := range b {
			fmt.Fprintf(&out, "\\%02x", c)
		}
		return out.String()
	}
	nobody := dora
	nobody[0] ^= 0xff
	filters = append(filters,
		"(objectGUID="+escaped(dora[:])+")",
		"(&(objectCategory=person)(objectClass=user)(|(objectGUID="+escaped(nobody[:])+")(objectGUID="+escaped(dora[:])+")(sAMAccountName=alice)))",
		"(objectGUID="+escaped(nobody[:])+")",
		"(objectGUID="+escaped(dora[:4])+")", // a prefix is not the value
	)
	check("after an add")
	byGUID, err := parseFilter(filters[len(filters)-3])
	if err != nil {
		t.Fatal(err)
	}
	s.mu.RLock()
	cand, indexed := s.index().candidates(s.schema, byGUID)
	s.mu.RUnlock()
	if !indexed || len(cand) != 3 {
		t.Errorf("GUIDs ORed with a name: indexed %v, %d candidates, want the index's 3 (dora, alice, and élodie, whose non-ASCII name is always a candidate)", indexed, len(cand))
	}
	if err := f.SetAttribute(f.carol, "sAMAccountName", []byte("caroline")); err != nil {
		t.Fatal(err)
	}
	if err := f.SetAttribute(f.alice, "mail"); err != nil {
		t.Fatal(err)
	}
	check("after modifies")
	if err := f.store.remove(systemPrincipal, f.bob); err != nil {
		t.Fatal(err)
	}
	check("after a delete")
}
