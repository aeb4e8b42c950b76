//go:build !unit

// Excluded from make unit (-tags unit): it needs a kube-apiserver.

package demo

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime"
)

func TestMain(m *testing.M) {
	// controller-runtime warns on stderr when its global logger is never
	// set; the demo's own logs go through Options.Logger.
	ctrl.SetLogger(logr.Discard())
	os.Exit(m.Run())
}

// requireControlPlane fails (never skips) without the envtest binaries, as
// the admission tests do: `make test` builds them and sets the variable.
func requireControlPlane(t *testing.T) {
	t.Helper()
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		t.Fatal("KUBEBUILDER_ASSETS is not set: run `make test`, which builds kube-apiserver and etcd (hack/envtest.sh) and sets it")
	}
	for _, bin := range []string{"kube-apiserver", "etcd"} {
		if _, err := os.Stat(filepath.Join(assets, bin)); err != nil {
			t.Fatalf("KUBEBUILDER_ASSETS=%s has no %s: run `make test` to build it", assets, bin)
		}
	}
}

// TestDemoOnce runs `demo --once` in-process and checks each row of the
// table against outcomes written out here, independently of the
// expectations in story.yaml (which Run checks itself).
func TestDemoOnce(t *testing.T) {
	requireControlPlane(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	workDir := t.TempDir()
	var out bytes.Buffer
	report, err := Run(ctx, Options{Once: true, Out: &out, WorkDir: workDir})
	t.Logf("demo output:\n%s", out.String())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}

	want := []struct {
		object, kind, sync, syncError, userMatch, ready, warning string
		cloud                                                    *regexp.Regexp
		notCloud                                                 string
	}{
		{object: "alice", kind: "user", sync: "SoftMatchSmtp", cloud: regexp.MustCompile(`^alice@contoso\.com$`)},
		{object: "bob", kind: "user", sync: "SoftMatchUpn", cloud: regexp.MustCompile(`^bob@contoso\.com$`)},
		{object: "carol", kind: "user", sync: "HardMatch", userMatch: "carol", ready: "SyncJoined", cloud: regexp.MustCompile(`^carol@contoso\.com$`)},
		// Dan's cloud account was daniel@contoso.onmicrosoft.com; sync renamed it after the hard match.
		{object: "dan", kind: "user", sync: "HardMatch", userMatch: "dan", ready: "SyncJoined", cloud: regexp.MustCompile(`^dan@contoso\.com$`)},
		// A .local suffix is not a verified domain: sync falls back to the initial domain.
		{object: "frank", kind: "user", sync: "HardMatch", userMatch: "frank", ready: "SyncJoined", warning: "NonRoutableUPNSuffix",
			cloud: regexp.MustCompile(`^frank@contoso\.onmicrosoft\.com$`)},
		// The admin is not matched: a duplicate with a quarantined UPN is created and takes her anchor.
		{object: "grace", kind: "user", sync: "Created", syncError: "ExistingAdminRoleConflict", userMatch: "grace", ready: "ImmutableIDConflict",
			cloud: regexp.MustCompile(`^grace\+\d{4}@contoso\.onmicrosoft\.com$`)},
		{object: "heidi", kind: "user", sync: "Created", cloud: regexp.MustCompile(`^heidi@contoso\.com$`)},
		// The seeded cloud Sales group (bf5de26a-...) is the one matched.
		{object: "Sales", kind: "group", sync: "SoftMatchSmtp", cloud: regexp.MustCompile(`^Sales \(bf5de26a…\)$`)},
		// A new Engineering group, not the seeded one (1f783d36-...).
		{object: "Engineering", kind: "group", sync: "Created", cloud: regexp.MustCompile(`^Engineering \([0-9a-f]{8}…\)$`),
			notCloud: "Engineering (1f783d36…)"},
	}
	if len(report.Rows) != len(want) {
		t.Errorf("the table has %d rows, want %d", len(report.Rows), len(want))
	}
	for _, w := range want {
		row := report.Row(w.object)
		if row == nil {
			t.Errorf("%s: no row in the table", w.object)
			continue
		}
		got := [...]string{row.Kind, row.Sync, row.SyncError, row.UserMatch, row.Ready, row.Warning}
		exp := [...]string{w.kind, w.sync, w.syncError, w.userMatch, w.ready, w.warning}
		if got != exp {
			t.Errorf("%s: kind, sync, sync error, UserMatch, Ready, warning = %q, want %q", w.object, got, exp)
		}
		if !w.cloud.MatchString(row.Cloud) {
			t.Errorf("%s: cloud object %q does not match %s", w.object, row.Cloud, w.cloud)
		}
		if w.notCloud != "" && row.Cloud == w.notCloud {
			t.Errorf("%s: joined to %s, which it must not be", w.object, row.Cloud)
		}
		if len(row.Problems) > 0 {
			t.Errorf("%s: the demo reports problems: %q", w.object, row.Problems)
		}
		// The printed table carries the same row.
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(w.object) + `\s+` + w.kind + `\s+` + w.sync + `\b.*\bok$`).MatchString(out.String()) {
			t.Errorf("%s: the printed table has no line %s %s %s ... ok", w.object, w.object, w.kind, w.sync)
		}
	}
	if got := report.Tenant.Flags["blockSoftMatchEnabled"]; got {
		t.Error("blockSoftMatchEnabled is on after the demo; the story keeps it off")
	}
	if !strings.Contains(out.String(), "ended as the story expects") {
		t.Error("the output lacks the verdict line")
	}
	// Everything the demo wrote into the work directory is gone.
	entries, err := os.ReadDir(workDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("the demo left %d entries in its work directory, e.g. %s", len(entries), entries[0].Name())
	}
}

// A run that the story does not describe must fail with ErrUnexpected: here
// the story wrongly expects Bob to be created.
func TestDemoOnceFailsWhenTheStoryDiffers(t *testing.T) {
	requireControlPlane(t)
	s, err := DefaultStory()
	if err != nil {
		t.Fatal(err)
	}
	for i := range s.Cast {
		if s.Cast[i].AD == "bob" {
			s.Cast[i].Expect.Sync = "Created"
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var out bytes.Buffer
	report, err := Run(ctx, Options{Once: true, Out: &out, Story: &s})
	if !errors.Is(err, ErrUnexpected) {
		t.Fatalf("Run = %v, want ErrUnexpected; output:\n%s", err, out.String())
	}
	if got := report.Problems(); len(got) != 1 || !strings.HasPrefix(got[0], "bob: sync outcome is SoftMatchUpn") {
		t.Errorf("problems = %q, want only bob's outcome", got)
	}
	if !strings.Contains(out.String(), "UNEXPECTED") {
		t.Errorf("the printed table does not flag the row:\n%s", out.String())
	}
}
