package metrics_test

import (
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
			names := metricName.FindAllString(r.Expr, -1)
			if len(names) == 0 {
				t.Errorf("%s: expression names no entramatch metric: %s", r.Alert, r.Expr)
			}
			have := map[string]bool{}
			for _, m := range names {
				ls, ok := labels[m]
				if !ok {
					t.Errorf("%s: the manager exports no metric %s", r.Alert, m)
					continue
				}
				for _, l := range ls {
					have[l] = true
				}
			}
			for _, sel := range selectorSet.FindAllStringSubmatch(r.Expr, -1) {
				for _, m := range matcher.FindAllStringSubmatch(sel[1], -1) {
					if !have[m[1]] {
						t.Errorf("%s: label %s is on none of %v", r.Alert, m[1], names)
					}
				}
			}
			for _, text := range r.Annotations {
				for _, ref := range labelRef.FindAllStringSubmatch(text, -1) {
					if !have[ref[1]] {
						t.Errorf("%s: annotation uses $labels.%s, which %v do not have", r.Alert, ref[1], names)
					}
				}
			}
		}
	}
	if n < 5 {
		t.Fatalf("found %d rules", n)
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
