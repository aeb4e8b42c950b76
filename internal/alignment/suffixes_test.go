package alignment

import (
	"reflect"
	"testing"
)

func TestPlanSuffixes(t *testing.T) {
	tests := []struct {
		name string
		in   SuffixInput
		want SuffixPlan
	}{
		{
			name: "missing suffix, Observe: reported, nothing written",
			in:   SuffixInput{Desired: []string{"contoso.com"}, Offered: []string{"corp.local"}},
			want: SuffixPlan{Missing: []string{"contoso.com"}},
		},
		{
			name: "missing suffix, Enforce: added and recorded",
			in:   SuffixInput{Desired: []string{"contoso.com"}, Offered: []string{"corp.local"}, Enforce: true},
			want: SuffixPlan{Missing: []string{"contoso.com"}, Add: []string{"contoso.com"}, Added: []string{"contoso.com"},
				Intent: []string{"contoso.com"}, OfferedAfter: []string{"corp.local", "contoso.com"}},
		},
		{
			name: "offered already (any case), by someone else: nothing to do, not recorded as ours",
			in:   SuffixInput{Desired: []string{"contoso.com"}, Offered: []string{"corp.local", "Contoso.COM"}, Alternative: []string{"Contoso.COM"}, Enforce: true},
			want: SuffixPlan{},
		},
		{
			name: "the forest's own domain name counts as offered",
			in:   SuffixInput{Desired: []string{"corp.example.com"}, Offered: []string{"corp.example.com"}, Enforce: true},
			want: SuffixPlan{},
		},
		{
			name: "ours, still declared and present: kept",
			in: SuffixInput{Desired: []string{"contoso.com"}, Offered: []string{"corp.local", "contoso.com"},
				Alternative: []string{"contoso.com"}, Added: []string{"contoso.com"}, Enforce: true},
			want: SuffixPlan{Added: []string{"contoso.com"}},
		},
		{
			name: "ours, no longer declared: removed in Enforce",
			in: SuffixInput{Desired: []string{"contoso.com"}, Offered: []string{"contoso.com", "fabrikam.com"},
				Alternative: []string{"contoso.com", "fabrikam.com"}, Added: []string{"contoso.com", "fabrikam.com"}, Enforce: true},
			want: SuffixPlan{Remove: []string{"fabrikam.com"}, Added: []string{"contoso.com"},
				Intent: []string{"contoso.com", "fabrikam.com"}, OfferedAfter: []string{"contoso.com"}},
		},
		{
			name: "ours, no longer declared, Observe: kept in the record, nothing removed",
			in: SuffixInput{Desired: []string{"contoso.com"}, Offered: []string{"contoso.com", "fabrikam.com"},
				Alternative: []string{"contoso.com", "fabrikam.com"}, Added: []string{"contoso.com", "fabrikam.com"}},
			want: SuffixPlan{Added: []string{"contoso.com", "fabrikam.com"}},
		},
		{
			name: "someone else's suffix that is not declared: never removed",
			in: SuffixInput{Desired: []string{"contoso.com"}, Offered: []string{"contoso.com", "legacy.com"},
				Alternative: []string{"contoso.com", "legacy.com"}, Added: []string{"contoso.com"}, Enforce: true},
			want: SuffixPlan{Added: []string{"contoso.com"}},
		},
		{
			name: "ours, removed by someone else while declared: forgotten, then added again",
			in: SuffixInput{Desired: []string{"contoso.com"}, Offered: []string{"corp.local"},
				Added: []string{"contoso.com"}, Enforce: true},
			want: SuffixPlan{Missing: []string{"contoso.com"}, Add: []string{"contoso.com"}, Added: []string{"contoso.com"},
				Intent: []string{"contoso.com"}, OfferedAfter: []string{"corp.local", "contoso.com"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := PlanSuffixes(tt.in)
			if !reflect.DeepEqual(norm(got), norm(tt.want)) {
				t.Errorf("PlanSuffixes =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

// norm makes nil and empty slices compare equal.
func norm(p SuffixPlan) SuffixPlan {
	f := func(x []string) []string {
		if len(x) == 0 {
			return nil
		}
		return x
	}
	return SuffixPlan{Missing: f(p.Missing), Add: f(p.Add), Remove: f(p.Remove), Added: f(p.Added), Intent: f(p.Intent), OfferedAfter: f(p.OfferedAfter)}
}
