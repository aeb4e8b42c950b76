package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/controllers"
	"github.com/entramatch/entra-match-operator/internal/emulator"
)

// ErrUnexpected is returned (wrapped) when the run ends differently from
// the story; the Report says where.
var ErrUnexpected = errors.New("the demo ended differently from its story")

// Options configure a run.
type Options struct {
	// Once returns after printing the table; otherwise Run keeps everything
	// up until ctx ends.
	Once bool
	// Out receives the progress lines and the table; io.Discard when nil.
	Out io.Writer
	// Logger receives the manager's logs; discarded when unset.
	Logger logr.Logger
	// WorkDir holds the kubeconfig and the emulator's certificates; a
	// temporary directory, removed at the end, when empty.
	WorkDir string
	// ResyncPeriod is the controllers' resync period; 2s when zero, so the
	// demo does not wait long for the operator to notice the sync.
	ResyncPeriod time.Duration
	// Timeout bounds each wait for the operator; 2m when zero.
	Timeout time.Duration
	// SyncInterval runs a sync cycle this often while the demo keeps
	// running (not with Once); none when zero.
	SyncInterval time.Duration
	// Story replaces the embedded story.
	Story *Story
}

func (o Options) withDefaults() Options {
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Logger.GetSink() == nil {
		o.Logger = logr.Discard()
	}
	if o.ResyncPeriod <= 0 {
		o.ResyncPeriod = 2 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Minute
	}
	return o
}

// Run plays the story: it starts a control plane, the embedded directory,
// the Entra emulator and the manager on loopback, applies the story's
// resources, waits for the operator, runs one emulated sync cycle, waits
// again, and prints what happened to each object. Everything it started is
// stopped before it returns. The error wraps ErrUnexpected when an outcome
// differs from the story.
func Run(ctx context.Context, o Options) (Report, error) {
	o = o.withDefaults()
	story := o.Story
	if story == nil {
		s, err := DefaultStory()
		if err != nil {
			return Report{}, err
		}
		story = &s
	} else if err := story.Validate(); err != nil {
		return Report{}, err
	}
	p := progress{out: o.Out, start: time.Now()}
	w := &world{}
	defer func() {
		p.step("Stopping the manager, the emulator, the directory and the control plane")
		w.close()
	}()

	p.story(*story)
	if err := w.startWorkDir(o.WorkDir); err != nil {
		return Report{}, err
	}
	p.step("Starting a local control plane (kube-apiserver and etcd from KUBEBUILDER_ASSETS) with the CRDs")
	if err := w.startKube(); err != nil {
		return Report{}, err
	}
	p.step("Starting the embedded directory %s over LDAPS", story.Directory.Domain)
	if err := w.startDirectory(story.Directory); err != nil {
		return Report{}, err
	}
	p.detail("%s (base DN %s, UPN suffixes %s)", w.dir.URL(), w.dir.BaseDN(), strings.Join(story.Directory.UPNSuffixes, ", "))
	p.step("Starting the Entra emulator for tenant %s", story.Tenant.InitialDomain)
	if err := w.startTenant(story.Tenant); err != nil {
		return Report{}, err
	}
	p.detail("%s (%d users, %d groups)", w.em.URL(), len(story.Tenant.State.Users), len(story.Tenant.State.Groups))
	p.step("Starting the manager (the operator's controllers, in this process)")
	if err := w.startManager(o.Logger, controllers.Options{ResyncPeriod: o.ResyncPeriod, Concurrency: 4}); err != nil {
		return Report{}, err
	}
	k8s := w.kube.Client

	p.step("Applying EntraTenant %s, ActiveDirectory %s and their Secrets", tenantName, directoryName)
	if err := create(ctx, k8s, w.baseObjects(story.Tenant)); err != nil {
		return Report{}, err
	}
	if err := waitConnected(ctx, k8s, o.Timeout); err != nil {
		return Report{}, err
	}
	p.detail("the operator signed in to the tenant and bound to the directory")

	names := make([]string, 0, len(story.Operator.UserMatches))
	for _, um := range story.Operator.UserMatches {
		names = append(names, um.Name)
	}
	p.step("Applying %d UserMatches (%s) and the tenant's TenantSyncFeatures", len(names), strings.Join(names, ", "))
	if err := create(ctx, k8s, operatorObjects(story.Operator)); err != nil {
		return Report{}, err
	}
	before, err := waitUserMatches(ctx, k8s, names, o.Timeout, settled)
	if err != nil {
		return Report{}, err
	}
	for _, n := range names {
		conds := before[n].Status.Conditions
		p.detail("UserMatch %-8s %s", n, settledLine(conds))
	}

	p.step("Applying SyncPlan %s: what will the sync do to the objects in %s?", planName, strings.Join(story.Directory.SyncScope, ", "))
	if err := create(ctx, k8s, []client.Object{syncPlan(w.dir.BaseDN(), story.Directory.SyncScope)}); err != nil {
		return Report{}, err
	}
	plan, planned, err := waitPlanned(ctx, k8s, o.Timeout)
	if err != nil {
		return Report{}, err
	}
	p.plan(plan)

	src := w.ldapSource(story.Directory)
	p.step("Running an emulated Entra Connect sync cycle over the objects in %s", strings.Join(story.Directory.SyncScope, ", "))
	exports, results, err := syncCycle(ctx, w.em, src)
	if err != nil {
		return Report{}, err
	}
	p.detail("%d objects read from the directory over LDAPS and exported", len(exports))
	offPlan := comparePlan(planned, exports, results)
	p.detail("the sync did what the plan predicted for %d of %d objects", len(results)-len(offPlan), len(results))
	for _, m := range offPlan {
		p.detail("  %s", m)
	}

	p.step("Waiting for the operator to see the sync's result")
	after, err := waitUserMatches(ctx, k8s, names, o.Timeout, func(um *identityv1alpha1.UserMatch) bool {
		return afterSync(um, story.Cast, story.Operator.UserMatches)
	})
	if err != nil {
		if ctx.Err() != nil {
			return Report{}, ctx.Err()
		}
		// The table shows where it stopped; the error says it too.
		p.detail("%v", err)
	}

	var tsf *identityv1alpha1.TenantSyncFeatures
	if story.Operator.TenantSyncFeatures != nil {
		var got identityv1alpha1.TenantSyncFeatures
		if err := k8s.Get(ctx, types.NamespacedName{Name: syncFeaturesName}, &got); err != nil {
			return Report{}, fmt.Errorf("reading TenantSyncFeatures %s: %w", syncFeaturesName, err)
		}
		tsf = &got
	}
	snap := w.em.Snapshot()
	report := Report{
		Rows:   buildRows(*story, observations{exports: exports, results: results, before: before, after: after, cloud: snap}),
		Tenant: tenantReport(snap.Sync.Features, story.Operator.TenantSyncFeatures, tsf, time.Now()),
	}
	fmt.Fprintln(o.Out)
	report.Print(o.Out)
	fmt.Fprintln(o.Out)

	var result error
	if problems := append(report.Problems(), offPlan...); len(problems) > 0 {
		result = fmt.Errorf("%w: %s", ErrUnexpected, strings.Join(problems, "; "))
	}
	if o.Once {
		return report, result
	}
	p.hints(w, o.SyncInterval)
	w.keepSyncing(ctx, p, src, o.SyncInterval)
	return report, result
}

// afterSync says whether a UserMatch has reacted to the sync: joined, or
// still blocked with the reason the story expects (the block may change
// once the sync has created objects).
func afterSync(um *identityv1alpha1.UserMatch, cast []Role, ums []UserMatch) bool {
	conds := um.Status.Conditions
	if meta.IsStatusConditionTrue(conds, identityv1alpha1.ConditionReady) {
		return true
	}
	if !meta.IsStatusConditionTrue(conds, identityv1alpha1.ConditionBlocked) {
		return false
	}
	want := ""
	for _, s := range ums {
		if s.Name != um.Name {
			continue
		}
		for _, r := range cast {
			if strings.EqualFold(r.AD, s.ADUser.SAMAccountName) {
				want = r.Expect.Ready
			}
		}
	}
	return want == "" || conditionReason(conds, identityv1alpha1.ConditionReady) == want
}

func settledLine(conds []metav1.Condition) string {
	if meta.IsStatusConditionTrue(conds, identityv1alpha1.ConditionBlocked) {
		return "Blocked (" + conditionReason(conds, identityv1alpha1.ConditionBlocked) + ")"
	}
	line := "Matched (" + conditionReason(conds, identityv1alpha1.ConditionMatched) + "), waiting for sync"
	if r := warningReason(conds); r != "" {
		line += ", warning UPNSuffixMismatch (" + r + ")"
	}
	return line
}

func (w *world) ldapSource(d Directory) ldapSource {
	return ldapSource{URL: w.dir.URL(), CAPEM: w.dir.CAPEM(), BindDN: w.dir.AdminDN(), Password: w.adminPass,
		BaseDN: w.dir.BaseDN(), Scope: d.SyncScope}
}

// syncCycle plays one Entra Connect run: read the directory, export.
func syncCycle(ctx context.Context, em *emulator.Server, src ldapSource) ([]emulator.SyncObject, []emulator.SyncResult, error) {
	exports, err := readExports(ctx, src)
	if err != nil {
		return nil, nil, err
	}
	resp, err := em.Sync(emulator.SyncRequest{Objects: exports})
	if err != nil {
		return nil, nil, fmt.Errorf("running the emulated sync: %w", err)
	}
	return exports, resp.Results, nil
}

// keepSyncing runs a sync cycle every interval until ctx ends, printing a
// line per cycle; with no interval it only waits.
func (w *world) keepSyncing(ctx context.Context, p progress, src ldapSource, interval time.Duration) {
	if interval <= 0 {
		<-ctx.Done()
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		exports, results, err := syncCycle(ctx, w.em, src)
		if err != nil {
			if ctx.Err() == nil {
				p.detail("sync cycle failed: %v", err)
			}
			continue
		}
		p.detail("sync cycle at %s: %d objects: %s", time.Now().Format("15:04:05"), len(exports), countOutcomes(results))
	}
}

func countOutcomes(results []emulator.SyncResult) string {
	counts := map[string]int{}
	var order []string
	for _, r := range results {
		k := string(r.Outcome)
		if r.Error != nil {
			k += " (" + r.Error.Code + ")"
		}
		if counts[k] == 0 {
			order = append(order, k)
		}
		counts[k]++
	}
	parts := make([]string, 0, len(order))
	for _, k := range order {
		parts = append(parts, fmt.Sprintf("%d %s", counts[k], k))
	}
	return strings.Join(parts, ", ")
}

// progress prints the demo's progress lines, each with the time since the
// start, so that a slow step is visible as such.
type progress struct {
	out   io.Writer
	start time.Time
}

func (p progress) step(format string, args ...any) {
	fmt.Fprintf(p.out, "[%5.1fs] %s\n", time.Since(p.start).Seconds(), fmt.Sprintf(format, args...))
}

func (p progress) detail(format string, args ...any) {
	fmt.Fprintf(p.out, "         %s\n", fmt.Sprintf(format, args...))
}

func (p progress) story(s Story) {
	fmt.Fprintln(p.out, "The story (internal/demo/story.yaml):")
	for _, r := range s.Cast {
		fmt.Fprintf(p.out, "  %-12s %s\n", r.AD, r.Story)
	}
	fmt.Fprintln(p.out)
}

func (p progress) hints(w *world, interval time.Duration) {
	ca := filepath.Join(w.workDir, "emulator", "ca.crt")
	fmt.Fprintf(p.out, `The demo keeps running; look around with kubectl:

  export KUBECONFIG=%s
  kubectl get entratenants,activedirectories,tenantsyncfeatures
  kubectl get usermatches -o wide
  kubectl describe usermatch grace
  kubectl get syncplan first-sync
  go run ./cmd/entramatch plan first-sync --attention
  kubectl get events

The emulated tenant as JSON:  curl --cacert %s %s/_emulator/state
The embedded directory:       %s (base DN %s)
`, w.kubeconfig, ca, w.em.URL(), w.dir.URL(), w.dir.BaseDN())
	if interval > 0 {
		fmt.Fprintf(p.out, "A sync cycle runs every %s. ", interval)
	}
	fmt.Fprintln(p.out, "Press Ctrl-C to stop; everything the demo started is stopped and its files removed.")
	fmt.Fprintln(p.out)
}
