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
// It writes nothing outside Kubernetes, so it has no finalizer.
func (r *EntraTenantReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	return skeleton[*identityv1alpha1.EntraTenant, *tenantScope]{
		client: r.Client,
		scope: func(t *identityv1alpha1.EntraTenant, p pass) *tenantScope {
			return &tenantScope{pass: p, t: t}
		},
		phases:     []phase[*tenantScope]{r.observeDelegated, r.observe},
		status:     r.status,
		conditions: func(t *identityv1alpha1.EntraTenant) []metav1.Condition { return t.Status.Conditions },
		announce: func(t *identityv1alpha1.EntraTenant, before []metav1.Condition) {
			announce(r.Recorder, t, before, t.Status.Conditions, readyTransition)
		},
		observed: func(t *identityv1alpha1.EntraTenant) { t.Status.ObservedGeneration = t.Generation },
	}.reconcile(ctx, req, &identityv1alpha1.EntraTenant{})
}

// tenantScope is what one pass read of a tenant.
type tenantScope struct {
	pass
	t       *identityv1alpha1.EntraTenant
	org     cloud.Organization
	domains []cloud.Domain
	// signIn is the DelegatedSignIn condition; nil when spec.delegated is unset.
	signIn *cond
	// verified: the organization and domains were read.
	verified bool
}

// observeDelegated reads the stored delegated sign-in (see observeSignIn).
func (r *EntraTenantReconciler) observeDelegated(ctx context.Context, s *tenantScope) (ctrl.Result, error) {
	return ctrl.Result{}, r.observeSignIn(ctx, s)
}

// observe signs in and reads the organization and its domains.
func (r *EntraTenantReconciler) observe(ctx context.Context, s *tenantScope) (ctrl.Result, error) {
	conn, err := tenantConnection(ctx, r.APIReader, s.t)
	if err != nil {
		return s.fail(classifyCloud(err), r.ResyncPeriod)
	}
	c, err := r.Cloud.Client(ctx, conn)
	if err != nil {
		return s.fail(classifyCloud(err), r.ResyncPeriod)
	}
	if s.org, err = c.Organization(ctx); err != nil {
		return s.fail(classifyTenant(err), r.ResyncPeriod)
	}
	if s.domains, err = c.Domains(ctx); err != nil {
		return s.fail(classifyCloud(err), r.ResyncPeriod)
	}
	s.verified = true
	return ctrl.Result{RequeueAfter: r.ResyncPeriod}, nil
}

// status computes the EntraTenant's conditions.
func (r *EntraTenantReconciler) status(s *tenantScope) {
	t := s.t
	set := func(typ string, c cond) { c.set(&t.Status.Conditions, t.Generation, typ) }
	if t.Spec.Delegated == nil {
		t.Status.Delegated = nil
		meta.RemoveStatusCondition(&t.Status.Conditions, identityv1alpha1.ConditionDelegatedSignIn)
	} else if s.signIn != nil {
		set(identityv1alpha1.ConditionDelegatedSignIn, *s.signIn)
	}
	setStalled(&t.Status.Conditions, t.Generation, terminal(s.failed), s.failed != nil || s.verified)
	switch {
	case s.failed != nil:
		set(identityv1alpha1.ConditionReady, cond{false, s.failed.reason, s.failed.message})
		set(identityv1alpha1.ConditionSynced, cond{false, s.failed.reason, s.failed.message})
		return
	case !s.verified:
		return
	}
	t.Status.TenantDisplayName = s.org.DisplayName
	t.Status.VerifiedDomains = nil
	t.Status.InitialDomain = ""
	for _, d := range s.domains {
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
	set(identityv1alpha1.ConditionReady, cond{true, identityv1alpha1.ReasonVerified,
		fmt.Sprintf("signed in to %s; verified domains: %s", s.org.DisplayName, strings.Join(names, ", "))})
	set(identityv1alpha1.ConditionSynced, cond{true, identityv1alpha1.ReasonReconcileSucceeded, ""})
}

// observeSignIn reports the sign-in stored for spec.delegated from its
// Secret's annotations. It requests no token: that would redeem and rotate
// the refresh token just to look at it; TenantSyncFeatures use it and say
// whether Graph accepts it.
func (r *EntraTenantReconciler) observeSignIn(ctx context.Context, s *tenantScope) error {
	t := s.t
	d := t.Spec.Delegated
	if d == nil {
		return nil
	}
	ref := d.SecretRef
	login := fmt.Sprintf("; run `entramatch login --tenant %s` as a Global Administrator", t.Name)
	var secret corev1.Secret
	err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: ref.Namespace, Name: ref.Name}, &secret)
	var se *secretError
	switch {
	case errors.As(err, &se):
		t.Status.Delegated = nil
		o := se.outcome()
		s.signIn = &cond{false, o.reason, o.message}
		return nil
	case apierrors.IsNotFound(err) || err == nil && len(secret.Data[ref.Key]) == 0:
		t.Status.Delegated = nil
		s.signIn = &cond{false, identityv1alpha1.ReasonSignInRequired,
			fmt.Sprintf("Secret %s/%s holds no sign-in under key %q%s", ref.Namespace, ref.Name, ref.Key, login)}
		return nil
	case err != nil:
		return fmt.Errorf("reading Secret %s/%s: %w", ref.Namespace, ref.Name, err)
	}
	st := &identityv1alpha1.DelegatedSignInStatus{
		User:            secret.Annotations[tenantaccess.AnnotationSignedInUser],
		SignedInTime:    annotationTime(secret.Annotations[tenantaccess.AnnotationSignedInAt]),
		LastRefreshTime: annotationTime(secret.Annotations[tenantaccess.AnnotationTokenRefreshed]),
	}
	t.Status.Delegated = st
	who := st.User
	if who == "" {
		who = "someone (the Secret does not say who)"
	}
	s.signIn = &cond{true, identityv1alpha1.ReasonSignedIn,
		fmt.Sprintf("%s signed in; the token cache is in Secret %s/%s", who, ref.Namespace, ref.Name)}
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

func (r *EntraTenantReconciler) now() time.Time { return wallOr(r.Now) }

// SetupWithManager registers the reconciler. Its own status writes (the
// verification time moves every pass) do not trigger it: spec changes and
// the resync period do.
func (r *EntraTenantReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&identityv1alpha1.EntraTenant{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Named("entratenant").Complete(r)
}
