package match

import (
	"fmt"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/cloud"
)

// Record is what earlier passes left in status about the anchor.
type Record struct {
	// ImmutableID is the anchor last written or observed, on CloudID.
	ImmutableID string
	CloudID     string
	// Matched: a pass saw the cloud user carry it.
	Matched bool
}

// PreviouslySet reports whether an earlier pass saw value on this cloud
// user: a different value now is drift (someone changed it), not a first
// write.
func (r Record) PreviouslySet(cloudID, value string) bool {
	return r.Matched && r.ImmutableID == value && r.CloudID == cloudID
}

// Refusal is what Graph refusing the immutableId write means for the match.
type Refusal struct {
	// Block stops the match until a person acts.
	Block *Block
	// LookAgain: the world changed between read and write; observe again
	// at once rather than fail.
	LookAgain bool
}

// WriteRefused decides a refused write by the error's class: another
// object took the value between our read and our write (the conflict
// names it), or sync joined the user meanwhile. Any other class is a
// failure of the pass (the zero Refusal).
func WriteRefused(class cloud.Class, value, conflicting string) Refusal {
	switch class {
	case cloud.ClassConflict:
		if conflicting == "" {
			conflicting = "object not named by Graph"
		}
		return Refusal{Block: &Block{Reason: identityv1alpha1.ReasonImmutableIDConflict,
			Message: fmt.Sprintf("Graph refused immutableId %s as already used by another object (%s)", value, conflicting)}}
	case cloud.ClassOnPremMastered:
		return Refusal{LookAgain: true}
	}
	return Refusal{}
}
