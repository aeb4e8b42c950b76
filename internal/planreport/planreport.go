// Package planreport turns a SyncPlan's per-object report into one
// self-contained HTML page: counts per predicted outcome as a chart, and a
// table of every object that a reader filters by outcome, by broken rule or
// by text, each row with the reason and the Microsoft page behind it. The
// page loads nothing: its styles, script and chart are inline, and its
// Content-Security-Policy forbids any request, so it works offline, as an
// attachment or from a file share.
package planreport

import (
	"embed"
	"html/template"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/entramatch/entra-match-operator/internal/syncplan"
)

// Line is one object of a SyncPlan's report.
type Line struct {
	Object      string   `json:"object"`
	Kind        string   `json:"kind"`
	Outcome     string   `json:"outcome"`
	Code        string   `json:"code,omitempty"`
	CloudObject string   `json:"cloudObject,omitempty"`
	Problems    []string `json:"problems,omitempty"`
	Message     string   `json:"message"`
	// AfterAlignment is what sync will do once the SignInNameAlignments
	// of the tenant and directory have renamed, when that differs.
	AfterAlignment string `json:"afterAlignment,omitempty"`
	// Page is the Microsoft page stating the rule behind Outcome and Code.
	Page string `json:"page,omitempty"`
}

// WithPages fills each line's Page from its outcome and code.
func WithPages(lines []Line) []Line {
	for i := range lines {
		lines[i].Page = syncplan.Page(syncplan.Outcome(lines[i].Outcome), lines[i].Code)
	}
	return lines
}

// Report is what the page shows.
type Report struct {
	// Title names the plan, such as the SyncPlan's name.
	Title string
	// Planned is when the plan was computed.
	Planned time.Time
	Lines   []Line
}

// Bar is one outcome of the chart.
type Bar struct {
	Outcome string
	Count   int
	// Y and Width place the bar in the chart's SVG (width in px of 400).
	Y, Width int
}

// outcomeOrder lists outcomes from the best to the worst for a migration;
// an outcome the engine adds later goes last, in name order.
var outcomeOrder = []syncplan.Outcome{syncplan.HardMatch, syncplan.SoftMatchSMTP, syncplan.SoftMatchUPN,
	syncplan.Updated, syncplan.Created, syncplan.Refused}

const (
	barHeight = 28
	barWidth  = 400
)

// Bars counts the lines per outcome, in outcomeOrder, leaving out those
// with none.
func Bars(lines []Line) []Bar {
	counts := map[string]int{}
	for _, l := range lines {
		counts[l.Outcome]++
	}
	rank := func(o string) int {
		for i, k := range outcomeOrder {
			if string(k) == o {
				return i
			}
		}
		return len(outcomeOrder)
	}
	var names []string
	for o := range counts {
		names = append(names, o)
	}
	sort.Slice(names, func(i, j int) bool {
		if ri, rj := rank(names[i]), rank(names[j]); ri != rj {
			return ri < rj
		}
		return names[i] < names[j]
	})
	most := 0
	for _, o := range names {
		most = max(most, counts[o])
	}
	bars := make([]Bar, 0, len(names))
	for i, o := range names {
		bars = append(bars, Bar{Outcome: o, Count: counts[o], Y: i * barHeight, Width: max(1, counts[o]*barWidth/most)})
	}
	return bars
}

// problems lists the broken rules that occur, sorted.
func problems(lines []Line) []string {
	seen := map[string]bool{}
	for _, l := range lines {
		for _, p := range l.Problems {
			seen[p] = true
		}
	}
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

//go:embed page.html.tmpl
var pageFS embed.FS

var page = template.Must(template.New("page.html.tmpl").Funcs(template.FuncMap{
	"join": func(s []string) string { return strings.Join(s, " ") },
}).ParseFS(pageFS, "page.html.tmpl"))

// WriteHTML writes the page.
func WriteHTML(w io.Writer, r Report) error {
	bars := Bars(r.Lines)
	return page.Execute(w, map[string]any{
		"Title":       r.Title,
		"Planned":     r.Planned.UTC().Format(time.RFC3339),
		"Lines":       WithPages(r.Lines),
		"Bars":        bars,
		"ChartHeight": len(bars)*barHeight + 4,
		"Problems":    problems(r.Lines),
	})
}
