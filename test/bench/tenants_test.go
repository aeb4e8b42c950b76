package bench_test

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/emulator"
	"github.com/entramatch/entra-match-operator/internal/emulator/faults"
	"github.com/entramatch/entra-match-operator/internal/fakead"
	"github.com/entramatch/entra-match-operator/internal/testenv/kube"
	"github.com/entramatch/entra-match-operator/internal/testenv/managerproc"
)

// badTenant is what goes wrong with the first tenant: Graph answering it in
// 2 s, failing every request with 503, or throttling every request.
var badTenant = map[string][]faults.Rule{
	"slow":      {{PathPrefix: "/v1.0/", LatencyMs: 2000}},
	"failing":   {{PathPrefix: "/v1.0/", Status: 503}},
	"throttled": {{PathPrefix: "/v1.0/", Status: 429, RetryAfterSeconds: 5}},
}

// BenchmarkManyTenants is the managed-service case: 20 EntraTenants of 500
// users each (BENCH_TENANTS, BENCH_TENANT_USERS) in one manager, Graph
// answering in 100 ms. It times the healthy tenants' convergence with every
// tenant healthy, then with the first one slow, failing or throttled
// (BENCH_BAD, comma-separated), and prints how much the bad one delayed
// the others.
func BenchmarkManyTenants(b *testing.B) {
	tenants, users := envInt("BENCH_TENANTS", 20), envInt("BENCH_TENANT_USERS", 500)
	modes := []string{"slow", "failing", "throttled"}
	switch v := os.Getenv("BENCH_BAD"); v {
	case "":
	case "none":
		modes = nil
	default:
		modes = strings.Split(v, ",")
	}
	for i := 0; i < b.N; i++ {
		base := manyTenants(b, tenants, users, "")
		fmt.Printf("many tenants: %d tenants of %d users, all healthy: the healthy ones Matched in %s\n", tenants, users, base.Round(time.Millisecond))
		for _, mode := range modes {
			if _, ok := badTenant[mode]; !ok {
				b.Fatalf("BENCH_BAD: unknown mode %q", mode)
			}
			d := manyTenants(b, tenants, users, mode)
			delay := 100 * (d.Seconds() - base.Seconds()) / base.Seconds()
			b.ReportMetric(delay, "%-delay-"+mode)
			fmt.Printf("many tenants: with the first tenant %s, the %d healthy ones Matched in %s: %+.1f%%\n", mode, tenants-1, d.Round(time.Millisecond), delay)
		}
	}
}

// manyTenants runs one scenario and returns the time until every UserMatch
// of the tenants other than the first is Matched.
func manyTenants(b *testing.B, tenants, users int, bad string) time.Duration {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	dir := b.TempDir()
	k, err := kube.Start()
	if err != nil {
		b.Fatal(err)
	}
	defer k.Stop()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	must(b, k.Kubeconfig(kubeconfig))
	ad, err := fakead.New(fakead.Config{Domain: domain, AdminPassword: "Bench-Passw0rd!"})
	if err != nil {
		b.Fatal(err)
	}
	must(b, ad.Start("127.0.0.1:0"))
	defer ad.Close()

	c := k.Client
	must(b, c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	must(b, c.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: ns}, StringData: map[string]string{"s": secret}}))
	must(b, c.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "ad", Namespace: ns}, StringData: map[string]string{"p": "Bench-Passw0rd!"}}))
	must(b, c.Create(ctx, &identityv1alpha1.ActiveDirectory{ObjectMeta: metav1.ObjectMeta{Name: "corp"}, Spec: identityv1alpha1.ActiveDirectorySpec{
		URLs: []string{ad.URL()}, BaseDN: ad.BaseDN(),
		Bind: identityv1alpha1.LDAPBind{DN: ad.AdminDN(), PasswordSecretRef: identityv1alpha1.SecretKeyReference{Name: "ad", Namespace: ns, Key: "p"}},
		TLS:  &identityv1alpha1.LDAPTLS{Mode: identityv1alpha1.TLSModeLDAPS, CABundle: string(ad.CAPEM())},
	}}))
	for t := range tenants {
		state := emulator.Snapshot{
			Organization: emulator.Organization{DisplayName: fmt.Sprintf("Tenant %d", t)},
			Domains: []emulator.Domain{
				{ID: fmt.Sprintf("t%02d.onmicrosoft.com", t), IsInitial: true, IsVerified: true, AuthenticationType: "Managed"},
				{ID: domain, IsDefault: true, IsVerified: true, AuthenticationType: "Managed"},
			},
			Sync: emulator.DefaultSyncState(),
		}
		for i := range users {
			sam := fmt.Sprintf("t%02du%04d", t, i)
			upn := sam + "@" + domain
			if _, _, err := ad.AddUser(fakead.User{SAMAccountName: sam, UserPrincipalName: upn, Mail: upn}); err != nil {
				b.Fatal(err)
			}
			state.Users = append(state.Users, emulator.User{UserPrincipalName: upn, DisplayName: sam, MailNickname: sam, Mail: &upn,
				ID: fmt.Sprintf("%08x-0000-4000-8000-%012x", t, i)})
		}
		id := fmt.Sprintf("%08x-6f43-4a59-9c8e-2f1f4d1a7c11", t)
		em, err := emulator.New(emulator.Config{
			TenantID: id, InitialDomain: fmt.Sprintf("t%02d.onmicrosoft.com", t), State: &state, OwnAudienceOnly: true,
			Apps: []emulator.App{{ClientID: clientID, Secret: secret, Permissions: []string{
				"User.ReadWrite.All", "Domain.Read.All", "Organization.Read.All", "RoleManagement.ReadWrite.Directory"}}},
			Throttle: emulator.ThrottleAuto,
		})
		if err != nil {
			b.Fatal(err)
		}
		must(b, em.Start("127.0.0.1:0", filepath.Join(dir, fmt.Sprintf("emulator-%02d", t))))
		defer em.Close()
		rules := []faults.Rule{{PathPrefix: "/v1.0/", LatencyMs: 100}}
		if t == 0 && bad != "" {
			rules = badTenant[bad]
		}
		must(b, em.Faults().Set(rules))
		must(b, c.Create(ctx, &identityv1alpha1.EntraTenant{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("t%02d", t)}, Spec: identityv1alpha1.EntraTenantSpec{
			TenantID: id, Cloud: identityv1alpha1.CloudCustom,
			Custom: &identityv1alpha1.CustomCloud{GraphURL: em.URL() + "/v1.0", AuthorityURL: em.URL(), CABundle: string(em.CACertPEM())},
			Credentials: identityv1alpha1.TenantCredentials{ClientSecret: &identityv1alpha1.ClientSecretCredential{
				ClientID: clientID, SecretRef: identityv1alpha1.SecretKeyReference{Name: "app", Namespace: ns, Key: "s"}}},
		}}))
	}

	bin, err := managerproc.Build(ctx, k.Root, dir)
	if err != nil {
		b.Fatal(err)
	}
	pprofAddr := freeAddr(b)
	mgr, err := managerproc.Start(bin, kubeconfig, managerLog(dir), managerEnv(ns),
		"--metrics-bind-address=0", "--health-probe-bind-address=0", "--resync-period=1m", fmt.Sprintf("--concurrency=%d", envInt("BENCH_CONCURRENCY", 16)),
		"--pprof-bind-address="+pprofAddr)
	if err != nil {
		b.Fatal(err)
	}
	defer mgr.Stop()
	watch := watchProgress(ctx, b, k)

	start := time.Now()
	createAll(ctx, b, c, tenants*users, func(i int) (string, string) {
		t := i % tenants // interleaved, as a GitOps sync applies them
		return fmt.Sprintf("t%02d", t), fmt.Sprintf("t%02du%04d", t, i/tenants)
	})
	// With BENCH_CPU_PROFILE, 30 s of the manager's CPU during the rollout.
	defer cpuProfile(b, pprofAddr, cmp.Or(bad, "healthy"))()
	want := (tenants - 1) * users
	for {
		healthy := 0
		for t := 1; t < tenants; t++ {
			healthy += watch.count(identityv1alpha1.ConditionMatched, fmt.Sprintf("t%02du", t))
		}
		if healthy >= want {
			d := time.Since(start)
			fmt.Printf("many tenants (%s): manager peak RSS %.1f MiB, %s\n", cmp.Or(bad, "healthy"), float64(mgr.PeakRSS())/(1<<20), memSettings())
			return d
		}
		if ctx.Err() != nil {
			b.Fatalf("%d of %d healthy UserMatches Matched when time ran out", healthy, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
