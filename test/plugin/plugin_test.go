// Package plugin_test installs the CLI the way a kubectl user does: the
// release script builds the archive and the krew manifest
// (hack/plugin-dist.sh), krew installs them, and kubectl, built from the
// same Kubernetes release as the test API server, finds the plugin on PATH
// and runs `kubectl entramatch ...` against that API server.
package plugin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/yaml"

	"github.com/entramatch/entra-match-operator/internal/testenv/kube"
)

const repoRoot = "../.."

// tool fails the test when a binary that `make test` builds is missing.
func tool(t *testing.T, what, path string) string {
	t.Helper()
	if _, err := os.Stat(path); path == "" || err != nil {
		t.Fatalf("%s not found at %q: run `make test`, which builds it", what, path)
	}
	return path
}

type shell struct {
	t   *testing.T
	env []string
}

func (s shell) run(name string, args ...string) (string, error) {
	s.t.Helper()
	// The release build compiles every package again (-trimpath), which
	// takes minutes from a cold cache while other suites run.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = s.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func (s shell) must(name string, args ...string) string {
	s.t.Helper()
	out, err := s.run(name, args...)
	if err != nil {
		s.t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

func TestKubectlEntramatch(t *testing.T) {
	kubectl := tool(t, "kubectl (in $KUBEBUILDER_ASSETS)", filepath.Join(os.Getenv("KUBEBUILDER_ASSETS"), "kubectl"))
	krew := tool(t, "krew ($KREW)", os.Getenv("KREW"))

	// The release: archive and manifest for this machine's platform.
	dist := t.TempDir()
	sh := shell{t: t, env: os.Environ()}
	sh.must(filepath.Join(repoRoot, "hack", "plugin-dist.sh"), "v0.0.1", dist, runtime.GOOS+"/"+runtime.GOARCH)
	manifest := filepath.Join(dist, "entramatch.yaml")
	archive := filepath.Join(dist, "kubectl-entramatch_"+runtime.GOOS+"_"+runtime.GOARCH+".tar.gz")

	// A PATH with kubectl and krew (as kubectl-krew), nothing of the repo.
	pathDir := t.TempDir()
	for name, target := range map[string]string{"kubectl": kubectl, "kubectl-krew": krew} {
		if err := os.Symlink(target, filepath.Join(pathDir, name)); err != nil {
			t.Fatal(err)
		}
	}
	krewRoot := t.TempDir()
	home := t.TempDir()
	sh.env = []string{"PATH=" + pathDir + ":" + filepath.Join(krewRoot, "bin") + ":/usr/bin:/bin", "KREW_ROOT=" + krewRoot, "HOME=" + home}

	// krew validates the manifest, checks the archive's sha256 and installs.
	out := sh.must("kubectl", "krew", "install", "--manifest="+manifest, "--archive="+archive)
	if !strings.Contains(out, "Installed plugin: entramatch") {
		t.Fatalf("krew install:\n%s", out)
	}
	if out := sh.must("kubectl", "plugin", "list"); !strings.Contains(out, filepath.Join(krewRoot, "bin", "kubectl-entramatch")) {
		t.Fatalf("kubectl plugin list:\n%s", out)
	}
	if out, err := sh.run("kubectl", "entramatch"); err == nil || !strings.Contains(out, "Usage: kubectl entramatch COMMAND") {
		t.Fatalf("kubectl entramatch without a command: %v\n%s", err, out)
	}
	// A conversion needs no cluster.
	if out := sh.must("kubectl", "entramatch", "immutableid", "-o", "yaml", "4f2a5b6e-0000-0000-0000-000000000001"); !strings.Contains(out, "immutableId: blsqTwAAAAAAAAAAAAAAAQ==") {
		t.Fatalf("immutableid -o yaml:\n%s", out)
	}

	// Against an API server, chosen with --kubeconfig and --context: the
	// kubeconfig's current context points nowhere.
	env, err := kube.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := env.Kubeconfig(kubeconfig); err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	working := cfg.CurrentContext
	cfg.Clusters["nowhere"] = &clientcmdapi.Cluster{Server: "https://127.0.0.1:1"}
	cfg.Contexts["nowhere"] = &clientcmdapi.Context{Cluster: "nowhere", AuthInfo: cfg.Contexts[working].AuthInfo}
	cfg.CurrentContext = "nowhere"
	if err := clientcmd.WriteToFile(*cfg, kubeconfig); err != nil {
		t.Fatal(err)
	}
	// The sample EntraTenant, applied as a person would.
	sample, err := filepath.Abs(filepath.Join(repoRoot, "config", "samples", "identity_v1alpha1_entratenant.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	sh.must("kubectl", "apply", "-f", sample, "--kubeconfig", kubeconfig, "--context", working)

	if out, err := sh.run("kubectl", "entramatch", "status", "--tenant", "contoso", "--kubeconfig", kubeconfig); err == nil {
		t.Fatalf("the current context points nowhere, yet status worked:\n%s", out)
	}
	out = sh.must("kubectl", "entramatch", "status", "--tenant", "contoso", "--kubeconfig", kubeconfig, "--context", working, "-o", "json")
	var rep struct {
		Tenant    string `json:"tenant"`
		Resources []struct {
			Kind string `json:"kind"`
			Name string `json:"name"`
		} `json:"resources"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Tenant != "contoso" || len(rep.Resources) == 0 || rep.Resources[0].Kind != "EntraTenant" {
		t.Fatalf("status -o json (%v):\n%s", err, out)
	}
	out = sh.must("kubectl", "entramatch", "status", "--tenant=contoso", "--kubeconfig="+kubeconfig, "--context="+working, "-o=yaml")
	if err := yaml.Unmarshal([]byte(out), &rep); err != nil || rep.Tenant != "contoso" {
		t.Fatalf("status -o yaml (%v):\n%s", err, out)
	}
	// KUBECONFIG is honoured as kubectl honours it.
	sh.env = append(sh.env, "KUBECONFIG="+kubeconfig)
	if out := sh.must("kubectl", "entramatch", "status", "--tenant", "contoso", "--context", working); !strings.Contains(out, "contoso") {
		t.Fatalf("status with KUBECONFIG:\n%s", out)
	}
	if out, err := sh.run("kubectl", "entramatch", "status", "--tenant", "contoso", "--context", working, "-o", "wide"); err == nil || !strings.Contains(out, "-o must be table, json or yaml") {
		t.Fatalf("status -o wide: %v\n%s", err, out)
	}
}
