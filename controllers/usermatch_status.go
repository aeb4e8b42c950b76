package controllers

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
)

// status computes every UserMatch condition from what the pass read and
// decided. A condition whose phase did not run this pass is left as it was.
// (The status fields that say what was observed, status.ad and
// status.cloud, are written by the phase that observed them: the role
// record's seal covers the cloud user, and is made mid-pass.)
func (r *UserMatchReconciler) status(s *userMatchScope) {
	um := s.um
	conds := &um.Status.Conditions
	set := func(typ string, c cond) { c.set(conds, um.Generation, typ) }

	switch {
	case s.anchorFailed != nil:
		set(identityv1alpha1.ConditionAnchorResolved, cond{false, s.anchorFailed.reason, s.anchorFailed.message})
	case s.resolved:
		set(identityv1alpha1.ConditionAnchorResolved, cond{true, identityv1alpha1.ReasonResolved,
			fmt.Sprintf("%s has anchor %s (%s)", s.adUser.DN, s.anchor.ImmutableID(), s.source)})
	}
	switch {
	case s.stamp != nil:
		set(identityv1alpha1.ConditionConsistencyGuidWritten, *s.stamp)
	case s.ad != nil && !s.ad.Spec.WriteConsistencyGuid:
		meta.RemoveStatusCondition(conds, identityv1alpha1.ConditionConsistencyGuidWritten)
	}

	switch {
	case s.missing != nil:
		set(identityv1alpha1.ConditionCloudUserFound, cond{false, s.missing.reason, s.missing.message})
	case s.found:
		set(identityv1alpha1.ConditionCloudUserFound, cond{true, identityv1alpha1.ReasonFound,
			fmt.Sprintf("cloud user %s (%s)", s.user.UserPrincipalName, s.user.ID)})
	}
	if s.duplicates != nil {
		set(identityv1alpha1.ConditionDuplicatesFound, *s.duplicates)
	}
	if s.roles != nil {
		set(identityv1alpha1.ConditionRolesRemoved, *s.roles)
	}

	if s.finished {
		plan := s.plan
		if plan.Warning != nil {
			set(identityv1alpha1.ConditionUPNSuffixMismatch, cond{true, plan.Warning.Reason, plan.Warning.Message})
		} else {
			set(identityv1alpha1.ConditionUPNSuffixMismatch, cond{false, identityv1alpha1.ReasonUPNSuffixVerified, ""})
		}
		set(identityv1alpha1.ConditionMatched, matched(s))
		if plan.Block != nil {
			set(identityv1alpha1.ConditionBlocked, cond{true, plan.Block.Reason, plan.Block.Message})
		} else {
			set(identityv1alpha1.ConditionBlocked, cond{false, identityv1alpha1.ReasonNotBlocked, ""})
		}
		um.Status.SyncJoined = plan.Joined
	}

	if c, ok := userMatchReady(s); ok {
		set(identityv1alpha1.ConditionReady, c)
	}
	switch {
	case s.failed != nil:
		set(identityv1alpha1.ConditionSynced, cond{false, s.failed.reason, s.failed.message})
	case s.finished || s.missing != nil:
		set(identityv1alpha1.ConditionSynced, cond{true, identityv1alpha1.ReasonReconcileSucceeded, ""})
	}
	setStalled(conds, um.Generation, userMatchStalled(s), s.finished || s.failed != nil || s.missing != nil || s.ended)
}

// userMatchStalled names what a person must fix, if anything: a block, a
// cloud user that does not exist, or a terminal failure.
func userMatchStalled(s *userMatchScope) *cond {
	switch {
	case s.finished && s.plan.Block != nil:
		return &cond{true, s.plan.Block.Reason, s.plan.Block.Message}
	case s.missing != nil:
		return &cond{true, s.missing.reason, s.missing.message}
	}
	return terminal(s.failed)
}

// userMatchReady is the one Ready rule: a block or a missing cloud user
// says why not; a failed pass keeps a True Ready (the match still holds)
// and otherwise says why the pass failed; a finished pass is Ready once
// sync has joined the users. A pass that ended on a workflow step leaves
// Ready as it was.
func userMatchReady(s *userMatchScope) (cond, bool) {
	switch {
	case s.finished && s.plan.Block != nil:
		return cond{false, s.plan.Block.Reason, s.plan.Block.Message}, true
	case s.missing != nil:
		return cond{false, s.missing.reason, s.missing.message}, true
	case s.failed != nil:
		if meta.IsStatusConditionTrue(s.um.Status.Conditions, identityv1alpha1.ConditionReady) {
			return cond{}, false
		}
		return cond{false, s.failed.reason, s.failed.message}, true
	case s.finished:
		return cond{s.plan.Joined, s.plan.Reason, s.plan.Message}, true
	}
	// A first pass that ended on a workflow step (roles recorded, a
	// duplicate deleted) has no Ready yet: a reader that goes by Ready,
	// as kstatus and Flux do, would take the UserMatch for done.
	if meta.FindStatusCondition(s.um.Status.Conditions, identityv1alpha1.ConditionReady) == nil {
		msg := "the match is under way"
		if s.roles != nil {
			msg = s.roles.message
		}
		return cond{false, identityv1alpha1.ReasonProgressing, msg}, true
	}
	return cond{}, false
}

// matched says whether the cloud user carries the anchor.
func matched(s *userMatchScope) cond {
	if s.user.OnPremisesImmutableID == s.anchor.ImmutableID() {
		return cond{true, identityv1alpha1.ReasonImmutableIDSet,
			fmt.Sprintf("onPremisesImmutableId of %s is %s", s.user.UserPrincipalName, s.anchor.ImmutableID())}
	}
	reason := identityv1alpha1.ReasonImmutableIDMismatch
	if s.plan.Reason == identityv1alpha1.ReasonObserveOnly {
		reason = identityv1alpha1.ReasonObserveOnly
	}
	return cond{false, reason, fmt.Sprintf("onPremisesImmutableId of %s is %q, the AD anchor is %s",
		s.user.UserPrincipalName, s.user.OnPremisesImmutableID, s.anchor.ImmutableID())}
}

// announce turns the UserMatch's condition transitions into Events: a new
// block, the join, and a role record that is not the operator's.
func (r *UserMatchReconciler) announce(um *identityv1alpha1.UserMatch, before []metav1.Condition) {
	announce(r.Recorder, um, before, um.Status.Conditions,
		transition{typ: identityv1alpha1.ConditionBlocked, action: "Decide", ignoreMessage: true,
			eventType: func(c metav1.Condition) string {
				if c.Status == metav1.ConditionTrue {
					return corev1.EventTypeWarning
				}
				return ""
			}},
		transition{typ: identityv1alpha1.ConditionReady, action: "Observe",
			eventType: onReasons(corev1.EventTypeNormal, identityv1alpha1.ReasonSyncJoined)},
		transition{typ: identityv1alpha1.ConditionRolesRemoved, action: "VerifyRecord", ignoreMessage: true,
			eventType: onReasons(corev1.EventTypeWarning, identityv1alpha1.ReasonRoleRecordInvalid)},
	)
}
