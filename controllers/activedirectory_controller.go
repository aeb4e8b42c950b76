package controllers

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/alignment"
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
		phases:     []phase[*directoryScope]{r.observe, r.alignSuffixes, r.finish},
		status:     r.status,
		conditions: func(ad *identityv1alpha1.ActiveDirectory) []metav1.Condition { return ad.Status.Conditions },
		announce: func(ad *identityv1alpha1.ActiveDirectory, before []metav1.Condition) {
			announce(r.Recorder, ad, before, ad.Status.Conditions, readyTransition)
		},
		observed: func(ad *identityv1alpha1.ActiveDirectory) { ad.Status.ObservedGeneration = ad.Generation },
	}.reconcile(ctx, req, &identityv1alpha1.ActiveDirectory{})
}

// directoryScope is what one pass read and decided of a directory.
type directoryScope struct {
	pass
	ad         *identityv1alpha1.ActiveDirectory
	url        string
	searchBase string
	forest     directory.ForestSuffixes
	// connected: every read succeeded.
	connected bool

	dir directory.Service
	// suffixes is the plan for spec.forestUPNSuffixes; suffixFailed says
	// why its writes failed.
	suffixes     *alignment.SuffixPlan
	suffixFailed *outcome
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
		s.forest, err = d.ForestUPNSuffixes(ctx)
	}
	if err != nil {
		return s.fail(classifyDirectory(err), r.ResyncPeriod)
	}
	s.url, s.connected, s.dir = cfg.URLs[0], true, d
	return ctrl.Result{}, nil
}

// alignSuffixes makes the forest offer spec.forestUPNSuffixes
// (internal/alignment decides): in Enforce it adds the missing suffixes
// and removes the ones it added that left the list, with its record of
// what it added persisted before the write.
func (r *ActiveDirectoryReconciler) alignSuffixes(ctx context.Context, s *directoryScope) (ctrl.Result, error) {
	spec := s.ad.Spec.ForestUPNSuffixes
	if spec == nil {
		return ctrl.Result{}, nil
	}
	plan := alignment.PlanSuffixes(alignment.SuffixInput{Desired: spec.Suffixes, Offered: s.forest.Offered,
		Alternative: s.forest.Alternative, Added: s.ad.Status.AddedUPNSuffixes, Enforce: spec.Mode == identityv1alpha1.ModeEnforce})
	s.suffixes = &plan
	if len(plan.Add)+len(plan.Remove) == 0 {
		s.ad.Status.AddedUPNSuffixes = plan.Added
		return ctrl.Result{}, nil
	}
	// Intent first: a crash after the write must not lose which suffixes
	// are the operator's.
	s.ad.Status.AddedUPNSuffixes = plan.Intent
	if err := s.persist(); err != nil {
		return ctrl.Result{}, err
	}
	s.log.Info("changing the forest's UPN suffixes", "partitions", s.forest.PartitionsDN, "add", plan.Add, "remove", plan.Remove)
	if err := s.dir.ChangeUPNSuffixes(ctx, plan.Add, plan.Remove); err != nil {
		o := classifyDirectory(err)
		if o.reason == identityv1alpha1.ReasonMissingPermission {
			o.message = fmt.Sprintf("the bind account %s may not write uPNSuffixes on %s: adding or removing UPN suffixes needs Enterprise Admins, "+
				"or a right delegated to write uPNSuffixes on that object (%s)", s.ad.Spec.Bind.DN, s.forest.PartitionsDN, o.message)
		}
		s.suffixFailed = &o
		return s.fail(o, r.ResyncPeriod)
	}
	s.ad.Status.AddedUPNSuffixes = plan.Added
	for _, a := range plan.Add {
		r.event(s.ad, corev1.EventTypeNormal, identityv1alpha1.EventUPNSuffixAdded, "AddUPNSuffix",
			fmt.Sprintf("added UPN suffix %s to the forest (uPNSuffixes on %s)", a, s.forest.PartitionsDN))
	}
	for _, rm := range plan.Remove {
		r.event(s.ad, corev1.EventTypeNormal, identityv1alpha1.EventUPNSuffixRemoved, "RemoveUPNSuffix",
			fmt.Sprintf("removed UPN suffix %s, which the operator had added and spec.forestUPNSuffixes no longer lists", rm))
	}
	s.forest.Offered = plan.OfferedAfter
	return ctrl.Result{}, nil
}

func (r *ActiveDirectoryReconciler) finish(context.Context, *directoryScope) (ctrl.Result, error) {
	return ctrl.Result{RequeueAfter: r.ResyncPeriod}, nil
}

func (r *ActiveDirectoryReconciler) event(ad *identityv1alpha1.ActiveDirectory, typ, reason, action, msg string) {
	emit(r.Recorder, ad, typ, reason, action, msg)
}

// status computes the ActiveDirectory's conditions.
func (r *ActiveDirectoryReconciler) status(s *directoryScope) {
	ad := s.ad
	set := func(typ string, c cond) { c.set(&ad.Status.Conditions, ad.Generation, typ) }
	setStalled(&ad.Status.Conditions, ad.Generation, terminal(s.failed), s.failed != nil || s.connected)
	// Ready is about reaching the directory: a refused suffix write shows on
	// its own condition and on Synced, while matching goes on.
	switch {
	case s.failed != nil && s.suffixFailed == nil:
		set(identityv1alpha1.ConditionReady, cond{false, s.failed.reason, s.failed.message})
		set(identityv1alpha1.ConditionSynced, cond{false, s.failed.reason, s.failed.message})
		return
	case !s.connected:
		return
	}
	ad.Status.NamingContext = s.forest.NamingContext
	ad.Status.UPNSuffixes = s.forest.Offered
	ad.Status.ConnectedURL = s.url
	if c, ok := suffixCondition(s); ok {
		set(identityv1alpha1.ConditionUPNSuffixesOffered, c)
	} else {
		meta.RemoveStatusCondition(&ad.Status.Conditions, identityv1alpha1.ConditionUPNSuffixesOffered)
	}
	if ad.Spec.TLS != nil && ad.Spec.TLS.Mode == identityv1alpha1.TLSModeInsecure {
		set(identityv1alpha1.ConditionReady, cond{true, identityv1alpha1.ReasonInsecureConnection,
			"bound over clear-text LDAP: the bind password and directory data cross the network unencrypted; switch tls.mode to LDAPS or StartTLS"})
	} else {
		set(identityv1alpha1.ConditionReady, cond{true, identityv1alpha1.ReasonConnected,
			fmt.Sprintf("bound over TLS; read base DN %s; naming context %s", s.searchBase, s.forest.NamingContext)})
	}
	if s.suffixFailed != nil {
		set(identityv1alpha1.ConditionSynced, cond{false, s.suffixFailed.reason, s.suffixFailed.message})
		return
	}
	set(identityv1alpha1.ConditionSynced, cond{true, identityv1alpha1.ReasonReconcileSucceeded, ""})
}

// suffixCondition says whether the forest offers spec.forestUPNSuffixes;
// false when the spec declares none.
func suffixCondition(s *directoryScope) (cond, bool) {
	spec := s.ad.Spec.ForestUPNSuffixes
	switch {
	case spec == nil:
		return cond{}, false
	case s.suffixFailed != nil:
		return cond{false, s.suffixFailed.reason, s.suffixFailed.message}, true
	case s.suffixes != nil && len(s.suffixes.Missing) > 0 && len(s.suffixes.Add) == 0:
		return cond{false, identityv1alpha1.ReasonUPNSuffixesMissing, fmt.Sprintf(
			"the forest does not offer %s; forestUPNSuffixes.mode is Observe: set it to Enforce to add them",
			strings.Join(s.suffixes.Missing, ", "))}, true
	}
	return cond{true, identityv1alpha1.ReasonUPNSuffixesPresent, "the forest offers " + strings.Join(spec.Suffixes, ", ")}, true
}

// SetupWithManager registers the reconciler.
func (r *ActiveDirectoryReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).For(&identityv1alpha1.ActiveDirectory{}).Named("activedirectory").Complete(r)
}
