package metrics_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"sigs.k8s.io/yaml"

	"github.com/entramatch/entra-match-operator/internal/metrics"
	"github.com/entramatch/entra-match-operator/internal/testenv/promrules"
)

type promRule struct {
	Alert       string            `json:"alert"`
	Expr        string            `json:"expr"`
	For         string            `json:"for"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

type prometheusRule struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
	Spec struct {
		Groups []struct {
			Name  string     `json:"name"`
			Rules []promRule `json:"rules"`
		} `json:"groups"`
	} `json:"spec"`
}

var (
	metricName  = regexp.MustCompile(`\bentramatch_[a-z_]+\b`)
	matcher     = regexp.MustCompile(`([a-z_]+)\s*=~?\s*"`)
	labelRef    = regexp.MustCompile(`\$labels\.([a-zA-Z_]+)`)
	selectorSet = regexp.MustCompile(`\{([^}]*)\}`)
	groupBy     = regexp.MustCompile(`\bby \(([^)]*)\)`)
)

// The shipped alerts (config/prometheus/rules.yaml) name only metrics the
// manager exports, with labels those metrics have, and docs/metrics.md
// names every alert.
func TestAlertRulesMatchTheExportedMetrics(t *testing.T) {
	labels := exportedLabels(t)
	raw, err := os.ReadFile(filepath.Join("..", "..", "config", "prometheus", "rules.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var pr prometheusRule
	if err := yaml.UnmarshalStrict(raw, &pr); err != nil {
		t.Fatal(err)
	}
	if pr.APIVersion != "monitoring.coreos.com/v1" || pr.Kind != "PrometheusRule" || len(pr.Spec.Groups) == 0 {
		t.Fatalf("not a PrometheusRule: %s %s", pr.APIVersion, pr.Kind)
	}
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "metrics.md"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, g := range pr.Spec.Groups {
		for _, r := range g.Rules {
			n++
			if r.Alert == "" || r.Expr == "" || r.Annotations["summary"] == "" || r.Labels["severity"] == "" {
				t.Errorf("rule %+v lacks alert, expr, summary or severity", r)
			}
			if r.For != "" {
				if _, err := time.ParseDuration(r.For); err != nil {
					t.Errorf("%s: for %q: %v", r.Alert, r.For, err)
				}
			}
			if !strings.Contains(string(doc), r.Alert) {
				t.Errorf("docs/metrics.md does not mention %s", r.Alert)
			}
			have := checkExpr(t, r.Alert, r.Expr, labels)
			for _, text := range r.Annotations {
				for _, ref := range labelRef.FindAllStringSubmatch(text, -1) {
					if !have[ref[1]] {
						t.Errorf("%s: annotation uses $labels.%s, which %s does not have", r.Alert, ref[1], r.Expr)
					}
				}
			}
		}
	}
	if n < 5 {
		t.Fatalf("found %d rules", n)
	}
}

// checkExpr fails when expr names a metric the manager does not export, or
// matches or groups by a label those metrics do not have; it returns the
// labels the expression's metrics have.
func checkExpr(t *testing.T, where, expr string, labels map[string][]string) map[string]bool {
	t.Helper()
	names := metricName.FindAllString(expr, -1)
	if len(names) == 0 {
		t.Errorf("%s: expression names no entramatch metric: %s", where, expr)
	}
	have := map[string]bool{}
	for _, m := range names {
		ls, ok := labels[m]
		if !ok {
			t.Errorf("%s: the manager exports no metric %s", where, m)
			continue
		}
		for _, l := range ls {
			have[l] = true
		}
	}
	for _, sel := range selectorSet.FindAllStringSubmatch(expr, -1) {
		for _, m := range matcher.FindAllStringSubmatch(sel[1], -1) {
			if !have[m[1]] {
				t.Errorf("%s: label %s is on none of %v", where, m[1], names)
			}
		}
	}
	for _, by := range groupBy.FindAllStringSubmatch(expr, -1) {
		for _, l := range strings.Split(by[1], ",") {
			if l = strings.TrimSpace(l); l != "" && !have[l] {
				t.Errorf("%s: groups by %s, which none of %v has", where, l, names)
			}
		}
	}
	return have
}

// The shipped dashboard (config/grafana) is Grafana JSON whose every panel
// queries metrics and labels the manager exports.
func TestDashboardQueriesTheExportedMetrics(t *testing.T) {
	labels := exportedLabels(t)
	raw, err := os.ReadFile(filepath.Join("..", "..", "config", "grafana", "entra-match-operator.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		UID           string `json:"uid"`
		Title         string `json:"title"`
		SchemaVersion int    `json:"schemaVersion"`
		Panels        []struct {
			ID      int    `json:"id"`
			Title   string `json:"title"`
			Type    string `json:"type"`
			Targets []struct {
				RefID string `json:"refId"`
				Expr  string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	if d.UID == "" || d.Title == "" || d.SchemaVersion == 0 || len(d.Panels) < 8 {
		t.Fatalf("dashboard uid %q title %q schemaVersion %d, %d panels", d.UID, d.Title, d.SchemaVersion, len(d.Panels))
	}
	ids := map[int]bool{}
	for _, p := range d.Panels {
		if p.Title == "" || p.Type == "" || len(p.Targets) == 0 || ids[p.ID] {
			t.Errorf("panel %d %q: needs a unique id, a title, a type and a target", p.ID, p.Title)
		}
		ids[p.ID] = true
		for _, tg := range p.Targets {
			checkExpr(t, "panel "+p.Title, tg.Expr, labels)
		}
	}
}

// exportedLabels collects every entramatch metric with its label names, by
// describing the collectors the package registers.
func exportedLabels(t *testing.T) map[string][]string {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	for _, c := range []prometheus.Collector{metrics.GraphRequests, metrics.GraphLatency, metrics.LDAPRequests, metrics.LDAPLookups,
		metrics.DriftCorrections, metrics.ImmutableIDWrites, metrics.RolesHeld, metrics.SignInWrites, metrics.SignInLastRefresh,
		metrics.SyncFeatureWrites, metrics.MatchingWindowsOpen} {
		if err := reg.Register(c); err != nil {
			t.Fatal(err)
		}
	}
	// Give every vector one child so that Gather reports its labels.
	metrics.GraphRequests.WithLabelValues("x", "200")
	metrics.GraphLatency.WithLabelValues("x")
	metrics.LDAPRequests.WithLabelValues("x", "ok")
	metrics.LDAPLookups.Add(0)
	metrics.DriftCorrections.WithLabelValues("x", "y")
	metrics.ImmutableIDWrites.WithLabelValues("ok")
	metrics.RolesHeld.WithLabelValues("x")
	metrics.SignInWrites.WithLabelValues("ok")
	metrics.SignInLastRefresh.WithLabelValues("x")
	metrics.SyncFeatureWrites.WithLabelValues("ok")
	metrics.MatchingWindowsOpen.WithLabelValues("x")
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, mf := range mfs {
		var names []string
		if len(mf.GetMetric()) > 0 {
			for _, lp := range mf.GetMetric()[0].GetLabel() {
				names = append(names, lp.GetName())
			}
		}
		out[mf.GetName()] = names
		if mf.GetType() == dto.MetricType_HISTOGRAM {
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				out[mf.GetName()+suffix] = append(append([]string(nil), names...), "le")
			}
		}
	}
	return out
}

// Prometheus's own rule parser accepts the shipped rules, and its engine
// fires each alert on the condition docs/metrics.md gives for it and stays
// quiet just short of it. Every alert needs a case here.
func TestAlertRulesFireOnTheirConditions(t *testing.T) {
	groups, err := promrules.Load(filepath.Join("..", "..", "config", "prometheus", "rules.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Truncate(time.Second)
	gauge := func(name, lbls string, v float64) string {
		return fmt.Sprintf("# TYPE %s gauge\n%s{%s} %g\n", name, name, lbls, v)
	}
	counter := func(name, lbls string, v float64) string {
		return fmt.Sprintf("# TYPE %s counter\n%s{%s} %g\n", name, name, lbls, v)
	}
	type scrape struct {
		ago  time.Duration
		body string
	}
	cases := map[string][]struct {
		name    string
		scrapes []scrape
		fires   bool
	}{
		"EntraMatchRolesHeldTooLong": {
			{"a role held", []scrape{{0, gauge("entramatch_privileged_roles_held", `usermatch="ada"`, 1)}}, true},
			{"roles restored", []scrape{{0, gauge("entramatch_privileged_roles_held", `usermatch="ada"`, 0)}}, false},
			{"the gauge removed once restored", []scrape{{2 * time.Minute, gauge("entramatch_privileged_roles_held", `usermatch="ada"`, 1)}, {0, ""}}, false},
		},
		"EntraMatchMatchingWindowOpen": {
			{"a window open", []scrape{{0, gauge("entramatch_matching_windows_open", `name="contoso"`, 1)}}, true},
			{"windows closed", []scrape{{0, gauge("entramatch_matching_windows_open", `name="contoso"`, 0)}}, false},
		},
		"EntraMatchDelegatedSignInStale": {
			{"refreshed 31 days ago", []scrape{{0, gauge("entramatch_signin_last_refresh_timestamp_seconds", `secret="ops/admin"`, float64(now.Add(-31*24*time.Hour).Unix()))}}, true},
			{"refreshed 29 days ago", []scrape{{0, gauge("entramatch_signin_last_refresh_timestamp_seconds", `secret="ops/admin"`, float64(now.Add(-29*24*time.Hour).Unix()))}}, false},
		},
		"EntraMatchSignInWritesFailing": {
			{"a failed write in the hour", []scrape{
				{30 * time.Minute, counter("entramatch_signin_token_writes_total", `result="failed"`, 2)},
				{0, counter("entramatch_signin_token_writes_total", `result="failed"`, 3)}}, true},
			{"no new failure", []scrape{
				{30 * time.Minute, counter("entramatch_signin_token_writes_total", `result="failed"`, 2)},
				{0, counter("entramatch_signin_token_writes_total", `result="failed"`, 2)}}, false},
		},
		"EntraMatchGraphThrottled": {
			{"0.2 429s per second", []scrape{
				{9 * time.Minute, counter("entramatch_graph_requests_total", `op="PATCH user",status="429"`, 0)},
				{0, counter("entramatch_graph_requests_total", `op="PATCH user",status="429"`, 120)}}, true},
			{"0.05 429s per second", []scrape{
				{9 * time.Minute, counter("entramatch_graph_requests_total", `op="PATCH user",status="429"`, 0)},
				{0, counter("entramatch_graph_requests_total", `op="PATCH user",status="429"`, 30)}}, false},
		},
	}
	eng := promrules.Engine()
	ctx := context.Background()
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			tcs, ok := cases[r.Alert]
			if !ok {
				t.Errorf("alert %s has no case in this test", r.Alert)
				continue
			}
			for _, tc := range tcs {
				t.Run(r.Alert+"/"+tc.name, func(t *testing.T) {
					st := promrules.Storage(t)
					sc := promrules.NewScraper(st)
					for _, s := range tc.scrapes {
						if _, err := sc.Scrape(ctx, strings.NewReader(s.body), now.Add(-s.ago)); err != nil {
							t.Fatal(err)
						}
					}
					v, err := promrules.Eval(ctx, eng, st, r.Expr, now)
					if err != nil {
						t.Fatal(err)
					}
					if fires := len(v) > 0; fires != tc.fires {
						t.Errorf("%s = %v: fires %v, want %v", r.Expr, v, fires, tc.fires)
					}
				})
			}
		}
	}
}
