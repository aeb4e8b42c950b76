// Package bench_test measures how the operator converges many UserMatches
// against the Entra emulator with Graph throttling on. `make bench` runs it;
// the figures belong in the notes, not in assertions on time.
package bench_test

import (
	"bufio"
	"cmp"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/directory"
	"github.com/entramatch/entra-match-operator/internal/emulator"
	"github.com/entramatch/entra-match-operator/internal/emulator/faults"
	"github.com/entramatch/entra-match-operator/internal/fakead"
	"github.com/entramatch/entra-match-operator/internal/graph"
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

// run is one bench scenario.
type run struct {
	users       int           // UserMatches the operator converges
	baseline    int           // further users the sequential script matches first (0: none)
	latency     time.Duration // added to every Graph call
	timeScale   float64       // throttling windows and quotas this many times smaller; 1 = real size
	throttle    bool
	concurrency int
	writeQuota  string // the manager's --graph-write-quota
	sync        bool   // after Matched, sync every user and wait for Ready
	coldStart   bool   // then restart the manager and time its first pass
	atRest      bool   // then count Graph requests over a resync period at rest, and with one drifted user
	resync      time.Duration
	// set: one UserMatchSet in Enforce makes the UserMatches, pairing each
	// AD user (UPN on contoso.local, which sync cannot match) with its
	// cloud twin by a suffix rewrite.
	set bool
}

// result is what a run measured.
type result struct {
	matched, ready, script time.Duration
	graphReqs, throttled   float64
	peakMiB                float64
}

// BenchmarkConverge1000 creates 1,000 AD users, their cloud twins and a
// UserMatch for each, with the manager running as its own process; it
// measures the time until every UserMatch is Matched, runs one emulated sync
// of all users, and the time until every one is Ready. BENCH_USERMATCHES,
// BENCH_LATENCY_MS, BENCH_CONCURRENCY and BENCH_TIMESCALE change the
// scenario.
func BenchmarkConverge1000(b *testing.B) {
	scale := float64(envInt("BENCH_TIMESCALE", timeScale))
	r := run{users: envInt("BENCH_USERMATCHES", 1000), latency: time.Duration(envInt("BENCH_LATENCY_MS", 0)) * time.Millisecond,
		timeScale: scale, throttle: true, concurrency: envInt("BENCH_CONCURRENCY", 16), writeQuota: scaledQuota(scale), sync: true}
	for i := 0; i < b.N; i++ {
		r.measure(b)
	}
}

// BenchmarkLatencyVsScript1000: Graph answers every call after 100 ms, as
// the real one does; the seed's procedure as a sequential script (LDAP
// lookup, GET the cloud user, PATCH its immutableId) matches 1,000 users,
// then the operator matches 1,000 others of the same directory and tenant.
// Throttling at real size.
func BenchmarkLatencyVsScript1000(b *testing.B) {
	n := envInt("BENCH_USERMATCHES", 1000)
	r := run{users: n, baseline: n, latency: time.Duration(envInt("BENCH_LATENCY_MS", 100)) * time.Millisecond,
		timeScale: 1, throttle: true, concurrency: envInt("BENCH_CONCURRENCY", 16), writeQuota: scaledQuota(1)}
	for i := 0; i < b.N; i++ {
		res := r.measure(b)
		speedup := res.script.Seconds() / res.matched.Seconds()
		b.ReportMetric(speedup, "x-faster-than-script")
		fmt.Printf("latency %s: sequential script %s for %d users, operator %s: %.1fx faster\n",
			r.latency, res.script.Round(time.Millisecond), n, res.matched.Round(time.Millisecond), speedup)
	}
}

// BenchmarkLinearity converges 1,000, 5,000 and 10,000 UserMatches
// (BENCH_SIZES) with throttling and pacing off, so that the operator's own
// cost per UserMatch is what is measured: it must stay flat. The manager
// runs with its default resync period (5m, longer than the largest run):
// with the 10 s the other scenarios use, every Matched UserMatch is looked
// at again every 10 s while the others converge, and the directory is
// read whole every 5 s, work that grows with the size times the length of
// the run, i.e. with the square of the size. That periodic cost is
// measured at rest (BenchmarkQuota10k), per period.
func BenchmarkLinearity(b *testing.B) {
	sizes := []int{1000, 5000, 10000}
	if v := os.Getenv("BENCH_SIZES"); v != "" {
		sizes = nil
		for _, f := range strings.Split(v, ",") {
			n, _ := strconv.Atoi(f)
			sizes = append(sizes, n)
		}
	}
	for _, n := range sizes {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			r := run{users: n, concurrency: envInt("BENCH_CONCURRENCY", 16), writeQuota: "0", resync: 5 * time.Minute}
			for i := 0; i < b.N; i++ {
				res := r.measure(b)
				perUM := res.matched / time.Duration(n)
				b.ReportMetric(float64(perUM.Microseconds())/1000, "ms/um")
				fmt.Printf("linearity: %d UserMatches Matched in %s, %s per UserMatch\n", n, res.matched.Round(time.Millisecond), perUM.Round(10*time.Microsecond))
			}
		})
	}
}

// BenchmarkQuota10k converges 10,000 UserMatches with 100 ms per Graph call
// and throttling at real size: the tenant's write quota is the bound. The
// floor is what the emulator's write bucket allows (its burst, then its
// refill rate); the run is compared with it. Then the manager is restarted
// over the 10,000 matched UserMatches: its cold start and the Graph cost of
// a pass at rest are printed.
func BenchmarkQuota10k(b *testing.B) {
	n := envInt("BENCH_USERMATCHES", 10000)
	r := run{users: n, latency: time.Duration(envInt("BENCH_LATENCY_MS", 100)) * time.Millisecond, timeScale: 1, throttle: true,
		concurrency: envInt("BENCH_CONCURRENCY", 16), writeQuota: scaledQuota(1), coldStart: true, atRest: true, resync: time.Minute}
	// The emulator's write bucket: 3,000 writes, refilled at 3,000 per 150 s.
	const burst, perSecond = 3000.0, 3000.0 / 150
	floor := time.Duration(max(0, float64(n)-burst) / perSecond * float64(time.Second))
	for i := 0; i < b.N; i++ {
		res := r.measure(b)
		b.ReportMetric(res.matched.Seconds()/floor.Seconds(), "x-quota-floor")
		b.ReportMetric(100*res.throttled/res.graphReqs, "%-429")
		fmt.Printf("quota-bound: %d UserMatches Matched in %s; the write quota's floor is %s (%.2fx); %.0f of %.0f Graph requests answered 429 (%.2f%%)\n",
			n, res.matched.Round(time.Millisecond), floor, res.matched.Seconds()/floor.Seconds(), res.throttled, res.graphReqs, 100*res.throttled/res.graphReqs)
	}
}

// BenchmarkUserMatchSet10k: one UserMatchSet pairs 10,000 AD users with
// their cloud twins and rolls out a UserMatch for each, with 100 ms per
// Graph call and throttling at real size; the time to every pair Matched is
// compared with the write quota's floor, with the manager's memory.
func BenchmarkUserMatchSet10k(b *testing.B) {
	n := envInt("BENCH_USERMATCHES", 10000)
	r := run{users: n, latency: time.Duration(envInt("BENCH_LATENCY_MS", 100)) * time.Millisecond, timeScale: 1, throttle: true,
		concurrency: envInt("BENCH_CONCURRENCY", 16), writeQuota: scaledQuota(1), resync: time.Minute, set: true}
	floor := time.Duration(max(0, float64(n)-3000) / 20 * float64(time.Second))
	for i := 0; i < b.N; i++ {
		res := r.measure(b)
		b.ReportMetric(res.matched.Seconds()/floor.Seconds(), "x-quota-floor")
		fmt.Printf("UserMatchSet: %d pairs Matched in %s; the write quota's floor is %s (%.2fx); manager peak RSS %.1f MiB\n",
			n, res.matched.Round(time.Millisecond), floor, res.matched.Seconds()/floor.Seconds(), res.peakMiB)
	}
}

// scaledQuota is the manager's write pacing for an emulator whose windows
// and quotas are scale times smaller (same rate, smaller burst).
func scaledQuota(scale float64) string {
	return fmt.Sprintf("%d/%s", int(3000/scale), time.Duration(float64(150*time.Second)/scale))
}

// memLimit is the manager's GOMEMLIMIT: BENCH_GOMEMLIMIT, else the
// Deployment's (a test keeps them equal).
func memLimit() string {
	if v := os.Getenv("BENCH_GOMEMLIMIT"); v != "" {
		return v
	}
	return "100MiB"
}

// goGC is the manager's GOGC: BENCH_GOGC, else what the Deployment sets
// (nothing: the runtime's 100).
func goGC() string { return cmp.Or(os.Getenv("BENCH_GOGC"), "100") }

// managerEnv is the environment a bench starts the manager with, beside
// its own; BENCH_GODEBUG (gctrace=1, say) becomes its GODEBUG.
func managerEnv(ns string) []string {
	env := []string{"POD_NAMESPACE=" + ns, "GOMEMLIMIT=" + memLimit(), "GOGC=" + goGC()}
	if v := os.Getenv("BENCH_GODEBUG"); v != "" {
		env = append(env, "GODEBUG="+v)
	}
	return env
}

// managerLog is where the manager's output goes: BENCH_MANAGER_LOG, to
// keep it, else a file of the run's temporary directory.
func managerLog(dir string) string {
	return cmp.Or(os.Getenv("BENCH_MANAGER_LOG"), filepath.Join(dir, "manager.log"))
}

// memSettings names the manager's memory settings, for the output.
func memSettings() string { return "GOMEMLIMIT " + memLimit() + ", GOGC " + goGC() }

func init() {
	// The bench's own watch logs through controller-runtime when it stops.
	logf.SetLogger(logr.Discard())
}

// envDuration is the duration in name, zero when unset; a value that is
// not a positive duration ends the run.
func envDuration(b *testing.B, name string) time.Duration {
	v := os.Getenv(name)
	if v == "" {
		return 0
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		b.Fatalf("%s=%q: want a positive duration such as 90s or 5m", name, v)
	}
	return d
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// bed is what a scenario runs against: an API server, the embedded
// directory and the emulated tenant, with the users of the run on both
// sides.
type bed struct {
	k          *kube.Env
	kubeconfig string
	ad         *fakead.Server
	em         *emulator.Server
	scale      float64
	exports    []emulator.SyncObject // what a sync of the matched users sends
	closers    []func()
}

// newBed starts the bed; graph middlewares see every Graph request that
// passed the emulator's throttling.
func (r run) newBed(b *testing.B, dir string, graphMiddleware ...func(http.Handler) http.Handler) *bed {
	bd := &bed{}
	k, err := kube.Start()
	if err != nil {
		b.Fatal(err)
	}
	bd.k = k
	bd.closers = append(bd.closers, func() { _ = k.Stop() })
	bd.kubeconfig = filepath.Join(dir, "kubeconfig")
	if err := k.Kubeconfig(bd.kubeconfig); err != nil {
		bd.close()
		b.Fatal(err)
	}

	ad, err := fakead.New(fakead.Config{Domain: domain, AdminPassword: "Bench-Passw0rd!"})
	if err == nil {
		err = ad.Start("127.0.0.1:0")
	}
	if err != nil {
		bd.close()
		b.Fatal(err)
	}
	bd.ad = ad
	bd.closers = append(bd.closers, func() { ad.Close() })

	state := emulator.Snapshot{
		Organization: emulator.Organization{DisplayName: "Contoso"},
		Domains: []emulator.Domain{
			{ID: "contoso.onmicrosoft.com", IsInitial: true, IsVerified: true, AuthenticationType: "Managed"},
			{ID: domain, IsDefault: true, IsVerified: true, AuthenticationType: "Managed"},
		},
		Sync: emulator.DefaultSyncState(),
	}
	total := r.users + r.baseline
	bd.exports = make([]emulator.SyncObject, 0, r.users)
	for i := range total {
		sam := fmt.Sprintf("user%05d", i)
		upn := sam + "@" + domain
		adUser := fakead.User{SAMAccountName: sam, UserPrincipalName: upn, Mail: upn}
		if r.set {
			adUser = fakead.User{SAMAccountName: sam, UserPrincipalName: sam + "@contoso.local"}
		}
		dn, guid, err := ad.AddUser(adUser)
		if err != nil {
			bd.close()
			b.Fatal(err)
		}
		state.Users = append(state.Users, emulator.User{UserPrincipalName: upn, DisplayName: sam, MailNickname: sam, Mail: &upn,
			ID: fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i)})
		if i < r.users {
			bd.exports = append(bd.exports, emulator.SyncObject{Type: "user", SourceAnchor: base64.StdEncoding.EncodeToString(guid[:]),
				UserPrincipalName: upn, Mail: upn, OnPremisesDistinguishedName: dn, OnPremisesSamAccountName: sam})
		}
	}
	profile := emulator.ThrottleOff
	if r.throttle {
		profile = emulator.ThrottleAuto
	}
	bd.scale = r.timeScale
	if bd.scale == 0 {
		bd.scale = 1
	}
	perms := []string{"User.ReadWrite.All", "Domain.Read.All", "Organization.Read.All", "RoleManagement.ReadWrite.Directory"}
	if r.set {
		// A set reads the tenant's sync flags to know what sync would do.
		perms = append(perms, "OnPremDirectorySynchronization.Read.All")
	}
	em, err := emulator.New(emulator.Config{
		TenantID: tenantID, InitialDomain: "contoso.onmicrosoft.com", State: &state, OwnAudienceOnly: true,
		Apps:     []emulator.App{{ClientID: clientID, Secret: secret, Permissions: perms}},
		Throttle: profile, TimeScale: bd.scale, AppOnlySyncFeatures: r.set, GraphMiddleware: graphMiddleware,
	})
	if err == nil {
		err = em.Start("127.0.0.1:0", filepath.Join(dir, "emulator"))
	}
	if err != nil {
		bd.close()
		b.Fatal(err)
	}
	bd.em = em
	bd.closers = append(bd.closers, func() { em.Close() })
	if r.latency > 0 {
		must(b, em.Faults().Set([]faults.Rule{{PathPrefix: "/v1.0/", LatencyMs: int(r.latency / time.Millisecond)}}))
	}
	return bd
}

func (bd *bed) close() {
	for i := len(bd.closers) - 1; i >= 0; i-- {
		bd.closers[i]()
	}
}

// apply creates the manager's namespace, its Secrets, the EntraTenant
// "contoso" and the ActiveDirectory "corp".
func (bd *bed) apply(ctx context.Context, b *testing.B) {
	c := bd.k.Client
	must(b, c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	must(b, c.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: ns}, StringData: map[string]string{"s": secret}}))
	must(b, c.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "ad", Namespace: ns}, StringData: map[string]string{"p": "Bench-Passw0rd!"}}))
	must(b, c.Create(ctx, &identityv1alpha1.EntraTenant{ObjectMeta: metav1.ObjectMeta{Name: "contoso"}, Spec: identityv1alpha1.EntraTenantSpec{
		TenantID: tenantID, Cloud: identityv1alpha1.CloudCustom,
		Custom: &identityv1alpha1.CustomCloud{GraphURL: bd.em.URL() + "/v1.0", AuthorityURL: bd.em.URL(), CABundle: string(bd.em.CACertPEM())},
		Credentials: identityv1alpha1.TenantCredentials{ClientSecret: &identityv1alpha1.ClientSecretCredential{
			ClientID: clientID, SecretRef: identityv1alpha1.SecretKeyReference{Name: "app", Namespace: ns, Key: "s"}}},
	}}))
	must(b, c.Create(ctx, &identityv1alpha1.ActiveDirectory{ObjectMeta: metav1.ObjectMeta{Name: "corp"}, Spec: identityv1alpha1.ActiveDirectorySpec{
		URLs: []string{bd.ad.URL()}, BaseDN: bd.ad.BaseDN(),
		Bind: identityv1alpha1.LDAPBind{DN: bd.ad.AdminDN(), PasswordSecretRef: identityv1alpha1.SecretKeyReference{Name: "ad", Namespace: ns, Key: "p"}},
		TLS:  &identityv1alpha1.LDAPTLS{Mode: identityv1alpha1.TLSModeLDAPS, CABundle: string(bd.ad.CAPEM())},
	}}))
}

func (r run) measure(b *testing.B) result {
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Minute)
	defer cancel()
	dir := b.TempDir()
	var res result
	bd := r.newBed(b, dir)
	defer bd.close()
	k, ad, em, kubeconfig, exports := bd.k, bd.ad, bd.em, bd.kubeconfig, bd.exports
	scale := bd.scale

	if r.baseline > 0 {
		res.script = script(ctx, b, ad, em, r.users, r.users+r.baseline)
	}

	metricsAddr := freeAddr(b)
	bin, err := managerproc.Build(ctx, k.Root, dir)
	if err != nil {
		b.Fatal(err)
	}
	pprofAddr := freeAddr(b)
	resync := cmp.Or(envDuration(b, "BENCH_RESYNC"), r.resync, 10*time.Second)
	args := []string{"--metrics-bind-address=" + metricsAddr, "--pprof-bind-address=" + pprofAddr, "--metrics-secure=false", "--health-probe-bind-address=0",
		"--resync-period=" + resync.String(), fmt.Sprintf("--concurrency=%d", r.concurrency), "--graph-write-quota=" + r.writeQuota}
	env := managerEnv(ns)
	mgr, err := managerproc.Start(bin, kubeconfig, managerLog(dir), env, args...)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { mgr.Stop() }()
	rss := traceRSS(ctx, b, mgr, "starting", pprofAddr)
	profiled := cpuProfile(b, pprofAddr, fmt.Sprintf("%d", r.users))
	defer profiled()

	c := k.Client
	bd.apply(ctx, b)
	watch := watchProgress(ctx, b, k)

	apiBefore := apiServer(b, k.Config)
	cpuBefore := mgr.CPU()
	b.ResetTimer()
	start := time.Now()
	if r.set {
		must(b, c.Create(ctx, &identityv1alpha1.UserMatchSet{ObjectMeta: metav1.ObjectMeta{Name: "migration"}, Spec: identityv1alpha1.UserMatchSetSpec{
			TenantRef: identityv1alpha1.TenantReference{Name: "contoso"}, DirectoryRef: identityv1alpha1.DirectoryReference{Name: "corp"},
			Pairing: []identityv1alpha1.PairingRule{{UPNSuffix: &identityv1alpha1.UPNSuffixRule{From: "contoso.local", To: domain}}},
			Mode:    identityv1alpha1.ModeEnforce, MaxInFlight: int32(envInt("BENCH_MAX_IN_FLIGHT", 1000)),
		}}))
	} else {
		createAll(ctx, b, c, r.users, func(i int) (string, string) { return "contoso", fmt.Sprintf("user%05d", i) })
	}
	created := time.Since(start)
	rss.phase("matching")
	watch.wait(ctx, b, r.users, identityv1alpha1.ConditionMatched)
	res.matched = time.Since(start)
	rss.phase("matched")
	atMatched := scrape(b, metricsAddr)
	apiAtMatched := apiServer(b, k.Config)
	mgrCPU := max(0, mgr.CPU()-cpuBefore) // zero if the manager has exited
	if path := os.Getenv("BENCH_HEAP_PROFILE"); path != "" {
		saveHeapProfile(b, pprofAddr, path)
	}

	if r.sync {
		syncStart := time.Now()
		rss.phase("sync")
		resp, err := em.Sync(emulator.SyncRequest{Objects: exports})
		if err != nil {
			b.Fatal(err)
		}
		for _, x := range resp.Results {
			if x.Outcome != emulator.OutcomeHardMatch {
				b.Fatalf("sync outcome %+v, want HardMatch for every user", x)
			}
		}
		watch.wait(ctx, b, r.users, identityv1alpha1.ConditionReady)
		res.ready = time.Since(syncStart)
	}
	b.StopTimer()

	m := scrape(b, metricsAddr)
	res.graphReqs = atMatched.sum("entramatch_graph_requests_total", "")
	res.throttled = atMatched.sum("entramatch_graph_requests_total", `status="429"`)
	writes := atMatched.sum("entramatch_graph_requests_total", `operation="SetImmutableID"`)
	ldapCalls := m.sum("entramatch_ldap_requests_total", "")
	ldapLookups := m.sum("entramatch_ldap_lookups_total", "")
	failed := m.sum("controller_runtime_reconcile_total", `result="error"`)
	res.peakMiB = float64(mgr.PeakRSS()) / (1 << 20)
	n := r.users

	b.ReportMetric(res.graphReqs/float64(n), "graph-req/um")
	b.ReportMetric(ldapCalls/float64(n), "ldap-calls/um")
	b.ReportMetric(res.throttled, "429s")
	b.ReportMetric(failed, "failed-reconciles")
	b.ReportMetric(res.matched.Seconds(), "s-to-matched")
	if r.sync {
		b.ReportMetric(res.ready.Seconds(), "s-sync-to-ready")
	}
	b.ReportMetric(res.peakMiB, "manager-peak-MiB")
	b.ReportMetric(float64(mgrCPU.Microseconds())/1000/float64(n), "manager-cpu-ms/um")
	// Printed, not logged: the benchmark log keeps only its first lines.
	fmt.Printf("scenario: %d UserMatches, Graph latency %s, throttling %v (time scale %g), concurrency %d, write pacing %s, %s, on %d CPUs\n",
		n, r.latency, r.throttle, scale, r.concurrency, r.writeQuota, memSettings(), runtime.NumCPU())
	fmt.Printf("%d UserMatches created in %s; all Matched after %s", n, created.Round(time.Millisecond), res.matched.Round(time.Millisecond))
	if r.sync {
		fmt.Printf("; after one sync all Ready in %s", res.ready.Round(time.Millisecond))
	}
	fmt.Println()
	fmt.Printf("until Matched: Graph requests %.0f (%.2f per UserMatch, %.0f writes), 429 received %.0f; by operation:\n%s",
		res.graphReqs, res.graphReqs/float64(n), writes, res.throttled, atMatched.byLabel("entramatch_graph_requests_total"))
	fmt.Printf("LDAP calls: %.0f (%.3f per UserMatch) carrying %.0f lookups, by operation:\n%s", ldapCalls, ldapCalls/float64(n), ldapLookups, m.byLabel("entramatch_ldap_requests_total"))
	fmt.Printf("failed reconciles: %.0f; manager peak RSS %.1f MiB; %s\n", failed, res.peakMiB, rss)
	fmt.Printf("until Matched, the manager: %s of CPU (%s per UserMatch)\n", mgrCPU.Round(10*time.Millisecond), (mgrCPU / time.Duration(n)).Round(10*time.Microsecond))
	fmt.Print("until Matched, ", apiServerWork(apiBefore, apiAtMatched, n))
	mib := func(name string) float64 { return m.sum(name, "") / (1 << 20) }
	fmt.Printf("Go memory at the end: heap in use %.1f MiB, idle %.1f MiB (released to the OS %.1f MiB), stacks %.1f MiB, from the OS %.1f MiB; GOMEMLIMIT %.0f MiB; %.0f goroutines\n",
		mib("go_memstats_heap_inuse_bytes"), mib("go_memstats_heap_idle_bytes"), mib("go_memstats_heap_released_bytes"),
		mib("go_memstats_stack_inuse_bytes"), mib("go_memstats_sys_bytes"), mib("go_gc_gomemlimit_bytes"), m.sum("go_goroutines", ""))

	if r.atRest {
		atRest(ctx, b, em, metricsAddr, resync)
	}
	if r.coldStart {
		// The profile is of this manager, not of the one started next.
		profiled()
		mgr.Stop()
		restart := time.Now()
		mgr, err = managerproc.Start(bin, kubeconfig, managerLog(dir), env, args...)
		if err != nil {
			b.Fatal(err)
		}
		first, all := coldStart(ctx, b, metricsAddr, n)
		at := scrape(b, metricsAddr)
		fmt.Printf("cold start over %d matched UserMatches: first reconcile %s after the manager started, all reconciled after %s; "+
			"that pass cost %.0f Graph requests and %.0f LDAP calls; peak RSS %.1f MiB\n", n, first.Sub(restart).Round(time.Millisecond),
			all.Sub(restart).Round(time.Millisecond), at.sum("entramatch_graph_requests_total", ""), at.sum("entramatch_ldap_requests_total", ""),
			float64(mgr.PeakRSS())/(1<<20))
	}
	return res
}

// atRest counts the Graph requests of one resync period once every user is
// matched, then makes one user drift (its immutableId changed outside the
// operator) and times the correction and counts its requests.
func atRest(ctx context.Context, b *testing.B, em *emulator.Server, metricsAddr string, resync time.Duration) {
	// Let the shared reads of the rollout age out first.
	time.Sleep(resync)
	before := scrape(b, metricsAddr).sum("entramatch_graph_requests_total", "")
	time.Sleep(resync)
	quiet := scrape(b, metricsAddr).sum("entramatch_graph_requests_total", "") - before

	g, err := graph.New(graph.Config{Endpoints: graph.Endpoints{GraphURL: em.URL() + "/v1.0", AuthorityURL: em.URL(), CAPEM: em.CACertPEM()},
		Credential: graph.Credential{TenantID: tenantID, ClientID: clientID, ClientSecret: secret}})
	if err != nil {
		b.Fatal(err)
	}
	drifted := "user00042@" + domain
	u, err := g.GetUser(ctx, drifted)
	if err != nil {
		b.Fatal(err)
	}
	want := u.OnPremisesImmutableID
	other := base64.StdEncoding.EncodeToString([]byte("someone-else-set"))
	start := time.Now()
	before = scrape(b, metricsAddr).sum("entramatch_graph_requests_total", "")
	if err := g.SetImmutableID(ctx, u.ID, &other); err != nil {
		b.Fatal(err)
	}
	for {
		time.Sleep(250 * time.Millisecond)
		now, err := g.GetUser(ctx, u.ID)
		if err == nil && now.OnPremisesImmutableID == want {
			break
		}
		if time.Since(start) > 3*resync || ctx.Err() != nil {
			b.Fatalf("the drifted user was not corrected within %s", 3*resync)
		}
	}
	corrected := time.Since(start)
	time.Sleep(max(0, resync-corrected))
	drift := scrape(b, metricsAddr).sum("entramatch_graph_requests_total", "") - before
	b.ReportMetric(quiet, "graph-req/resync-at-rest")
	fmt.Printf("at rest: %.0f Graph requests in one resync period (%s); with one drifted user: %.0f, corrected after %s\n",
		quiet, resync, drift, corrected.Round(time.Millisecond))
}

// rssTrace samples the manager's resident memory, to tell in which phase
// of a run its peak falls.
type rssTrace struct {
	mu      sync.Mutex
	now     string
	top     int64
	anon    int64 // the anonymous part of top
	topAnon int64
	at      time.Duration
	during  string
	start   time.Time
}

// With BENCH_HEAP_PROFILE set, the heap profile is also written to
// "<that file>.peak" each time the RSS passes its highest by 16 MiB.
func traceRSS(ctx context.Context, b *testing.B, p *managerproc.Proc, phase, pprofAddr string) *rssTrace {
	t := &rssTrace{now: phase, start: time.Now()}
	profile := os.Getenv("BENCH_HEAP_PROFILE")
	var saved int64
	go func() {
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			v, anon := p.RSS(), p.RSSAnon()
			t.mu.Lock()
			if v > t.top {
				t.top, t.anon, t.at, t.during = v, anon, time.Since(t.start), t.now
			}
			t.topAnon = max(t.topAnon, anon)
			t.mu.Unlock()
			if profile != "" && v > saved+16<<20 {
				saved = v
				saveProfile(b, pprofAddr, "heap", profile+".peak")
			}
		}
	}()
	return t
}

func (t *rssTrace) phase(name string) {
	t.mu.Lock()
	t.now = name
	t.mu.Unlock()
}

func (t *rssTrace) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return fmt.Sprintf("highest RSS sampled %.1f MiB (%.1f MiB of it anonymous, the rest the executable's pages), %s after the manager started, while %s; highest anonymous RSS %.1f MiB",
		float64(t.top)/(1<<20), float64(t.anon)/(1<<20), t.at.Round(time.Second), t.during, float64(t.topAnon)/(1<<20))
}

// saveHeapProfile writes the manager's heap profile (go tool pprof reads it).
func saveHeapProfile(b *testing.B, addr, path string) { saveProfile(b, addr, "heap", path) }

// saveProfile writes one of the manager's /debug/pprof profiles to path.
// cpuProfile saves 30 s of the manager's CPU profile to
// "$BENCH_CPU_PROFILE.<name>", BENCH_CPU_PROFILE_AFTER (1m unless set)
// after it is called, unless the run ends first. Call what it returns
// (once or more) before the manager stops: a profile cut short by the
// manager's exit would fail the run.
func cpuProfile(b *testing.B, pprofAddr, name string) (done func()) {
	path := os.Getenv("BENCH_CPU_PROFILE")
	if path == "" {
		return func() {}
	}
	after := cmp.Or(envDuration(b, "BENCH_CPU_PROFILE_AFTER"), time.Minute)
	ended, saved := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(saved)
		select {
		case <-time.After(after):
			saveProfile(b, pprofAddr, "profile?seconds=30", path+"."+name)
		case <-ended:
		}
	}()
	return sync.OnceFunc(func() { close(ended); <-saved })
}

// saveProfile writes one of the manager's pprof profiles to path.

func saveProfile(b *testing.B, addr, profile, path string) {
	resp, err := http.Get("http://" + addr + "/debug/pprof/" + profile)
	if err != nil {
		b.Error(err)
		return
	}
	defer resp.Body.Close()
	f, err := os.Create(path)
	if err != nil {
		b.Error(err)
		return
	}
	defer f.Close()
	if _, err := io.Copy(f, resp.Body); err != nil {
		b.Error(err)
	}
}

// coldStart polls the new manager's metrics until the UserMatch controller
// has reconciled once, then n times.
func coldStart(ctx context.Context, b *testing.B, addr string, n int) (first, all time.Time) {
	for {
		if resp, err := http.Get("http://" + addr + "/metrics"); err == nil {
			resp.Body.Close()
			done := scrape(b, addr).sum("controller_runtime_reconcile_total", `controller="usermatch"`)
			if done > 0 && first.IsZero() {
				first = time.Now()
			}
			if done >= float64(n) {
				return first, time.Now()
			}
		}
		if ctx.Err() != nil {
			b.Fatal("the restarted manager did not reconcile every UserMatch in time")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// script is the seed's procedure run by hand, one user after another: look
// the user up in AD, read the cloud user, write its immutableId. It matches
// users [from, to) and returns how long that took.
func script(ctx context.Context, b *testing.B, ad *fakead.Server, em *emulator.Server, from, to int) time.Duration {
	d, err := directory.Dial(ctx, directory.Config{URLs: []string{ad.URL()}, BaseDN: ad.BaseDN(), BindDN: ad.AdminDN(),
		Password: "Bench-Passw0rd!", CAPEM: ad.CAPEM()})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	g, err := graph.New(graph.Config{Endpoints: graph.Endpoints{GraphURL: em.URL() + "/v1.0", AuthorityURL: em.URL(), CAPEM: em.CACertPEM()},
		Credential: graph.Credential{TenantID: tenantID, ClientID: clientID, ClientSecret: secret}})
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	for i := from; i < to; i++ {
		sam := fmt.Sprintf("user%05d", i)
		u, err := d.FindUser(ctx, directory.Lookup{By: directory.KeySAMAccountName, Value: sam})
		if err != nil {
			b.Fatal(err)
		}
		cu, err := g.GetUser(ctx, u.UserPrincipalName)
		if err != nil {
			b.Fatal(err)
		}
		id := base64.StdEncoding.EncodeToString(u.ObjectGUID[:])
		if err := g.SetImmutableID(ctx, cu.ID, &id); err != nil {
			b.Fatal(err)
		}
	}
	return time.Since(start)
}

// createAll creates n UserMatches, the i-th for the tenant and
// sAMAccountName (also its name) that who(i) gives, 8 at a time.
func createAll(ctx context.Context, b *testing.B, c client.Client, n int, who func(i int) (tenant, sam string)) {
	var wg sync.WaitGroup
	work := make(chan int)
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				tenant, sam := who(i)
				um := &identityv1alpha1.UserMatch{ObjectMeta: metav1.ObjectMeta{Name: sam},
					Spec: identityv1alpha1.UserMatchSpec{
						TenantRef: identityv1alpha1.TenantReference{Name: tenant}, DirectoryRef: identityv1alpha1.DirectoryReference{Name: "corp"},
						ADUser: identityv1alpha1.ADUserSelector{SAMAccountName: sam},
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

// progress follows the UserMatches through a watch, so that waiting costs
// the bench nothing per object and poll.
type progress struct {
	mu      sync.Mutex
	true    map[string]map[string]bool // condition type -> names with it True
	reasons map[string]string          // name -> Ready reason while not Ready
}

func watchProgress(ctx context.Context, b *testing.B, k *kube.Env) *progress {
	p := &progress{true: map[string]map[string]bool{}, reasons: map[string]string{}}
	c, err := cache.New(k.Config, cache.Options{Scheme: k.Scheme})
	if err != nil {
		b.Fatal(err)
	}
	inf, err := c.GetInformer(ctx, &identityv1alpha1.UserMatch{})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    p.see,
		UpdateFunc: func(_, o any) { p.see(o) },
	}); err != nil {
		b.Fatal(err)
	}
	go func() { _ = c.Start(ctx) }()
	if !c.WaitForCacheSync(ctx) {
		b.Fatal("the bench's UserMatch watch did not sync")
	}
	return p
}

func (p *progress) see(o any) {
	um, ok := o.(*identityv1alpha1.UserMatch)
	if !ok {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, cnd := range um.Status.Conditions {
		set := p.true[cnd.Type]
		if set == nil {
			set = map[string]bool{}
			p.true[cnd.Type] = set
		}
		if cnd.Status == metav1.ConditionTrue {
			set[um.Name] = true
		} else {
			delete(set, um.Name)
		}
		if cnd.Type == identityv1alpha1.ConditionReady {
			p.reasons[um.Name] = cnd.Reason
		}
	}
}

// count returns how many UserMatches whose name starts with prefix have
// condType True.
func (p *progress) count(condType, prefix string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for name := range p.true[condType] {
		if strings.HasPrefix(name, prefix) {
			n++
		}
	}
	return n
}

func (p *progress) wait(ctx context.Context, b *testing.B, n int, condType string) {
	for {
		p.mu.Lock()
		ok := len(p.true[condType])
		var reasons map[string]int
		if ctx.Err() != nil {
			reasons = map[string]int{}
			for name, r := range p.reasons {
				if !p.true[condType][name] {
					reasons[r]++
				}
			}
		}
		p.mu.Unlock()
		if ok >= n {
			return
		}
		if ctx.Err() != nil {
			b.Fatalf("%d of %d UserMatches %s when time ran out; others: %v", ok, n, condType, reasons)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type samples []string

func scrape(b *testing.B, addr string) samples {
	return scrapeWith(b, http.DefaultClient, "http://"+addr+"/metrics")
}

// scrapeWith reads the samples of a Prometheus text endpoint.
func scrapeWith(b *testing.B, hc *http.Client, url string) samples {
	b.Helper()
	resp, err := hc.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("%s: %s", url, resp.Status)
	}
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
		total += value(line)
	}
	return total
}

// value is a sample line's value.
func value(line string) float64 {
	i := strings.LastIndexByte(line, ' ')
	if i < 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(line[i+1:], 64)
	return v
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
