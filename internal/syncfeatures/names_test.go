package syncfeatures

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/cloud"
)

// The API and the cloud contract each list Graph's flag names (the API for
// specs and CEL, the contract for the wire); they must be the same list.
func TestFeatureNamesAgree(t *testing.T) {
	var api []string
	for _, f := range identityv1alpha1.AllSyncFeatures() {
		api = append(api, string(f))
	}
	if d := cmp.Diff(cloud.AllFeatures, api); d != "" {
		t.Errorf("feature names differ (-cloud +api):\n%s", d)
	}
}
