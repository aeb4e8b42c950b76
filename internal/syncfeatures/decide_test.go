package syncfeatures

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/cloud"
)

// Microsoft pages the rules follow.
const (
	docFeature = "https://learn.microsoft.com/graph/api/resources/onpremisesdirectorysynchronizationfeature"
	docUpdate  = "https://learn.microsoft.com/graph/api/onpremisesdirectorysynchronization-update"
	docSync    = "https://learn.microsoft.com/graph/api/resources/onpremisesdirectorysynchronization"
)

const (
	block     = identityv1alpha1.FeatureBlockSoftMatch
	hardBlock = identityv1alpha1.FeatureBlockCloudObjectTakeoverThroughHardMatch
	upnMatch  = identityv1alpha1.FeatureSoftMatchOnUpn
	pwSync    = identityv1alpha1.FeaturePasswordSync
	pwWrite   = identityv1alpha1.FeaturePasswordWriteback
	allowOID  = identityv1alpha1.FeatureAllowOnPremUpdateOfOnPremisesObjectIdentifier
)

func ptr[T any](v T) *T { return &v }

// t0 has a sub-second part on purpose: status keeps whole seconds.
var t0 = time.Date(2026, 3, 6, 9, 0, 0, 400_000_000, time.UTC)

func sec(t time.Time) *metav1.Time { v := metav1.NewTime(t.Truncate(time.Second)); return &v }

// tenant is a tenant as Graph returns it: every documented flag, here with
// the defaults of a tenant that never changed them, plus overrides.
func tenant(overrides map[identityv1alpha1.SyncFeature]bool) cloud.SyncSettings {
	s := cloud.SyncSettings{ID: "tid", Features: map[string]bool{},
		AccidentalDeletionPrevention: &cloud.AccidentalDeletionPrevention{SynchronizationPreventionType: "enabledForCount", AlertThreshold: 500}}
	for _, f := range identityv1alpha1.AllSyncFeatures() {
		s.Features[string(f)] = false
	}
	s.Features[string(upnMatch)] = true
	s.Features[string(identityv1alpha1.FeatureQuarantineUponProxyAddressesConflict)] = true
	s.Features[string(identityv1alpha1.FeatureQuarantineUponUpnConflict)] = true
	for f, v := range overrides {
		s.Features[string(f)] = v
	}
	return s
}

func flags(m map[identityv1alpha1.SyncFeature]bool) *identityv1alpha1.SyncFeatureFlags {
	out := &identityv1alpha1.SyncFeatureFlags{}
	for f, v := range m {
		out.Set(f, ptr(v))
	}
	return out
}

func durationWindow(name string, f identityv1alpha1.SyncFeature, v bool, d time.Duration) identityv1alpha1.MatchingWindow {
	return identityv1alpha1.MatchingWindow{Name: name, Feature: identityv1alpha1.WindowFeature(f), Value: v, Duration: &metav1.Duration{Duration: d}}
}

// untilWindow keeps whole seconds, as the API server does.
func untilWindow(name string, f identityv1alpha1.SyncFeature, v bool, until time.Time) identityv1alpha1.MatchingWindow {
	u := metav1.NewTime(until.Truncate(time.Second))
	return identityv1alpha1.MatchingWindow{Name: name, Feature: identityv1alpha1.WindowFeature(f), Value: v, Until: &u}
}

// outcome is the part of a Plan each case states in full.
type outcome struct {
	Write       bool
	Sent        map[string]bool // flags whose sent value differs from the tenant's
	Changes     []Change
	ADP         *DeletionPreventionChange
	Refused     []Refusal
	Differences []identityv1alpha1.FeatureDifference
	Windows     []identityv1alpha1.WindowStatus
	Opened      []WindowEvent
	Closed      []WindowEvent
	Original    *identityv1alpha1.SyncFeatureFlags
	NextCheck   *time.Time
}

func outcomeOf(in Input, p Plan) outcome {
	o := outcome{Write: p.Write, Changes: p.Changes, ADP: p.DeletionPrevention, Refused: p.Refused, Differences: p.Differences,
		Windows: p.Windows, Opened: p.Opened, Closed: p.Closed, Original: p.Original, NextCheck: p.NextCheck}
	for k, v := range p.Settings.Features {
		if in.Tenant.Features[k] != v {
			if o.Sent == nil {
				o.Sent = map[string]bool{}
			}
			o.Sent[k] = v
		}
	}
	return o
}

func diff(f identityv1alpha1.SyncFeature, desired, actual bool) identityv1alpha1.FeatureDifference {
	return identityv1alpha1.FeatureDifference{Feature: f, Desired: desired, Actual: ptr(actual)}
}

func TestDecide(t *testing.T) {
	activeSince := t0.Add(-time.Hour)
	cases := []struct {
		name string
		doc  string
		in   Input
		want outcome
	}{
		{
			name: "no spec: nothing governed, nothing written",
			in:   Input{Tenant: tenant(nil), Now: t0},
			want: outcome{},
		},
		{
			name: "partial spec changes only its flag and sends every other flag back as read",
			doc:  docUpdate + " (example: read the whole features object, change it, send it all back)",
			in: Input{
				Spec:   identityv1alpha1.TenantSyncFeaturesSpec{Features: flags(map[identityv1alpha1.SyncFeature]bool{block: true})},
				Tenant: tenant(map[identityv1alpha1.SyncFeature]bool{pwSync: true, identityv1alpha1.FeatureDeviceWriteback: true}),
				Now:    t0,
			},
			want: outcome{
				Write:    true,
				Sent:     map[string]bool{string(block): true},
				Changes:  []Change{{Feature: block, From: false, To: true, Source: SourceSpec}},
				Original: flags(map[identityv1alpha1.SyncFeature]bool{block: false}),
			},
		},
		{
			name: "spec already holds: no write",
			in: Input{
				Spec:   identityv1alpha1.TenantSyncFeaturesSpec{Features: flags(map[identityv1alpha1.SyncFeature]bool{block: true, hardBlock: true})},
				Tenant: tenant(map[identityv1alpha1.SyncFeature]bool{block: true, hardBlock: true}),
				Now:    t0,
			},
			want: outcome{},
		},
		{
			name: "several flags change in one write, in Graph's order",
			in: Input{
				Spec: identityv1alpha1.TenantSyncFeaturesSpec{Features: flags(map[identityv1alpha1.SyncFeature]bool{
					block: true, hardBlock: true, pwSync: true, upnMatch: true})},
				Tenant: tenant(nil),
				Now:    t0,
			},
			want: outcome{
				Write: true,
				Sent:  map[string]bool{string(block): true, string(hardBlock): true, string(pwSync): true},
				Changes: []Change{
					{Feature: hardBlock, From: false, To: true, Source: SourceSpec},
					{Feature: block, From: false, To: true, Source: SourceSpec},
					{Feature: pwSync, From: false, To: true, Source: SourceSpec},
				},
				Original: flags(map[identityv1alpha1.SyncFeature]bool{block: false, hardBlock: false, pwSync: false}),
			},
		},
		{
			name: "Observe reports the differences and writes nothing",
			in: Input{
				Spec: identityv1alpha1.TenantSyncFeaturesSpec{Mode: identityv1alpha1.ModeObserve,
					Features: flags(map[identityv1alpha1.SyncFeature]bool{block: true, hardBlock: true})},
				Tenant: tenant(map[identityv1alpha1.SyncFeature]bool{hardBlock: true}),
				Now:    t0,
			},
			want: outcome{
				Changes:     []Change{{Feature: block, From: false, To: true, Source: SourceSpec}},
				Differences: []identityv1alpha1.FeatureDifference{diff(block, true, false)},
			},
		},
		{
			name: "a flag that had its desired value when last read and no longer has is drift",
			in: Input{
				Spec:   identityv1alpha1.TenantSyncFeaturesSpec{Features: flags(map[identityv1alpha1.SyncFeature]bool{block: true})},
				Status: identityv1alpha1.TenantSyncFeaturesStatus{Observed: flags(map[identityv1alpha1.SyncFeature]bool{block: true}), Original: flags(map[identityv1alpha1.SyncFeature]bool{block: false})},
				Tenant: tenant(nil),
				Now:    t0,
			},
			want: outcome{
				Write:    true,
				Sent:     map[string]bool{string(block): true},
				Changes:  []Change{{Feature: block, From: false, To: true, Source: SourceSpec, Drift: true}},
				Original: flags(map[identityv1alpha1.SyncFeature]bool{block: false}),
			},
		},
		{
			name: "a spec change is not drift",
			in: Input{
				Spec:   identityv1alpha1.TenantSyncFeaturesSpec{Features: flags(map[identityv1alpha1.SyncFeature]bool{block: false})},
				Status: identityv1alpha1.TenantSyncFeaturesStatus{Observed: flags(map[identityv1alpha1.SyncFeature]bool{block: true})},
				Tenant: tenant(map[identityv1alpha1.SyncFeature]bool{block: true}),
				Now:    t0,
			},
			want: outcome{
				Write:    true,
				Sent:     map[string]bool{string(block): false},
				Changes:  []Change{{Feature: block, From: true, To: false, Source: SourceSpec}},
				Original: flags(map[identityv1alpha1.SyncFeature]bool{block: true}),
			},
		},
		{
			name: "the original value is recorded once: a later change keeps the first one",
			in: Input{
				Spec: identityv1alpha1.TenantSyncFeaturesSpec{Features: flags(map[identityv1alpha1.SyncFeature]bool{block: false, pwSync: true})},
				Status: identityv1alpha1.TenantSyncFeaturesStatus{
					Observed: flags(map[identityv1alpha1.SyncFeature]bool{block: true}),
					Original: flags(map[identityv1alpha1.SyncFeature]bool{block: false}),
				},
				Tenant: tenant(map[identityv1alpha1.SyncFeature]bool{block: true}),
				Now:    t0,
			},
			want: outcome{
				Write: true,
				Sent:  map[string]bool{string(block): false, string(pwSync): true},
				Changes: []Change{
					{Feature: block, From: true, To: false, Source: SourceSpec},
					{Feature: pwSync, From: false, To: true, Source: SourceSpec},
				},
				Original: flags(map[identityv1alpha1.SyncFeature]bool{block: false, pwSync: false}),
			},
		},
		{
			name: "passwordWritebackEnabled is never written, even if a spec slipped past admission",
			doc:  docFeature + " (passwordWritebackEnabled: not in use, not updatable)",
			in: Input{
				Spec:   identityv1alpha1.TenantSyncFeaturesSpec{Features: flags(map[identityv1alpha1.SyncFeature]bool{pwWrite: true})},
				Tenant: tenant(nil),
				Now:    t0,
			},
			want: outcome{
				Refused:     []Refusal{{Feature: pwWrite, Desired: true, Actual: false, Reason: "passwordWritebackEnabled is not updatable in Microsoft Graph"}},
				Differences: []identityv1alpha1.FeatureDifference{diff(pwWrite, true, false)},
			},
		},
		{
			name: "softMatchOnUpnEnabled can be turned on",
			doc:  docFeature + " (softMatchOnUpnEnabled)",
			in: Input{
				Spec:   identityv1alpha1.TenantSyncFeaturesSpec{Features: flags(map[identityv1alpha1.SyncFeature]bool{upnMatch: true})},
				Tenant: tenant(map[identityv1alpha1.SyncFeature]bool{upnMatch: false}),
				Now:    t0,
			},
			want: outcome{
				Write:    true,
				Sent:     map[string]bool{string(upnMatch): true},
				Changes:  []Change{{Feature: upnMatch, From: false, To: true, Source: SourceSpec}},
				Original: flags(map[identityv1alpha1.SyncFeature]bool{upnMatch: false}),
			},
		},
		{
			name: "accidental deletion prevention is part of the same write",
			doc:  docSync + " (configuration.accidentalDeletionPrevention)",
			in: Input{
				Spec: identityv1alpha1.TenantSyncFeaturesSpec{AccidentalDeletionPrevention: &identityv1alpha1.AccidentalDeletionPrevention{
					SynchronizationPreventionType: identityv1alpha1.PreventionEnabledForPercentage, AlertThreshold: ptr(int32(10))}},
				Tenant: tenant(nil),
				Now:    t0,
			},
			want: outcome{
				Write: true,
				ADP: &DeletionPreventionChange{
					From: &cloud.AccidentalDeletionPrevention{SynchronizationPreventionType: "enabledForCount", AlertThreshold: 500},
					To:   cloud.AccidentalDeletionPrevention{SynchronizationPreventionType: "enabledForPercentage", AlertThreshold: 10},
				},
			},
		},
		{
			name: "deletion prevention without a threshold keeps the tenant's, and drift is noticed",
			in: Input{
				Spec: identityv1alpha1.TenantSyncFeaturesSpec{AccidentalDeletionPrevention: &identityv1alpha1.AccidentalDeletionPrevention{
					SynchronizationPreventionType: identityv1alpha1.PreventionEnabledForCount}},
				Status: identityv1alpha1.TenantSyncFeaturesStatus{ObservedAccidentalDeletionPrevention: &identityv1alpha1.ObservedAccidentalDeletionPrevention{
					SynchronizationPreventionType: "enabledForCount", AlertThreshold: ptr(int32(300))}},
				Tenant: func() cloud.SyncSettings {
					s := tenant(nil)
					s.AccidentalDeletionPrevention = &cloud.AccidentalDeletionPrevention{SynchronizationPreventionType: "disabled", AlertThreshold: 300}
					return s
				}(),
				Now: t0,
			},
			want: outcome{
				Write: true,
				ADP: &DeletionPreventionChange{
					From:  &cloud.AccidentalDeletionPrevention{SynchronizationPreventionType: "disabled", AlertThreshold: 300},
					To:    cloud.AccidentalDeletionPrevention{SynchronizationPreventionType: "enabledForCount", AlertThreshold: 300},
					Drift: true,
				},
			},
		},
		{
			name: "deletion prevention disabled ignores the threshold",
			in: Input{
				Spec: identityv1alpha1.TenantSyncFeaturesSpec{AccidentalDeletionPrevention: &identityv1alpha1.AccidentalDeletionPrevention{
					SynchronizationPreventionType: identityv1alpha1.PreventionDisabled, AlertThreshold: ptr(int32(5))}},
				Tenant: func() cloud.SyncSettings {
					s := tenant(nil)
					s.AccidentalDeletionPrevention = &cloud.AccidentalDeletionPrevention{SynchronizationPreventionType: "disabled", AlertThreshold: 500}
					return s
				}(),
				Now: t0,
			},
			want: outcome{},
		},

		// Matching windows.
		{
			name: "a window opens at once in Enforce mode, recording when and the value it replaces",
			doc:  docFeature + " (blockSoftMatchEnabled: enable again after soft matching has completed)",
			in: Input{
				Spec: identityv1alpha1.TenantSyncFeaturesSpec{
					Features:        flags(map[identityv1alpha1.SyncFeature]bool{block: true}),
					MatchingWindows: []identityv1alpha1.MatchingWindow{durationWindow("wave-1", block, false, 2*time.Hour)},
				},
				Status: identityv1alpha1.TenantSyncFeaturesStatus{Observed: flags(map[identityv1alpha1.SyncFeature]bool{block: true})},
				Tenant: tenant(map[identityv1alpha1.SyncFeature]bool{block: true}),
				Now:    t0,
			},
			want: outcome{
				Write:   true,
				Sent:    map[string]bool{string(block): false},
				Changes: []Change{{Feature: block, From: true, To: false, Source: SourceWindow, Window: "wave-1"}},
				Windows: []identityv1alpha1.WindowStatus{{Name: "wave-1", Feature: block, Value: false, State: identityv1alpha1.WindowActive,
					ActiveSince: sec(t0), ExpiresAt: sec(t0.Add(2 * time.Hour)), PreviousValue: ptr(true)}},
				Opened:    []WindowEvent{{Name: "wave-1", Feature: block, Value: false, ExpiresAt: t0.Truncate(time.Second).Add(2 * time.Hour)}},
				Original:  flags(map[identityv1alpha1.SyncFeature]bool{block: true}),
				NextCheck: ptr(t0.Truncate(time.Second).Add(2 * time.Hour)),
			},
		},
		{
			name: "an active window counts from its recorded start, so a restart does not extend it",
			in: Input{
				Spec: identityv1alpha1.TenantSyncFeaturesSpec{
					Features:        flags(map[identityv1alpha1.SyncFeature]bool{block: true}),
					MatchingWindows: []identityv1alpha1.MatchingWindow{durationWindow("wave-1", block, false, 2*time.Hour)},
				},
				Status: identityv1alpha1.TenantSyncFeaturesStatus{
					Observed: flags(map[identityv1alpha1.SyncFeature]bool{block: false}),
					Windows: []identityv1alpha1.WindowStatus{{Name: "wave-1", Feature: block, State: identityv1alpha1.WindowActive,
						ActiveSince: sec(activeSince), ExpiresAt: sec(activeSince.Add(2 * time.Hour)), PreviousValue: ptr(true)}},
				},
				Tenant: tenant(map[identityv1alpha1.SyncFeature]bool{block: false}),
				Now:    t0,
			},
			want: outcome{
				Windows: []identityv1alpha1.WindowStatus{{Name: "wave-1", Feature: block, Value: false, State: identityv1alpha1.WindowActive,
					ActiveSince: sec(activeSince), ExpiresAt: sec(activeSince.Add(2 * time.Hour)), PreviousValue: ptr(true)}},
				NextCheck: ptr(activeSince.Truncate(time.Second).Add(2 * time.Hour)),
			},
		},
		{
			name: "drift while a window is open is set back to the window's value",
			in: Input{
				Spec: identityv1alpha1.TenantSyncFeaturesSpec{
					Features:        flags(map[identityv1alpha1.SyncFeature]bool{block: true}),
					MatchingWindows: []identityv1alpha1.MatchingWindow{durationWindow("wave-1", block, false, 2*time.Hour)},
				},
				Status: identityv1alpha1.TenantSyncFeaturesStatus{
					Observed: flags(map[identityv1alpha1.SyncFeature]bool{block: false}),
					Original: flags(map[identityv1alpha1.SyncFeature]bool{block: true}),
					Windows: []identityv1alpha1.WindowStatus{{Name: "wave-1", Feature: block, State: identityv1alpha1.WindowActive,
						ActiveSince: sec(activeSince), PreviousValue: ptr(true)}},
				},
				Tenant: tenant(map[identityv1alpha1.SyncFeature]bool{block: true}),
				Now:    t0,
			},
			want: outcome{
				Write:   true,
				Sent:    map[string]bool{string(block): false},
				Changes: []Change{{Feature: block, From: true, To: false, Source: SourceWindow, Window: "wave-1", Drift: true}},
				Windows: []identityv1alpha1.WindowStatus{{Name: "wave-1", Feature: block, Value: false, State: identityv1alpha1.WindowActive,
					ActiveSince: sec(activeSince), ExpiresAt: sec(activeSince.Add(2 * time.Hour)), PreviousValue: ptr(true)}},
				Original:  flags(map[identityv1alpha1.SyncFeature]bool{block: true}),
				NextCheck: ptr(activeSince.Truncate(time.Second).Add(2 * time.Hour)),
			},
		},
		{
			name: "a window is still open one nanosecond before its end",
			in: Input{
				Spec: identityv1alpha1.TenantSyncFeaturesSpec{
					Features:        flags(map[identityv1alpha1.SyncFeature]bool{block: true}),
					MatchingWindows: []identityv1alpha1.MatchingWindow{durationWindow("wave-1", block, false, time.Hour)},
				},
				Status: identityv1alpha1.TenantSyncFeaturesStatus{Windows: []identityv1alpha1.WindowStatus{{Name: "wave-1", Feature: block,
					State: identityv1alpha1.WindowActive, ActiveSince: sec(activeSince), PreviousValue: ptr(true)}}},
				Tenant: tenant(map[identityv1alpha1.SyncFeature]bool{block: false}),
				Now:    activeSince.Truncate(time.Second).Add(time.Hour - time.Nanosecond),
			},
			want: outcome{
				Windows: []identityv1alpha1.WindowStatus{{Name: "wave-1", Feature: block, Value: false, State: identityv1alpha1.WindowActive,
					ActiveSince: sec(activeSince), ExpiresAt: sec(activeSince.Add(time.Hour)), PreviousValue: ptr(true)}},
				NextCheck: ptr(activeSince.Truncate(time.Second).Add(time.Hour)),
			},
		},
		{
			name: "a window closes at the exact instant it ends and the spec value comes back",
			doc:  docFeature + " (blockSoftMatchEnabled: enable again after soft matching has completed)",
			in: Input{
				Spec: identityv1alpha1.TenantSyncFeaturesSpec{
					Features:        flags(map[identityv1alpha1.SyncFeature]bool{block: true}),
					MatchingWindows: []identityv1alpha1.MatchingWindow{durationWindow("wave-1", block, false, time.Hour)},
				},
				Status: identityv1alpha1.TenantSyncFeaturesStatus{
					Observed: flags(map[identityv1alpha1.SyncFeature]bool{block: false}),
					Original: flags(map[identityv1alpha1.SyncFeature]bool{block: true}),
					Windows: []identityv1alpha1.WindowStatus{{Name: "wave-1", Feature: block, State: identityv1alpha1.WindowActive,
						ActiveSince: sec(activeSince), PreviousValue: ptr(false)}},
				},
				Tenant: tenant(map[identityv1alpha1.SyncFeature]bool{block: false}),
				Now:    activeSince.Truncate(time.Second).Add(time.Hour),
			},
			want: outcome{
				Write:   true,
				Sent:    map[string]bool{string(block): true},
				Changes: []Change{{Feature: block, From: false, To: true, Source: SourceSpec}},
				Windows: []identityv1alpha1.WindowStatus{{Name: "wave-1", Feature: block, Value: false, State: identityv1alpha1.WindowExpired,
					ActiveSince: sec(activeSince), ExpiresAt: sec(activeSince.Add(time.Hour)), PreviousValue: ptr(false)}},
				Closed:   []WindowEvent{{Name: "wave-1", Feature: block, Value: false, Back: ptr(true)}},
				Original: flags(map[identityv1alpha1.SyncFeature]bool{block: true}),
			},
		},
		{
			name: "a window on a flag the spec leaves alone hands back the value from before it opened",
			in: Input{
				Spec: identityv1alpha1.TenantSyncFeaturesSpec{
					MatchingWindows: []identityv1alpha1.MatchingWindow{untilWindow("objid", allowOID, true, t0)},
				},
				Status: identityv1alpha1.TenantSyncFeaturesStatus{
					Observed: flags(map[identityv1alpha1.SyncFeature]bool{allowOID: true}),
					Windows: []identityv1alpha1.WindowStatus{{Name: "objid", Feature: allowOID, Value: true, State: identityv1alpha1.WindowActive,
						ActiveSince: sec(activeSince), PreviousValue: ptr(false)}},
				},
				Tenant: tenant(map[identityv1alpha1.SyncFeature]bool{allowOID: true}),
				Now:    t0,
			},
			want: outcome{
				Write:   true,
				Sent:    map[string]bool{string(allowOID): false},
				Changes: []Change{{Feature: allowOID, From: true, To: false, Source: SourceWindowClosed, Window: "objid"}},
				Windows: []identityv1alpha1.WindowStatus{{Name: "objid", Feature: allowOID, Value: true, State: identityv1alpha1.WindowExpired,
					ActiveSince: sec(activeSince), ExpiresAt: sec(t0), PreviousValue: ptr(false)}},
				Closed:   []WindowEvent{{Name: "objid", Feature: allowOID, Value: true, Back: ptr(false)}},
				Original: flags(map[identityv1alpha1.SyncFeature]bool{allowOID: true}),
			},
		},
		{
			name: "an expired window no longer governs a flag the spec leaves alone",
			in: Input{
				Spec: identityv1alpha1.TenantSyncFeaturesSpec{
					MatchingWindows: []identityv1alpha1.MatchingWindow{untilWindow("objid", allowOID, true, activeSince)},
				},
				Status: identityv1alpha1.TenantSyncFeaturesStatus{
					Observed: flags(map[identityv1alpha1.SyncFeature]bool{allowOID: false}),
					Windows: []identityv1alpha1.WindowStatus{{Name: "objid", Feature: allowOID, Value: true, State: identityv1alpha1.WindowExpired,
						ActiveSince: sec(activeSince.Add(-time.Hour)), PreviousValue: ptr(false)}},
				},
				Tenant: tenant(map[identityv1alpha1.SyncFeature]bool{allowOID: true}),
				Now:    t0,
			},
			want: outcome{
				Windows: []identityv1alpha1.WindowStatus{{Name: "objid", Feature: allowOID, Value: true, State: identityv1alpha1.WindowExpired,
					ActiveSince: sec(activeSince.Add(-time.Hour)), ExpiresAt: sec(activeSince), PreviousValue: ptr(false)}},
			},
		},
		{
			name: "a window whose end passed before it was ever applied never opens",
			in: Input{
				Spec: identityv1alpha1.TenantSyncFeaturesSpec{
					Features:        flags(map[identityv1alpha1.SyncFeature]bool{block: true}),
					MatchingWindows: []identityv1alpha1.MatchingWindow{untilWindow("late", block, false, t0.Truncate(time.Second))},
				},
				Tenant: tenant(map[identityv1alpha1.SyncFeature]bool{block: true}),
				Now:    t0,
			},
			want: outcome{
				Windows: []identityv1alpha1.WindowStatus{{Name: "late", Feature: block, Value: false, State: identityv1alpha1.WindowExpired,
					ExpiresAt: sec(t0)}},
			},
		},
		{
			name: "an until window opens now and is checked again at its end",
			in: Input{
				Spec: identityv1alpha1.TenantSyncFeaturesSpec{
					MatchingWindows: []identityv1alpha1.MatchingWindow{untilWindow("friday", hardBlock, false, t0.Add(48*time.Hour).Truncate(time.Second))},
				},
				Tenant: tenant(map[identityv1alpha1.SyncFeature]bool{hardBlock: true}),
				Now:    t0,
			},
			want: outcome{
				Write:   true,
				Sent:    map[string]bool{string(hardBlock): false},
				Changes: []Change{{Feature: hardBlock, From: true, To: false, Source: SourceWindow, Window: "friday"}},
				Windows: []identityv1alpha1.WindowStatus{{Name: "friday", Feature: hardBlock, Value: false, State: identityv1alpha1.WindowActive,
					ActiveSince: sec(t0), ExpiresAt: sec(t0.Add(48 * time.Hour)), PreviousValue: ptr(true)}},
				Opened:    []WindowEvent{{Name: "friday", Feature: hardBlock, Value: false, ExpiresAt: t0.Add(48 * time.Hour).Truncate(time.Second)}},
				Original:  flags(map[identityv1alpha1.SyncFeature]bool{hardBlock: true}),
				NextCheck: ptr(t0.Add(48 * time.Hour).Truncate(time.Second)),
			},
		},
		{
			name: "a window already matching the tenant opens without a write",
			in: Input{
				Spec: identityv1alpha1.TenantSyncFeaturesSpec{
					MatchingWindows: []identityv1alpha1.MatchingWindow{durationWindow("noop", block, false, time.Minute)},
				},
				Tenant: tenant(nil),
				Now:    t0,
			},
			want: outcome{
				Windows: []identityv1alpha1.WindowStatus{{Name: "noop", Feature: block, Value: false, State: identityv1alpha1.WindowActive,
					ActiveSince: sec(t0), ExpiresAt: sec(t0.Add(time.Minute)), PreviousValue: ptr(false)}},
				Opened:    []WindowEvent{{Name: "noop", Feature: block, Value: false, ExpiresAt: t0.Truncate(time.Second).Add(time.Minute)}},
				NextCheck: ptr(t0.Truncate(time.Second).Add(time.Minute)),
			},
		},
		{
			name: "a window taken out of the spec while open closes now and leaves status",
			in: Input{
				Spec: identityv1alpha1.TenantSyncFeaturesSpec{Features: flags(map[identityv1alpha1.SyncFeature]bool{block: true})},
				Status: identityv1alpha1.TenantSyncFeaturesStatus{
					Observed: flags(map[identityv1alpha1.SyncFeature]bool{block: false}),
					Windows: []identityv1alpha1.WindowStatus{{Name: "wave-1", Feature: block, State: identityv1alpha1.WindowActive,
						ActiveSince: sec(activeSince), PreviousValue: ptr(true)}},
				},
				Tenant: tenant(nil),
				Now:    t0,
			},
			want: outcome{
				Write:    true,
				Sent:     map[string]bool{string(block): true},
				Changes:  []Change{{Feature: block, From: false, To: true, Source: SourceSpec}},
				Closed:   []WindowEvent{{Name: "wave-1", Feature: block, Value: false, Back: ptr(true)}},
				Original: flags(map[identityv1alpha1.SyncFeature]bool{block: false}),
			},
		},
		{
			name: "a window moved to another flag hands the old flag back and opens on the new one",
			in: Input{
				Spec: identityv1alpha1.TenantSyncFeaturesSpec{
					MatchingWindows: []identityv1alpha1.MatchingWindow{durationWindow("wave-1", hardBlock, false, time.Hour)},
				},
				Status: identityv1alpha1.TenantSyncFeaturesStatus{
					Observed: flags(map[identityv1alpha1.SyncFeature]bool{block: false, hardBlock: true}),
					Original: flags(map[identityv1alpha1.SyncFeature]bool{block: true}),
					Windows: []identityv1alpha1.WindowStatus{{Name: "wave-1", Feature: block, State: identityv1alpha1.WindowActive,
						ActiveSince: sec(activeSince), PreviousValue: ptr(true)}},
				},
				Tenant: tenant(map[identityv1alpha1.SyncFeature]bool{hardBlock: true}),
				Now:    t0,
			},
			want: outcome{
				Write: true,
				Sent:  map[string]bool{string(block): true, string(hardBlock): false},
				Changes: []Change{
					{Feature: hardBlock, From: true, To: false, Source: SourceWindow, Window: "wave-1"},
					{Feature: block, From: false, To: true, Source: SourceWindowClosed, Window: "wave-1"},
				},
				Windows: []identityv1alpha1.WindowStatus{{Name: "wave-1", Feature: hardBlock, Value: false, State: identityv1alpha1.WindowActive,
					ActiveSince: sec(t0), ExpiresAt: sec(t0.Add(time.Hour)), PreviousValue: ptr(true)}},
				Opened:    []WindowEvent{{Name: "wave-1", Feature: hardBlock, Value: false, ExpiresAt: t0.Truncate(time.Second).Add(time.Hour)}},
				Closed:    []WindowEvent{{Name: "wave-1", Feature: block, Value: false, Back: ptr(true)}},
				Original:  flags(map[identityv1alpha1.SyncFeature]bool{block: true, hardBlock: true}),
				NextCheck: ptr(t0.Truncate(time.Second).Add(time.Hour)),
			},
		},
		{
			name: "in Observe mode a window stays pending, its duration not started, and reports what it would change",
			in: Input{
				Spec: identityv1alpha1.TenantSyncFeaturesSpec{
					Mode:     identityv1alpha1.ModeObserve,
					Features: flags(map[identityv1alpha1.SyncFeature]bool{block: true}),
					MatchingWindows: []identityv1alpha1.MatchingWindow{
						durationWindow("wave-1", block, false, time.Hour),
						untilWindow("friday", hardBlock, false, t0.Add(time.Hour).Truncate(time.Second)),
					},
				},
				Tenant: tenant(map[identityv1alpha1.SyncFeature]bool{block: true, hardBlock: true}),
				Now:    t0,
			},
			want: outcome{
				Changes: []Change{
					{Feature: hardBlock, From: true, To: false, Source: SourceWindow, Window: "friday"},
					{Feature: block, From: true, To: false, Source: SourceWindow, Window: "wave-1"},
				},
				Differences: []identityv1alpha1.FeatureDifference{diff(hardBlock, false, true), diff(block, false, true)},
				Windows: []identityv1alpha1.WindowStatus{
					{Name: "wave-1", Feature: block, Value: false, State: identityv1alpha1.WindowPending},
					{Name: "friday", Feature: hardBlock, Value: false, State: identityv1alpha1.WindowPending, ExpiresAt: sec(t0.Add(time.Hour))},
				},
				NextCheck: ptr(t0.Add(time.Hour).Truncate(time.Second)),
			},
		},
		{
			name: "a window that turned a one-way flag on cannot hand it back",
			doc:  docFeature + " (softMatchOnUpnEnabled cannot be turned off once enabled)",
			in: Input{
				Spec: identityv1alpha1.TenantSyncFeaturesSpec{
					MatchingWindows: []identityv1alpha1.MatchingWindow{durationWindow("upn", upnMatch, true, time.Hour)},
				},
				Status: identityv1alpha1.TenantSyncFeaturesStatus{
					Observed: flags(map[identityv1alpha1.SyncFeature]bool{upnMatch: true}),
					Windows: []identityv1alpha1.WindowStatus{{Name: "upn", Feature: upnMatch, Value: true, State: identityv1alpha1.WindowActive,
						ActiveSince: sec(activeSince), PreviousValue: ptr(false)}},
				},
				Tenant: tenant(nil),
				Now:    t0,
			},
			want: outcome{
				Refused:     []Refusal{{Feature: upnMatch, Desired: false, Actual: true, Reason: "softMatchOnUpnEnabled cannot be turned off once it is on"}},
				Differences: []identityv1alpha1.FeatureDifference{diff(upnMatch, false, true)},
				Windows: []identityv1alpha1.WindowStatus{{Name: "upn", Feature: upnMatch, Value: true, State: identityv1alpha1.WindowExpired,
					ActiveSince: sec(activeSince), ExpiresAt: sec(activeSince.Add(time.Hour)), PreviousValue: ptr(false)}},
				Closed: []WindowEvent{{Name: "upn", Feature: upnMatch, Value: true, Back: ptr(false)}},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Decide(tc.in)
			if d := cmp.Diff(tc.want, outcomeOf(tc.in, got)); d != "" {
				t.Errorf("Decide (-want +got):\n%s", d)
			}
			// Whatever the case, the write carries every flag the tenant
			// returned, and nothing it did not.
			if len(got.Settings.Features) != len(tc.in.Tenant.Features) || got.Settings.ID != tc.in.Tenant.ID {
				t.Errorf("settings to send have %d flags and id %q; the tenant has %d and %q",
					len(got.Settings.Features), got.Settings.ID, len(tc.in.Tenant.Features), tc.in.Tenant.ID)
			}
			if d := cmp.Diff(Flags(tc.in.Tenant.Features), got.Observed); d != "" {
				t.Errorf("Observed is not the tenant as read (-want +got):\n%s", d)
			}
			wantAfter := got.Observed
			if got.Write {
				wantAfter = Flags(got.Settings.Features)
			}
			if d := cmp.Diff(wantAfter, got.After); d != "" {
				t.Errorf("After (-want +got):\n%s", d)
			}
		})
	}
}

// Decide must not change its input: the reconciler keeps the status it
// read to compute a patch.
func TestDecideLeavesInputAlone(t *testing.T) {
	in := Input{
		Spec: identityv1alpha1.TenantSyncFeaturesSpec{
			Features:        flags(map[identityv1alpha1.SyncFeature]bool{block: true}),
			MatchingWindows: []identityv1alpha1.MatchingWindow{durationWindow("w", hardBlock, false, time.Hour)},
		},
		Status: identityv1alpha1.TenantSyncFeaturesStatus{Original: flags(map[identityv1alpha1.SyncFeature]bool{pwSync: true})},
		Tenant: tenant(nil),
		Now:    t0,
	}
	// The snapshot is built independently, not with the code under test.
	before := Input{Spec: *in.Spec.DeepCopy(), Status: *in.Status.DeepCopy(), Tenant: tenant(nil), Now: in.Now}
	p := Decide(in)
	if !p.Write {
		t.Fatalf("expected a write")
	}
	if d := cmp.Diff(before, in); d != "" {
		t.Errorf("Decide changed its input (-before +after):\n%s", d)
	}
}

func TestPending(t *testing.T) {
	p := Plan{
		Changes: []Change{{Feature: pwSync, From: false, To: true}, {Feature: block, From: false, To: true}},
		Refused: []Refusal{{Feature: upnMatch, Desired: false, Actual: true}},
	}
	want := []identityv1alpha1.FeatureDifference{diff(block, true, false), diff(pwSync, true, false), diff(upnMatch, false, true)}
	if d := cmp.Diff(want, p.Pending()); d != "" {
		t.Errorf("Pending (-want +got):\n%s", d)
	}
}

func TestUnapplied(t *testing.T) {
	prev := []identityv1alpha1.WindowStatus{{Name: "open", Feature: block, State: identityv1alpha1.WindowActive, ActiveSince: sec(t0.Add(-2 * time.Hour)), PreviousValue: ptr(true)}}
	spec := []identityv1alpha1.MatchingWindow{
		durationWindow("open", block, false, time.Hour), // expired meanwhile: kept active until a write hands the flag back
		durationWindow("new", hardBlock, false, time.Hour),
		untilWindow("past", pwSync, true, t0.Add(-time.Minute).Truncate(time.Second)),
		untilWindow("future", allowOID, true, t0.Add(time.Minute).Truncate(time.Second)),
	}
	want := []identityv1alpha1.WindowStatus{
		prev[0],
		{Name: "new", Feature: hardBlock, State: identityv1alpha1.WindowPending},
		{Name: "past", Feature: pwSync, Value: true, State: identityv1alpha1.WindowExpired, ExpiresAt: sec(t0.Add(-time.Minute))},
		{Name: "future", Feature: allowOID, Value: true, State: identityv1alpha1.WindowPending, ExpiresAt: sec(t0.Add(time.Minute))},
	}
	if d := cmp.Diff(want, Unapplied(spec, prev, t0)); d != "" {
		t.Errorf("Unapplied (-want +got):\n%s", d)
	}
}

func TestRestore(t *testing.T) {
	cases := []struct {
		name     string
		doc      string
		original *identityv1alpha1.SyncFeatureFlags
		tenant   cloud.SyncSettings
		sent     map[string]bool
		changes  []Change
		refused  []Refusal
	}{
		{
			name:     "nothing recorded: nothing to restore",
			original: nil,
			tenant:   tenant(map[identityv1alpha1.SyncFeature]bool{block: true}),
		},
		{
			name:     "recorded flags go back, the others stay as they are",
			original: flags(map[identityv1alpha1.SyncFeature]bool{block: false, hardBlock: false}),
			tenant:   tenant(map[identityv1alpha1.SyncFeature]bool{block: true, hardBlock: false, pwSync: true}),
			sent:     map[string]bool{string(block): false},
			changes:  []Change{{Feature: block, From: true, To: false, Source: SourceOriginal}},
		},
		{
			name:     "a one-way flag cannot go back to off",
			doc:      docFeature + " (synchronizeUpnForManagedUsersEnabled cannot be turned off once enabled)",
			original: flags(map[identityv1alpha1.SyncFeature]bool{identityv1alpha1.FeatureSynchronizeUpnForManagedUsers: false}),
			tenant:   tenant(map[identityv1alpha1.SyncFeature]bool{identityv1alpha1.FeatureSynchronizeUpnForManagedUsers: true}),
			refused: []Refusal{{Feature: identityv1alpha1.FeatureSynchronizeUpnForManagedUsers, Desired: false, Actual: true,
				Reason: "synchronizeUpnForManagedUsersEnabled cannot be turned off once it is on"}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, changes, refused := Restore(tc.original, tc.tenant)
			var sent map[string]bool
			for k, v := range s.Features {
				if tc.tenant.Features[k] != v {
					if sent == nil {
						sent = map[string]bool{}
					}
					sent[k] = v
				}
			}
			if d := cmp.Diff(tc.sent, sent); d != "" {
				t.Errorf("sent (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.changes, changes); d != "" {
				t.Errorf("changes (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.refused, refused); d != "" {
				t.Errorf("refused (-want +got):\n%s", d)
			}
			if len(s.Features) != len(tc.tenant.Features) {
				t.Errorf("restore sends %d flags, the tenant has %d", len(s.Features), len(tc.tenant.Features))
			}
		})
	}
}

func TestGovernor(t *testing.T) {
	cases := []struct {
		name   string
		claims []Claim
		want   string
	}{
		{name: "none", claims: nil, want: ""},
		{name: "one", claims: []Claim{{Name: "a", Created: t0}}, want: "a"},
		{name: "the oldest wins", claims: []Claim{{Name: "a", Created: t0}, {Name: "b", Created: t0.Add(-time.Second)}}, want: "b"},
		{name: "a tie goes to the first name", claims: []Claim{{Name: "z", Created: t0}, {Name: "m", Created: t0}, {Name: "y", Created: t0}}, want: "m"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := Governor(tc.claims)
			if ok != (tc.want != "") || got.Name != tc.want {
				t.Errorf("Governor = %q, %v; want %q", got.Name, ok, tc.want)
			}
		})
	}
}

func TestFlagsKeepsOnlyDocumentedFlags(t *testing.T) {
	got := Flags(map[string]bool{string(block): true, "someFutureFlagEnabled": true})
	want := flags(map[identityv1alpha1.SyncFeature]bool{block: true})
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Flags (-want +got):\n%s", d)
	}
}

// Intent is recorded before the write: a window opening must already carry
// its start and the value it replaces, and a window closing must still be
// active, so that a write that fails is simply tried again.
func TestIntent(t *testing.T) {
	started := t0.Add(-time.Hour)
	active := identityv1alpha1.WindowStatus{Name: "wave-1", Feature: block, Value: false, State: identityv1alpha1.WindowActive,
		ActiveSince: sec(started), ExpiresAt: sec(started.Add(time.Hour)), PreviousValue: ptr(true)}
	cases := []struct {
		name   string
		spec   []identityv1alpha1.MatchingWindow
		prev   []identityv1alpha1.WindowStatus
		intent []identityv1alpha1.WindowStatus
	}{
		{
			name: "an opening window is recorded as active with its start and previous value",
			spec: []identityv1alpha1.MatchingWindow{durationWindow("wave-1", block, false, time.Hour)},
			intent: []identityv1alpha1.WindowStatus{{Name: "wave-1", Feature: block, Value: false, State: identityv1alpha1.WindowActive,
				ActiveSince: sec(t0), ExpiresAt: sec(t0.Add(time.Hour)), PreviousValue: ptr(true)}},
		},
		{
			name:   "a window closing at its end stays active until the flag is handed back",
			spec:   []identityv1alpha1.MatchingWindow{durationWindow("wave-1", block, false, time.Hour)},
			prev:   []identityv1alpha1.WindowStatus{active},
			intent: []identityv1alpha1.WindowStatus{active},
		},
		{
			name:   "a window taken out of the spec stays active until the flag is handed back",
			prev:   []identityv1alpha1.WindowStatus{active},
			intent: []identityv1alpha1.WindowStatus{active},
		},
		{
			name:   "a window moved to another flag keeps the old one until it is handed back",
			spec:   []identityv1alpha1.MatchingWindow{durationWindow("wave-1", hardBlock, false, time.Hour)},
			prev:   []identityv1alpha1.WindowStatus{active},
			intent: []identityv1alpha1.WindowStatus{active},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := Input{
				Spec:   identityv1alpha1.TenantSyncFeaturesSpec{MatchingWindows: tc.spec},
				Status: identityv1alpha1.TenantSyncFeaturesStatus{Windows: tc.prev},
				// Before a window opens the tenant blocks; while it is open, not.
				Tenant: tenant(map[identityv1alpha1.SyncFeature]bool{block: tc.prev == nil, hardBlock: true}),
				Now:    started.Truncate(time.Second).Add(time.Hour),
			}
			if tc.prev == nil {
				in.Now = t0
			}
			p := Decide(in)
			if !p.Write {
				t.Fatalf("expected a write")
			}
			if d := cmp.Diff(tc.intent, p.Intent); d != "" {
				t.Errorf("Intent (-want +got):\n%s", d)
			}
		})
	}
}

// Windows fail closed: switching to Observe closes an active window and
// hands its flag back (the only write Observe makes), no window outlives
// MaxWindowDuration whatever until says, and a deletion closes what is open.
func TestWindowsCloseWhateverTheMode(t *testing.T) {
	block := identityv1alpha1.FeatureBlockSoftMatch
	hardBlock := identityv1alpha1.FeatureBlockCloudObjectTakeoverThroughHardMatch
	start := t0.Add(-time.Hour).Truncate(time.Second)
	active := identityv1alpha1.WindowStatus{Name: "wave-1", Feature: block, Value: false, State: identityv1alpha1.WindowActive,
		ActiveSince: sec(start), ExpiresAt: sec(start.Add(2 * time.Hour)), PreviousValue: ptr(true)}

	p := Decide(Input{
		Spec: identityv1alpha1.TenantSyncFeaturesSpec{Mode: identityv1alpha1.ModeObserve,
			Features:        flags(map[identityv1alpha1.SyncFeature]bool{hardBlock: true}),
			MatchingWindows: []identityv1alpha1.MatchingWindow{durationWindow("wave-1", block, false, 2*time.Hour)}},
		Status: identityv1alpha1.TenantSyncFeaturesStatus{Windows: []identityv1alpha1.WindowStatus{active}},
		Tenant: tenant(map[identityv1alpha1.SyncFeature]bool{block: false, hardBlock: false}),
		Now:    t0,
	})
	if !p.Write || len(p.Closing) != 1 || p.Closing[0].Feature != block || !p.Settings.Features[string(block)] {
		t.Errorf("Observe with an active window: write %v, closing %+v", p.Write, p.Closing)
	}
	if p.Settings.Features[string(hardBlock)] {
		t.Error("Observe mode sent a spec change that is not a closing window's")
	}
	if len(p.Windows) != 1 || p.Windows[0].State != identityv1alpha1.WindowExpired || len(p.Closed) != 1 {
		t.Errorf("window after Observe: %+v, closed %+v", p.Windows, p.Closed)
	}

	// until a year ahead: the window still closes MaxWindowDuration after it opened.
	far := untilWindow("far", block, false, t0.Add(365*24*time.Hour))
	p = Decide(Input{
		Spec:   identityv1alpha1.TenantSyncFeaturesSpec{MatchingWindows: []identityv1alpha1.MatchingWindow{far}},
		Tenant: tenant(map[identityv1alpha1.SyncFeature]bool{block: true}),
		Now:    t0,
	})
	if len(p.Windows) != 1 || p.Windows[0].ExpiresAt == nil || !p.Windows[0].ExpiresAt.Time.Equal(t0.Truncate(time.Second).Add(identityv1alpha1.MaxWindowDuration)) {
		t.Errorf("a far until is not capped: %+v", p.Windows)
	}
	later := Decide(Input{
		Spec:   identityv1alpha1.TenantSyncFeaturesSpec{MatchingWindows: []identityv1alpha1.MatchingWindow{far}},
		Status: identityv1alpha1.TenantSyncFeaturesStatus{Windows: p.Windows},
		Tenant: tenant(map[identityv1alpha1.SyncFeature]bool{block: false}),
		Now:    t0.Add(identityv1alpha1.MaxWindowDuration + time.Minute),
	})
	if !later.Write || !later.Settings.Features[string(block)] {
		t.Errorf("after the cap the flag is not handed back: %+v", later.Changes)
	}

	// Deletion: active windows hand their flags back, others are left.
	settings, changes, _ := CloseWindows([]identityv1alpha1.WindowStatus{active,
		{Name: "old", Feature: hardBlock, State: identityv1alpha1.WindowExpired, PreviousValue: ptr(true)}},
		tenant(map[identityv1alpha1.SyncFeature]bool{block: false, hardBlock: false}))
	if len(changes) != 1 || !settings.Features[string(block)] || settings.Features[string(hardBlock)] {
		t.Errorf("CloseWindows = %+v", changes)
	}
}
