package controllers

import (
	"context"
	"fmt"
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

// Event reasons of TenantSyncFeatures beyond the API's condition reasons.
const (
	eventFeatureUpdated   = "FeatureUpdated"
	eventWindowOpened     = "WindowOpened"
	eventWindowClosed     = "WindowClosed"
	eventOriginalRestored = "OriginalRestored"
	eventRestoreFailed    = "RestoreFailed"
	eventChangeRefused    = "ChangeRefused"
)

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

// Reconcile runs one observe / decide / act pass and records the outcome.
func (r *TenantSyncFeaturesReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	return pass[*identityv1alpha1.TenantSyncFeatures]{
		client:    r.Client,
		finalizer: TenantSyncFeaturesFinalizer,
		finalize:  r.finalize,
		run:       r.reconcile,
		observed:  func(tsf *identityv1alpha1.TenantSyncFeatures) { tsf.Status.ObservedGeneration = tsf.Generation },
	}.reconcile(ctx, req, &identityv1alpha1.TenantSyncFeatures{})
}

func (r *TenantSyncFeaturesReconciler) reconcile(ctx context.Context, tsf *identityv1alpha1.TenantSyncFeatures, persist func() error) (ctrl.Result, error) {
	gen := tsf.Generation
	conds := &tsf.Status.Conditions
	// fail records a pass that stopped before deciding: the windows that
	// are new are shown pending, the recorded ones are kept as they are.
	fail := func(o outcome) (ctrl.Result, error) {
		tsf.Status.Windows = syncfeatures.Unapplied(tsf.Spec.MatchingWindows, tsf.Status.Windows, r.now())
		r.setWindowCondition(tsf)
		setCondition(conds, gen, identityv1alpha1.ConditionSynced, false, o.reason, o.message)
		if personMustAct(o.reason) {
			// Said once as a Warning Event when it starts or changes, so that
			// it reaches whoever watches Events, not only the condition.
			if was := meta.FindStatusCondition(*conds, identityv1alpha1.ConditionReady); was == nil || was.Reason != o.reason || was.Message != o.message {
				r.event(tsf, corev1.EventTypeWarning, o.reason, "Observe", o.message)
			}
		}
		if !meta.IsStatusConditionTrue(*conds, identityv1alpha1.ConditionReady) || personMustAct(o.reason) {
			setCondition(conds, gen, identityv1alpha1.ConditionReady, false, o.reason, o.message)
		}
		return r.requeueFor(o)
	}

	// Observe: the tenant, who governs it, and its flags.
	var tenant identityv1alpha1.EntraTenant
	if err := r.Client.Get(ctx, types.NamespacedName{Name: tsf.Spec.TenantRef.Name}, &tenant); err != nil {
		if apierrors.IsNotFound(err) {
			return fail(outcome{reason: identityv1alpha1.ReasonTenantNotReady,
				message: fmt.Sprintf("EntraTenant %q does not exist", tsf.Spec.TenantRef.Name)})
		}
		return ctrl.Result{}, err
	}
	governor, err := r.governor(ctx, tsf, &tenant)
	if err != nil {
		return ctrl.Result{}, err
	}
	if governor != tsf.Name {
		return r.blocked(tsf, &tenant, governor)
	}
	c, err := r.client(ctx, &tenant)
	if err != nil {
		return fail(classifySyncFeatures(err, &tenant))
	}
	tsf.Status.Access = accessOf(&tenant)
	settings, err := c.SyncSettings(ctx, tenant.Spec.TenantID)
	if err != nil {
		return fail(classifySyncFeatures(err, &tenant))
	}

	now := r.now()
	plan := syncfeatures.Decide(syncfeatures.Input{Spec: tsf.Spec, Status: tsf.Status, Tenant: settings, Now: now})

	// Act: one read-modify-write of the whole object, with the intent
	// recorded first.
	if plan.Write {
		tsf.Status.Original = plan.Original
		tsf.Status.Windows = plan.Intent
		if err := persist(); err != nil {
			if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
				return ctrl.Result{RequeueAfter: time.Second}, nil
			}
			return ctrl.Result{}, err
		}
		if err := c.UpdateSyncSettings(ctx, plan.Settings); err != nil {
			metrics.SyncFeatureWrites.WithLabelValues(string(cloud.ClassOf(err))).Inc()
			o := classifySyncFeatures(err, &tenant)
			tsf.Status.Observed = plan.Observed
			tsf.Status.ObservedAccidentalDeletionPrevention = syncfeatures.ObservedDeletionPrevention(settings.AccidentalDeletionPrevention)
			tsf.Status.Differences = plan.Pending()
			r.setWindowCondition(tsf)
			msg := fmt.Sprintf("%s; writing them failed: %s", describeChanges("differ", plan), o.message)
			setCondition(conds, gen, identityv1alpha1.ConditionReady, false, o.reason, msg)
			setCondition(conds, gen, identityv1alpha1.ConditionSynced, false, o.reason, o.message)
			return r.requeueFor(o)
		}
		metrics.SyncFeatureWrites.WithLabelValues("ok").Inc()
		t := metav1.NewTime(now)
		tsf.Status.LastCorrectionTime = &t
		tsf.Status.Corrections++
	}
	r.record(tsf, plan, settings)
	return ctrl.Result{RequeueAfter: r.requeueAfter(plan.NextCheck)}, nil
}

// record writes the plan into status and emits one Event per change made.
func (r *TenantSyncFeaturesReconciler) record(tsf *identityv1alpha1.TenantSyncFeatures, plan syncfeatures.Plan, read cloud.SyncSettings) {
	gen := tsf.Generation
	conds := &tsf.Status.Conditions
	tsf.Status.Observed = plan.After
	adp := read.AccidentalDeletionPrevention
	if plan.Write {
		adp = plan.Settings.AccidentalDeletionPrevention
	}
	tsf.Status.ObservedAccidentalDeletionPrevention = syncfeatures.ObservedDeletionPrevention(adp)
	tsf.Status.Differences = plan.Differences
	tsf.Status.Windows = plan.Windows
	tsf.Status.Original = plan.Original

	observe := modeOf(tsf.Spec.Mode) == identityv1alpha1.ModeObserve
	if plan.Write {
		for _, c := range plan.Applied {
			if c.Drift {
				metrics.DriftCorrections.WithLabelValues("TenantSyncFeatures", string(c.Feature)).Inc()
				r.event(tsf, corev1.EventTypeWarning, identityv1alpha1.ReasonDriftCorrected, setAction(string(c.Feature)),
					fmt.Sprintf("%s was changed outside the operator from %t to %t; set back to %t", c.Feature, c.To, c.From, c.To))
				continue
			}
			r.event(tsf, corev1.EventTypeNormal, eventFeatureUpdated, setAction(string(c.Feature)),
				fmt.Sprintf("set %s from %t to %t (%s)", c.Feature, c.From, c.To, describeSource(c)))
		}
		if d := plan.DeletionPrevention; d != nil && !observe {
			msg := fmt.Sprintf("set accidentalDeletionPrevention from %s to %s", describeADP(d.From), describeADP(&d.To))
			if d.Drift {
				metrics.DriftCorrections.WithLabelValues("TenantSyncFeatures", "accidentalDeletionPrevention").Inc()
				r.event(tsf, corev1.EventTypeWarning, identityv1alpha1.ReasonDriftCorrected, setAction("accidentalDeletionPrevention"),
					"accidentalDeletionPrevention was changed outside the operator; "+msg)
			} else {
				r.event(tsf, corev1.EventTypeNormal, eventFeatureUpdated, setAction("accidentalDeletionPrevention"), msg)
			}
		}
	}
	for _, w := range plan.Opened {
		r.event(tsf, corev1.EventTypeNormal, eventWindowOpened, "OpenWindow/"+w.Name,
			fmt.Sprintf("matching window %s opened: %s is %t until %s", w.Name, w.Feature, w.Value, w.ExpiresAt.UTC().Format(time.RFC3339)))
	}
	for _, w := range plan.Closed {
		back := "left as it is (neither the spec nor a value from before the window governs it)"
		if w.Back != nil {
			back = fmt.Sprintf("back to %t", *w.Back)
		}
		r.event(tsf, corev1.EventTypeNormal, eventWindowClosed, "CloseWindow/"+w.Name,
			fmt.Sprintf("matching window %s closed: %s %s", w.Name, w.Feature, back))
	}
	wasReady := meta.FindStatusCondition(*conds, identityv1alpha1.ConditionReady)
	switch {
	case len(plan.Refused) > 0:
		msgs := make([]string, 0, len(plan.Refused))
		for _, f := range plan.Refused {
			msgs = append(msgs, fmt.Sprintf("%s is %t, desired %t, but %s", f.Feature, f.Actual, f.Desired, f.Reason))
		}
		msg := strings.Join(msgs, "; ")
		if wasReady == nil || wasReady.Reason != identityv1alpha1.ReasonDrifted || wasReady.Message != msg {
			r.event(tsf, corev1.EventTypeWarning, eventChangeRefused, "Decide", msg)
		}
		setCondition(conds, gen, identityv1alpha1.ConditionReady, false, identityv1alpha1.ReasonDrifted, msg)
	case observe && (len(plan.Changes) > len(plan.Applied) || plan.DeletionPrevention != nil):
		setCondition(conds, gen, identityv1alpha1.ConditionReady, false, identityv1alpha1.ReasonObserveOnly,
			"mode Observe: "+describeChanges("would change", plan))
	case plan.Write:
		setCondition(conds, gen, identityv1alpha1.ConditionReady, true, identityv1alpha1.ReasonCorrected, describeChanges("set", plan))
	default:
		setCondition(conds, gen, identityv1alpha1.ConditionReady, true, identityv1alpha1.ReasonInSync, describeGoverned(tsf, plan))
	}
	r.setWindowCondition(tsf)
	setCondition(conds, gen, identityv1alpha1.ConditionSynced, true, identityv1alpha1.ReasonReconcileSucceeded, "")
}

// blocked records that another TenantSyncFeatures governs the tenant.
func (r *TenantSyncFeaturesReconciler) blocked(tsf *identityv1alpha1.TenantSyncFeatures, tenant *identityv1alpha1.EntraTenant, governor string) (ctrl.Result, error) {
	gen := tsf.Generation
	conds := &tsf.Status.Conditions
	msg := fmt.Sprintf("TenantSyncFeatures %q already governs tenant %s (EntraTenant %q); this one changes nothing until that one is deleted",
		governor, tenant.Spec.TenantID, tenant.Name)
	was := meta.FindStatusCondition(*conds, identityv1alpha1.ConditionReady)
	if was == nil || was.Reason != identityv1alpha1.ReasonDuplicateTenantSyncFeatures || was.Message != msg {
		r.event(tsf, corev1.EventTypeWarning, identityv1alpha1.ReasonDuplicateTenantSyncFeatures, "Decide", msg)
	}
	tsf.Status.Windows = syncfeatures.Unapplied(tsf.Spec.MatchingWindows, tsf.Status.Windows, r.now())
	setCondition(conds, gen, identityv1alpha1.ConditionReady, false, identityv1alpha1.ReasonDuplicateTenantSyncFeatures, msg)
	r.setWindowCondition(tsf)
	setCondition(conds, gen, identityv1alpha1.ConditionSynced, true, identityv1alpha1.ReasonReconcileSucceeded, "")
	return ctrl.Result{RequeueAfter: r.ResyncPeriod}, nil
}

func (r *TenantSyncFeaturesReconciler) setWindowCondition(tsf *identityv1alpha1.TenantSyncFeatures) {
	var open []string
	for _, w := range tsf.Status.Windows {
		if w.State == identityv1alpha1.WindowActive {
			open = append(open, fmt.Sprintf("%s sets %s to %t", w.Name, w.Feature, w.Value))
		}
	}
	metrics.MatchingWindowsOpen.WithLabelValues(tsf.Name).Set(float64(len(open)))
	if len(open) > 0 {
		setCondition(&tsf.Status.Conditions, tsf.Generation, identityv1alpha1.ConditionWindowActive, true, identityv1alpha1.ReasonWindowOpen,
			"matching window "+strings.Join(open, "; ")+" (see status.windows for when it closes)")
		return
	}
	setCondition(&tsf.Status.Conditions, tsf.Generation, identityv1alpha1.ConditionWindowActive, false, identityv1alpha1.ReasonNoWindowOpen, "")
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
		if res, err, done := r.finalWrite(ctx, tsf, eventWindowClosed, "closing the open matching windows", func(s cloud.SyncSettings) (cloud.SyncSettings, []syncfeatures.Change, []syncfeatures.Refusal) {
			return syncfeatures.CloseWindows(tsf.Status.Windows, s)
		}); !done {
			return res, err
		}
	}
	if tsf.Spec.DeletionPolicy == identityv1alpha1.FeatureDeletionRestoreOriginal && modeOf(tsf.Spec.Mode) == identityv1alpha1.ModeEnforce &&
		tsf.Status.Original != nil {
		if res, err, done := r.restoreOriginal(ctx, tsf); !done {
			return res, err
		}
	}
	metrics.MatchingWindowsOpen.DeleteLabelValues(tsf.Name)
	base := tsf.DeepCopy()
	controllerutil.RemoveFinalizer(tsf, TenantSyncFeaturesFinalizer)
	return ctrl.Result{}, client.IgnoreNotFound(r.Client.Patch(ctx, tsf, client.MergeFrom(base)))
}

func activeWindows(tsf *identityv1alpha1.TenantSyncFeatures) bool {
	for _, w := range tsf.Status.Windows {
		if w.State == identityv1alpha1.WindowActive {
			return true
		}
	}
	return false
}

// restoreOriginal writes back the values recorded in status.original. done
// is false while the finalizer must stay (the write is to be retried).
func (r *TenantSyncFeaturesReconciler) restoreOriginal(ctx context.Context, tsf *identityv1alpha1.TenantSyncFeatures) (ctrl.Result, error, bool) {
	return r.finalWrite(ctx, tsf, eventOriginalRestored, "restoring the original flags (deletion policy RestoreOriginal)", func(s cloud.SyncSettings) (cloud.SyncSettings, []syncfeatures.Change, []syncfeatures.Refusal) {
		return syncfeatures.Restore(tsf.Status.Original, s)
	})
}

// finalWrite makes one last read-modify-write of the tenant's flags for a
// deletion. done is false while the finalizer must stay (the write is to
// be retried).
func (r *TenantSyncFeaturesReconciler) finalWrite(ctx context.Context, tsf *identityv1alpha1.TenantSyncFeatures, reason, what string,
	plan func(cloud.SyncSettings) (cloud.SyncSettings, []syncfeatures.Change, []syncfeatures.Refusal)) (ctrl.Result, error, bool) {
	var tenant identityv1alpha1.EntraTenant
	if err := r.Client.Get(ctx, types.NamespacedName{Name: tsf.Spec.TenantRef.Name}, &tenant); err != nil {
		if apierrors.IsNotFound(err) {
			r.event(tsf, corev1.EventTypeWarning, eventRestoreFailed, "Finalize",
				fmt.Sprintf("EntraTenant %q no longer exists, so %s is not possible; the tenant is left as it is", tsf.Spec.TenantRef.Name, what))
			return ctrl.Result{}, nil, true
		}
		return ctrl.Result{}, err, false
	}
	governor, err := r.governor(ctx, tsf, &tenant)
	if err != nil {
		return ctrl.Result{}, err, false
	}
	if governor != tsf.Name {
		// Restoring would undo the governing object's work.
		return ctrl.Result{}, nil, true
	}
	retry := func(err error) (ctrl.Result, error, bool) {
		o := classifySyncFeatures(err, &tenant)
		r.event(tsf, corev1.EventTypeWarning, eventRestoreFailed, "Finalize",
			what+" failed, will retry (remove the finalizer to give up): "+o.message)
		res, rerr := r.requeueFor(o)
		if rerr == nil && res.RequeueAfter == 0 {
			res.RequeueAfter = r.ResyncPeriod
		}
		return res, rerr, false
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
		r.event(tsf, corev1.EventTypeWarning, eventChangeRefused, "Finalize",
			fmt.Sprintf("%s stays %t instead of its original %t: %s", f.Feature, f.Actual, f.Desired, f.Reason))
	}
	if len(changes) == 0 {
		return ctrl.Result{}, nil, true
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
	return ctrl.Result{}, nil, true
}

// personMustAct reports reasons that no retry can cure: Ready turns False
// even when the flags were in sync at the last successful pass.
func personMustAct(reason string) bool {
	return reason == identityv1alpha1.ReasonMissingPermission || reason == identityv1alpha1.ReasonSignInRequired
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
	if r.Recorder != nil {
		r.Recorder.Eventf(tsf, nil, typ, reason, action, "%s", bounded(msg, maxNote))
	}
}

func (r *TenantSyncFeaturesReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

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
