package graphapi

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/entramatch/entra-match-operator/internal/emulator/tenant"
)

const (
	docSync                = "https://learn.microsoft.com/en-us/graph/api/onpremisesdirectorysynchronization-update"
	docSyncServiceFeatures = "https://learn.microsoft.com/entra/identity/hybrid/connect/how-to-connect-syncservice-features"
)

// TestSyncPartialPatchKeepsOmittedFlags follows Graph's PATCH rule and the
// one-flag examples of the update page and of the sync service features
// page: flags omitted from a partial features object keep their values.
func TestSyncPartialPatchKeepsOmittedFlags(t *testing.T) {
	cur := tenant.SyncFeatures{BlockSoftMatchEnabled: true, PasswordSyncEnabled: true, PasswordWritebackEnabled: true,
		SoftMatchOnUpnEnabled: true, SynchronizeUpnForManagedUsersEnabled: true}
	tests := []struct {
		name string
		doc  string
		body string
		want func(*tenant.SyncFeatures)
		err  string
	}{
		{"one flag on, the others kept", docSync, `{"userWritebackEnabled":true}`,
			func(f *tenant.SyncFeatures) { f.UserWritebackEnabled = true }, ""},
		{"one flag off, the others kept", docSyncServiceFeatures + "#blocksoftmatch", `{"blockSoftMatchEnabled":false}`,
			func(f *tenant.SyncFeatures) { f.BlockSoftMatchEnabled = false }, ""},
		{"the same value of passwordWriteback is accepted", docSync, `{"passwordWritebackEnabled":true}`, nil, ""},
		{"empty features change nothing", docSync, `{}`, nil, ""},
		{"softMatchOnUpn cannot be turned off explicitly", docSyncServiceFeatures, `{"softMatchOnUpnEnabled":false}`, nil,
			"Property 'softMatchOnUpnEnabled' cannot be disabled once it has been enabled."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := applySyncPatch(tenant.SyncState{Features: cur}, map[string]json.RawMessage{"features": json.RawMessage(tt.body)})
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := cur
			if tt.want != nil {
				tt.want(&want)
			}
			if d := cmp.Diff(want, got.Features); d != "" {
				t.Errorf("features (-want +got):\n%s", d)
			}
		})
	}
}
