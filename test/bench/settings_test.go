package bench_test

import (
	"os"
	"regexp"
	"testing"
)

// The benchmarks run the manager with the Deployment's GOMEMLIMIT unless
// told otherwise, so that their memory figures are the shipped default's.
func TestBenchesUseTheDeploymentsMemoryLimit(t *testing.T) {
	t.Setenv("BENCH_GOMEMLIMIT", "")
	data, err := os.ReadFile("../../config/manager/manager.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`name: GOMEMLIMIT\s+value: "?([0-9A-Za-z]+)`).FindSubmatch(data)
	if m == nil {
		t.Fatal("config/manager/manager.yaml sets no GOMEMLIMIT")
	}
	if got := memLimit(); got != string(m[1]) {
		t.Fatalf("the benchmarks default to GOMEMLIMIT %s, the Deployment sets %s", got, m[1])
	}
}
