package match

import (
	"testing"
	"time"
)

func TestClaimedBy(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	me := Claimant{UID: "me", Name: "b", Created: t0, Directory: "corp", ADUser: "sam=alice", ADDN: "CN=Alice,DC=corp", CloudID: "c1"}
	tests := []struct {
		name   string
		others []Claimant
		want   string
	}{
		{"alone", nil, ""},
		{"myself in the list", []Claimant{me}, ""},
		{"older, same selector", []Claimant{{UID: "o", Name: "a", Created: t0.Add(-time.Minute), Directory: "corp", ADUser: "sam=alice"}}, "a"},
		{"older, same selector in another directory", []Claimant{{UID: "o", Name: "a", Created: t0.Add(-time.Minute), Directory: "other", ADUser: "sam=alice"}}, ""},
		{"older, other selector resolving to the same DN (any case)", []Claimant{{UID: "o", Name: "a", Created: t0.Add(-time.Minute), Directory: "corp", ADUser: "upn=alice@corp", ADDN: "cn=alice,dc=corp"}}, "a"},
		{"older, same cloud user", []Claimant{{UID: "o", Name: "a", Created: t0.Add(-time.Minute), Directory: "x", ADUser: "y", CloudID: "C1"}}, "a"},
		{"younger, same cloud user: I win", []Claimant{{UID: "o", Name: "a", Created: t0.Add(time.Minute), CloudID: "c1"}}, ""},
		{"same instant: the name decides", []Claimant{{UID: "o", Name: "a", Created: t0, CloudID: "c1"}}, "a"},
		{"same instant, later name: I win", []Claimant{{UID: "o", Name: "c", Created: t0, CloudID: "c1"}}, ""},
		{"older but being deleted", []Claimant{{UID: "o", Name: "a", Created: t0.Add(-time.Minute), Deleting: true, CloudID: "c1"}}, ""},
		{"unrelated older one", []Claimant{{UID: "o", Name: "a", Created: t0.Add(-time.Minute), Directory: "corp", ADUser: "sam=bob", CloudID: "c2"}}, ""},
		{"two older claimants: the oldest is named", []Claimant{
			{UID: "o1", Name: "x", Created: t0.Add(-time.Minute), CloudID: "c1"},
			{UID: "o2", Name: "y", Created: t0.Add(-time.Hour), CloudID: "c1"},
		}, "y"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ClaimedBy(me, tt.others); got != tt.want {
				t.Errorf("ClaimedBy = %q, want %q", got, tt.want)
			}
		})
	}
}
