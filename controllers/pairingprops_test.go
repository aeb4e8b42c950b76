package controllers

import (
	"encoding/json"
	"os"
	"slices"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"

	"github.com/entramatch/entra-match-operator/internal/cloud"
)

// The UserMatchSet CRD admits exactly the cloud properties the operator
// can select and read: one the CRD admitted and the reconciler did not know
// would pair nothing, silently.
func TestCRDAdmitsEveryPairingPropertyAndNoOther(t *testing.T) {
	raw, err := os.ReadFile("../config/crd/bases/identity.entramatch.io_usermatchsets.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var crd apiextensionsv1.CustomResourceDefinition
	if err := yaml.Unmarshal(raw, &crd); err != nil {
		t.Fatal(err)
	}
	s := crd.Spec.Versions[0].Schema.OpenAPIV3Schema
	for _, step := range []string{"spec", "pairing", "attribute", "cloud"} {
		if s.Items != nil {
			s = s.Items.Schema
		}
		next, ok := s.Properties[step]
		if !ok {
			t.Fatalf("no %s in the schema", step)
		}
		s = &next
	}
	var admitted []string
	for _, e := range s.Enum {
		var v string
		if err := json.Unmarshal(e.Raw, &v); err != nil {
			t.Fatal(err)
		}
		admitted = append(admitted, v)
		if _, ok := cloud.PairingSelect(v); !ok {
			t.Errorf("the CRD admits %q, which the operator cannot read", v)
		}
	}
	if !slices.Equal(admitted, cloud.PairingProperties) {
		t.Errorf("CRD enum %v, operator's pairing properties %v", admitted, cloud.PairingProperties)
	}
	for _, bad := range []string{"extensionAttribute0", "extensionAttribute16", "extensionAttribute01", "ExtensionAttribute1", "displayName", ""} {
		if g, ok := cloud.PairingSelect(bad); ok {
			t.Errorf("PairingSelect(%q) = %q, want refused", bad, g)
		}
	}
}
