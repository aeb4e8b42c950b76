package e2e_test

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus/testutil"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/anchor"
	"github.com/entramatch/entra-match-operator/internal/emulator"
	"github.com/entramatch/entra-match-operator/internal/emulator/faults"
	"github.com/entramatch/entra-match-operator/internal/metrics"
	"github.com/entramatch/entra-match-operator/internal/testenv/samba"
)

// syncTenant is an emulated tenant of its own, with an EntraTenant for it.
// Each test gets one so that tests do not share flags; unlike the shared
// tenant, it lets app-only tokens manage its synchronization settings.
type syncTenant struct {
	em   *emulator.Server
	name string // of the EntraTenant
}

func (w *world) newSyncTenant(t *testing.T, mutate ...func(*emulator.Config)) *syncTenant {
	t.Helper()
	id := uuid.NewString()
	cfg := emulator.Config{
		TenantID:            id,
		InitialDomain:       "fabrikam.onmicrosoft.com",
		AppOnlySyncFeatures: true,
		OwnAudienceOnly:     true,
		OnSecret:            func(v string) { w.scan.secret(v, "a credential a sync tenant's emulator issued") },
		Apps: []emulator.App{{ClientID: clientID, Secret: clientSecret, Permissions: []string{
			"User.ReadWrite.All", "Domain.Read.All", "Organization.Read.All", "OnPremDirectorySynchronization.ReadWrite.All",
		}}},
		State: &emulator.Snapshot{
			Organization: emulator.Organization{DisplayName: "Fabrikam"},
			Domains: []emulator.Domain{
				{ID: "fabrikam.onmicrosoft.com", IsInitial: true, IsVerified: true, AuthenticationType: "Managed"},
				{ID: w.dc.DNSDomain, IsDefault: true, IsVerified: true, AuthenticationType: "Managed"},
			},
			Sync: emulator.DefaultSyncState(),
		},
	}
	for _, m := range mutate {
		m(&cfg)
	}
	em, err := emulator.New(cfg)
	if err != nil {
		t.Fatalf("emulator: %v", err)
	}
	certDir, err := os.MkdirTemp("", "e2e-tsf-")
	if err != nil {
		t.Fatal(err)
	}
	if err := em.Start("127.0.0.1:0", certDir); err != nil {
		t.Fatalf("starting emulator: %v", err)
	}
	t.Cleanup(func() { _ = em.Close(); _ = os.RemoveAll(certDir) })
	st := &syncTenant{em: em, name: strings.ToLower(samba.UniqueName(t, "fabrikam"))}
	w.create(t, &identityv1alpha1.EntraTenant{
		ObjectMeta: metav1.ObjectMeta{Name: st.name},
		Spec: identityv1alpha1.EntraTenantSpec{
			TenantID: id,
			Cloud:    identityv1alpha1.CloudCustom,
			Custom:   &identityv1alpha1.CustomCloud{GraphURL: em.URL() + "/v1.0", AuthorityURL: em.URL(), CABundle: string(em.CACertPEM())},
			Credentials: identityv1alpha1.TenantCredentials{ClientSecret: &identityv1alpha1.ClientSecretCredential{
				ClientID:  clientID,
				SecretRef: identityv1alpha1.SecretKeyReference{Name: "entra-app", Namespace: ns, Key: "clientSecret"},
			}},
		},
	})
	return st
}

// flags reads the tenant's flags from the emulator's state, bypassing Graph.
func (st *syncTenant) flags(t *testing.T) map[string]bool {
	t.Helper()
	raw, err := json.Marshal(st.em.Snapshot().Sync.Features)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// setFlags changes flags behind the operator's back, as a person in the
// portal or with PowerShell would.
func (st *syncTenant) setFlags(t *testing.T, set map[identityv1alpha1.SyncFeature]bool) {
	t.Helper()
	err := st.em.Update(func(s *emulator.Snapshot) error {
		raw, err := json.Marshal(s.Sync.Features)
		if err != nil {
			return err
		}
		m := map[string]bool{}
		if err := json.Unmarshal(raw, &m); err != nil {
			return err
		}
		for f, v := range set {
			m[string(f)] = v
		}
		if raw, err = json.Marshal(m); err != nil {
			return err
		}
		return json.Unmarshal(raw, &s.Sync.Features)
	})
	if err != nil {
		t.Fatalf("changing tenant flags: %v", err)
	}
}

func (w *world) syncFeatures(t *testing.T, tenant, name string, mut func(*identityv1alpha1.TenantSyncFeaturesSpec)) *identityv1alpha1.TenantSyncFeatures {
	t.Helper()
	tsf := &identityv1alpha1.TenantSyncFeatures{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       identityv1alpha1.TenantSyncFeaturesSpec{TenantRef: identityv1alpha1.TenantReference{Name: tenant}},
	}
	if mut != nil {
		mut(&tsf.Spec)
	}
	w.create(t, tsf)
	return tsf
}

func (w *world) waitTSF(t *testing.T, name, what string, ok func(*identityv1alpha1.TenantSyncFeatures) bool) *identityv1alpha1.TenantSyncFeatures {
	t.Helper()
	var tsf identityv1alpha1.TenantSyncFeatures
	eventually(t, func() (bool, string) {
		err := w.k8s.Get(ctxFor(t), types.NamespacedName{Name: name}, &tsf)
		return err == nil && ok(&tsf), fmt.Sprintf("TenantSyncFeatures %s: timed out waiting for %s; err=%v status=%s\n  windows=%+v differences=%+v",
			name, what, err, describeStatus(tsf.Status.Conditions), tsf.Status.Windows, tsf.Status.Differences)
	})
	return &tsf
}

func tsfCond(tsf *identityv1alpha1.TenantSyncFeatures, typ string, status metav1.ConditionStatus, reason string) bool {
	c := meta.FindStatusCondition(tsf.Status.Conditions, typ)
	return c != nil && c.Status == status && (reason == "" || c.Reason == reason) && c.ObservedGeneration == tsf.Generation
}

func tsfReady(tsf *identityv1alpha1.TenantSyncFeatures) bool {
	return tsfCond(tsf, identityv1alpha1.ConditionReady, metav1.ConditionTrue, "")
}

// tsfEvents lists the Events recorded for a TenantSyncFeatures.
func (w *world) tsfEvents(t *testing.T, name string) []eventsv1.Event {
	t.Helper()
	return w.eventsFor(t, "TenantSyncFeatures", name)
}

func (w *world) waitTSFEvent(t *testing.T, name, reason, contains string) eventsv1.Event {
	t.Helper()
	var found eventsv1.Event
	eventually(t, func() (bool, string) {
		var have []string
		for _, e := range w.tsfEvents(t, name) {
			if e.Reason == reason && strings.Contains(e.Note, contains) {
				found = e
				return true, ""
			}
			have = append(have, e.Reason+": "+e.Note)
		}
		return false, fmt.Sprintf("no Event %s containing %q for TenantSyncFeatures %s; have %q", reason, contains, name, have)
	})
	return found
}

// deleteAndWait deletes obj and waits until its finalizer has run.
func (w *world) deleteAndWait(t *testing.T, obj client.Object) {
	t.Helper()
	if err := w.k8s.Delete(ctxFor(t), obj); err != nil && !apierrors.IsNotFound(err) {
		t.Fatalf("deleting %s: %v", obj.GetName(), err)
	}
	eventually(t, func() (bool, string) {
		err := w.k8s.Get(ctxFor(t), client.ObjectKeyFromObject(obj), obj)
		return apierrors.IsNotFound(err), fmt.Sprintf("%s still exists (finalizers %v): %v", obj.GetName(), obj.GetFinalizers(), err)
	})
}

func specFlags(m map[identityv1alpha1.SyncFeature]bool) *identityv1alpha1.SyncFeatureFlags {
	out := &identityv1alpha1.SyncFeatureFlags{}
	for f, v := range m {
		out.Set(f, &v)
	}
	return out
}

// governable lists the flags a spec may set to either value: not
// passwordWritebackEnabled (not updatable) nor the two one-way flags.
func governable() []identityv1alpha1.SyncFeature {
	var out []identityv1alpha1.SyncFeature
	for _, f := range identityv1alpha1.AllSyncFeatures() {
		if identityv1alpha1.UpdatableFeature(f) && !identityv1alpha1.OneWayFeature(f) {
			out = append(out, f)
		}
	}
	return out
}

// Every flag a spec may set is set, then changed behind the operator's back
// and set back within the resync, with a Warning Event and the metric.
func TestTenantSyncFeaturesSetsAndCorrectsEachFlag(t *testing.T) {
	w := env(t)
	st := w.newSyncTenant(t)
	before := st.flags(t)
	want := map[identityv1alpha1.SyncFeature]bool{identityv1alpha1.FeatureSynchronizeUpnForManagedUsers: true}
	for _, f := range governable() {
		want[f] = !before[string(f)]
	}
	name := st.name + "-all"
	w.syncFeatures(t, st.name, name, func(s *identityv1alpha1.TenantSyncFeaturesSpec) { s.Features = specFlags(want) })

	tsf := w.waitTSF(t, name, "Ready", tsfReady)
	if tsf.Status.Access != identityv1alpha1.SyncAccessApplication {
		t.Errorf("status.access = %q, want Application", tsf.Status.Access)
	}
	got := st.flags(t)
	for f, v := range want {
		if got[string(f)] != v {
			t.Errorf("%s = %v, want %v", f, got[string(f)], v)
		}
	}
	if got[string(identityv1alpha1.FeaturePasswordWriteback)] != before[string(identityv1alpha1.FeaturePasswordWriteback)] {
		t.Errorf("passwordWritebackEnabled changed")
	}
	if tsf.Status.Original == nil || tsf.Status.Corrections < 1 {
		t.Errorf("status after the first write: original=%v corrections=%d", tsf.Status.Original, tsf.Status.Corrections)
	}
	for _, f := range governable() {
		if o := tsf.Status.Original.Get(f); o == nil || *o != before[string(f)] {
			t.Errorf("original %s = %v, want %v", f, o, before[string(f)])
		}
	}

	// Drift on every flag at once.
	drift := map[identityv1alpha1.SyncFeature]bool{}
	counts := map[identityv1alpha1.SyncFeature]float64{}
	for _, f := range governable() {
		drift[f] = !want[f]
		counts[f] = testutil.ToFloat64(metrics.DriftCorrections.WithLabelValues("TenantSyncFeatures", string(f)))
	}
	st.setFlags(t, drift)
	deadline := time.Now().Add(waitTimeout)
	for {
		got := st.flags(t)
		wrong := 0
		for f, v := range want {
			if got[string(f)] != v {
				wrong++
			}
		}
		if wrong == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d flags not set back after drift", wrong)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, f := range governable() {
		w.waitTSFEvent(t, name, identityv1alpha1.ReasonDriftCorrected,
			fmt.Sprintf("%s was changed outside the operator from %t to %t; set back to %t", f, want[f], !want[f], want[f]))
		if d := testutil.ToFloat64(metrics.DriftCorrections.WithLabelValues("TenantSyncFeatures", string(f))) - counts[f]; d != 1 {
			t.Errorf("drift metric for %s grew by %v, want 1", f, d)
		}
	}
	w.waitTSF(t, name, "two corrections", func(tsf *identityv1alpha1.TenantSyncFeatures) bool {
		return tsf.Status.Corrections == 2 && tsf.Status.LastCorrectionTime != nil && tsfReady(tsf)
	})
}

// The flags that Entra does not let go back, or that Graph does not let
// change, are refused by the API server before the operator sees them.
func TestTenantSyncFeaturesIrreversibleFlagsRejectedAtAdmission(t *testing.T) {
	w := env(t)
	cases := []struct {
		name string
		spec identityv1alpha1.TenantSyncFeaturesSpec
		want string
	}{
		{"softMatchOnUpn off", identityv1alpha1.TenantSyncFeaturesSpec{
			Features: specFlags(map[identityv1alpha1.SyncFeature]bool{identityv1alpha1.FeatureSoftMatchOnUpn: false})},
			"softMatchOnUpnEnabled cannot be turned off"},
		{"synchronizeUpnForManagedUsers off", identityv1alpha1.TenantSyncFeaturesSpec{
			Features: specFlags(map[identityv1alpha1.SyncFeature]bool{identityv1alpha1.FeatureSynchronizeUpnForManagedUsers: false})},
			"synchronizeUpnForManagedUsersEnabled cannot be turned off"},
		{"passwordWriteback at all", identityv1alpha1.TenantSyncFeaturesSpec{
			Features: specFlags(map[identityv1alpha1.SyncFeature]bool{identityv1alpha1.FeaturePasswordWriteback: true})},
			"passwordWritebackEnabled is not updatable"},
		{"a window turning softMatchOnUpn off", identityv1alpha1.TenantSyncFeaturesSpec{
			MatchingWindows: []identityv1alpha1.MatchingWindow{{Name: "w", Feature: identityv1alpha1.WindowFeature(identityv1alpha1.FeatureSoftMatchOnUpn),
				Value: false, Duration: &metav1.Duration{Duration: time.Hour}}}},
			"can only set them to true"},
		{"a window without an end", identityv1alpha1.TenantSyncFeaturesSpec{
			MatchingWindows: []identityv1alpha1.MatchingWindow{{Name: "w", Feature: identityv1alpha1.WindowFeature(identityv1alpha1.FeatureBlockSoftMatch)}}},
			"exactly one of until and duration"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.spec.TenantRef.Name = "contoso"
			tsf := &identityv1alpha1.TenantSyncFeatures{ObjectMeta: metav1.ObjectMeta{Name: "rejected"}, Spec: tc.spec}
			err := w.k8s.Create(ctxFor(t), tsf)
			if err == nil {
				_ = w.k8s.Delete(ctxFor(t), tsf)
				t.Fatalf("the API server accepted %s", tc.name)
			}
			if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want Invalid mentioning %q", err, tc.want)
			}
		})
	}
}

func TestTenantSyncFeaturesPartialSpecLeavesOtherFlagsAlone(t *testing.T) {
	w := env(t)
	st := w.newSyncTenant(t)
	st.setFlags(t, map[identityv1alpha1.SyncFeature]bool{
		identityv1alpha1.FeaturePasswordSync:        true,
		identityv1alpha1.FeatureDeviceWriteback:     true,
		identityv1alpha1.FeatureUserWriteback:       true,
		identityv1alpha1.FeatureDirectoryExtensions: true,
	})
	before := st.flags(t)
	name := st.name + "-partial"
	w.syncFeatures(t, st.name, name, func(s *identityv1alpha1.TenantSyncFeaturesSpec) {
		s.Features = specFlags(map[identityv1alpha1.SyncFeature]bool{identityv1alpha1.FeatureBlockSoftMatch: true})
	})
	w.waitTSF(t, name, "Ready", tsfReady)
	after := st.flags(t)
	for k, v := range before {
		want := v
		if k == string(identityv1alpha1.FeatureBlockSoftMatch) {
			want = true
		}
		if after[k] != want {
			t.Errorf("%s = %v, want %v", k, after[k], want)
		}
	}
	// Someone changes a flag the spec does not name: it stays changed.
	st.setFlags(t, map[identityv1alpha1.SyncFeature]bool{identityv1alpha1.FeaturePasswordSync: false})
	time.Sleep(2 * resync)
	if st.flags(t)[string(identityv1alpha1.FeaturePasswordSync)] {
		t.Errorf("a flag the spec does not name was set back")
	}
}

func TestTenantSyncFeaturesObserveWritesNothing(t *testing.T) {
	w := env(t)
	st := w.newSyncTenant(t)
	before := st.em.Snapshot().Sync
	name := st.name + "-observe"
	w.syncFeatures(t, st.name, name, func(s *identityv1alpha1.TenantSyncFeaturesSpec) {
		s.Mode = identityv1alpha1.ModeObserve
		s.Features = specFlags(map[identityv1alpha1.SyncFeature]bool{
			identityv1alpha1.FeatureBlockSoftMatch: true, identityv1alpha1.FeatureBlockCloudObjectTakeoverThroughHardMatch: true})
	})
	tsf := w.waitTSF(t, name, "ObserveOnly", func(tsf *identityv1alpha1.TenantSyncFeatures) bool {
		return tsfCond(tsf, identityv1alpha1.ConditionReady, metav1.ConditionFalse, identityv1alpha1.ReasonObserveOnly)
	})
	if len(tsf.Status.Differences) != 2 || tsf.Status.Observed == nil {
		t.Errorf("differences = %+v, observed = %v", tsf.Status.Differences, tsf.Status.Observed)
	}
	time.Sleep(2 * resync)
	if after := st.em.Snapshot().Sync; after != before {
		t.Errorf("Observe mode changed the tenant:\n before %+v\n after  %+v", before, after)
	}
	if tsf := w.waitTSF(t, name, "still observing", func(*identityv1alpha1.TenantSyncFeatures) bool { return true }); tsf.Status.Corrections != 0 {
		t.Errorf("corrections = %d in Observe mode", tsf.Status.Corrections)
	}
}

func TestTenantSyncFeaturesTwoResourcesForOneTenant(t *testing.T) {
	w := env(t)
	st := w.newSyncTenant(t)
	first := w.syncFeatures(t, st.name, st.name+"-first", func(s *identityv1alpha1.TenantSyncFeaturesSpec) {
		s.Features = specFlags(map[identityv1alpha1.SyncFeature]bool{identityv1alpha1.FeatureBlockSoftMatch: true})
	})
	w.waitTSF(t, first.Name, "Ready", tsfReady)
	// Creation times have a one-second grain; make the order unambiguous.
	time.Sleep(1100 * time.Millisecond)
	second := w.syncFeatures(t, st.name, st.name+"-second", func(s *identityv1alpha1.TenantSyncFeaturesSpec) {
		s.Features = specFlags(map[identityv1alpha1.SyncFeature]bool{identityv1alpha1.FeatureBlockSoftMatch: false})
	})
	got := w.waitTSF(t, second.Name, "Blocked by the first", func(tsf *identityv1alpha1.TenantSyncFeatures) bool {
		return tsfCond(tsf, identityv1alpha1.ConditionReady, metav1.ConditionFalse, identityv1alpha1.ReasonDuplicateTenantSyncFeatures)
	})
	if c := meta.FindStatusCondition(got.Status.Conditions, identityv1alpha1.ConditionReady); !strings.Contains(c.Message, first.Name) {
		t.Errorf("message does not name the governing object %s: %s", first.Name, c.Message)
	}
	time.Sleep(2 * resync)
	if !st.flags(t)[string(identityv1alpha1.FeatureBlockSoftMatch)] {
		t.Fatalf("the second object changed the tenant while blocked")
	}

	w.deleteAndWait(t, first)
	w.waitTSF(t, second.Name, "Ready after taking over", tsfReady)
	if st.flags(t)[string(identityv1alpha1.FeatureBlockSoftMatch)] {
		t.Errorf("the second object did not take over")
	}
}

// A window with a short duration opens at once and closes on its own;
// the block comes back without anybody touching the object.
func TestTenantSyncFeaturesWindowCloses(t *testing.T) {
	w := env(t)
	st := w.newSyncTenant(t)
	const window = 3 * time.Second
	name := st.name + "-window"
	w.syncFeatures(t, st.name, name, func(s *identityv1alpha1.TenantSyncFeaturesSpec) {
		s.Features = specFlags(map[identityv1alpha1.SyncFeature]bool{identityv1alpha1.FeatureBlockSoftMatch: true})
		s.MatchingWindows = []identityv1alpha1.MatchingWindow{{Name: "wave-1",
			Feature: identityv1alpha1.WindowFeature(identityv1alpha1.FeatureBlockSoftMatch), Value: false,
			Duration: &metav1.Duration{Duration: window}}}
	})
	active := w.waitTSF(t, name, "window active", func(tsf *identityv1alpha1.TenantSyncFeatures) bool {
		return len(tsf.Status.Windows) == 1 && tsf.Status.Windows[0].State == identityv1alpha1.WindowActive &&
			tsfCond(tsf, identityv1alpha1.ConditionWindowActive, metav1.ConditionTrue, identityv1alpha1.ReasonWindowOpen)
	})
	if st.flags(t)[string(identityv1alpha1.FeatureBlockSoftMatch)] {
		t.Fatalf("window active but soft match still blocked")
	}
	ws := active.Status.Windows[0]
	if ws.ActiveSince == nil || ws.ExpiresAt == nil || !ws.ExpiresAt.Time.Equal(ws.ActiveSince.Add(window)) {
		t.Fatalf("window status %+v: want activeSince and expiresAt %v later", ws, window)
	}

	expired := w.waitTSF(t, name, "window expired", func(tsf *identityv1alpha1.TenantSyncFeatures) bool {
		return len(tsf.Status.Windows) == 1 && tsf.Status.Windows[0].State == identityv1alpha1.WindowExpired &&
			tsfCond(tsf, identityv1alpha1.ConditionWindowActive, metav1.ConditionFalse, "")
	})
	closedAt := time.Now()
	if !st.flags(t)[string(identityv1alpha1.FeatureBlockSoftMatch)] {
		t.Fatalf("window expired but soft match not blocked again")
	}
	if closedAt.Before(ws.ExpiresAt.Time) {
		t.Errorf("window closed at %v, before its end %v", closedAt, ws.ExpiresAt.Time)
	}
	if !expired.Status.Windows[0].ActiveSince.Equal(ws.ActiveSince) {
		t.Errorf("activeSince moved from %v to %v", ws.ActiveSince, expired.Status.Windows[0].ActiveSince)
	}
	w.waitTSFEvent(t, name, "WindowOpened", "matching window wave-1 opened: blockSoftMatchEnabled is false")
	w.waitTSFEvent(t, name, "WindowClosed", "matching window wave-1 closed: blockSoftMatchEnabled back to true")
}

// Graph refuses app-only access to the synchronization settings of the shared
// tenant although the app holds the permission; the condition says to
// configure a delegated sign-in (TestDelegatedSignInAfterAppOnlyRefused
// goes on from there).
func TestTenantSyncFeaturesAppOnlyRefused(t *testing.T) {
	w := env(t)
	name := strings.ToLower(samba.UniqueName(t, "refused"))
	w.syncFeatures(t, "contoso", name, func(s *identityv1alpha1.TenantSyncFeaturesSpec) {
		s.Features = specFlags(map[identityv1alpha1.SyncFeature]bool{identityv1alpha1.FeatureBlockSoftMatch: true})
	})
	tsf := w.waitTSF(t, name, "MissingPermission", func(tsf *identityv1alpha1.TenantSyncFeatures) bool {
		return tsfCond(tsf, identityv1alpha1.ConditionReady, metav1.ConditionFalse, identityv1alpha1.ReasonMissingPermission)
	})
	msg := meta.FindStatusCondition(tsf.Status.Conditions, identityv1alpha1.ConditionReady).Message
	for _, want := range []string{"refuses app-only access", "holds OnPremDirectorySynchronization.ReadWrite.All", "entramatch login --tenant contoso"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q: %s", want, msg)
		}
	}
}

// A 429 with Retry-After is waited out: the operator neither hammers the
// tenant nor falls back to its resync period.
func TestTenantSyncFeaturesThrottled(t *testing.T) {
	w := env(t)
	st := w.newSyncTenant(t)
	const retryAfter = 5 * time.Second
	if err := st.em.Faults().Set([]faults.Rule{{Method: "GET", PathPrefix: "/v1.0/directory/onPremisesSynchronization",
		Status: 429, RetryAfterSeconds: int(retryAfter / time.Second)}}); err != nil {
		t.Fatalf("fault rules: %v", err)
	}
	name := st.name + "-throttled"
	w.syncFeatures(t, st.name, name, func(s *identityv1alpha1.TenantSyncFeaturesSpec) {
		s.Features = specFlags(map[identityv1alpha1.SyncFeature]bool{identityv1alpha1.FeatureBlockSoftMatch: true})
	})
	w.waitTSF(t, name, "Throttled", func(tsf *identityv1alpha1.TenantSyncFeatures) bool {
		return tsfCond(tsf, identityv1alpha1.ConditionSynced, metav1.ConditionFalse, identityv1alpha1.ReasonThrottled)
	})
	start := st.em.Faults().State().Fired[0]
	const watch = 2*retryAfter + time.Second
	time.Sleep(watch)
	calls := st.em.Faults().State().Fired[0] - start
	// Honouring Retry-After allows 2 or 3 calls in the time; the resync (2s)
	// would make 5, a hot loop hundreds.
	if calls < 1 || calls > 3 {
		t.Errorf("%d throttled reads in %v with Retry-After %v", calls, watch, retryAfter)
	}
	if err := st.em.Faults().Set(nil); err != nil {
		t.Fatal(err)
	}
	w.waitTSF(t, name, "Ready once the throttling stops", tsfReady)
	if !st.flags(t)[string(identityv1alpha1.FeatureBlockSoftMatch)] {
		t.Errorf("flag not set after throttling")
	}
}

func TestTenantSyncFeaturesDeletionPolicies(t *testing.T) {
	for _, tc := range []struct {
		policy identityv1alpha1.FeatureDeletionPolicy
		want   bool
	}{
		{identityv1alpha1.FeatureDeletionLeave, true},
		{identityv1alpha1.FeatureDeletionRestoreOriginal, false},
	} {
		t.Run(string(tc.policy), func(t *testing.T) {
			w := env(t)
			st := w.newSyncTenant(t)
			tsf := w.syncFeatures(t, st.name, st.name+"-delete", func(s *identityv1alpha1.TenantSyncFeaturesSpec) {
				s.DeletionPolicy = tc.policy
				s.Features = specFlags(map[identityv1alpha1.SyncFeature]bool{identityv1alpha1.FeatureBlockSoftMatch: true})
			})
			w.waitTSF(t, tsf.Name, "Ready", tsfReady)
			st.setFlags(t, map[identityv1alpha1.SyncFeature]bool{identityv1alpha1.FeaturePasswordSync: true}) // not governed
			w.deleteAndWait(t, tsf)
			got := st.flags(t)
			if got[string(identityv1alpha1.FeatureBlockSoftMatch)] != tc.want {
				t.Errorf("after deletion blockSoftMatchEnabled = %v, want %v", got[string(identityv1alpha1.FeatureBlockSoftMatch)], tc.want)
			}
			if !got[string(identityv1alpha1.FeaturePasswordSync)] {
				t.Errorf("deletion changed a flag the operator never changed")
			}
		})
	}
}

// The manual procedure's workflow: soft match is blocked, so the emulated sync refuses
// to soft-match a cloud user and provisions a new object instead; a
// matching window unblocks it and the next user soft-matches; the window
// closes by itself and the block is back for the user after that.
func TestTenantSyncFeaturesSeedWorkflow(t *testing.T) {
	w := env(t)
	st := w.newSyncTenant(t)
	block := identityv1alpha1.FeatureBlockSoftMatch
	name := st.name + "-seed"
	tsf := w.syncFeatures(t, st.name, name, func(s *identityv1alpha1.TenantSyncFeaturesSpec) {
		s.Features = specFlags(map[identityv1alpha1.SyncFeature]bool{block: true})
	})
	w.waitTSF(t, name, "Ready", tsfReady)

	blocked := w.cloudTwin(t, st, "seedblk")
	if res := st.export(t, blocked); res.Outcome == emulator.OutcomeSoftMatchSMTP || res.ObjectID == blocked.cloudID {
		t.Fatalf("sync with soft match blocked = %+v: it soft-matched", res)
	}

	// Open a window: soft match is allowed for its duration.
	if err := w.k8s.Get(ctxFor(t), types.NamespacedName{Name: name}, tsf); err != nil {
		t.Fatal(err)
	}
	tsf.Spec.MatchingWindows = []identityv1alpha1.MatchingWindow{{Name: "wave-1", Feature: identityv1alpha1.WindowFeature(block),
		Value: false, Duration: &metav1.Duration{Duration: 4 * time.Second}}}
	if err := w.k8s.Update(ctxFor(t), tsf); err != nil {
		t.Fatal(err)
	}
	w.waitTSF(t, name, "window active", func(tsf *identityv1alpha1.TenantSyncFeatures) bool {
		return tsfCond(tsf, identityv1alpha1.ConditionWindowActive, metav1.ConditionTrue, "")
	})
	allowed := w.cloudTwin(t, st, "seedwin")
	if res := st.export(t, allowed); res.Outcome != emulator.OutcomeSoftMatchSMTP || res.ObjectID != allowed.cloudID {
		t.Fatalf("sync during the window = %+v, want SoftMatchSMTP onto %s", res, allowed.cloudID)
	}

	w.waitTSF(t, name, "window expired", func(tsf *identityv1alpha1.TenantSyncFeatures) bool {
		return len(tsf.Status.Windows) == 1 && tsf.Status.Windows[0].State == identityv1alpha1.WindowExpired
	})
	if !st.flags(t)[string(block)] {
		t.Fatalf("soft match not blocked again after the window")
	}
	after := w.cloudTwin(t, st, "seedaft")
	if res := st.export(t, after); res.Outcome == emulator.OutcomeSoftMatchSMTP || res.ObjectID == after.cloudID {
		t.Fatalf("sync after the window = %+v: it soft-matched", res)
	}
}

// cloudTwin creates an AD user in Samba and a cloud-only user with the same
// UPN and primary SMTP address in the sync tenant.
func (w *world) cloudTwin(t *testing.T, st *syncTenant, prefix string) twin {
	t.Helper()
	sam := samba.UniqueName(t, prefix)
	upn := sam + "@" + w.dc.DNSDomain
	dn := w.dc.CreateUser(t, samba.User{Sam: sam, UPN: upn, Mail: upn, ProxyAddresses: []string{"SMTP:" + upn}})
	a, err := anchor.FromGUID(w.dc.GUIDString(t, sam))
	if err != nil {
		t.Fatalf("parsing samba-tool GUID: %v", err)
	}
	u, err := st.em.AddUser(emulator.User{UserPrincipalName: upn, DisplayName: sam, MailNickname: sam, Mail: &upn,
		ProxyAddresses: []string{"SMTP:" + upn}})
	if err != nil {
		t.Fatalf("adding cloud user: %v", err)
	}
	return twin{sam: sam, upn: upn, dn: dn, anchor: a, cloudID: u.ID}
}

// export plays one Entra Connect export of an AD user into the sync tenant.
func (st *syncTenant) export(t *testing.T, tw twin) emulator.SyncResult {
	t.Helper()
	resp, err := st.em.Sync(emulator.SyncRequest{Objects: []emulator.SyncObject{{
		Type: "user", SourceAnchor: tw.anchor.ImmutableID(), UserPrincipalName: tw.upn, Mail: tw.upn,
		ProxyAddresses: []string{"SMTP:" + tw.upn}, DisplayName: tw.sam, OnPremisesDistinguishedName: tw.dn,
		OnPremisesSamAccountName: tw.sam,
	}}})
	if err != nil || len(resp.Results) != 1 {
		t.Fatalf("emulated sync: %+v, %v", resp, err)
	}
	return resp.Results[0]
}

// With blockCloudObjectTakeoverThroughHardMatchEnabled on, Entra sync
// refuses to hard-match a cloud-managed user (InvalidHardMatch), so a
// UserMatch writes nothing and says how to proceed; once a matching window
// opens the flag, it writes by itself and sync hard-matches.
func TestHardMatchTakeoverBlockedUntilWindow(t *testing.T) {
	w := env(t)
	st := w.newSyncTenant(t, func(c *emulator.Config) {
		c.Apps[0].Permissions = append(c.Apps[0].Permissions, "RoleManagement.Read.Directory")
	})
	flag := identityv1alpha1.FeatureBlockCloudObjectTakeoverThroughHardMatch
	name := st.name + "-takeover"
	tsf := w.syncFeatures(t, st.name, name, func(s *identityv1alpha1.TenantSyncFeaturesSpec) {
		s.Features = specFlags(map[identityv1alpha1.SyncFeature]bool{flag: true})
	})
	w.waitTSF(t, name, "Ready", tsfReady)

	tw := w.cloudTwin(t, st, "takeover")
	// The twin would soft-match on its address; a foreign immutableId makes
	// a hard match the only way, as in the manual procedure's case.
	if err := st.em.Update(func(s *emulator.Snapshot) error {
		for i := range s.Users {
			if s.Users[i].ID == tw.cloudID {
				s.Users[i].OnPremisesImmutableID = ptr("c29tZW9uZSBlbHNl")
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	w.userMatch(t, tw.sam, func(s *identityv1alpha1.UserMatchSpec) {
		s.TenantRef.Name = st.name
		s.ADUser.SAMAccountName = tw.sam
	})
	um := w.waitUM(t, tw.sam, "blocked by the takeover flag", func(um *identityv1alpha1.UserMatch) bool {
		return cond(um, identityv1alpha1.ConditionBlocked, T, identityv1alpha1.ReasonHardMatchTakeoverBlocked)
	})
	if msg := condOf(um, identityv1alpha1.ConditionReady).Message; !strings.Contains(msg, "matchingWindows") {
		t.Errorf("Ready should name the way out:%s", describeStatus(um.Status.Conditions))
	}
	w.waitEvent(t, tw.sam, identityv1alpha1.ReasonHardMatchTakeoverBlocked)
	time.Sleep(2 * resync)
	if got := stUser(t, st, tw.cloudID).OnPremisesImmutableID; got == nil || *got != "c29tZW9uZSBlbHNl" {
		t.Fatalf("immutableId written while takeover was blocked: %v", got)
	}

	// A window opens the flag: the UserMatch writes without being touched.
	if err := w.k8s.Get(ctxFor(t), types.NamespacedName{Name: name}, tsf); err != nil {
		t.Fatal(err)
	}
	tsf.Spec.MatchingWindows = []identityv1alpha1.MatchingWindow{{Name: "takeover", Feature: identityv1alpha1.WindowFeature(flag),
		Value: false, Duration: &metav1.Duration{Duration: time.Minute}}}
	if err := w.k8s.Update(ctxFor(t), tsf); err != nil {
		t.Fatal(err)
	}
	w.waitUM(t, tw.sam, "written once the window opened", func(um *identityv1alpha1.UserMatch) bool {
		return cond(um, identityv1alpha1.ConditionMatched, T, identityv1alpha1.ReasonImmutableIDSet)
	})
	if res := st.export(t, tw); res.Outcome != emulator.OutcomeHardMatch || res.ObjectID != tw.cloudID {
		t.Fatalf("sync during the window = %+v, want HardMatch onto %s", res, tw.cloudID)
	}
}

// stUser reads a user of a sync tenant from the emulator's state.
func stUser(t *testing.T, st *syncTenant, id string) emulator.User {
	t.Helper()
	for _, u := range st.em.Snapshot().Users {
		if u.ID == id {
			return u
		}
	}
	t.Fatalf("no user %s in the sync tenant", id)
	return emulator.User{}
}

// Windows fail closed: switching to Observe closes an open window and
// hands its flag back, and deleting a TenantSyncFeatures (deletion policy
// Leave) closes the windows it still has open.
func TestTenantSyncFeaturesWindowsFailClosed(t *testing.T) {
	w := env(t)
	st := w.newSyncTenant(t)
	block := identityv1alpha1.FeatureBlockSoftMatch
	open := func(name string) *identityv1alpha1.TenantSyncFeatures {
		t.Helper()
		tsf := w.syncFeatures(t, st.name, name, func(s *identityv1alpha1.TenantSyncFeaturesSpec) {
			s.Features = specFlags(map[identityv1alpha1.SyncFeature]bool{block: true})
			s.MatchingWindows = []identityv1alpha1.MatchingWindow{{Name: "wave", Feature: identityv1alpha1.WindowFeature(block),
				Value: false, Duration: &metav1.Duration{Duration: time.Hour}}}
		})
		w.waitTSF(t, name, "window active", func(tsf *identityv1alpha1.TenantSyncFeatures) bool {
			return len(tsf.Status.Windows) == 1 && tsf.Status.Windows[0].State == identityv1alpha1.WindowActive
		})
		if st.flags(t)[string(block)] {
			t.Fatal("window active but soft match still blocked")
		}
		return tsf
	}

	observed := open(st.name + "-obs")
	if err := w.k8s.Get(ctxFor(t), types.NamespacedName{Name: observed.Name}, observed); err != nil {
		t.Fatal(err)
	}
	observed.Spec.Mode = identityv1alpha1.ModeObserve
	if err := w.k8s.Update(ctxFor(t), observed); err != nil {
		t.Fatal(err)
	}
	w.waitTSF(t, observed.Name, "window closed by Observe", func(tsf *identityv1alpha1.TenantSyncFeatures) bool {
		return len(tsf.Status.Windows) == 1 && tsf.Status.Windows[0].State == identityv1alpha1.WindowExpired
	})
	if !st.flags(t)[string(block)] {
		t.Fatal("switching to Observe left the window's flag open")
	}
	w.deleteAndWait(t, observed)

	deleted := open(st.name + "-del")
	w.deleteAndWait(t, deleted)
	if !st.flags(t)[string(block)] {
		t.Fatal("deleting the TenantSyncFeatures left the window's flag open")
	}
}
