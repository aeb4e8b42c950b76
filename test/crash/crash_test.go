// Package crash_test kills the manager process at every step of the
// privileged-role workflow and restarts it, and checks that in the end every
// recorded role is back exactly once and the user is matched. It runs the
// real manager binary against envtest, the embedded directory and the
// emulator, with an emulated sync service that joins users as soon as their
// immutableId is set.
package crash_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/crashpoint"
	"github.com/entramatch/entra-match-operator/internal/emulator"
	"github.com/entramatch/entra-match-operator/internal/emulator/faults"
	"github.com/entramatch/entra-match-operator/internal/fakead"
	"github.com/entramatch/entra-match-operator/internal/testenv/kube"
	"github.com/entramatch/entra-match-operator/internal/testenv/managerproc"
)

const (
	tenantID    = "3c1d2e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
	clientID    = "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d"
	secret      = "crash-secret"
	domain      = "contoso.com"
	ns          = "entramatch-system"
	globalAdmin = "62e90394-69f5-4237-9190-012177145e10"
	privRoleAdm = "e8611ab8-c189-46e8-94e1-60213ab1f814"
)

// killPoints are the named crash points of the workflow in the order they
// are reached, with the two roles (one assignment, one eligibility) giving
// two removals and two restores.
var killPoints = []string{
	"roles-recording", "roles-recorded",
	"role-removed#1", "role-removed#2",
	"immutableid-set",
	"role-restoring#1", "role-restored#1",
	"role-restoring#2", "role-restored#2",
}

type rig struct {
	k8s        client.Client
	config     *rest.Config
	em         *emulator.Server
	ad         *fakead.Server
	bin        string
	kubeconfig string
	dir        string

	mu      sync.Mutex
	anchors map[string]emulator.SyncObject // cloud user id -> its export
}

func TestCrashAtEveryStep(t *testing.T) {
	r := newRig(t)
	for _, point := range killPoints {
		t.Run(point, func(t *testing.T) {
			name, cloudID := r.twin(t, strings.NewReplacer("#", "", "-", "").Replace(point))
			r.userMatch(t, name)

			crashed := r.start(t, "ENTRAMATCH_CRASH_AT="+point)
			code, err := crashed.Wait(2 * time.Minute)
			if err != nil {
				crashed.Stop()
				t.Fatalf("the manager never reached crash point %s: %v", point, err)
			}
			if code != crashpoint.ExitCode {
				t.Fatalf("manager exited with %d, want the crash point's %d", code, crashpoint.ExitCode)
			}

			mgr := r.start(t)
			defer mgr.Stop()
			r.waitDone(t, name)
			r.checkRoles(t, cloudID)
			r.delete(t, name)
		})
	}
	t.Logf("kill points exercised: %d", len(killPoints))
}

// Throttling and transient failures during the workflow change nothing in
// its outcome: a third of Graph calls fail with 503, and the tenant is
// throttled as a small tenant ten times faster than real time.
func TestWorkflowUnderFaults(t *testing.T) {
	r := newRig(t)
	if err := r.em.Faults().Set([]faults.Rule{{PathPrefix: "/v1.0/", Rate: 0.33, Status: 503}}); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = r.em.Faults().Set(nil) }()
	name, cloudID := r.twin(t, "faulty")
	r.userMatch(t, name)
	mgr := r.start(t)
	defer mgr.Stop()
	r.waitDone(t, name)
	r.checkRoles(t, cloudID)
}

func newRig(t *testing.T) *rig {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	ctrl.SetLogger(logr.Discard())
	k, err := kube.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k.Stop() })
	r := &rig{k8s: k.Client, config: k.Config, dir: dir, kubeconfig: filepath.Join(dir, "kubeconfig"), anchors: map[string]emulator.SyncObject{}}
	if err := k.Kubeconfig(r.kubeconfig); err != nil {
		t.Fatal(err)
	}
	if r.ad, err = fakead.New(fakead.Config{Domain: domain, AdminPassword: "Crash-Passw0rd!"}); err != nil {
		t.Fatal(err)
	}
	if err := r.ad.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.ad.Close)
	r.em, err = emulator.New(emulator.Config{
		TenantID: tenantID, InitialDomain: "contoso.onmicrosoft.com", OwnAudienceOnly: true,
		State: &emulator.Snapshot{
			Organization: emulator.Organization{DisplayName: "Contoso"},
			Domains: []emulator.Domain{{ID: "contoso.onmicrosoft.com", IsInitial: true, IsVerified: true},
				{ID: domain, IsVerified: true, IsDefault: true}},
			Sync: emulator.DefaultSyncState(),
		},
		Apps: []emulator.App{{ClientID: clientID, Secret: secret, Permissions: []string{
			"User.ReadWrite.All", "Domain.Read.All", "Organization.Read.All", "RoleManagement.ReadWrite.Directory"}}},
		Throttle: emulator.ThrottleSmall, TimeScale: 10,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.em.Start("127.0.0.1:0", filepath.Join(dir, "emulator")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.em.Close() })
	if r.bin, err = managerproc.Build(ctx, k.Root, dir, "crashpoints"); err != nil {
		t.Fatal(err)
	}
	for _, o := range []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: ns}, StringData: map[string]string{"s": secret}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "ad", Namespace: ns}, StringData: map[string]string{"p": "Crash-Passw0rd!"}},
		&identityv1alpha1.EntraTenant{ObjectMeta: metav1.ObjectMeta{Name: "contoso"}, Spec: identityv1alpha1.EntraTenantSpec{
			TenantID: tenantID, Cloud: identityv1alpha1.CloudCustom,
			Custom: &identityv1alpha1.CustomCloud{GraphURL: r.em.URL() + "/v1.0", AuthorityURL: r.em.URL(), CABundle: string(r.em.CACertPEM())},
			Credentials: identityv1alpha1.TenantCredentials{ClientSecret: &identityv1alpha1.ClientSecretCredential{
				ClientID: clientID, SecretRef: identityv1alpha1.SecretKeyReference{Name: "app", Namespace: ns, Key: "s"}}}}},
		&identityv1alpha1.ActiveDirectory{ObjectMeta: metav1.ObjectMeta{Name: "corp"}, Spec: identityv1alpha1.ActiveDirectorySpec{
			URLs: []string{r.ad.URL()}, BaseDN: r.ad.BaseDN(),
			Bind: identityv1alpha1.LDAPBind{DN: r.ad.AdminDN(), PasswordSecretRef: identityv1alpha1.SecretKeyReference{Name: "ad", Namespace: ns, Key: "p"}},
			TLS:  &identityv1alpha1.LDAPTLS{Mode: identityv1alpha1.TLSModeLDAPS, CABundle: string(r.ad.CAPEM())}}},
	} {
		if err := r.k8s.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	// The sync service: joins a user as soon as the operator's immutableId is on it.
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(300 * time.Millisecond):
				r.syncReady()
			}
		}
	}()
	t.Cleanup(func() { close(stop); <-done })
	return r
}

// twin creates an AD user and a cloud twin that is a Global Administrator
// and eligible Privileged Role Administrator.
func (r *rig) twin(t *testing.T, prefix string) (string, string) {
	t.Helper()
	sam := fmt.Sprintf("%s%d", prefix, time.Now().UnixNano()%100000)
	upn := sam + "@" + domain
	dn, guid, err := r.ad.AddUser(fakead.User{SAMAccountName: sam, UserPrincipalName: upn, Mail: upn})
	if err != nil {
		t.Fatal(err)
	}
	u, err := r.em.AddUser(emulator.User{UserPrincipalName: upn, DisplayName: sam, MailNickname: sam, Mail: &upn})
	if err != nil {
		t.Fatal(err)
	}
	err = r.em.Update(func(s *emulator.Snapshot) error {
		s.RoleAssignments = append(s.RoleAssignments, emulator.RoleAssignment{ID: "ga-" + u.ID, PrincipalID: u.ID, RoleDefinitionID: globalAdmin, DirectoryScopeID: "/"})
		s.RoleEligibilities = append(s.RoleEligibilities, emulator.RoleEligibility{ID: "pra-" + u.ID, PrincipalID: u.ID, RoleDefinitionID: privRoleAdm, DirectoryScopeID: "/"})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	r.anchors[u.ID] = emulator.SyncObject{Type: "user", SourceAnchor: base64.StdEncoding.EncodeToString(guid[:]),
		UserPrincipalName: upn, Mail: upn, OnPremisesDistinguishedName: dn, OnPremisesSamAccountName: sam}
	r.mu.Unlock()
	return strings.ToLower(sam), u.ID
}

// syncReady exports the users whose cloud twin carries their anchor and is
// not yet synced, as Entra Connect's next cycle would.
func (r *rig) syncReady() {
	r.mu.Lock()
	defer r.mu.Unlock()
	var objs []emulator.SyncObject
	for _, u := range r.em.Snapshot().Users {
		exp, ok := r.anchors[u.ID]
		if ok && u.OnPremisesImmutableID != nil && *u.OnPremisesImmutableID == exp.SourceAnchor && (u.OnPremisesSyncEnabled == nil || !*u.OnPremisesSyncEnabled) {
			objs = append(objs, exp)
		}
	}
	if len(objs) > 0 {
		_, _ = r.em.Sync(emulator.SyncRequest{Objects: objs})
	}
}

func (r *rig) userMatch(t *testing.T, name string) {
	t.Helper()
	um := &identityv1alpha1.UserMatch{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: identityv1alpha1.UserMatchSpec{
		TenantRef: identityv1alpha1.TenantReference{Name: "contoso"}, DirectoryRef: identityv1alpha1.DirectoryReference{Name: "corp"},
		ADUser:          identityv1alpha1.ADUserSelector{SAMAccountName: name},
		PrivilegedRoles: identityv1alpha1.PrivilegedRolesRemoveAndRestore,
	}}
	if err := r.k8s.Create(context.Background(), um); err != nil {
		t.Fatal(err)
	}
}

func (r *rig) start(t *testing.T, env ...string) *managerproc.Proc {
	t.Helper()
	p, err := managerproc.Start(r.bin, r.kubeconfig, filepath.Join(r.dir, "manager.log"), append(env, "POD_NAMESPACE="+ns),
		"--metrics-bind-address=0", "--health-probe-bind-address=0", "--resync-period=2s")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (r *rig) waitDone(t *testing.T, name string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		var um identityv1alpha1.UserMatch
		err := r.k8s.Get(context.Background(), types.NamespacedName{Name: name}, &um)
		if err == nil {
			ready := meta.FindStatusCondition(um.Status.Conditions, identityv1alpha1.ConditionReady)
			roles := meta.FindStatusCondition(um.Status.Conditions, identityv1alpha1.ConditionRolesRemoved)
			restored := len(um.Status.RecordedRoles) == 2
			for _, rr := range um.Status.RecordedRoles {
				restored = restored && rr.Restored
			}
			if ready != nil && ready.Status == metav1.ConditionTrue && ready.Reason == identityv1alpha1.ReasonSyncJoined &&
				roles != nil && roles.Status == metav1.ConditionFalse && roles.Reason == identityv1alpha1.ReasonRolesRestored && restored {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("UserMatch %s did not finish: recorded=%+v conditions=%+v", name, um.Status.RecordedRoles, um.Status.Conditions)
			}
		} else if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// checkRoles asserts that each role is back exactly once and the user is
// synced with its anchor.
func (r *rig) checkRoles(t *testing.T, cloudID string) {
	t.Helper()
	s := r.em.Snapshot()
	ga, pra := 0, 0
	for _, a := range s.RoleAssignments {
		if a.PrincipalID == cloudID && a.RoleDefinitionID == globalAdmin {
			ga++
		}
	}
	for _, e := range s.RoleEligibilities {
		if e.PrincipalID == cloudID && e.RoleDefinitionID == privRoleAdm {
			pra++
		}
	}
	if ga != 1 || pra != 1 {
		t.Errorf("after the workflow: %d Global Administrator assignments and %d Privileged Role Administrator eligibilities, want exactly 1 each", ga, pra)
	}
	r.mu.Lock()
	want := r.anchors[cloudID].SourceAnchor
	r.mu.Unlock()
	for _, u := range s.Users {
		if u.ID == cloudID {
			if u.OnPremisesSyncEnabled == nil || !*u.OnPremisesSyncEnabled || u.OnPremisesImmutableID == nil || *u.OnPremisesImmutableID != want {
				t.Errorf("cloud user not matched: sync=%v immutableId=%v, want %s", u.OnPremisesSyncEnabled, u.OnPremisesImmutableID, want)
			}
		}
	}
}

func (r *rig) delete(t *testing.T, name string) {
	t.Helper()
	ctx := context.Background()
	um := &identityv1alpha1.UserMatch{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := r.k8s.Delete(ctx, um); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for r.k8s.Get(ctx, types.NamespacedName{Name: name}, &identityv1alpha1.UserMatch{}) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("UserMatch %s not deleted", name)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
