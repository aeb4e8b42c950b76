package syncfeatures

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
)

// windows is the evaluation of the matching windows at one instant.
type windows struct {
	statuses []identityv1alpha1.WindowStatus
	// intent is statuses as they may be recorded before the write: a
	// closing window stays active there until the write that hands its
	// flag back has succeeded.
	intent []identityv1alpha1.WindowStatus
	// open are the windows overriding their flag now: the active ones and,
	// in Observe mode, the pending ones (to report what they would do).
	open []identityv1alpha1.WindowStatus
	// opened are the windows that become active in this pass.
	opened []WindowEvent
	// closing are windows that were active and are no longer: expired,
	// removed from spec, or moved to another flag.
	closing []identityv1alpha1.WindowStatus
	next    *time.Time
}

// evaluateWindows places every window of the spec in its life.
//
// A window opens in the first Enforce pass that sees it and records that
// instant, so a restart does not extend a duration. In Observe mode an
// active window closes at once: a window nobody enforces must not keep a
// flag overridden. It is closed from its
// expiry on: at the exact instant, not a second later. A window whose until
// has passed before it was ever applied never opens. Start times are kept to
// the second because status keeps no finer time; the expiry is computed from
// the stored start, so every pass (and every restart) agrees on it.
func evaluateWindows(spec []identityv1alpha1.MatchingWindow, prev []identityv1alpha1.WindowStatus,
	current map[string]bool, now time.Time, enforce bool) windows {
	var out windows
	seen := map[string]bool{}
	taken := map[identityv1alpha1.SyncFeature]bool{}
	for i := range spec {
		w := &spec[i]
		f := identityv1alpha1.SyncFeature(w.Feature)
		seen[w.Name] = true
		p := findWindow(prev, w.Name)
		var moved *identityv1alpha1.WindowStatus
		if p != nil && p.Feature != f {
			if p.State == identityv1alpha1.WindowActive {
				out.closing = append(out.closing, *p)
				moved = p
			}
			p = nil
		}
		st := identityv1alpha1.WindowStatus{Name: w.Name, Feature: f, Value: w.Value}
		wasActive := p != nil && p.State == identityv1alpha1.WindowActive
		var start *metav1.Time
		if p != nil && p.ActiveSince != nil {
			start = p.ActiveSince.DeepCopy()
		}
		if start == nil && enforce {
			opening := now.Truncate(time.Second)
			if end, ok := expiry(w, &opening); ok && now.Before(end) {
				t := metav1.NewTime(opening)
				start = &t
			}
		}

		switch end, ok := expiry(w, timeOf(start)); {
		case start != nil && ok && now.Before(end) && enforce:
			st.State = identityv1alpha1.WindowActive
			st.ActiveSince = start
			st.ExpiresAt = timePtr(end)
			if wasActive {
				st.PreviousValue = copyBool(p.PreviousValue)
			} else {
				// Opening (or reopening after its end was moved later):
				// remember what the flag was, to hand it back on closing.
				v, known := current[string(f)]
				if known {
					st.PreviousValue = &v
				}
				out.opened = append(out.opened, WindowEvent{Name: w.Name, Feature: f, Value: w.Value, ExpiresAt: end})
			}
			out.next = earliest(out.next, end)
		case start == nil && ok && now.Before(end):
			// Observe mode: the window would open now. Its duration only
			// starts counting once it is applied.
			st.State = identityv1alpha1.WindowPending
			if w.Until != nil {
				st.ExpiresAt = w.Until.DeepCopy()
				out.next = earliest(out.next, end)
			}
		case start == nil && w.Duration != nil && w.Duration.Duration > 0:
			// Observe mode, duration window not yet applied.
			st.State = identityv1alpha1.WindowPending
		default:
			st.State = identityv1alpha1.WindowExpired
			st.ActiveSince = start
			if ok {
				st.ExpiresAt = timePtr(end)
			}
			if p != nil {
				st.PreviousValue = copyBool(p.PreviousValue)
			}
			if wasActive {
				out.closing = append(out.closing, st)
			}
		}
		if st.State != identityv1alpha1.WindowExpired && !taken[f] {
			taken[f] = true
			out.open = append(out.open, st)
		}
		out.statuses = append(out.statuses, st)
		switch {
		case moved != nil:
			out.intent = append(out.intent, *moved.DeepCopy())
		case wasActive && st.State != identityv1alpha1.WindowActive:
			out.intent = append(out.intent, *p.DeepCopy())
		default:
			out.intent = append(out.intent, st)
		}
	}
	// A window taken out of the spec while active closes now; it then
	// leaves status.
	for _, p := range prev {
		if !seen[p.Name] && p.State == identityv1alpha1.WindowActive {
			out.closing = append(out.closing, p)
			out.intent = append(out.intent, *p.DeepCopy())
		}
	}
	return out
}

// Unapplied is the window status to keep after a pass that could not write:
// windows already recorded stay as they were (so that an active window that
// should close still closes, and hands its flag back, on the next pass that
// can write), and new windows are shown as pending, or expired when their
// end has already passed.
func Unapplied(spec []identityv1alpha1.MatchingWindow, prev []identityv1alpha1.WindowStatus, now time.Time) []identityv1alpha1.WindowStatus {
	var out []identityv1alpha1.WindowStatus
	for _, p := range prev {
		out = append(out, *p.DeepCopy())
	}
	for i := range spec {
		w := &spec[i]
		if findWindow(prev, w.Name) != nil {
			continue
		}
		st := identityv1alpha1.WindowStatus{Name: w.Name, Feature: identityv1alpha1.SyncFeature(w.Feature), Value: w.Value,
			State: identityv1alpha1.WindowPending}
		if w.Until != nil {
			st.ExpiresAt = w.Until.DeepCopy()
			if !now.Before(w.Until.Time) {
				st.State = identityv1alpha1.WindowExpired
			}
		}
		out = append(out, st)
	}
	return out
}

// expiry is when a window that started at start closes; a duration window
// that has not started has no expiry yet. No window outlives
// MaxWindowDuration from its start.
func expiry(w *identityv1alpha1.MatchingWindow, start *time.Time) (time.Time, bool) {
	switch {
	case w.Until != nil && start != nil:
		return earliestOf(w.Until.Time, start.Add(identityv1alpha1.MaxWindowDuration)), true
	case w.Until != nil:
		return w.Until.Time, true
	case w.Duration != nil && start != nil:
		return start.Add(min(w.Duration.Duration, identityv1alpha1.MaxWindowDuration)), true
	}
	return time.Time{}, false
}

func earliestOf(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func findWindow(ws []identityv1alpha1.WindowStatus, name string) *identityv1alpha1.WindowStatus {
	for i := range ws {
		if ws[i].Name == name {
			return &ws[i]
		}
	}
	return nil
}

func timeOf(t *metav1.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := t.Time
	return &v
}

func timePtr(t time.Time) *metav1.Time {
	v := metav1.NewTime(t)
	return &v
}

func copyBool(b *bool) *bool {
	if b == nil {
		return nil
	}
	v := *b
	return &v
}

func earliest(cur *time.Time, t time.Time) *time.Time {
	if cur == nil || t.Before(*cur) {
		return &t
	}
	return cur
}
