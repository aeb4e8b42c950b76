package controllers

import (
	"context"
	"encoding/csv"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/alignment"
	"github.com/entramatch/entra-match-operator/internal/cloud"
	"github.com/entramatch/entra-match-operator/internal/directory"
	"github.com/entramatch/entra-match-operator/internal/privileged"
	"github.com/entramatch/entra-match-operator/internal/syncplan"
)

// defaultPlanInterval is how often a SyncPlan is computed again.
const defaultPlanInterval = time.Hour

// reportChunk is how many objects one report ConfigMap holds: about 300
// bytes a line keeps a chunk far below the 1 MiB object limit.
const reportChunk = 2000

// labelSyncPlan marks the report ConfigMaps of a SyncPlan.
const labelSyncPlan = "identity.entramatch.io/syncplan"

// SyncPlanReconciler predicts what the next sync does to every object in
// scope (internal/syncplan decides). It writes nothing outside Kubernetes.
type SyncPlanReconciler struct {
	Client    client.Client
	APIReader client.Reader
	// Reader reads the report ConfigMaps, which the cache does not hold.
	Reader    client.Reader
	Cloud     cloud.Factory
	Directory directory.Factory
	Recorder  events.EventRecorder
	Now       func() time.Time
	// Namespace holds the report ConfigMaps: the manager's own.
	Namespace    string
	ResyncPeriod time.Duration
}

// +kubebuilder:rbac:groups=identity.entramatch.io,resources=syncplans,verbs=get;list;watch
// +kubebuilder:rbac:groups=identity.entramatch.io,resources=syncplans/status,verbs=get;update;patch
// +kubebuilder:rbac:groups="",namespace=system,resources=configmaps,verbs=get;list;create;update;delete

// Reconcile computes the plan and writes its summary and report.
func (r *SyncPlanReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	return skeleton[*identityv1alpha1.SyncPlan, *planScope]{
		client: r.Client,
		scope: func(sp *identityv1alpha1.SyncPlan, p pass) *planScope {
			return &planScope{pass: p, sp: sp, renamed: map[string]string{}, renamedBy: map[string]string{}, after: map[int]syncplan.Prediction{}}
		},
		phases:     []phase[*planScope]{r.observeReferences, r.observeDirectory, r.observeTenant, r.observeAlignments, r.plan, r.report, r.finish},
		status:     r.status,
		conditions: func(sp *identityv1alpha1.SyncPlan) []metav1.Condition { return sp.Status.Conditions },
		announce: func(sp *identityv1alpha1.SyncPlan, before []metav1.Condition) {
			announce(r.Recorder, sp, before, sp.Status.Conditions, readyTransition)
		},
		observed: func(sp *identityv1alpha1.SyncPlan) { sp.Status.ObservedGeneration = sp.Generation },
	}.reconcile(ctx, req, &identityv1alpha1.SyncPlan{})
}

// planScope is what one pass read and decided.
type planScope struct {
	pass
	sp      *identityv1alpha1.SyncPlan
	tenant  *identityv1alpha1.EntraTenant
	ad      *identityv1alpha1.ActiveDirectory
	objects []directory.Object
	cloud   syncplan.Tenant
	raw     alignmentTenant
	dir     directory.Service
	// renamed maps an AD DN or a cloud object ID (lower-case) to the name a
	// SignInNameAlignment will give it, renamedBy to that alignment.
	renamed, renamedBy map[string]string
	// after is the prediction once the alignments' renames are made, for
	// the objects it changes.
	after map[int]syncplan.Prediction
	// partial says what the plan could not read, when it went on without.
	partial string
	exports []syncplan.Export
	preds   []syncplan.Prediction
	checks  []syncplan.Problem
	planned bool
}

func (r *SyncPlanReconciler) observeReferences(ctx context.Context, s *planScope) (ctrl.Result, error) {
	return observeReferences(ctx, r.Client, &s.pass, r.ResyncPeriod, s.sp.Spec.TenantRef.Name, s.sp.Spec.DirectoryRef.Name, &s.tenant, &s.ad)
}

// observeDirectory reads every object in scope, once each, in DN order.
func (r *SyncPlanReconciler) observeDirectory(ctx context.Context, s *planScope) (ctrl.Result, error) {
	cfg, err := directoryConfig(ctx, r.APIReader, s.ad)
	var d directory.Service
	if err == nil {
		d, err = r.Directory.Directory(ctx, cfg)
	}
	bases, filter, kinds := []string{""}, "", map[directory.ObjectKind]bool{}
	if sc := s.sp.Spec.Scope; sc != nil {
		if len(sc.BaseDNs) > 0 {
			bases = sc.BaseDNs
		}
		filter = sc.Filter
		for _, k := range sc.Kinds {
			kinds[directory.ObjectKind(k)] = true
		}
	}
	s.dir = d
	seen := map[string]bool{}
	for _, base := range bases {
		if err != nil {
			break
		}
		var objs []directory.Object
		objs, err = d.ObjectsInScope(ctx, base, filter)
		for _, o := range objs {
			if (len(kinds) == 0 || kinds[o.Kind]) && !seen[strings.ToLower(o.DN)] {
				seen[strings.ToLower(o.DN)] = true
				s.objects = append(s.objects, o)
			}
		}
	}
	if err != nil {
		return s.fail(classifyScope(err), r.ResyncPeriod)
	}
	sort.Slice(s.objects, func(i, j int) bool { return strings.ToLower(s.objects[i].DN) < strings.ToLower(s.objects[j].DN) })
	return ctrl.Result{}, nil
}

// observeTenant reads the tenant with bulk reads only.
func (r *SyncPlanReconciler) observeTenant(ctx context.Context, s *planScope) (ctrl.Result, error) {
	// Groups and contacts are required when the scope has them; a plan of
	// users reads them when it may (an address on a group makes a user's
	// export fail), and says so when it may not.
	required := true
	if sc := s.sp.Spec.Scope; sc != nil && len(sc.Kinds) > 0 {
		required = false
		for _, k := range sc.Kinds {
			required = required || k != identityv1alpha1.ObjectUser
		}
	}
	t, raw, err := loadPlanTenant(ctx, r.Cloud, r.APIReader, r.Client, r.now, s.tenant, true)
	if err != nil && !required && cloud.ClassOf(err) == cloud.ClassPermission &&
		(strings.Contains(err.Error(), "ListGroups") || strings.Contains(err.Error(), "ListContacts")) {
		s.partial = "groups and contacts could not be read (" + err.Error() + "): a user whose address is on one of them is not predicted to fail"
		t, raw, err = loadPlanTenant(ctx, r.Cloud, r.APIReader, r.Client, r.now, s.tenant, false)
	}
	if err != nil {
		return s.fail(classifyCloud(err), r.ResyncPeriod)
	}
	s.cloud, s.raw = t, raw
	return ctrl.Result{}, nil
}

// observeAlignments plans the SignInNameAlignments of the same tenant and
// directory, so that the report shows what sync will do once their
// renames are made. An alignment that is blocked, undoing or being
// deleted renames nothing.
func (r *SyncPlanReconciler) observeAlignments(ctx context.Context, s *planScope) (ctrl.Result, error) {
	var list identityv1alpha1.SignInNameAlignmentList
	if err := r.Client.List(ctx, &list); err != nil {
		return ctrl.Result{}, err
	}
	var forest *directory.ForestSuffixes
	for i := range list.Items {
		sa := &list.Items[i]
		if sa.Spec.TenantRef.Name != s.tenant.Name || sa.Spec.DirectoryRef.Name != s.ad.Name || sa.Spec.Undo || !sa.DeletionTimestamp.IsZero() {
			continue
		}
		var base, filter string
		if sc := sa.Spec.Scope; sc != nil {
			base, filter = sc.BaseDN, sc.Filter
		}
		users, err := s.dir.UsersInScope(ctx, base, filter)
		if err == nil && forest == nil {
			var f directory.ForestSuffixes
			f, err = s.dir.ForestUPNSuffixes(ctx)
			forest = &f
		}
		var p alignment.SignInPlan
		if err == nil {
			p, err = planAlignment(ctx, s.dir, s.ad, sa, users, *forest, s.raw)
		}
		if err != nil {
			// The alignment shows its own failure; the plan goes on without it.
			s.log.V(1).Info("an alignment could not be planned", "signInNameAlignment", sa.Name, "error", err.Error())
			continue
		}
		for _, rn := range p.Renames() {
			s.renamed[strings.ToLower(rn.Object)] = rn.To
			s.renamedBy[strings.ToLower(rn.Object)] = sa.Name
		}
	}
	return ctrl.Result{}, nil
}

// loadPlanTenant reads what a sync plan needs of a tenant with bulk reads
// only: users (and, with objects, groups and contacts), domains, role
// holders, and the synchronization flags, through the tenant's delegated
// sign-in when it has one (as TenantSyncFeatures reads them).
func loadPlanTenant(ctx context.Context, factory cloud.Factory, secrets client.Reader, writer client.Client, now func() time.Time,
	tenant *identityv1alpha1.EntraTenant, objects bool, userProps ...string) (syncplan.Tenant, alignmentTenant, error) {
	conn, err := tenantConnection(ctx, secrets, tenant)
	var c cloud.Client
	if err == nil {
		c, err = factory.Client(ctx, conn)
	}
	var (
		users         []cloud.User
		groups        []cloud.Group
		contacts      []cloud.Contact
		domains       []cloud.Domain
		assignments   []cloud.RoleAssignment
		eligibilities []cloud.RoleEligibility
		settings      cloud.SyncSettings
	)
	reads := []func() error{
		func() (err error) { users, err = c.ListUsers(ctx, userProps...); return },
		func() (err error) { domains, err = c.Domains(ctx); return },
		func() (err error) { assignments, err = c.AllRoleAssignments(ctx); return },
		func() (err error) { eligibilities, err = c.AllRoleEligibilities(ctx); return },
		func() error {
			fc := c
			if tenant.Spec.Delegated != nil {
				var err error
				if fc, err = factory.Client(ctx, delegatedConnection(secrets, writer, now, tenant)); err != nil {
					return err
				}
			}
			var err error
			settings, err = fc.SyncSettings(ctx, tenant.Spec.TenantID)
			return err
		},
	}
	if objects {
		reads = append(reads,
			func() (err error) { groups, err = c.ListGroups(ctx); return },
			func() (err error) { contacts, err = c.ListContacts(ctx); return })
	}
	for _, read := range reads {
		if err != nil {
			break
		}
		err = read()
	}
	if err != nil {
		return syncplan.Tenant{}, alignmentTenant{}, err
	}
	flags := settings.Features
	raw := alignmentTenant{domains: domains, users: users, withRoles: map[string]bool{}, flags: flags}
	t := syncplan.Tenant{Flags: syncplan.Flags{BlockSoftMatch: flags[cloud.FeatureBlockSoftMatch], BlockTakeover: flags[cloud.FeatureBlockCloudObjectTakeoverThroughHardMatch],
		SoftMatchOnUPN: flags[cloud.FeatureSoftMatchOnUpn], AllowObjectIdentifierUpdate: flags[cloud.FeatureAllowOnPremUpdateOfOnPremisesObjectIdentifier]}}
	for _, d := range domains {
		if d.IsVerified || d.IsInitial {
			t.VerifiedDomains = append(t.VerifiedDomains, d.ID)
		}
		if d.IsInitial {
			t.InitialDomain = d.ID
		}
	}
	type roles struct{ assigned, eligible, privAssigned, privEligible bool }
	held := map[string]*roles{}
	at := func(id string) *roles {
		id = strings.ToLower(id)
		if held[id] == nil {
			held[id] = &roles{}
		}
		return held[id]
	}
	for _, a := range assignments {
		raw.withRoles[strings.ToLower(a.PrincipalID)] = true
		h := at(a.PrincipalID)
		h.assigned = true
		h.privAssigned = h.privAssigned || privileged.IsPrivileged(a.Role, a.RoleDefinitionID)
	}
	for _, e := range eligibilities {
		raw.withRoles[strings.ToLower(e.PrincipalID)] = true
		h := at(e.PrincipalID)
		h.eligible = true
		h.privEligible = h.privEligible || privileged.IsPrivileged(e.Role, e.RoleDefinitionID)
	}
	for _, u := range users {
		o := syncplan.CloudObject{ID: u.ID, Kind: syncplan.User, UserPrincipalName: u.UserPrincipalName, Mail: u.Mail, ProxyAddresses: u.ProxyAddresses,
			ImmutableID: u.OnPremisesImmutableID, SyncEnabled: u.OnPremisesSyncEnabled, ObjectIdentifier: u.OnPremisesObjectIdentifier}
		if h := held[strings.ToLower(u.ID)]; h != nil {
			o.AdminAssigned, o.AdminEligible, o.PrivilegedAssigned, o.PrivilegedEligible = h.assigned, h.eligible, h.privAssigned, h.privEligible
		}
		t.Objects = append(t.Objects, o)
	}
	for _, g := range groups {
		t.Objects = append(t.Objects, syncplan.CloudObject{ID: g.ID, Kind: syncplan.Group, Mail: g.Mail, ProxyAddresses: g.ProxyAddresses,
			MailEnabled: g.MailEnabled, SyncEnabled: g.OnPremisesSyncEnabled, AnchorHidden: true, SamAccountName: g.OnPremisesSamAccountName})
	}
	for _, o := range contacts {
		t.Objects = append(t.Objects, syncplan.CloudObject{ID: o.ID, Kind: syncplan.Contact, Mail: o.Mail, ProxyAddresses: o.ProxyAddresses,
			SyncEnabled: o.OnPremisesSyncEnabled, AnchorHidden: true})
	}
	return t, raw, nil
}

// plan runs the prediction and the attribute checks.
func (r *SyncPlanReconciler) plan(_ context.Context, s *planScope) (ctrl.Result, error) {
	mode := string(s.ad.Spec.AnchorAttribute)
	if mode == "" {
		mode = directory.AnchorAuto
	}
	for _, o := range s.objects {
		e := syncplan.Export{Kind: syncplan.Kind(o.Kind), UserPrincipalName: o.UserPrincipalName, MailNickname: o.MailNickname,
			Mail: o.Mail, ProxyAddresses: o.ProxyAddresses, MailEnabled: o.MailEnabled()}
		switch o.Kind {
		case directory.KindUser:
			e.ObjectIdentifier = o.ObjectGUID.GUID()
		case directory.KindGroup:
			e.SamAccountName = o.SAMAccountName
		}
		if a, err := directory.ExportAnchor(o, mode); err == nil {
			e.Anchor = a.ImmutableID()
		} else {
			e.Anchor = o.ObjectGUID.ImmutableID()
		}
		s.exports = append(s.exports, e)
	}
	s.preds = syncplan.Predict(s.cloud, s.exports)
	s.checks = syncplan.Check(s.cloud, s.exports)
	if len(s.renamed) > 0 {
		// The same sync, once the alignments have renamed.
		t := s.cloud
		t.Objects = append([]syncplan.CloudObject(nil), s.cloud.Objects...)
		for i := range t.Objects {
			if n, ok := s.renamed[strings.ToLower(t.Objects[i].ID)]; ok {
				t.Objects[i].UserPrincipalName = n
			}
		}
		exports := append([]syncplan.Export(nil), s.exports...)
		changed := map[int]bool{}
		for i, o := range s.objects {
			if n, ok := s.renamed[strings.ToLower(o.DN)]; ok {
				exports[i].UserPrincipalName = n
				changed[i] = true
			}
		}
		for i, p := range syncplan.Predict(t, exports) {
			if changed[i] || p.Outcome != s.preds[i].Outcome || p.CloudID != s.preds[i].CloudID {
				s.after[i] = p
			}
		}
	}
	s.planned = true
	return ctrl.Result{}, nil
}

// report writes the whole per-object report as CSV into ConfigMaps of the
// manager's namespace, owned by the SyncPlan, and deletes stale chunks.
func (r *SyncPlanReconciler) report(ctx context.Context, s *planScope) (ctrl.Result, error) {
	problems := map[int][]string{}
	for _, p := range s.checks {
		problems[p.Index] = append(problems[p.Index], string(p.Rule))
	}
	var names []string
	for start, n := 0, 0; start < len(s.objects) || n == 0; start, n = start+reportChunk, n+1 {
		var b strings.Builder
		w := csv.NewWriter(&b)
		_ = w.Write([]string{"object", "kind", "outcome", "code", "cloudObject", "problems", "message", "afterAlignment"})
		for i := start; i < min(start+reportChunk, len(s.objects)); i++ {
			p := s.preds[i]
			_ = w.Write([]string{s.objects[i].DN, string(s.objects[i].Kind), string(p.Outcome), p.Code, p.CloudID, strings.Join(problems[i], " "), message(p), s.afterAlignment(i)})
		}
		w.Flush()
		name := fmt.Sprintf("syncplan-%s-%d", s.sp.Name, n)
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: r.Namespace, Labels: map[string]string{labelSyncPlan: s.sp.Name},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: identityv1alpha1.GroupVersion.String(), Kind: "SyncPlan", Name: s.sp.Name, UID: s.sp.UID}}},
			Data: map[string]string{"report.csv": b.String()}}
		err := r.Client.Create(ctx, cm)
		if apierrors.IsAlreadyExists(err) {
			err = r.Client.Update(ctx, cm)
		}
		if err != nil {
			return ctrl.Result{}, err
		}
		names = append(names, r.Namespace+"/"+name)
		if start+reportChunk >= len(s.objects) {
			break
		}
	}
	var list corev1.ConfigMapList
	if err := r.Reader.List(ctx, &list, client.InNamespace(r.Namespace), client.MatchingLabels{labelSyncPlan: s.sp.Name}); err != nil {
		return ctrl.Result{}, err
	}
	keep := map[string]bool{}
	for _, n := range names {
		keep[n] = true
	}
	for i := range list.Items {
		if cm := &list.Items[i]; !keep[cm.Namespace+"/"+cm.Name] {
			if err := client.IgnoreNotFound(r.Client.Delete(ctx, cm)); err != nil {
				return ctrl.Result{}, err
			}
		}
	}
	s.sp.Status.Report = names
	return ctrl.Result{}, nil
}

// afterAlignment says what sync will do with object i once the
// SignInNameAlignments have renamed, when that differs from now.
func (s *planScope) afterAlignment(i int) string {
	p, ok := s.after[i]
	if !ok {
		return ""
	}
	out := string(p.Outcome)
	if p.CloudID != "" {
		out += " " + p.CloudID
	}
	if by := s.renamedBy[strings.ToLower(s.objects[i].DN)]; by != "" {
		out += " (after SignInNameAlignment " + by + ")"
	} else if p.CloudID != "" && s.renamedBy[strings.ToLower(p.CloudID)] != "" {
		out += " (after SignInNameAlignment " + s.renamedBy[strings.ToLower(p.CloudID)] + ")"
	}
	return out
}

// message is the prediction in a sentence, with what is quarantined.
func message(p syncplan.Prediction) string {
	m := p.Reason
	if p.QuarantinedUPN {
		m += fmt.Sprintf("; its UPN %s is taken and will be quarantined", p.UserPrincipalName)
	}
	if len(p.QuarantinedProxies) > 0 {
		m += fmt.Sprintf("; these addresses are taken and will be dropped: %s", strings.Join(p.QuarantinedProxies, ", "))
	}
	return m
}

func (r *SyncPlanReconciler) finish(_ context.Context, s *planScope) (ctrl.Result, error) {
	if iv := s.sp.Spec.Interval; iv != nil && iv.Duration > 0 {
		return ctrl.Result{RequeueAfter: iv.Duration}, nil
	}
	return ctrl.Result{RequeueAfter: defaultPlanInterval}, nil
}

func (r *SyncPlanReconciler) now() time.Time { return wallOr(r.Now) }

// SetupWithManager watches SyncPlans; their own status writes do not
// trigger a plan.
func (r *SyncPlanReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&identityv1alpha1.SyncPlan{}, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		Named("syncplan").Complete(r)
}
