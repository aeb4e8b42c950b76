package v1alpha1_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Every condition type, condition reason and Event reason is explained in
// docs/troubleshooting.md, so that a person seeing one in kubectl finds
// what to do.
func TestEveryReasonIsDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "troubleshooting.md"))
	if err != nil {
		t.Fatal(err)
	}
	consts := apiConstants(t)
	n := 0
	for name, value := range consts {
		n++
		if !strings.Contains(string(doc), "`"+value+"`") && !strings.Contains(string(doc), "**`"+value+"`**") {
			t.Errorf("%s (%q) is not explained in docs/troubleshooting.md", name, value)
		}
	}
	if n < 60 {
		t.Fatalf("found only %d reasons in conditions.go", n)
	}
}

// The API says only what the operator does: every condition type, reason
// and Event reason is used by the code that sets conditions and emits
// Events, none is only documented.
func TestEveryReasonIsEmitted(t *testing.T) {
	var src strings.Builder
	for _, dir := range []string{"controllers", "internal/match", "internal/syncfeatures", "internal/alignment"} {
		files, err := filepath.Glob(filepath.Join("..", "..", dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			src.Write(b)
		}
	}
	for name := range apiConstants(t) {
		if !strings.Contains(src.String(), "identityv1alpha1."+name) {
			t.Errorf("%s is declared and documented but no controller or rule uses it: implement it or remove it", name)
		}
	}
}

// apiConstants returns the Condition*, Reason* and Event* constants of
// conditions.go by name.
func apiConstants(t *testing.T) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "conditions.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				isAPI := strings.HasPrefix(name.Name, "Reason") || strings.HasPrefix(name.Name, "Event") || strings.HasPrefix(name.Name, "Condition")
				if !isAPI || i >= len(vs.Values) {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok {
					continue
				}
				v, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				out[name.Name] = v
			}
		}
	}
	return out
}
