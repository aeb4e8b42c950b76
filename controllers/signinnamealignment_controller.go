package controllers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/alignment"
	"github.com/entramatch/entra-match-operator/internal/cloud"
	"github.com/entramatch/entra-match-operator/internal/directory"
	"github.com/entramatch/entra-match-operator/internal/seal"
)

// SignInNameAlignmentFinalizer holds a SignInNameAlignment until its
// deletion policy has run.
const SignInNameAlignmentFinalizer = "identity.entramatch.io/signin-names"

// maxNameChanges bounds status.changes (the CRD's maxItems): the record of
// one object stays far below etcd's object size limit.
const maxNameChanges = 2000

// maxListed bounds status.planned and status.refusals.
const maxListed = 50

// SignInNameAlignmentReconciler moves the sign-in names of AD users and
// their cloud counterparts onto one verified suffix (internal/alignment
// decides), recording each change so it can be undone.
type SignInNameAlignmentReconciler struct {
	Client       client.Client
	APIReader    client.Reader
	Cloud        cloud.Factory
	Directory    directory.Factory
	Recorder     events.EventRecorder
	ResyncPeriod time.Duration
	Now          func() time.Time
	Sealer       *seal.Sealer
}

// +kubebuilder:rbac:groups=identity.entramatch.io,resources=signinnamealignments,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=identity.entramatch.io,resources=signinnamealignments/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=identity.entramatch.io,resources=signinnamealignments/finalizers,verbs=update

// Reconcile observes the scope, plans, and (in Enforce, or to undo) makes
// the writes one by one within spec.writesPerMinute.
func (r *SignInNameAlignmentReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	return skeleton[*identityv1alpha1.SignInNameAlignment, *alignmentScope]{
		client:    r.Client,
		finalizer: SignInNameAlignmentFinalizer,
		finalize:  r.finalize,
		scope: func(sa *identityv1alpha1.SignInNameAlignment, p pass) *alignmentScope {
			return &alignmentScope{pass: p, sa: sa, undo: sa.Spec.Undo}
		},
		phases:     r.phases(),
		status:     r.status,
		conditions: func(sa *identityv1alpha1.SignInNameAlignment) []metav1.Condition { return sa.Status.Conditions },
		announce: func(sa *identityv1alpha1.SignInNameAlignment, before []metav1.Condition) {
			announce(r.Recorder, sa, before, sa.Status.Conditions, readyTransition)
		},
		observed: func(sa *identityv1alpha1.SignInNameAlignment) { sa.Status.ObservedGeneration = sa.Generation },
	}.reconcile(ctx, req, &identityv1alpha1.SignInNameAlignment{})
}

func (r *SignInNameAlignmentReconciler) phases() []phase[*alignmentScope] {
	return []phase[*alignmentScope]{r.observeReferences, r.observeDirectory, r.observeTenant, r.settle, r.plan, r.act, r.finish}
}

// alignmentScope is what one pass read and decided.
type alignmentScope struct {
	pass
	sa *identityv1alpha1.SignInNameAlignment
	// undo: put the recorded names back instead of aligning (spec.undo, or
	// deletion with policy Restore).
	undo bool

	tenant *identityv1alpha1.EntraTenant
	ad     *identityv1alpha1.ActiveDirectory
	dir    directory.Service
	cloud  cloud.Client

	users      []directory.User
	forest     directory.ForestSuffixes
	cloudUsers []cloud.User
	domains    []cloud.Domain
	withRoles  map[string]bool
	flags      map[string]bool
	// flagsUnknown says why the tenant's soft-match flags could not be read.
	flagsUnknown string

	plan *alignment.SignInPlan
	// refused are users whose write was refused on this pass.
	refused []identityv1alpha1.NameRefusal
	// waiting: writes remain for a later window.
	waiting bool
}

// observeReferences reads the EntraTenant and ActiveDirectory.
func (r *SignInNameAlignmentReconciler) observeReferences(ctx context.Context, s *alignmentScope) (ctrl.Result, error) {
	return observeReferences(ctx, r.Client, &s.pass, r.ResyncPeriod, s.sa.Spec.TenantRef.Name, s.sa.Spec.DirectoryRef.Name, &s.tenant, &s.ad)
}

// observeDirectory reads the users in scope and the forest's suffixes.
func (r *SignInNameAlignmentReconciler) observeDirectory(ctx context.Context, s *alignmentScope) (ctrl.Result, error) {
	cfg, err := directoryConfig(ctx, r.APIReader, s.ad)
	if err == nil {
		s.dir, err = r.Directory.Directory(ctx, cfg)
	}
	var base, filter string
	if sc := s.sa.Spec.Scope; sc != nil {
		base, filter = sc.BaseDN, sc.Filter
	}
	if err == nil {
		s.forest, err = s.dir.ForestUPNSuffixes(ctx)
	}
	if err == nil {
		s.users, err = s.dir.UsersInScope(ctx, base, filter)
	}
	if err != nil {
		return s.fail(classifyScope(err), r.ResyncPeriod)
	}
	return ctrl.Result{}, nil
}

// observeTenant reads the tenant's users, domains, role holders and
// soft-match flags.
func (r *SignInNameAlignmentReconciler) observeTenant(ctx context.Context, s *alignmentScope) (ctrl.Result, error) {
	conn, err := tenantConnection(ctx, r.APIReader, s.tenant)
	if err == nil {
		s.cloud, err = r.Cloud.Client(ctx, conn)
	}
	if err == nil {
		s.domains, err = s.cloud.Domains(ctx)
	}
	if err == nil {
		s.cloudUsers, err = s.cloud.ListUsers(ctx)
	}
	var assignments []cloud.RoleAssignment
	var eligibilities []cloud.RoleEligibility
	if err == nil {
		assignments, err = s.cloud.AllRoleAssignments(ctx)
	}
	if err == nil {
		eligibilities, err = s.cloud.AllRoleEligibilities(ctx)
	}
	if err != nil {
		return s.fail(classifyCloud(err), r.ResyncPeriod)
	}
	// Any role counts, not only privileged ones: Entra refuses to match a
	// cloud user holding an admin role ("Existing Admin Role Conflict").
	s.withRoles = map[string]bool{}
	for _, a := range assignments {
		s.withRoles[strings.ToLower(a.PrincipalID)] = true
	}
	for _, e := range eligibilities {
		s.withRoles[strings.ToLower(e.PrincipalID)] = true
	}
	// The flags through the tenant's delegated sign-in when it has one, as
	// TenantSyncFeatures reads them: Microsoft documents app-only access
	// to these settings only inconsistently.
	flagsClient := s.cloud
	if s.tenant.Spec.Delegated != nil {
		if flagsClient, err = r.Cloud.Client(ctx, delegatedConnection(r.APIReader, r.Client, r.now, s.tenant)); err != nil {
			return s.fail(classifyCloud(err), r.ResyncPeriod)
		}
	}
	settings, err := flagsClient.SyncSettings(ctx, s.tenant.Spec.TenantID)
	switch cloud.ClassOf(err) {
	case "":
		if err != nil {
			return ctrl.Result{}, err
		}
		s.flags = settings.Features
	case cloud.ClassPermission, cloud.ClassNotFound, cloud.ClassInvalid:
		s.flagsUnknown = err.Error()
	default:
		return s.fail(classifyCloud(err), r.ResyncPeriod)
	}
	return ctrl.Result{}, nil
}

// settle compares the recorded changes with the world: unsealed records
// are dropped unread, intents whose write happened become applied, and
// records of names someone changed since are dropped.
func (r *SignInNameAlignmentReconciler) settle(ctx context.Context, s *alignmentScope) (ctrl.Result, error) {
	adNames := map[string]string{}
	for _, u := range s.users {
		adNames[strings.ToLower(u.DN)] = u.UserPrincipalName
	}
	cloudNames := map[string]string{}
	for _, u := range s.cloudUsers {
		cloudNames[strings.ToLower(u.ID)] = u.UserPrincipalName
	}
	var sealed []identityv1alpha1.NameChange
	for _, c := range s.sa.Status.Changes {
		if !r.sealed(s.sa, c) {
			r.event(s.sa, corev1.EventTypeWarning, identityv1alpha1.EventSignInNameNotRestored, "Settle",
				fmt.Sprintf("dropped a record of %s %s (%s -> %s): it does not carry the operator's seal, so it is never acted on", c.Side, c.Object, c.From, c.To))
			continue
		}
		if c.Side == identityv1alpha1.SideActiveDirectory {
			if _, ok := adNames[strings.ToLower(c.Object)]; !ok {
				// Out of scope now, or gone: read it by its DN.
				u, err := findByDN(ctx, s.dir, c.Object)
				switch {
				case err == nil:
					adNames[strings.ToLower(c.Object)] = u.UserPrincipalName
				case !errors.Is(err, directory.ErrNotFound):
					return s.fail(classifyDirectory(err), r.ResyncPeriod)
				}
			}
		}
		sealed = append(sealed, c)
	}
	current := func(side identityv1alpha1.NameSide, object string) (string, bool) {
		m := cloudNames
		if side == identityv1alpha1.SideActiveDirectory {
			m = adNames
		}
		v, ok := m[strings.ToLower(object)]
		return v, ok
	}
	var kept []identityv1alpha1.NameChange
	for _, st := range alignment.SettleRecords(sealed, current) {
		if st.Keep {
			kept = append(kept, st.Record)
			continue
		}
		if st.Why != "not written" {
			r.event(s.sa, corev1.EventTypeWarning, identityv1alpha1.EventSignInNameNotRestored, "Settle",
				fmt.Sprintf("forgot the change of %s %s from %s to %s: %s, so it will not be undone", st.Record.Side, st.Record.Object, st.Record.From, st.Record.To, st.Why))
		}
	}
	s.sa.Status.Changes = kept
	return ctrl.Result{}, nil
}

func findByDN(ctx context.Context, d directory.Service, dn string) (directory.User, error) {
	l := directory.Lookup{By: directory.KeyDistinguishedName, Value: dn}
	found, errs := d.FindUsers(ctx, []directory.Lookup{l})
	if err := errs[l]; err != nil {
		return directory.User{}, err
	}
	return found[l], nil
}

// plan decides the renames (internal/alignment).
func (r *SignInNameAlignmentReconciler) plan(ctx context.Context, s *alignmentScope) (ctrl.Result, error) {
	p, err := planAlignment(ctx, s.dir, s.ad, s.sa, s.users, s.forest,
		alignmentTenant{domains: s.domains, users: s.cloudUsers, withRoles: s.withRoles, flags: s.flags})
	if err != nil {
		return s.fail(classifyDirectory(err), r.ResyncPeriod)
	}
	if p.Blocked == nil && s.flagsUnknown != "" {
		p.Blocked = &alignment.Refusal{Reason: identityv1alpha1.ReasonSoftMatchBlocked, Message: "the tenant's soft-match flags " +
			"(blockSoftMatchEnabled, softMatchOnUpnEnabled) could not be read, and the operator writes only when it knows sync will match: " + s.flagsUnknown}
	}
	s.plan = &p
	s.sa.Status.LastPlanTime = &metav1.Time{Time: r.now()}
	return ctrl.Result{}, nil
}

// alignmentTenant is what an alignment plan reads of the tenant.
type alignmentTenant struct {
	domains   []cloud.Domain
	users     []cloud.User
	withRoles map[string]bool
	flags     map[string]bool
}

// planAlignment decides a SignInNameAlignment's renames (internal/alignment)
// from what was read; it asks the directory who holds the new logon names.
// The SignInNameAlignment and the SyncPlan controllers both use it, so that
// a plan shows what the alignment will do.
func planAlignment(ctx context.Context, d directory.Service, ad *identityv1alpha1.ActiveDirectory, sa *identityv1alpha1.SignInNameAlignment,
	users []directory.User, forest directory.ForestSuffixes, t alignmentTenant) (alignment.SignInPlan, error) {
	in := alignment.SignInInput{
		TargetSuffix:   sa.Spec.TargetSuffix,
		ADSuffixes:     sa.Spec.ADSuffixes,
		CloudSuffixes:  sa.Spec.CloudSuffixes,
		ForestOffered:  forest.Offered,
		ForestUPNs:     map[string][]string{},
		BlockSoftMatch: t.flags[cloud.FeatureBlockSoftMatch],
		SoftMatchOnUPN: t.flags[cloud.FeatureSoftMatchOnUpn],
	}
	for _, d := range t.domains {
		in.Domains = append(in.Domains, alignment.Domain{Name: d.ID, Verified: d.IsVerified, Initial: d.IsInitial,
			Federated: strings.EqualFold(d.AuthenticationType, "Federated")})
	}
	for _, u := range users {
		au := alignment.ADUser{DN: u.DN, UPN: u.UserPrincipalName, Mail: u.Mail, ProxyAddresses: u.ProxyAddresses,
			Anchors: []string{u.ObjectGUID.ImmutableID()}, ObjectIdentifier: u.ObjectGUID.GUID()}
		if u.ConsistencyGUID != nil {
			au.Anchors = append(au.Anchors, u.ConsistencyGUID.ImmutableID())
		}
		if a, _, err := readAnchor(ad, u); err == nil {
			au.SourceAnchor = a.ImmutableID()
		}
		in.Users = append(in.Users, au)
	}
	for _, u := range t.users {
		in.Cloud = append(in.Cloud, alignment.CloudUser{ID: u.ID, UPN: u.UserPrincipalName, Mail: u.Mail, ProxyAddresses: u.ProxyAddresses,
			ImmutableID: u.OnPremisesImmutableID, Synced: u.Synced(), HasRoles: t.withRoles[strings.ToLower(u.ID)]})
	}
	// Who else holds the new logon names, anywhere in the domain: a first
	// plan names them, the second decides knowing their holders.
	var names []string
	for _, rn := range alignment.PlanSignIn(in).Renames() {
		if rn.Side == identityv1alpha1.SideActiveDirectory {
			names = append(names, rn.To)
		}
	}
	if len(names) > 0 {
		holders, err := d.UPNHolders(ctx, names)
		if err != nil {
			return alignment.SignInPlan{}, err
		}
		in.ForestUPNs = holders
	}
	return alignment.PlanSignIn(in), nil
}

// act makes the writes: the renames of the plan in Enforce, or the undo.
// One user at a time, its cloud name first; each write is recorded (and
// persisted) before it is made, and announced after.
func (r *SignInNameAlignmentReconciler) act(ctx context.Context, s *alignmentScope) (ctrl.Result, error) {
	if s.undo {
		return r.restore(ctx, s)
	}
	if s.sa.Spec.Mode != identityv1alpha1.ModeEnforce || s.plan.Blocked != nil {
		return ctrl.Result{}, nil
	}
	for _, u := range s.plan.Users {
		if u.State != alignment.StatePending {
			continue
		}
		if len(s.sa.Status.Changes)+len(u.Renames) > maxNameChanges {
			s.plan.Blocked = &alignment.Refusal{Reason: identityv1alpha1.ReasonChangeRecordFull, Message: fmt.Sprintf(
				"status.changes holds %d records, the most one object keeps; split the scope into several SignInNameAlignments (by scope.baseDN or scope.filter)", len(s.sa.Status.Changes))}
			return ctrl.Result{}, nil
		}
		if !r.takeWrites(s, len(u.Renames)) {
			s.waiting = true
			return ctrl.Result{}, nil
		}
		for _, rn := range u.Renames {
			if err := r.rename(ctx, s, rn, true); err != nil {
				o := classifyRename(rn, err)
				if o.transient {
					return s.fail(o, r.ResyncPeriod)
				}
				s.refused = append(s.refused, identityv1alpha1.NameRefusal{User: u.DN, Reason: identityv1alpha1.ReasonNameWriteRefused, Message: bounded(o.message, 1024)})
				break
			}
		}
	}
	return ctrl.Result{}, nil
}

// restore puts the recorded names back, the latest change first.
func (r *SignInNameAlignmentReconciler) restore(ctx context.Context, s *alignmentScope) (ctrl.Result, error) {
	for _, rn := range alignment.PlanUndo(s.sa.Status.Changes) {
		if !r.takeWrites(s, 1) {
			s.waiting = true
			return ctrl.Result{}, nil
		}
		if err := r.rename(ctx, s, rn, false); err != nil {
			o := classifyRename(rn, err)
			if o.transient {
				return s.fail(o, r.ResyncPeriod)
			}
			s.refused = append(s.refused, identityv1alpha1.NameRefusal{User: rn.Object, Reason: identityv1alpha1.ReasonNameWriteRefused, Message: bounded(o.message, 1024)})
		}
	}
	return ctrl.Result{}, nil
}

// rename makes one write. Aligning records the change (sealed) and
// persists it before writing; undoing drops the record after the write.
func (r *SignInNameAlignmentReconciler) rename(ctx context.Context, s *alignmentScope, rn alignment.Rename, record bool) error {
	if record {
		c := identityv1alpha1.NameChange{Side: rn.Side, Object: rn.Object, From: rn.From, To: rn.To, Time: &metav1.Time{Time: r.now()}}
		c.Seal = r.seal(s.sa, c)
		s.sa.Status.Changes = append(s.sa.Status.Changes, c)
		if err := s.persist(); err != nil {
			return err
		}
	}
	s.log.Info("changing a sign-in name", "side", rn.Side, "object", rn.Object, "from", rn.From, "to", rn.To)
	var err error
	if rn.Side == identityv1alpha1.SideActiveDirectory {
		err = s.dir.SetUserPrincipalName(ctx, rn.Object, rn.From, rn.To)
	} else {
		err = s.cloud.SetUserPrincipalName(ctx, rn.Object, rn.To)
	}
	if err != nil {
		if record {
			// Not written: the intent goes (SettleRecords would drop it too).
			s.sa.Status.Changes = s.sa.Status.Changes[:len(s.sa.Status.Changes)-1]
		}
		r.event(s.sa, corev1.EventTypeWarning, identityv1alpha1.EventSignInNameWriteFailed, "Rename",
			fmt.Sprintf("could not change %s %s from %s to %s: %v", rn.Side, rn.Object, rn.From, rn.To, err))
		return err
	}
	if record {
		s.sa.Status.Changes[len(s.sa.Status.Changes)-1].Applied = true
		r.event(s.sa, corev1.EventTypeNormal, identityv1alpha1.EventSignInNameChanged, "Rename",
			fmt.Sprintf("changed userPrincipalName of %s %s from %s to %s", rn.Side, rn.Object, rn.From, rn.To))
		return nil
	}
	for i, c := range s.sa.Status.Changes {
		if c.Side == rn.Side && strings.EqualFold(c.Object, rn.Object) {
			s.sa.Status.Changes = append(s.sa.Status.Changes[:i:i], s.sa.Status.Changes[i+1:]...)
			break
		}
	}
	r.event(s.sa, corev1.EventTypeNormal, identityv1alpha1.EventSignInNameRestored, "Restore",
		fmt.Sprintf("put back userPrincipalName of %s %s: %s (was %s)", rn.Side, rn.Object, rn.To, rn.From))
	return nil
}

// classifyRename classifies a failed write; the message names the object.
func classifyRename(rn alignment.Rename, err error) outcome {
	var o outcome
	if rn.Side == identityv1alpha1.SideActiveDirectory {
		o = classifyDirectory(err)
	} else {
		o = classifyCloud(err)
	}
	o.message = fmt.Sprintf("%s %s: %s", rn.Side, rn.Object, o.message)
	return o
}

// takeWrites takes n writes from the current one-minute window.
func (r *SignInNameAlignmentReconciler) takeWrites(s *alignmentScope, n int) bool {
	now := r.now()
	st := &s.sa.Status
	if st.WindowStart == nil || now.Sub(st.WindowStart.Time) >= time.Minute || now.Before(st.WindowStart.Time) {
		st.WindowStart, st.WindowWrites = &metav1.Time{Time: now}, 0
	}
	limit := s.sa.Spec.WritesPerMinute
	if limit <= 0 {
		limit = 30
	}
	if int(st.WindowWrites)+n > int(limit) && st.WindowWrites > 0 {
		return false
	}
	st.WindowWrites += int32(n)
	return true
}

// finish requeues for the next window while writes remain, else for the
// resync period.
func (r *SignInNameAlignmentReconciler) finish(_ context.Context, s *alignmentScope) (ctrl.Result, error) {
	if s.waiting && s.sa.Status.WindowStart != nil {
		wait := time.Until(s.sa.Status.WindowStart.Add(time.Minute))
		if r.Now != nil {
			wait = s.sa.Status.WindowStart.Add(time.Minute).Sub(r.now())
		}
		return ctrl.Result{RequeueAfter: max(wait, time.Second)}, nil
	}
	return ctrl.Result{RequeueAfter: r.ResyncPeriod}, nil
}

// finalize applies the deletion policy: Restore puts every recorded name
// back before the finalizer goes.
func (r *SignInNameAlignmentReconciler) finalize(ctx context.Context, sa *identityv1alpha1.SignInNameAlignment) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(sa, SignInNameAlignmentFinalizer) {
		return ctrl.Result{}, nil
	}
	if sa.Spec.DeletionPolicy == identityv1alpha1.AlignmentDeletionRestore && len(sa.Status.Changes) > 0 {
		base := sa.DeepCopy()
		s := &alignmentScope{sa: sa, undo: true, pass: pass{log: log.FromContext(ctx), persist: func() error {
			err := r.Client.Status().Patch(ctx, sa, client.MergeFrom(base))
			base = sa.DeepCopy()
			return err
		}}}
		res, err := runPhases(ctx, s, []phase[*alignmentScope]{r.observeReferences, r.observeDirectory, r.observeTenant, r.settle, r.restore, r.finish})
		if perr := s.persist(); perr != nil {
			return ctrl.Result{}, perr
		}
		switch {
		case s.failed != nil && (s.failed.reason == identityv1alpha1.ReasonTenantNotReady || s.failed.reason == identityv1alpha1.ReasonDirectoryNotReady):
			// Nothing left to restore through: say so, and let it go.
			r.event(sa, corev1.EventTypeWarning, identityv1alpha1.EventSignInNameNotRestored, "Finalize",
				fmt.Sprintf("deleted without restoring %d recorded names: %s", len(sa.Status.Changes), s.failed.message))
		case err != nil || s.failed != nil || len(sa.Status.Changes) > 0:
			if res.IsZero() && err == nil {
				res = ctrl.Result{RequeueAfter: time.Second}
			}
			return res, err
		}
	}
	return ctrl.Result{}, removeFinalizer(ctx, r.Client, sa, SignInNameAlignmentFinalizer)
}

// seal signs a record with the alignment's identity, so that a record
// copied from another object does not verify either.
func (r *SignInNameAlignmentReconciler) seal(sa *identityv1alpha1.SignInNameAlignment, c identityv1alpha1.NameChange) string {
	if r.Sealer == nil {
		return ""
	}
	return r.Sealer.Seal(string(sa.UID), sa.Spec.TenantRef.Name, sa.Spec.DirectoryRef.Name, string(c.Side), c.Object, c.From, c.To)
}

func (r *SignInNameAlignmentReconciler) sealed(sa *identityv1alpha1.SignInNameAlignment, c identityv1alpha1.NameChange) bool {
	return r.Sealer != nil && r.Sealer.Verify(c.Seal, string(sa.UID), sa.Spec.TenantRef.Name, sa.Spec.DirectoryRef.Name, string(c.Side), c.Object, c.From, c.To)
}

func (r *SignInNameAlignmentReconciler) event(sa *identityv1alpha1.SignInNameAlignment, typ, reason, action, msg string) {
	emit(r.Recorder, sa, typ, reason, action, msg)
}

func (r *SignInNameAlignmentReconciler) now() time.Time { return wallOr(r.Now) }

// SetupWithManager watches SignInNameAlignments; status writes do not
// trigger passes (the controller requeues itself per window).
func (r *SignInNameAlignmentReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&identityv1alpha1.SignInNameAlignment{}, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		Named("signinnamealignment").Complete(r)
}
