package controllers

import (
	"context"
	"errors"
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
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/anchor"
	"github.com/entramatch/entra-match-operator/internal/cloud"
	"github.com/entramatch/entra-match-operator/internal/crashpoint"
	"github.com/entramatch/entra-match-operator/internal/directory"
	"github.com/entramatch/entra-match-operator/internal/match"
	"github.com/entramatch/entra-match-operator/internal/metrics"
	"github.com/entramatch/entra-match-operator/internal/seal"
)

// errTargetMoved: the UPN the spec names belongs to another cloud user than
// the one observed; nothing may be written before observing again.
var errTargetMoved = errors.New("the target UPN moved to another cloud user")

// UserMatchFinalizer lets the deletion policy run before a UserMatch goes.
const UserMatchFinalizer = "identity.entramatch.io/usermatch"

const (
	indexTenant    = "spec.tenantRef.name"
	indexDirectory = "spec.directoryRef.name"
)

// UserMatchReconciler makes a cloud user's onPremisesImmutableId equal to the
// anchor of its AD twin, and keeps it so until Entra's sync joins the two.
type UserMatchReconciler struct {
	Client       client.Client
	APIReader    client.Reader
	Cloud        cloud.Factory
	Directory    DirectoryFactory
	Recorder     events.EventRecorder
	ResyncPeriod time.Duration
	// JoinedResyncPeriod is how often a joined user is looked at again; it
	// only reads, so it can be long.
	JoinedResyncPeriod time.Duration
	Now                func() time.Time
	// Sealer signs the recorded roles, so that only the operator's own
	// record is ever acted on.
	Sealer *seal.Sealer
	// claims make sure only one UserMatch ever writes to a cloud user.
	claims claims
	// views share tenant-wide and directory-wide reads between UserMatches.
	views *views
}

// +kubebuilder:rbac:groups=identity.entramatch.io,resources=usermatches,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=identity.entramatch.io,resources=usermatches/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=identity.entramatch.io,resources=usermatches/finalizers,verbs=update
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile runs one observe / decide / act pass and records the outcome.
func (r *UserMatchReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	return pass[*identityv1alpha1.UserMatch]{
		client:    r.Client,
		finalizer: UserMatchFinalizer,
		finalize:  r.finalize,
		run: func(ctx context.Context, um *identityv1alpha1.UserMatch, _ func() error) (ctrl.Result, error) {
			return r.reconcile(ctx, um)
		},
		observed: func(um *identityv1alpha1.UserMatch) { um.Status.ObservedGeneration = um.Generation },
	}.reconcile(ctx, req, &identityv1alpha1.UserMatch{})
}

// observed is what one pass read, before deciding.
type observed struct {
	tenant  *identityv1alpha1.EntraTenant
	cloud   cloud.Client
	adUser  directory.User
	anchor  anchor.Anchor
	source  identityv1alpha1.AnchorSource
	user    cloud.User
	obs     match.Observation
	dirConn DirectoryClient
	view    *tenantView
	// rolesFresh: the role workflow read the roles from Graph in this pass,
	// with no write since, so the pre-write refresh need not read them again.
	rolesFresh bool
	// target is how the spec names the cloud user.
	target target
}

func (r *UserMatchReconciler) reconcile(ctx context.Context, um *identityv1alpha1.UserMatch) (ctrl.Result, error) {
	gen := um.Generation
	conds := &um.Status.Conditions
	failSynced := func(o outcome) (ctrl.Result, error) {
		setCondition(conds, gen, identityv1alpha1.ConditionSynced, false, o.reason, o.message)
		if !meta.IsStatusConditionTrue(*conds, identityv1alpha1.ConditionReady) {
			setCondition(conds, gen, identityv1alpha1.ConditionReady, false, o.reason, o.message)
		}
		return requeueFor(o, r.ResyncPeriod)
	}

	// Observe: Kubernetes references, then AD, then Entra ID.
	o, res, err, done := r.observe(ctx, um, failSynced)
	if done {
		return res, err
	}

	if res, err, done := r.duplicates(ctx, um, &o); done {
		return res, err
	}
	if match.RolesInPlay(um.Spec.PrivilegedRoles == identityv1alpha1.PrivilegedRolesRemoveAndRestore, len(um.Status.RecordedRoles), o.obs) {
		if res, err, done := r.roleWorkflow(ctx, um, &o, false); done {
			return res, err
		}
	}

	plan := match.Decide(o.obs)

	// The shared views may be a few seconds old: before writing, read what
	// Entra would refuse the match for straight from Graph, and decide again.
	if plan.Action == match.ActionSetImmutableID {
		if wait := o.view.writesPaused(); wait > 0 {
			return failSynced(outcome{reason: identityv1alpha1.ReasonThrottled, transient: true, retryAfter: wait,
				message: "Graph throttled this tenant's writes; waiting for its Retry-After before writing"})
		}
		if err := r.refresh(ctx, &o); errors.Is(err, errTargetMoved) {
			// Observe again from fresh reads before anything is written.
			o.view.expire()
			return ctrl.Result{RequeueAfter: time.Second}, nil
		} else if err != nil {
			return failSynced(classifyCloud(err))
		}
		plan = match.Decide(o.obs)
	}

	// Only one UserMatch writes to a cloud user, even when two were
	// created together and neither sees the other's status yet.
	if plan.Action == match.ActionSetImmutableID {
		holder, err := r.claims.take(ctx, um, o.tenant.Spec.TenantID, o.user.ID)
		if err != nil {
			return failSynced(outcome{reason: identityv1alpha1.ReasonReconcileFailed, message: err.Error(), transient: true})
		}
		if holder != "" {
			plan.Action = match.ActionNone
			plan.Block = &match.Block{Reason: identityv1alpha1.ReasonDuplicateClaim, Message: fmt.Sprintf(
				"UserMatch %s already claims cloud user %s; delete one of the two", holder, o.user.UserPrincipalName)}
		}
	} else if plan.Block != nil && plan.Block.Reason == identityv1alpha1.ReasonDuplicateClaim && o.user.ID != "" {
		// Yield a claim taken earlier to the UserMatch that wins.
		if err := r.claims.release(ctx, um, o.tenant.Spec.TenantID, o.user.ID); err != nil {
			return failSynced(outcome{reason: identityv1alpha1.ReasonReconcileFailed, message: err.Error(), transient: true})
		}
	}

	// Act.
	if plan.Action == match.ActionSetImmutableID {
		value := o.anchor.ImmutableID()
		if err := o.cloud.SetImmutableID(ctx, o.user.ID, &value); err != nil {
			metrics.ImmutableIDWrites.WithLabelValues(string(cloud.ClassOf(err))).Inc()
			switch cloud.ClassOf(err) {
			case cloud.ClassConflict:
				// Another object took the value between our read and write.
				plan.Action = match.ActionNone
				plan.Block = &match.Block{Reason: identityv1alpha1.ReasonImmutableIDConflict,
					Message: fmt.Sprintf("Graph refused immutableId %s as already used by another object (%s)", value, conflictName(err))}
			case cloud.ClassOnPremMastered:
				// Sync joined the user between our read and write; look again.
				return ctrl.Result{RequeueAfter: time.Second}, nil
			case cloud.ClassThrottled:
				if ra, ok := cloud.RetryAfter(err); ok {
					o.view.pauseWrites(ra)
				}
				return failSynced(classifyCloud(err))
			default:
				return failSynced(classifyCloud(err))
			}
		} else {
			metrics.ImmutableIDWrites.WithLabelValues("ok").Inc()
			crashpoint.Hit("immutableid-set")
			o.user.OnPremisesImmutableID = value
			o.view.wrote(o.user.ID, value)
			if plan.Drift {
				now := metav1.NewTime(r.now())
				um.Status.DriftCorrections++
				um.Status.LastDriftTime = &now
				metrics.DriftCorrections.WithLabelValues("UserMatch", "onPremisesImmutableId").Inc()
				r.event(um, corev1.EventTypeWarning, identityv1alpha1.ReasonDriftCorrected, "SetImmutableID", plan.Message)
			} else {
				r.event(um, corev1.EventTypeNormal, identityv1alpha1.ReasonImmutableIDSet, "SetImmutableID", plan.Message)
			}
		}
	}

	r.record(um, o, plan)
	if plan.Joined {
		return ctrl.Result{RequeueAfter: r.joinedResync()}, nil
	}
	return ctrl.Result{RequeueAfter: r.ResyncPeriod}, nil
}

// observe reads everything the decision needs. It returns done=true with the
// result to return when a read failed (conditions are already set).
func (r *UserMatchReconciler) observe(ctx context.Context, um *identityv1alpha1.UserMatch,
	failSynced func(outcome) (ctrl.Result, error)) (o observed, res ctrl.Result, err error, done bool) {
	gen := um.Generation
	conds := &um.Status.Conditions
	stop := func(res ctrl.Result, err error) (observed, ctrl.Result, error, bool) { return o, res, err, true }

	var tenant identityv1alpha1.EntraTenant
	if err := r.Client.Get(ctx, types.NamespacedName{Name: um.Spec.TenantRef.Name}, &tenant); err != nil {
		if apierrors.IsNotFound(err) {
			return stop(failSynced(outcome{reason: identityv1alpha1.ReasonTenantNotReady,
				message: fmt.Sprintf("EntraTenant %q does not exist", um.Spec.TenantRef.Name)}))
		}
		return stop(ctrl.Result{}, err)
	}
	var ad identityv1alpha1.ActiveDirectory
	if err := r.Client.Get(ctx, types.NamespacedName{Name: um.Spec.DirectoryRef.Name}, &ad); err != nil {
		if apierrors.IsNotFound(err) {
			return stop(failSynced(outcome{reason: identityv1alpha1.ReasonDirectoryNotReady,
				message: fmt.Sprintf("ActiveDirectory %q does not exist", um.Spec.DirectoryRef.Name)}))
		}
		return stop(ctrl.Result{}, err)
	}
	o.tenant = &tenant

	// Active Directory: the anchor.
	dcfg, err := directoryConfig(ctx, r.APIReader, &ad)
	if err == nil {
		o.dirConn, err = r.Directory.Directory(ctx, dcfg)
	}
	if err == nil {
		dv := r.views.directory(ad.Name + "/" + fingerprint(dcfg))
		o.adUser, err = dv.find(ctx, o.dirConn, adLookup(um.Spec.ADUser), func() []directory.Lookup {
			return r.lookupsFor(ctx, ad.Name)
		})
	}
	if err == nil {
		o.anchor, o.source, err = r.sourceAnchor(ctx, o.dirConn, &ad, um, o.adUser)
		if errors.Is(err, directory.ErrConsistencyGUIDSet) {
			r.views.directory(ad.Name + "/" + fingerprint(dcfg)).expire()
		}
	}
	if err != nil {
		oc := classifyDirectory(err)
		setCondition(conds, gen, identityv1alpha1.ConditionAnchorResolved, false, oc.reason, oc.message)
		return stop(failSynced(oc))
	}
	um.Status.ImmutableID = o.anchor.ImmutableID()
	um.Status.AD = &identityv1alpha1.ADUserStatus{
		DistinguishedName: o.adUser.DN, ObjectGUID: o.adUser.ObjectGUID.GUID(),
		UserPrincipalName: o.adUser.UserPrincipalName, AnchorSource: o.source,
	}
	setCondition(conds, gen, identityv1alpha1.ConditionAnchorResolved, true, identityv1alpha1.ReasonResolved,
		fmt.Sprintf("%s has anchor %s (%s)", o.adUser.DN, o.anchor.ImmutableID(), o.source))

	// Entra ID: the target user and what stands in the way.
	conn, err := tenantConnection(ctx, r.APIReader, &tenant)
	if err == nil {
		o.cloud, err = r.Cloud.Client(ctx, conn)
	}
	target := cloudTarget(um, o.adUser)
	o.target = target
	if err == nil {
		o.view = r.views.tenant(tenant.Name+"/"+fingerprint(conn), tenant.Spec.TenantID)
		err = o.view.load(ctx, o.cloud)
	}
	if err == nil {
		var ok bool
		if o.user, ok = o.view.user(target); !ok {
			// Created since the view was read, or absent: ask Graph.
			o.user, err = getTarget(ctx, o.cloud, target)
		}
	}
	if err != nil {
		oc := classifyCloud(err)
		if cloud.ClassOf(err) == cloud.ClassNotFound {
			oc.message = fmt.Sprintf("no cloud user %q in tenant %s", target, tenant.Spec.TenantID)
			setCondition(conds, gen, identityv1alpha1.ConditionCloudUserFound, false, oc.reason, oc.message)
			setCondition(conds, gen, identityv1alpha1.ConditionReady, false, oc.reason, oc.message)
			setCondition(conds, gen, identityv1alpha1.ConditionSynced, true, identityv1alpha1.ReasonReconcileSucceeded, "")
			return stop(ctrl.Result{RequeueAfter: r.ResyncPeriod}, nil)
		}
		return stop(failSynced(oc))
	}
	um.Status.Cloud = &identityv1alpha1.CloudUserStatus{ObjectID: o.user.ID, UserPrincipalName: o.user.UserPrincipalName}
	setCondition(conds, gen, identityv1alpha1.ConditionCloudUserFound, true, identityv1alpha1.ReasonFound,
		fmt.Sprintf("cloud user %s (%s)", o.user.UserPrincipalName, o.user.ID))

	o.obs = match.Observation{
		Mode:                match.Mode(modeOf(um.Spec.Mode)),
		Anchor:              o.anchor.ImmutableID(),
		ADUserPrincipalName: o.adUser.UserPrincipalName,
		Cloud:               o.user,
		Domains:             tenantDomains(&tenant),
		PreviouslySet:       r.previouslySet(um, o.user.ID, o.anchor.ImmutableID()),
		Takeover:            o.view.takeoverFlag(),
	}
	// A synced user is decided on its own fields; the rest is only needed
	// before a write, so it is not read for joined users.
	if o.user.Synced() {
		return o, ctrl.Result{}, nil, false
	}
	if o.obs.ClaimedBy, err = r.claimedBy(ctx, um, o.adUser.DN, o.user.ID); err != nil {
		return stop(ctrl.Result{}, err)
	}
	o.obs.Holders = o.view.holders(o.anchor.ImmutableID())
	o.obs.PrivilegedRoles = o.view.privileged(o.user.ID)
	return o, ctrl.Result{}, nil, false
}

// refresh re-reads, straight from Graph, the two things Entra would refuse a
// match for and that Graph itself does not stop us from writing over: other
// holders of the anchor (the advanced query) and privileged roles.
func (r *UserMatchReconciler) refresh(ctx context.Context, o *observed) error {
	// The target itself, by id: the view may be seconds old, and a UPN may
	// have moved to another user since (errTargetMoved).
	fresh, err := o.cloud.GetUser(ctx, o.user.ID)
	if err != nil {
		return err
	}
	if !o.target.byID && !strings.EqualFold(fresh.UserPrincipalName, o.target.key) {
		return errTargetMoved
	}
	o.user, o.obs.Cloud = fresh, fresh
	holders, err := o.cloud.UsersByImmutableID(ctx, o.anchor.ImmutableID())
	if err != nil {
		return err
	}
	o.obs.Holders = holders
	if o.rolesFresh {
		return nil
	}
	o.obs.PrivilegedRoles, err = privilegedRoles(ctx, o.cloud, o.user.ID)
	return err
}

// lookupsFor lists the AD lookups of every UserMatch of a directory, so that
// one paged search serves them all.
func (r *UserMatchReconciler) lookupsFor(ctx context.Context, directoryName string) []directory.Lookup {
	var list identityv1alpha1.UserMatchList
	if err := r.Client.List(ctx, &list, client.MatchingFields{indexDirectory: directoryName}); err != nil {
		return nil
	}
	out := make([]directory.Lookup, 0, len(list.Items))
	for _, um := range list.Items {
		out = append(out, adLookup(um.Spec.ADUser))
	}
	return out
}

// sourceAnchor picks the anchor as Entra Connect would and, when the
// directory asks for it, stamps objectGUID into an empty mS-DS-ConsistencyGuid
// first, so that the anchor survives a move between forests.
func (r *UserMatchReconciler) sourceAnchor(ctx context.Context, d DirectoryClient, ad *identityv1alpha1.ActiveDirectory,
	um *identityv1alpha1.UserMatch, u directory.User) (anchor.Anchor, identityv1alpha1.AnchorSource, error) {
	mode := string(ad.Spec.AnchorAttribute)
	if mode == "" {
		mode = directory.AnchorAuto
	}
	if ad.Spec.WriteConsistencyGuid && u.ConsistencyGUID == nil && u.InvalidConsistencyGUID == nil &&
		modeOf(um.Spec.Mode) == identityv1alpha1.ModeEnforce && !u.ObjectGUID.IsZero() {
		// Another writer may have filled the attribute since it was read:
		// its value is then the anchor, never objectGUID under its name. The
		// pass stops, and the next one reads the stored value.
		if err := d.SetConsistencyGUID(ctx, u.DN, u.ObjectGUID); err != nil {
			return anchor.Anchor{}, "", err
		}
		g := u.ObjectGUID
		u.ConsistencyGUID = &g
	}
	a, err := directory.SourceAnchor(u, mode)
	if err != nil {
		return a, "", err
	}
	src := identityv1alpha1.AnchorSourceObjectGUID
	if u.ConsistencyGUID != nil && *u.ConsistencyGUID == a && !strings.EqualFold(mode, directory.AnchorObjectGUID) {
		src = identityv1alpha1.AnchorSourceConsistencyGUID
	}
	return a, src, nil
}

// record writes the plan into status conditions and emits Events on changes.
func (r *UserMatchReconciler) record(um *identityv1alpha1.UserMatch, o observed, plan match.Plan) {
	gen := um.Generation
	conds := &um.Status.Conditions
	wasBlocked := meta.FindStatusCondition(*conds, identityv1alpha1.ConditionBlocked)
	wasJoined := um.Status.SyncJoined

	if plan.Warning != nil {
		setCondition(conds, gen, identityv1alpha1.ConditionUPNSuffixMismatch, true, plan.Warning.Reason, plan.Warning.Message)
	} else {
		setCondition(conds, gen, identityv1alpha1.ConditionUPNSuffixMismatch, false, identityv1alpha1.ReasonUPNSuffixVerified, "")
	}
	carries := o.user.OnPremisesImmutableID == o.anchor.ImmutableID()
	if carries {
		setCondition(conds, gen, identityv1alpha1.ConditionMatched, true, identityv1alpha1.ReasonImmutableIDSet,
			fmt.Sprintf("onPremisesImmutableId of %s is %s", o.user.UserPrincipalName, o.anchor.ImmutableID()))
	} else {
		reason := identityv1alpha1.ReasonImmutableIDMismatch
		if plan.Reason == match.ReasonWouldSetImmutableID {
			reason = identityv1alpha1.ReasonObserveOnly
		}
		setCondition(conds, gen, identityv1alpha1.ConditionMatched, false, reason,
			fmt.Sprintf("onPremisesImmutableId of %s is %q, the AD anchor is %s", o.user.UserPrincipalName, o.user.OnPremisesImmutableID, o.anchor.ImmutableID()))
	}
	um.Status.SyncJoined = plan.Joined
	if plan.Block != nil {
		setCondition(conds, gen, identityv1alpha1.ConditionBlocked, true, plan.Block.Reason, plan.Block.Message)
		setCondition(conds, gen, identityv1alpha1.ConditionReady, false, plan.Block.Reason, plan.Block.Message)
		if wasBlocked == nil || wasBlocked.Status != metav1.ConditionTrue || wasBlocked.Reason != plan.Block.Reason {
			r.event(um, corev1.EventTypeWarning, plan.Block.Reason, "Decide", plan.Block.Message)
		}
	} else {
		setCondition(conds, gen, identityv1alpha1.ConditionBlocked, false, identityv1alpha1.ReasonNotBlocked, "")
		setCondition(conds, gen, identityv1alpha1.ConditionReady, plan.Joined, plan.Reason, plan.Message)
		if plan.Joined && !wasJoined {
			r.event(um, corev1.EventTypeNormal, identityv1alpha1.ReasonSyncJoined, "Observe", plan.Message)
		}
	}
	setCondition(conds, gen, identityv1alpha1.ConditionSynced, true, identityv1alpha1.ReasonReconcileSucceeded, "")
}

// finalize applies the deletion policy, then releases the finalizer.
func (r *UserMatchReconciler) finalize(ctx context.Context, um *identityv1alpha1.UserMatch) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(um, UserMatchFinalizer) {
		return ctrl.Result{}, nil
	}
	if pendingRoles(um) {
		if !r.recordSealed(um) {
			// Not the operator's record: nothing is restored from it, and
			// the deletion is not held hostage by it.
			r.event(um, corev1.EventTypeWarning, identityv1alpha1.ReasonRoleRecordInvalid, "Finalize", fmt.Sprintf(
				"deleted without restoring status.recordedRoles (%s): the record does not carry the operator's seal", recordedNames(um.Status.RecordedRoles)))
		} else if res, err, done := r.restoreOnDelete(ctx, um); done {
			// Roles removed for the match come back before the UserMatch goes.
			return res, err
		}
	}
	if um.Spec.DeletionPolicy == identityv1alpha1.UserDeletionClearImmutableID && modeOf(um.Spec.Mode) == identityv1alpha1.ModeEnforce &&
		um.Status.Cloud != nil && um.Status.Cloud.ObjectID != "" && um.Status.ImmutableID != "" {
		if err := r.clearOnDelete(ctx, um); err != nil {
			return ctrl.Result{}, err
		}
	}
	if um.Status.Cloud != nil && um.Status.Cloud.ObjectID != "" {
		var tenant identityv1alpha1.EntraTenant
		if err := r.Client.Get(ctx, types.NamespacedName{Name: um.Spec.TenantRef.Name}, &tenant); err == nil {
			if err := r.claims.release(ctx, um, tenant.Spec.TenantID, um.Status.Cloud.ObjectID); err != nil {
				return ctrl.Result{}, err
			}
		}
	}
	metrics.RolesHeld.DeleteLabelValues(um.Name)
	base := um.DeepCopy()
	controllerutil.RemoveFinalizer(um, UserMatchFinalizer)
	return ctrl.Result{}, client.IgnoreNotFound(r.Client.Patch(ctx, um, client.MergeFrom(base)))
}

func pendingRoles(um *identityv1alpha1.UserMatch) bool {
	return heldRoles(um) > 0
}

// restoreOnDelete runs the role workflow in its restoring phase for a
// UserMatch being deleted, persisting progress, until every role is back.
func (r *UserMatchReconciler) restoreOnDelete(ctx context.Context, um *identityv1alpha1.UserMatch) (ctrl.Result, error, bool) {
	var err error
	o := observed{}
	// Deletion always completes: when the tenant or the cloud user is gone
	// for good, the roles cannot come back, and a person is told which.
	giveUp := func(why string) (ctrl.Result, error, bool) {
		r.event(um, corev1.EventTypeWarning, "RoleNotRestored", "Finalize", fmt.Sprintf(
			"deleted without restoring %s: %s", recordedNames(um.Status.RecordedRoles), why))
		return ctrl.Result{}, nil, false
	}
	if o.cloud, err = r.cloudFor(ctx, um, "restoring roles"); err != nil {
		if apierrors.IsNotFound(err) {
			return giveUp(fmt.Sprintf("EntraTenant %q no longer exists", um.Spec.TenantRef.Name))
		}
		return ctrl.Result{}, err, true
	}
	if um.Status.Cloud == nil || um.Status.Cloud.ObjectID == "" {
		return giveUp("the cloud user they belong to is not known")
	}
	if o.user, err = o.cloud.GetUser(ctx, um.Status.Cloud.ObjectID); err != nil {
		if cloud.ClassOf(err) == cloud.ClassNotFound {
			return giveUp(fmt.Sprintf("cloud user %s no longer exists", um.Status.Cloud.ObjectID))
		}
		return ctrl.Result{}, err, true
	}
	o.anchor, _ = anchor.FromImmutableID(um.Status.ImmutableID)
	base := um.DeepCopy()
	res, rerr, done := r.roleWorkflow(ctx, um, &o, true)
	if err := r.Client.Status().Patch(ctx, um, client.MergeFrom(base)); err != nil && !apierrors.IsNotFound(err) {
		return ctrl.Result{}, err, true
	}
	if done || pendingRoles(um) {
		if rerr == nil && res.RequeueAfter == 0 {
			res.RequeueAfter = roleStepDelay
		}
		return res, rerr, true
	}
	return ctrl.Result{}, nil, false
}

// clearOnDelete clears the immutableId only if the user is not synced and
// still carries the value this UserMatch wrote: anything else belongs to
// someone else now.
// cloudFor builds the Graph client of the UserMatch's tenant, for the
// deletion paths, which run without an observe pass.
func (r *UserMatchReconciler) cloudFor(ctx context.Context, um *identityv1alpha1.UserMatch, purpose string) (cloud.Client, error) {
	var tenant identityv1alpha1.EntraTenant
	if err := r.Client.Get(ctx, types.NamespacedName{Name: um.Spec.TenantRef.Name}, &tenant); err != nil {
		return nil, fmt.Errorf("%s needs EntraTenant %q: %w", purpose, um.Spec.TenantRef.Name, err)
	}
	conn, err := tenantConnection(ctx, r.APIReader, &tenant)
	if err != nil {
		return nil, err
	}
	return r.Cloud.Client(ctx, conn)
}

func (r *UserMatchReconciler) clearOnDelete(ctx context.Context, um *identityv1alpha1.UserMatch) error {
	c, err := r.cloudFor(ctx, um, "deletion policy ClearImmutableId")
	if err != nil {
		return err
	}
	u, err := c.GetUser(ctx, um.Status.Cloud.ObjectID)
	if cloud.ClassOf(err) == cloud.ClassNotFound {
		return nil
	}
	if err != nil {
		return err
	}
	if u.Synced() || u.OnPremisesImmutableID != um.Status.ImmutableID {
		r.event(um, corev1.EventTypeNormal, "ImmutableIDKept", "Finalize",
			fmt.Sprintf("left onPremisesImmutableId of %s as it is: the user is synced or carries another value", u.UserPrincipalName))
		return nil
	}
	if err := c.SetImmutableID(ctx, u.ID, nil); err != nil {
		return err
	}
	r.event(um, corev1.EventTypeNormal, "ImmutableIDCleared", "Finalize",
		fmt.Sprintf("cleared onPremisesImmutableId of %s (deletion policy ClearImmutableId)", u.UserPrincipalName))
	return nil
}

// claimedBy names the oldest other UserMatch that targets the same AD user
// (by DN in status) or the same cloud user, when this one is not the oldest.
func (r *UserMatchReconciler) claimedBy(ctx context.Context, um *identityv1alpha1.UserMatch, dn, cloudID string) (string, error) {
	var list identityv1alpha1.UserMatchList
	if err := r.Client.List(ctx, &list, client.MatchingFields{indexTenant: um.Spec.TenantRef.Name}); err != nil {
		return "", err
	}
	for i := range list.Items {
		other := &list.Items[i]
		if other.UID == um.UID || !other.DeletionTimestamp.IsZero() || !older(other, um) {
			continue
		}
		sameAD := other.Spec.DirectoryRef == um.Spec.DirectoryRef &&
			(other.Spec.ADUser == um.Spec.ADUser || (other.Status.AD != nil && strings.EqualFold(other.Status.AD.DistinguishedName, dn)))
		sameCloud := other.Status.Cloud != nil && other.Status.Cloud.ObjectID == cloudID
		if sameAD || sameCloud {
			return other.Name, nil
		}
	}
	return "", nil
}

func older(a, b *identityv1alpha1.UserMatch) bool {
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	}
	return a.Name < b.Name
}

func (r *UserMatchReconciler) previouslySet(um *identityv1alpha1.UserMatch, cloudID, value string) bool {
	return um.Status.ImmutableID == value && um.Status.Cloud != nil && um.Status.Cloud.ObjectID == cloudID &&
		meta.IsStatusConditionTrue(um.Status.Conditions, identityv1alpha1.ConditionMatched)
}

// privilegedRoles lists the names of the privileged roles a user holds or is
// eligible for; Entra refuses to match such users.
func privilegedRoles(ctx context.Context, c cloud.Client, userID string) ([]string, error) {
	_, privileged, err := currentRoles(ctx, c, userID)
	return privileged, err
}

func conflictName(err error) string {
	var e *cloud.Error
	if errors.As(err, &e) && e.ConflictingObjectID != "" {
		return e.ConflictingObjectID
	}
	return "object not named by Graph"
}

func adLookup(s identityv1alpha1.ADUserSelector) directory.Lookup {
	switch {
	case s.SAMAccountName != "":
		return directory.Lookup{By: directory.KeySAMAccountName, Value: s.SAMAccountName}
	case s.UserPrincipalName != "":
		return directory.Lookup{By: directory.KeyUserPrincipalName, Value: s.UserPrincipalName}
	case s.DistinguishedName != "":
		return directory.Lookup{By: directory.KeyDistinguishedName, Value: s.DistinguishedName}
	case s.ObjectGUID != "":
		return directory.Lookup{By: directory.KeyObjectGUID, Value: s.ObjectGUID}
	default:
		return directory.Lookup{By: directory.KeyMail, Value: s.Mail}
	}
}

// target names the cloud user: by object id, or by UPN.
type target struct {
	key  string
	byID bool
}

func (t target) String() string { return t.key }

func cloudTarget(um *identityv1alpha1.UserMatch, u directory.User) target {
	if c := um.Spec.CloudUser; c != nil {
		if c.ObjectID != "" {
			return target{key: c.ObjectID, byID: true}
		}
		if c.UserPrincipalName != "" {
			return target{key: c.UserPrincipalName}
		}
	}
	return target{key: u.UserPrincipalName}
}

// getTarget reads the target from Graph. Graph's /users/{id | userPrincipalName}
// takes either, so a UPN is checked to be one (it has an @) and the user
// found to carry it: an AD UPN shaped like an object id must not reach the
// user with that id.
func getTarget(ctx context.Context, c cloud.Client, t target) (cloud.User, error) {
	if !t.byID && !strings.Contains(t.key, "@") {
		return cloud.User{}, &cloud.Error{Class: cloud.ClassNotFound, Op: "GetUser",
			Message: fmt.Sprintf("%q is not a user principal name (no @suffix); name the cloud user in spec.cloudUser", t.key)}
	}
	u, err := c.GetUser(ctx, t.key)
	if err != nil {
		return u, err
	}
	if !t.byID && !strings.EqualFold(u.UserPrincipalName, t.key) || t.byID && !strings.EqualFold(u.ID, t.key) {
		return cloud.User{}, &cloud.Error{Class: cloud.ClassNotFound, Op: "GetUser",
			Message: fmt.Sprintf("Graph answered %q with user %s (%s)", t.key, u.UserPrincipalName, u.ID)}
	}
	return u, nil
}

func tenantDomains(t *identityv1alpha1.EntraTenant) []cloud.Domain {
	out := make([]cloud.Domain, 0, len(t.Status.VerifiedDomains))
	for _, d := range t.Status.VerifiedDomains {
		out = append(out, cloud.Domain{ID: d.Name, IsVerified: true, IsInitial: d.IsInitial, IsDefault: d.IsDefault})
	}
	return out
}

func modeOf(m identityv1alpha1.Mode) identityv1alpha1.Mode {
	if m == "" {
		return identityv1alpha1.ModeEnforce
	}
	return m
}

func (r *UserMatchReconciler) event(um *identityv1alpha1.UserMatch, typ, reason, action, msg string) {
	if r.Recorder != nil {
		r.Recorder.Eventf(um, nil, typ, reason, action, "%s", bounded(msg, maxNote))
	}
}

func (r *UserMatchReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *UserMatchReconciler) joinedResync() time.Duration {
	if r.JoinedResyncPeriod > 0 {
		return r.JoinedResyncPeriod
	}
	return 10 * r.ResyncPeriod
}

// SetupWithManager registers the reconciler, its indexes, and watches on the
// referenced tenants and directories so that a fixed credential is picked up
// without waiting for the resync.
func (r *UserMatchReconciler) SetupWithManager(mgr ctrl.Manager, concurrency int) error {
	idx := mgr.GetFieldIndexer()
	ctx := context.Background()
	if err := idx.IndexField(ctx, &identityv1alpha1.UserMatch{}, indexTenant, func(o client.Object) []string {
		return []string{o.(*identityv1alpha1.UserMatch).Spec.TenantRef.Name}
	}); err != nil {
		return err
	}
	if err := idx.IndexField(ctx, &identityv1alpha1.UserMatch{}, indexDirectory, func(o client.Object) []string {
		return []string{o.(*identityv1alpha1.UserMatch).Spec.DirectoryRef.Name}
	}); err != nil {
		return err
	}
	byIndex := func(field string, key func(client.Object) string) handler.EventHandler {
		return handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
			var list identityv1alpha1.UserMatchList
			if err := r.Client.List(ctx, &list, client.MatchingFields{field: key(o)}); err != nil {
				return nil
			}
			reqs := make([]reconcile.Request, 0, len(list.Items))
			for _, um := range list.Items {
				reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Name: um.Name}})
			}
			return reqs
		})
	}
	return ctrl.NewControllerManagedBy(mgr).
		// Our own status writes must not wake the UserMatch again: that
		// would repeat every read (and a throttled write) at once.
		For(&identityv1alpha1.UserMatch{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&identityv1alpha1.EntraTenant{}, byIndex(indexTenant, client.Object.GetName), builder.WithPredicates(specOrReadyChanged())).
		Watches(&identityv1alpha1.ActiveDirectory{}, byIndex(indexDirectory, client.Object.GetName), builder.WithPredicates(specOrReadyChanged())).
		// A matching window opening the hard-match takeover flag releases
		// the UserMatches it held back without waiting for their resync.
		Watches(&identityv1alpha1.TenantSyncFeatures{}, byIndex(indexTenant, func(o client.Object) string {
			tenant := o.(*identityv1alpha1.TenantSyncFeatures).Spec.TenantRef.Name
			r.views.expireTenant(tenant)
			return tenant
		}), builder.WithPredicates(takeoverChanged())).
		WithOptions(controller.Options{MaxConcurrentReconciles: concurrency}).
		Named("usermatch").
		Complete(r)
}
