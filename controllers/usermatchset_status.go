package controllers

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/pairing"
)

// status counts the pairs and the set's UserMatches.
func (r *UserMatchSetReconciler) status(s *setScope) {
	set := s.set
	conds := &set.Status.Conditions
	setStalled(conds, set.Generation, terminal(s.failed), s.failed != nil || s.decided)
	if s.failed != nil {
		setCondition(conds, set.Generation, identityv1alpha1.ConditionReady, false, s.failed.reason, s.failed.message)
		setCondition(conds, set.Generation, identityv1alpha1.ConditionSynced, false, s.failed.reason, s.failed.message)
		return
	}
	// Without its members read (the pass failed after deciding), the
	// counts would say every UserMatch is missing: the status stays as the
	// last pass left it, as when nothing was decided.
	if !s.decided || s.owned == nil {
		return
	}
	st := &set.Status
	st.InScope, st.Pairs, st.WillSoftMatch, st.NeedsUserMatch, st.Ambiguous, st.Unpaired = int32(len(s.pairs)), 0, 0, 0, 0, 0
	st.Attention = nil
	attention := func(p setPair, msg string) {
		if len(st.Attention) < maxListed {
			st.Attention = append(st.Attention, identityv1alpha1.SetPair{ADUser: p.adDN, CloudUser: p.cloudUPN, Outcome: string(p.outcome), Message: bounded(msg, 1024)})
		}
	}
	for _, p := range s.pairs {
		if p.paired() && p.outcome != pairing.Ambiguous {
			st.Pairs++
		}
		switch p.outcome {
		case pairing.WillSoftMatch:
			st.WillSoftMatch++
		case pairing.NeedsUserMatch:
			st.NeedsUserMatch++
		case pairing.Ambiguous:
			st.Ambiguous++
			attention(p, p.message)
		case pairing.Unpaired:
			st.Unpaired++
		}
	}
	st.UserMatches, st.Matched, st.Joined, st.Blocked = int32(len(s.owned)), 0, 0, 0
	for _, p := range s.pairs {
		um := s.owned[p.key]
		if um == nil {
			continue
		}
		if meta.IsStatusConditionTrue(um.Status.Conditions, identityv1alpha1.ConditionMatched) {
			st.Matched++
		}
		if um.Status.SyncJoined {
			st.Joined++
		}
		if c := meta.FindStatusCondition(um.Status.Conditions, identityv1alpha1.ConditionStalled); c != nil && c.Status == "True" {
			st.Blocked++
			attention(p, fmt.Sprintf("UserMatch %s is blocked (%s): %s", um.Name, c.Reason, c.Message))
		}
	}
	st.InFlight = int32(inFlight(s.owned))
	summary := fmt.Sprintf("%d users in scope: %d pairs (%d will soft-match, %d need a UserMatch), %d ambiguous, %d unpaired; %d UserMatches, %d matched, %d joined, %d blocked",
		st.InScope, st.Pairs, st.WillSoftMatch, st.NeedsUserMatch, st.Ambiguous, st.Unpaired, st.UserMatches, st.Matched, st.Joined, st.Blocked)
	setCondition(conds, set.Generation, identityv1alpha1.ConditionSynced, true, identityv1alpha1.ReasonReconcileSucceeded, "")
	missing := 0
	for _, p := range s.pairs {
		if p.outcome == pairing.NeedsUserMatch && s.owned[p.key] == nil {
			missing++
		}
	}
	switch {
	case set.Spec.Mode != identityv1alpha1.ModeEnforce:
		setCondition(conds, set.Generation, identityv1alpha1.ConditionReady, true, identityv1alpha1.ReasonChangesPlanned,
			fmt.Sprintf("Observe: would create %d UserMatches; %s", missing, summary))
	case set.Spec.Paused && missing > 0:
		setCondition(conds, set.Generation, identityv1alpha1.ConditionReady, false, identityv1alpha1.ReasonRolloutPaused, summary)
	case missing > 0 || st.InFlight > 0:
		setCondition(conds, set.Generation, identityv1alpha1.ConditionReady, false, identityv1alpha1.ReasonChangesPending,
			fmt.Sprintf("%d UserMatches still to create, %d at work (at most %d); %s", missing, st.InFlight, max(set.Spec.MaxInFlight, 1), summary))
	case st.Ambiguous > 0 || st.Blocked > 0:
		setCondition(conds, set.Generation, identityv1alpha1.ConditionReady, false, identityv1alpha1.ReasonNeedsAttention, summary+" (status.attention)")
	default:
		setCondition(conds, set.Generation, identityv1alpha1.ConditionReady, true, identityv1alpha1.ReasonAllAligned, summary)
	}
}
