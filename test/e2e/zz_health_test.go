package e2e_test

import (
	"context"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/testenv/gitopshealth"
)

// healthTrail keeps every version of every object of the four kinds that
// the run's watches delivered, as the API server sent them (unstructured:
// a typed round trip would drop fields such as a defaulted
// observedGeneration of 0), so that the last tests can read each as Argo
// CD and Flux would.
type healthTrail struct {
	mu   sync.Mutex
	seen []*unstructured.Unstructured
}

// maxHealthObjects bounds the trail's memory; a run writes far fewer.
const maxHealthObjects = 20000

func newHealthTrail() *healthTrail { return &healthTrail{} }

// watch follows the four kinds until ctx ends, re-watching when the API
// server closes a watch.
func (h *healthTrail) watch(ctx context.Context, c client.WithWatch) {
	for _, kind := range []string{"UserMatch", "EntraTenant", "ActiveDirectory", "TenantSyncFeatures"} {
		go func() {
			for ctx.Err() == nil {
				list := &unstructured.UnstructuredList{}
				list.SetGroupVersionKind(identityv1alpha1.GroupVersion.WithKind(kind + "List"))
				wi, err := c.Watch(ctx, list)
				if err != nil {
					time.Sleep(200 * time.Millisecond)
					continue
				}
				for ev := range wi.ResultChan() {
					if u, ok := ev.Object.(*unstructured.Unstructured); ok && (ev.Type == watch.Added || ev.Type == watch.Modified) {
						h.mu.Lock()
						if len(h.seen) < maxHealthObjects {
							h.seen = append(h.seen, u)
						}
						h.mu.Unlock()
					}
				}
				wi.Stop()
			}
		}()
	}
}

// The statuses the end-to-end run really wrote, read by the Argo CD health
// script (config/argocd, in gopher-lua) and by kstatus (Flux): the two
// agree on every one (Healthy and Current, Progressing and InProgress,
// Degraded and Failed; Progressing and Terminating while a finalizer
// runs), and the run shows each of the three.
func TestZZGitOpsHealthOfThisRunsStatuses(t *testing.T) {
	w := env(t)
	scripts, err := gitopshealth.Scripts(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	same := map[string]status.Status{"Healthy": status.CurrentStatus, "Progressing": status.InProgressStatus, "Degraded": status.FailedStatus}
	w.health.mu.Lock()
	seen := append([]*unstructured.Unstructured(nil), w.health.seen...)
	w.health.mu.Unlock()
	counts := map[string]int{}
	for _, u := range seen {
		script, ok := scripts[u.GetKind()]
		if !ok {
			t.Errorf("config/argocd has no health check for %s", u.GetKind())
			continue
		}
		argo, msg, err := gitopshealth.Argo(script, u.Object)
		if err != nil {
			t.Fatal(err)
		}
		res, err := status.Compute(u)
		if err != nil {
			t.Fatal(err)
		}
		counts[u.GetKind()+" "+argo]++
		want, ok := same[argo]
		if u.GetDeletionTimestamp() != nil {
			// Being finalized: kstatus says Terminating, Argo CD Progressing.
			want, ok = status.TerminatingStatus, argo == "Progressing"
		}
		if !ok || res.Status != want {
			t.Errorf("%s %s (generation %d): Argo CD %s (%s), kstatus %s (%s)", u.GetKind(), u.GetName(), u.GetGeneration(), argo, msg, res.Status, res.Message)
		}
	}
	var summary []string
	for k, n := range counts {
		summary = append(summary, k+"="+strconv.Itoa(n))
	}
	sort.Strings(summary)
	t.Logf("%d statuses: %v", len(seen), summary)
	for _, want := range []string{"UserMatch Healthy", "UserMatch Progressing", "UserMatch Degraded", "EntraTenant Healthy", "ActiveDirectory Healthy", "TenantSyncFeatures Healthy"} {
		if counts[want] == 0 {
			t.Errorf("the run never showed a %s status: %v", want, summary)
		}
	}
}
