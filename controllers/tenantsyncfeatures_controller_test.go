package controllers

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/cloud"
	"github.com/entramatch/entra-match-operator/internal/metrics"
	"github.com/entramatch/entra-match-operator/internal/tenantaccess"
)

const testTenantID = "8f2a6d1c-3b4e-4c5d-9e6f-7a8b9c0d1e2f"

// fakeSync plays a tenant's synchronization object. Calls other than the two
// sync-settings calls hit the nil embedded interface: the reconciler must
// not make them.
type fakeSync struct {
	cloud.Client

	mu       sync.Mutex
	settings cloud.SyncSettings
	readErr  error
	writeErr error
	reads    int
	writes   []cloud.SyncSettings
}

func (f *fakeSync) SyncSettings(_ context.Context, tenantID string) (cloud.SyncSettings, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	if f.readErr != nil {
		return cloud.SyncSettings{}, f.readErr
	}
	if tenantID != testTenantID {
		return cloud.SyncSettings{}, &cloud.Error{Class: cloud.ClassNotFound, Op: "SyncSettings"}
	}
	return copySync(f.settings), nil
}

func (f *fakeSync) UpdateSyncSettings(_ context.Context, s cloud.SyncSettings) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.writeErr != nil {
		return f.writeErr
	}
	if len(s.Features) != len(f.settings.Features) {
		return &cloud.Error{Class: cloud.ClassInvalid, Op: "UpdateSyncSettings", Message: "partial features object"}
	}
	f.writes = append(f.writes, copySync(s))
	f.settings = copySync(s)
	return nil
}

func (f *fakeSync) set(feature identityv1alpha1.SyncFeature, v bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.settings.Features[string(feature)] = v
}

func (f *fakeSync) get(feature identityv1alpha1.SyncFeature) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.settings.Features[string(feature)]
}

func (f *fakeSync) writeCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.writes)
}

func copySync(s cloud.SyncSettings) cloud.SyncSettings {
	out := cloud.SyncSettings{ID: s.ID, Features: map[string]bool{}}
	for k, v := range s.Features {
		out.Features[k] = v
	}
	if s.AccidentalDeletionPrevention != nil {
		p := *s.AccidentalDeletionPrevention
		out.AccidentalDeletionPrevention = &p
	}
	return out
}

func newFakeSync(overrides map[identityv1alpha1.SyncFeature]bool) *fakeSync {
	s := cloud.SyncSettings{ID: testTenantID, Features: map[string]bool{}}
	for _, f := range identityv1alpha1.AllSyncFeatures() {
		s.Features[string(f)] = false
	}
	s.Features[string(identityv1alpha1.FeatureSoftMatchOnUpn)] = true
	for f, v := range overrides {
		s.Features[string(f)] = v
	}
	return &fakeSync{settings: s}
}

// harness runs the reconciler against a fake API server, a fake tenant and
// a clock the test moves.
type harness struct {
	t      *testing.T
	k8s    client.Client
	tenant *fakeSync
	clock  time.Time
	rec    *events.FakeRecorder
	r      *TenantSyncFeaturesReconciler
}

const testResync = 5 * time.Minute

// t0 has a sub-second part on purpose: status keeps whole seconds.
var t0 = time.Date(2026, 3, 6, 9, 0, 0, 400_000_000, time.UTC)

func newHarness(t *testing.T, tenant *fakeSync, objs ...client.Object) *harness {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := identityv1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	base := []client.Object{
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "entra-app", Namespace: "ops"}, Data: map[string][]byte{"clientSecret": []byte("s3cret")}},
		entraTenant("contoso"),
	}
	k8s := fake.NewClientBuilder().WithScheme(scheme).
		WithObjects(append(base, objs...)...).
		WithStatusSubresource(&identityv1alpha1.TenantSyncFeatures{}, &identityv1alpha1.EntraTenant{}).
		WithIndex(&identityv1alpha1.TenantSyncFeatures{}, indexTenant, func(o client.Object) []string {
			return []string{o.(*identityv1alpha1.TenantSyncFeatures).Spec.TenantRef.Name}
		}).
		Build()
	h := &harness{t: t, k8s: k8s, tenant: tenant, clock: t0, rec: events.NewFakeRecorder(100)}
	h.r = &TenantSyncFeaturesReconciler{
		Client: k8s, APIReader: k8s, Recorder: h.rec, ResyncPeriod: testResync,
		Cloud: cloud.FactoryFunc(func(_ context.Context, c cloud.Connection) (cloud.Client, error) {
			if c.ClientSecret != "s3cret" {
				return nil, &cloud.Error{Class: cloud.ClassUnauthenticated, Op: "token"}
			}
			return tenant, nil
		}),
		Now: func() time.Time { return h.clock },
	}
	return h
}

func entraTenant(name string) *identityv1alpha1.EntraTenant {
	return &identityv1alpha1.EntraTenant{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: identityv1alpha1.EntraTenantSpec{TenantID: testTenantID, Credentials: identityv1alpha1.TenantCredentials{
			ClientSecret: &identityv1alpha1.ClientSecretCredential{ClientID: "app",
				SecretRef: identityv1alpha1.SecretKeyReference{Name: "entra-app", Namespace: "ops", Key: "clientSecret"}}}},
	}
}

func tsfObject(name string, created time.Time, spec identityv1alpha1.TenantSyncFeaturesSpec) *identityv1alpha1.TenantSyncFeatures {
	if spec.TenantRef.Name == "" {
		spec.TenantRef.Name = "contoso"
	}
	return &identityv1alpha1.TenantSyncFeatures{
		ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(created), Generation: 1},
		Spec:       spec,
	}
}

func (h *harness) reconcile(name string) ctrl.Result {
	h.t.Helper()
	res, err := h.r.Reconcile(context.Background(), ctrl.Request{NamespacedName: types.NamespacedName{Name: name}})
	if err != nil {
		h.t.Fatalf("Reconcile(%s): %v", name, err)
	}
	return res
}

func (h *harness) get(name string) *identityv1alpha1.TenantSyncFeatures {
	h.t.Helper()
	var tsf identityv1alpha1.TenantSyncFeatures
	if err := h.k8s.Get(context.Background(), types.NamespacedName{Name: name}, &tsf); err != nil {
		h.t.Fatalf("get %s: %v", name, err)
	}
	return &tsf
}

// events drains the recorded Events.
func (h *harness) events() []string { return drain(h.rec) }

// drain returns the Events a fake recorder holds, emptying it.
func drain(rec *events.FakeRecorder) []string {
	var out []string
	for {
		select {
		case e := <-rec.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}

func condition(tsf *identityv1alpha1.TenantSyncFeatures, typ string) metav1.Condition {
	if c := meta.FindStatusCondition(tsf.Status.Conditions, typ); c != nil {
		return *c
	}
	return metav1.Condition{}
}

func flagsOf(m map[identityv1alpha1.SyncFeature]bool) *identityv1alpha1.SyncFeatureFlags {
	out := &identityv1alpha1.SyncFeatureFlags{}
	for f, v := range m {
		out.Set(f, &v)
	}
	return out
}

func hasEvent(evs []string, prefix string) bool {
	for _, e := range evs {
		if strings.HasPrefix(e, prefix) {
			return true
		}
	}
	return false
}

// A window opens at once, the reconciler asks to come back exactly when it
// ends, nothing changes a nanosecond before, and at the instant it ends the
// spec value is written back. A restarted reconciler (a new instance reading
// only what status kept) does not extend the window.
func TestTenantSyncFeaturesWindowOpensAndClosesOnTime(t *testing.T) {
	block := identityv1alpha1.FeatureBlockSoftMatch
	tenant := newFakeSync(map[identityv1alpha1.SyncFeature]bool{block: true})
	h := newHarness(t, tenant, tsfObject("features", t0.Add(-time.Hour), identityv1alpha1.TenantSyncFeaturesSpec{
		Features: flagsOf(map[identityv1alpha1.SyncFeature]bool{block: true}),
		MatchingWindows: []identityv1alpha1.MatchingWindow{{Name: "wave-1", Feature: identityv1alpha1.WindowFeature(block), Value: false,
			Duration: &metav1.Duration{Duration: time.Hour}}},
	}))
	// A resync longer than the window, so the requeue can only come from it.
	h.r.ResyncPeriod = 24 * time.Hour
	end := t0.Truncate(time.Second).Add(time.Hour)

	res := h.reconcile("features")
	if tenant.get(block) {
		t.Fatalf("window did not open: blockSoftMatchEnabled is still true")
	}
	if res.RequeueAfter != end.Sub(t0) {
		t.Errorf("RequeueAfter = %v, want exactly the time to the window's end %v", res.RequeueAfter, end.Sub(t0))
	}
	got := h.get("features")
	wantWindows := []identityv1alpha1.WindowStatus{{Name: "wave-1", Feature: block, Value: false, State: identityv1alpha1.WindowActive,
		ActiveSince: ptrTo(metav1.NewTime(t0.Truncate(time.Second))), ExpiresAt: ptrTo(metav1.NewTime(end)), PreviousValue: ptrTo(true)}}
	if d := cmp.Diff(wantWindows, got.Status.Windows); d != "" {
		t.Errorf("windows (-want +got):\n%s", d)
	}
	if c := condition(got, identityv1alpha1.ConditionWindowActive); c.Status != metav1.ConditionTrue || c.Reason != identityv1alpha1.ReasonWindowOpen {
		t.Errorf("WindowActive = %s/%s, want True/WindowOpen", c.Status, c.Reason)
	}
	if d := cmp.Diff(flagsOf(map[identityv1alpha1.SyncFeature]bool{block: true}), got.Status.Original); d != "" {
		t.Errorf("original (-want +got):\n%s", d)
	}
	if evs := h.events(); !hasEvent(evs, "Normal WindowOpened matching window wave-1 opened: blockSoftMatchEnabled is false until") {
		t.Errorf("no WindowOpened Event; have %q", evs)
	}

	// A restart half-way: a fresh reconciler knows only what status kept.
	h.clock = t0.Add(30 * time.Minute)
	restarted := *h.r
	h.r = &restarted
	if res := h.reconcile("features"); res.RequeueAfter != end.Sub(h.clock) {
		t.Errorf("after a restart RequeueAfter = %v, want %v (the window must not be extended)", res.RequeueAfter, end.Sub(h.clock))
	}

	h.clock = end.Add(-time.Nanosecond)
	if res := h.reconcile("features"); res.RequeueAfter != time.Nanosecond {
		t.Errorf("a nanosecond before the end RequeueAfter = %v, want 1ns", res.RequeueAfter)
	}
	if tenant.get(block) || tenant.writeCount() != 1 {
		t.Fatalf("window closed early: block=%v writes=%d", tenant.get(block), tenant.writeCount())
	}

	h.clock = end
	res = h.reconcile("features")
	if !tenant.get(block) {
		t.Fatalf("window did not close at its end: blockSoftMatchEnabled is still false")
	}
	if res.RequeueAfter != h.r.ResyncPeriod {
		t.Errorf("after the window RequeueAfter = %v, want the resync period %v", res.RequeueAfter, h.r.ResyncPeriod)
	}
	got = h.get("features")
	if len(got.Status.Windows) != 1 || got.Status.Windows[0].State != identityv1alpha1.WindowExpired {
		t.Errorf("windows = %+v, want wave-1 Expired", got.Status.Windows)
	}
	if c := condition(got, identityv1alpha1.ConditionWindowActive); c.Status != metav1.ConditionFalse {
		t.Errorf("WindowActive = %s, want False", c.Status)
	}
	if c := condition(got, identityv1alpha1.ConditionReady); c.Status != metav1.ConditionTrue {
		t.Errorf("Ready = %s/%s %s, want True", c.Status, c.Reason, c.Message)
	}
	if got.Status.Corrections != 2 || got.Status.LastCorrectionTime == nil || !got.Status.LastCorrectionTime.Time.Equal(end.Truncate(time.Second)) {
		t.Errorf("corrections = %d at %v, want 2 at %v", got.Status.Corrections, got.Status.LastCorrectionTime, end)
	}
	if evs := h.events(); !hasEvent(evs, "Normal WindowClosed matching window wave-1 closed: blockSoftMatchEnabled back to true") {
		t.Errorf("no WindowClosed Event; have %q", evs)
	}
}

// When the write that opens a window fails, what the window needs later
// (its start, the value it replaces) is already recorded, so the retry
// neither restarts the window's clock nor records its own value as the one
// to hand back.
func TestTenantSyncFeaturesIntentSurvivesAFailedWrite(t *testing.T) {
	allow := identityv1alpha1.FeatureAllowOnPremUpdateOfOnPremisesObjectIdentifier
	tenant := newFakeSync(nil)
	tenant.writeErr = &cloud.Error{Class: cloud.ClassTransient, Op: "UpdateSyncSettings", Status: 503}
	h := newHarness(t, tenant, tsfObject("features", t0, identityv1alpha1.TenantSyncFeaturesSpec{
		MatchingWindows: []identityv1alpha1.MatchingWindow{{Name: "objid", Feature: identityv1alpha1.WindowFeature(allow), Value: true,
			Duration: &metav1.Duration{Duration: time.Hour}}},
	}))
	h.r.ResyncPeriod = 24 * time.Hour
	if _, err := h.r.Reconcile(context.Background(), ctrl.Request{NamespacedName: types.NamespacedName{Name: "features"}}); err == nil {
		t.Fatalf("a failed transient write must return an error for backoff")
	}
	got := h.get("features")
	if len(got.Status.Windows) != 1 || got.Status.Windows[0].ActiveSince == nil || got.Status.Windows[0].PreviousValue == nil ||
		*got.Status.Windows[0].PreviousValue {
		t.Fatalf("intent not recorded before the write: %+v", got.Status.Windows)
	}
	if c := condition(got, identityv1alpha1.ConditionReady); c.Status != metav1.ConditionFalse || !strings.Contains(c.Message, "writing them failed") {
		t.Errorf("Ready = %s %s: %s", c.Status, c.Reason, c.Message)
	}
	if d := cmp.Diff([]identityv1alpha1.FeatureDifference{{Feature: allow, Desired: true, Actual: ptrTo(false)}}, got.Status.Differences); d != "" {
		t.Errorf("differences (-want +got):\n%s", d)
	}

	tenant.mu.Lock()
	tenant.writeErr = nil
	tenant.mu.Unlock()
	h.clock = t0.Add(10 * time.Minute)
	res := h.reconcile("features")
	if !tenant.get(allow) {
		t.Fatalf("retry did not open the window")
	}
	end := t0.Truncate(time.Second).Add(time.Hour)
	if res.RequeueAfter != end.Sub(h.clock) {
		t.Errorf("RequeueAfter = %v, want %v: the window counts from its first attempt", res.RequeueAfter, end.Sub(h.clock))
	}
	got = h.get("features")
	if w := got.Status.Windows[0]; !w.ActiveSince.Time.Equal(t0.Truncate(time.Second)) || w.PreviousValue == nil || *w.PreviousValue {
		t.Errorf("window after retry = %+v, want activeSince %v and previousValue false", w, t0)
	}

	h.clock = end
	h.reconcile("features")
	if tenant.get(allow) {
		t.Errorf("the flag was not handed back when the window closed")
	}
}

func TestTenantSyncFeaturesDriftIsCorrectedWithEventAndMetric(t *testing.T) {
	hard := identityv1alpha1.FeatureBlockCloudObjectTakeoverThroughHardMatch
	tenant := newFakeSync(nil)
	h := newHarness(t, tenant, tsfObject("features", t0, identityv1alpha1.TenantSyncFeaturesSpec{
		Features: flagsOf(map[identityv1alpha1.SyncFeature]bool{hard: true}),
	}))
	h.reconcile("features")
	if evs := h.events(); !hasEvent(evs, "Normal FeatureUpdated set blockCloudObjectTakeoverThroughHardMatchEnabled from false to true (spec)") {
		t.Errorf("no FeatureUpdated Event; have %q", evs)
	}
	h.reconcile("features")
	if tenant.writeCount() != 1 {
		t.Fatalf("writes = %d after two passes, want 1: no write when nothing differs", tenant.writeCount())
	}

	metric := metrics.DriftCorrections.WithLabelValues("TenantSyncFeatures", string(hard))
	before := testutil.ToFloat64(metric)
	tenant.set(hard, false) // someone in the portal
	h.reconcile("features")
	if !tenant.get(hard) {
		t.Fatalf("drift not corrected")
	}
	if got := testutil.ToFloat64(metric) - before; got != 1 {
		t.Errorf("drift metric grew by %v, want 1", got)
	}
	want := "Warning DriftCorrected blockCloudObjectTakeoverThroughHardMatchEnabled was changed outside the operator from true to false; set back to true"
	if evs := h.events(); !hasEvent(evs, want) {
		t.Errorf("no drift Event %q; have %q", want, evs)
	}
	got := h.get("features")
	if got.Status.Corrections != 2 {
		t.Errorf("corrections = %d, want 2", got.Status.Corrections)
	}
	if c := condition(got, identityv1alpha1.ConditionReady); c.Status != metav1.ConditionTrue || c.Reason != identityv1alpha1.ReasonCorrected {
		t.Errorf("Ready = %s/%s, want True/Corrected", c.Status, c.Reason)
	}
	h.reconcile("features")
	if c := condition(h.get("features"), identityv1alpha1.ConditionReady); c.Reason != identityv1alpha1.ReasonInSync {
		t.Errorf("Ready reason after a quiet pass = %s, want InSync", c.Reason)
	}
	if evs := h.events(); len(evs) != 0 {
		t.Errorf("Events on a pass that changed nothing: %q", evs)
	}
}

func TestTenantSyncFeaturesObserveWritesNothing(t *testing.T) {
	block := identityv1alpha1.FeatureBlockSoftMatch
	tenant := newFakeSync(nil)
	h := newHarness(t, tenant, tsfObject("features", t0, identityv1alpha1.TenantSyncFeaturesSpec{
		Mode:     identityv1alpha1.ModeObserve,
		Features: flagsOf(map[identityv1alpha1.SyncFeature]bool{block: true}),
		MatchingWindows: []identityv1alpha1.MatchingWindow{{Name: "w", Feature: identityv1alpha1.WindowFeature(identityv1alpha1.FeatureUserWriteback),
			Value: true, Duration: &metav1.Duration{Duration: time.Hour}}},
	}))
	h.reconcile("features")
	h.reconcile("features")
	if tenant.writeCount() != 0 {
		t.Fatalf("Observe mode wrote %d times", tenant.writeCount())
	}
	got := h.get("features")
	if c := condition(got, identityv1alpha1.ConditionReady); c.Status != metav1.ConditionFalse || c.Reason != identityv1alpha1.ReasonObserveOnly {
		t.Errorf("Ready = %s/%s, want False/ObserveOnly", c.Status, c.Reason)
	}
	want := []identityv1alpha1.FeatureDifference{
		{Feature: block, Desired: true, Actual: ptrTo(false)},
		{Feature: identityv1alpha1.FeatureUserWriteback, Desired: true, Actual: ptrTo(false)},
	}
	if d := cmp.Diff(want, got.Status.Differences); d != "" {
		t.Errorf("differences (-want +got):\n%s", d)
	}
	if got.Status.Original != nil || got.Status.Windows[0].State != identityv1alpha1.WindowPending {
		t.Errorf("Observe recorded original %v / window %v", got.Status.Original, got.Status.Windows)
	}
}

func TestTenantSyncFeaturesThrottledHonoursRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want time.Duration
	}{
		{"Retry-After given", &cloud.Error{Class: cloud.ClassThrottled, Status: 429, RetryAfter: 7 * time.Second, Op: "SyncSettings"}, 7 * time.Second},
		{"no Retry-After", &cloud.Error{Class: cloud.ClassThrottled, Status: 429, Op: "SyncSettings"}, throttledWithoutRetryAfter},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tenant := newFakeSync(nil)
			tenant.readErr = tc.err
			h := newHarness(t, tenant, tsfObject("features", t0, identityv1alpha1.TenantSyncFeaturesSpec{
				Features: flagsOf(map[identityv1alpha1.SyncFeature]bool{identityv1alpha1.FeatureBlockSoftMatch: true}),
			}))
			res, err := h.r.Reconcile(context.Background(), ctrl.Request{NamespacedName: types.NamespacedName{Name: "features"}})
			if err != nil || res.RequeueAfter != tc.want {
				t.Errorf("Reconcile = %+v, %v; want RequeueAfter %v and no error (no backoff from milliseconds)", res, err, tc.want)
			}
			if c := condition(h.get("features"), identityv1alpha1.ConditionSynced); c.Status != metav1.ConditionFalse || c.Reason != identityv1alpha1.ReasonThrottled {
				t.Errorf("Synced = %s/%s, want False/Throttled", c.Status, c.Reason)
			}
			if tenant.writeCount() != 0 {
				t.Errorf("wrote while throttled")
			}
		})
	}
}

func TestTenantSyncFeaturesAppOnlyRefusedSaysWhatToConfigure(t *testing.T) {
	tenant := newFakeSync(nil)
	tenant.readErr = &cloud.Error{Class: cloud.ClassPermission, Status: 403, Code: "Authorization_RequestDenied", Op: "SyncSettings",
		Message: "This operation requires a delegated token",
		Access:  &cloud.Access{Permissions: []string{"User.ReadWrite.All", syncPermission}}}
	h := newHarness(t, tenant, tsfObject("features", t0, identityv1alpha1.TenantSyncFeaturesSpec{}))
	h.reconcile("features")
	c := condition(h.get("features"), identityv1alpha1.ConditionReady)
	if c.Status != metav1.ConditionFalse || c.Reason != identityv1alpha1.ReasonMissingPermission {
		t.Fatalf("Ready = %s/%s, want False/MissingPermission", c.Status, c.Reason)
	}
	for _, want := range []string{"refuses app-only access", "entramatch login --tenant contoso", "spec.delegated.secretRef", "This operation requires a delegated token"} {
		if !strings.Contains(c.Message, want) {
			t.Errorf("message lacks %q: %s", want, c.Message)
		}
	}
	// A Warning Event says it once, not at every resync.
	if evs := h.events(); !hasEvent(evs, "Warning MissingPermission") {
		t.Errorf("no MissingPermission Warning Event: %q", evs)
	}
	h.reconcile("features")
	if evs := h.events(); hasEvent(evs, "Warning MissingPermission") {
		t.Errorf("the same refusal was announced again: %q", evs)
	}
}

// Each refusal names the one thing to configure, decided from the refused
// token's claims.
func TestClassifySyncFeaturesSaysWhichAccessToConfigure(t *testing.T) {
	appOnly := entraTenant("contoso")
	withSignIn := entraTenant("contoso")
	withSignIn.Spec.Delegated = &identityv1alpha1.DelegatedCredentials{
		SecretRef: identityv1alpha1.SecretKeyReference{Namespace: "ops", Name: "admin-signin", Key: "tokenCache"}}
	refused := func(a *cloud.Access) error {
		return &cloud.Error{Class: cloud.ClassPermission, Status: 403, Code: "Authorization_RequestDenied", Op: "SyncSettings",
			Message: "Insufficient privileges to complete the operation.", Access: a}
	}
	tests := []struct {
		name       string
		tenant     *identityv1alpha1.EntraTenant
		err        error
		wantReason string
		want       []string
		notWant    []string
	}{
		{"app lacks the application permission", appOnly, refused(&cloud.Access{Permissions: []string{"User.ReadWrite.All"}}),
			identityv1alpha1.ReasonMissingPermission,
			[]string{"has no Microsoft Graph application permission " + syncPermission, "User.ReadWrite.All", "admin consent"},
			[]string{"entramatch login"}},
		{"tenant refuses app-only access", appOnly, refused(&cloud.Access{Permissions: []string{syncPermission}}),
			identityv1alpha1.ReasonMissingPermission,
			[]string{"refuses app-only access", "entramatch login --tenant contoso --secret", "spec.delegated.secretRef"},
			[]string{"Grant that permission"}},
		{"token not readable", appOnly, refused(nil),
			identityv1alpha1.ReasonMissingPermission,
			[]string{"application permission " + syncPermission, "entramatch login"}, nil},
		{"delegated sign-in lacks the scope", withSignIn, refused(&cloud.Access{Delegated: true, User: "admin@contoso.com", Permissions: []string{"User.Read"}}),
			identityv1alpha1.ReasonMissingPermission,
			[]string{"admin@contoso.com has no " + syncPermission + " scope", "User.Read", "entramatch login --tenant contoso` again"},
			[]string{"Global Administrator"}},
		{"signed-in person is no Global Administrator", withSignIn, refused(&cloud.Access{Delegated: true, User: "helpdesk@contoso.com", Permissions: []string{syncPermission},
			DirectoryRoles: []string{"729827e3-9c14-49f7-bb1b-9608f156bbb8"}}),
			identityv1alpha1.ReasonMissingPermission,
			[]string{"helpdesk@contoso.com is signed in", "not a Global Administrator", "again as a Global Administrator"}, nil},
		{"the token does not say which roles the person has", withSignIn, refused(&cloud.Access{Delegated: true, User: "admin@contoso.com", Permissions: []string{syncPermission}}),
			identityv1alpha1.ReasonMissingPermission,
			[]string{"refused the delegated sign-in of admin@contoso.com", "active Global Administrator", "entramatch login --tenant contoso"},
			[]string{"is not a Global Administrator"}},
		{"a Global Administrator refused all the same", withSignIn, refused(&cloud.Access{Delegated: true, User: "admin@contoso.com", Permissions: []string{syncPermission},
			DirectoryRoles: []string{globalAdministratorTemplate}}),
			identityv1alpha1.ReasonMissingPermission,
			[]string{"refused the delegated sign-in of admin@contoso.com", "Insufficient privileges"}, []string{"not a Global Administrator"}},
		{"the operator may not read the sign-in Secret", withSignIn, &cloud.Error{Class: cloud.ClassPermission, Op: tenantaccess.OpLoadTokenCache,
			Message: `reading Secret ops/admin-signin: secrets "admin-signin" is forbidden`},
			identityv1alpha1.ReasonMissingPermission, []string{"is forbidden"}, []string{"Microsoft Graph"}},
		{"refresh token spent", withSignIn, &cloud.Error{Class: cloud.ClassUnauthenticated, Code: "invalid_grant", Op: "AcquireToken", Message: "AADSTS70000: refresh token redeemed"},
			identityv1alpha1.ReasonSignInRequired,
			[]string{"Secret ops/admin-signin (key tokenCache)", "AADSTS70000", "entramatch login --tenant contoso"}, nil},
		{"no sign-in stored", withSignIn, &cloud.Error{Class: cloud.ClassUnauthenticated, Code: cloud.CodeNoSignIn, Op: "LoadTokenCache", Message: "Secret ops/admin-signin does not exist"},
			identityv1alpha1.ReasonSignInRequired, []string{"does not exist", "entramatch login"}, nil},
		{"wrong app secret stays InvalidCredentials", appOnly, &cloud.Error{Class: cloud.ClassUnauthenticated, Code: "invalid_client", Op: "AcquireToken"},
			identityv1alpha1.ReasonInvalidCredentials, nil, []string{"entramatch login"}},
		{"public client misconfigured stays InvalidCredentials", withSignIn, &cloud.Error{Class: cloud.ClassUnauthenticated, Code: "invalid_client", Op: "AcquireToken"},
			identityv1alpha1.ReasonInvalidCredentials, nil, nil},
		{"tenant not found", appOnly, &cloud.Error{Class: cloud.ClassNotFound, Op: "SyncSettings"}, identityv1alpha1.ReasonTenantNotFound, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := classifySyncFeatures(tt.err, tt.tenant)
			if o.reason != tt.wantReason {
				t.Errorf("reason = %s, want %s (%s)", o.reason, tt.wantReason, o.message)
			}
			for _, w := range tt.want {
				if !strings.Contains(o.message, w) {
					t.Errorf("message lacks %q: %s", w, o.message)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(o.message, w) {
					t.Errorf("message has %q: %s", w, o.message)
				}
			}
		})
	}
	if o := classifySyncFeatures(errors.New("boom"), appOnly); !o.transient {
		t.Errorf("an unclassified error must be retried with backoff")
	}
}

// The oldest TenantSyncFeatures of a tenant governs it, whether the others
// name the same EntraTenant or another one for the same tenant ID; the
// others change nothing and name the governing one.
func TestTenantSyncFeaturesOneGovernorPerTenant(t *testing.T) {
	block := identityv1alpha1.FeatureBlockSoftMatch
	tenant := newFakeSync(nil)
	alias := entraTenant("contoso-alias")
	h := newHarness(t, tenant,
		alias,
		tsfObject("second", t0, identityv1alpha1.TenantSyncFeaturesSpec{Features: flagsOf(map[identityv1alpha1.SyncFeature]bool{block: false})}),
		tsfObject("first", t0.Add(-time.Minute), identityv1alpha1.TenantSyncFeaturesSpec{Features: flagsOf(map[identityv1alpha1.SyncFeature]bool{block: true})}),
		tsfObject("third", t0.Add(time.Minute), identityv1alpha1.TenantSyncFeaturesSpec{TenantRef: identityv1alpha1.TenantReference{Name: "contoso-alias"},
			Features: flagsOf(map[identityv1alpha1.SyncFeature]bool{block: false})}),
	)
	for _, n := range []string{"second", "third", "first", "second", "third"} {
		h.reconcile(n)
	}
	if !tenant.get(block) || tenant.writeCount() != 1 {
		t.Fatalf("block=%v writes=%d: only the first may write", tenant.get(block), tenant.writeCount())
	}
	for _, n := range []string{"second", "third"} {
		c := condition(h.get(n), identityv1alpha1.ConditionReady)
		if c.Status != metav1.ConditionFalse || c.Reason != identityv1alpha1.ReasonDuplicateTenantSyncFeatures || !strings.Contains(c.Message, `"first"`) {
			t.Errorf("%s: Ready = %s/%s %q, want False/DuplicateTenantSyncFeatures naming first", n, c.Status, c.Reason, c.Message)
		}
	}
	evs := h.events()
	n := 0
	for _, e := range evs {
		if strings.HasPrefix(e, "Warning DuplicateTenantSyncFeatures") {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d DuplicateTenantSyncFeatures Events, want one per blocked object: %q", n, evs)
	}

	// When the first goes, the second takes over.
	if err := h.k8s.Delete(context.Background(), h.get("first")); err != nil {
		t.Fatal(err)
	}
	h.reconcile("first")
	h.reconcile("second")
	if tenant.get(block) {
		t.Errorf("the second did not take over after the first was deleted")
	}
}

func TestTenantSyncFeaturesDeletionPolicy(t *testing.T) {
	block := identityv1alpha1.FeatureBlockSoftMatch
	hard := identityv1alpha1.FeatureBlockCloudObjectTakeoverThroughHardMatch
	for _, tc := range []struct {
		policy identityv1alpha1.FeatureDeletionPolicy
		want   bool // blockSoftMatchEnabled after deletion
	}{
		{identityv1alpha1.FeatureDeletionLeave, true},
		{identityv1alpha1.FeatureDeletionRestoreOriginal, false},
	} {
		t.Run(string(tc.policy), func(t *testing.T) {
			tenant := newFakeSync(map[identityv1alpha1.SyncFeature]bool{hard: true})
			h := newHarness(t, tenant, tsfObject("features", t0, identityv1alpha1.TenantSyncFeaturesSpec{
				DeletionPolicy: tc.policy,
				Features:       flagsOf(map[identityv1alpha1.SyncFeature]bool{block: true, hard: true}),
			}))
			h.reconcile("features")
			if !tenant.get(block) {
				t.Fatalf("flag not set")
			}
			if err := h.k8s.Delete(context.Background(), h.get("features")); err != nil {
				t.Fatal(err)
			}
			h.reconcile("features")
			if got := tenant.get(block); got != tc.want {
				t.Errorf("after deletion blockSoftMatchEnabled = %v, want %v", got, tc.want)
			}
			if !tenant.get(hard) {
				t.Errorf("a flag the operator never changed was changed on deletion")
			}
			var gone identityv1alpha1.TenantSyncFeatures
			if err := h.k8s.Get(context.Background(), types.NamespacedName{Name: "features"}, &gone); err == nil {
				t.Errorf("finalizer not released: %v", gone.Finalizers)
			}
		})
	}
}

func TestTenantSyncFeaturesMissingTenant(t *testing.T) {
	tenant := newFakeSync(nil)
	h := newHarness(t, tenant, tsfObject("features", t0, identityv1alpha1.TenantSyncFeaturesSpec{TenantRef: identityv1alpha1.TenantReference{Name: "nope"}}))
	res := h.reconcile("features")
	if res.RequeueAfter != testResync {
		t.Errorf("RequeueAfter = %v, want the resync period", res.RequeueAfter)
	}
	if c := condition(h.get("features"), identityv1alpha1.ConditionReady); c.Reason != identityv1alpha1.ReasonTenantNotReady {
		t.Errorf("Ready reason = %s, want TenantNotReady", c.Reason)
	}
	if tenant.reads != 0 {
		t.Errorf("read a tenant that no EntraTenant names")
	}
}

func ptrTo[T any](v T) *T { return &v }

// Events about different flags must not fold into one series.
func TestSetActionDiffersPerSetting(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range identityv1alpha1.AllSyncFeatures() {
		a := setAction(string(f))
		if seen[a] || len(a) > 128 || !strings.HasPrefix(a, "Set") {
			t.Errorf("action %q for %s is repeated, too long or badly formed", a, f)
		}
		seen[a] = true
	}
	if got := setAction("blockSoftMatchEnabled"); got != "SetBlockSoftMatchEnabled" {
		t.Errorf("setAction = %q", got)
	}
}
