package planreport_test

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/entramatch/entra-match-operator/internal/planreport"
)

// Bars are what the chart draws: one per outcome present, best first.
func TestBars(t *testing.T) {
	bars := planreport.Bars(sample())
	var got []string
	for _, b := range bars {
		got = append(got, fmt.Sprintf("%s=%d/%d", b.Outcome, b.Count, b.Width))
	}
	want := []string{"HardMatch=3/200", "SoftMatchSMTP=5/333", "SoftMatchUPN=2/133", "Updated=1/66", "Created=6/400", "Refused=4/266"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("bars %v, want %v", got, want)
	}
	if b := planreport.Bars([]planreport.Line{{Outcome: "Later"}, {Outcome: "Refused"}, {Outcome: "Another"}}); b[0].Outcome != "Refused" || b[1].Outcome != "Another" || b[2].Outcome != "Later" {
		t.Errorf("outcomes the order does not know go last, by name: %+v", b)
	}
}
