package syncfeatures

import (
	"time"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/cloud"
)

// Input is everything one decision needs, read before any write.
type Input struct {
	Spec identityv1alpha1.TenantSyncFeaturesSpec
	// Status is what earlier passes recorded: the flags last seen, the
	// windows' start times and previous values, the original values.
	Status identityv1alpha1.TenantSyncFeaturesStatus
	// Tenant is the whole synchronization object as read now.
	Tenant cloud.SyncSettings
	Now    time.Time
}

// Source says why a flag is to have a value.
type Source string

const (
	// SourceSpec: spec.features sets the flag.
	SourceSpec Source = "Spec"
	// SourceWindow: an open matching window overrides the flag.
	SourceWindow Source = "Window"
	// SourceWindowClosed: a window closed and spec does not set the flag,
	// so it goes back to its value from before the window.
	SourceWindowClosed Source = "WindowClosed"
	// SourceOriginal: deletion policy RestoreOriginal.
	SourceOriginal Source = "Original"
)

// Change is one flag the plan sets.
type Change struct {
	Feature identityv1alpha1.SyncFeature
	From    bool
	To      bool
	Source  Source
	// Window names the window for SourceWindow and SourceWindowClosed.
	Window string
	// Drift: the flag had its desired value when last read and someone
	// changed it since, outside the operator.
	Drift bool
}

// Refusal is a flag that should change but that Entra does not let change.
type Refusal struct {
	Feature identityv1alpha1.SyncFeature
	Desired bool
	Actual  bool
	Reason  string
}

// DeletionPreventionChange is a change of accidentalDeletionPrevention.
type DeletionPreventionChange struct {
	// From is nil when the tenant returned none.
	From  *cloud.AccidentalDeletionPrevention
	To    cloud.AccidentalDeletionPrevention
	Drift bool
}

// WindowEvent is a window that opened or closed in this pass.
type WindowEvent struct {
	Name    string
	Feature identityv1alpha1.SyncFeature
	Value   bool
	// ExpiresAt is when an opened window closes.
	ExpiresAt time.Time
	// Back is the value a closed window's flag goes back to; nil when
	// nothing governs the flag any more and it is left as it is.
	Back *bool
}

// Plan is the decision of one pass.
type Plan struct {
	// Write says to send Settings: the mode is Enforce and something
	// differs, or (any mode) a closing window hands its flag back.
	Write bool
	// Closing are the changes Observe mode still writes: the flags of
	// windows that close.
	Closing []Change
	// Applied are the changes Settings carries: all of Changes in Enforce
	// mode, Closing in Observe mode.
	Applied []Change
	// Settings is the whole synchronization object to send: the tenant's,
	// with the governed values changed. Flags nobody governs keep the
	// tenant's values.
	Settings cloud.SyncSettings
	// Changes are the flags that differ from their desired values, in
	// Graph's order; in Observe mode they are what Enforce would change.
	Changes []Change
	// DeletionPrevention is set when accidentalDeletionPrevention differs.
	DeletionPrevention *DeletionPreventionChange
	// Refused are differences that no write can remove.
	Refused []Refusal
	// Differences are what will still differ once the plan is carried out
	// (all of Changes in Observe mode, only Refused in Enforce mode).
	Differences []identityv1alpha1.FeatureDifference
	// Observed are the tenant's flags as read; After are the flags once the
	// plan is carried out.
	Observed *identityv1alpha1.SyncFeatureFlags
	After    *identityv1alpha1.SyncFeatureFlags
	// Windows are the windows' states once the plan is carried out.
	Windows []identityv1alpha1.WindowStatus
	// Intent is what to record before the write, together with Original:
	// opening windows with their start and previous value (so a crash
	// after the write neither extends a window nor forgets what to hand
	// back), closing windows still active (so a failed write is retried).
	Intent []identityv1alpha1.WindowStatus
	// Opened and Closed are the windows that open or close in this pass
	// (Enforce mode only: in Observe mode nothing opens or closes).
	Opened []WindowEvent
	Closed []WindowEvent
	// Original is status.original once the plan is carried out: the first
	// value seen of every flag the operator has changed.
	Original *identityv1alpha1.SyncFeatureFlags
	// NextCheck is the next instant a window opens or closes; nil when no
	// window is pending or active.
	NextCheck *time.Time
}

// Pending lists the differences as they stand before the plan is carried
// out, for a pass whose write failed.
func (p Plan) Pending() []identityv1alpha1.FeatureDifference {
	out := make([]identityv1alpha1.FeatureDifference, 0, len(p.Changes)+len(p.Refused))
	for _, c := range p.Changes {
		out = append(out, difference(c.Feature, c.To, c.From))
	}
	for _, r := range p.Refused {
		out = append(out, difference(r.Feature, r.Desired, r.Actual))
	}
	return sortDifferences(out)
}

// want is the value a flag is to have, and why.
type want struct {
	value  bool
	source Source
	window string
}

// Decide computes the plan of one pass. Only the flags that the spec sets,
// that an open window overrides, or that a closing window hands back are
// governed; every other flag is sent back exactly as it was read.
func Decide(in Input) Plan {
	enforce := in.Spec.Mode != identityv1alpha1.ModeObserve
	ws := evaluateWindows(in.Spec.MatchingWindows, in.Status.Windows, in.Tenant.Features, in.Now, enforce)

	// Lowest precedence first: a closing window hands its flag back unless
	// the spec sets it, and an open window overrides the spec.
	desired := map[identityv1alpha1.SyncFeature]want{}
	for _, c := range ws.closing {
		if c.PreviousValue != nil {
			desired[c.Feature] = want{value: *c.PreviousValue, source: SourceWindowClosed, window: c.Name}
		}
	}
	for _, f := range identityv1alpha1.AllSyncFeatures() {
		if v := in.Spec.Features.Get(f); v != nil {
			desired[f] = want{value: *v, source: SourceSpec}
		}
	}
	for _, w := range ws.open {
		desired[w.Feature] = want{value: w.Value, source: SourceWindow, window: w.Name}
	}

	plan := Plan{
		Settings: copySettings(in.Tenant),
		Observed: Flags(in.Tenant.Features),
		Windows:  ws.statuses,
		Intent:   ws.intent,
	}
	for _, f := range identityv1alpha1.AllSyncFeatures() {
		w, governed := desired[f]
		if !governed {
			continue
		}
		actual := in.Tenant.Features[string(f)]
		if actual == w.value {
			continue
		}
		if r, refused := refusal(f, w.value, actual); refused {
			plan.Refused = append(plan.Refused, r)
			continue
		}
		prev := in.Status.Observed.Get(f)
		ch := Change{
			Feature: f, From: actual, To: w.value, Source: w.source, Window: w.window,
			Drift: w.source != SourceWindowClosed && prev != nil && *prev == w.value,
		}
		plan.Changes = append(plan.Changes, ch)
		if enforce || closingFeature(ws.closing, f) {
			// Observe mode writes nothing but a closing window's flag:
			// windows close whatever the mode.
			plan.Settings.Features[string(f)] = w.value
			if !enforce {
				plan.Closing = append(plan.Closing, ch)
			}
		}
	}

	if d := in.Spec.AccidentalDeletionPrevention; d != nil {
		cur := in.Tenant.AccidentalDeletionPrevention
		if !sameDeletionPrevention(d, cur) {
			to := cloud.AccidentalDeletionPrevention{SynchronizationPreventionType: string(d.SynchronizationPreventionType)}
			switch {
			case d.AlertThreshold != nil:
				to.AlertThreshold = *d.AlertThreshold
			case cur != nil:
				to.AlertThreshold = cur.AlertThreshold
			}
			plan.DeletionPrevention = &DeletionPreventionChange{From: cur, To: to,
				Drift: sameDeletionPrevention(d, fromObserved(in.Status.ObservedAccidentalDeletionPrevention))}
			plan.Settings.AccidentalDeletionPrevention = &to
		}
	}

	if !enforce && plan.DeletionPrevention != nil {
		plan.Settings.AccidentalDeletionPrevention = copySettings(in.Tenant).AccidentalDeletionPrevention
	}
	plan.Write = enforce && (len(plan.Changes) > 0 || plan.DeletionPrevention != nil) || len(plan.Closing) > 0
	plan.Original = in.Status.Original.DeepCopy()
	plan.Applied = plan.Changes
	if !enforce {
		plan.Applied = plan.Closing
	}
	if plan.Write {
		plan.After = Flags(plan.Settings.Features)
		for _, c := range plan.Applied {
			if plan.Original.Get(c.Feature) == nil {
				if plan.Original == nil {
					plan.Original = &identityv1alpha1.SyncFeatureFlags{}
				}
				from := c.From
				plan.Original.Set(c.Feature, &from)
			}
		}
	} else {
		plan.After = plan.Observed.DeepCopy()
	}

	for _, r := range plan.Refused {
		plan.Differences = append(plan.Differences, difference(r.Feature, r.Desired, r.Actual))
	}
	if !enforce {
		for _, c := range plan.Changes {
			plan.Differences = append(plan.Differences, difference(c.Feature, c.To, c.From))
		}
	}
	plan.Differences = sortDifferences(plan.Differences)

	if enforce || len(ws.closing) > 0 {
		if enforce {
			plan.Opened = ws.opened
		}
		for _, c := range ws.closing {
			ev := WindowEvent{Name: c.Name, Feature: c.Feature, Value: c.Value}
			if w, ok := desired[c.Feature]; ok {
				v := w.value
				ev.Back = &v
			}
			plan.Closed = append(plan.Closed, ev)
		}
	}
	plan.NextCheck = ws.next
	return plan
}

func closingFeature(closing []identityv1alpha1.WindowStatus, f identityv1alpha1.SyncFeature) bool {
	for _, c := range closing {
		if c.Feature == f {
			return true
		}
	}
	return false
}

// CloseWindows plans the write that hands back the flags of the windows
// still active when a TenantSyncFeatures is deleted, whatever its deletion
// policy: a window must never be left open by a deletion.
func CloseWindows(windows []identityv1alpha1.WindowStatus, tenant cloud.SyncSettings) (cloud.SyncSettings, []Change, []Refusal) {
	out := copySettings(tenant)
	var changes []Change
	var refused []Refusal
	for _, w := range windows {
		if w.State != identityv1alpha1.WindowActive || w.PreviousValue == nil {
			continue
		}
		actual := tenant.Features[string(w.Feature)]
		if actual == *w.PreviousValue {
			continue
		}
		if r, no := refusal(w.Feature, *w.PreviousValue, actual); no {
			refused = append(refused, r)
			continue
		}
		changes = append(changes, Change{Feature: w.Feature, From: actual, To: *w.PreviousValue, Source: SourceWindowClosed, Window: w.Name})
		out.Features[string(w.Feature)] = *w.PreviousValue
	}
	return out, changes, refused
}

// Restore plans the write of deletion policy RestoreOriginal: every flag in
// original goes back to its recorded value, except the ones Entra does not
// let go back.
func Restore(original *identityv1alpha1.SyncFeatureFlags, tenant cloud.SyncSettings) (cloud.SyncSettings, []Change, []Refusal) {
	out := copySettings(tenant)
	var changes []Change
	var refused []Refusal
	for _, f := range identityv1alpha1.AllSyncFeatures() {
		v := original.Get(f)
		if v == nil {
			continue
		}
		actual := tenant.Features[string(f)]
		if actual == *v {
			continue
		}
		if r, no := refusal(f, *v, actual); no {
			refused = append(refused, r)
			continue
		}
		changes = append(changes, Change{Feature: f, From: actual, To: *v, Source: SourceOriginal})
		out.Features[string(f)] = *v
	}
	return out, changes, refused
}

// Flags converts a tenant's flags to the API form. Only the documented
// flags are kept; a flag the tenant did not return stays unset.
func Flags(features map[string]bool) *identityv1alpha1.SyncFeatureFlags {
	out := &identityv1alpha1.SyncFeatureFlags{}
	for _, f := range identityv1alpha1.AllSyncFeatures() {
		if v, ok := features[string(f)]; ok {
			out.Set(f, &v)
		}
	}
	return out
}

// ObservedDeletionPrevention converts the tenant's deletion guard to the
// API's status form.
func ObservedDeletionPrevention(p *cloud.AccidentalDeletionPrevention) *identityv1alpha1.ObservedAccidentalDeletionPrevention {
	if p == nil {
		return nil
	}
	t := p.AlertThreshold
	return &identityv1alpha1.ObservedAccidentalDeletionPrevention{SynchronizationPreventionType: p.SynchronizationPreventionType, AlertThreshold: &t}
}

func fromObserved(o *identityv1alpha1.ObservedAccidentalDeletionPrevention) *cloud.AccidentalDeletionPrevention {
	if o == nil {
		return nil
	}
	p := &cloud.AccidentalDeletionPrevention{SynchronizationPreventionType: o.SynchronizationPreventionType}
	if o.AlertThreshold != nil {
		p.AlertThreshold = *o.AlertThreshold
	}
	return p
}

// sameDeletionPrevention compares the spec with the tenant. The threshold
// means nothing while prevention is disabled, and an omitted threshold
// keeps the tenant's.
func sameDeletionPrevention(d *identityv1alpha1.AccidentalDeletionPrevention, cur *cloud.AccidentalDeletionPrevention) bool {
	if cur == nil || cur.SynchronizationPreventionType != string(d.SynchronizationPreventionType) {
		return false
	}
	return d.SynchronizationPreventionType == identityv1alpha1.PreventionDisabled || d.AlertThreshold == nil ||
		*d.AlertThreshold == cur.AlertThreshold
}

func copySettings(s cloud.SyncSettings) cloud.SyncSettings {
	out := cloud.SyncSettings{ID: s.ID, Features: make(map[string]bool, len(s.Features))}
	for k, v := range s.Features {
		out.Features[k] = v
	}
	if s.AccidentalDeletionPrevention != nil {
		p := *s.AccidentalDeletionPrevention
		out.AccidentalDeletionPrevention = &p
	}
	return out
}

func difference(f identityv1alpha1.SyncFeature, desired, actual bool) identityv1alpha1.FeatureDifference {
	return identityv1alpha1.FeatureDifference{Feature: f, Desired: desired, Actual: &actual}
}

// sortDifferences puts differences in Graph's order, so that status does
// not change between passes that found the same ones.
func sortDifferences(d []identityv1alpha1.FeatureDifference) []identityv1alpha1.FeatureDifference {
	if len(d) == 0 {
		return nil
	}
	out := make([]identityv1alpha1.FeatureDifference, 0, len(d))
	for _, f := range identityv1alpha1.AllSyncFeatures() {
		for _, x := range d {
			if x.Feature == f {
				out = append(out, x)
			}
		}
	}
	return out
}

// refusal says whether Graph would refuse to move flag f from actual to
// desired: a flag that is not updatable, or a one-way flag turned off.
func refusal(f identityv1alpha1.SyncFeature, desired, actual bool) (Refusal, bool) {
	switch {
	case !identityv1alpha1.UpdatableFeature(f):
		return Refusal{Feature: f, Desired: desired, Actual: actual, Reason: string(f) + " is not updatable in Microsoft Graph"}, true
	case identityv1alpha1.OneWayFeature(f) && actual && !desired:
		return Refusal{Feature: f, Desired: desired, Actual: actual, Reason: string(f) + " cannot be turned off once it is on"}, true
	}
	return Refusal{}, false
}
