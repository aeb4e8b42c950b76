package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/entramatch/entra-match-operator/internal/testenv/promrules"
)

// scrapeEvery is how often the trail scrapes: often enough that rate()
// over five minutes has many samples in a four-minute run.
const scrapeEvery = 2 * time.Second

// metricsTrail scrapes the manager's /metrics over HTTP for the whole run,
// as a Prometheus would, into Prometheus's own storage.
type metricsTrail struct {
	srv  *httptest.Server
	st   storage.Storage
	sc   *promrules.Scraper
	stop chan struct{}
	done chan struct{}
	once sync.Once

	mu          sync.Mutex
	scrapes     int
	first, last time.Time
	err         error
}

func startMetricsTrail() (*metricsTrail, error) {
	st, err := promrules.NewStorage()
	if err != nil {
		return nil, err
	}
	m := &metricsTrail{
		srv: httptest.NewServer(promhttp.HandlerFor(ctrlmetrics.Registry, promhttp.HandlerOpts{})),
		st:  st, sc: promrules.NewScraper(st),
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	go func() {
		defer close(m.done)
		tick := time.NewTicker(scrapeEvery)
		defer tick.Stop()
		for {
			m.scrape()
			select {
			case <-m.stop:
				m.scrape()
				return
			case <-tick.C:
			}
		}
	}()
	return m, nil
}

func (m *metricsTrail) scrape() {
	at := time.Now()
	resp, err := http.Get(m.srv.URL)
	if err == nil {
		if resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("/metrics answered %d", resp.StatusCode)
		} else {
			_, err = m.sc.Scrape(context.Background(), resp.Body, at)
		}
		_ = resp.Body.Close()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil {
		m.err = err
		return
	}
	if m.scrapes == 0 {
		m.first = at
	}
	m.scrapes++
	m.last = at
}

// finish stops scraping after one last scrape.
func (m *metricsTrail) finish() {
	m.once.Do(func() { close(m.stop) })
	<-m.done
}

func (m *metricsTrail) close() {
	m.finish()
	m.srv.Close()
	_ = m.st.Close()
}

// Across the run, the manager's /metrics was scraped every two seconds
// into Prometheus's storage. Each shipped alert (config/prometheus/
// rules.yaml, parsed by Prometheus's rule parser) and each dashboard panel
// (config/grafana) is then evaluated with Prometheus's engine at the end
// of the run: every series it reads was exported by this run with the
// labels it matches on, and it evaluates. No alert fires once the run has
// restored every role and closed every window, and every panel shows data
// over the run.
func TestZZAlertsAndDashboardAgainstThisRunsMetrics(t *testing.T) {
	w := env(t)
	groups, err := promrules.Load(filepath.Join("..", "..", "config", "prometheus", "rules.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tr := w.trail
	tr.finish()
	tr.mu.Lock()
	scrapes, first, now, scrapeErr := tr.scrapes, tr.first, tr.last, tr.err
	tr.mu.Unlock()
	if scrapeErr != nil || scrapes < 10 {
		t.Fatalf("%d scrapes, last error %v", scrapes, scrapeErr)
	}
	t.Logf("%d scrapes over %s", scrapes, now.Sub(first).Round(time.Second))
	ctx := context.Background()
	q, err := tr.st.Querier(first.UnixMilli(), now.UnixMilli())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = q.Close() }()
	eng := promrules.Engine()

	// reads checks that every series expr reads was exported at some time
	// in the run, with the labels it matches on, and evaluates expr at
	// the end of the run.
	reads := func(what, expr string) promql.Vector {
		t.Helper()
		sels, err := promrules.Selectors(expr)
		if err != nil {
			t.Errorf("%s: %v", what, err)
			return nil
		}
		for _, sel := range sels {
			have := map[string]bool{}
			n := 0
			set := q.Select(ctx, false, nil, labels.MustNewMatcher(labels.MatchEqual, model.MetricNameLabel, sel.Name))
			for set.Next() {
				n++
				set.At().Labels().Range(func(l labels.Label) { have[l.Name] = true })
			}
			if n == 0 {
				t.Errorf("%s reads %s, which this run's manager never exported", what, sel.Name)
			}
			for _, m := range sel.LabelMatchers {
				if m.Name != model.MetricNameLabel && !have[m.Name] {
					t.Errorf("%s matches on %s, which no series of %s has", what, m.Name, sel.Name)
				}
			}
		}
		v, err := promrules.Eval(ctx, eng, tr.st, expr, now)
		if err != nil {
			t.Errorf("%s: %v", what, err)
		}
		return v
	}
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			if v := reads("alert "+r.Alert, r.Expr); len(v) > 0 {
				t.Errorf("%s fires after the run: %v", r.Alert, v)
			}
		}
	}

	raw, err := os.ReadFile(filepath.Join("..", "..", "config", "grafana", "entra-match-operator.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatal(err)
	}
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			reads("panel "+p.Title, tg.Expr)
			m, err := promrules.EvalRange(ctx, eng, tr.st, tg.Expr, first, now, 10*time.Second)
			if err != nil {
				t.Errorf("panel %s: %v", p.Title, err)
			} else if len(m) == 0 {
				t.Errorf("panel %s shows no data over the run: %s", p.Title, tg.Expr)
			}
		}
	}
}
