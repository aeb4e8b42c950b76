package bench_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"k8s.io/client-go/rest"
)

// apiServer reads the API server's own metrics: what every client asked of
// it, and the CPU it spent. On this machine the API server shares two cores
// with everything else, so its work bounds several of the benchmarks.
func apiServer(b *testing.B, cfg *rest.Config) samples {
	b.Helper()
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		b.Fatal(err)
	}
	return scrapeWith(b, hc, strings.TrimRight(cfg.Host, "/")+"/metrics")
}

// label returns one label's value from a sample line.
func label(line, name string) string {
	i := strings.Index(line, name+`="`)
	if i < 0 {
		return ""
	}
	rest := line[i+len(name)+2:]
	return rest[:strings.IndexByte(rest, '"')]
}

// apiServerWork prints the API server's CPU seconds and its requests (all
// clients: the manager, the benchmark's watch and its creates) between two
// readings, by verb and resource, per UserMatch, largest first.
func apiServerWork(before, after samples, n int) string {
	counts := map[string]float64{}
	for _, pair := range []struct {
		s    samples
		sign float64
	}{{before, -1}, {after, 1}} {
		for _, line := range pair.s {
			if !strings.HasPrefix(line, "apiserver_request_total{") {
				continue
			}
			res := label(line, "resource")
			if sub := label(line, "subresource"); sub != "" {
				res += "/" + sub
			}
			counts[label(line, "verb")+" "+res] += pair.sign * value(line)
		}
	}
	keys := make([]string, 0, len(counts))
	total := 0.0
	for k, v := range counts {
		if v > 0 {
			keys = append(keys, k)
			total += v
		}
	}
	sort.Slice(keys, func(i, j int) bool { return counts[keys[i]] > counts[keys[j]] })
	var sb strings.Builder
	cpu := after.sum("process_cpu_seconds_total", "") - before.sum("process_cpu_seconds_total", "")
	fmt.Fprintf(&sb, "API server: %.0f s of CPU, %.0f requests (%.1f per UserMatch); by verb and resource:\n", cpu, total, total/float64(n))
	for _, k := range keys {
		if counts[k] >= float64(n)/100 {
			fmt.Fprintf(&sb, "  %-40s %8.0f (%.2f per UserMatch)\n", k, counts[k], counts[k]/float64(n))
		}
	}
	return sb.String()
}
