package controllers

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
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
	"github.com/entramatch/entra-match-operator/internal/directory"
	"github.com/entramatch/entra-match-operator/internal/pairing"
	"github.com/entramatch/entra-match-operator/internal/syncplan"
)

// UserMatchSetFinalizer holds a UserMatchSet until its deletion policy has
// run on its UserMatches.
const UserMatchSetFinalizer = "identity.entramatch.io/usermatchset"

// labelUserMatchSet marks the UserMatches a set owns.
const labelUserMatchSet = "identity.entramatch.io/usermatchset"

// inFlightRecheck is how soon a set looks again while its UserMatches are
// at work, should no UserMatch of its finish writing before then.
const inFlightRecheck = 30 * time.Second

// topUpDelay gathers the UserMatches of a set that finish writing within it
// into one pass that starts their successors.
const topUpDelay = time.Second

// UserMatchSetReconciler pairs a scope of AD users with their cloud users
// (internal/pairing decides) and creates a UserMatch for every pair that
// needs a hard match, at most spec.maxInFlight at work at once.
type UserMatchSetReconciler struct {
	Client       client.Client
	APIReader    client.Reader
	Cloud        cloud.Factory
	Directory    directory.Factory
	Recorder     events.EventRecorder
	Now          func() time.Time
	ResyncPeriod time.Duration

	// decided keeps each set's last pairing for the passes that follow.
	decided setPairs
	// members finds a set's UserMatches; SetupWithManager reads them
	// through the informer's index, without copies.
	members setMembers
}

// setPairs is the last pairing of each set, with the generation and
// annotations it was decided for.
type setPairs struct {
	mu sync.Mutex
	by map[types.UID]decidedPairs
}

type decidedPairs struct {
	generation  int64
	annotations string
	at          time.Time
	pairs       []setPair
}

// setPair is what a set keeps of one pairing decision: what creating the
// UserMatch and counting need. Not the pairing.Pair itself: its cloud user
// points into the tenant read for the pass, so keeping it for a resync
// period would keep every AD and cloud user read alongside.
type setPair struct {
	adGUID string
	// key is ownedKey(adGUID), kept: every pass looks each pair up by it.
	key      string
	adDN     string
	cloudID  string // empty when no single cloud user pairs
	cloudUPN string
	outcome  pairing.Outcome
	// message is kept for Ambiguous pairs only: status.attention lists them.
	message string
}

func (p setPair) paired() bool { return p.cloudID != "" }

// ownedKey is how a set finds the UserMatch of an AD user: by its
// objectGUID in lower case.
func ownedKey(objectGUID string) string { return strings.ToLower(objectGUID) }

// keepPairs makes the setPairs of pairs: it keeps their strings, not the
// users and cloud objects they came from.
func keepPairs(pairs []pairing.Pair) []setPair {
	out := make([]setPair, len(pairs))
	for i, p := range pairs {
		k := setPair{adGUID: p.AD.GUID, key: ownedKey(p.AD.GUID), adDN: p.AD.DN, outcome: p.Outcome}
		if p.Cloud != nil {
			k.cloudID, k.cloudUPN = p.Cloud.ID, p.Cloud.UserPrincipalName
		}
		if p.Outcome == pairing.Ambiguous {
			k.message = p.Message
		}
		out[i] = k
	}
	return out
}

// get returns the pairs decided for this generation and these
// annotations less than maxAge ago.
func (d *setPairs) get(set *identityv1alpha1.UserMatchSet, now time.Time, maxAge time.Duration) ([]setPair, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	p, ok := d.by[set.UID]
	if !ok || p.generation != set.Generation || p.annotations != fmt.Sprint(set.Annotations) || now.Sub(p.at) >= maxAge {
		return nil, false
	}
	return p.pairs, true
}

func (d *setPairs) put(set *identityv1alpha1.UserMatchSet, pairs []setPair, now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.by == nil {
		d.by = map[types.UID]decidedPairs{}
	}
	d.by[set.UID] = decidedPairs{generation: set.Generation, annotations: fmt.Sprint(set.Annotations), at: now, pairs: pairs}
}

func (d *setPairs) forget(uid types.UID) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.by, uid)
}

// +kubebuilder:rbac:groups=identity.entramatch.io,resources=usermatchsets,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=identity.entramatch.io,resources=usermatchsets/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=identity.entramatch.io,resources=usermatchsets/finalizers,verbs=update
// +kubebuilder:rbac:groups=identity.entramatch.io,resources=usermatches,verbs=create;delete

// Reconcile pairs, decides and creates UserMatches within the rollout bounds.
func (r *UserMatchSetReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	return skeleton[*identityv1alpha1.UserMatchSet, *setScope]{
		client:    r.Client,
		finalizer: UserMatchSetFinalizer,
		finalize:  r.finalize,
		scope:     func(set *identityv1alpha1.UserMatchSet, p pass) *setScope { return &setScope{pass: p, set: set} },
		// Between two full reads of the scope and the tenant (one resync
		// period), a pass reuses the pairs decided last and only counts the
		// set's UserMatches and starts the next ones. The UserMatches are
		// looked at after the decision, which lets the users and the
		// tenant go first: the two are never held at once.
		phases: []phase[*setScope]{r.observeReferences, r.recall, r.unlessRecalled(r.observeDirectory), r.unlessRecalled(r.observeTenant),
			r.unlessRecalled(r.observePairs), r.unlessRecalled(r.decide), r.observeOwned, r.create, r.finish},
		status:     r.status,
		conditions: func(set *identityv1alpha1.UserMatchSet) []metav1.Condition { return set.Status.Conditions },
		announce: func(set *identityv1alpha1.UserMatchSet, before []metav1.Condition) {
			announce(r.Recorder, set, before, set.Status.Conditions, readyTransition)
		},
		observed: func(set *identityv1alpha1.UserMatchSet) { set.Status.ObservedGeneration = set.Generation },
	}.reconcile(ctx, req, &identityv1alpha1.UserMatchSet{})
}

// setScope is what one pass read and decided.
type setScope struct {
	pass
	set    *identityv1alpha1.UserMatchSet
	tenant *identityv1alpha1.EntraTenant
	ad     *identityv1alpha1.ActiveDirectory
	users  []pairing.ADUser
	pairs  []setPair
	owned  map[string]*identityv1alpha1.UserMatch // by AD objectGUID
	cloud  syncplan.Tenant
	// cloudAttrs are the cloud users' properties attribute rules read.
	cloudAttrs map[string]map[string]string
	// explicit are the pairs of spec.pairs.
	explicit map[string]string
	// created counts the UserMatches created on this pass; createdFirst
	// names the first few, for the pass's Event.
	created      int
	createdFirst []string
	decided      bool
	// recalled: the pairs are those an earlier pass decided.
	recalled bool
}

// recall reuses the pairs an earlier pass decided for the same generation
// less than a resync period ago. Acting on pairs read up to one period
// earlier is safe: each UserMatch reads its AD user and cloud user again,
// and checks them, before it writes anything.
func (r *UserMatchSetReconciler) recall(_ context.Context, s *setScope) (ctrl.Result, error) {
	if pairs, ok := r.decided.get(s.set, r.now(), r.ResyncPeriod); ok {
		s.pairs, s.decided, s.recalled = pairs, true, true
	}
	return ctrl.Result{}, nil
}

// unlessRecalled skips a read or decision the recalled pairs stand for.
func (r *UserMatchSetReconciler) unlessRecalled(p phase[*setScope]) phase[*setScope] {
	return func(ctx context.Context, s *setScope) (ctrl.Result, error) {
		if s.recalled {
			return ctrl.Result{}, nil
		}
		return p(ctx, s)
	}
}

func (r *UserMatchSetReconciler) observeReferences(ctx context.Context, s *setScope) (ctrl.Result, error) {
	return observeReferences(ctx, r.Client, &s.pass, r.ResyncPeriod, s.set.Spec.TenantRef.Name, s.set.Spec.DirectoryRef.Name, &s.tenant, &s.ad)
}

// observeDirectory reads the users in scope and the anchor sync will
// export for each.
func (r *UserMatchSetReconciler) observeDirectory(ctx context.Context, s *setScope) (ctrl.Result, error) {
	cfg, err := directoryConfig(ctx, r.APIReader, s.ad)
	var d directory.Service
	if err == nil {
		d, err = r.Directory.Directory(ctx, cfg)
	}
	var base, filter string
	if sc := s.set.Spec.Scope; sc != nil {
		base, filter = sc.BaseDN, sc.Filter
	}
	var extra []string
	for _, p := range s.set.Spec.Pairing {
		if p.Attribute != nil {
			extra = append(extra, p.Attribute.AD)
		}
	}
	var users []directory.User
	if err == nil {
		users, err = d.UsersInScope(ctx, base, filter, extra...)
	}
	if err != nil {
		return s.fail(classifyScope(err), r.ResyncPeriod)
	}
	for _, u := range users {
		au := pairing.ADUser{DN: u.DN, GUID: u.ObjectGUID.GUID(), UPN: u.UserPrincipalName, Mail: u.Mail, ProxyAddresses: u.ProxyAddresses,
			Attributes: u.Attributes}
		if a, _, err := readAnchor(s.ad, u); err == nil {
			au.Anchor = a.ImmutableID()
		} else {
			au.Anchor = u.ObjectGUID.ImmutableID()
		}
		s.users = append(s.users, au)
	}
	return ctrl.Result{}, nil
}

func (r *UserMatchSetReconciler) observeTenant(ctx context.Context, s *setScope) (ctrl.Result, error) {
	props, sel := pairingReads(s.set.Spec.Pairing)
	t, raw, err := loadPlanTenant(ctx, r.Cloud, r.APIReader, r.Client, r.now, s.tenant, false, sel...)
	if err != nil {
		return s.fail(classifyCloud(err), r.ResyncPeriod)
	}
	s.cloud = t
	s.cloudAttrs = map[string]map[string]string{}
	for _, u := range raw.users {
		for _, p := range props {
			if v := u.PairingValue(p); v != "" {
				if s.cloudAttrs[u.ID] == nil {
					s.cloudAttrs[u.ID] = map[string]string{}
				}
				s.cloudAttrs[u.ID][p] = v
			}
		}
	}
	return ctrl.Result{}, nil
}

// pairingReads names the cloud properties the attribute rules compare and
// the Graph properties to select for them. Only those are selected: the
// others would make every page of a large tenant heavier for nothing.
func pairingReads(rules []identityv1alpha1.PairingRule) (props, selects []string) {
	for _, p := range rules {
		if p.Attribute == nil {
			continue
		}
		g, ok := cloud.PairingSelect(string(p.Attribute.Cloud))
		if !ok { // admission allows only cloud.PairingProperties (a test keeps them equal)
			continue
		}
		props = append(props, string(p.Attribute.Cloud))
		if !slices.Contains(selects, g) {
			selects = append(selects, g)
		}
	}
	return props, selects
}

// observePairs reads the explicit pairs of spec.pairs, if any.
func (r *UserMatchSetReconciler) observePairs(ctx context.Context, s *setScope) (ctrl.Result, error) {
	ref := s.set.Spec.Pairs
	if ref == nil {
		return ctrl.Result{}, nil
	}
	var cm corev1.ConfigMap
	if err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: ref.Namespace, Name: ref.Name}, &cm); err != nil {
		o := classifyCloud(err)
		if apierrors.IsNotFound(err) {
			o = outcome{reason: identityv1alpha1.ReasonPairsInvalid, message: fmt.Sprintf("ConfigMap %s/%s does not exist", ref.Namespace, ref.Name)}
		}
		return s.fail(o, r.ResyncPeriod)
	}
	key := ref.Key
	if key == "" {
		key = "pairs.csv"
	}
	pairs, err := parsePairs(cm.Data[key])
	if err != nil {
		return s.fail(outcome{reason: identityv1alpha1.ReasonPairsInvalid, message: fmt.Sprintf("ConfigMap %s/%s key %s: %v", ref.Namespace, ref.Name, key, err)}, r.ResyncPeriod)
	}
	s.explicit = pairs
	return ctrl.Result{}, nil
}

// parsePairs reads "adUser,cloudUser" lines (a header line is allowed,
// blank lines and lines starting with # are skipped).
func parsePairs(data string) (map[string]string, error) {
	rd := csv.NewReader(strings.NewReader(data))
	rd.Comment, rd.FieldsPerRecord, rd.TrimLeadingSpace = '#', 2, true
	rows, err := rd.ReadAll()
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(rows))
	for i, row := range rows {
		ad, c := strings.ToLower(strings.TrimSpace(row[0])), strings.ToLower(strings.TrimSpace(row[1]))
		if i == 0 && ad == "aduser" {
			continue
		}
		if ad == "" || c == "" {
			return nil, fmt.Errorf("line %d: both columns are needed", i+1)
		}
		if prev, dup := out[ad]; dup && prev != c {
			return nil, fmt.Errorf("line %d: %s is paired twice (%s and %s)", i+1, row[0], prev, c)
		}
		out[ad] = c
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no pairs")
	}
	return out, nil
}

// decide pairs the users and decides what each needs (internal/pairing).
func (r *UserMatchSetReconciler) decide(_ context.Context, s *setScope) (ctrl.Result, error) {
	rules := make([]pairing.Rule, 0, len(s.set.Spec.Pairing)+1)
	if s.explicit != nil {
		rules = append(rules, pairing.Rule{Explicit: s.explicit})
	}
	for _, p := range s.set.Spec.Pairing {
		switch {
		case p.SameUPN != nil:
			rules = append(rules, pairing.Rule{SameUPN: true})
		case p.UPNSuffix != nil:
			rules = append(rules, pairing.Rule{SuffixFrom: p.UPNSuffix.From, SuffixTo: p.UPNSuffix.To})
		case p.Mail != nil:
			rules = append(rules, pairing.Rule{Mail: true})
		case p.Attribute != nil:
			rules = append(rules, pairing.Rule{ADAttribute: p.Attribute.AD, CloudAttribute: string(p.Attribute.Cloud)})
		}
	}
	// The users and the tenant read for the decision are let go before
	// the pass creates anything: at 10,000 pairs they are several MB.
	s.pairs = keepPairs(pairing.Decide(s.users, s.cloud, rules, s.cloudAttrs))
	s.users, s.cloud, s.cloudAttrs = nil, syncplan.Tenant{}, nil
	s.decided = true
	r.decided.put(s.set, s.pairs, r.now())
	return ctrl.Result{}, nil
}

// observeOwned finds the set's UserMatches. They are the cache's own
// objects: a pass only reads them.
func (r *UserMatchSetReconciler) observeOwned(ctx context.Context, s *setScope) (ctrl.Result, error) {
	m := r.members
	if m.client == nil {
		m.client = r.Client
	}
	owned, err := m.of(ctx, s.set)
	if err != nil {
		return ctrl.Result{}, err
	}
	s.owned = owned
	return ctrl.Result{}, nil
}

// create makes the UserMatches the pairs need, in Enforce and unpaused,
// while fewer than spec.maxInFlight of the set's are at work.
func (r *UserMatchSetReconciler) create(ctx context.Context, s *setScope) (ctrl.Result, error) {
	spec := s.set.Spec
	if spec.Mode != identityv1alpha1.ModeEnforce || spec.Paused {
		return ctrl.Result{}, nil
	}
	limit := int(spec.MaxInFlight)
	if limit <= 0 {
		limit = 10
	}
	busy := inFlight(s.owned)
	for _, p := range s.pairs {
		if p.outcome != pairing.NeedsUserMatch || s.owned[p.key] != nil {
			continue
		}
		if busy >= limit {
			break
		}
		um := r.userMatchFor(s.set, p)
		if err := r.Client.Create(ctx, um); err != nil {
			if !apierrors.IsAlreadyExists(err) {
				return ctrl.Result{}, fmt.Errorf("creating UserMatch %s for %s: %w", um.Name, p.adDN, err)
			}
			// The cache the pass listed from had not seen a UserMatch an
			// earlier pass created (the name is the pair's): it is at work.
			// One the set does not control is reported, never adopted.
			var existing identityv1alpha1.UserMatch
			if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(um), &existing); err != nil {
				return ctrl.Result{}, fmt.Errorf("reading UserMatch %s for %s: %w", um.Name, p.adDN, err)
			}
			if !metav1.IsControlledBy(&existing, s.set) {
				return ctrl.Result{}, fmt.Errorf("UserMatch %s for %s exists and is not this set's: rename or delete it", um.Name, p.adDN)
			}
			s.owned[p.key] = &existing
			if atWork(&existing) {
				busy++
			}
			continue
		}
		s.log.Info("created a UserMatch", "userMatch", um.Name, "adUser", p.adDN, "cloudUser", p.cloudUPN)
		s.owned[p.key] = um
		busy++
		s.created++
		if len(s.createdFirst) < 3 {
			s.createdFirst = append(s.createdFirst, fmt.Sprintf("%s (%s -> %s)", um.Name, p.adDN, p.cloudUPN))
		}
	}
	// One Event per pass, not per UserMatch: a rollout of thousands would
	// otherwise bury the set's other Events (each UserMatch has its own).
	if s.created > 0 {
		more := ""
		if s.created > len(s.createdFirst) {
			more = fmt.Sprintf(" and %d more", s.created-len(s.createdFirst))
		}
		emit(r.Recorder, s.set, corev1.EventTypeNormal, identityv1alpha1.EventUserMatchCreated, "CreateUserMatch",
			fmt.Sprintf("created %d UserMatches: %s%s", s.created, strings.Join(s.createdFirst, ", "), more))
	}
	return ctrl.Result{}, nil
}

// userMatchFor builds the UserMatch of a pair: named after the set and the
// AD user's objectGUID (stable across renames), owned by the set.
func (r *UserMatchSetReconciler) userMatchFor(set *identityv1alpha1.UserMatchSet, p setPair) *identityv1alpha1.UserMatch {
	sum := sha256.Sum256([]byte(p.key))
	prefix := set.Name
	if len(prefix) > 40 {
		prefix = prefix[:40]
	}
	t := set.Spec.Template
	um := &identityv1alpha1.UserMatch{
		ObjectMeta: metav1.ObjectMeta{Name: strings.TrimRight(prefix, "-.") + "-" + hex.EncodeToString(sum[:6]), Labels: map[string]string{labelUserMatchSet: set.Name},
			// Created with the UserMatch controller's finalizer, which its
			// first pass would otherwise add with a PATCH of its own: one
			// API request of five per pair, at 10,000 pairs.
			Finalizers: []string{UserMatchFinalizer}},
		Spec: identityv1alpha1.UserMatchSpec{TenantRef: set.Spec.TenantRef, DirectoryRef: set.Spec.DirectoryRef,
			ADUser:    identityv1alpha1.ADUserSelector{ObjectGUID: p.adGUID},
			CloudUser: &identityv1alpha1.CloudUserSelector{ObjectID: p.cloudID},
			Mode:      t.Mode, DeletionPolicy: t.DeletionPolicy, PrivilegedRoles: t.PrivilegedRoles, Duplicates: t.Duplicates},
	}
	_ = controllerutil.SetControllerReference(set, um, r.Client.Scheme())
	return um
}

// inFlight counts the UserMatches at work: not yet Matched (the anchor not
// written: the writes, and the role workflow, are still ahead) nor
// Stalled. One that waits only for sync to join is done writing.
func inFlight(owned map[string]*identityv1alpha1.UserMatch) int {
	n := 0
	for _, um := range owned {
		if atWork(um) {
			n++
		}
	}
	return n
}

// atWork says whether a UserMatch of a set still holds one of its
// maxInFlight places.
func atWork(um *identityv1alpha1.UserMatch) bool {
	return !meta.IsStatusConditionTrue(um.Status.Conditions, identityv1alpha1.ConditionMatched) &&
		!meta.IsStatusConditionTrue(um.Status.Conditions, identityv1alpha1.ConditionStalled)
}

// finish comes back soon while UserMatches are at work or wait their turn.
func (r *UserMatchSetReconciler) finish(_ context.Context, s *setScope) (ctrl.Result, error) {
	waiting := false
	for _, p := range s.pairs {
		if p.outcome == pairing.NeedsUserMatch && s.owned[p.key] == nil {
			waiting = true
		}
	}
	if inFlight(s.owned) > 0 || waiting && s.set.Spec.Mode == identityv1alpha1.ModeEnforce && !s.set.Spec.Paused {
		return ctrl.Result{RequeueAfter: min(inFlightRecheck, r.ResyncPeriod)}, nil
	}
	return ctrl.Result{RequeueAfter: r.ResyncPeriod}, nil
}

// finalize applies the deletion policy to the set's UserMatches.
func (r *UserMatchSetReconciler) finalize(ctx context.Context, set *identityv1alpha1.UserMatchSet) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(set, UserMatchSetFinalizer) {
		return ctrl.Result{}, nil
	}
	r.decided.forget(set.UID)
	var list identityv1alpha1.UserMatchList
	if err := r.Client.List(ctx, &list, client.MatchingLabels{labelUserMatchSet: set.Name}); err != nil {
		return ctrl.Result{}, err
	}
	left := 0
	for i := range list.Items {
		um := &list.Items[i]
		if !metav1.IsControlledBy(um, set) {
			continue
		}
		if set.Spec.DeletionPolicy == identityv1alpha1.SetDeletionDelete {
			// Each UserMatch runs its own deletion policy; the set waits.
			left++
			if um.DeletionTimestamp.IsZero() {
				if err := client.IgnoreNotFound(r.Client.Delete(ctx, um)); err != nil {
					return ctrl.Result{}, err
				}
			}
			continue
		}
		patch := client.MergeFrom(um.DeepCopy())
		refs := um.OwnerReferences[:0]
		for _, ref := range um.OwnerReferences {
			if ref.UID != set.UID {
				refs = append(refs, ref)
			}
		}
		um.OwnerReferences = refs
		if err := client.IgnoreNotFound(r.Client.Patch(ctx, um, patch)); err != nil {
			return ctrl.Result{}, err
		}
	}
	if left > 0 {
		return ctrl.Result{RequeueAfter: time.Second}, nil
	}
	return ctrl.Result{}, removeFinalizer(ctx, r.Client, set, UserMatchSetFinalizer)
}

func (r *UserMatchSetReconciler) now() time.Time { return wallOr(r.Now) }

// SetupWithManager watches UserMatchSets, and their UserMatches as they
// finish writing: the place each held is given to the next pair within
// topUpDelay, in a pass that reuses the pairs (no read of the scope or the
// tenant), so a burst of UserMatches finishing costs one pass.
func (r *UserMatchSetReconciler) SetupWithManager(mgr ctrl.Manager) error {
	m, err := newSetMembers(context.Background(), mgr.GetCache())
	if err != nil {
		return err
	}
	r.members = m
	return ctrl.NewControllerManagedBy(mgr).
		For(&identityv1alpha1.UserMatchSet{}, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		Watches(&identityv1alpha1.UserMatch{}, setMemberDone()).
		Named("usermatchset").Complete(r)
}

// setMemberDone wakes a set, topUpDelay later, when one of its UserMatches
// stops being at work (inFlight) or goes away.
func setMemberDone() handler.EventHandler {
	enqueue := func(o client.Object, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
		ref := metav1.GetControllerOf(o)
		if ref == nil || ref.Kind != "UserMatchSet" || ref.APIVersion != identityv1alpha1.GroupVersion.String() {
			return
		}
		q.AddAfter(reconcile.Request{NamespacedName: types.NamespacedName{Name: ref.Name}}, topUpDelay)
	}
	return handler.Funcs{
		UpdateFunc: func(_ context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			before, ok1 := e.ObjectOld.(*identityv1alpha1.UserMatch)
			after, ok2 := e.ObjectNew.(*identityv1alpha1.UserMatch)
			if ok1 && ok2 && atWork(before) && !atWork(after) {
				enqueue(e.ObjectNew, q)
			}
		},
		DeleteFunc: func(_ context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(e.Object, q)
		},
	}
}
