package main

import (
	"os"
	"path/filepath"
	"testing"
)

var root = filepath.Join("..", "..")

// kubectl explain shows the schema's descriptions: every field of every
// kind has one.
func TestEveryFieldIsDescribed(t *testing.T) {
	crds, err := Load(filepath.Join(root, "config", "crd", "bases"))
	if err != nil {
		t.Fatal(err)
	}
	if len(crds) < 4 {
		t.Fatalf("found %d CRDs", len(crds))
	}
	n := 0
	for _, crd := range crds {
		for _, v := range crd.Spec.Versions {
			s := *v.Schema.OpenAPIV3Schema
			for _, f := range Fields("", s) {
				n++
				// metadata is ObjectMeta: kubectl explain takes its text
				// from the API server, not from the CRD.
				if f.Description == "" && f.Path != "metadata" {
					t.Errorf("%s.%s has no description: kubectl explain would show nothing", crd.Spec.Names.Kind, f.Path)
				}
			}
		}
	}
	if n < 100 {
		t.Fatalf("walked only %d fields", n)
	}
}

// docs/reference.md is what the generator writes from the committed CRDs.
func TestReferenceIsCurrent(t *testing.T) {
	crds, err := Load(filepath.Join(root, "config", "crd", "bases"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(root, "docs", "reference.md"))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != Render(crds) {
		t.Fatal("docs/reference.md is stale: run go run ./hack/crdref (make docs)")
	}
}
