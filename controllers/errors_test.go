package controllers

import (
	"errors"
	"fmt"
	"testing"
	"time"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/cloud"
	"github.com/entramatch/entra-match-operator/internal/directory"
)

// Every Graph error class has one row in the table, and the table decides
// the requeue: terminal classes wait for the resync, transient ones back
// off, throttling waits for Retry-After or 30 s.
func TestCloudErrorTableCoversEveryClass(t *testing.T) {
	for _, c := range cloud.Classes() {
		p, ok := cloudErrors[c]
		if !ok {
			t.Errorf("class %s has no row in cloudErrors", c)
			continue
		}
		o := classifyCloud(&cloud.Error{Class: c, Op: "X", Message: "m"})
		if o.reason != p.reason || o.transient != p.transient {
			t.Errorf("class %s classified as %+v, table says %+v", c, o, p)
		}
		res, err := requeueFor(o, time.Hour)
		switch {
		case c == cloud.ClassThrottled:
			if err != nil || res.RequeueAfter != throttledWithoutRetryAfter {
				t.Errorf("429 without Retry-After: %v, %v; want a 30 s wait", res, err)
			}
		case p.transient:
			if err == nil {
				t.Errorf("transient class %s does not back off", c)
			}
		default:
			if err != nil || res.RequeueAfter != time.Hour {
				t.Errorf("terminal class %s: %v, %v; want the resync period", c, res, err)
			}
		}
	}
	if len(cloudErrors) != len(cloud.Classes()) {
		t.Errorf("cloudErrors has %d rows for %d classes", len(cloudErrors), len(cloud.Classes()))
	}
}

func TestDirectoryErrorTable(t *testing.T) {
	tests := []struct {
		class     error
		reason    string
		transient bool
	}{
		{directory.ErrInvalidCredentials, identityv1alpha1.ReasonInvalidCredentials, false},
		{directory.ErrTLS, identityv1alpha1.ReasonTLSError, false},
		{directory.ErrInsufficientAccess, identityv1alpha1.ReasonMissingPermission, false},
		{directory.ErrBaseDNNotFound, identityv1alpha1.ReasonBaseDNNotFound, false},
		{directory.ErrNotFound, identityv1alpha1.ReasonADUserNotFound, false},
		{directory.ErrAmbiguous, identityv1alpha1.ReasonADUserAmbiguous, false},
		{directory.ErrAnchorMissing, identityv1alpha1.ReasonAnchorMissing, false},
		{directory.ErrAnchorMalformed, identityv1alpha1.ReasonAnchorMissing, false},
		{directory.ErrConsistencyGUIDSet, identityv1alpha1.ReasonAnchorChanged, true},
		{directory.ErrUnreachable, identityv1alpha1.ReasonUnreachable, true},
		{errors.New("unclassified"), identityv1alpha1.ReasonReconcileFailed, true},
	}
	for _, tt := range tests {
		err := fmt.Errorf("op: %w", &directory.Error{Op: "x", Class: tt.class, Err: errors.New("cause")})
		if o := classifyDirectory(err); o.reason != tt.reason || o.transient != tt.transient {
			t.Errorf("%v classified as %+v, want %s (transient %t)", tt.class, o, tt.reason, tt.transient)
		}
	}
}
