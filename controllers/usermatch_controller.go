package controllers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/anchor"
	"github.com/entramatch/entra-match-operator/internal/cloud"
	"github.com/entramatch/entra-match-operator/internal/directory"
	"github.com/entramatch/entra-match-operator/internal/match"
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
	// indexClaims holds what a UserMatch targets (claimKeys), so that the
	// claim rule finds its rivals without listing the tenant.
	indexClaims = "identity.entramatch.io/claims"
)

// UserMatchReconciler makes a cloud user's onPremisesImmutableId equal to the
// anchor of its AD twin, and keeps it so until Entra's sync joins the two.
type UserMatchReconciler struct {
	Client       client.Client
	APIReader    client.Reader
	Cloud        cloud.Factory
	Directory    directory.Factory
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
	// fair keeps one tenant from holding every worker (nil: no limit).
	fair *fairShare
}

// +kubebuilder:rbac:groups=identity.entramatch.io,resources=usermatches,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=identity.entramatch.io,resources=usermatches/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=identity.entramatch.io,resources=usermatches/finalizers,verbs=update
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile runs one pass of the UserMatch phases and records the outcome.
func (r *UserMatchReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	// Only the tenant and name are read, so the cached object is not
	// copied: the skeleton below reads it again for the pass.
	var um identityv1alpha1.UserMatch
	if err := r.Client.Get(ctx, req.NamespacedName, &um, client.UnsafeDisableDeepCopy); err == nil && um.DeletionTimestamp.IsZero() {
		release, wait, ok := r.fair.take(um.Spec.TenantRef.Name, um.Name)
		if !ok {
			return ctrl.Result{RequeueAfter: wait}, nil
		}
		defer release()
	}
	return skeleton[*identityv1alpha1.UserMatch, *userMatchScope]{
		client:    r.Client,
		finalizer: UserMatchFinalizer,
		finalize:  r.finalize,
		scope: func(um *identityv1alpha1.UserMatch, p pass) *userMatchScope {
			return &userMatchScope{pass: p, um: um}
		},
		// Observe phases only read; the others each make at most one kind
		// of write, decided from what was read.
		phases: []phase[*userMatchScope]{
			r.observeReferences, // read: EntraTenant and ActiveDirectory
			r.observeAnchor,     // read: the AD user and its anchor
			r.stampAnchor,       // write (AD): mS-DS-ConsistencyGuid, when asked
			r.observeCloudUser,  // read: the target cloud user
			r.observeMatch,      // read: claims, holders of the anchor, roles
			r.cleanDuplicates,   // write (Graph): proven duplicates, per spec.duplicates
			r.rolesStep,         // write (Graph): one step of RemoveAndRestore
			r.decide,            // read: fresh target, holders, roles; take the claim
			r.writeImmutableID,  // write (Graph): onPremisesImmutableId
			r.finish,
		},
		status:     r.status,
		conditions: func(um *identityv1alpha1.UserMatch) []metav1.Condition { return um.Status.Conditions },
		announce:   r.announce,
		observed:   func(um *identityv1alpha1.UserMatch) { um.Status.ObservedGeneration = um.Generation },
	}.reconcile(ctx, req, &identityv1alpha1.UserMatch{})
}

// userMatchScope is what one pass read and decided, in phase order. The
// status file computes every condition from it.
type userMatchScope struct {
	pass
	um *identityv1alpha1.UserMatch

	tenant *identityv1alpha1.EntraTenant
	ad     *identityv1alpha1.ActiveDirectory

	// The AD side.
	dirConn directory.Service
	dirView *directoryView
	adUser  directory.User
	anchor  anchor.Anchor
	source  identityv1alpha1.AnchorSource
	// resolved: adUser and anchor are known; anchorFailed says why not.
	resolved     bool
	anchorFailed *outcome
	// stamp is the ConsistencyGuidWritten condition, when the directory
	// asks for mS-DS-ConsistencyGuid to be written.
	stamp *cond

	// The cloud side.
	cloud  cloud.Client
	view   *tenantView
	target target
	user   cloud.User
	// found: user is known; missing says it does not exist.
	found   bool
	missing *outcome
	obs     match.Observation
	// others are the tenant's other UserMatches that target the same AD
	// user or the target or a holder of the anchor (not read for a synced
	// user).
	others []match.Claimant
	// rolesFresh: the role workflow read the roles from Graph in this pass,
	// with no write since, so the pre-write refresh need not read them again.
	rolesFresh bool
	// roles and duplicates are the conditions their workflows left.
	roles      *cond
	duplicates *cond

	// plan is the decision; finished says the pass ran to its end.
	plan     *match.Plan
	finished bool
}

// conflictingObject is the object Graph named in an ObjectConflict, if any.
func conflictingObject(err error) string {
	var e *cloud.Error
	if errors.As(err, &e) {
		return e.ConflictingObjectID
	}
	return ""
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
	emit(r.Recorder, um, typ, reason, action, msg)
}

func (r *UserMatchReconciler) now() time.Time { return wallOr(r.Now) }

func (r *UserMatchReconciler) joinedResync() time.Duration {
	if r.JoinedResyncPeriod > 0 {
		return r.JoinedResyncPeriod
	}
	return 10 * r.ResyncPeriod
}

// wake queues the UserMatches of a tenant that claim the given cloud users.
func (r *UserMatchReconciler) wake(ctx context.Context, out chan<- event.TypedGenericEvent[*identityv1alpha1.UserMatch], tenant string, ids []string) {
	for _, id := range ids {
		var list identityv1alpha1.UserMatchList
		if err := r.Client.List(ctx, &list, client.MatchingFields{indexClaims: claimKeyCloud(tenant, id)}); err != nil {
			continue
		}
		for i := range list.Items {
			if !send(ctx, out, &list.Items[i]) {
				return
			}
		}
	}
}

// send queues um through the channel source; false once ctx is done.
func send(ctx context.Context, out chan<- event.TypedGenericEvent[*identityv1alpha1.UserMatch], um *identityv1alpha1.UserMatch) bool {
	select {
	case out <- event.TypedGenericEvent[*identityv1alpha1.UserMatch]{Object: um}:
		return true
	case <-ctx.Done():
		return false
	}
}

// userMatchIndexes are the cache's field indexes on UserMatches.
func userMatchIndexes() map[string]client.IndexerFunc {
	return map[string]client.IndexerFunc{
		indexTenant: func(o client.Object) []string { return []string{o.(*identityv1alpha1.UserMatch).Spec.TenantRef.Name} },
		indexDirectory: func(o client.Object) []string {
			return []string{o.(*identityv1alpha1.UserMatch).Spec.DirectoryRef.Name}
		},
		indexClaims: func(o client.Object) []string { return claimKeys(o.(*identityv1alpha1.UserMatch)) },
	}
}

// SetupWithManager registers the reconciler, its indexes, and watches on the
// referenced tenants and directories so that a fixed credential is picked up
// without waiting for the resync.
func (r *UserMatchReconciler) SetupWithManager(mgr ctrl.Manager, concurrency int) error {
	idx := mgr.GetFieldIndexer()
	ctx := context.Background()
	for field, fn := range userMatchIndexes() {
		if err := idx.IndexField(ctx, &identityv1alpha1.UserMatch{}, field, fn); err != nil {
			return err
		}
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
	// Users a tenant refresh found changed outside the operator wake their
	// UserMatches at once: drift is corrected within one shared-read period,
	// not one resync period later.
	changed := make(chan event.TypedGenericEvent[*identityv1alpha1.UserMatch], 1024)
	r.views.changed = func(tenant string, ids []string) {
		go r.wake(ctx, changed, tenant, ids)
	}
	// A UserMatch refused a worker beyond its tenant's share comes back as
	// soon as its tenant gives one back.
	if r.fair != nil {
		r.fair.wake = func(name string) {
			go send(ctx, changed, &identityv1alpha1.UserMatch{ObjectMeta: metav1.ObjectMeta{Name: name}})
		}
	}
	return ctrl.NewControllerManagedBy(mgr).
		WatchesRawSource(source.Channel(changed, &handler.TypedEnqueueRequestForObject[*identityv1alpha1.UserMatch]{})).
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
