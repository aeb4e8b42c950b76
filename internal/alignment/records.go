package alignment

import (
	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
)

// Names the operator changed are recorded before each write, and marked
// applied after it, so that a crash between the two loses nothing: the
// next pass reads the name and settles the record. Undo writes a recorded
// name back only while the object still holds the value the operator
// wrote: a name someone changed since is theirs, never overwritten.

// Current reads a name as it is now: ok is false when the object is gone.
type Current func(side identityv1alpha1.NameSide, object string) (name string, ok bool)

// Settled is a record once compared with the world.
type Settled struct {
	Record identityv1alpha1.NameChange
	// Keep: the record still describes a change the operator made.
	Keep bool
	// Why says why a record is dropped: "not written" (an intent whose
	// write never happened), "changed since" or "gone".
	Why string
}

// SettleRecords compares every record with the world: an intent whose
// write happened becomes applied, one whose write did not is dropped (the
// plan makes it again), and an applied change someone overwrote or whose
// object is gone is dropped.
func SettleRecords(records []identityv1alpha1.NameChange, current Current) []Settled {
	out := make([]Settled, 0, len(records))
	for _, r := range records {
		now, ok := current(r.Side, r.Object)
		switch {
		case !ok:
			out = append(out, Settled{Record: r, Why: "gone"})
		case now == r.To:
			r.Applied = true
			out = append(out, Settled{Record: r, Keep: true})
		case !r.Applied && now == r.From:
			out = append(out, Settled{Record: r, Why: "not written"})
		default:
			out = append(out, Settled{Record: r, Why: "changed since"})
		}
	}
	return out
}

// PlanUndo lists the writes that put recorded names back, in reverse order
// of the changes (AD before the cloud name, the opposite of alignment), for
// the records SettleRecords kept.
func PlanUndo(kept []identityv1alpha1.NameChange) []Rename {
	out := make([]Rename, 0, len(kept))
	for i := len(kept) - 1; i >= 0; i-- {
		r := kept[i]
		out = append(out, Rename{Side: r.Side, Object: r.Object, From: r.To, To: r.From})
	}
	return out
}
