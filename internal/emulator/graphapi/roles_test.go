package graphapi

import (
	"testing"
	"time"
)

const docExpirationPattern = "https://learn.microsoft.com/en-us/graph/api/resources/expirationpattern"

func TestParseISODuration(t *testing.T) {
	doc := docExpirationPattern // duration is an ISO 8601 duration
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"PT5H", 5 * time.Hour, true},
		{"PT2H30M", 150 * time.Minute, true},
		{"P1D", 24 * time.Hour, true},
		{"P1DT12H", 36 * time.Hour, true},
		{"P2W", 14 * 24 * time.Hour, true},
		{"PT90S", 90 * time.Second, true},
		{"PT0.5H", 30 * time.Minute, true},
		{"pt1h", time.Hour, true},
		{"", 0, false},
		{"P", 0, false},
		{"PT", 0, false},
		{"P1M", 0, false}, // months have no fixed length
		{"P1Y", 0, false},
		{"PT1D", 0, false},
		{"P1H", 0, false},
		{"PTH", 0, false},
		{"P-1D", 0, false},
		{"5H", 0, false},
		{"PT1H1", 0, false},
		{"P1DT", 0, false},
		{"PT1HT1M", 0, false},
		{"P99999999999999999999D", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseISODuration(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseISODuration(%q) = %v, %v; want %v, %v (%s)", tt.in, got, ok, tt.want, tt.ok, doc)
		}
	}
}
