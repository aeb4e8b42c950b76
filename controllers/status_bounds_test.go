package controllers

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/cloud"
)

// A message built from a huge server answer must not make the status
// write fail (the API refuses a condition message over 32 KiB), nor an
// Event note over 1 KiB.
func TestMessagesAreBounded(t *testing.T) {
	var conds []metav1.Condition
	huge := strings.Repeat("é", 40000)
	setCondition(&conds, 1, "Ready", false, "X", huge)
	if n := len(conds[0].Message); n > maxMessage || !utf8.ValidString(conds[0].Message) || !strings.HasSuffix(conds[0].Message, "(truncated)") {
		t.Errorf("message of %d bytes (valid UTF-8 %v)", n, utf8.ValidString(conds[0].Message))
	}
	if got := bounded(huge, maxNote); len(got) > maxNote || !utf8.ValidString(got) {
		t.Errorf("note of %d bytes", len(got))
	}
	if got := bounded("short", maxNote); got != "short" {
		t.Errorf("a short message changed: %q", got)
	}
}

// One error policy for every kind: a 429 without Retry-After waits, and a
// request Graph refused as such is not retried with backoff.
func TestErrorPolicy(t *testing.T) {
	for _, c := range []struct {
		class     cloud.Class
		transient bool
		wait      time.Duration
	}{
		{cloud.ClassThrottled, true, throttledWithoutRetryAfter},
		{cloud.ClassTransient, true, 0},
		{cloud.ClassInvalid, false, 0},
		{cloud.ClassUnsupportedQuery, false, 0},
		{cloud.ClassConflict, false, 0},
		{cloud.ClassOnPremMastered, false, 0},
		{cloud.ClassPermission, false, 0},
	} {
		o := classifyCloud(&cloud.Error{Class: c.class, Op: "X"})
		if o.transient != c.transient || o.retryAfter != c.wait {
			t.Errorf("%s: %+v, want transient %v, wait %v", c.class, o, c.transient, c.wait)
		}
		res, err := requeueFor(o, time.Minute)
		if !c.transient && (err != nil || res.RequeueAfter != time.Minute) {
			t.Errorf("%s: requeue %+v %v, want the resync period and no error", c.class, res, err)
		}
	}
	if o := classifyCloud(&cloud.Error{Class: cloud.ClassInvalid}); o.reason != identityv1alpha1.ReasonReconcileFailed {
		t.Errorf("reason = %s", o.reason)
	}
}
