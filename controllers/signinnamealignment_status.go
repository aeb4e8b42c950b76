package controllers

import (
	"fmt"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/alignment"
)

// status computes the SignInNameAlignment's conditions and summary from
// the pass.
func (r *SignInNameAlignmentReconciler) status(s *alignmentScope) {
	sa := s.sa
	set := func(typ string, c cond) { c.set(&sa.Status.Conditions, sa.Generation, typ) }
	if s.failed != nil {
		set(identityv1alpha1.ConditionSynced, cond{false, s.failed.reason, s.failed.message})
		set(identityv1alpha1.ConditionReady, cond{false, s.failed.reason, s.failed.message})
		setStalled(&sa.Status.Conditions, sa.Generation, terminal(s.failed), true)
		return
	}
	if s.plan == nil {
		return
	}
	set(identityv1alpha1.ConditionSynced, cond{true, identityv1alpha1.ReasonReconcileSucceeded, ""})
	counts := s.plan.Counts()
	sa.Status.Counts = &counts
	sa.Status.Planned, sa.Status.Refusals = nil, nil
	for _, u := range s.plan.Users {
		for _, rn := range u.Renames {
			if len(sa.Status.Planned) < maxListed && !s.undo {
				sa.Status.Planned = append(sa.Status.Planned, identityv1alpha1.NameChange{Side: rn.Side, Object: rn.Object, From: rn.From, To: rn.To})
			}
		}
		if u.Refusal != nil && len(sa.Status.Refusals) < maxListed {
			sa.Status.Refusals = append(sa.Status.Refusals, identityv1alpha1.NameRefusal{User: u.DN, Reason: u.Refusal.Reason, Message: bounded(u.Refusal.Message, 1024)})
		}
	}
	for _, f := range s.refused {
		if len(sa.Status.Refusals) < maxListed {
			sa.Status.Refusals = append(sa.Status.Refusals, f)
		}
	}
	if !s.undo {
		// What was written on this pass is no longer planned.
		sa.Status.Planned = notWritten(sa.Status.Planned, sa.Status.Changes)
	}
	aligned, ready := alignedCondition(s, counts)
	set(identityv1alpha1.ConditionAligned, aligned)
	set(identityv1alpha1.ConditionReady, ready)
	var stalled *cond
	if b := s.plan.Blocked; b != nil && !s.undo {
		stalled = &cond{true, b.Reason, b.Message}
	}
	setStalled(&sa.Status.Conditions, sa.Generation, stalled, true)
}

// alignedCondition computes Aligned and Ready together: Ready says the
// declared state holds (everything aligned, the plan reported in Observe,
// or every name restored), or what keeps it from holding.
func alignedCondition(s *alignmentScope, c identityv1alpha1.AlignmentCounts) (aligned, ready cond) {
	left := len(s.sa.Status.Changes)
	switch {
	case s.undo && left == 0:
		c := cond{false, identityv1alpha1.ReasonRestored, "every recorded name is back"}
		return c, cond{true, identityv1alpha1.ReasonRestored, c.message}
	case s.undo:
		c := cond{false, identityv1alpha1.ReasonRestoring, fmt.Sprintf("%d recorded names still to put back", left)}
		return c, c
	case s.plan.Blocked != nil:
		c := cond{false, s.plan.Blocked.Reason, s.plan.Blocked.Message}
		return c, c
	}
	pending := len(notWritten(allRenames(s.plan, s.refused), s.sa.Status.Changes))
	summary := fmt.Sprintf("%d users in scope: %d aligned, %d to change, %d refused, %d on other suffixes; %d will soft-match",
		c.InScope, c.Aligned, c.Pending, c.Refused, c.Untouched, c.WillSoftMatch)
	switch {
	case pending > 0 && s.sa.Spec.Mode != identityv1alpha1.ModeEnforce:
		a := cond{false, identityv1alpha1.ReasonChangesPlanned, fmt.Sprintf("Observe: %d names would change (status.planned); %s", pending, summary)}
		return a, cond{true, identityv1alpha1.ReasonChangesPlanned, a.message}
	case pending > 0:
		a := cond{false, identityv1alpha1.ReasonChangesPending, fmt.Sprintf("%d names still to change at %d per minute; %s", pending, s.sa.Spec.WritesPerMinute, summary)}
		return a, a
	}
	a := cond{true, identityv1alpha1.ReasonAllAligned, summary}
	if refusals := s.sa.Status.Refusals; len(refusals) > 0 {
		return a, cond{false, refusals[0].Reason, fmt.Sprintf("%d users cannot be aligned (status.refusals); first: %s: %s", c.Refused+int32(len(s.refused)), refusals[0].User, refusals[0].Message)}
	}
	return a, cond{true, identityv1alpha1.ReasonAllAligned, summary}
}

// allRenames lists the plan's renames but those of users whose write was
// refused on this pass: they wait for a person, not for the next window.
func allRenames(p *alignment.SignInPlan, refused []identityv1alpha1.NameRefusal) []identityv1alpha1.NameChange {
	skip := map[string]bool{}
	for _, r := range refused {
		skip[r.User] = true
	}
	var out []identityv1alpha1.NameChange
	for _, u := range p.Users {
		if skip[u.DN] {
			continue
		}
		for _, rn := range u.Renames {
			out = append(out, identityv1alpha1.NameChange{Side: rn.Side, Object: rn.Object, From: rn.From, To: rn.To})
		}
	}
	return out
}

// notWritten drops the planned changes that the record shows as made.
func notWritten(planned, made []identityv1alpha1.NameChange) []identityv1alpha1.NameChange {
	done := map[string]bool{}
	for _, c := range made {
		if c.Applied {
			done[string(c.Side)+"|"+c.Object+"|"+c.To] = true
		}
	}
	var out []identityv1alpha1.NameChange
	for _, p := range planned {
		if !done[string(p.Side)+"|"+p.Object+"|"+p.To] {
			out = append(out, p)
		}
	}
	return out
}
