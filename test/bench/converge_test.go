// Package bench_test measures how the operator converges many UserMatches
// against the Entra emulator with Graph throttling on. `make bench` runs it;
// the figures belong in the notes, not in assertions on time.
package bench_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/emulator"
	"github.com/entramatch/entra-match-operator/internal/fakead"
	"github.com/entramatch/entra-match-operator/internal/testenv/kube"
	"github.com/entramatch/entra-match-operator/internal/testenv/managerproc"
)

const (
	tenantID  = "0b8d3f8e-6f43-4a59-9c8e-2f1f4d1a7c11"
	clientID  = "7d5c0c1e-2b8a-4c1f-8a57-6b0e2d9f3a21"
	secret    = "bench-secret"
	domain    = "contoso.com"
	ns        = "entramatch-system"
	timeScale = 10 // throttling windows and quotas 10x smaller: limits are hit within seconds
)

// BenchmarkConverge1000 creates 1,000 AD users, their cloud twins and a
// UserMatch for each, with the manager running as its own process; it
// measures the time until every UserMatch is Matched, runs one emulated sync
// of all users, and the time until every one is Ready.
func BenchmarkConverge1000(b *testing.B) {
	n := 1000
	if v := os.Getenv("BENCH_USERMATCHES"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	for i := 0; i < b.N; i++ {
		converge(b, n)
	}
}

func converge(b *testing.B, n int) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	dir := b.TempDir()

	k, err := kube.Start()
	if err != nil {
		b.Fatal(err)
	}
	defer k.Stop()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := k.Kubeconfig(kubeconfig); err != nil {
		b.Fatal(err)
	}

	ad, err := fakead.New(fakead.Config{Domain: domain, AdminPassword: "Bench-Passw0rd!"})
	if err != nil {
		b.Fatal(err)
	}
	if err := ad.Start("127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	defer ad.Close()

	state := emulator.Snapshot{
		Organization: emulator.Organization{DisplayName: "Contoso"},
		Domains: []emulator.Domain{
			{ID: "contoso.onmicrosoft.com", IsInitial: true, IsVerified: true, AuthenticationType: "Managed"},
			{ID: domain, IsDefault: true, IsVerified: true, AuthenticationType: "Managed"},
		},
		Sync: emulator.DefaultSyncState(),
	}
	exports := make([]emulator.SyncObject, 0, n)
	for i := range n {
		sam := fmt.Sprintf("user%05d", i)
		upn := sam + "@" + domain
		dn, guid, err := ad.AddUser(fakead.User{SAMAccountName: sam, UserPrincipalName: upn, Mail: upn})
		if err != nil {
			b.Fatal(err)
		}
		state.Users = append(state.Users, emulator.User{UserPrincipalName: upn, DisplayName: sam, MailNickname: sam, Mail: &upn,
			ID: fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i)})
		exports = append(exports, emulator.SyncObject{Type: "user", SourceAnchor: base64.StdEncoding.EncodeToString(guid[:]),
			UserPrincipalName: upn, Mail: upn, OnPremisesDistinguishedName: dn, OnPremisesSamAccountName: sam})
	}
	em, err := emulator.New(emulator.Config{
		TenantID: tenantID, InitialDomain: "contoso.onmicrosoft.com", State: &state, OwnAudienceOnly: true,
		Apps: []emulator.App{{ClientID: clientID, Secret: secret, Permissions: []string{
			"User.ReadWrite.All", "Domain.Read.All", "Organization.Read.All", "RoleManagement.ReadWrite.Directory"}}},
		Throttle: emulator.ThrottleAuto, TimeScale: timeScale,
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := em.Start("127.0.0.1:0", filepath.Join(dir, "emulator")); err != nil {
		b.Fatal(err)
	}
	defer em.Close()

	metricsAddr := freeAddr(b)
	bin, err := managerproc.Build(ctx, k.Root, dir)
	if err != nil {
		b.Fatal(err)
	}
	mgr, err := managerproc.Start(bin, kubeconfig, filepath.Join(dir, "manager.log"), []string{"POD_NAMESPACE=" + ns},
		"--metrics-bind-address="+metricsAddr, "--metrics-secure=false", "--health-probe-bind-address=0", "--resync-period=10s", "--concurrency=8")
	if err != nil {
		b.Fatal(err)
	}
	defer mgr.Stop()

	c := k.Client
	must(b, c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	must(b, c.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: ns}, StringData: map[string]string{"s": secret}}))
	must(b, c.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "ad", Namespace: ns}, StringData: map[string]string{"p": "Bench-Passw0rd!"}}))
	must(b, c.Create(ctx, &identityv1alpha1.EntraTenant{ObjectMeta: metav1.ObjectMeta{Name: "contoso"}, Spec: identityv1alpha1.EntraTenantSpec{
		TenantID: tenantID, Cloud: identityv1alpha1.CloudCustom,
		Custom: &identityv1alpha1.CustomCloud{GraphURL: em.URL() + "/v1.0", AuthorityURL: em.URL(), CABundle: string(em.CACertPEM())},
		Credentials: identityv1alpha1.TenantCredentials{ClientSecret: &identityv1alpha1.ClientSecretCredential{
			ClientID: clientID, SecretRef: identityv1alpha1.SecretKeyReference{Name: "app", Namespace: ns, Key: "s"}}},
	}}))
	must(b, c.Create(ctx, &identityv1alpha1.ActiveDirectory{ObjectMeta: metav1.ObjectMeta{Name: "corp"}, Spec: identityv1alpha1.ActiveDirectorySpec{
		URLs: []string{ad.URL()}, BaseDN: ad.BaseDN(),
		Bind: identityv1alpha1.LDAPBind{DN: ad.AdminDN(), PasswordSecretRef: identityv1alpha1.SecretKeyReference{Name: "ad", Namespace: ns, Key: "p"}},
		TLS:  &identityv1alpha1.LDAPTLS{Mode: identityv1alpha1.TLSModeLDAPS, CABundle: string(ad.CAPEM())},
	}}))

	b.ResetTimer()
	start := time.Now()
	createAll(ctx, b, c, n)
	created := time.Since(start)
	waitAll(ctx, b, c, n, identityv1alpha1.ConditionMatched)
	matched := time.Since(start)

	syncStart := time.Now()
	resp, err := em.Sync(emulator.SyncRequest{Objects: exports})
	if err != nil {
		b.Fatal(err)
	}
	for _, r := range resp.Results {
		if r.Outcome != emulator.OutcomeHardMatch {
			b.Fatalf("sync outcome %+v, want HardMatch for every user", r)
		}
	}
	waitAll(ctx, b, c, n, identityv1alpha1.ConditionReady)
	ready := time.Since(syncStart)
	b.StopTimer()

	m := scrape(b, metricsAddr)
	graphReqs := m.sum("entramatch_graph_requests_total", "")
	throttled := m.sum("entramatch_graph_requests_total", `status="429"`)
	ldapCalls := m.sum("entramatch_ldap_requests_total", "")
	ldapLookups := m.sum("entramatch_ldap_lookups_total", "")
	peak := mgr.PeakRSS()

	b.ReportMetric(graphReqs/float64(n), "graph-req/um")
	b.ReportMetric(ldapCalls/float64(n), "ldap-calls/um")
	b.ReportMetric(throttled, "429s")
	b.ReportMetric(matched.Seconds(), "s-to-matched")
	b.ReportMetric(ready.Seconds(), "s-sync-to-ready")
	b.ReportMetric(float64(peak)/(1<<20), "manager-peak-MiB")
	// Printed, not logged: the benchmark log keeps only its first lines.
	fmt.Printf("%d UserMatches created in %s; all Matched after %s; after one sync all Ready in %s\n", n, created.Round(time.Millisecond), matched.Round(time.Millisecond), ready.Round(time.Millisecond))
	fmt.Printf("Graph requests: %.0f (%.2f per UserMatch), 429 received: %.0f; by operation:\n%s", graphReqs, graphReqs/float64(n), throttled, m.byLabel("entramatch_graph_requests_total"))
	fmt.Printf("LDAP calls: %.0f (%.3f per UserMatch) carrying %.0f lookups, by operation:\n%s", ldapCalls, ldapCalls/float64(n), ldapLookups, m.byLabel("entramatch_ldap_requests_total"))
	fmt.Printf("manager peak RSS %.1f MiB\n", float64(peak)/(1<<20))
}

func createAll(ctx context.Context, b *testing.B, c client.Client, n int) {
	var wg sync.WaitGroup
	work := make(chan int)
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				um := &identityv1alpha1.UserMatch{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("user%05d", i)},
					Spec: identityv1alpha1.UserMatchSpec{
						TenantRef: identityv1alpha1.TenantReference{Name: "contoso"}, DirectoryRef: identityv1alpha1.DirectoryReference{Name: "corp"},
						ADUser: identityv1alpha1.ADUserSelector{SAMAccountName: fmt.Sprintf("user%05d", i)},
					}}
				if err := c.Create(ctx, um); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
}

func waitAll(ctx context.Context, b *testing.B, c client.Client, n int, condType string) {
	for {
		var list identityv1alpha1.UserMatchList
		if err := c.List(ctx, &list); err != nil {
			b.Fatal(err)
		}
		ok, reasons := 0, map[string]int{}
		for _, um := range list.Items {
			if meta.IsStatusConditionTrue(um.Status.Conditions, condType) {
				ok++
			} else if cnd := meta.FindStatusCondition(um.Status.Conditions, identityv1alpha1.ConditionReady); cnd != nil {
				reasons[cnd.Reason]++
			}
		}
		if ok == n {
			return
		}
		if ctx.Err() != nil {
			b.Fatalf("%d of %d UserMatches %s when time ran out; others: %v", ok, n, condType, reasons)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

type samples []string

func scrape(b *testing.B, addr string) samples {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var out samples
	s := bufio.NewScanner(resp.Body)
	s.Buffer(make([]byte, 1<<20), 1<<20)
	for s.Scan() {
		if line := s.Text(); !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	return out
}

// sum adds the samples of a metric whose labels contain match.
func (s samples) sum(name, match string) float64 {
	total := 0.0
	for _, line := range s {
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		if match != "" && !strings.Contains(line, match) {
			continue
		}
		if i := strings.LastIndexByte(line, ' '); i > 0 {
			v, _ := strconv.ParseFloat(line[i+1:], 64)
			total += v
		}
	}
	return total
}

func (s samples) byLabel(name string) string {
	var b strings.Builder
	for _, line := range s {
		if strings.HasPrefix(line, name+"{") {
			b.WriteString("  " + line + "\n")
		}
	}
	return b.String()
}

func freeAddr(b *testing.B) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func must(b *testing.B, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
}
