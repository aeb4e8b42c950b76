package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/entramatch/entra-match-operator/internal/emulator"
	"github.com/entramatch/entra-match-operator/internal/emulator/syncrules"
)

const (
	tenant = "0b7c8d9e-1f2a-4b3c-8d4e-5f6a7b8c9d0e"
	client = "6e5d4c3b-2a19-4807-9f6e-5d4c3b2a1908"
)

func TestParseFlags(t *testing.T) {
	base := []string{"--cert-dir", "/tmp/x", "--tenant-id", tenant, "--initial-domain", "contoso.onmicrosoft.com"}
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"minimal", append(base, "--app", client+":s:ec:ret:User.Read.All,Domain.Read.All"), ""},
		{"throttle and time scale", append(base, "--app", client+":s:", "--throttle", "medium", "--time-scale", "60"), ""},
		{"missing required", []string{"--app", client + ":s:"}, "missing required flags: --cert-dir, --initial-domain, --tenant-id"},
		{"no app", base, "at least one --app"},
		{"bad app spec", append(base, "--app", "nocolon"), "--app: want CLIENT_ID:VALUE"},
		{"bad throttle", append(base, "--app", client+":s:", "--throttle", "huge"), "--throttle must be"},
		{"empty throttle", append(base, "--app", client+":s:", "--throttle", ""), "--throttle must be"},
		{"bad time scale", append(base, "--app", client+":s:", "--time-scale", "0"), "--time-scale must be"},
		{"stray argument", append(base, "--app", client+":s:", "extra"), "unexpected arguments"},
		{"short tokens", append(base, "--app", client+":s:", "--token-lifetime", "2m"), ""},
		{"tenant without PIM", append(base, "--app", client+":s:", "--pim=false"), ""},
		{"token lifetime too short", append(base, "--app", client+":s:", "--token-lifetime", "10s"), "--token-lifetime must be between"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseFlags(tt.args, io.Discard)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if len(o.apps) != 1 || o.apps[0].ClientID != client {
					t.Errorf("apps %+v", o.apps)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
	testIdentityFlags(t, base)
	o, err := parseFlags(append(base, "--app", client+":s:ec:ret:User.Read.All,Domain.Read.All"), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.throttle != emulator.ThrottleAuto || o.timeScale != 1 {
		t.Errorf("defaults: throttle %q, time scale %v; want auto and 1", o.throttle, o.timeScale)
	}
	if o.apps[0].Secret != "s:ec:ret" || strings.Join(o.apps[0].Permissions, ",") != "User.Read.All,Domain.Read.All" {
		t.Errorf("app parsed as %+v", o.apps[0])
	}
}

func httpsClient(t *testing.T, certDir string) *http.Client {
	t.Helper()
	ca, err := os.ReadFile(filepath.Join(certDir, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		t.Fatal("bad ca.crt")
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
}

func TestRunServesUntilCancelled(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state.yaml")
	if err := os.WriteFile(state, []byte("users:\n- id: 3c9f1e4a-8b7d-4e6f-9a0b-1c2d3e4f5a6b\n  userPrincipalName: ada@contoso.onmicrosoft.com\n  displayName: Ada\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--cert-dir", dir, "--tenant-id", tenant, "--initial-domain", "contoso.onmicrosoft.com",
			"--app", client + ":secret:User.Read.All", "--state", state}, pw, io.Discard)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("reading ready line: %v", err)
	}
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if !ok || !strings.HasPrefix(url, "https://127.0.0.1:") {
		t.Fatalf("ready line %q", line)
	}
	go io.Copy(io.Discard, pr) //nolint:errcheck // drain so run never blocks on stdout
	res, err := httpsClient(t, dir).Get(url + "/" + tenant + "/v2.0/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("discovery: %d", res.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop after cancel")
	}
}

// TestBinaryStopsOnSIGTERM builds the command and checks the documented
// contract: one ready line on stdout, clean exit on SIGTERM.
func TestBinaryStopsOnSIGTERM(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go tool is needed to build the binary: %v", err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "entra-emulator")
	build := exec.Command(goBin, "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "--cert-dir", filepath.Join(dir, "certs"), "--tenant-id", tenant,
		"--initial-domain", "contoso.onmicrosoft.com", "--app", client+":secret:User.Read.All")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	sc := bufio.NewScanner(stdout)
	if !sc.Scan() || !strings.HasPrefix(sc.Text(), "listening on https://127.0.0.1:") {
		t.Fatalf("ready line %q", sc.Text())
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var extra []string
	for sc.Scan() {
		extra = append(extra, sc.Text())
	}
	if len(extra) > 0 {
		t.Errorf("more than one line on stdout: %q", extra)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
}

// startRun runs the command in-process and returns its URL; the server
// stops when the test ends.
func startRun(t *testing.T, dir string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"--cert-dir", dir, "--tenant-id", tenant, "--initial-domain", "contoso.onmicrosoft.com"}, args...), pw, io.Discard)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("reading ready line: %v", err)
	}
	go io.Copy(io.Discard, pr) //nolint:errcheck // drain so run never blocks on stdout
	return strings.TrimPrefix(strings.TrimSpace(line), "listening on ")
}

// TestThrottleFlags checks that --throttle and --time-scale reach the
// server: a small tenant played 100 times faster refuses a burst.
// doc: https://learn.microsoft.com/en-us/graph/throttling-limits#identity-and-access-service-limits
func TestThrottleFlags(t *testing.T) {
	dir := t.TempDir()
	base := startRun(t, dir, "--app", client+":secret:Organization.Read.All", "--throttle", "small", "--time-scale", "100")
	hc := httpsClient(t, dir)
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {client}, "client_secret": {"secret"},
		"scope": {"https://graph.microsoft.com/.default"}}
	res, err := hc.PostForm(base+"/"+tenant+"/oauth2/v2.0/token", form)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	err = json.NewDecoder(res.Body).Decode(&tok)
	res.Body.Close()
	if err != nil || tok.AccessToken == "" {
		t.Fatalf("token: %v", err)
	}
	for i := 0; i < 5000; i++ {
		req, _ := http.NewRequest(http.MethodGet, base+"/v1.0/organization", nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		res, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body) //nolint:errcheck // drain for connection reuse
		res.Body.Close()
		if res.StatusCode == http.StatusTooManyRequests {
			if res.Header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
			return
		}
		if res.StatusCode != http.StatusOK {
			t.Fatalf("request %d: %d", i, res.StatusCode)
		}
	}
	t.Fatal("never throttled")
}

// testIdentityFlags covers --public-app and --federated.
func testIdentityFlags(t *testing.T, base []string) {
	t.Helper()
	const other = "7f6e5d4c-3b2a-4918-8a7f-6e5d4c3b2a19"
	keyFile := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(keyFile, []byte(`{"keys":[{"kty":"RSA","kid":"k","n":"sXch","e":"AQAB"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	iss := "https://oidc.example/cluster"
	sub := "system:serviceaccount:ns:sa"
	o, err := parseFlags(append(append([]string(nil), base...),
		"--app", client+":s:User.Read.All",
		"--public-app", client+":OnPremDirectorySynchronization.ReadWrite.All",
		"--federated", client+"|"+iss+"|"+sub+"|"+keyFile,
		"--federated", other+"|"+iss+"|"+sub+"|"+keyFile+"|User.Read.All,Domain.Read.All"), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.apps) != 2 {
		t.Fatalf("apps %+v", o.apps)
	}
	a, b := o.apps[0], o.apps[1]
	if !a.PublicClient || strings.Join(a.DelegatedPermissions, ",") != "OnPremDirectorySynchronization.ReadWrite.All" ||
		len(a.FederatedCredentials) != 1 || a.FederatedCredentials[0].Issuer != iss || a.FederatedCredentials[0].Subject != sub || a.Secret != "s" {
		t.Errorf("merged app %+v", a)
	}
	if b.ClientID != other || strings.Join(b.Permissions, ",") != "User.Read.All,Domain.Read.All" || len(b.FederatedCredentials) != 1 {
		t.Errorf("federated-only app %+v", b)
	}
	if _, err := emulator.New(emulator.Config{TenantID: tenant, InitialDomain: "contoso.onmicrosoft.com", Apps: o.apps}); err != nil {
		t.Errorf("emulator rejects the parsed apps: %v", err)
	}
	for _, bad := range [][]string{
		{"--federated", client + "|" + iss + "|" + sub},
		{"--federated", client + "|" + iss + "|" + sub + "|/nonexistent"},
		{"--public-app", "nocolon"},
		{"--app", client + ":s:", "--federated", client + "|" + iss + "|" + sub + "|" + keyFile + "|User.Read.All"},
	} {
		if _, err := parseFlags(append(append([]string(nil), base...), bad...), io.Discard); err == nil {
			t.Errorf("parseFlags(%v) accepted", bad)
		}
	}
}

// TestFidelityFlags: every switch of docs/emulator.md's fidelity table
// defaults to the stricter reading and can be turned to the other one.
func TestFidelityFlags(t *testing.T) {
	base := []string{"--cert-dir", "/tmp/x", "--tenant-id", tenant, "--initial-domain", "contoso.onmicrosoft.com",
		"--app", client + ":s:User.ReadWrite.All"}
	o, err := parseFlags(base, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.sync.SoftMatchConflict != syncrules.ConflictQuarantine || o.sync.SoftMatchIgnoresEligibility ||
		o.sync.QuarantineReleaseInterval != time.Hour || o.sensitiveIgnoresEligibility || !o.shuffleBatchResponses ||
		len(o.apps[0].DirectoryRoles) != 0 {
		t.Errorf("defaults: %+v", o)
	}
	tests := []struct {
		name    string
		args    []string
		check   func(options) bool
		wantErr string
	}{
		{"app role by name and template id", []string{"--app-role", client + ":Privileged Authentication Administrator," + emulator.RoleUserAdministrator},
			func(o options) bool {
				return strings.Join(o.apps[0].DirectoryRoles, ",") == emulator.RolePrivilegedAuthenticationAdministrator+","+emulator.RoleUserAdministrator
			}, ""},
		{"app role of an undeclared app", []string{"--app-role", "11111111-1111-4111-8111-111111111111:Global Administrator"}, nil, "no --app"},
		{"unknown role", []string{"--app-role", client + ":Chief Officer"}, nil, "neither the display name"},
		{"bad app role spec", []string{"--app-role", client}, nil, "want CLIENT_ID:ROLE"},
		{"InvalidSoftMatch", []string{"--soft-match-conflict", "InvalidSoftMatch"},
			func(o options) bool { return o.sync.SoftMatchConflict == syncrules.ConflictInvalidSoftMatch }, ""},
		{"AttributeValueMustBeUnique", []string{"--soft-match-conflict", "attributevaluemustbeunique"},
			func(o options) bool { return o.sync.SoftMatchConflict == syncrules.ConflictAttributeValueMustBeUnique }, ""},
		{"unknown conflict mode", []string{"--soft-match-conflict", "Merge"}, nil, "--soft-match-conflict"},
		{"eligibility switches", []string{"--soft-match-ignores-eligibility", "--sensitive-actions-ignore-eligibility"},
			func(o options) bool { return o.sync.SoftMatchIgnoresEligibility && o.sensitiveIgnoresEligibility }, ""},
		{"batch in request order", []string{"--shuffle-batch-responses=false"}, func(o options) bool { return !o.shuffleBatchResponses }, ""},
		{"release interval", []string{"--quarantine-release-interval", "5m"},
			func(o options) bool { return o.sync.QuarantineReleaseInterval == 5*time.Minute }, ""},
		{"release only on demand", []string{"--quarantine-release-interval", "0"},
			func(o options) bool { return o.sync.QuarantineReleaseInterval < 0 }, ""},
		{"negative release interval", []string{"--quarantine-release-interval", "-1m"}, nil, "must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseFlags(append(append([]string(nil), base...), tt.args...), io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(o) {
				t.Errorf("parsed %+v", o)
			}
		})
	}
}
