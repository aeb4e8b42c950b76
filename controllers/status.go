package controllers

import (
	"errors"
	"time"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/cloud"
	"github.com/entramatch/entra-match-operator/internal/directory"
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

// setCondition sets one condition; the transition time only moves when the
// status changes, so repeated reconciles do not make status flap.
func setCondition(conds *[]metav1.Condition, gen int64, typ string, status bool, reason, msg string) {
	s := metav1.ConditionFalse
	if status {
		s = metav1.ConditionTrue
	}
	meta.SetStatusCondition(conds, metav1.Condition{Type: typ, Status: s, Reason: reason, Message: bounded(msg, maxMessage), ObservedGeneration: gen})
}

// throttledWithoutRetryAfter is how long to wait after a 429 that named no
// wait, whatever the kind: retrying at once would only be throttled again.
const throttledWithoutRetryAfter = 30 * time.Second

// outcome is a classified failure: the reason to show, and whether retrying
// soon can help (transient) or a person must act (terminal).
type outcome struct {
	reason     string
	message    string
	transient  bool
	retryAfter time.Duration
}

// classifyCloud maps a Graph client error to a condition reason.
func classifyCloud(err error) outcome {
	msg := err.Error()
	switch cloud.ClassOf(err) {
	case cloud.ClassUnauthenticated:
		return outcome{reason: identityv1alpha1.ReasonInvalidCredentials, message: msg}
	case cloud.ClassPermission:
		return outcome{reason: identityv1alpha1.ReasonMissingPermission, message: msg}
	case cloud.ClassThrottled:
		ra, ok := cloud.RetryAfter(err)
		if !ok {
			ra = throttledWithoutRetryAfter
		}
		return outcome{reason: identityv1alpha1.ReasonThrottled, message: msg, transient: true, retryAfter: ra}
	case cloud.ClassInvalid, cloud.ClassUnsupportedQuery, cloud.ClassConflict, cloud.ClassOnPremMastered:
		// Graph refused the request itself: the same request fails the same
		// way until the spec or the tenant changes, so it waits for the
		// resync instead of retrying with backoff.
		return outcome{reason: identityv1alpha1.ReasonReconcileFailed, message: msg}
	case cloud.ClassTransient:
		return outcome{reason: identityv1alpha1.ReasonUnreachable, message: msg, transient: true}
	case cloud.ClassNotFound:
		return outcome{reason: identityv1alpha1.ReasonCloudUserNotFound, message: msg}
	case cloud.ClassWrongEndpoint:
		return outcome{reason: identityv1alpha1.ReasonWrongEndpoint, message: msg}
	}
	var se *secretError
	if errors.As(err, &se) {
		return se.outcome()
	}
	return outcome{reason: identityv1alpha1.ReasonReconcileFailed, message: msg, transient: true}
}

// classifyTenant is classifyCloud for calls about the tenant itself, where
// "not found" means the tenant, not a user.
func classifyTenant(err error) outcome {
	o := classifyCloud(err)
	if cloud.ClassOf(err) == cloud.ClassNotFound {
		o.reason = identityv1alpha1.ReasonTenantNotFound
	}
	return o
}

// classifyDirectory maps an AD client error to a condition reason.
func classifyDirectory(err error) outcome {
	msg := err.Error()
	var se *secretError
	switch {
	case errors.As(err, &se):
		return se.outcome()
	case errors.Is(err, directory.ErrInvalidCredentials):
		return outcome{reason: identityv1alpha1.ReasonInvalidCredentials, message: msg}
	case errors.Is(err, directory.ErrTLS):
		return outcome{reason: identityv1alpha1.ReasonTLSError, message: msg}
	case errors.Is(err, directory.ErrInsufficientAccess):
		return outcome{reason: identityv1alpha1.ReasonMissingPermission, message: msg}
	case errors.Is(err, directory.ErrNotFound):
		return outcome{reason: identityv1alpha1.ReasonADUserNotFound, message: msg}
	case errors.Is(err, directory.ErrAmbiguous):
		return outcome{reason: identityv1alpha1.ReasonADUserAmbiguous, message: msg}
	case errors.Is(err, directory.ErrAnchorMissing), errors.Is(err, directory.ErrAnchorMalformed):
		return outcome{reason: identityv1alpha1.ReasonAnchorMissing, message: msg}
	case errors.Is(err, directory.ErrConsistencyGUIDSet):
		// Filled by another writer since it was read: the next pass uses it.
		return outcome{reason: identityv1alpha1.ReasonAnchorChanged, message: msg, transient: true}
	case errors.Is(err, directory.ErrUnreachable):
		return outcome{reason: identityv1alpha1.ReasonUnreachable, message: msg, transient: true}
	}
	return outcome{reason: identityv1alpha1.ReasonReconcileFailed, message: msg, transient: true}
}

// stepFailed ends a pass of a multi-step workflow on a failed Graph call:
// Synced says why, and the requeue follows the error's class.
func (r *UserMatchReconciler) stepFailed(um *identityv1alpha1.UserMatch, err error) (ctrl.Result, error, bool) {
	oc := classifyCloud(err)
	setCondition(&um.Status.Conditions, um.Generation, identityv1alpha1.ConditionSynced, false, oc.reason, oc.message)
	res, rerr := requeueFor(oc, r.ResyncPeriod)
	return res, rerr, true
}

// readyEvent announces a change of the Ready condition: a Warning when it
// turns False or fails for another reason, a Normal Event when it turns
// True. An unchanged condition says nothing, so a resync adds no noise.
func readyEvent(rec events.EventRecorder, obj runtime.Object, before *metav1.Condition, conds []metav1.Condition) {
	after := meta.FindStatusCondition(conds, identityv1alpha1.ConditionReady)
	if rec == nil || after == nil {
		return
	}
	if before != nil && before.Status == after.Status && before.Reason == after.Reason &&
		(after.Status == metav1.ConditionTrue || before.Message == after.Message) {
		return
	}
	typ := corev1.EventTypeNormal
	if after.Status != metav1.ConditionTrue {
		typ = corev1.EventTypeWarning
	}
	note := after.Message
	if note == "" {
		note = after.Reason
	}
	rec.Eventf(obj, nil, typ, after.Reason, "Verify", "%s", bounded(note, maxNote))
}
