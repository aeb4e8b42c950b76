package controllers

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/syncplan"
)

// status computes the SyncPlan's conditions and summary.
func (r *SyncPlanReconciler) status(s *planScope) {
	sp := s.sp
	set := func(typ string, c cond) { c.set(&sp.Status.Conditions, sp.Generation, typ) }
	setStalled(&sp.Status.Conditions, sp.Generation, terminal(s.failed), s.failed != nil || s.planned)
	if s.failed != nil {
		set(identityv1alpha1.ConditionReady, cond{false, s.failed.reason, s.failed.message})
		set(identityv1alpha1.ConditionSynced, cond{false, s.failed.reason, s.failed.message})
		return
	}
	if !s.planned {
		return
	}
	before := summary(sp.Status)
	st := &sp.Status
	st.LastPlanTime = &metav1.Time{Time: r.now()}
	st.Objects = int32(len(s.objects))
	st.Matched, st.Created, st.Refused, st.SoftMatchAfterAlignment = 0, 0, 0, 0
	for i, p := range s.after {
		soft := func(o syncplan.Outcome) bool { return o == syncplan.SoftMatchSMTP || o == syncplan.SoftMatchUPN }
		if soft(p.Outcome) && !soft(s.preds[i].Outcome) {
			st.SoftMatchAfterAlignment++
		}
	}
	counts := map[[2]string]int32{}
	st.Attention = nil
	for i, p := range s.preds {
		counts[[2]string{string(p.Outcome), p.Code}]++
		switch p.Outcome {
		case syncplan.HardMatch, syncplan.SoftMatchSMTP, syncplan.SoftMatchUPN, syncplan.Updated:
			st.Matched++
		case syncplan.Created:
			st.Created++
		case syncplan.Refused:
			st.Refused++
		}
		if needsAttention(p) && len(st.Attention) < maxListed {
			st.Attention = append(st.Attention, identityv1alpha1.PlanEntry{Object: s.objects[i].DN, Kind: identityv1alpha1.ObjectKind(s.objects[i].Kind),
				Outcome: string(p.Outcome), Code: p.Code, CloudObject: p.CloudID, Message: bounded(message(p), 1024)})
		}
	}
	st.Outcomes = nil
	for k, n := range counts {
		st.Outcomes = append(st.Outcomes, identityv1alpha1.PlanCount{Outcome: k[0], Code: k[1], Count: n})
	}
	sort.Slice(st.Outcomes, func(i, j int) bool {
		a, b := st.Outcomes[i], st.Outcomes[j]
		return a.Outcome+"/"+a.Code < b.Outcome+"/"+b.Code
	})
	rules, withProblems := map[string]int32{}, map[int]bool{}
	st.FirstProblems = nil
	for _, p := range s.checks {
		rules[string(p.Rule)]++
		withProblems[p.Index] = true
		if len(st.FirstProblems) < maxListed {
			st.FirstProblems = append(st.FirstProblems, identityv1alpha1.PlanProblem{Object: s.objects[p.Index].DN, Rule: string(p.Rule), Message: bounded(p.Message, 1024)})
		}
	}
	st.Problems = int32(len(withProblems))
	st.ProblemCounts = nil
	for rule, n := range rules {
		st.ProblemCounts = append(st.ProblemCounts, identityv1alpha1.RuleCount{Rule: rule, Count: n})
	}
	sort.Slice(st.ProblemCounts, func(i, j int) bool { return st.ProblemCounts[i].Rule < st.ProblemCounts[j].Rule })
	now := summary(*st)
	msg := fmt.Sprintf("%d objects: %d will match, %d will be created, %d refused, %d break an attribute rule", st.Objects, st.Matched, st.Created, st.Refused, st.Problems)
	if s.partial != "" {
		msg += "; " + s.partial
	}
	if st.SoftMatchAfterAlignment > 0 {
		msg += fmt.Sprintf("; %d more will soft-match once the SignInNameAlignments have renamed them", st.SoftMatchAfterAlignment)
	}
	set(identityv1alpha1.ConditionReady, cond{true, identityv1alpha1.ReasonPlanned, msg})
	set(identityv1alpha1.ConditionSynced, cond{true, identityv1alpha1.ReasonReconcileSucceeded, ""})
	if before != "" && before != now {
		emit(r.Recorder, sp, corev1.EventTypeNormal, identityv1alpha1.EventPlanChanged, "Plan", fmt.Sprintf("the plan changed: %s (was %s)", now, before))
	}
}

// needsAttention: a refusal, a match Entra will not make, or a value that
// will be quarantined.
func needsAttention(p syncplan.Prediction) bool {
	switch {
	case p.Outcome == syncplan.Refused, p.QuarantinedUPN, len(p.QuarantinedProxies) > 0:
		return true
	case p.Outcome == syncplan.Created:
		return p.Code == syncplan.CodeExistingAdminRoleConflict || p.Code == syncplan.CodeAnchorTaken || p.Code == syncplan.CodeAmbiguous ||
			p.Code == syncplan.CodeSoftMatchBlocked
	}
	return false
}

// summary is the plan's counts in one line, to tell whether it changed.
func summary(st identityv1alpha1.SyncPlanStatus) string {
	if len(st.Outcomes) == 0 {
		return ""
	}
	parts := make([]string, 0, len(st.Outcomes))
	for _, o := range st.Outcomes {
		k := o.Outcome
		if o.Code != "" {
			k += "/" + o.Code
		}
		parts = append(parts, fmt.Sprintf("%s %d", k, o.Count))
	}
	return strings.Join(parts, ", ")
}
