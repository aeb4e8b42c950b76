package controllers

import (
	"fmt"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/entramatch/entra-match-operator/internal/cloud"
	"github.com/entramatch/entra-match-operator/internal/directory"
	"github.com/entramatch/entra-match-operator/internal/metrics"
	"github.com/entramatch/entra-match-operator/internal/recorder"
	"github.com/entramatch/entra-match-operator/internal/seal"
)

// Options configure every controller; the manager binary and the tests
// build them with their own factories.
type Options struct {
	Cloud        cloud.Factory
	Directory    directory.Factory
	ResyncPeriod time.Duration
	Concurrency  int
	Now          func() time.Time
	// SharedReadTTL is how long one tenant-wide or directory-wide read
	// serves all UserMatches; half the resync period when zero.
	SharedReadTTL time.Duration
	// SecretNamespaces are the namespaces Secrets are read from; a
	// resource naming a Secret elsewhere gets SecretNotAllowed. Required:
	// the manager's own namespace is the usual value.
	SecretNamespaces []string
	// TokenFileDirs are the directories workload identity token files may
	// be read from (projected federation tokens).
	TokenFileDirs []string
	// Namespace is the manager's own: claims on cloud users (Leases) live
	// there. The first of SecretNamespaces when empty.
	Namespace string
	// WriteQuota paces each tenant's immutableId writes (see WriteQuota);
	// Graph's documented quota when zero, none when negative.
	WriteQuota WriteQuota
	// SealKey signs the roles recorded in UserMatch status (see package
	// seal). Required; it must survive restarts (LoadSealKey), or roles
	// recorded before a restart cannot be restored by the operator.
	SealKey []byte
}

// The manager's secured /metrics endpoint asks the API server who a
// scraper is and whether it may read /metrics.
// +kubebuilder:rbac:groups=authentication.k8s.io,resources=tokenreviews,verbs=create
// +kubebuilder:rbac:groups=authorization.k8s.io,resources=subjectaccessreviews,verbs=create

// Setup registers all controllers with the manager.
func Setup(mgr ctrl.Manager, o Options) error {
	if o.ResyncPeriod <= 0 {
		o.ResyncPeriod = 5 * time.Minute
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 1
	}
	if len(o.SecretNamespaces) == 0 {
		return fmt.Errorf("no namespace to read Secrets from: set Options.SecretNamespaces (the manager's --secret-namespaces)")
	}
	if o.Namespace == "" {
		o.Namespace = o.SecretNamespaces[0]
	}
	sealer, err := seal.New(o.SealKey)
	if err != nil {
		return fmt.Errorf("Options.SealKey: %w", err)
	}
	secrets := newSecretScope(mgr.GetAPIReader(), o.SecretNamespaces, o.TokenFileDirs)
	// Events go through a recorder of bounded memory (see its package).
	events := recorder.New(mgr.GetClient(), mgr.GetScheme(), recorder.Options{Controller: "entra-match-operator",
		Dropped: func(reason string) { metrics.EventsDropped.WithLabelValues(reason).Inc() }})
	if err := mgr.Add(events); err != nil {
		return err
	}
	if err := (&EntraTenantReconciler{Client: mgr.GetClient(), APIReader: secrets, Cloud: o.Cloud,
		Recorder: events, ResyncPeriod: o.ResyncPeriod, Now: o.Now}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("EntraTenant controller: %w", err)
	}
	if err := (&ActiveDirectoryReconciler{Client: mgr.GetClient(), APIReader: secrets, Directory: o.Directory,
		Recorder: events, ResyncPeriod: o.ResyncPeriod}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("ActiveDirectory controller: %w", err)
	}
	if o.SharedReadTTL <= 0 {
		o.SharedReadTTL = o.ResyncPeriod / 2
	}
	// UserMatches read their credentials on every reconcile and never
	// write a Secret: a GET of each serves them for secretReuse.
	userMatchSecrets := newSecretScope(newRecentSecrets(mgr.GetAPIReader(), secretReuse, o.Now), o.SecretNamespaces, o.TokenFileDirs)
	if err := (&UserMatchReconciler{Client: mgr.GetClient(), APIReader: userMatchSecrets, Cloud: o.Cloud, Directory: o.Directory,
		Recorder: events, ResyncPeriod: o.ResyncPeriod, Now: o.Now, Sealer: sealer,
		claims: claims{reader: mgr.GetAPIReader(), writer: mgr.GetClient(), namespace: o.Namespace},
		views:  newViews(o.SharedReadTTL, o.Now).pacing(o.WriteQuota), fair: newFairShare(o.Concurrency, o.Now)}).SetupWithManager(mgr, o.Concurrency); err != nil {
		return fmt.Errorf("UserMatch controller: %w", err)
	}
	if err := (&TenantSyncFeaturesReconciler{Client: mgr.GetClient(), APIReader: secrets, Cloud: o.Cloud,
		Recorder: events, ResyncPeriod: o.ResyncPeriod, Now: o.Now}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("TenantSyncFeatures controller: %w", err)
	}
	if err := (&UserMatchSetReconciler{Client: mgr.GetClient(), APIReader: secrets, Cloud: o.Cloud, Directory: o.Directory,
		Recorder: events, Now: o.Now, ResyncPeriod: o.ResyncPeriod}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("UserMatchSet controller: %w", err)
	}
	if err := (&SyncPlanReconciler{Client: mgr.GetClient(), APIReader: secrets, Reader: mgr.GetAPIReader(), Cloud: o.Cloud,
		Directory: o.Directory, Recorder: events, Now: o.Now, Namespace: o.Namespace, ResyncPeriod: o.ResyncPeriod}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("SyncPlan controller: %w", err)
	}
	if err := (&SignInNameAlignmentReconciler{Client: mgr.GetClient(), APIReader: secrets, Cloud: o.Cloud, Directory: o.Directory,
		Recorder: events, ResyncPeriod: o.ResyncPeriod, Now: o.Now, Sealer: sealer}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("SignInNameAlignment controller: %w", err)
	}
	return nil
}
