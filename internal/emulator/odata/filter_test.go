package odata

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseFilter(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Expr
		doc  string
	}{
		{
			name: "upn eq",
			in:   "userPrincipalName eq 'a@contoso.com'",
			want: Compare{Property: "userPrincipalName", Op: "eq", Value: Literal{Kind: KindString, Str: "a@contoso.com"}},
			doc:  "https://learn.microsoft.com/en-us/graph/filter-query-parameter",
		},
		{
			name: "quote escaped by doubling",
			in:   "displayName eq 'O''Brien'",
			want: Compare{Property: "displayName", Op: "eq", Value: Literal{Kind: KindString, Str: "O'Brien"}},
			doc:  "https://learn.microsoft.com/en-us/graph/query-parameters#escaping-single-quotes",
		},
		{
			name: "any lambda on proxyAddresses",
			in:   "proxyAddresses/any(p:p eq 'smtp:a@contoso.com')",
			want: Any{Collection: "proxyAddresses", Var: "p", Op: "eq", Value: Literal{Kind: KindString, Str: "smtp:a@contoso.com"}},
			doc:  "https://learn.microsoft.com/en-us/graph/filter-query-parameter#filter-using-lambda-operators",
		},
		{
			name: "and of two, keywords case-insensitive",
			in:   "mail eq 'x@y' AND accountEnabled eq true",
			want: Logical{Op: "and",
				Left:  Compare{Property: "mail", Op: "eq", Value: Literal{Kind: KindString, Str: "x@y"}},
				Right: Compare{Property: "accountEnabled", Op: "eq", Value: Literal{Kind: KindBool, Bool: true}}},
			doc: "https://learn.microsoft.com/en-us/graph/filter-query-parameter",
		},
		{
			name: "and binds tighter than or",
			in:   "a eq 1 or b eq null and c ne -2",
			want: Logical{Op: "or",
				Left: Compare{Property: "a", Op: "eq", Value: Literal{Kind: KindNumber, Number: 1}},
				Right: Logical{Op: "and",
					Left:  Compare{Property: "b", Op: "eq", Value: Literal{Kind: KindNull}},
					Right: Compare{Property: "c", Op: "ne", Value: Literal{Kind: KindNumber, Number: -2}}}},
		},
		{
			name: "parentheses and nested path",
			in:   "(onPremisesExtensionAttributes/extensionAttribute1 eq 'x')",
			want: Compare{Property: "onPremisesExtensionAttributes/extensionAttribute1", Op: "eq", Value: Literal{Kind: KindString, Str: "x"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseFilter(tt.in)
			if err != nil {
				t.Fatalf("ParseFilter(%q): %v", tt.in, err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("ParseFilter(%q) mismatch (-want +got):\n%s", tt.in, d)
			}
		})
	}
}

func TestParseFilterErrors(t *testing.T) {
	for _, in := range []string{
		"", "   ", "userPrincipalName", "userPrincipalName eq", "userPrincipalName eq 'x",
		"userPrincipalName gt 'x'", "eq eq 'x'", "a eq 'x' and", "(a eq 'x'", "a eq 'x')",
		"p/any(p:q eq 'x')", "p/any(p p eq 'x')", "a eq 'x' #", "a eq b", "a eq 99999999999999999999",
		"a eq -", "a/ eq 'x'",
	} {
		_, err := ParseFilter(in)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("ParseFilter(%q) = %v, want *SyntaxError", in, err)
		}
	}
}

func TestParseFilterDepthLimit(t *testing.T) {
	in := ""
	for i := 0; i < maxDepth+1; i++ {
		in += "("
	}
	in += "a eq 1"
	for i := 0; i < maxDepth+1; i++ {
		in += ")"
	}
	if _, err := ParseFilter(in); err == nil {
		t.Fatal("want error for excessive nesting")
	}
}

func TestParseSelect(t *testing.T) {
	got, err := ParseSelect("id, userPrincipalName ,onPremisesImmutableId")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"id", "userPrincipalName", "onPremisesImmutableId"}, got); d != "" {
		t.Error(d)
	}
	for _, bad := range []string{"", "id,,mail", "id,ma il", "1abc"} {
		if _, err := ParseSelect(bad); err == nil {
			t.Errorf("ParseSelect(%q): want error", bad)
		}
	}
}

// FuzzParseFilter checks that the parser never panics and that whatever it
// accepts survives a print/parse round trip unchanged.
func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{
		"userPrincipalName eq 'a@contoso.com'",
		"proxyAddresses/any(p:p eq 'smtp:a@b.c')",
		"onPremisesImmutableId eq 'BpazOkLGm0iEtljAONPvOQ==' and accountEnabled eq true",
		"(a eq 1) or (b ne null)",
		"x eq 'it''s'",
		"((((",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		e, err := ParseFilter(in)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("non-syntax error %T: %v", err, err)
			}
			return
		}
		printed := e.String()
		again, err := ParseFilter(printed)
		if err != nil {
			t.Fatalf("reparse of %q (from %q) failed: %v", printed, in, err)
		}
		if again.String() != printed {
			t.Fatalf("round trip changed %q into %q", printed, again.String())
		}
	})
}
