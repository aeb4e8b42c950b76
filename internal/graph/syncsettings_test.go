package graph

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/entramatch/entra-match-operator/internal/cloud"
)

const docSyncFeatures = "https://learn.microsoft.com/graph/api/onpremisesdirectorysynchronization-update"

func TestSyncSettingsReadModifyWrite(t *testing.T) {
	tenantFeatures := map[string]any{}
	for i, name := range cloud.AllFeatures {
		tenantFeatures[name] = i%2 == 0 // a mix of true and false, including the flag the SDK does not model
	}
	f := newFakeCloud(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet:
			writeJSON(w, 200, map[string]any{
				"id":       fakeTenant,
				"features": tenantFeatures,
				"configuration": map[string]any{"accidentalDeletionPrevention": map[string]any{
					"synchronizationPreventionType": "enabledForCount", "alertThreshold": 500,
				}},
			})
		case http.MethodPatch:
			w.WriteHeader(http.StatusNoContent)
		}
	})
	c := f.client(nil)
	s, err := c.SyncSettings(context.Background(), fakeTenant)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for k, v := range tenantFeatures {
		want[k] = v.(bool)
	}
	if diff := cmp.Diff(want, s.Features); diff != "" {
		t.Fatalf("features read (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(&cloud.AccidentalDeletionPrevention{SynchronizationPreventionType: "enabledForCount", AlertThreshold: 500}, s.AccidentalDeletionPrevention); diff != "" {
		t.Errorf("configuration (-want +got):\n%s", diff)
	}

	// Change one flag and write back: the body must carry every flag.
	s.Features[cloud.FeatureBlockSoftMatch] = !s.Features[cloud.FeatureBlockSoftMatch]
	if err := c.UpdateSyncSettings(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	reqs := f.recorded()
	patch := reqs[len(reqs)-1]
	if patch.Method != http.MethodPatch || patch.Path != "/directory/onPremisesSynchronization/"+fakeTenant {
		t.Fatalf("request = %s %s", patch.Method, patch.Path)
	}
	var body struct {
		Features      map[string]bool `json:"features"`
		Configuration struct {
			AccidentalDeletionPrevention struct {
				SynchronizationPreventionType string `json:"synchronizationPreventionType"`
				AlertThreshold                int32  `json:"alertThreshold"`
			} `json:"accidentalDeletionPrevention"`
		} `json:"configuration"`
	}
	if err := json.Unmarshal(patch.Body, &body); err != nil {
		t.Fatalf("body %s: %v", patch.Body, err)
	}
	want[cloud.FeatureBlockSoftMatch] = !want[cloud.FeatureBlockSoftMatch]
	if diff := cmp.Diff(want, body.Features); diff != "" {
		t.Errorf("wire features (-want +got), doc %s:\n%s", docSyncFeatures, diff)
	}
	for _, name := range cloud.AllFeatures {
		if _, ok := body.Features[name]; !ok {
			t.Errorf("wire body lacks %s", name)
		}
	}
	if body.Configuration.AccidentalDeletionPrevention.SynchronizationPreventionType != "enabledForCount" ||
		body.Configuration.AccidentalDeletionPrevention.AlertThreshold != 500 {
		t.Errorf("configuration not sent back: %s", patch.Body)
	}
}

func TestSyncPatchBody(t *testing.T) {
	all := map[string]bool{}
	for _, name := range cloud.AllFeatures {
		all[name] = false
	}
	partial := map[string]bool{cloud.FeatureBlockSoftMatch: true}
	tests := []struct {
		name       string
		in         cloud.SyncSettings
		wantErr    bool
		wantConfig bool
	}{
		{"complete", cloud.SyncSettings{ID: "t", Features: all}, false, false},
		{"partial features refused", cloud.SyncSettings{ID: "t", Features: partial}, true, false},
		{"no id refused", cloud.SyncSettings{Features: all}, true, false},
		{"known prevention type sent", cloud.SyncSettings{ID: "t", Features: all, AccidentalDeletionPrevention: &cloud.AccidentalDeletionPrevention{SynchronizationPreventionType: "disabled"}}, false, true},
		{"unknown prevention type left out", cloud.SyncSettings{ID: "t", Features: all, AccidentalDeletionPrevention: &cloud.AccidentalDeletionPrevention{SynchronizationPreventionType: "unknownFutureValue"}}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, err := syncPatchBody(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v (doc: %s)", err, tt.wantErr, docSyncFeatures)
			}
			if err == nil && (body.Configuration != nil) != tt.wantConfig {
				t.Errorf("configuration present = %v, want %v", body.Configuration != nil, tt.wantConfig)
			}
		})
	}
}

// Every documented flag must be read either through the SDK model or from
// its additional data; only the one v1.89 lacks may use the latter.
func TestFeatureGettersCoverAllButNewFlags(t *testing.T) {
	var missing []string
	for _, name := range cloud.AllFeatures {
		if _, ok := featureGetter(name); !ok {
			missing = append(missing, name)
		}
	}
	if diff := cmp.Diff([]string{cloud.FeatureAllowOnPremUpdateOfOnPremisesObjectIdentifier}, missing); diff != "" {
		t.Errorf("flags without an SDK getter (-want +got):\n%s", diff)
	}
}
