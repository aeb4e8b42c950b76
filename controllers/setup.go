package controllers

import (
	"fmt"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/entramatch/entra-match-operator/internal/cloud"
)

// Options configure every controller; the manager binary and the tests
// build them with their own factories.
type Options struct {
	Cloud        cloud.Factory
	Directory    DirectoryFactory
	ResyncPeriod time.Duration
	Concurrency  int
	Now          func() time.Time
	// SharedReadTTL is how long one tenant-wide or directory-wide read
	// serves all UserMatches; half the resync period when zero.
	SharedReadTTL time.Duration
}

// Setup registers all controllers with the manager.
func Setup(mgr ctrl.Manager, o Options) error {
	if o.ResyncPeriod <= 0 {
		o.ResyncPeriod = 5 * time.Minute
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 1
	}
	recorder := mgr.GetEventRecorder("entra-match-operator")
	if err := (&EntraTenantReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Cloud: o.Cloud,
		Recorder: recorder, ResyncPeriod: o.ResyncPeriod, Now: o.Now}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("EntraTenant controller: %w", err)
	}
	if err := (&ActiveDirectoryReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Directory: o.Directory,
		Recorder: recorder, ResyncPeriod: o.ResyncPeriod}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("ActiveDirectory controller: %w", err)
	}
	if o.SharedReadTTL <= 0 {
		o.SharedReadTTL = o.ResyncPeriod / 2
	}
	if err := (&UserMatchReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Cloud: o.Cloud, Directory: o.Directory,
		Recorder: recorder, ResyncPeriod: o.ResyncPeriod, Now: o.Now,
		views: newViews(o.SharedReadTTL, o.Now)}).SetupWithManager(mgr, o.Concurrency); err != nil {
		return fmt.Errorf("UserMatch controller: %w", err)
	}
	if err := (&TenantSyncFeaturesReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Cloud: o.Cloud,
		Recorder: recorder, ResyncPeriod: o.ResyncPeriod, Now: o.Now}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("TenantSyncFeatures controller: %w", err)
	}
	return nil
}
