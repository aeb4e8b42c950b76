package controllers

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/cloud"
	"github.com/entramatch/entra-match-operator/internal/tenantaccess"
)

// EntraTenantReconciler signs in to each tenant and records its domains, so
// that a person sees at once whether credentials and permissions work.
type EntraTenantReconciler struct {
	Client       client.Client
	APIReader    client.Reader // uncached, for Secrets
	Cloud        cloud.Factory
	Recorder     events.EventRecorder
	ResyncPeriod time.Duration
	Now          func() time.Time
}

// +kubebuilder:rbac:groups=identity.entramatch.io,resources=entratenants,verbs=get;list;watch
// +kubebuilder:rbac:groups=identity.entramatch.io,resources=entratenants/status,verbs=get;update;patch
// +kubebuilder:rbac:groups="",namespace=system,resources=secrets,verbs=get
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile observes the tenant (organization and domains) and reports it.
func (r *EntraTenantReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var t identityv1alpha1.EntraTenant
	if err := r.Client.Get(ctx, req.NamespacedName, &t); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	base := t.DeepCopy()
	res, rerr := r.observe(ctx, &t)
	t.Status.ObservedGeneration = t.Generation
	if err := r.Client.Status().Patch(ctx, &t, client.MergeFrom(base)); err != nil && !apierrors.IsNotFound(err) {
		return ctrl.Result{}, err
	}
	readyEvent(r.Recorder, &t, meta.FindStatusCondition(base.Status.Conditions, identityv1alpha1.ConditionReady), t.Status.Conditions)
	return res, rerr
}

func (r *EntraTenantReconciler) observe(ctx context.Context, t *identityv1alpha1.EntraTenant) (ctrl.Result, error) {
	gen := t.Generation
	if err := r.observeSignIn(ctx, t); err != nil {
		return ctrl.Result{}, err
	}
	fail := func(o outcome) (ctrl.Result, error) {
		setCondition(&t.Status.Conditions, gen, identityv1alpha1.ConditionReady, false, o.reason, o.message)
		setCondition(&t.Status.Conditions, gen, identityv1alpha1.ConditionSynced, false, o.reason, o.message)
		return requeueFor(o, r.ResyncPeriod)
	}
	conn, err := tenantConnection(ctx, r.APIReader, t)
	if err != nil {
		return fail(classifyCloud(err))
	}
	c, err := r.Cloud.Client(ctx, conn)
	if err != nil {
		return fail(classifyCloud(err))
	}
	org, err := c.Organization(ctx)
	if err != nil {
		return fail(classifyTenant(err))
	}
	domains, err := c.Domains(ctx)
	if err != nil {
		return fail(classifyCloud(err))
	}
	t.Status.TenantDisplayName = org.DisplayName
	t.Status.VerifiedDomains = nil
	t.Status.InitialDomain = ""
	for _, d := range domains {
		if d.IsInitial {
			t.Status.InitialDomain = d.ID
		}
		if d.IsVerified {
			t.Status.VerifiedDomains = append(t.Status.VerifiedDomains, identityv1alpha1.VerifiedDomain{
				Name: d.ID, IsInitial: d.IsInitial, IsDefault: d.IsDefault, AuthenticationType: d.AuthenticationType})
		}
	}
	sort.Slice(t.Status.VerifiedDomains, func(i, j int) bool { return t.Status.VerifiedDomains[i].Name < t.Status.VerifiedDomains[j].Name })
	now := metav1.NewTime(r.now())
	t.Status.LastVerifiedTime = &now
	names := make([]string, 0, len(t.Status.VerifiedDomains))
	for _, d := range t.Status.VerifiedDomains {
		names = append(names, d.Name)
	}
	msg := fmt.Sprintf("signed in to %s; verified domains: %s", org.DisplayName, strings.Join(names, ", "))
	setCondition(&t.Status.Conditions, gen, identityv1alpha1.ConditionReady, true, identityv1alpha1.ReasonVerified, msg)
	setCondition(&t.Status.Conditions, gen, identityv1alpha1.ConditionSynced, true, identityv1alpha1.ReasonReconcileSucceeded, "")
	return ctrl.Result{RequeueAfter: r.ResyncPeriod}, nil
}

// observeSignIn reports the sign-in stored for spec.delegated from its
// Secret's annotations. It requests no token: that would redeem and rotate
// the refresh token just to look at it; TenantSyncFeatures use it and say
// whether Graph accepts it.
func (r *EntraTenantReconciler) observeSignIn(ctx context.Context, t *identityv1alpha1.EntraTenant) error {
	d := t.Spec.Delegated
	if d == nil {
		t.Status.Delegated = nil
		meta.RemoveStatusCondition(&t.Status.Conditions, identityv1alpha1.ConditionDelegatedSignIn)
		return nil
	}
	ref := d.SecretRef
	login := fmt.Sprintf("; run `entramatch login --tenant %s` as a Global Administrator", t.Name)
	var s corev1.Secret
	err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: ref.Namespace, Name: ref.Name}, &s)
	var se *secretError
	switch {
	case errors.As(err, &se):
		t.Status.Delegated = nil
		o := se.outcome()
		setCondition(&t.Status.Conditions, t.Generation, identityv1alpha1.ConditionDelegatedSignIn, false, o.reason, o.message)
		return nil
	case apierrors.IsNotFound(err) || err == nil && len(s.Data[ref.Key]) == 0:
		t.Status.Delegated = nil
		setCondition(&t.Status.Conditions, t.Generation, identityv1alpha1.ConditionDelegatedSignIn, false, identityv1alpha1.ReasonSignInRequired,
			fmt.Sprintf("Secret %s/%s holds no sign-in under key %q%s", ref.Namespace, ref.Name, ref.Key, login))
		return nil
	case err != nil:
		return fmt.Errorf("reading Secret %s/%s: %w", ref.Namespace, ref.Name, err)
	}
	st := &identityv1alpha1.DelegatedSignInStatus{
		User:            s.Annotations[tenantaccess.AnnotationSignedInUser],
		SignedInTime:    annotationTime(s.Annotations[tenantaccess.AnnotationSignedInAt]),
		LastRefreshTime: annotationTime(s.Annotations[tenantaccess.AnnotationTokenRefreshed]),
	}
	t.Status.Delegated = st
	who := st.User
	if who == "" {
		who = "someone (the Secret does not say who)"
	}
	setCondition(&t.Status.Conditions, t.Generation, identityv1alpha1.ConditionDelegatedSignIn, true, identityv1alpha1.ReasonSignedIn,
		fmt.Sprintf("%s signed in; the token cache is in Secret %s/%s", who, ref.Namespace, ref.Name))
	return nil
}

// annotationTime reads an RFC 3339 annotation; nil when absent or malformed.
func annotationTime(v string) *metav1.Time {
	tm, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return nil
	}
	mt := metav1.NewTime(tm)
	return &mt
}

func (r *EntraTenantReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// SetupWithManager registers the reconciler. Its own status writes (the
// verification time moves every pass) do not trigger it: spec changes and
// the resync period do.
func (r *EntraTenantReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&identityv1alpha1.EntraTenant{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Named("entratenant").Complete(r)
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
