// Package promrules reads the operator's PrometheusRule with Prometheus's
// own rule parser and evaluates its expressions with Prometheus's own PromQL
// engine over metrics a manager exported, for tests: what the shipped alerts
// say is checked by the code that will run them, not by a reading of ours.
package promrules

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/util/teststorage"
	"sigs.k8s.io/yaml"
)

// Parser is PromQL as a Prometheus server parses it by default.
var Parser = parser.NewParser(parser.Options{})

// Load reads a PrometheusRule (the Prometheus Operator's kind) and parses
// its groups as Prometheus parses a rules file: unknown fields, bad
// durations, invalid PromQL, bad label or annotation templates are errors.
func Load(path string) (*rulefmt.RuleGroups, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var pr struct {
		Spec struct {
			Groups []any `json:"groups"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(raw, &pr); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	file, err := yaml.Marshal(map[string]any{"groups": pr.Spec.Groups})
	if err != nil {
		return nil, err
	}
	groups, errs := rulefmt.Parse(file, false, model.LegacyValidation, Parser, slog.New(slog.DiscardHandler))
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s: %v", path, errs)
	}
	if len(groups.Groups) == 0 {
		return nil, fmt.Errorf("%s has no rule groups", path)
	}
	return groups, nil
}

// Storage holds samples for queries; it is removed when the test ends.
func Storage(t testing.TB) storage.Storage { return teststorage.New(t) }

// NewStorage is Storage for a caller without a testing.TB (a TestMain);
// the caller closes it.
func NewStorage() (storage.Storage, error) { return teststorage.NewWithError() }

// Scraper stores successive /metrics responses as Prometheus's scrape loop
// does: each series at the scrape's time, and a staleness marker for a
// series the previous scrape had and this one has not (a gauge the manager
// deleted), so that a query after that sees it gone.
type Scraper struct {
	st   storage.Storage
	last map[string]labels.Labels
}

// NewScraper stores into st.
func NewScraper(st storage.Storage) *Scraper {
	return &Scraper{st: st, last: map[string]labels.Labels{}}
}

// Scrape parses one response (text exposition) and stores it at at. It
// returns how many series the response held.
func (s *Scraper) Scrape(ctx context.Context, body io.Reader, at time.Time) (int, error) {
	samples, err := parse(body)
	if err != nil {
		return 0, err
	}
	app := s.st.Appender(ctx)
	now := map[string]labels.Labels{}
	for _, smp := range samples {
		now[smp.lbls.String()] = smp.lbls
		if _, err := app.Append(0, smp.lbls, at.UnixMilli(), smp.v); err != nil {
			_ = app.Rollback()
			return 0, err
		}
	}
	for key, lbls := range s.last {
		if _, ok := now[key]; !ok {
			if _, err := app.Append(0, lbls, at.UnixMilli(), math.Float64frombits(value.StaleNaN)); err != nil {
				_ = app.Rollback()
				return 0, err
			}
		}
	}
	if err := app.Commit(); err != nil {
		return 0, err
	}
	s.last = now
	return len(samples), nil
}

type sample struct {
	lbls labels.Labels
	v    float64
}

// parse turns a text exposition into samples, histograms and summaries
// into their _bucket, _sum and _count series.
func parse(body io.Reader) ([]sample, error) {
	tp := expfmt.NewTextParser(model.LegacyValidation)
	families, err := tp.TextToMetricFamilies(body)
	if err != nil {
		return nil, err
	}
	var samples []sample
	add := func(name string, base map[string]string, extra map[string]string, v float64) {
		b := labels.NewBuilder(labels.EmptyLabels())
		b.Set(model.MetricNameLabel, name)
		for k, val := range base {
			b.Set(k, val)
		}
		for k, val := range extra {
			b.Set(k, val)
		}
		samples = append(samples, sample{b.Labels(), v})
	}
	for name, mf := range families {
		for _, m := range mf.GetMetric() {
			base := map[string]string{}
			for _, lp := range m.GetLabel() {
				base[lp.GetName()] = lp.GetValue()
			}
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				add(name, base, nil, m.GetCounter().GetValue())
			case dto.MetricType_GAUGE:
				add(name, base, nil, m.GetGauge().GetValue())
			case dto.MetricType_UNTYPED:
				add(name, base, nil, m.GetUntyped().GetValue())
			case dto.MetricType_HISTOGRAM:
				h := m.GetHistogram()
				for _, b := range h.GetBucket() {
					add(name+"_bucket", base, map[string]string{"le": formatBound(b.GetUpperBound())}, float64(b.GetCumulativeCount()))
				}
				add(name+"_bucket", base, map[string]string{"le": "+Inf"}, float64(h.GetSampleCount()))
				add(name+"_sum", base, nil, h.GetSampleSum())
				add(name+"_count", base, nil, float64(h.GetSampleCount()))
			case dto.MetricType_SUMMARY:
				sm := m.GetSummary()
				for _, q := range sm.GetQuantile() {
					add(name, base, map[string]string{"quantile": formatBound(q.GetQuantile())}, q.GetValue())
				}
				add(name+"_sum", base, nil, sm.GetSampleSum())
				add(name+"_count", base, nil, float64(sm.GetSampleCount()))
			}
		}
	}
	return samples, nil
}

func formatBound(f float64) string {
	if math.IsInf(f, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// Engine is a PromQL engine with a Prometheus server's defaults.
func Engine() *promql.Engine {
	return promql.NewEngine(promql.EngineOpts{MaxSamples: 50_000_000, Timeout: time.Minute, LookbackDelta: 5 * time.Minute, Parser: Parser})
}

// Eval evaluates expr at one instant, as a rule evaluation does.
func Eval(ctx context.Context, eng *promql.Engine, st storage.Queryable, expr string, at time.Time) (promql.Vector, error) {
	q, err := eng.NewInstantQuery(ctx, st, nil, expr, at)
	if err != nil {
		return nil, err
	}
	// Close hands the query's buffers back to the engine: copy first.
	defer q.Close()
	v, err := q.Exec(ctx).Vector()
	return slices.Clone(v), err
}

// EvalRange evaluates expr at every step from start to end, as a
// dashboard panel does.
func EvalRange(ctx context.Context, eng *promql.Engine, st storage.Queryable, expr string, start, end time.Time, step time.Duration) (promql.Matrix, error) {
	q, err := eng.NewRangeQuery(ctx, st, nil, expr, start, end, step)
	if err != nil {
		return nil, err
	}
	defer q.Close()
	m, err := q.Exec(ctx).Matrix()
	out := make(promql.Matrix, len(m))
	for i, series := range m {
		series.Floats, series.Histograms = slices.Clone(series.Floats), slices.Clone(series.Histograms)
		out[i] = series
	}
	return out, err
}

// Selectors are the series selectors expr reads.
func Selectors(expr string) ([]*parser.VectorSelector, error) {
	e, err := Parser.ParseExpr(expr)
	if err != nil {
		return nil, err
	}
	var out []*parser.VectorSelector
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			out = append(out, vs)
		}
		return nil
	})
	return out, nil
}
