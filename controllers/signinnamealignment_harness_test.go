//go:build !unit

package controllers

import (
	"context"
	"encoding/base64"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/emulator"
	"github.com/entramatch/entra-match-operator/internal/fakead"
	"github.com/entramatch/entra-match-operator/internal/graph"
)

// The SignInNameAlignment harness: the real LDAP client writes logon names
// into the embedded directory, the real Graph client renames cloud users in
// the emulator, and the emulated sync then says whether the aligned users
// soft-match. The e2e suite runs the same flow on Samba.

const legacySuffix = "legacy.local"

type snaHarness struct {
	*umHarness
	sna *SignInNameAlignmentReconciler
	now time.Time
	// people are the AD users added, for the sync export.
	people []snaPerson
}

type snaPerson struct {
	dn, sam string
	guid    fakead.GUID
}

func newSNAHarness(t *testing.T) *snaHarness {
	h := &snaHarness{umHarness: newUMHarness(t, func(c *emulator.Config) { c.AppOnlySyncFeatures = true }), now: time.Now()}
	h.sna = &SignInNameAlignmentReconciler{Client: h.k8s, APIReader: h.r.APIReader, Cloud: graph.NewFactory(nil).ForConnection(),
		Directory: h.r.Directory, Recorder: h.rec, ResyncPeriod: time.Minute, Sealer: h.sealer, Now: func() time.Time { return h.now }}
	return h
}

// person adds an AD user on the legacy suffix and, unless cloud is empty, a
// cloud-only user signing in as cloud; it returns the DN and cloud id.
func (h *snaHarness) person(sam, cloud string, mut func(*emulator.User)) (string, string) {
	h.t.Helper()
	dn, guid, err := h.dir.AddUser(fakead.User{SAMAccountName: sam, UserPrincipalName: sam + "@" + legacySuffix})
	if err != nil {
		h.t.Fatal(err)
	}
	h.people = append(h.people, snaPerson{dn: dn, sam: sam, guid: guid})
	if cloud == "" {
		return dn, ""
	}
	u := emulator.User{UserPrincipalName: cloud, DisplayName: sam, MailNickname: sam}
	if mut != nil {
		mut(&u)
	}
	stored, err := h.em.AddUser(u)
	if err != nil {
		h.t.Fatal(err)
	}
	return dn, stored.ID
}

func (h *snaHarness) create(name string, mut func(*identityv1alpha1.SignInNameAlignmentSpec)) {
	h.t.Helper()
	sa := &identityv1alpha1.SignInNameAlignment{ObjectMeta: metav1.ObjectMeta{Name: name, Generation: 1, UID: types.UID("uid-" + name)},
		Spec: identityv1alpha1.SignInNameAlignmentSpec{TenantRef: identityv1alpha1.TenantReference{Name: "contoso"},
			DirectoryRef: identityv1alpha1.DirectoryReference{Name: "corp"}, TargetSuffix: umDomain,
			ADSuffixes: []string{legacySuffix}, CloudSuffixes: []string{umInitial},
			Mode: identityv1alpha1.ModeObserve, WritesPerMinute: 30, DeletionPolicy: identityv1alpha1.AlignmentDeletionKeep}}
	if mut != nil {
		mut(&sa.Spec)
	}
	if err := h.k8s.Create(context.Background(), sa); err != nil {
		h.t.Fatal(err)
	}
}

func (h *snaHarness) edit(name string, mut func(*identityv1alpha1.SignInNameAlignmentSpec)) {
	h.t.Helper()
	sa := h.alignment(name)
	mut(&sa.Spec)
	sa.Generation++
	if err := h.k8s.Update(context.Background(), sa); err != nil {
		h.t.Fatal(err)
	}
}

func (h *snaHarness) pass(name string) ctrl.Result {
	h.t.Helper()
	res, err := h.sna.Reconcile(context.Background(), ctrl.Request{NamespacedName: types.NamespacedName{Name: name}})
	if err != nil {
		h.t.Fatalf("pass: %v", err)
	}
	return res
}

func (h *snaHarness) alignment(name string) *identityv1alpha1.SignInNameAlignment {
	h.t.Helper()
	var sa identityv1alpha1.SignInNameAlignment
	if err := h.k8s.Get(context.Background(), types.NamespacedName{Name: name}, &sa); err != nil {
		h.t.Fatal(err)
	}
	return &sa
}

func (h *snaHarness) adUPN(dn string) string {
	h.t.Helper()
	v, err := h.dir.Attribute(dn, "userPrincipalName")
	if err != nil || len(v) != 1 {
		h.t.Fatalf("AD user %s: %v %q", dn, err, v)
	}
	return string(v[0])
}

func (h *snaHarness) cond(sa *identityv1alpha1.SignInNameAlignment, typ string) metav1.Condition {
	h.t.Helper()
	c := meta.FindStatusCondition(sa.Status.Conditions, typ)
	if c == nil {
		h.t.Fatalf("no %s condition in %+v", typ, sa.Status.Conditions)
	}
	return *c
}

// syncAll exports every AD user to the emulated sync, as Entra Connect's
// first cycle would.
func (h *snaHarness) syncAll() map[string]emulator.SyncResult {
	h.t.Helper()
	req := emulator.SyncRequest{}
	byAnchor := map[string]string{}
	for _, p := range h.people {
		a := base64.StdEncoding.EncodeToString(p.guid[:])
		byAnchor[a] = p.dn
		req.Objects = append(req.Objects, emulator.SyncObject{Type: "user", SourceAnchor: a, UserPrincipalName: h.adUPN(p.dn),
			DisplayName: p.sam, OnPremisesDistinguishedName: p.dn, OnPremisesSamAccountName: p.sam})
	}
	resp, err := h.em.Sync(req)
	if err != nil {
		h.t.Fatal(err)
	}
	out := map[string]emulator.SyncResult{}
	for _, r := range resp.Results {
		out[byAnchor[r.SourceAnchor]] = r
	}
	return out
}

// Observe plans and writes nothing; Enforce renames both sides, after which
// the emulated sync soft-matches each aligned user on its UPN with no
// immutable ID written; undo puts every name back.
func TestSignInNameAlignmentPlansAlignsAndUndoes(t *testing.T) {
	h := newSNAHarness(t)
	jane, janeCloud := h.person("jane", "jane@"+umInitial, nil)
	bob, bobCloud := h.person("bob", "bob@"+umInitial, nil)
	solo, _ := h.person("solo", "", nil)
	h.create("staff", nil)

	h.pass("staff")
	sa := h.alignment("staff")
	if c := h.cond(sa, identityv1alpha1.ConditionAligned); c.Reason != identityv1alpha1.ReasonChangesPlanned {
		t.Fatalf("Observe: Aligned %+v", c)
	}
	if c := h.cond(sa, identityv1alpha1.ConditionReady); c.Status != metav1.ConditionTrue {
		t.Fatalf("Observe: Ready %+v", c)
	}
	if got := sa.Status.Counts; got == nil || got.InScope < 3 || got.Pending != 3 || got.WillSoftMatch != 2 {
		t.Fatalf("counts %+v", got)
	}
	if len(sa.Status.Planned) != 5 || len(sa.Status.Changes) != 0 {
		t.Fatalf("planned %+v, changes %+v", sa.Status.Planned, sa.Status.Changes)
	}
	if h.adUPN(jane) != "jane@"+legacySuffix || h.cloud(janeCloud).UserPrincipalName != "jane@"+umInitial {
		t.Fatal("Observe wrote a name")
	}

	h.edit("staff", func(s *identityv1alpha1.SignInNameAlignmentSpec) { s.Mode = identityv1alpha1.ModeEnforce })
	h.pass("staff")
	sa = h.alignment("staff")
	for dn, id := range map[string]string{jane: janeCloud, bob: bobCloud} {
		name := strings.SplitN(h.adUPN(dn), "@", 2)[0] + "@" + umDomain
		if h.adUPN(dn) != name || h.cloud(id).UserPrincipalName != name {
			t.Fatalf("%s: AD %s, cloud %s, want %s on both", dn, h.adUPN(dn), h.cloud(id).UserPrincipalName, name)
		}
	}
	if h.adUPN(solo) != "solo@"+umDomain {
		t.Fatalf("solo: %s", h.adUPN(solo))
	}
	if len(sa.Status.Changes) != 5 {
		t.Fatalf("changes %+v", sa.Status.Changes)
	}
	for _, c := range sa.Status.Changes {
		if !c.Applied || c.Seal == "" {
			t.Fatalf("record %+v", c)
		}
	}
	h.pass("staff")
	sa = h.alignment("staff")
	if c := h.cond(sa, identityv1alpha1.ConditionAligned); c.Status != metav1.ConditionTrue || c.Reason != identityv1alpha1.ReasonAllAligned {
		t.Fatalf("after Enforce: Aligned %+v", c)
	}
	if n := strings.Count(strings.Join(h.events(), "\n"), identityv1alpha1.EventSignInNameChanged); n != 5 {
		t.Fatalf("%d SignInNameChanged events, want one per write (5)", n)
	}

	// Undo first, on a copy of the world: the same names go back.
	h.edit("staff", func(s *identityv1alpha1.SignInNameAlignmentSpec) { s.Undo = true })
	h.pass("staff")
	sa = h.alignment("staff")
	if h.adUPN(jane) != "jane@"+legacySuffix || h.cloud(janeCloud).UserPrincipalName != "jane@"+umInitial ||
		h.adUPN(bob) != "bob@"+legacySuffix || h.cloud(bobCloud).UserPrincipalName != "bob@"+umInitial || h.adUPN(solo) != "solo@"+legacySuffix {
		t.Fatalf("undo left AD %s/%s/%s cloud %s/%s", h.adUPN(jane), h.adUPN(bob), h.adUPN(solo), h.cloud(janeCloud).UserPrincipalName, h.cloud(bobCloud).UserPrincipalName)
	}
	if c := h.cond(sa, identityv1alpha1.ConditionReady); c.Reason != identityv1alpha1.ReasonRestored || len(sa.Status.Changes) != 0 {
		t.Fatalf("after undo: Ready %+v, changes %+v", c, sa.Status.Changes)
	}

	// Align again, then let sync run: every aligned pair soft-matches on
	// UPN, and the one without a counterpart is created.
	h.edit("staff", func(s *identityv1alpha1.SignInNameAlignmentSpec) { s.Undo = false })
	h.now = h.now.Add(2 * time.Minute)
	h.pass("staff")
	results := h.syncAll()
	for dn, id := range map[string]string{jane: janeCloud, bob: bobCloud} {
		if r := results[dn]; r.Outcome != emulator.OutcomeSoftMatchUPN || r.ObjectID != id {
			t.Fatalf("%s: sync %+v, want a soft match on UPN to %s", dn, r, id)
		}
	}
	if r := results[solo]; r.Outcome != emulator.OutcomeCreated {
		t.Fatalf("solo: sync %+v, want created", r)
	}
}

func TestSignInNameAlignmentRefusals(t *testing.T) {
	h := newSNAHarness(t)
	taken, _ := h.person("taken", "", nil)
	if _, _, err := h.dir.AddUser(fakead.User{SAMAccountName: "holder", UserPrincipalName: "taken@" + umDomain}); err != nil {
		t.Fatal(err)
	}
	admin, adminCloud := h.person("admin", "admin@"+umInitial, nil)
	h.grantGlobalAdmin(adminCloud)
	synced, syncedCloud := h.person("synced", "synced@"+umInitial, func(u *emulator.User) {
		id := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef"))
		u.OnPremisesImmutableID = &id
	})
	h.create("staff", func(s *identityv1alpha1.SignInNameAlignmentSpec) { s.Mode = identityv1alpha1.ModeEnforce })
	h.pass("staff")
	sa := h.alignment("staff")
	got := map[string]string{}
	for _, r := range sa.Status.Refusals {
		got[r.User] = r.Reason
	}
	for dn, reason := range map[string]string{taken: identityv1alpha1.ReasonNameTakenInForest, admin: identityv1alpha1.ReasonCloudUserHasRoles,
		synced: identityv1alpha1.ReasonCloudUserSynced} {
		if got[dn] != reason {
			t.Fatalf("%s: refusal %q, want %s (all: %+v)", dn, got[dn], reason, sa.Status.Refusals)
		}
		if !strings.HasSuffix(h.adUPN(dn), legacySuffix) {
			t.Fatalf("%s was renamed despite the refusal", dn)
		}
	}
	if h.cloud(adminCloud).UserPrincipalName != "admin@"+umInitial || h.cloud(syncedCloud).UserPrincipalName != "synced@"+umInitial {
		t.Fatal("a refused cloud user was renamed")
	}
	if c := h.cond(sa, identityv1alpha1.ConditionReady); c.Status != metav1.ConditionFalse {
		t.Fatalf("Ready %+v with refusals", c)
	}

	// A target the tenant has not verified stops every write.
	h.edit("staff", func(s *identityv1alpha1.SignInNameAlignmentSpec) { s.TargetSuffix = "fabrikam.example" })
	h.pass("staff")
	sa = h.alignment("staff")
	if c := h.cond(sa, identityv1alpha1.ConditionStalled); c.Reason != identityv1alpha1.ReasonTargetSuffixNotVerified {
		t.Fatalf("Stalled %+v", c)
	}

	// A scope outside the directory is refused before any search.
	h.edit("staff", func(s *identityv1alpha1.SignInNameAlignmentSpec) {
		s.TargetSuffix = umDomain
		s.Scope = &identityv1alpha1.UserScope{BaseDN: "DC=elsewhere,DC=test"}
	})
	h.pass("staff")
	if c := h.cond(h.alignment("staff"), identityv1alpha1.ConditionReady); c.Reason != identityv1alpha1.ReasonScopeOutsideDirectory {
		t.Fatalf("Ready %+v", c)
	}
	h.edit("staff", func(s *identityv1alpha1.SignInNameAlignmentSpec) {
		s.Scope = &identityv1alpha1.UserScope{Filter: "(department=Sales"}
	})
	h.pass("staff")
	if c := h.cond(h.alignment("staff"), identityv1alpha1.ConditionReady); c.Reason != identityv1alpha1.ReasonInvalidScopeFilter {
		t.Fatalf("Ready %+v", c)
	}

	// Soft matching blocked in the tenant: nothing is written.
	if err := h.em.Update(func(s *emulator.Snapshot) error { s.Sync.Features.BlockSoftMatchEnabled = true; return nil }); err != nil {
		t.Fatal(err)
	}
	free, _ := h.person("free", "", nil)
	h.edit("staff", func(s *identityv1alpha1.SignInNameAlignmentSpec) { s.Scope = nil })
	h.pass("staff")
	if c := h.cond(h.alignment("staff"), identityv1alpha1.ConditionReady); c.Reason != identityv1alpha1.ReasonSoftMatchBlocked {
		t.Fatalf("Ready %+v", c)
	}
	if h.adUPN(free) != "free@"+legacySuffix {
		t.Fatal("wrote while soft matching is blocked")
	}
}

// Writes are spread over minutes at spec.writesPerMinute, and a record
// that does not carry the operator's seal is never undone.
func TestSignInNameAlignmentRateAndSeal(t *testing.T) {
	h := newSNAHarness(t)
	var dns []string
	for _, sam := range []string{"u1", "u2", "u3"} {
		dn, _ := h.person(sam, "", nil)
		dns = append(dns, dn)
	}
	h.create("staff", func(s *identityv1alpha1.SignInNameAlignmentSpec) {
		s.Mode, s.WritesPerMinute = identityv1alpha1.ModeEnforce, 2
	})
	res := h.pass("staff")
	renamed := func() int {
		n := 0
		for _, dn := range dns {
			if strings.HasSuffix(h.adUPN(dn), umDomain) {
				n++
			}
		}
		return n
	}
	if renamed() != 2 || res.RequeueAfter <= 0 || res.RequeueAfter > time.Minute {
		t.Fatalf("first minute: %d renamed, requeue %v", renamed(), res.RequeueAfter)
	}
	h.pass("staff")
	if renamed() != 2 {
		t.Fatal("a second pass in the same minute wrote more")
	}
	h.now = h.now.Add(61 * time.Second)
	h.pass("staff")
	if renamed() != 3 {
		t.Fatalf("next minute: %d renamed", renamed())
	}

	// Forge a record: someone with status access claims u1 was "renamed"
	// from a name of their choosing.
	sa := h.alignment("staff")
	sa.Status.Changes = append(sa.Status.Changes, identityv1alpha1.NameChange{Side: identityv1alpha1.SideActiveDirectory,
		Object: dns[0], From: "attacker@" + umDomain, To: h.adUPN(dns[0]), Applied: true, Seal: "v1:forged"})
	if err := h.k8s.Status().Update(context.Background(), sa); err != nil {
		t.Fatal(err)
	}
	h.edit("staff", func(s *identityv1alpha1.SignInNameAlignmentSpec) { s.Undo = true })
	h.now = h.now.Add(61 * time.Second)
	h.pass("staff")
	h.now = h.now.Add(61 * time.Second)
	h.pass("staff")
	for _, dn := range dns {
		if strings.HasPrefix(h.adUPN(dn), "attacker") || !strings.HasSuffix(h.adUPN(dn), legacySuffix) {
			t.Fatalf("%s is %s after undo", dn, h.adUPN(dn))
		}
	}
	if !strings.Contains(strings.Join(h.events(), "\n"), "does not carry the operator's seal") {
		t.Fatal("the forged record was dropped silently")
	}
}

// Deleting with deletionPolicy Restore puts the names back before the
// finalizer goes.
func TestSignInNameAlignmentDeletionRestores(t *testing.T) {
	h := newSNAHarness(t)
	jane, janeCloud := h.person("jane", "jane@"+umInitial, nil)
	h.create("staff", func(s *identityv1alpha1.SignInNameAlignmentSpec) {
		s.Mode, s.DeletionPolicy = identityv1alpha1.ModeEnforce, identityv1alpha1.AlignmentDeletionRestore
	})
	h.pass("staff")
	if h.adUPN(jane) != "jane@"+umDomain || h.cloud(janeCloud).UserPrincipalName != "jane@"+umDomain {
		t.Fatal("not aligned")
	}
	if err := h.k8s.Delete(context.Background(), h.alignment("staff")); err != nil {
		t.Fatal(err)
	}
	h.now = h.now.Add(2 * time.Minute)
	h.pass("staff")
	if h.adUPN(jane) != "jane@"+legacySuffix || h.cloud(janeCloud).UserPrincipalName != "jane@"+umInitial {
		t.Fatalf("after deletion: AD %s, cloud %s", h.adUPN(jane), h.cloud(janeCloud).UserPrincipalName)
	}
	var sa identityv1alpha1.SignInNameAlignment
	if err := h.k8s.Get(context.Background(), types.NamespacedName{Name: "staff"}, &sa); err == nil {
		t.Fatalf("still there with finalizers %v", sa.Finalizers)
	}
}

// A SyncPlan of the same tenant and directory shows what the alignment
// will change: before it writes, the users it renames will soft-match only
// "after alignment"; once it has, the plan predicts the match itself.
func TestSyncPlanShowsTheAlignment(t *testing.T) {
	h := newSNAHarness(t)
	jane, janeCloud := h.person("jane", "jane@"+umInitial, nil)
	h.person("solo", "", nil)
	h.create("staff", nil)
	h.pass("staff")
	plans := &SyncPlanReconciler{Client: h.k8s, APIReader: h.r.APIReader, Reader: h.k8s, Cloud: h.sna.Cloud,
		Directory: h.r.Directory, Recorder: h.rec, Namespace: umNamespace, ResyncPeriod: time.Minute}
	sp := &identityv1alpha1.SyncPlan{ObjectMeta: metav1.ObjectMeta{Name: "plan", Generation: 1, UID: "uid-plan"},
		Spec: identityv1alpha1.SyncPlanSpec{TenantRef: identityv1alpha1.TenantReference{Name: "contoso"}, DirectoryRef: identityv1alpha1.DirectoryReference{Name: "corp"},
			Scope: &identityv1alpha1.PlanScope{Kinds: []identityv1alpha1.ObjectKind{identityv1alpha1.ObjectUser}}}}
	if err := h.k8s.Create(context.Background(), sp); err != nil {
		t.Fatal(err)
	}
	plan := func() (*identityv1alpha1.SyncPlan, map[string][]string) {
		t.Helper()
		if _, err := plans.Reconcile(context.Background(), ctrl.Request{NamespacedName: types.NamespacedName{Name: "plan"}}); err != nil {
			t.Fatal(err)
		}
		var got identityv1alpha1.SyncPlan
		if err := h.k8s.Get(context.Background(), types.NamespacedName{Name: "plan"}, &got); err != nil {
			t.Fatal(err)
		}
		rows := map[string][]string{}
		for _, ref := range got.Status.Report {
			var cm corev1.ConfigMap
			ns, n, _ := strings.Cut(ref, "/")
			if err := h.k8s.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: n}, &cm); err != nil {
				t.Fatal(err)
			}
			lines, err := csv.NewReader(strings.NewReader(cm.Data["report.csv"])).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range lines[1:] {
				rows[strings.ToLower(l[0])] = l
			}
		}
		return &got, rows
	}
	got, rows := plan()
	row := rows[strings.ToLower(jane)]
	if row == nil || row[2] != "Created" || !strings.HasPrefix(row[7], "SoftMatchUPN "+janeCloud) || !strings.Contains(row[7], "staff") {
		t.Fatalf("before the alignment: %v\n%+v\n%v", row, got.Status, rows)
	}
	if got.Status.SoftMatchAfterAlignment != 1 {
		t.Fatalf("softMatchAfterAlignment %d", got.Status.SoftMatchAfterAlignment)
	}

	h.edit("staff", func(s *identityv1alpha1.SignInNameAlignmentSpec) { s.Mode = identityv1alpha1.ModeEnforce })
	h.pass("staff")
	got, rows = plan()
	if row := rows[strings.ToLower(jane)]; row == nil || row[2] != "SoftMatchUPN" || row[4] != janeCloud || row[7] != "" {
		t.Fatalf("after the alignment: %v", row)
	}
	if got.Status.SoftMatchAfterAlignment != 0 {
		t.Fatalf("softMatchAfterAlignment %d after the renames", got.Status.SoftMatchAfterAlignment)
	}
}
