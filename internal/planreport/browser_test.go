//go:build !unit

package planreport_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/entramatch/entra-match-operator/internal/planreport"
)

// chromium finds Debian's Chromium (.ci/run installs it); without it the
// test fails, as a missing kube-apiserver does: it never skips.
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatal("no Chromium at /usr/bin/chromium (apt-get install chromium; .ci/run does it)")
	return ""
}

// browserEvents is what the page did that a reader would not see: requests,
// console errors, uncaught exceptions, browser log errors (a Content-
// Security-Policy refusal among them).
type browserEvents struct {
	mu       sync.Mutex
	requests []string
	errors   []string
}

func (b *browserEvents) listen(ev any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch e := ev.(type) {
	case *network.EventRequestWillBeSent:
		b.requests = append(b.requests, e.Request.URL)
	case *runtime.EventExceptionThrown:
		b.errors = append(b.errors, "exception: "+e.ExceptionDetails.Text)
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeWarning {
			b.errors = append(b.errors, fmt.Sprintf("console.%s", e.Type))
		}
	case *log.EventEntryAdded:
		if e.Entry.Level == log.EntryLevelError || e.Entry.Level == log.EntryLevelWarning {
			b.errors = append(b.errors, "log: "+e.Entry.Text)
		}
	}
}

func sample() []planreport.Line {
	var lines []planreport.Line
	add := func(n int, outcome, code string, problems ...string) {
		for i := range n {
			lines = append(lines, planreport.Line{
				Object:  fmt.Sprintf("CN=%s %s %d,OU=Staff,DC=corp,DC=example,DC=com", outcome, code, i),
				Kind:    "user",
				Outcome: outcome, Code: code, Problems: problems,
				Message: fmt.Sprintf("%s because of %q", outcome, code),
			})
		}
	}
	add(3, "HardMatch", "")
	add(5, "SoftMatchSMTP", "")
	add(2, "SoftMatchUPN", "")
	add(1, "Updated", "")
	add(4, "Created", "UPNNotVerified", "UPNSuffixNotVerified")
	add(2, "Created", "AnchorTaken", "DuplicateMail", "DuplicateUPN")
	add(3, "Refused", "ExistingAdminRoleConflict")
	add(1, "Refused", "InvalidHardMatch", "DuplicateMail")
	// A value AD let someone write is text on the page, never markup.
	lines[0].Message = `<img src="https://attacker.example/x.png" onerror="document.title='owned'">`
	return lines
}

// The page a person opens: it loads with nothing fetched and nothing
// failing, its chart shows the counts per outcome, and the filters narrow
// the table.
func TestPageInARealBrowser(t *testing.T) {
	exe := chromium(t)
	lines := sample()
	file := filepath.Join(t.TempDir(), "plan.html")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := planreport.WriteHTML(f, planreport.Report{Title: "first-sync", Planned: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC), Lines: lines}); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()))
	defer cancelAlloc()
	events := &browserEvents{}
	ctx, cancel := chromedp.NewContext(alloc, chromedp.WithListener(events.listen))
	defer cancel()
	// The first Run starts the browser and must not carry a timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	ctx, cancelTimeout := context.WithTimeout(ctx, time.Minute)
	defer cancelTimeout()

	url := "file://" + file
	if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS("#objects tbody tr"))); err != nil {
		t.Fatal(err)
	}

	// The chart: one bar per outcome, with the count it is drawn for.
	type bar struct {
		Outcome string
		Label   string
		Width   float64
	}
	bars, err := chromedp.Run(ctx, chromedp.Evaluate[[]bar](`Array.from(document.querySelectorAll("#chart .bar")).map(b => ({
		Outcome: b.dataset.outcome, Label: b.querySelector("text.count").textContent,
		Width: b.querySelector("rect").getBBox().width}))`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{}
	for _, l := range lines {
		want[l.Outcome]++
	}
	got := map[string]int{}
	widest := 0.0
	for _, b := range bars {
		var n int
		if _, err := fmt.Sscan(b.Label, &n); err != nil {
			t.Errorf("bar %s label %q", b.Outcome, b.Label)
		}
		got[b.Outcome] = n
		widest = max(widest, b.Width)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("chart shows %v, the report has %v", got, want)
	}
	most := 0
	for _, n := range want {
		most = max(most, n)
	}
	for _, b := range bars {
		// Bars are drawn in proportion to their counts.
		if wantW := widest * float64(want[b.Outcome]) / float64(most); abs(b.Width-wantW) > 1.5 {
			t.Errorf("bar %s is %.1f px wide, want about %.1f", b.Outcome, b.Width, wantW)
		}
	}
	if order := outcomesOf(bars, func(b bar) string { return b.Outcome }); !reflect.DeepEqual(order,
		[]string{"HardMatch", "SoftMatchSMTP", "SoftMatchUPN", "Updated", "Created", "Refused"}) {
		t.Errorf("bars in order %v", order)
	}

	visible := func() []string {
		t.Helper()
		rows, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#objects tbody tr"))
			.filter(r => r.offsetParent !== null).map(r => r.dataset.outcome + " " + r.dataset.problems)`))
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
	shown := func() string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("shown").textContent`))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if n := len(visible()); n != len(lines) {
		t.Fatalf("%d rows visible before filtering, want %d", n, len(lines))
	}

	// A click on the Refused bar keeps the four refused objects.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#chart .bar.Refused rect"))); err != nil {
		t.Fatal(err)
	}
	rows := visible()
	if len(rows) != 4 || !allPrefixed(rows, "Refused ") || shown() != fmt.Sprintf("4 of %d shown", len(lines)) {
		t.Errorf("after clicking Refused: %v (%s)", rows, shown())
	}

	// The outcome menu, then a broken rule: Created with DuplicateMail.
	pick := func(id, value string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.ID(id), value),
			chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				_, err := chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.getElementById(%q).dispatchEvent(new Event("change"))`, id))(ctx, tg)
				return err
			})); err != nil {
			t.Fatal(err)
		}
	}
	pick("outcome", "Created")
	if rows := visible(); len(rows) != 6 || !allPrefixed(rows, "Created ") {
		t.Errorf("outcome Created: %v", rows)
	}
	pick("problem", "DuplicateMail")
	if rows := visible(); !reflect.DeepEqual(rows, []string{"Created DuplicateMail DuplicateUPN", "Created DuplicateMail DuplicateUPN"}) {
		t.Errorf("Created with DuplicateMail: %v", rows)
	}
	pick("outcome", "")
	if rows := visible(); len(rows) != 3 {
		t.Errorf("any outcome with DuplicateMail: %v", rows)
	}
	pick("problem", "")

	// Typing narrows by text.
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("text"), "InvalidHardMatch")); err != nil {
		t.Fatal(err)
	}
	if rows := visible(); !reflect.DeepEqual(rows, []string{"Refused DuplicateMail"}) {
		t.Errorf("text InvalidHardMatch: %v", rows)
	}

	// Each row links the Microsoft page behind its outcome.
	links, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#objects tbody tr a")).map(a => a.href)`))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range links {
		if !strings.HasPrefix(h, "https://learn.microsoft.com/entra/identity/hybrid/connect/") {
			t.Errorf("row links %s", h)
		}
	}

	// The AD value stayed text: no element was made of it, the title is intact.
	title, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelectorAll("#objects img").length + " " + document.title`))
	if err != nil {
		t.Fatal(err)
	}
	if title != "0 Sync plan first-sync" {
		t.Errorf("markup in a value was interpreted: %q", title)
	}

	events.mu.Lock()
	defer events.mu.Unlock()
	for _, r := range events.requests {
		if r != url {
			t.Errorf("the page requested %s: it must load nothing", r)
		}
	}
	if len(events.errors) > 0 {
		t.Errorf("the page reported errors: %v", events.errors)
	}
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

func allPrefixed(rows []string, prefix string) bool {
	for _, r := range rows {
		if !strings.HasPrefix(r, prefix) {
			return false
		}
	}
	return true
}

func outcomesOf[T any](xs []T, f func(T) string) []string {
	out := make([]string, 0, len(xs))
	for _, x := range xs {
		out = append(out, f(x))
	}
	return out
}
