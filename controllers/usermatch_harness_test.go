package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/event"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/anchor"
	"github.com/entramatch/entra-match-operator/internal/emulator"
	"github.com/entramatch/entra-match-operator/internal/emulator/faults"
	"github.com/entramatch/entra-match-operator/internal/fakead"
	"github.com/entramatch/entra-match-operator/internal/graph"
	"github.com/entramatch/entra-match-operator/internal/seal"
)

// The UserMatch harness runs the reconciler in-process against the real
// Graph client talking to the emulator over HTTPS and the real LDAP client
// talking to the embedded directory over LDAPS, with a fake API server: a
// rule change is tested in seconds. The e2e suite runs the same flows on
// Samba with the manager as its own process.

const (
	umNamespace    = "entra-match-system"
	umTenantID     = "5b1f2a3c-4d5e-4f60-8a7b-9c0d1e2f3a4b"
	umClientID     = "0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5"
	umDomain       = "corp.example.test"
	umInitial      = "contosotest.onmicrosoft.com"
	roleGlobalAdmn = "62e90394-69f5-4237-9190-012177145e10"
)

type umHarness struct {
	t   testing.TB
	k8s client.Client
	em  *emulator.Server
	dir *fakead.Server
	rec *events.FakeRecorder
	r   *UserMatchReconciler
	ad  *ActiveDirectoryReconciler
	// sealer is the one the harness's reconcilers seal records with.
	sealer *seal.Sealer
}

func newUMHarness(t testing.TB, tune ...func(*emulator.Config)) *umHarness {
	t.Helper()
	adminPass := "Harness-" + strings.Repeat("x", 8) + "9a"
	dir, err := fakead.New(fakead.Config{Domain: umDomain, AdminPassword: adminPass})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dir.Close)
	if err := dir.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	secret := "harness-client-secret"
	cfg := emulator.Config{
		TenantID: umTenantID, InitialDomain: umInitial, OwnAudienceOnly: true,
		Apps: []emulator.App{{ClientID: umClientID, Secret: secret, Permissions: []string{
			"User.ReadWrite.All", "Domain.Read.All", "Organization.Read.All",
			"RoleManagement.ReadWrite.Directory", "OnPremDirectorySynchronization.ReadWrite.All",
		}}},
		State: &emulator.Snapshot{
			Organization: emulator.Organization{DisplayName: "Contoso"},
			Domains: []emulator.Domain{
				{ID: umInitial, IsInitial: true, IsVerified: true, AuthenticationType: "Managed"},
				{ID: umDomain, IsDefault: true, IsVerified: true, AuthenticationType: "Managed"},
			},
		},
	}
	for _, f := range tune {
		f(&cfg)
	}
	em, err := emulator.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := em.Start("127.0.0.1:0", t.TempDir()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = em.Close() })

	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, coordinationv1.AddToScheme, identityv1alpha1.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	tenant := &identityv1alpha1.EntraTenant{
		ObjectMeta: metav1.ObjectMeta{Name: "contoso"},
		Spec: identityv1alpha1.EntraTenantSpec{TenantID: umTenantID, Cloud: identityv1alpha1.CloudCustom,
			Custom: &identityv1alpha1.CustomCloud{GraphURL: em.URL(), AuthorityURL: em.URL(), CABundle: string(em.CACertPEM())},
			Credentials: identityv1alpha1.TenantCredentials{ClientSecret: &identityv1alpha1.ClientSecretCredential{ClientID: umClientID,
				SecretRef: identityv1alpha1.SecretKeyReference{Name: "entra-app", Namespace: umNamespace, Key: "clientSecret"}}}},
		Status: identityv1alpha1.EntraTenantStatus{VerifiedDomains: []identityv1alpha1.VerifiedDomain{
			{Name: umDomain, IsDefault: true}, {Name: umInitial, IsInitial: true}}},
	}
	ad := &identityv1alpha1.ActiveDirectory{
		ObjectMeta: metav1.ObjectMeta{Name: "corp"},
		Spec: identityv1alpha1.ActiveDirectorySpec{URLs: []string{dir.URL()}, BaseDN: dir.BaseDN(),
			Bind: identityv1alpha1.LDAPBind{DN: dir.AdminDN(),
				PasswordSecretRef: identityv1alpha1.SecretKeyReference{Name: "ad-bind", Namespace: umNamespace, Key: "password"}},
			TLS: &identityv1alpha1.LDAPTLS{Mode: identityv1alpha1.TLSModeLDAPS, CABundle: string(dir.CAPEM())}},
	}
	builder := fake.NewClientBuilder().WithScheme(scheme).
		WithObjects(
			&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "entra-app", Namespace: umNamespace}, Data: map[string][]byte{"clientSecret": []byte(secret)}},
			&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "ad-bind", Namespace: umNamespace}, Data: map[string][]byte{"password": []byte(adminPass)}},
			tenant, ad).
		WithStatusSubresource(&identityv1alpha1.UserMatch{}, &identityv1alpha1.EntraTenant{}, &identityv1alpha1.ActiveDirectory{},
			&identityv1alpha1.SignInNameAlignment{}, &identityv1alpha1.SyncPlan{}, &identityv1alpha1.UserMatchSet{})
	for field, fn := range userMatchIndexes() {
		builder = builder.WithIndex(&identityv1alpha1.UserMatch{}, field, fn)
	}
	k8s := builder.Build()
	key, err := seal.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := seal.New(key)
	if err != nil {
		t.Fatal(err)
	}
	dirs := NewCachingDirectoryFactory()
	t.Cleanup(dirs.Close)
	secrets := newSecretScope(k8s, []string{umNamespace}, nil)
	h := &umHarness{t: t, k8s: k8s, em: em, dir: dir, rec: events.NewFakeRecorder(200), sealer: sealer}
	h.r = &UserMatchReconciler{Client: k8s, APIReader: secrets, Cloud: graph.NewFactory(nil).ForConnection(), Directory: dirs,
		Recorder: h.rec, ResyncPeriod: time.Minute, Sealer: sealer,
		claims: claims{reader: k8s, writer: k8s, namespace: umNamespace},
		// No sharing between passes: each pass reads the world as it is.
		views: newViews(time.Nanosecond, nil)}
	h.ad = &ActiveDirectoryReconciler{Client: k8s, APIReader: secrets, Directory: dirs, Recorder: h.rec, ResyncPeriod: time.Minute}
	return h
}

// twin adds an AD user and a cloud-only user with the same UPN.
func (h *umHarness) twin(sam string, cloudMut func(*emulator.User)) (dn string, a anchor.Anchor, cloudID string) {
	h.t.Helper()
	upn := sam + "@" + umDomain
	dn, guid, err := h.dir.AddUser(fakead.User{SAMAccountName: sam, UserPrincipalName: upn, Mail: upn})
	if err != nil {
		h.t.Fatal(err)
	}
	a, err = anchor.FromBytes(guid[:])
	if err != nil {
		h.t.Fatal(err)
	}
	u := emulator.User{UserPrincipalName: upn, DisplayName: sam, MailNickname: sam, Mail: &upn}
	if cloudMut != nil {
		cloudMut(&u)
	}
	stored, err := h.em.AddUser(u)
	if err != nil {
		h.t.Fatal(err)
	}
	return dn, a, stored.ID
}

func (h *umHarness) userMatch(name, sam string, mut func(*identityv1alpha1.UserMatchSpec)) {
	h.t.Helper()
	um := &identityv1alpha1.UserMatch{ObjectMeta: metav1.ObjectMeta{Name: name, Generation: 1},
		Spec: identityv1alpha1.UserMatchSpec{TenantRef: identityv1alpha1.TenantReference{Name: "contoso"},
			DirectoryRef: identityv1alpha1.DirectoryReference{Name: "corp"},
			ADUser:       identityv1alpha1.ADUserSelector{SAMAccountName: sam}}}
	if mut != nil {
		mut(&um.Spec)
	}
	if err := h.k8s.Create(context.Background(), um); err != nil {
		h.t.Fatal(err)
	}
}

// reconcile runs passes until one asks to come back no sooner than the
// resync (a workflow step asks for a second), at most n.
func (h *umHarness) reconcile(name string, n int) (ctrl.Result, error) {
	h.t.Helper()
	var res ctrl.Result
	var err error
	for range n {
		res, err = h.r.Reconcile(context.Background(), ctrl.Request{NamespacedName: types.NamespacedName{Name: name}})
		if err != nil || res.RequeueAfter >= h.r.ResyncPeriod {
			break
		}
	}
	return res, err
}

func (h *umHarness) get(name string) *identityv1alpha1.UserMatch {
	h.t.Helper()
	var um identityv1alpha1.UserMatch
	if err := h.k8s.Get(context.Background(), types.NamespacedName{Name: name}, &um); err != nil {
		h.t.Fatal(err)
	}
	return &um
}

func (h *umHarness) cloud(id string) emulator.User {
	h.t.Helper()
	for _, u := range h.em.Snapshot().Users {
		if u.ID == id {
			return u
		}
	}
	h.t.Fatalf("no cloud user %s", id)
	return emulator.User{}
}

func (h *umHarness) events() []string { return drain(h.rec) }

// grantGlobalAdmin assigns the cloud user Global Administrator, tenant-wide.
func (h *umHarness) grantGlobalAdmin(id string) {
	h.t.Helper()
	if err := h.em.Update(func(s *emulator.Snapshot) error {
		s.RoleAssignments = append(s.RoleAssignments, emulator.RoleAssignment{ID: "ga-" + id, PrincipalID: id,
			RoleDefinitionID: roleGlobalAdmn, DirectoryScopeID: "/"})
		return nil
	}); err != nil {
		h.t.Fatal(err)
	}
}

// joinBySync plays Entra's sync joining the cloud user: it becomes
// on-premises mastered.
func (h *umHarness) joinBySync(id string) {
	h.t.Helper()
	if err := h.em.Update(func(s *emulator.Snapshot) error {
		for i := range s.Users {
			if s.Users[i].ID == id {
				on := true
				s.Users[i].OnPremisesSyncEnabled = &on
			}
		}
		return nil
	}); err != nil {
		h.t.Fatal(err)
	}
}

// reconcileAD runs one ActiveDirectory pass and returns the object after it.
func (h *umHarness) reconcileAD() *identityv1alpha1.ActiveDirectory {
	h.t.Helper()
	ctx := context.Background()
	if _, err := h.ad.Reconcile(ctx, ctrl.Request{NamespacedName: types.NamespacedName{Name: "corp"}}); err != nil {
		h.t.Fatal(err)
	}
	var ad identityv1alpha1.ActiveDirectory
	if err := h.k8s.Get(ctx, types.NamespacedName{Name: "corp"}, &ad); err != nil {
		h.t.Fatal(err)
	}
	return &ad
}

// directory changes the ActiveDirectory's spec.
func (h *umHarness) directory(change func(*identityv1alpha1.ActiveDirectorySpec)) {
	h.t.Helper()
	var ad identityv1alpha1.ActiveDirectory
	if err := h.k8s.Get(context.Background(), types.NamespacedName{Name: "corp"}, &ad); err != nil {
		h.t.Fatal(err)
	}
	change(&ad.Spec)
	if err := h.k8s.Update(context.Background(), &ad); err != nil {
		h.t.Fatal(err)
	}
}

func umCond(um *identityv1alpha1.UserMatch, typ string) metav1.Condition {
	if c := meta.FindStatusCondition(um.Status.Conditions, typ); c != nil {
		return *c
	}
	return metav1.Condition{}
}

func wantCond(t *testing.T, um *identityv1alpha1.UserMatch, typ string, status metav1.ConditionStatus, reason string) {
	t.Helper()
	c := umCond(um, typ)
	if c.Status != status || c.Reason != reason {
		var b strings.Builder
		for _, c := range um.Status.Conditions {
			b.WriteString("\n  " + c.Type + "=" + string(c.Status) + " " + c.Reason + ": " + c.Message)
		}
		t.Fatalf("%s = %s/%s, want %s/%s; conditions:%s", typ, c.Status, c.Reason, status, reason, b.String())
	}
}

func immutableIDOf(u emulator.User) string {
	if u.OnPremisesImmutableID == nil {
		return ""
	}
	return *u.OnPremisesImmutableID
}

// The main job: the anchor goes onto the cloud user, once, with an Event,
// and the conditions say the match waits for sync.
func TestUserMatchHarnessSetsImmutableID(t *testing.T) {
	h := newUMHarness(t)
	_, a, id := h.twin("alice", nil)
	h.userMatch("alice", "alice", nil)
	if _, err := h.reconcile("alice", 5); err != nil {
		t.Fatal(err)
	}
	if got := immutableIDOf(h.cloud(id)); got != a.ImmutableID() {
		t.Fatalf("cloud immutableId = %q, want %s", got, a.ImmutableID())
	}
	um := h.get("alice")
	wantCond(t, um, identityv1alpha1.ConditionAnchorResolved, metav1.ConditionTrue, identityv1alpha1.ReasonResolved)
	wantCond(t, um, identityv1alpha1.ConditionCloudUserFound, metav1.ConditionTrue, identityv1alpha1.ReasonFound)
	wantCond(t, um, identityv1alpha1.ConditionMatched, metav1.ConditionTrue, identityv1alpha1.ReasonImmutableIDSet)
	wantCond(t, um, identityv1alpha1.ConditionBlocked, metav1.ConditionFalse, identityv1alpha1.ReasonNotBlocked)
	wantCond(t, um, identityv1alpha1.ConditionReady, metav1.ConditionFalse, identityv1alpha1.ReasonImmutableIDSet)
	wantCond(t, um, identityv1alpha1.ConditionSynced, metav1.ConditionTrue, identityv1alpha1.ReasonReconcileSucceeded)
	if um.Status.ImmutableID != a.ImmutableID() || um.Status.Cloud == nil || um.Status.Cloud.ObjectID != id || um.Status.ObservedGeneration != 1 {
		t.Fatalf("status = %+v", um.Status)
	}
	evs := h.events()
	if n := countPrefix(evs, "Normal ImmutableIDSet"); n != 1 {
		t.Fatalf("ImmutableIDSet Events = %d, want 1: %q", n, evs)
	}
	// A second pass writes nothing and announces nothing, not even a
	// status patch with nothing in it: at rest that was one API request
	// per UserMatch per resync period, and the status the write pass left
	// is already what later passes find.
	rv := um.ResourceVersion
	for range 2 {
		if _, err := h.reconcile("alice", 1); err != nil {
			t.Fatal(err)
		}
		if evs := h.events(); len(evs) != 0 {
			t.Fatalf("a pass with nothing to do emitted %q", evs)
		}
		if got := h.get("alice").ResourceVersion; got != rv {
			t.Fatalf("a pass with nothing to do wrote the UserMatch (resourceVersion %s, then %s)", rv, got)
		}
	}
}

func countPrefix(evs []string, prefix string) int {
	n := 0
	for _, e := range evs {
		if strings.HasPrefix(e, prefix) {
			n++
		}
	}
	return n
}

// Observe mode reports what it would write and writes nothing, in Graph or
// in AD.
func TestUserMatchHarnessObserveWritesNothing(t *testing.T) {
	h := newUMHarness(t)
	dn, _, id := h.twin("bob", nil)
	h.userMatch("bob", "bob", func(s *identityv1alpha1.UserMatchSpec) { s.Mode = identityv1alpha1.ModeObserve })
	h.directory(func(s *identityv1alpha1.ActiveDirectorySpec) { s.WriteConsistencyGuid = true })
	if _, err := h.reconcile("bob", 3); err != nil {
		t.Fatal(err)
	}
	if got := immutableIDOf(h.cloud(id)); got != "" {
		t.Fatalf("Observe wrote immutableId %q", got)
	}
	if v, err := h.dir.Attribute(dn, "mS-DS-ConsistencyGuid"); err != nil || len(v) != 0 {
		t.Fatalf("Observe wrote mS-DS-ConsistencyGuid: %v, %v", v, err)
	}
	um := h.get("bob")
	wantCond(t, um, identityv1alpha1.ConditionMatched, metav1.ConditionFalse, identityv1alpha1.ReasonObserveOnly)
	wantCond(t, um, identityv1alpha1.ConditionConsistencyGuidWritten, metav1.ConditionFalse, identityv1alpha1.ReasonObserveOnly)
}

// With writeConsistencyGuid, objectGUID goes into the empty attribute in
// its own phase, with its own condition, and is the anchor.
func TestUserMatchHarnessWritesConsistencyGuid(t *testing.T) {
	h := newUMHarness(t)
	dn, a, id := h.twin("carol", nil)
	h.directory(func(s *identityv1alpha1.ActiveDirectorySpec) { s.WriteConsistencyGuid = true })
	h.userMatch("carol", "carol", nil)
	if _, err := h.reconcile("carol", 5); err != nil {
		t.Fatal(err)
	}
	v, err := h.dir.Attribute(dn, "mS-DS-ConsistencyGuid")
	if err != nil || len(v) != 1 || string(v[0]) != string(a.Bytes()) {
		t.Fatalf("mS-DS-ConsistencyGuid = %x, %v; want objectGUID %x", v, err, a.Bytes())
	}
	um := h.get("carol")
	wantCond(t, um, identityv1alpha1.ConditionConsistencyGuidWritten, metav1.ConditionTrue, identityv1alpha1.ReasonConsistencyGuidWritten)
	if um.Status.AD == nil || um.Status.AD.AnchorSource != identityv1alpha1.AnchorSourceConsistencyGUID || immutableIDOf(h.cloud(id)) != a.ImmutableID() {
		t.Fatalf("anchor source %+v, cloud immutableId %q", um.Status.AD, immutableIDOf(h.cloud(id)))
	}
	// The next pass finds the value there and says so.
	if _, err := h.reconcile("carol", 1); err != nil {
		t.Fatal(err)
	}
	wantCond(t, h.get("carol"), identityv1alpha1.ConditionConsistencyGuidWritten, metav1.ConditionTrue, identityv1alpha1.ReasonConsistencyGuidPresent)
}

// A privileged role blocks the match under the default policy: nothing is
// written, Blocked says why once as a Warning Event.
func TestUserMatchHarnessPrivilegedRoleBlocks(t *testing.T) {
	h := newUMHarness(t)
	_, _, id := h.twin("dave", nil)
	h.grantGlobalAdmin(id)
	h.userMatch("dave", "dave", nil)
	for range 2 {
		if _, err := h.reconcile("dave", 1); err != nil {
			t.Fatal(err)
		}
	}
	if got := immutableIDOf(h.cloud(id)); got != "" {
		t.Fatalf("wrote immutableId %q onto a Global Administrator", got)
	}
	um := h.get("dave")
	wantCond(t, um, identityv1alpha1.ConditionBlocked, metav1.ConditionTrue, identityv1alpha1.ReasonPrivilegedRole)
	wantCond(t, um, identityv1alpha1.ConditionReady, metav1.ConditionFalse, identityv1alpha1.ReasonPrivilegedRole)
	if n := countPrefix(h.events(), "Warning PrivilegedRole"); n != 1 {
		t.Fatalf("PrivilegedRole Warnings over two passes = %d, want 1", n)
	}
}

// A cloud user whose onPremisesObjectIdentifier names another on-premises
// object is not written to: Entra's sync would refuse the remap.
func TestUserMatchHarnessObjectIdentifierSet(t *testing.T) {
	h := newUMHarness(t)
	other := "0f0e5c47-1d2b-4c3a-9e8f-7a6b5c4d3e2f"
	_, _, id := h.twin("erin", func(u *emulator.User) { u.OnPremisesObjectIdentifier = &other })
	h.userMatch("erin", "erin", nil)
	if _, err := h.reconcile("erin", 3); err != nil {
		t.Fatal(err)
	}
	if got := immutableIDOf(h.cloud(id)); got != "" {
		t.Fatalf("wrote immutableId %q over another object's identifier", got)
	}
	wantCond(t, h.get("erin"), identityv1alpha1.ConditionBlocked, metav1.ConditionTrue, identityv1alpha1.ReasonObjectIdentifierSet)
}

// A base DN that names nothing is BaseDNNotFound on the ActiveDirectory and
// on the UserMatch's AnchorResolved, not "no such user".
func TestUserMatchHarnessBaseDNNotFound(t *testing.T) {
	h := newUMHarness(t)
	h.twin("frank", nil)
	h.directory(func(s *identityv1alpha1.ActiveDirectorySpec) { s.BaseDN = "OU=Nowhere," + h.dir.BaseDN() })
	var ad identityv1alpha1.ActiveDirectory
	if _, err := h.ad.Reconcile(context.Background(), ctrl.Request{NamespacedName: types.NamespacedName{Name: "corp"}}); err != nil {
		t.Fatal(err)
	}
	if err := h.k8s.Get(context.Background(), types.NamespacedName{Name: "corp"}, &ad); err != nil {
		t.Fatal(err)
	}
	if c := meta.FindStatusCondition(ad.Status.Conditions, identityv1alpha1.ConditionReady); c == nil || c.Reason != identityv1alpha1.ReasonBaseDNNotFound {
		t.Fatalf("ActiveDirectory Ready = %+v, want BaseDNNotFound", c)
	}
	h.userMatch("frank", "frank", nil)
	if _, err := h.reconcile("frank", 1); err != nil {
		t.Fatal(err)
	}
	wantCond(t, h.get("frank"), identityv1alpha1.ConditionAnchorResolved, metav1.ConditionFalse, identityv1alpha1.ReasonBaseDNNotFound)
}

// RemoveAndRestore end to end: the role is recorded (sealed) before it is
// removed, the anchor is written, and once sync has joined the user the
// role comes back and the record is settled.
func TestUserMatchHarnessRemoveAndRestore(t *testing.T) {
	h := newUMHarness(t)
	_, a, id := h.twin("gina", nil)
	h.grantGlobalAdmin(id)
	h.userMatch("gina", "gina", func(s *identityv1alpha1.UserMatchSpec) {
		s.PrivilegedRoles = identityv1alpha1.PrivilegedRolesRemoveAndRestore
	})
	if _, err := h.reconcile("gina", 10); err != nil {
		t.Fatal(err)
	}
	um := h.get("gina")
	wantCond(t, um, identityv1alpha1.ConditionRolesRemoved, metav1.ConditionTrue, identityv1alpha1.ReasonRolesRemoved)
	if len(um.Status.RecordedRoles) != 1 || um.Status.RecordedRoles[0].RoleDefinitionID != roleGlobalAdmn || !h.r.recordSealed(um) {
		t.Fatalf("recorded roles %+v (sealed: %t)", um.Status.RecordedRoles, h.r.recordSealed(um))
	}
	if n := len(h.em.Snapshot().RoleAssignments); n != 0 {
		t.Fatalf("%d role assignments left after removal", n)
	}
	if got := immutableIDOf(h.cloud(id)); got != a.ImmutableID() {
		t.Fatalf("cloud immutableId = %q, want %s", got, a.ImmutableID())
	}

	// Sync joins the user: the role comes back.
	h.joinBySync(id)
	if _, err := h.reconcile("gina", 10); err != nil {
		t.Fatal(err)
	}
	um = h.get("gina")
	wantCond(t, um, identityv1alpha1.ConditionRolesRemoved, metav1.ConditionFalse, identityv1alpha1.ReasonRolesRestored)
	wantCond(t, um, identityv1alpha1.ConditionReady, metav1.ConditionTrue, identityv1alpha1.ReasonSyncJoined)
	ras := h.em.Snapshot().RoleAssignments
	if len(ras) != 1 || ras[0].PrincipalID != id || ras[0].RoleDefinitionID != roleGlobalAdmn {
		t.Fatalf("role assignments after restore: %+v", ras)
	}
	evs := h.events()
	for _, want := range []string{"Normal RolesRecorded", "Warning RoleRemoved", "Normal RoleRestored", "Normal SyncJoined"} {
		if countPrefix(evs, want) != 1 {
			t.Errorf("want one %q Event, got %q", want, evs)
		}
	}
}

// spec.forestUPNSuffixes: Observe reports the missing suffix and writes
// nothing; Enforce adds it, records it as the operator's, and removes it
// again once it leaves the list; a suffix someone else added is never
// removed.
func TestActiveDirectoryForestUPNSuffixes(t *testing.T) {
	h := newUMHarness(t)
	if err := h.dir.SetUPNSuffixes("legacy.example"); err != nil {
		t.Fatal(err)
	}
	h.directory(func(s *identityv1alpha1.ActiveDirectorySpec) {
		s.ForestUPNSuffixes = &identityv1alpha1.ForestUPNSuffixes{Mode: identityv1alpha1.ModeObserve, Suffixes: []string{"contoso.com"}}
	})
	forest := func() []string {
		t.Helper()
		v, err := h.dir.Attribute("CN=Partitions,CN=Configuration,"+h.dir.BaseDN(), "uPNSuffixes")
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, b := range v {
			out = append(out, string(b))
		}
		return out
	}
	adCond := func(ad *identityv1alpha1.ActiveDirectory, typ string) metav1.Condition {
		if c := meta.FindStatusCondition(ad.Status.Conditions, typ); c != nil {
			return *c
		}
		return metav1.Condition{}
	}

	ad := h.reconcileAD()
	if c := adCond(ad, identityv1alpha1.ConditionUPNSuffixesOffered); c.Status != metav1.ConditionFalse || c.Reason != identityv1alpha1.ReasonUPNSuffixesMissing {
		t.Fatalf("Observe: %+v", c)
	}
	if got := forest(); len(got) != 1 || got[0] != "legacy.example" {
		t.Fatalf("Observe wrote the forest: %q", got)
	}

	h.directory(func(s *identityv1alpha1.ActiveDirectorySpec) { s.ForestUPNSuffixes.Mode = identityv1alpha1.ModeEnforce })
	ad = h.reconcileAD()
	if c := adCond(ad, identityv1alpha1.ConditionUPNSuffixesOffered); c.Status != metav1.ConditionTrue || c.Reason != identityv1alpha1.ReasonUPNSuffixesPresent {
		t.Fatalf("Enforce: %+v", c)
	}
	if got := forest(); !slicesEqualFold(got, []string{"legacy.example", "contoso.com"}) {
		t.Fatalf("forest after Enforce: %q", got)
	}
	if len(ad.Status.AddedUPNSuffixes) != 1 || ad.Status.AddedUPNSuffixes[0] != "contoso.com" {
		t.Fatalf("added record: %q", ad.Status.AddedUPNSuffixes)
	}
	if n := countPrefix(h.events(), "Normal UPNSuffixAdded"); n != 1 {
		t.Fatalf("UPNSuffixAdded Events = %d", n)
	}

	// The declaration moves to another suffix: ours goes, legacy stays.
	h.directory(func(s *identityv1alpha1.ActiveDirectorySpec) { s.ForestUPNSuffixes.Suffixes = []string{"fabrikam.com"} })
	ad = h.reconcileAD()
	if got := forest(); !slicesEqualFold(got, []string{"legacy.example", "fabrikam.com"}) {
		t.Fatalf("forest after the change: %q", got)
	}
	if len(ad.Status.AddedUPNSuffixes) != 1 || ad.Status.AddedUPNSuffixes[0] != "fabrikam.com" {
		t.Fatalf("added record: %q", ad.Status.AddedUPNSuffixes)
	}
}

// A bind account that may not write CN=Partitions gets MissingPermission
// naming the right, on the suffix condition and Synced; Ready stays True.
func TestActiveDirectoryForestUPNSuffixesRefused(t *testing.T) {
	h := newUMHarness(t)
	ctx := context.Background()
	const pass = "Plain-Passw0rd-9a"
	dn, _, err := h.dir.AddUser(fakead.User{SAMAccountName: "svc-plain", UserPrincipalName: "svc-plain@" + umDomain, Password: pass})
	if err != nil {
		t.Fatal(err)
	}
	var secret corev1.Secret
	if err := h.k8s.Get(ctx, types.NamespacedName{Namespace: umNamespace, Name: "ad-bind"}, &secret); err != nil {
		t.Fatal(err)
	}
	secret.Data["password"] = []byte(pass)
	if err := h.k8s.Update(ctx, &secret); err != nil {
		t.Fatal(err)
	}
	h.directory(func(s *identityv1alpha1.ActiveDirectorySpec) {
		s.Bind.DN = dn
		s.ForestUPNSuffixes = &identityv1alpha1.ForestUPNSuffixes{Mode: identityv1alpha1.ModeEnforce, Suffixes: []string{"contoso.com"}}
	})
	_, _ = h.ad.Reconcile(ctx, ctrl.Request{NamespacedName: types.NamespacedName{Name: "corp"}})
	var ad identityv1alpha1.ActiveDirectory
	if err := h.k8s.Get(ctx, types.NamespacedName{Name: "corp"}, &ad); err != nil {
		t.Fatal(err)
	}
	c := meta.FindStatusCondition(ad.Status.Conditions, identityv1alpha1.ConditionUPNSuffixesOffered)
	if c == nil || c.Reason != identityv1alpha1.ReasonMissingPermission || !strings.Contains(c.Message, "Enterprise Admins") {
		t.Fatalf("UPNSuffixesOffered = %+v", c)
	}
	if !meta.IsStatusConditionTrue(ad.Status.Conditions, identityv1alpha1.ConditionReady) {
		t.Fatalf("Ready = %+v; a refused suffix write must not make the directory unusable", meta.FindStatusCondition(ad.Status.Conditions, identityv1alpha1.ConditionReady))
	}
	if s := meta.FindStatusCondition(ad.Status.Conditions, identityv1alpha1.ConditionSynced); s == nil || s.Status != metav1.ConditionFalse {
		t.Fatalf("Synced = %+v", s)
	}
}

func slicesEqualFold(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		found := false
		for _, y := range b {
			if strings.EqualFold(x, y) {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// A change made outside the operator reaches the UserMatch through the
// tenant's delta round, whoever's reconcile refreshed the view: the
// refresh names the changed user, wake finds its UserMatch, and its pass
// corrects the drift. Our own write is never reported.
func TestUserMatchHarnessDeltaWakesDriftedUserMatch(t *testing.T) {
	h := newUMHarness(t)
	_, a, aliceID := h.twin("alice", nil)
	h.twin("bob", nil)
	var reported []string
	h.r.views.changed = func(tenant string, ids []string) {
		if tenant != "contoso" {
			t.Errorf("changes reported for tenant %q", tenant)
		}
		reported = append(reported, ids...)
	}
	h.userMatch("alice", "alice", nil)
	h.userMatch("bob", "bob", nil)
	for _, name := range []string{"alice", "bob", "alice", "bob"} {
		if _, err := h.reconcile(name, 5); err != nil {
			t.Fatal(err)
		}
	}
	if len(reported) != 0 {
		t.Fatalf("the operator's own writes were reported as changes: %v", reported)
	}
	if err := h.em.Update(func(s *emulator.Snapshot) error {
		for i := range s.Users {
			if s.Users[i].ID == aliceID {
				other := "c29tZW9uZS1lbHNl"
				s.Users[i].OnPremisesImmutableID = &other
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// Bob's pass refreshes the shared view.
	if _, err := h.reconcile("bob", 1); err != nil {
		t.Fatal(err)
	}
	if len(reported) != 1 || !strings.EqualFold(reported[0], aliceID) {
		t.Fatalf("reported %v, want alice's cloud user %s", reported, aliceID)
	}
	woken := make(chan event.TypedGenericEvent[*identityv1alpha1.UserMatch], 4)
	h.r.wake(context.Background(), woken, "contoso", reported)
	close(woken)
	var names []string
	for e := range woken {
		names = append(names, e.Object.Name)
	}
	if len(names) != 1 || names[0] != "alice" {
		t.Fatalf("woke %v, want [alice]", names)
	}
	if _, err := h.reconcile("alice", 5); err != nil {
		t.Fatal(err)
	}
	if got := immutableIDOf(h.cloud(aliceID)); got != a.ImmutableID() {
		t.Fatalf("drift not corrected: immutableId %q, want %s", got, a.ImmutableID())
	}
	if um := h.get("alice"); um.Status.DriftCorrections != 1 {
		t.Fatalf("driftCorrections = %d, want 1", um.Status.DriftCorrections)
	}
}

// When Graph throttles the tenant's shared reads, the pass says so and the
// tenant is paused in the fair share for the Retry-After: its other
// UserMatches wait without a worker, and the other tenants get its share.
func TestUserMatchHarnessThrottledReadsPauseTheTenant(t *testing.T) {
	h := newUMHarness(t)
	h.r.fair = newFairShare(4, nil)
	h.twin("alice", nil)
	h.userMatch("alice", "alice", nil)
	if err := h.em.Faults().Set([]faults.Rule{{PathPrefix: "/v1.0/users/delta", Status: 429, RetryAfterSeconds: 30}}); err != nil {
		t.Fatal(err)
	}
	res, err := h.r.Reconcile(context.Background(), ctrl.Request{NamespacedName: types.NamespacedName{Name: "alice"}})
	if err != nil {
		t.Fatal(err)
	}
	wantCond(t, h.get("alice"), identityv1alpha1.ConditionSynced, metav1.ConditionFalse, identityv1alpha1.ReasonThrottled)
	if res.RequeueAfter < 25*time.Second {
		t.Fatalf("requeued after %s, want the 30 s Retry-After", res.RequeueAfter)
	}
	_, wait, ok := h.r.fair.take("contoso", "bob")
	if ok || wait < 25*time.Second {
		t.Fatalf("another UserMatch of the throttled tenant: worker %v, wait %s; want none until the Retry-After ends", ok, wait)
	}
	for i := range 4 {
		if _, _, ok := h.r.fair.take("fabrikam", fmt.Sprintf("f%d", i)); !ok {
			t.Fatalf("another tenant was refused worker %d of 4 while contoso is paused", i+1)
		}
	}
}
