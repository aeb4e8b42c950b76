package controllers

import (
	"math/rand/v2"
	"sync"
	"time"
)

// The UserMatches of every tenant share one work queue and its workers. A
// tenant whose Graph answers slowly, or fails and is retried, would hold
// most workers and stall the healthy tenants of the same manager (the
// managed-service case: many tenants in one operator). Each tenant is
// therefore given at most its fair share of the workers while others are
// active; a UserMatch beyond its tenant's share is put back for about as long
// as that tenant's reconciles take, without any read or write.

// fairShare counts the workers each tenant holds.
type fairShare struct {
	workers int
	// window: a tenant is active this long after its last reconcile.
	window time.Duration
	now    func() time.Time

	mu   sync.Mutex
	busy map[string]int
	seen map[string]time.Time
	took map[string]time.Duration // moving average of a reconcile's duration
	// waiting are the UserMatches each tenant had refused, by name: the
	// length of its line, so that each comes back about when its turn may
	// come, not every reconcile-time (which would make the refusals
	// themselves grow with the square of the line).
	waiting map[string]map[string]bool
}

func newFairShare(workers int, now func() time.Time) *fairShare {
	if now == nil {
		now = time.Now
	}
	return &fairShare{workers: workers, window: 30 * time.Second, now: now,
		busy: map[string]int{}, seen: map[string]time.Time{}, took: map[string]time.Duration{}, waiting: map[string]map[string]bool{}}
}

// take gives tenant a worker for the UserMatch name if the tenant holds less
// than its share; the returned func gives it back. When refused, wait says
// when to try again: about the time the tenant's line ahead of it takes,
// at most the activity window (by then the shares may have grown).
func (f *fairShare) take(tenant, name string) (release func(), wait time.Duration, ok bool) {
	if f == nil || f.workers <= 1 {
		return func() {}, 0, true
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	f.seen[tenant] = now
	active := 0
	for t, at := range f.seen {
		if now.Sub(at) > f.window && f.busy[t] == 0 {
			delete(f.seen, t)
			delete(f.took, t)
			delete(f.waiting, t)
			continue
		}
		active++
	}
	share := max(1, (f.workers+active-1)/active)
	if f.busy[tenant] >= share {
		line := f.waiting[tenant]
		if line == nil {
			line = map[string]bool{}
			f.waiting[tenant] = line
		}
		line[name] = true
		// Spread so that the refused ones do not all return together.
		d := min(max(f.took[tenant], 200*time.Millisecond)*time.Duration(len(line))/time.Duration(share), f.window)
		return nil, d/2 + rand.N(d), false
	}
	delete(f.waiting[tenant], name)
	f.busy[tenant]++
	start := now
	return func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.busy[tenant]--
		if f.busy[tenant] <= 0 {
			delete(f.busy, tenant)
		}
		d := f.now().Sub(start)
		if prev, ok := f.took[tenant]; ok {
			d = (prev*7 + d) / 8
		}
		f.took[tenant] = d
	}, 0, true
}
