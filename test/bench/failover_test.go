package bench_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/testenv/managerproc"
)

// BenchmarkLeaderFailover: two managers with leader election share one API
// server. Once half of 2,000 UserMatches (BENCH_USERMATCHES) are Matched,
// the leader is killed (SIGKILL: no Lease handed over); the other takes
// over after the lease duration and finishes the rollout. Graph answers in
// 100 ms, throttling at real size. The emulator counts the PATCHes each
// user received: every user must end with exactly one, holding its anchor.
func BenchmarkLeaderFailover(b *testing.B) {
	n := envInt("BENCH_USERMATCHES", 2000)
	r := run{users: n, latency: time.Duration(envInt("BENCH_LATENCY_MS", 100)) * time.Millisecond, timeScale: 1, throttle: true,
		concurrency: envInt("BENCH_CONCURRENCY", 16), writeQuota: scaledQuota(1)}
	for i := 0; i < b.N; i++ {
		r.failover(b)
	}
}

func (r run) failover(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	dir := b.TempDir()
	n := r.users
	patches := &patchCounter{ok: map[string]int{}, tried: map[string]int{}}
	bd := r.newBed(b, dir, patches.middleware)
	defer bd.close()
	bd.apply(ctx, b)
	watch := watchProgress(ctx, b, bd.k)

	bin, err := managerproc.Build(ctx, bd.k.Root, dir)
	if err != nil {
		b.Fatal(err)
	}
	start := func(name string) (*managerproc.Proc, string) {
		log := filepath.Join(dir, name+".log")
		p, err := managerproc.Start(bin, bd.kubeconfig, log, managerEnv(ns),
			"--leader-elect", "--metrics-bind-address=0", "--health-probe-bind-address=0", "--resync-period=1m",
			fmt.Sprintf("--concurrency=%d", r.concurrency), "--graph-write-quota="+r.writeQuota)
		if err != nil {
			b.Fatal(err)
		}
		return p, log
	}
	leader, leaderLog := start("manager-a")
	defer leader.Stop()
	waitLog(ctx, b, leaderLog, "Successfully acquired lease")
	standby, standbyLog := start("manager-b")
	defer standby.Stop()

	t0 := time.Now()
	createAll(ctx, b, bd.k.Client, n, func(i int) (string, string) { return "contoso", fmt.Sprintf("user%05d", i) })
	watch.wait(ctx, b, n/2, identityv1alpha1.ConditionMatched)
	if strings.Contains(readFile(standbyLog), "Successfully acquired lease") {
		b.Fatal("the second manager acquired the lease while the first one led")
	}
	leader.Kill()
	killed := time.Now()
	atKill := watch.count(identityv1alpha1.ConditionMatched, "")
	waitLog(ctx, b, standbyLog, "Successfully acquired lease")
	takeover := time.Since(killed)
	watch.wait(ctx, b, n, identityv1alpha1.ConditionMatched)
	total := time.Since(t0)

	want := map[string]string{}
	for _, x := range bd.exports {
		want[x.UserPrincipalName] = x.SourceAnchor
	}
	wrong := 0
	ids := map[string]string{} // cloud id -> UPN
	for _, u := range bd.em.Snapshot().Users {
		ids[u.ID] = u.UserPrincipalName
		if a, ok := want[u.UserPrincipalName]; ok && (u.OnPremisesImmutableID == nil || *u.OnPremisesImmutableID != a) {
			wrong++
		}
	}
	patches.mu.Lock()
	defer patches.mu.Unlock()
	twice, never, stray := 0, 0, 0
	for id, upn := range ids {
		if _, ok := want[upn]; !ok {
			continue
		}
		switch c := patches.ok[id]; {
		case c == 0:
			never++
		case c > 1:
			twice++
		}
	}
	for id := range patches.ok {
		if _, ok := want[ids[id]]; !ok {
			stray++
		}
	}
	ok, tried := 0, 0
	for _, c := range patches.ok {
		ok += c
	}
	for _, c := range patches.tried {
		tried += c
	}
	b.ReportMetric(float64(twice), "users-patched-twice")
	b.ReportMetric(takeover.Seconds(), "s-to-takeover")
	b.ReportMetric(total.Seconds(), "s-to-matched")
	fmt.Printf("leader failover: %d UserMatches, leader killed with %d Matched; the standby acquired the lease %s later; all Matched %s after creation began\n",
		n, atKill, takeover.Round(time.Millisecond), total.Round(time.Millisecond))
	fmt.Printf("PATCHes: %d answered 2xx of %d that passed throttling; users PATCHed more than once: %d, never: %d, wrong anchor: %d, users outside the run PATCHed: %d\n",
		ok, tried, twice, never, wrong, stray)
	if twice+never+wrong+stray > 0 {
		b.Errorf("after the failover: %d users written twice, %d never written, %d holding a wrong anchor, %d users outside the run written", twice, never, wrong, stray)
	}
}

// patchCounter counts, per user id, the PATCHes of /v1.0/users/{id} that
// reached the emulator's routes and those that succeeded.
type patchCounter struct {
	mu        sync.Mutex
	ok, tried map[string]int
}

func (p *patchCounter) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, isUser := strings.CutPrefix(r.URL.Path, "/v1.0/users/")
		if r.Method != http.MethodPatch || !isUser || strings.Contains(id, "/") {
			next.ServeHTTP(w, r)
			return
		}
		rec := &codeRecorder{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(rec, r)
		p.mu.Lock()
		p.tried[id]++
		if rec.code < 300 {
			p.ok[id]++
		}
		p.mu.Unlock()
	})
}

type codeRecorder struct {
	http.ResponseWriter
	code  int
	wrote bool
}

func (c *codeRecorder) WriteHeader(code int) {
	if !c.wrote {
		c.code, c.wrote = code, true
	}
	c.ResponseWriter.WriteHeader(code)
}

// waitLog waits until the file at path contains s (the manager's
// log line, as controller-runtime's leader election writes it).
func waitLog(ctx context.Context, b *testing.B, path, s string) {
	for !strings.Contains(readFile(path), s) {
		if ctx.Err() != nil {
			b.Fatalf("%s never logged %q", filepath.Base(path), s)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func readFile(path string) string {
	data, _ := os.ReadFile(path)
	return string(data)
}
