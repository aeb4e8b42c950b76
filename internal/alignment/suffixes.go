// Package alignment holds the rules that make soft matching work by itself:
// the forest offering the mail domain as a UPN suffix, and (later) users'
// sign-in names moved onto it. Pure functions, table-tested; the
// controllers read, call them, and make the writes they decide.
//
// Source: Microsoft's "Configuring Microsoft Entra ID to use UPN suffixes"
// guidance (plan-connect-userprincipalname): a UPN whose suffix is not a
// verified domain is rewritten to the tenant's onmicrosoft.com domain, so an
// alternative UPN suffix for the mail domain is added to the forest in
// Active Directory Domains and Trusts (uPNSuffixes on CN=Partitions).
package alignment

import (
	"sort"
	"strings"
)

// SuffixInput is what the forest offers now and what was declared.
type SuffixInput struct {
	// Desired are the declared suffixes.
	Desired []string
	// Offered are all suffixes the forest offers: its domains' DNS names and
	// the alternative suffixes.
	Offered []string
	// Alternative are the values of uPNSuffixes on CN=Partitions, the only
	// ones that can be added or removed.
	Alternative []string
	// Added are the suffixes the operator recorded as added by it.
	Added []string
	// Enforce lets the plan write; otherwise it only reports.
	Enforce bool
}

// SuffixPlan is the decision.
type SuffixPlan struct {
	// Missing are declared suffixes the forest does not offer.
	Missing []string
	// Add and Remove are the writes, in Enforce only. Remove only ever
	// names suffixes the operator added that left the declaration.
	Add, Remove []string
	// Added is the record to keep once the writes succeed.
	Added []string
	// Intent is the record to persist before writing: what will be added,
	// and what is still the operator's until its removal succeeds.
	Intent []string
	// OfferedAfter is what the forest offers once the writes succeed.
	OfferedAfter []string
}

// PlanSuffixes decides which alternative UPN suffixes to add and remove.
// Suffixes compare case-insensitively, as AD and Entra compare them. A
// suffix someone else added is never recorded as the operator's, and one
// the operator added that someone else removed is forgotten (and added
// again while it is declared).
func PlanSuffixes(in SuffixInput) SuffixPlan {
	offered := set(in.Offered)
	alternative := set(in.Alternative)
	desired := set(in.Desired)
	var p SuffixPlan
	for _, d := range sorted(in.Desired) {
		if !offered[key(d)] {
			p.Missing = append(p.Missing, d)
		}
	}
	var kept []string
	for _, a := range sorted(in.Added) {
		switch {
		case !alternative[key(a)]:
			// Gone already: not ours to remember.
		case desired[key(a)]:
			kept = append(kept, a)
		default:
			p.Remove = append(p.Remove, a)
		}
	}
	if !in.Enforce {
		p.Remove = nil
		p.Added = append(kept, notIn(in.Added, kept, alternative)...)
		return p
	}
	p.Add = append([]string(nil), p.Missing...)
	p.Added = sorted(append(kept, p.Add...))
	if len(p.Add)+len(p.Remove) > 0 {
		p.Intent = sorted(append(append([]string(nil), p.Added...), p.Remove...))
		removed := set(p.Remove)
		for _, o := range in.Offered {
			if !removed[key(o)] {
				p.OfferedAfter = append(p.OfferedAfter, o)
			}
		}
		p.OfferedAfter = append(p.OfferedAfter, p.Add...)
	}
	return p
}

// notIn keeps, in Observe, the recorded suffixes that are still in the
// forest but no longer declared: only Enforce may act on them, so the
// record keeps them until then.
func notIn(added, kept []string, alternative map[string]bool) []string {
	k := set(kept)
	var out []string
	for _, a := range sorted(added) {
		if !k[key(a)] && alternative[key(a)] {
			out = append(out, a)
		}
	}
	return out
}

func key(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func set(xs []string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[key(x)] = true
	}
	return m
}

func sorted(xs []string) []string {
	out := append([]string(nil), xs...)
	sort.Slice(out, func(i, j int) bool { return key(out[i]) < key(out[j]) })
	return out
}
