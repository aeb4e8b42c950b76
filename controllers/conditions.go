package controllers

import (
	"time"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
)

// maxMessage bounds a condition message well under the API's 32 KiB
// limit: a message built from a long server answer or many objects must
// never make the whole status write fail.
const maxMessage = 4096

// maxNote is the API's limit on an Event's note (1 KiB).
const maxNote = 1024

// bounded cuts s to at most n bytes, on a rune boundary, marking the cut.
func bounded(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = " …(truncated)"
	cut := n - len(mark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}

// emit records one Event about obj where a write is made, its note
// bounded to the API's limit; a nil recorder (some tests) records nothing.
func emit(rec events.EventRecorder, obj runtime.Object, typ, reason, action, msg string) {
	if rec != nil {
		rec.Eventf(obj, nil, typ, reason, action, "%s", bounded(msg, maxNote))
	}
}

// wallOr reads an injected clock, or the wall clock without one.
func wallOr(now func() time.Time) time.Time {
	if now != nil {
		return now()
	}
	return time.Now()
}

// cond is a condition as a status file computes it, before it is set.
type cond struct {
	status  bool
	reason  string
	message string
}

// setCondition sets one condition; the transition time only moves when the
// status changes, so repeated reconciles do not make status flap.
func setCondition(conds *[]metav1.Condition, gen int64, typ string, status bool, reason, msg string) {
	s := metav1.ConditionFalse
	if status {
		s = metav1.ConditionTrue
	}
	meta.SetStatusCondition(conds, metav1.Condition{Type: typ, Status: s, Reason: reason, Message: bounded(msg, maxMessage), ObservedGeneration: gen})
}

func (c cond) set(conds *[]metav1.Condition, gen int64, typ string) {
	setCondition(conds, gen, typ, c.status, c.reason, c.message)
}

// transition names a condition whose changes are announced as Events. A
// change is a new status or reason, or, for a Warning, a new message: a
// person hears of each distinct problem once, and a resync adds no noise.
type transition struct {
	typ string
	// eventType is the Event type for the condition as it now is: Normal,
	// Warning, or "" to announce nothing.
	eventType func(c metav1.Condition) string
	// ignoreMessage: a new message alone is not a change.
	ignoreMessage bool
	// eventReason renames a condition reason for the Event, where the
	// Event says what happened rather than what the condition is.
	eventReason map[string]string
	action      string
}

// announce emits one Event per transition that changed between before and
// after. It is the only place condition changes become Events; Events about
// writes are emitted where the write is made.
func announce(rec events.EventRecorder, obj runtime.Object, before, after []metav1.Condition, ts ...transition) {
	if rec == nil {
		return
	}
	for _, t := range ts {
		was := meta.FindStatusCondition(before, t.typ)
		now := meta.FindStatusCondition(after, t.typ)
		if now == nil {
			continue
		}
		typ := t.eventType(*now)
		if typ == "" {
			continue
		}
		sameMessage := t.ignoreMessage || typ != corev1.EventTypeWarning || was != nil && was.Message == now.Message
		if was != nil && was.Status == now.Status && was.Reason == now.Reason && sameMessage {
			continue
		}
		note := now.Message
		if note == "" {
			note = now.Reason
		}
		reason := now.Reason
		if r, ok := t.eventReason[reason]; ok {
			reason = r
		}
		rec.Eventf(obj, nil, typ, reason, t.action, "%s", bounded(note, maxNote))
	}
}

// readyTransition announces every change of Ready: a Warning when it turns
// False or fails for another reason, a Normal Event when it turns True.
var readyTransition = transition{typ: identityv1alpha1.ConditionReady, action: "Verify",
	eventType: func(c metav1.Condition) string {
		if c.Status == metav1.ConditionTrue {
			return corev1.EventTypeNormal
		}
		return corev1.EventTypeWarning
	}}

// onReasons announces a condition only in the listed reasons, with the
// given Event type.
func onReasons(typ string, reasons ...string) func(metav1.Condition) string {
	return func(c metav1.Condition) string {
		for _, r := range reasons {
			if c.Reason == r {
				return typ
			}
		}
		return ""
	}
}

// setStalled keeps the Stalled condition that kstatus, and so Flux, read:
// an object whose Stalled is True is Failed rather than in progress. It is
// True, with the reason, while the operator waits for a person (a terminal
// failure, a block), and removed once a conclusive pass finds nothing to
// wait for. A pass that ended on an unclassified error changes nothing.
func setStalled(conds *[]metav1.Condition, gen int64, why *cond, conclusive bool) {
	switch {
	case why != nil:
		setCondition(conds, gen, identityv1alpha1.ConditionStalled, true, why.reason, why.message)
	case conclusive:
		meta.RemoveStatusCondition(conds, identityv1alpha1.ConditionStalled)
	}
}

// terminal is a failure as a Stalled cause: one no retry can cure.
func terminal(o *outcome) *cond {
	if o == nil || o.transient || o.retryAfter > 0 {
		return nil
	}
	return &cond{true, o.reason, o.message}
}
