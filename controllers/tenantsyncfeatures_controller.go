package controllers

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/cloud"
	"github.com/entramatch/entra-match-operator/internal/metrics"
	"github.com/entramatch/entra-match-operator/internal/syncfeatures"
)

// TenantSyncFeaturesFinalizer lets the deletion policy run before a
// TenantSyncFeatures goes.
const TenantSyncFeaturesFinalizer = "identity.entramatch.io/tenantsyncfeatures"

// TenantSyncFeaturesReconciler keeps a tenant's directory synchronization
// flags at their declared values, opens and closes matching windows on time,
// and corrects drift.
type TenantSyncFeaturesReconciler struct {
	Client       client.Client
	APIReader    client.Reader
	Cloud        cloud.Factory
	Recorder     events.EventRecorder
	ResyncPeriod time.Duration
	Now          func() time.Time
}

// +kubebuilder:rbac:groups=identity.entramatch.io,resources=tenantsyncfeatures,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=identity.entramatch.io,resources=tenantsyncfeatures/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=identity.entramatch.io,resources=tenantsyncfeatures/finalizers,verbs=update
// +kubebuilder:rbac:groups=identity.entramatch.io,resources=entratenants,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// Secrets are read (and the delegated sign-in's written back) only in the
// manager's namespace: a namespaced Role, not a ClusterRole.
// +kubebuilder:rbac:groups="",namespace=system,resources=secrets,verbs=get;update

// Reconcile runs one pass of the TenantSyncFeatures phases and records the outcome.
func (r *TenantSyncFeaturesReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	return skeleton[*identityv1alpha1.TenantSyncFeatures, *featuresScope]{
		client:    r.Client,
		finalizer: TenantSyncFeaturesFinalizer,
		finalize:  r.finalize,
		scope: func(tsf *identityv1alpha1.TenantSyncFeatures, p pass) *featuresScope {
			return &featuresScope{pass: p, tsf: tsf, now: r.now()}
		},
		phases: []phase[*featuresScope]{
			r.observeGovernor, // read: the EntraTenant, and who governs it
			r.observeSettings, // read: the tenant's flags
			r.decideAndWrite,  // write (Graph): one read-modify-write, intent recorded first
			r.finish,
		},
		status:     r.status,
		conditions: func(tsf *identityv1alpha1.TenantSyncFeatures) []metav1.Condition { return tsf.Status.Conditions },
		announce:   r.announce,
		observed:   func(tsf *identityv1alpha1.TenantSyncFeatures) { tsf.Status.ObservedGeneration = tsf.Generation },
	}.reconcile(ctx, req, &identityv1alpha1.TenantSyncFeatures{})
}

// featuresScope is what one pass read and decided of a TenantSyncFeatures.
type featuresScope struct {
	pass
	tsf    *identityv1alpha1.TenantSyncFeatures
	now    time.Time
	tenant *identityv1alpha1.EntraTenant
	// governor names the TenantSyncFeatures that governs the tenant when
	// it is another one: this one then changes nothing.
	governor string
	client   cloud.Client
	settings cloud.SyncSettings
	plan     *syncfeatures.Plan
	// writeFailed: the plan's write was refused or failed.
	writeFailed bool
	finished    bool
}

// observeGovernor reads the EntraTenant and which TenantSyncFeatures
// governs it: only one may.
func (r *TenantSyncFeaturesReconciler) observeGovernor(ctx context.Context, s *featuresScope) (ctrl.Result, error) {
	var tenant identityv1alpha1.EntraTenant
	if err := r.Client.Get(ctx, types.NamespacedName{Name: s.tsf.Spec.TenantRef.Name}, &tenant); err != nil {
		if apierrors.IsNotFound(err) {
			return s.fail(outcome{reason: identityv1alpha1.ReasonTenantNotReady,
				message: fmt.Sprintf("EntraTenant %q does not exist", s.tsf.Spec.TenantRef.Name)}, r.ResyncPeriod)
		}
		return ctrl.Result{}, err
	}
	s.tenant = &tenant
	governor, err := r.governor(ctx, s.tsf, &tenant)
	if err != nil {
		return ctrl.Result{}, err
	}
	if governor != s.tsf.Name {
		s.governor = governor
		s.log.Info("another TenantSyncFeatures governs the tenant; changing nothing", "governor", governor)
		return s.end(ctrl.Result{RequeueAfter: r.ResyncPeriod})
	}
	return ctrl.Result{}, nil
}

// observeSettings reads the tenant's directory synchronization settings.
func (r *TenantSyncFeaturesReconciler) observeSettings(ctx context.Context, s *featuresScope) (ctrl.Result, error) {
	c, err := r.client(ctx, s.tenant)
	if err != nil {
		return s.fail(classifySyncFeatures(err, s.tenant), r.ResyncPeriod)
	}
	s.client = c
	s.tsf.Status.Access = accessOf(s.tenant)
	if s.settings, err = c.SyncSettings(ctx, s.tenant.Spec.TenantID); err != nil {
		return s.fail(classifySyncFeatures(err, s.tenant), r.ResyncPeriod)
	}
	return ctrl.Result{}, nil
}

// decideAndWrite decides (internal/syncfeatures) and makes one
// read-modify-write of the whole settings object, with the intent
// (original values, windows) persisted first.
func (r *TenantSyncFeaturesReconciler) decideAndWrite(ctx context.Context, s *featuresScope) (ctrl.Result, error) {
	tsf := s.tsf
	plan := syncfeatures.Decide(syncfeatures.Input{Spec: tsf.Spec, Status: tsf.Status, Tenant: s.settings, Now: s.now})
	s.plan = &plan
	if !plan.Write {
		return ctrl.Result{}, nil
	}
	tsf.Status.Original = plan.Original
	tsf.Status.Windows = plan.Intent
	if err := s.persist(); err != nil {
		if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
			return s.end(ctrl.Result{RequeueAfter: time.Second})
		}
		return ctrl.Result{}, err
	}
	s.log.Info("writing directory synchronization settings", "tenant", s.tenant.Spec.TenantID, "changes", describeChanges("set", plan))
	if err := s.client.UpdateSyncSettings(ctx, plan.Settings); err != nil {
		metrics.SyncFeatureWrites.WithLabelValues(string(cloud.ClassOf(err))).Inc()
		s.writeFailed = true
		return s.fail(classifySyncFeatures(err, s.tenant), r.ResyncPeriod)
	}
	metrics.SyncFeatureWrites.WithLabelValues("ok").Inc()
	t := metav1.NewTime(s.now)
	tsf.Status.LastCorrectionTime = &t
	tsf.Status.Corrections++
	return ctrl.Result{}, nil
}

// finish reports what the pass changed, one Event per change, and comes
// back when a window opens or closes, or at the resync.
func (r *TenantSyncFeaturesReconciler) finish(_ context.Context, s *featuresScope) (ctrl.Result, error) {
	s.finished = true
	r.reportChanges(s.tsf, *s.plan)
	return ctrl.Result{RequeueAfter: r.requeueAfter(s.plan.NextCheck)}, nil
}

// reportChanges emits one Event per change made: flags set, drift
// corrected, windows opened and closed.
func (r *TenantSyncFeaturesReconciler) reportChanges(tsf *identityv1alpha1.TenantSyncFeatures, plan syncfeatures.Plan) {
	observe := modeOf(tsf.Spec.Mode) == identityv1alpha1.ModeObserve
	if plan.Write {
		for _, c := range plan.Applied {
			if c.Drift {
				metrics.DriftCorrections.WithLabelValues("TenantSyncFeatures", string(c.Feature)).Inc()
				r.event(tsf, corev1.EventTypeWarning, identityv1alpha1.ReasonDriftCorrected, setAction(string(c.Feature)),
					fmt.Sprintf("%s was changed outside the operator from %t to %t; set back to %t", c.Feature, c.To, c.From, c.To))
				continue
			}
			r.event(tsf, corev1.EventTypeNormal, identityv1alpha1.EventFeatureUpdated, setAction(string(c.Feature)),
				fmt.Sprintf("set %s from %t to %t (%s)", c.Feature, c.From, c.To, describeSource(c)))
		}
		if d := plan.DeletionPrevention; d != nil && !observe {
			msg := fmt.Sprintf("set accidentalDeletionPrevention from %s to %s", describeADP(d.From), describeADP(&d.To))
			if d.Drift {
				metrics.DriftCorrections.WithLabelValues("TenantSyncFeatures", "accidentalDeletionPrevention").Inc()
				r.event(tsf, corev1.EventTypeWarning, identityv1alpha1.ReasonDriftCorrected, setAction("accidentalDeletionPrevention"),
					"accidentalDeletionPrevention was changed outside the operator; "+msg)
			} else {
				r.event(tsf, corev1.EventTypeNormal, identityv1alpha1.EventFeatureUpdated, setAction("accidentalDeletionPrevention"), msg)
			}
		}
	}
	for _, w := range plan.Opened {
		r.event(tsf, corev1.EventTypeNormal, identityv1alpha1.EventWindowOpened, "OpenWindow/"+w.Name,
			fmt.Sprintf("matching window %s opened: %s is %t until %s", w.Name, w.Feature, w.Value, w.ExpiresAt.UTC().Format(time.RFC3339)))
	}
	for _, w := range plan.Closed {
		back := "left as it is (neither the spec nor a value from before the window governs it)"
		if w.Back != nil {
			back = fmt.Sprintf("back to %t", *w.Back)
		}
		r.event(tsf, corev1.EventTypeNormal, identityv1alpha1.EventWindowClosed, "CloseWindow/"+w.Name,
			fmt.Sprintf("matching window %s closed: %s %s", w.Name, w.Feature, back))
	}
}

// governor names the TenantSyncFeatures that governs the tenant tsf refers
// to. Two objects govern the same tenant when they name the same EntraTenant
// or EntraTenants with the same tenant ID.
func (r *TenantSyncFeaturesReconciler) governor(ctx context.Context, tsf *identityv1alpha1.TenantSyncFeatures, tenant *identityv1alpha1.EntraTenant) (string, error) {
	var list identityv1alpha1.TenantSyncFeaturesList
	if err := r.Client.List(ctx, &list); err != nil {
		return "", fmt.Errorf("listing TenantSyncFeatures: %w", err)
	}
	mine := syncfeatures.TenantRef{Name: tsf.Spec.TenantRef.Name, TenantID: tenant.Spec.TenantID, Cloud: string(tenant.Spec.Cloud)}
	claims := []syncfeatures.Claim{{Name: tsf.Name, Created: tsf.CreationTimestamp.Time}}
	for i := range list.Items {
		other := &list.Items[i]
		if other.Name == tsf.Name { // cluster-scoped: the name is the identity
			continue
		}
		theirs := syncfeatures.TenantRef{Name: other.Spec.TenantRef.Name}
		if theirs.Name != mine.Name {
			var ot identityv1alpha1.EntraTenant
			err := r.Client.Get(ctx, types.NamespacedName{Name: theirs.Name}, &ot)
			if err != nil && !apierrors.IsNotFound(err) {
				return "", err
			}
			if err == nil {
				theirs.TenantID, theirs.Cloud = ot.Spec.TenantID, string(ot.Spec.Cloud)
			}
		}
		if syncfeatures.SameTenant(mine, theirs) {
			claims = append(claims, syncfeatures.Claim{Name: other.Name, Created: other.CreationTimestamp.Time})
		}
	}
	gov, _ := syncfeatures.Governor(claims)
	return gov.Name, nil
}

// accessOf is the access client uses for the tenant.
func accessOf(tenant *identityv1alpha1.EntraTenant) identityv1alpha1.SyncAccess {
	if tenant.Spec.Delegated != nil {
		return identityv1alpha1.SyncAccessDelegated
	}
	return identityv1alpha1.SyncAccessApplication
}

// client uses the tenant's delegated sign-in when it has one: Microsoft
// documents delegated access to these settings, and app-only access only
// inconsistently.
func (r *TenantSyncFeaturesReconciler) client(ctx context.Context, tenant *identityv1alpha1.EntraTenant) (cloud.Client, error) {
	if tenant.Spec.Delegated != nil {
		return r.Cloud.Client(ctx, delegatedConnection(r.APIReader, r.Client, r.now, tenant))
	}
	conn, err := tenantConnection(ctx, r.APIReader, tenant)
	if err != nil {
		return nil, err
	}
	return r.Cloud.Client(ctx, conn)
}

// finalize applies the deletion policy, then releases the finalizer.
func (r *TenantSyncFeaturesReconciler) finalize(ctx context.Context, tsf *identityv1alpha1.TenantSyncFeatures) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(tsf, TenantSyncFeaturesFinalizer) {
		return ctrl.Result{}, nil
	}
	// Windows close whatever the deletion policy and the mode: a deletion
	// must never leave a block flag turned off.
	if activeWindows(tsf) {
		if res, err, held := r.finalWrite(ctx, tsf, identityv1alpha1.EventWindowClosed, "closing the open matching windows", func(s cloud.SyncSettings) (cloud.SyncSettings, []syncfeatures.Change, []syncfeatures.Refusal) {
			return syncfeatures.CloseWindows(tsf.Status.Windows, s)
		}); held {
			return res, err
		}
	}
	if tsf.Spec.DeletionPolicy == identityv1alpha1.FeatureDeletionRestoreOriginal && modeOf(tsf.Spec.Mode) == identityv1alpha1.ModeEnforce &&
		tsf.Status.Original != nil {
		if res, err, held := r.restoreOriginal(ctx, tsf); held {
			return res, err
		}
	}
	metrics.MatchingWindowsOpen.DeleteLabelValues(tsf.Name)
	return ctrl.Result{}, removeFinalizer(ctx, r.Client, tsf, TenantSyncFeaturesFinalizer)
}

func activeWindows(tsf *identityv1alpha1.TenantSyncFeatures) bool {
	for _, w := range tsf.Status.Windows {
		if w.State == identityv1alpha1.WindowActive {
			return true
		}
	}
	return false
}

// restoreOriginal writes back the values recorded in status.original. held
// is true while the finalizer must stay (the write is to be retried).
func (r *TenantSyncFeaturesReconciler) restoreOriginal(ctx context.Context, tsf *identityv1alpha1.TenantSyncFeatures) (res ctrl.Result, err error, held bool) {
	return r.finalWrite(ctx, tsf, identityv1alpha1.EventOriginalRestored, "restoring the original flags (deletion policy RestoreOriginal)", func(s cloud.SyncSettings) (cloud.SyncSettings, []syncfeatures.Change, []syncfeatures.Refusal) {
		return syncfeatures.Restore(tsf.Status.Original, s)
	})
}

// finalWrite makes one last read-modify-write of the tenant's flags for a
// deletion. held is true while the finalizer must stay (the write is to
// be retried).
func (r *TenantSyncFeaturesReconciler) finalWrite(ctx context.Context, tsf *identityv1alpha1.TenantSyncFeatures, reason, what string,
	plan func(cloud.SyncSettings) (cloud.SyncSettings, []syncfeatures.Change, []syncfeatures.Refusal)) (res ctrl.Result, err error, held bool) {
	var tenant identityv1alpha1.EntraTenant
	if err := r.Client.Get(ctx, types.NamespacedName{Name: tsf.Spec.TenantRef.Name}, &tenant); err != nil {
		if apierrors.IsNotFound(err) {
			r.event(tsf, corev1.EventTypeWarning, identityv1alpha1.EventRestoreFailed, "Finalize",
				fmt.Sprintf("EntraTenant %q no longer exists, so %s is not possible; the tenant is left as it is", tsf.Spec.TenantRef.Name, what))
			return ctrl.Result{}, nil, false
		}
		return ctrl.Result{}, err, true
	}
	governor, err := r.governor(ctx, tsf, &tenant)
	if err != nil {
		return ctrl.Result{}, err, true
	}
	if governor != tsf.Name {
		// Restoring would undo the governing object's work.
		return ctrl.Result{}, nil, false
	}
	retry := func(err error) (ctrl.Result, error, bool) {
		o := classifySyncFeatures(err, &tenant)
		r.event(tsf, corev1.EventTypeWarning, identityv1alpha1.EventRestoreFailed, "Finalize",
			what+" failed, will retry (remove the finalizer to give up): "+o.message)
		res, rerr := r.requeueFor(o)
		if rerr == nil && res.RequeueAfter == 0 {
			res.RequeueAfter = r.ResyncPeriod
		}
		return res, rerr, true
	}
	c, err := r.client(ctx, &tenant)
	if err != nil {
		return retry(err)
	}
	settings, err := c.SyncSettings(ctx, tenant.Spec.TenantID)
	if err != nil {
		return retry(err)
	}
	next, changes, refused := plan(settings)
	for _, f := range refused {
		r.event(tsf, corev1.EventTypeWarning, identityv1alpha1.EventChangeRefused, "Finalize",
			fmt.Sprintf("%s stays %t instead of its original %t: %s", f.Feature, f.Actual, f.Desired, f.Reason))
	}
	if len(changes) == 0 {
		return ctrl.Result{}, nil, false
	}
	if err := c.UpdateSyncSettings(ctx, next); err != nil {
		metrics.SyncFeatureWrites.WithLabelValues(string(cloud.ClassOf(err))).Inc()
		return retry(err)
	}
	metrics.SyncFeatureWrites.WithLabelValues("ok").Inc()
	parts := make([]string, 0, len(changes))
	for _, ch := range changes {
		parts = append(parts, fmt.Sprintf("%s from %t to %t", ch.Feature, ch.From, ch.To))
	}
	r.event(tsf, corev1.EventTypeNormal, reason, "Finalize", what+": "+strings.Join(parts, ", "))
	return ctrl.Result{}, nil, false
}

// requeueFor is the shared requeue policy.
func (r *TenantSyncFeaturesReconciler) requeueFor(o outcome) (ctrl.Result, error) {
	return requeueFor(o, r.ResyncPeriod)
}

// requeueAfter is the resync period, or less when a window opens or closes
// sooner: the pass at that instant makes the change.
func (r *TenantSyncFeaturesReconciler) requeueAfter(next *time.Time) time.Duration {
	d := r.ResyncPeriod
	if next != nil {
		until := next.Sub(r.now())
		if until <= 0 {
			until = time.Millisecond
		}
		if d <= 0 || until < d {
			d = until
		}
	}
	return d
}

func describeChanges(verb string, plan syncfeatures.Plan) string {
	parts := make([]string, 0, len(plan.Changes)+1)
	for _, c := range plan.Changes {
		parts = append(parts, fmt.Sprintf("%s from %t to %t (%s)", c.Feature, c.From, c.To, describeSource(c)))
	}
	if d := plan.DeletionPrevention; d != nil {
		parts = append(parts, fmt.Sprintf("accidentalDeletionPrevention from %s to %s", describeADP(d.From), describeADP(&d.To)))
	}
	noun := "flags"
	if len(parts) == 1 {
		noun = "setting"
	}
	if verb == "differ" {
		return fmt.Sprintf("%d %s differ from the desired values: %s", len(parts), noun, strings.Join(parts, ", "))
	}
	return verb + " " + strings.Join(parts, ", ")
}

func describeSource(c syncfeatures.Change) string {
	switch c.Source {
	case syncfeatures.SourceWindow:
		return "matching window " + c.Window
	case syncfeatures.SourceWindowClosed:
		return "matching window " + c.Window + " closed"
	case syncfeatures.SourceOriginal:
		return "original value"
	}
	return "spec"
}

func describeADP(p *cloud.AccidentalDeletionPrevention) string {
	if p == nil {
		return "none"
	}
	if p.SynchronizationPreventionType == string(identityv1alpha1.PreventionDisabled) {
		return p.SynchronizationPreventionType
	}
	return fmt.Sprintf("%s/%d", p.SynchronizationPreventionType, p.AlertThreshold)
}

func describeGoverned(tsf *identityv1alpha1.TenantSyncFeatures, plan syncfeatures.Plan) string {
	var parts []string
	for _, f := range identityv1alpha1.AllSyncFeatures() {
		if tsf.Spec.Features.Get(f) == nil {
			continue
		}
		if v := plan.After.Get(f); v != nil {
			parts = append(parts, fmt.Sprintf("%s=%t", f, *v))
		}
	}
	if tsf.Spec.AccidentalDeletionPrevention != nil {
		parts = append(parts, "accidentalDeletionPrevention="+string(tsf.Spec.AccidentalDeletionPrevention.SynchronizationPreventionType))
	}
	if len(parts) == 0 {
		return "the spec governs no flag; status.observed shows the tenant's flags"
	}
	return "as desired: " + strings.Join(parts, ", ")
}

// setAction names the Event action after the setting: the events API folds
// Events that share object, type, reason and action into one series that
// keeps the first note, so Events about different flags need different
// actions to stay visible.
func setAction(setting string) string {
	if setting == "" {
		return "Set"
	}
	return "Set" + strings.ToUpper(setting[:1]) + setting[1:]
}

func (r *TenantSyncFeaturesReconciler) event(tsf *identityv1alpha1.TenantSyncFeatures, typ, reason, action, msg string) {
	emit(r.Recorder, tsf, typ, reason, action, msg)
}

func (r *TenantSyncFeaturesReconciler) now() time.Time { return wallOr(r.Now) }

// SetupWithManager registers the reconciler. Its own status writes do not
// trigger it (only spec changes do), so a RequeueAfter for a window's end
// or a Retry-After is not cut short by them.
func (r *TenantSyncFeaturesReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &identityv1alpha1.TenantSyncFeatures{}, indexTenant,
		func(o client.Object) []string {
			return []string{o.(*identityv1alpha1.TenantSyncFeatures).Spec.TenantRef.Name}
		}); err != nil {
		return err
	}
	byTenant := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
		var list identityv1alpha1.TenantSyncFeaturesList
		if err := r.Client.List(ctx, &list, client.MatchingFields{indexTenant: o.GetName()}); err != nil {
			return nil
		}
		return requestsFor(list.Items, "")
	})
	// When one goes, a TenantSyncFeatures it blocked may take over at once.
	others := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
		var list identityv1alpha1.TenantSyncFeaturesList
		if err := r.Client.List(ctx, &list); err != nil {
			return nil
		}
		return requestsFor(list.Items, o.GetName())
	})
	return ctrl.NewControllerManagedBy(mgr).
		For(&identityv1alpha1.TenantSyncFeatures{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&identityv1alpha1.EntraTenant{}, byTenant, builder.WithPredicates(specOrReadyChanged())).
		Watches(&identityv1alpha1.TenantSyncFeatures{}, others, builder.WithPredicates(predicate.Funcs{
			CreateFunc:  func(event.CreateEvent) bool { return false },
			UpdateFunc:  func(event.UpdateEvent) bool { return false },
			DeleteFunc:  func(event.DeleteEvent) bool { return true },
			GenericFunc: func(event.GenericEvent) bool { return false },
		})).
		Named("tenantsyncfeatures").
		Complete(r)
}

func requestsFor(items []identityv1alpha1.TenantSyncFeatures, except string) []reconcile.Request {
	reqs := make([]reconcile.Request, 0, len(items))
	for _, it := range items {
		if it.Name != except {
			reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Name: it.Name}})
		}
	}
	return reqs
}
