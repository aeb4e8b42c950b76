package controllers

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/metrics"
	"github.com/entramatch/entra-match-operator/internal/syncfeatures"
)

// status computes every TenantSyncFeatures condition and the status fields
// derived from the plan, from what the pass read and decided.
func (r *TenantSyncFeaturesReconciler) status(s *featuresScope) {
	tsf := s.tsf
	set := func(typ string, c cond) { c.set(&tsf.Status.Conditions, tsf.Generation, typ) }
	switch {
	case s.writeFailed:
		plan := s.plan
		tsf.Status.Observed = plan.Observed
		tsf.Status.ObservedAccidentalDeletionPrevention = syncfeatures.ObservedDeletionPrevention(s.settings.AccidentalDeletionPrevention)
		tsf.Status.Differences = plan.Pending()
	case s.failed != nil, s.governor != "":
		// Stopped before deciding: new windows show pending, recorded
		// ones are kept as they are.
		tsf.Status.Windows = syncfeatures.Unapplied(tsf.Spec.MatchingWindows, tsf.Status.Windows, s.now)
	case s.finished:
		plan := *s.plan
		tsf.Status.Observed = plan.After
		adp := s.settings.AccidentalDeletionPrevention
		if plan.Write {
			adp = plan.Settings.AccidentalDeletionPrevention
		}
		tsf.Status.ObservedAccidentalDeletionPrevention = syncfeatures.ObservedDeletionPrevention(adp)
		tsf.Status.Differences = plan.Differences
		tsf.Status.Windows = plan.Windows
		tsf.Status.Original = plan.Original
	}
	if s.failed != nil || s.governor != "" || s.finished {
		set(identityv1alpha1.ConditionWindowActive, windowCondition(tsf))
	}
	if c, ok := r.ready(s); ok {
		set(identityv1alpha1.ConditionReady, c)
	}
	switch {
	case s.failed != nil:
		set(identityv1alpha1.ConditionSynced, cond{false, s.failed.reason, s.failed.message})
	case s.finished || s.governor != "":
		set(identityv1alpha1.ConditionSynced, cond{true, identityv1alpha1.ReasonReconcileSucceeded, ""})
	}
	conclusive := s.failed != nil || s.governor != "" || s.finished
	stalled := terminal(s.failed)
	if c := meta.FindStatusCondition(tsf.Status.Conditions, identityv1alpha1.ConditionReady); conclusive && c != nil && c.Status != metav1.ConditionTrue &&
		(c.Reason == identityv1alpha1.ReasonDrifted || c.Reason == identityv1alpha1.ReasonDuplicateTenantSyncFeatures) {
		// A refused change or another governor: no pass will change it.
		stalled = &cond{true, c.Reason, c.Message}
	}
	setStalled(&tsf.Status.Conditions, tsf.Generation, stalled, conclusive)
}

// ready is the one Ready rule of TenantSyncFeatures.
func (r *TenantSyncFeaturesReconciler) ready(s *featuresScope) (cond, bool) {
	tsf := s.tsf
	switch {
	case s.writeFailed:
		return cond{false, s.failed.reason, fmt.Sprintf("%s; writing them failed: %s", describeChanges("differ", *s.plan), s.failed.message)}, true
	case s.failed != nil:
		// A failure no retry can cure turns Ready False even when the flags
		// were in sync at the last successful pass; others keep a True Ready.
		if meta.IsStatusConditionTrue(tsf.Status.Conditions, identityv1alpha1.ConditionReady) && !personMustAct(s.failed.reason) {
			return cond{}, false
		}
		return cond{false, s.failed.reason, s.failed.message}, true
	case s.governor != "":
		return cond{false, identityv1alpha1.ReasonDuplicateTenantSyncFeatures, fmt.Sprintf(
			"TenantSyncFeatures %q already governs tenant %s (EntraTenant %q); this one changes nothing until that one is deleted",
			s.governor, s.tenant.Spec.TenantID, s.tenant.Name)}, true
	case !s.finished:
		return cond{}, false
	}
	plan := *s.plan
	switch {
	case len(plan.Refused) > 0:
		msgs := make([]string, 0, len(plan.Refused))
		for _, f := range plan.Refused {
			msgs = append(msgs, fmt.Sprintf("%s is %t, desired %t, but %s", f.Feature, f.Actual, f.Desired, f.Reason))
		}
		return cond{false, identityv1alpha1.ReasonDrifted, strings.Join(msgs, "; ")}, true
	case modeOf(tsf.Spec.Mode) == identityv1alpha1.ModeObserve && (len(plan.Changes) > len(plan.Applied) || plan.DeletionPrevention != nil):
		return cond{false, identityv1alpha1.ReasonObserveOnly, "mode Observe: " + describeChanges("would change", plan)}, true
	case plan.Write:
		return cond{true, identityv1alpha1.ReasonCorrected, describeChanges("set", plan)}, true
	}
	return cond{true, identityv1alpha1.ReasonInSync, describeGoverned(tsf, plan)}, true
}

// windowCondition says which matching windows are open.
func windowCondition(tsf *identityv1alpha1.TenantSyncFeatures) cond {
	var open []string
	for _, w := range tsf.Status.Windows {
		if w.State == identityv1alpha1.WindowActive {
			open = append(open, fmt.Sprintf("%s sets %s to %t", w.Name, w.Feature, w.Value))
		}
	}
	metrics.MatchingWindowsOpen.WithLabelValues(tsf.Name).Set(float64(len(open)))
	if len(open) > 0 {
		return cond{true, identityv1alpha1.ReasonWindowOpen, "matching window " + strings.Join(open, "; ") + " (see status.windows for when it closes)"}
	}
	return cond{false, identityv1alpha1.ReasonNoWindowOpen, ""}
}

// personMustAct reports reasons that no retry can cure.
func personMustAct(reason string) bool {
	return reason == identityv1alpha1.ReasonMissingPermission || reason == identityv1alpha1.ReasonSignInRequired
}

// announce says once, as a Warning Event, what a person must act on: a
// missing permission or sign-in, a refused change, another governor.
func (r *TenantSyncFeaturesReconciler) announce(tsf *identityv1alpha1.TenantSyncFeatures, before []metav1.Condition) {
	announce(r.Recorder, tsf, before, tsf.Status.Conditions,
		transition{typ: identityv1alpha1.ConditionReady, action: "Decide",
			eventType: onReasons(corev1.EventTypeWarning, identityv1alpha1.ReasonMissingPermission, identityv1alpha1.ReasonSignInRequired,
				identityv1alpha1.ReasonDrifted, identityv1alpha1.ReasonDuplicateTenantSyncFeatures),
			eventReason: map[string]string{identityv1alpha1.ReasonDrifted: identityv1alpha1.EventChangeRefused}})
}
