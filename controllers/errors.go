package controllers

import (
	"errors"
	"fmt"
	"strings"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/cloud"
	"github.com/entramatch/entra-match-operator/internal/directory"
)

// Errors are classified once, near the client (internal/cloud and
// internal/directory give each failure a class). This file is the one table
// from class to condition reason and retry policy, for every kind:
//
//   - terminal: the same request fails the same way until the spec or the
//     world changes, so the pass waits for the resync period (or a watch
//     event) instead of retrying with backoff;
//   - transient: retried with the controller's exponential backoff;
//   - throttled: waits for Retry-After (capped at 10 minutes by the Graph
//     client), or throttledWithoutRetryAfter when Graph named no wait.

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

// errorPolicy is one row of the table.
type errorPolicy struct {
	reason    string
	transient bool
}

// cloudErrors maps every Graph error class to its reason and policy.
var cloudErrors = map[cloud.Class]errorPolicy{
	cloud.ClassUnauthenticated:  {reason: identityv1alpha1.ReasonInvalidCredentials},
	cloud.ClassPermission:       {reason: identityv1alpha1.ReasonMissingPermission},
	cloud.ClassThrottled:        {reason: identityv1alpha1.ReasonThrottled, transient: true},
	cloud.ClassInvalid:          {reason: identityv1alpha1.ReasonReconcileFailed},
	cloud.ClassUnsupportedQuery: {reason: identityv1alpha1.ReasonReconcileFailed},
	cloud.ClassConflict:         {reason: identityv1alpha1.ReasonReconcileFailed},
	cloud.ClassOnPremMastered:   {reason: identityv1alpha1.ReasonReconcileFailed},
	cloud.ClassTransient:        {reason: identityv1alpha1.ReasonUnreachable, transient: true},
	cloud.ClassNotFound:         {reason: identityv1alpha1.ReasonCloudUserNotFound},
	cloud.ClassWrongEndpoint:    {reason: identityv1alpha1.ReasonWrongEndpoint},
	// The tenant view answers an expired delta link with a full read; one
	// that still escapes is retried like any passing failure.
	cloud.ClassDeltaExpired: {reason: identityv1alpha1.ReasonReconcileFailed, transient: true},
}

// directoryErrors maps every LDAP error of internal/directory likewise.
var directoryErrors = []struct {
	err error
	errorPolicy
}{
	{directory.ErrInvalidCredentials, errorPolicy{reason: identityv1alpha1.ReasonInvalidCredentials}},
	{directory.ErrTLS, errorPolicy{reason: identityv1alpha1.ReasonTLSError}},
	{directory.ErrInsufficientAccess, errorPolicy{reason: identityv1alpha1.ReasonMissingPermission}},
	{directory.ErrBaseDNNotFound, errorPolicy{reason: identityv1alpha1.ReasonBaseDNNotFound}},
	{directory.ErrNotFound, errorPolicy{reason: identityv1alpha1.ReasonADUserNotFound}},
	{directory.ErrAmbiguous, errorPolicy{reason: identityv1alpha1.ReasonADUserAmbiguous}},
	{directory.ErrAnchorMissing, errorPolicy{reason: identityv1alpha1.ReasonAnchorMissing}},
	{directory.ErrAnchorMalformed, errorPolicy{reason: identityv1alpha1.ReasonAnchorMissing}},
	// Filled by another writer since it was read: the next pass uses it.
	{directory.ErrConsistencyGUIDSet, errorPolicy{reason: identityv1alpha1.ReasonAnchorChanged, transient: true}},
	// Renamed by someone else since it was read: the next pass re-reads.
	{directory.ErrNameChanged, errorPolicy{reason: identityv1alpha1.ReasonNameWriteRefused, transient: true}},
	{directory.ErrUnreachable, errorPolicy{reason: identityv1alpha1.ReasonUnreachable, transient: true}},
}

// unclassified is the policy for an error no client classified (the API
// server, a bug): retried with backoff.
var unclassified = errorPolicy{reason: identityv1alpha1.ReasonReconcileFailed, transient: true}

// classifyCloud maps a Graph client error to a condition reason.
func classifyCloud(err error) outcome {
	msg := err.Error()
	if p, ok := cloudErrors[cloud.ClassOf(err)]; ok {
		o := outcome{reason: p.reason, message: msg, transient: p.transient}
		if cloud.ClassOf(err) == cloud.ClassThrottled {
			o.retryAfter = throttledWithoutRetryAfter
			if ra, ok := cloud.RetryAfter(err); ok {
				o.retryAfter = ra
			}
		}
		return o
	}
	var se *secretError
	if errors.As(err, &se) {
		return se.outcome()
	}
	return outcome{reason: unclassified.reason, message: msg, transient: unclassified.transient}
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
	if errors.As(err, &se) {
		return se.outcome()
	}
	for _, row := range directoryErrors {
		if errors.Is(err, row.err) {
			return outcome{reason: row.reason, message: msg, transient: row.transient}
		}
	}
	return outcome{reason: unclassified.reason, message: msg, transient: unclassified.transient}
}

// requeueFor turns a failure into a requeue: transient failures return an
// error (exponential backoff) unless the server named a wait; terminal ones
// wait for the resync period or a spec change, since retrying soon cannot help.
func requeueFor(o outcome, resync time.Duration) (ctrl.Result, error) {
	switch {
	case o.retryAfter > 0:
		return ctrl.Result{RequeueAfter: o.retryAfter}, nil
	case o.transient:
		return ctrl.Result{}, fmt.Errorf("%s: %s", o.reason, o.message)
	default:
		return ctrl.Result{RequeueAfter: resync}, nil
	}
}

// classifyScope is classifyDirectory for a search in a scope a resource
// names: an invalid base or filter is the spec's fault, and only a spec
// change helps.
func classifyScope(err error) outcome {
	o := classifyDirectory(err)
	if errors.Is(err, directory.ErrInvalidLookup) {
		o.reason, o.transient = identityv1alpha1.ReasonInvalidScopeFilter, false
		if strings.Contains(err.Error(), "not under") {
			o.reason = identityv1alpha1.ReasonScopeOutsideDirectory
		}
	}
	return o
}
