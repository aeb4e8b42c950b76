// Command crdref writes docs/reference.md from the generated CRDs in
// config/crd/bases: every field of every kind with its type, default,
// validation (schema limits and the CEL rules' messages) and description.
// make verify runs it and fails when the committed page differs.
//
//	go run ./hack/crdref [-o docs/reference.md]
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"
)

func main() {
	out := flag.String("o", "docs/reference.md", "where to write the reference")
	dir := flag.String("crds", "config/crd/bases", "directory of the CRD manifests")
	flag.Parse()
	crds, err := Load(*dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "crdref:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, []byte(Render(crds)), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "crdref:", err)
		os.Exit(1)
	}
}

// Load reads every CRD manifest of dir, sorted by kind.
func Load(dir string) ([]apiextensionsv1.CustomResourceDefinition, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	var crds []apiextensionsv1.CustomResourceDefinition
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var crd apiextensionsv1.CustomResourceDefinition
		if err := yaml.Unmarshal(b, &crd); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		crds = append(crds, crd)
	}
	sort.Slice(crds, func(i, j int) bool { return crds[i].Spec.Names.Kind < crds[j].Spec.Names.Kind })
	return crds, nil
}

// Field is one row of the reference.
type Field struct {
	Path, Type, Default, Validation, Description string
}

// Fields walks a schema depth first, spec before status, in the order the
// schema lists properties (alphabetical, as controller-gen writes them).
func Fields(prefix string, s apiextensionsv1.JSONSchemaProps) []Field {
	var out []Field
	names := make([]string, 0, len(s.Properties))
	for n := range s.Properties {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return order(names[i]) < order(names[j]) })
	req := map[string]bool{}
	for _, r := range s.Required {
		req[r] = true
	}
	for _, n := range names {
		p := s.Properties[n]
		path := n
		if prefix != "" {
			path = prefix + "." + n
		}
		out = append(out, Field{Path: path, Type: typeOf(p), Default: defaultOf(p), Validation: validation(p, req[n]),
			Description: oneLine(p.Description)})
		switch {
		case p.Type == "object" && len(p.Properties) > 0:
			out = append(out, Fields(path, p)...)
		case p.Type == "array" && p.Items != nil && p.Items.Schema != nil && len(p.Items.Schema.Properties) > 0:
			out = append(out, Fields(path+"[]", *p.Items.Schema)...)
		}
	}
	return out
}

// order puts spec first and status last at the top level.
func order(name string) string {
	switch name {
	case "apiVersion", "kind", "metadata":
		return "0" + name
	case "spec":
		return "1"
	case "status":
		return "9"
	}
	return "5" + name
}

func typeOf(p apiextensionsv1.JSONSchemaProps) string {
	switch {
	case p.Type == "array" && p.Items != nil && p.Items.Schema != nil:
		return "[]" + typeOf(*p.Items.Schema)
	case p.Type == "string" && p.Format != "":
		return "string (" + p.Format + ")"
	case p.Type == "" && p.XIntOrString:
		return "int or string"
	case p.Type == "object" && p.AdditionalProperties != nil && p.AdditionalProperties.Schema != nil:
		return "map[string]" + typeOf(*p.AdditionalProperties.Schema)
	}
	return p.Type
}

func defaultOf(p apiextensionsv1.JSONSchemaProps) string {
	if p.Default == nil {
		return ""
	}
	return "`" + string(p.Default.Raw) + "`"
}

func validation(p apiextensionsv1.JSONSchemaProps, required bool) string {
	var v []string
	if required {
		v = append(v, "required")
	}
	if len(p.Enum) > 0 {
		vals := make([]string, 0, len(p.Enum))
		for _, e := range p.Enum {
			vals = append(vals, string(e.Raw))
		}
		v = append(v, "one of "+strings.Join(vals, ", "))
	}
	if p.MinLength != nil {
		v = append(v, fmt.Sprintf("min length %d", *p.MinLength))
	}
	if p.MaxLength != nil {
		v = append(v, fmt.Sprintf("max length %d", *p.MaxLength))
	}
	if p.MinItems != nil {
		v = append(v, fmt.Sprintf("min items %d", *p.MinItems))
	}
	if p.MaxItems != nil {
		v = append(v, fmt.Sprintf("max items %d", *p.MaxItems))
	}
	if p.Minimum != nil {
		v = append(v, fmt.Sprintf("minimum %v", *p.Minimum))
	}
	if p.Maximum != nil {
		v = append(v, fmt.Sprintf("maximum %v", *p.Maximum))
	}
	if p.Pattern != "" {
		v = append(v, "pattern `"+p.Pattern+"`")
	}
	for _, r := range p.XValidations {
		msg := r.Message
		if msg == "" {
			msg = "rule `" + r.Rule + "`"
		}
		v = append(v, msg)
	}
	return oneLine(strings.Join(v, "; "))
}

// oneLine keeps a description in one table cell.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return strings.ReplaceAll(s, "|", "\\|")
}

// Render writes the reference page.
func Render(crds []apiextensionsv1.CustomResourceDefinition) string {
	var b strings.Builder
	b.WriteString("# API reference\n\n")
	b.WriteString("<!-- Generated from config/crd/bases by `go run ./hack/crdref`; make verify fails when it is stale. Do not edit. -->\n\n")
	b.WriteString("Every field of every kind, as the API server validates it. `kubectl explain <kind>.<field>` shows the\n")
	b.WriteString("same descriptions.\n")
	for _, crd := range crds {
		for _, v := range crd.Spec.Versions {
			if v.Schema == nil || v.Schema.OpenAPIV3Schema == nil {
				continue
			}
			s := *v.Schema.OpenAPIV3Schema
			fmt.Fprintf(&b, "\n## %s\n\n`%s/%s`, %s-scoped", crd.Spec.Names.Kind, crd.Spec.Group, v.Name, strings.ToLower(string(crd.Spec.Scope)))
			if len(crd.Spec.Names.ShortNames) > 0 {
				fmt.Fprintf(&b, ", short names %s", strings.Join(crd.Spec.Names.ShortNames, ", "))
			}
			b.WriteString(".\n\n" + oneLine(s.Description) + "\n")
			b.WriteString("\n| Field | Type | Default | Validation | Description |\n|---|---|---|---|---|\n")
			for _, f := range Fields("", s) {
				if f.Path == "apiVersion" || f.Path == "kind" || f.Path == "metadata" {
					continue
				}
				fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", f.Path, f.Type, f.Default, f.Validation, f.Description)
			}
		}
	}
	return b.String()
}
