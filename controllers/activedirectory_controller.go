package controllers

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
)

// ActiveDirectoryReconciler binds to each directory and records its naming
// context and UPN suffixes, so that connection problems show on the resource.
type ActiveDirectoryReconciler struct {
	Client       client.Client
	APIReader    client.Reader
	Directory    DirectoryFactory
	Recorder     events.EventRecorder
	ResyncPeriod time.Duration
}

// +kubebuilder:rbac:groups=identity.entramatch.io,resources=activedirectories,verbs=get;list;watch
// +kubebuilder:rbac:groups=identity.entramatch.io,resources=activedirectories/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile observes the directory and reports it.
func (r *ActiveDirectoryReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var ad identityv1alpha1.ActiveDirectory
	if err := r.Client.Get(ctx, req.NamespacedName, &ad); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	base := ad.DeepCopy()
	res, rerr := r.observe(ctx, &ad)
	ad.Status.ObservedGeneration = ad.Generation
	if err := r.Client.Status().Patch(ctx, &ad, client.MergeFrom(base)); err != nil && !apierrors.IsNotFound(err) {
		return ctrl.Result{}, err
	}
	readyEvent(r.Recorder, &ad, meta.FindStatusCondition(base.Status.Conditions, identityv1alpha1.ConditionReady), ad.Status.Conditions)
	return res, rerr
}

func (r *ActiveDirectoryReconciler) observe(ctx context.Context, ad *identityv1alpha1.ActiveDirectory) (ctrl.Result, error) {
	gen := ad.Generation
	fail := func(o outcome) (ctrl.Result, error) {
		setCondition(&ad.Status.Conditions, gen, identityv1alpha1.ConditionReady, false, o.reason, o.message)
		setCondition(&ad.Status.Conditions, gen, identityv1alpha1.ConditionSynced, false, o.reason, o.message)
		return requeueFor(o, r.ResyncPeriod)
	}
	cfg, err := directoryConfig(ctx, r.APIReader, ad)
	if err != nil {
		return fail(classifyDirectory(err))
	}
	d, err := r.Directory.Directory(ctx, cfg)
	if err != nil {
		return fail(classifyDirectory(err))
	}
	nc, err := d.NamingContext(ctx)
	if err != nil {
		return fail(classifyDirectory(err))
	}
	suffixes, err := d.UPNSuffixes(ctx)
	if err != nil {
		return fail(classifyDirectory(err))
	}
	ad.Status.NamingContext = nc
	ad.Status.UPNSuffixes = suffixes
	ad.Status.ConnectedURL = cfg.URLs[0]
	if ad.Spec.TLS != nil && ad.Spec.TLS.Mode == identityv1alpha1.TLSModeInsecure {
		setCondition(&ad.Status.Conditions, gen, identityv1alpha1.ConditionReady, true, identityv1alpha1.ReasonInsecureConnection,
			"bound over clear-text LDAP: the bind password and directory data cross the network unencrypted; switch tls.mode to LDAPS or StartTLS")
	} else {
		setCondition(&ad.Status.Conditions, gen, identityv1alpha1.ConditionReady, true, identityv1alpha1.ReasonConnected,
			fmt.Sprintf("bound over TLS; naming context %s", nc))
	}
	setCondition(&ad.Status.Conditions, gen, identityv1alpha1.ConditionSynced, true, identityv1alpha1.ReasonReconcileSucceeded, "")
	return ctrl.Result{RequeueAfter: r.ResyncPeriod}, nil
}

// SetupWithManager registers the reconciler.
func (r *ActiveDirectoryReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).For(&identityv1alpha1.ActiveDirectory{}).Named("activedirectory").Complete(r)
}
