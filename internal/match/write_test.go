package match

import (
	"strings"
	"testing"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/cloud"
)

func TestPreviouslySet(t *testing.T) {
	r := Record{ImmutableID: "A==", CloudID: "c1", Matched: true}
	tests := []struct {
		name  string
		r     Record
		cloud string
		value string
		want  bool
	}{
		{"seen here before: drift", r, "c1", "A==", true},
		{"another cloud user", r, "c2", "A==", false},
		{"another anchor", r, "c1", "B==", false},
		{"written but never seen there", Record{ImmutableID: "A==", CloudID: "c1"}, "c1", "A==", false},
		{"nothing recorded", Record{}, "c1", "A==", false},
	}
	for _, tt := range tests {
		if got := tt.r.PreviouslySet(tt.cloud, tt.value); got != tt.want {
			t.Errorf("%s: PreviouslySet = %t, want %t", tt.name, got, tt.want)
		}
	}
}

func TestWriteRefused(t *testing.T) {
	got := WriteRefused(cloud.ClassConflict, "A==", "f00")
	if got.Block == nil || got.Block.Reason != identityv1alpha1.ReasonImmutableIDConflict || !strings.Contains(got.Block.Message, "f00") || got.LookAgain {
		t.Errorf("conflict: %+v", got)
	}
	if got := WriteRefused(cloud.ClassConflict, "A==", ""); got.Block == nil || !strings.Contains(got.Block.Message, "not named") {
		t.Errorf("unnamed conflict: %+v", got)
	}
	if got := WriteRefused(cloud.ClassOnPremMastered, "A==", ""); got.Block != nil || !got.LookAgain {
		t.Errorf("joined meanwhile: %+v", got)
	}
	for _, c := range []cloud.Class{cloud.ClassThrottled, cloud.ClassTransient, cloud.ClassPermission, cloud.ClassInvalid, ""} {
		if got := WriteRefused(c, "A==", ""); got.Block != nil || got.LookAgain {
			t.Errorf("%s: %+v, want a failed pass", c, got)
		}
	}
}
