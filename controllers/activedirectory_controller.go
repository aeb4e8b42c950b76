package controllers

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/directory"
)

// ActiveDirectoryReconciler binds to each directory and records its naming
// context and UPN suffixes, so that connection problems show on the resource.
type ActiveDirectoryReconciler struct {
	Client       client.Client
	APIReader    client.Reader
	Directory    directory.Factory
	Recorder     events.EventRecorder
	ResyncPeriod time.Duration
}

// +kubebuilder:rbac:groups=identity.entramatch.io,resources=activedirectories,verbs=get;list;watch
// +kubebuilder:rbac:groups=identity.entramatch.io,resources=activedirectories/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile observes the directory and reports it. It writes nothing
// outside Kubernetes, so it has no finalizer.
func (r *ActiveDirectoryReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	return skeleton[*identityv1alpha1.ActiveDirectory, *directoryScope]{
		client: r.Client,
		scope: func(ad *identityv1alpha1.ActiveDirectory, p pass) *directoryScope {
			return &directoryScope{pass: p, ad: ad}
		},
		phases:     []phase[*directoryScope]{r.observe},
		status:     r.status,
		conditions: func(ad *identityv1alpha1.ActiveDirectory) []metav1.Condition { return ad.Status.Conditions },
		announce: func(ad *identityv1alpha1.ActiveDirectory, before []metav1.Condition) {
			announce(r.Recorder, ad, before, ad.Status.Conditions, readyTransition)
		},
		observed: func(ad *identityv1alpha1.ActiveDirectory) { ad.Status.ObservedGeneration = ad.Generation },
	}.reconcile(ctx, req, &identityv1alpha1.ActiveDirectory{})
}

// directoryScope is what one pass read of a directory.
type directoryScope struct {
	pass
	ad         *identityv1alpha1.ActiveDirectory
	url        string
	searchBase string
	nc         string
	suffixes   []string
	// connected: every read succeeded.
	connected bool
}

// observe binds, reads the search base (which must exist), the naming
// context and the forest's UPN suffixes.
func (r *ActiveDirectoryReconciler) observe(ctx context.Context, s *directoryScope) (ctrl.Result, error) {
	cfg, err := directoryConfig(ctx, r.APIReader, s.ad)
	if err != nil {
		return s.fail(classifyDirectory(err), r.ResyncPeriod)
	}
	d, err := r.Directory.Directory(ctx, cfg)
	if err == nil {
		s.searchBase, err = d.SearchBase(ctx)
	}
	if err == nil {
		s.nc, err = d.NamingContext(ctx)
	}
	if err == nil {
		s.suffixes, err = d.UPNSuffixes(ctx)
	}
	if err != nil {
		return s.fail(classifyDirectory(err), r.ResyncPeriod)
	}
	s.url, s.connected = cfg.URLs[0], true
	return ctrl.Result{RequeueAfter: r.ResyncPeriod}, nil
}

// status computes the ActiveDirectory's conditions.
func (r *ActiveDirectoryReconciler) status(s *directoryScope) {
	ad := s.ad
	set := func(typ string, c cond) { c.set(&ad.Status.Conditions, ad.Generation, typ) }
	switch {
	case s.failed != nil:
		set(identityv1alpha1.ConditionReady, cond{false, s.failed.reason, s.failed.message})
		set(identityv1alpha1.ConditionSynced, cond{false, s.failed.reason, s.failed.message})
		return
	case !s.connected:
		return
	}
	ad.Status.NamingContext = s.nc
	ad.Status.UPNSuffixes = s.suffixes
	ad.Status.ConnectedURL = s.url
	if ad.Spec.TLS != nil && ad.Spec.TLS.Mode == identityv1alpha1.TLSModeInsecure {
		set(identityv1alpha1.ConditionReady, cond{true, identityv1alpha1.ReasonInsecureConnection,
			"bound over clear-text LDAP: the bind password and directory data cross the network unencrypted; switch tls.mode to LDAPS or StartTLS"})
	} else {
		set(identityv1alpha1.ConditionReady, cond{true, identityv1alpha1.ReasonConnected,
			fmt.Sprintf("bound over TLS; read base DN %s; naming context %s", s.searchBase, s.nc)})
	}
	set(identityv1alpha1.ConditionSynced, cond{true, identityv1alpha1.ReasonReconcileSucceeded, ""})
}

// SetupWithManager registers the reconciler.
func (r *ActiveDirectoryReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).For(&identityv1alpha1.ActiveDirectory{}).Named("activedirectory").Complete(r)
}
