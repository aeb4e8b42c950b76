// Package samba runs a throwaway Samba Active Directory domain controller
// (hack/samba.sh) for integration tests and offers the few directory
// changes tests need: users, UPN suffixes, mS-DS-ConsistencyGuid.
//
// The DC listens on fixed ports, so at most one may run on a machine; a file
// lock under the OS temp directory serialises test binaries (go test runs
// packages in parallel). Where samba is not installed the tests skip, except
// under CI=true, where they fail: CI must never pass by skipping.
package samba

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Fixed facts of the domain hack/samba.sh provisions.
const (
	Realm     = "CORP.EXAMPLE.TEST"
	DNSDomain = "corp.example.test"
	BaseDN    = "DC=corp,DC=example,DC=test"
)

// DirEnv names a directory in which a DC is (or will be) provisioned and
// kept running after the tests, e.g. one started by hand with
// `hack/samba.sh start DIR`. Without it every test binary provisions a fresh
// domain in a temporary directory and removes it at the end.
const DirEnv = "ENTRAMATCH_SAMBA_DIR"

// ErrUnavailable means that this machine cannot run the DC (tools missing,
// not root): a reason to skip, not a test failure, outside CI.
var ErrUnavailable = errors.New("samba AD DC unavailable")

// lockWait bounds how long a test binary waits for another one's DC.
const lockWait = 15 * time.Minute

// DC is a running domain controller.
type DC struct {
	// URL is the LDAPS endpoint, ldaps://127.0.0.1:636.
	URL string
	// StartTLSURL is the plain LDAP endpoint on which StartTLS is offered.
	StartTLSURL string
	BaseDN      string
	DNSDomain   string
	// BindDN and BindUPN both name the domain Administrator.
	BindDN   string
	BindUPN  string
	Password string
	// CAPEM is the CA that issued the DC's certificate (valid for
	// 127.0.0.1, ::1 and localhost).
	CAPEM []byte
	// Dir holds the domain's files; Conf is its smb.conf.
	Dir  string
	Conf string
	// Pid is the samba root process.
	Pid int
}

// Start returns a DC for one test (and its subtests), stopped by t.Cleanup.
// Prefer Shared when several tests of a package use it: provisioning takes
// 15-25 s.
func Start(t testing.TB) *DC {
	t.Helper()
	dc, stop, err := StartShared()
	if err != nil {
		unavailable(t, err)
	}
	t.Cleanup(stop)
	return dc
}

// Shared starts one DC on first use and keeps it for the whole test binary.
// Declare it in the test package and stop it from TestMain:
//
//	var dc samba.Shared
//	func TestMain(m *testing.M) { code := m.Run(); dc.Stop(); os.Exit(code) }
//	func TestX(t *testing.T) { d := dc.Get(t); ... }
type Shared struct {
	once sync.Once
	dc   *DC
	stop func()
	err  error
}

// Get returns the shared DC, starting it if needed; skips or fails t (see the
// package comment) when samba cannot run here.
func (s *Shared) Get(t testing.TB) *DC {
	t.Helper()
	s.once.Do(func() { s.dc, s.stop, s.err = StartShared() })
	if s.err != nil {
		unavailable(t, s.err)
	}
	return s.dc
}

// Stop stops the DC if Get started one.
func (s *Shared) Stop() {
	if s.stop != nil {
		s.stop()
	}
}

func unavailable(t testing.TB, err error) {
	t.Helper()
	if errors.Is(err, ErrUnavailable) && os.Getenv("CI") != "true" {
		t.Skipf("skipping: %v", err)
	}
	t.Fatalf("samba AD DC: %v", err)
}

// StartShared starts a DC (provisioning it first if needed) and returns a
// function that stops it and releases the machine-wide lock. It is meant for
// TestMain and for Shared; tests normally call Start or Shared.Get.
func StartShared() (*DC, func(), error) {
	if err := checkTools(); err != nil {
		return nil, nil, err
	}
	script, err := findScript()
	if err != nil {
		return nil, nil, err
	}
	unlock, err := lockMachine(filepath.Join(os.TempDir(), "entramatch-samba.lock"), lockWait)
	if err != nil {
		return nil, nil, err
	}
	// Holding the lock, any DC still recorded as current was left behind by
	// a test binary that died (go test's timeout kills it before TestMain
	// can clean up): stop it, or its ports would block this run.
	current := filepath.Join(os.TempDir(), "entramatch-samba.current")
	if orphan, err := os.ReadFile(current); err == nil && isOwnTempDir(string(orphan)) {
		if out, err := runScript(script, "stop", string(orphan)); err != nil {
			fmt.Fprintf(os.Stderr, "samba: stopping the DC left in %s: %v\n%s", orphan, err, out)
		}
		_ = os.RemoveAll(string(orphan))
		_ = os.Remove(current)
	}
	dir, keep := os.Getenv(DirEnv), true
	if dir == "" {
		keep = false
		if dir, err = os.MkdirTemp("", "entramatch-samba-"); err != nil {
			unlock()
			return nil, nil, fmt.Errorf("creating the DC directory: %w", err)
		}
		if err := os.WriteFile(current, []byte(dir), 0o600); err != nil {
			unlock()
			return nil, nil, fmt.Errorf("recording the DC directory: %w", err)
		}
	}
	cleanup := func() {
		if !keep {
			if out, err := runScript(script, "stop", dir); err != nil {
				fmt.Fprintf(os.Stderr, "samba: stopping the DC in %s: %v\n%s", dir, err, out)
			}
			_ = os.RemoveAll(dir)
			_ = os.Remove(current)
		}
		unlock()
	}
	if out, err := runScript(script, "start", dir); err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("hack/samba.sh start: %w\n%s", err, out)
	}
	dc, err := load(dir)
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	return dc, cleanup, nil
}

// isOwnTempDir reports whether dir looks like a directory StartShared made,
// so that a tampered record cannot make it delete anything else.
func isOwnTempDir(dir string) bool {
	return filepath.Dir(dir) == filepath.Clean(os.TempDir()) && strings.HasPrefix(filepath.Base(dir), "entramatch-samba-")
}

func checkTools() error {
	var missing []string
	for _, tool := range []string{"samba", "samba-tool", "ldapsearch", "openssl"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s not installed (run hack/samba.sh install)", ErrUnavailable, strings.Join(missing, ", "))
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("%w: running samba needs root (it binds ports 389 and 636)", ErrUnavailable)
	}
	return nil
}

// findScript looks for hack/samba.sh in the module root above the working
// directory, which go test sets to the package under test.
func findScript() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("finding hack/samba.sh: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			script := filepath.Join(dir, "hack", "samba.sh")
			if _, err := os.Stat(script); err != nil {
				return "", fmt.Errorf("finding hack/samba.sh: %w", err)
			}
			return script, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("finding hack/samba.sh: no go.mod above the working directory")
		}
		dir = parent
	}
}

func runScript(script string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", append([]string{script}, args...)...)
	return cmd.CombinedOutput()
}

// load reads DIR/env, which hack/samba.sh writes once the DC answers.
func load(dir string) (*DC, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "env"))
	if err != nil {
		return nil, fmt.Errorf("reading the DC settings: %w", err)
	}
	env := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if ok {
			env[k] = strings.Trim(v, "'")
		}
	}
	for _, k := range []string{"SAMBA_URL", "SAMBA_STARTTLS_URL", "SAMBA_BASE_DN", "SAMBA_BIND_DN", "SAMBA_BIND_UPN", "SAMBA_PASSWORD", "SAMBA_CA", "SAMBA_CONF", "SAMBA_PID"} {
		if env[k] == "" {
			return nil, fmt.Errorf("%s/env lacks %s", dir, k)
		}
	}
	ca, err := os.ReadFile(env["SAMBA_CA"])
	if err != nil {
		return nil, fmt.Errorf("reading the DC's CA: %w", err)
	}
	pid, err := strconv.Atoi(env["SAMBA_PID"])
	if err != nil {
		return nil, fmt.Errorf("%s/env: SAMBA_PID: %w", dir, err)
	}
	return &DC{
		URL:         env["SAMBA_URL"],
		StartTLSURL: env["SAMBA_STARTTLS_URL"],
		BaseDN:      env["SAMBA_BASE_DN"],
		DNSDomain:   env["SAMBA_DNS_DOMAIN"],
		BindDN:      env["SAMBA_BIND_DN"],
		BindUPN:     env["SAMBA_BIND_UPN"],
		Password:    env["SAMBA_PASSWORD"],
		CAPEM:       ca,
		Dir:         dir,
		Conf:        env["SAMBA_CONF"],
		Pid:         pid,
	}, nil
}
