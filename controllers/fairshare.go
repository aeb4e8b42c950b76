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
// active. A UserMatch beyond its tenant's share waits in its tenant's line,
// without any read or write, and is woken when the tenant gives a worker
// back: a worker is never left idle while a tenant within its share has
// work, which a guessed wait alone cannot promise.

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
	// waiting are the UserMatches each tenant refused, in the order they
	// were refused.
	waiting map[string]*line
	// wake puts a waiting UserMatch back in the work queue at once (nil:
	// waiting ones come back only after their wait).
	wake func(name string)
	// paused are tenants whose shared reads Graph throttled, until when.
	paused map[string]time.Time
}

// line is one tenant's refused UserMatches, first refused first.
type line struct {
	order []string
	in    map[string]bool
}

func (l *line) push(name string) {
	if !l.in[name] {
		l.in[name] = true
		l.order = append(l.order, name)
	}
}

// pop takes the first still waiting; names taken since they were refused
// are dropped on the way.
func (l *line) pop() (string, bool) {
	for len(l.order) > 0 {
		name := l.order[0]
		l.order = l.order[1:]
		if l.in[name] {
			delete(l.in, name)
			return name, true
		}
	}
	return "", false
}

func newFairShare(workers int, now func() time.Time) *fairShare {
	if now == nil {
		now = time.Now
	}
	return &fairShare{workers: workers, window: 30 * time.Second, now: now,
		busy: map[string]int{}, seen: map[string]time.Time{}, took: map[string]time.Duration{}, waiting: map[string]*line{},
		paused: map[string]time.Time{}}
}

// pause records that Graph throttled tenant's shared reads until the
// given time. Until then none of its UserMatches can do anything but wait,
// so take turns them away without a worker, and the tenant does not count
// as active: its share goes to the others. Without this, a tenant
// throttled for long kept a share it could not use, and a rollout of the
// other tenants slowed by 16 % in the 20-tenant benchmark.
func (f *fairShare) pause(tenant string, until time.Time) {
	if f == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if until.After(f.paused[tenant]) {
		f.paused[tenant] = until
	}
}

// pausedFor is how long tenant is still paused; the caller holds the lock.
func (f *fairShare) pausedFor(tenant string, now time.Time) time.Duration {
	until, ok := f.paused[tenant]
	if !ok {
		return 0
	}
	if !now.Before(until) {
		delete(f.paused, tenant)
		return 0
	}
	return until.Sub(now)
}

// take gives tenant a worker for the UserMatch name if the tenant holds less
// than its share; the returned func gives it back and wakes the first in
// the tenant's line. When refused, wait says when to try again should no
// wake come (the UserMatch ahead was deleted, say): about the time the
// tenant's line ahead of it takes, at most the activity window (by then
// the shares may have grown).
func (f *fairShare) take(tenant, name string) (release func(), wait time.Duration, ok bool) {
	if f == nil || f.workers <= 1 {
		return func() {}, 0, true
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	if d := f.pausedFor(tenant, now); d > 0 {
		// Spread the returns over half the pause: the first back
		// refreshes the tenant's reads for all the others.
		return nil, d + rand.N(d/2+time.Millisecond), false
	}
	f.seen[tenant] = now
	active := 0
	for t, at := range f.seen {
		if now.Sub(at) > f.window && f.busy[t] == 0 {
			delete(f.seen, t)
			delete(f.took, t)
			delete(f.waiting, t)
			continue
		}
		if f.busy[t] == 0 && f.pausedFor(t, now) > 0 {
			continue
		}
		active++
	}
	share := max(1, (f.workers+active-1)/active)
	if f.busy[tenant] >= share {
		l := f.waiting[tenant]
		if l == nil {
			l = &line{in: map[string]bool{}}
			f.waiting[tenant] = l
		}
		l.push(name)
		// Spread so that the refused ones do not all return together.
		d := min(max(f.took[tenant], 200*time.Millisecond)*time.Duration(len(l.in))/time.Duration(share), f.window)
		return nil, d/2 + rand.N(d), false
	}
	if l := f.waiting[tenant]; l != nil {
		delete(l.in, name)
	}
	f.busy[tenant]++
	start := now
	return func() {
		f.mu.Lock()
		f.busy[tenant]--
		if f.busy[tenant] <= 0 {
			delete(f.busy, tenant)
		}
		d := f.now().Sub(start)
		if prev, ok := f.took[tenant]; ok {
			d = (prev*7 + d) / 8
		}
		f.took[tenant] = d
		var next string
		woken := false
		if l := f.waiting[tenant]; l != nil && f.wake != nil {
			next, woken = l.pop()
		}
		f.mu.Unlock()
		if woken {
			f.wake(next)
		}
	}, 0, true
}
