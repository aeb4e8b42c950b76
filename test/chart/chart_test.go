// Package chart_test renders the Helm chart (charts/entra-match-operator)
// with Helm's own Go library, as `helm install` would, applies what it
// renders to a real kube-apiserver (envtest) as a server-side dry run, and
// checks that the chart and the kustomize manifests (config/default) install
// the same CRDs and grant the same rights.
package chart_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/loader"
	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/lint"
	"helm.sh/helm/v4/pkg/chart/v2/lint/support"
	"helm.sh/helm/v4/pkg/engine"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/entramatch/entra-match-operator/internal/testenv/kube"
)

const (
	repoRoot  = "../.."
	chartDir  = repoRoot + "/charts/entra-match-operator"
	namespace = "entra-match-system"
)

// k8sClient talks to the envtest API server started by TestMain; set once
// before any test runs.
var k8sClient client.Client

func TestMain(m *testing.M) {
	os.Exit(kube.RunTests(m, func(env *kube.Env) { k8sClient = env.Client }))
}

// render does what `helm install --namespace ns` does before it talks to
// the cluster: load the chart, validate values against values.schema.json,
// render the templates. It returns the CRDs and the templates' objects.
func render(t *testing.T, values map[string]any, ns string) ([]*unstructured.Unstructured, error) {
	t.Helper()
	ch, err := loader.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	vals, err := util.ToRenderValuesWithSchemaValidation(ch, values,
		common.ReleaseOptions{Name: "entra-match-operator", Namespace: ns, Revision: 1, IsInstall: true}, nil, false)
	if err != nil {
		return nil, err
	}
	files, err := engine.Render(ch, vals)
	if err != nil {
		return nil, err
	}
	var objs []*unstructured.Unstructured
	for _, crd := range ch.(*chartv2.Chart).CRDObjects() {
		objs = append(objs, decode(t, crd.Filename, crd.File.Data)...)
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if strings.HasSuffix(name, "NOTES.txt") {
			continue
		}
		objs = append(objs, decode(t, name, []byte(files[name]))...)
	}
	return objs, nil
}

func mustRender(t *testing.T, values map[string]any) []*unstructured.Unstructured {
	t.Helper()
	objs, err := render(t, values, namespace)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

func decode(t *testing.T, name string, data []byte) []*unstructured.Unstructured {
	t.Helper()
	var out []*unstructured.Unstructured
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(string(data)), 4096)
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return out
			}
			t.Fatalf("%s: %v\n%s", name, err, data)
		}
		if len(m) == 0 {
			continue
		}
		out = append(out, &unstructured.Unstructured{Object: m})
	}
}

// kustomize builds config/default as `kubectl apply -k` would.
func kustomize(t *testing.T) []*unstructured.Unstructured {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(filesys.MakeFsOnDisk(), filepath.Join(repoRoot, "config", "default"))
	if err != nil {
		t.Fatal(err)
	}
	y, err := m.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, "config/default", y)
}

func find(objs []*unstructured.Unstructured, kind, nameSuffix, ns string) *unstructured.Unstructured {
	for _, o := range objs {
		if o.GetKind() == kind && strings.HasSuffix(o.GetName(), nameSuffix) && o.GetNamespace() == ns {
			return o
		}
	}
	return nil
}

func mustFind(t *testing.T, objs []*unstructured.Unstructured, kind, nameSuffix, ns string) *unstructured.Unstructured {
	t.Helper()
	o := find(objs, kind, nameSuffix, ns)
	if o == nil {
		t.Fatalf("no %s *%s in namespace %q", kind, nameSuffix, ns)
	}
	return o
}

// dryRunApply sends every object to the API server as a server-side apply
// with dryRun=All: the server validates each against its schema (the
// CRDs' structural schemas, RBAC's and apps' own), admission included,
// and stores nothing.
func dryRunApply(t *testing.T, objs []*unstructured.Unstructured) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, o := range objs {
		o := o.DeepCopy()
		o.SetManagedFields(nil)
		if err := k8sClient.Apply(ctx, client.ApplyConfigurationFromUnstructured(o), client.DryRunAll, client.FieldOwner("helm"), client.ForceOwnership); err != nil {
			t.Errorf("server-side dry run of %s %s/%s: %v", o.GetKind(), o.GetNamespace(), o.GetName(), err)
		}
	}
}

// ensureNamespaces creates namespaces for real: a dry run of a namespaced
// object needs its namespace to exist.
func ensureNamespaces(t *testing.T, names ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, n := range names {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: n}}
		if err := k8sClient.Create(ctx, ns); client.IgnoreAlreadyExists(err) != nil {
			t.Fatal(err)
		}
	}
}

func kinds(objs []*unstructured.Unstructured) map[string]int {
	out := map[string]int{}
	for _, o := range objs {
		out[o.GetKind()]++
	}
	return out
}

func TestChartPassesHelmLint(t *testing.T) {
	for _, values := range []map[string]any{nil, nonDefaultValues()} {
		l := lint.RunAll(chartDir, values, namespace)
		for _, m := range l.Messages {
			if m.Severity >= support.WarningSev {
				t.Errorf("helm lint: %s", m)
			}
		}
	}
}

func TestChartDefaultsApplyToAnAPIServer(t *testing.T) {
	objs := mustRender(t, nil)
	got := kinds(objs)
	want := map[string]int{"CustomResourceDefinition": 7, "ServiceAccount": 1, "ClusterRole": 2, "ClusterRoleBinding": 1,
		"Role": 2, "RoleBinding": 2, "Deployment": 1, "Service": 1}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rendered kinds %v, want %v", got, want)
	}
	ensureNamespaces(t, namespace)
	dryRunApply(t, objs)

	args := containerArgs(t, mustFind(t, objs, "Deployment", "controller-manager", namespace))
	for _, a := range []string{"--leader-elect", "--resync-period=5m", "--concurrency=16", "--secret-namespaces=" + namespace, "--metrics-bind-address=:8443"} {
		if !slices.Contains(args, a) {
			t.Errorf("default args %v lack %s", args, a)
		}
	}
}

func nonDefaultValues() map[string]any {
	return map[string]any{
		"image":            map[string]any{"repository": "registry.example/entra-match", "digest": "sha256:" + strings.Repeat("ab", 32)},
		"replicaCount":     2,
		"leaderElection":   map[string]any{"leaseDuration": "30s", "renewDeadline": "20s", "retryPeriod": "4s"},
		"resyncPeriod":     "10m",
		"concurrency":      32,
		"graphWriteQuota":  "2000/150s",
		"secretNamespaces": []any{"team-a", "team-b", namespace},
		"logLevel":         "debug",
		"goMemLimit":       "200MiB",
		"resources":        map[string]any{"limits": map[string]any{"memory": "400Mi"}},
		"serviceAccount":   map[string]any{"annotations": map[string]any{"azure.workload.identity/client-id": "00000000-0000-0000-0000-000000000001"}},
		"metrics": map[string]any{
			"serviceMonitor": map[string]any{"enabled": true, "labels": map[string]any{"release": "prom"}},
			"prometheusRule": map[string]any{"enabled": true},
		},
		"grafana": map[string]any{"dashboard": map[string]any{"enabled": true}},
	}
}

func TestChartNonDefaultValues(t *testing.T) {
	objs := mustRender(t, nonDefaultValues())
	dep := mustFind(t, objs, "Deployment", "controller-manager", namespace)
	if r, _, _ := unstructured.NestedFieldNoCopy(dep.Object, "spec", "replicas"); fmt.Sprint(r) != "2" {
		t.Errorf("replicas %v", r)
	}
	args := containerArgs(t, dep)
	for _, a := range []string{"--leader-elect", "--leader-elect-lease-duration=30s", "--leader-elect-renew-deadline=20s",
		"--leader-elect-retry-period=4s", "--resync-period=10m", "--concurrency=32", "--graph-write-quota=2000/150s",
		"--secret-namespaces=" + namespace + ",team-a,team-b", "--zap-log-level=debug"} {
		if !slices.Contains(args, a) {
			t.Errorf("args %v lack %s", args, a)
		}
	}
	c := container(t, dep)
	if img := c["image"]; img != "registry.example/entra-match@sha256:"+strings.Repeat("ab", 32) {
		t.Errorf("image %v", img)
	}
	if env := fmt.Sprint(c["env"]); !strings.Contains(env, "GOMEMLIMIT value:200MiB") {
		t.Errorf("env %s", env)
	}
	sa := mustFind(t, objs, "ServiceAccount", "controller-manager", namespace)
	if sa.GetAnnotations()["azure.workload.identity/client-id"] == "" {
		t.Errorf("service account annotations %v", sa.GetAnnotations())
	}

	// The PrometheusRule's groups are config/prometheus/rules.yaml's.
	rule := mustFind(t, objs, "PrometheusRule", "entra-match-operator", namespace)
	shipped := decode(t, "rules.yaml", read(t, "config", "prometheus", "rules.yaml"))[0]
	if !reflect.DeepEqual(rule.Object["spec"], shipped.Object["spec"]) {
		t.Errorf("the chart's PrometheusRule differs from config/prometheus/rules.yaml")
	}
	dash := mustFind(t, objs, "ConfigMap", "dashboard", namespace)
	if d, _, _ := unstructured.NestedString(dash.Object, "data", "entra-match-operator.json"); strings.TrimSpace(d) != strings.TrimSpace(string(read(t, "config", "grafana", "entra-match-operator.json"))) {
		t.Errorf("the dashboard ConfigMap differs from config/grafana/entra-match-operator.json")
	}
	mon := mustFind(t, objs, "ServiceMonitor", "entra-match-operator", namespace)
	if l := mon.GetLabels()["release"]; l != "prom" {
		t.Errorf("ServiceMonitor labels %v", mon.GetLabels())
	}

	// The API server knows ServiceMonitor and PrometheusRule only once the
	// Prometheus Operator's CRDs are in: these stand-ins accept any spec, so
	// the dry run below checks their metadata, the rest is checked above.
	installMonitoringKinds(t)
	ensureNamespaces(t, namespace, "team-a", "team-b")
	dryRunApply(t, objs)
}

// Secrets are reachable only through Roles, in exactly the namespaces the
// manager is told to read Secrets from (docs/security.md): no ClusterRole
// of the chart names Secrets, and --secret-namespaces lists the same
// namespaces the Secret Roles are bound in.
func TestChartGrantsSecretsOnlyWhereTheManagerReadsThem(t *testing.T) {
	for _, values := range []map[string]any{nil, nonDefaultValues()} {
		objs := mustRender(t, values)
		for _, o := range objs {
			if o.GetKind() == "ClusterRole" && strings.Contains(fmt.Sprint(o.Object["rules"]), "secrets") {
				t.Errorf("ClusterRole %s grants Secrets", o.GetName())
			}
		}
		roles := map[string]*unstructured.Unstructured{}
		for _, o := range objs {
			if o.GetKind() == "Role" && strings.Contains(fmt.Sprint(o.Object["rules"]), "secrets") {
				roles[o.GetNamespace()+"/"+o.GetName()] = o
			}
		}
		var bound []string
		for _, o := range objs {
			if o.GetKind() != "RoleBinding" {
				continue
			}
			ref, _, _ := unstructured.NestedString(o.Object, "roleRef", "name")
			if roles[o.GetNamespace()+"/"+ref] != nil {
				bound = append(bound, o.GetNamespace())
			}
		}
		var flags []string
		for _, a := range containerArgs(t, mustFind(t, objs, "Deployment", "controller-manager", namespace)) {
			if v, ok := strings.CutPrefix(a, "--secret-namespaces="); ok {
				flags = append(flags, v)
			}
		}
		if flag := strings.Join(flags, " and "); len(flags) != 1 || flag != strings.Join(bound, ",") || len(roles) != len(bound) {
			t.Errorf("--secret-namespaces=%s, Secret Roles bound in %v (%d Secret Roles)", flag, bound, len(roles))
		}
	}
}

// The chart and `kubectl apply -k config/default` install the same CRDs
// and grant the manager the same rights.
func TestChartAgreesWithKustomize(t *testing.T) {
	chart := mustRender(t, nil)
	kust := kustomize(t)

	crds := func(objs []*unstructured.Unstructured) map[string]any {
		out := map[string]any{}
		for _, o := range objs {
			if o.GetKind() == "CustomResourceDefinition" {
				out[o.GetName()] = o.Object
			}
		}
		return out
	}
	if a, b := crds(chart), crds(kust); len(a) == 0 || !reflect.DeepEqual(a, b) {
		t.Errorf("CRDs differ: chart has %d, kustomize %d (run make manifests)", len(a), len(b))
	}

	for _, r := range []struct{ kind, suffix, chartNS, kustNS string }{
		{"ClusterRole", "manager-role", "", ""},
		{"Role", "manager-role", namespace, namespace},
		{"Role", "leader-election-role", namespace, namespace},
		{"ClusterRole", "metrics-reader", "", ""},
	} {
		c, k := mustFind(t, chart, r.kind, r.suffix, r.chartNS), mustFind(t, kust, r.kind, r.suffix, r.kustNS)
		if !reflect.DeepEqual(normalRules(t, c), normalRules(t, k)) {
			t.Errorf("%s %s: chart rules %v, kustomize rules %v", r.kind, r.suffix, c.Object["rules"], k.Object["rules"])
		}
	}
	for _, b := range []struct{ kind, suffix, ns string }{
		{"ClusterRoleBinding", "manager-rolebinding", ""},
		{"RoleBinding", "manager-secrets-rolebinding", namespace},
		{"RoleBinding", "leader-election-rolebinding", namespace},
	} {
		c, k := mustFind(t, chart, b.kind, b.suffix, b.ns), mustFind(t, kust, b.kind, b.suffix, b.ns)
		if got, want := bindingShape(t, chart, c), bindingShape(t, kust, k); got != want {
			t.Errorf("%s %s: chart binds %s, kustomize %s", b.kind, b.suffix, got, want)
		}
	}

	// The same container settings, apart from naming and the args the chart
	// spells out.
	cd, kd := mustFind(t, chart, "Deployment", "controller-manager", namespace), mustFind(t, kust, "Deployment", "controller-manager", namespace)
	cc, kc := container(t, cd), container(t, kd)
	for _, field := range []string{"env", "resources", "securityContext", "livenessProbe", "readinessProbe", "ports"} {
		if !reflect.DeepEqual(cc[field], kc[field]) {
			t.Errorf("container %s: chart %v, kustomize %v", field, cc[field], kc[field])
		}
	}
	for _, a := range containerArgs(t, kd) {
		if !slices.Contains(containerArgs(t, cd), a) {
			t.Errorf("kustomize passes %s, the chart does not", a)
		}
	}
	cs, _, _ := unstructured.NestedMap(cd.Object, "spec", "template", "spec", "securityContext")
	ks, _, _ := unstructured.NestedMap(kd.Object, "spec", "template", "spec", "securityContext")
	if !reflect.DeepEqual(cs, ks) {
		t.Errorf("pod securityContext: chart %v, kustomize %v", cs, ks)
	}
}

// Values a person gets wrong are refused before anything reaches the
// cluster, with a message that names the value.
func TestChartRejectsBadValues(t *testing.T) {
	for _, tc := range []struct {
		name   string
		values map[string]any
		want   string
	}{
		{"misspelt key", map[string]any{"replicas": 2}, "replicas"},
		{"duration in words", map[string]any{"resyncPeriod": "five minutes"}, "resyncPeriod"},
		{"namespace not a DNS label", map[string]any{"secretNamespaces": []any{"Team_A"}}, "secretNamespaces"},
		{"write quota without a period", map[string]any{"graphWriteQuota": "3000"}, "graphWriteQuota"},
		{"concurrency zero", map[string]any{"concurrency": 0}, "concurrency"},
		{"log level", map[string]any{"logLevel": "verbose"}, "logLevel"},
		{"two replicas without leader election", map[string]any{"replicaCount": 2, "leaderElection": map[string]any{"enabled": false}},
			"replicaCount above 1 needs leaderElection.enabled"},
		{"ServiceMonitor without its Service", map[string]any{"metrics": map[string]any{"service": map[string]any{"enabled": false},
			"serviceMonitor": map[string]any{"enabled": true}}}, "metrics.serviceMonitor.enabled needs metrics.service.enabled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := render(t, tc.values, namespace)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error naming %q", err, tc.want)
			}
		})
	}
}

func read(t *testing.T, path ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(append([]string{repoRoot}, path...)...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func container(t *testing.T, dep *unstructured.Unstructured) map[string]any {
	t.Helper()
	cs, _, _ := unstructured.NestedSlice(dep.Object, "spec", "template", "spec", "containers")
	if len(cs) != 1 {
		t.Fatalf("%s has %d containers", dep.GetName(), len(cs))
	}
	return cs[0].(map[string]any)
}

func containerArgs(t *testing.T, dep *unstructured.Unstructured) []string {
	t.Helper()
	var out []string
	for _, a := range container(t, dep)["args"].([]any) {
		out = append(out, a.(string))
	}
	return out
}

// normalRules is a role's rules with every list sorted, so that the order
// controller-gen or a template writes them in does not matter.
func normalRules(t *testing.T, role *unstructured.Unstructured) []string {
	t.Helper()
	var rules []map[string][]string
	raw, err := yaml.Marshal(role.Object["rules"])
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, &rules); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rules {
		var parts []string
		for _, k := range []string{"apiGroups", "resources", "verbs", "nonResourceURLs", "resourceNames"} {
			v := slices.Clone(r[k])
			sort.Strings(v)
			parts = append(parts, k+"="+strings.Join(v, ","))
		}
		out = append(out, strings.Join(parts, " "))
	}
	sort.Strings(out)
	return out
}

// bindingShape says which rules a binding grants to which account, by
// content: the bound role's rules and the subject's role in the install
// (the manager's ServiceAccount), not their names.
func bindingShape(t *testing.T, objs []*unstructured.Unstructured, b *unstructured.Unstructured) string {
	t.Helper()
	kind, _, _ := unstructured.NestedString(b.Object, "roleRef", "kind")
	name, _, _ := unstructured.NestedString(b.Object, "roleRef", "name")
	ns := ""
	if kind == "Role" {
		ns = b.GetNamespace()
	}
	var role *unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name && o.GetNamespace() == ns {
			role = o
		}
	}
	if role == nil {
		return fmt.Sprintf("missing %s %s", kind, name)
	}
	subjects, _, _ := unstructured.NestedSlice(b.Object, "subjects")
	var who []string
	for _, s := range subjects {
		s := s.(map[string]any)
		sa := find(objs, "ServiceAccount", "", fmt.Sprint(s["namespace"]))
		if s["kind"] != "ServiceAccount" || sa == nil || sa.GetName() != s["name"] {
			who = append(who, fmt.Sprintf("unknown %v", s))
			continue
		}
		who = append(who, "the manager's ServiceAccount in "+fmt.Sprint(s["namespace"]))
	}
	return fmt.Sprintf("%s %v to %v", kind, normalRules(t, role), who)
}

// installMonitoringKinds installs stand-ins for the Prometheus Operator's
// ServiceMonitor and PrometheusRule CRDs, with an open schema.
func installMonitoringKinds(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, k := range []struct{ kind, plural string }{{"ServiceMonitor", "servicemonitors"}, {"PrometheusRule", "prometheusrules"}} {
		crd := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
			"metadata": map[string]any{"name": k.plural + ".monitoring.coreos.com"},
			"spec": map[string]any{
				"group": "monitoring.coreos.com", "scope": "Namespaced",
				"names": map[string]any{"kind": k.kind, "plural": k.plural, "listKind": k.kind + "List", "singular": strings.ToLower(k.kind)},
				"versions": []any{map[string]any{"name": "v1", "served": true, "storage": true,
					"schema": map[string]any{"openAPIV3Schema": map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}},
			},
		}}
		if err := k8sClient.Create(ctx, crd); client.IgnoreAlreadyExists(err) != nil {
			t.Fatal(err)
		}
	}
	// The API server serves a new kind a moment after its CRD is created.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var err error
		for _, kind := range []string{"PrometheusRuleList", "ServiceMonitorList"} {
			var l unstructured.UnstructuredList
			l.SetAPIVersion("monitoring.coreos.com/v1")
			l.SetKind(kind)
			if err = k8sClient.List(ctx, &l); err != nil {
				break
			}
		}
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("monitoring kinds not served: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
