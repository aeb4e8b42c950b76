//go:build !unit

// Excluded from make unit (-tags unit) with the SyncPlan and alignment
// harnesses it uses.

package controllers

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/testenv/gitopshealth"
)

// The health Argo CD (config/argocd) and Flux (kstatus) read from the
// statuses the reconcilers really write: the objects below come from
// passes of the in-process harness, not from hand-written YAML.
func TestGitOpsHealth(t *testing.T) {
	h := newUMHarness(t)

	// UserMatches: waiting for sync, joined, blocked, and a new spec not yet observed.
	h.twin("waiting", nil)
	h.userMatch("waiting", "waiting", nil)
	_, _, joinedID := h.twin("joined", nil)
	h.userMatch("joined", "joined", nil)
	_, _, blockedID := h.twin("blocked", nil)
	h.grantGlobalAdmin(blockedID)
	h.userMatch("blocked", "blocked", nil)
	for _, n := range []string{"waiting", "joined", "blocked"} {
		if _, err := h.reconcile(n, 5); err != nil {
			t.Fatal(err)
		}
	}
	h.joinBySync(joinedID)
	if _, err := h.reconcile("joined", 1); err != nil {
		t.Fatal(err)
	}
	stale := h.get("waiting").DeepCopy()
	stale.Generation++

	// ActiveDirectory: connected, and a base DN that does not exist.
	connected := h.reconcileAD()
	h.directory(func(s *identityv1alpha1.ActiveDirectorySpec) { s.BaseDN = "OU=Nowhere," + h.dir.BaseDN() })
	broken := h.reconcileAD()

	cases := []struct {
		name   string
		obj    client.Object
		argo   string
		kstat  status.Status
		reason string
	}{
		{"UserMatch waiting for sync", h.get("waiting"), "Progressing", status.InProgressStatus, ""},
		{"UserMatch joined", h.get("joined"), "Healthy", status.CurrentStatus, ""},
		{"UserMatch blocked by a privileged role", h.get("blocked"), "Degraded", status.FailedStatus, identityv1alpha1.ReasonPrivilegedRole},
		{"UserMatch with a spec not yet observed", stale, "Progressing", status.InProgressStatus, ""},
		{"ActiveDirectory connected", connected, "Healthy", status.CurrentStatus, ""},
		{"ActiveDirectory with a missing base DN", broken, "Degraded", status.FailedStatus, identityv1alpha1.ReasonBaseDNNotFound},
	}
	scripts := argoHealthScripts(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { checkHealth(t, scripts, h.k8s.Scheme(), tc.obj, tc.argo, tc.kstat, tc.reason) })
	}
	for _, kind := range []string{"UserMatch", "TenantSyncFeatures", "EntraTenant", "ActiveDirectory"} {
		if _, ok := scripts[kind]; !ok {
			t.Errorf("config/argocd/argocd-cm.yaml has no health check for %s", kind)
		}
	}
}

// The other two kinds: a TenantSyncFeatures in sync and one that another
// governs; an EntraTenant signed in and one whose secret is refused.
func TestGitOpsHealthOfTenantsAndFeatures(t *testing.T) {
	scripts := argoHealthScripts(t)
	block := identityv1alpha1.FeatureBlockSoftMatch
	th := newHarness(t, newFakeSync(nil),
		tsfObject("first", t0.Add(-time.Minute), identityv1alpha1.TenantSyncFeaturesSpec{Features: flagsOf(map[identityv1alpha1.SyncFeature]bool{block: true})}),
		tsfObject("second", t0, identityv1alpha1.TenantSyncFeaturesSpec{Features: flagsOf(map[identityv1alpha1.SyncFeature]bool{block: true})}))
	for _, n := range []string{"first", "first", "second"} {
		th.reconcile(n)
	}
	checkHealth(t, scripts, th.k8s.Scheme(), th.get("first"), "Healthy", status.CurrentStatus, "")
	checkHealth(t, scripts, th.k8s.Scheme(), th.get("second"), "Degraded", status.FailedStatus, identityv1alpha1.ReasonDuplicateTenantSyncFeatures)

	h := newUMHarness(t)
	ctx := context.Background()
	tr := &EntraTenantReconciler{Client: h.k8s, APIReader: newSecretScope(h.k8s, []string{umNamespace}, nil),
		Cloud: h.r.Cloud, Recorder: h.rec, ResyncPeriod: time.Minute}
	tenant := func() *identityv1alpha1.EntraTenant {
		t.Helper()
		if _, err := tr.Reconcile(ctx, ctrl.Request{NamespacedName: types.NamespacedName{Name: "contoso"}}); err != nil {
			t.Fatal(err)
		}
		var et identityv1alpha1.EntraTenant
		if err := h.k8s.Get(ctx, types.NamespacedName{Name: "contoso"}, &et); err != nil {
			t.Fatal(err)
		}
		return &et
	}
	checkHealth(t, scripts, h.k8s.Scheme(), tenant(), "Healthy", status.CurrentStatus, "")
	var secret corev1.Secret
	if err := h.k8s.Get(ctx, types.NamespacedName{Namespace: umNamespace, Name: "entra-app"}, &secret); err != nil {
		t.Fatal(err)
	}
	secret.Data["clientSecret"] = []byte("a rotated-away secret")
	if err := h.k8s.Update(ctx, &secret); err != nil {
		t.Fatal(err)
	}
	checkHealth(t, scripts, h.k8s.Scheme(), tenant(), "Degraded", status.FailedStatus, identityv1alpha1.ReasonInvalidCredentials)
}

// checkHealth reads obj as Argo CD (the Lua script) and as Flux (kstatus).
func checkHealth(t *testing.T, scripts map[string]string, scheme *runtime.Scheme, obj client.Object, argo string, kstat status.Status, reason string) {
	t.Helper()
	u := toUnstructured(t, scheme, obj)
	script, ok := scripts[u.GetKind()]
	if !ok {
		t.Fatalf("config/argocd has no health check for %s", u.GetKind())
	}
	got, msg := runArgoHealth(t, script, u.Object)
	if got != argo || (reason != "" && !strings.Contains(msg, reason)) {
		t.Errorf("%s %s: Argo CD health = %s (%s), want %s with %q", u.GetKind(), u.GetName(), got, msg, argo, reason)
	}
	res, err := status.Compute(u)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != kstat {
		t.Errorf("%s %s: kstatus = %s (%s), want %s", u.GetKind(), u.GetName(), res.Status, res.Message, kstat)
	}
}

// argoHealthScripts reads config/argocd/argocd-cm.yaml and checks that each
// kind's script is config/argocd/health.lua.
func argoHealthScripts(t *testing.T) map[string]string {
	t.Helper()
	scripts, err := gitopshealth.Scripts("..")
	if err != nil {
		t.Error(err)
	}
	return scripts
}

func toUnstructured(t *testing.T, scheme *runtime.Scheme, obj client.Object) *unstructured.Unstructured {
	t.Helper()
	gvks, _, err := scheme.ObjectKinds(obj)
	if err != nil || len(gvks) == 0 {
		t.Fatalf("kind of %T: %v", obj, err)
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetGroupVersionKind(gvks[0])
	return u
}

// runArgoHealth runs a health script as Argo CD does.
func runArgoHealth(t *testing.T, script string, obj map[string]any) (string, string) {
	t.Helper()
	status, msg, err := gitopshealth.Argo(script, obj)
	if err != nil {
		t.Fatal(err)
	}
	return status, msg
}

// Every kind of the API has a health check, and the kinds added with the
// plan and the alignment read right: a computed SyncPlan and a UserMatchSet
// in Observe are Healthy/Current, a SignInNameAlignment whose target the
// tenant has not verified is Degraded/Failed with its reason.
func TestGitOpsHealthOfPlansSetsAndAlignments(t *testing.T) {
	scripts := argoHealthScripts(t)
	scheme := runtime.NewScheme()
	if err := identityv1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	apiPkg := reflect.TypeFor[identityv1alpha1.UserMatch]().PkgPath()
	for kind, typ := range scheme.KnownTypes(identityv1alpha1.GroupVersion) {
		if typ.PkgPath() == apiPkg && !strings.HasSuffix(kind, "List") && scripts[kind] == "" {
			t.Errorf("config/argocd/argocd-cm.yaml has no health check for %s", kind)
		}
	}

	h := newSNAHarness(t)
	h.person("jane", "jane@"+umInitial, nil)
	h.create("staff", func(s *identityv1alpha1.SignInNameAlignmentSpec) { s.TargetSuffix = "fabrikam.example" })
	h.pass("staff")
	checkHealth(t, scripts, h.k8s.Scheme(), h.alignment("staff"), "Degraded", status.FailedStatus, identityv1alpha1.ReasonTargetSuffixNotVerified)

	ctx := context.Background()
	plans := &SyncPlanReconciler{Client: h.k8s, APIReader: h.r.APIReader, Reader: h.k8s, Cloud: h.sna.Cloud,
		Directory: h.r.Directory, Recorder: h.rec, Namespace: umNamespace, ResyncPeriod: time.Minute}
	sp := &identityv1alpha1.SyncPlan{ObjectMeta: metav1.ObjectMeta{Name: "plan", Generation: 1, UID: "uid-plan"},
		Spec: identityv1alpha1.SyncPlanSpec{TenantRef: identityv1alpha1.TenantReference{Name: "contoso"}, DirectoryRef: identityv1alpha1.DirectoryReference{Name: "corp"},
			Scope: &identityv1alpha1.PlanScope{Kinds: []identityv1alpha1.ObjectKind{identityv1alpha1.ObjectUser}}}}
	if err := h.k8s.Create(ctx, sp); err != nil {
		t.Fatal(err)
	}
	if _, err := plans.Reconcile(ctx, ctrl.Request{NamespacedName: types.NamespacedName{Name: "plan"}}); err != nil {
		t.Fatal(err)
	}
	if err := h.k8s.Get(ctx, types.NamespacedName{Name: "plan"}, sp); err != nil {
		t.Fatal(err)
	}
	checkHealth(t, scripts, h.k8s.Scheme(), sp, "Healthy", status.CurrentStatus, "")

	sets := &UserMatchSetReconciler{Client: h.k8s, APIReader: h.r.APIReader, Cloud: h.sna.Cloud, Directory: h.r.Directory, Recorder: h.rec, ResyncPeriod: time.Minute}
	set := &identityv1alpha1.UserMatchSet{ObjectMeta: metav1.ObjectMeta{Name: "set", Generation: 1, UID: "uid-set"},
		Spec: identityv1alpha1.UserMatchSetSpec{TenantRef: identityv1alpha1.TenantReference{Name: "contoso"}, DirectoryRef: identityv1alpha1.DirectoryReference{Name: "corp"},
			Pairing: []identityv1alpha1.PairingRule{{SameUPN: &identityv1alpha1.SameUPNRule{}}}, Mode: identityv1alpha1.ModeObserve}}
	if err := h.k8s.Create(ctx, set); err != nil {
		t.Fatal(err)
	}
	if _, err := sets.Reconcile(ctx, ctrl.Request{NamespacedName: types.NamespacedName{Name: "set"}}); err != nil {
		t.Fatal(err)
	}
	if err := h.k8s.Get(ctx, types.NamespacedName{Name: "set"}, set); err != nil {
		t.Fatal(err)
	}
	checkHealth(t, scripts, h.k8s.Scheme(), set, "Healthy", status.CurrentStatus, "")
}
