package emulator

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/entramatch/entra-match-operator/internal/emulator/syncrules"
)

// TestSyncSoftMatchConflictModes follows tshoot-connect-sync-errors
// (InvalidSoftMatch): "If Microsoft Entra attribute duplicate attribute
// resiliency is enabled for your tenant, you won't see the InvalidSoftMatch
// synchronization errors seen during provisioning of new objects", and
// resiliency cannot be turned off. The default provisions the new object
// with its colliding values quarantined; the other readings are switches.
func TestSyncSoftMatchConflictModes(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		mode syncrules.SoftMatchConflictMode
		want syncWant
	}{
		{"default: duplicate attribute resiliency", docSyncErrors + "#invalidsoftmatch", "", syncWant{OutcomeCreated, newObject, ""}},
		{"explicit quarantine", docResiliency, syncrules.ConflictQuarantine, syncWant{OutcomeCreated, newObject, ""}},
		{"switch: InvalidSoftMatch", docSyncErrors + "#invalidsoftmatch", syncrules.ConflictInvalidSoftMatch,
			syncWant{OutcomeError, idGrace, syncrules.CodeInvalidSoftMatch}},
		{"switch: AttributeValueMustBeUnique", docSyncErrors, syncrules.ConflictAttributeValueMustBeUnique,
			syncWant{OutcomeError, idGrace, syncrules.CodeAttributeValueMustBeUnique}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, withSync(SyncOptions{SoftMatchConflict: tt.mode, QuarantineSuffix: fixedSuffix()}))
			snap := syncFixture(h)
			if err := h.srv.Replace(snap); err != nil {
				t.Fatal(err)
			}
			got, _ := postSync(t, h, SyncRequest{Objects: []SyncObject{userExport("T3RoZXI=", "grace", "SMTP:grace@contoso.com")}}, knownIDs(snap))
			if diff := cmp.Diff([]syncWant{tt.want}, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestQuarantineRelease follows
// how-to-connect-syncservice-duplicate-attribute-resiliency: "A background
// timer task has been enabled in Microsoft Entra ID that runs every hour to
// look for duplicate attribute conflicts that have been resolved, and
// automatically removes the attributes in question from quarantine."
func TestQuarantineRelease(t *testing.T) {
	type step func(h *harness)
	deleteAlice := func(h *harness) { h.mustStatus(h.graph(userOnlyApp, http.MethodDelete, "/users/"+idAlice, nil), 204) }
	advance := func(d time.Duration) step { return func(h *harness) { h.clock.Advance(d) } }
	force := func(h *harness) { h.srv.ReleaseQuarantined() }
	viaAdmin := func(h *harness) {
		res := h.send(http.MethodPost, "/_emulator/release-quarantined", "", nil, nil)
		h.mustStatus(res, 200)
	}
	released := map[string]any{"userPrincipalName": "alice@" + testVanity, "mail": "alice@" + testVanity,
		"proxyAddresses": []any{"SMTP:alice@" + testVanity}, "onPremisesProvisioningErrors": []any{}}
	tests := []struct {
		name     string
		doc      string
		interval time.Duration
		steps    []step
		released bool
	}{
		{"released within the hour after the conflict is gone", docResiliency, 0, []step{deleteAlice, advance(time.Hour)}, true},
		{"not before the task runs", docResiliency, 0, []step{deleteAlice, advance(59 * time.Minute)}, false},
		{"not while the other object still holds the values", docResiliency, 0, []step{advance(3 * time.Hour)}, false},
		{"a run before the conflict is gone waits for the next one", docResiliency, 0,
			[]step{advance(time.Hour), force, deleteAlice, advance(30 * time.Minute)}, false},
		{"ReleaseQuarantined runs the task at once", docResiliency, 0, []step{deleteAlice, force}, true},
		{"so does the admin endpoint", docResiliency, 0, []step{deleteAlice, viaAdmin}, true},
		{"a custom interval", docResiliency, 5 * time.Minute, []step{deleteAlice, advance(5 * time.Minute)}, true},
		{"switched off: only on demand", docResiliency, -1, []step{deleteAlice, advance(24 * time.Hour)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, withSync(SyncOptions{QuarantineSuffix: fixedSuffix(), QuarantineReleaseInterval: tt.interval}))
			snap := syncFixture(h)
			snap.Sync.Features.BlockSoftMatchEnabled = true
			if err := h.srv.Replace(snap); err != nil {
				t.Fatal(err)
			}
			// The timer task's last run is the start of the test.
			h.srv.ReleaseQuarantined()
			got, resp := postSync(t, h, SyncRequest{Objects: []SyncObject{userExport("QWxpY2U=", "alice", "SMTP:alice@contoso.com")}}, knownIDs(snap))
			if diff := cmp.Diff([]syncWant{{OutcomeCreated, newObject, ""}}, got); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
			id := resp.Results[0].ObjectID
			for _, s := range tt.steps {
				s(h)
			}
			user := selectUser(h, id, "userPrincipalName,mail,proxyAddresses,onPremisesProvisioningErrors")
			delete(user, "@odata.context")
			if tt.released {
				if diff := cmp.Diff(released, user); diff != "" {
					t.Errorf("after release (-want +got):\n%s", diff)
				}
				return
			}
			errs, _ := user["onPremisesProvisioningErrors"].([]any)
			if user["userPrincipalName"] != "alice+0042@"+testDomain || len(errs) != 2 {
				raw, _ := json.Marshal(user)
				t.Errorf("released too early: %s", raw)
			}
		})
	}
}
