package controllers

import (
	"fmt"
	"testing"
	"time"
)

// A refused UserMatch comes back about when the line ahead of it may be
// through, not every reconcile-time: the longer the line, the longer the
// wait, never beyond the activity window.
func TestFairShareWaitGrowsWithTheLine(t *testing.T) {
	clk := &clock{t: time.Unix(1000, 0)}
	f := newFairShare(2, clk.now)
	release, _, _ := f.take("slow", "a")
	clk.t = clk.t.Add(4 * time.Second)
	release() // the slow tenant's reconciles take 4 s
	f.take("healthy", "h")
	f.take("slow", "a")
	var last time.Duration
	for i := range 20 {
		_, wait, ok := f.take("slow", fmt.Sprintf("w%d", i))
		if ok {
			t.Fatalf("waiting UserMatch %d got a worker beyond the share", i)
		}
		if i == 0 && (wait < 2*time.Second || wait > 6*time.Second) {
			t.Fatalf("first in line waits %s, want about one 4 s reconcile", wait)
		}
		last = wait
	}
	if last < 15*time.Second || last >= 45*time.Second {
		t.Fatalf("twentieth in line waits %s, want the 30 s window, spread by half either way", last)
	}
}

func TestFairShareGivesEachActiveTenantItsShare(t *testing.T) {
	clk := &clock{t: time.Unix(1000, 0)}
	f := newFairShare(4, clk.now)
	var held []func()
	n := 0
	take := func(tenant string) bool {
		n++
		release, wait, ok := f.take(tenant, fmt.Sprintf("um%d", n))
		if ok {
			held = append(held, release)
		} else if wait <= 0 {
			t.Fatalf("%s refused without a wait", tenant)
		}
		return ok
	}
	// Alone, a tenant may use every worker.
	for i := range 4 {
		if !take("slow") {
			t.Fatalf("the only tenant refused its worker %d", i+1)
		}
	}
	for _, r := range held {
		r()
	}
	held = nil
	// With a second tenant active, each gets half: the slow one cannot
	// take the healthy one's workers.
	if !take("slow") || !take("healthy") || !take("slow") {
		t.Fatal("a tenant was refused within its share")
	}
	if take("slow") {
		t.Fatal("the slow tenant took a third of four workers while another tenant is active")
	}
	if !take("healthy") {
		t.Fatal("the healthy tenant was refused its second worker")
	}
	// A worker given back can be taken again.
	held[0]()
	if !take("slow") {
		t.Fatal("a released worker could not be taken again")
	}
	for _, r := range held[1:] {
		r()
	}
	held = nil
	// Once the other tenant has been idle for the window, the share grows back.
	clk.t = clk.t.Add(31 * time.Second)
	for i := range 4 {
		if !take("slow") {
			t.Fatalf("worker %d refused after the other tenant went idle", i+1)
		}
	}
	if _, _, ok := (*fairShare)(nil).take("x", "y"); !ok {
		t.Fatal("no limit refused a worker")
	}
}

// A worker given back goes to the first UserMatch its tenant refused, at
// once; one that got a worker in the meantime is not woken again.
func TestFairShareWakesTheFirstInLine(t *testing.T) {
	clk := &clock{t: time.Unix(1000, 0)}
	f := newFairShare(2, clk.now)
	var woken []string
	f.wake = func(name string) { woken = append(woken, name) }
	releaseA, _, _ := f.take("a", "a0")
	releaseB, _, _ := f.take("b", "b0")
	for _, name := range []string{"a1", "a2", "a3", "a1"} {
		if _, _, ok := f.take("a", name); ok {
			t.Fatalf("%s got a worker beyond tenant a's share", name)
		}
	}
	releaseB()
	if len(woken) != 0 {
		t.Fatalf("tenant b's release woke %v, none of which are b's", woken)
	}
	releaseA()
	if fmt.Sprint(woken) != "[a1]" {
		t.Fatalf("woken %v, want [a1]: the first refused, once", woken)
	}
	// a2 comes back by its own wait and takes the free worker before a1
	// does: the next release skips it and wakes a3.
	release2, _, ok := f.take("a", "a2")
	if !ok {
		t.Fatal("a2 refused a free worker")
	}
	release2()
	if fmt.Sprint(woken) != "[a1 a3]" {
		t.Fatalf("woken %v, want [a1 a3]", woken)
	}
	release1, _, ok := f.take("a", "a1")
	if !ok {
		t.Fatal("woken a1 refused a free worker")
	}
	release1()
	if fmt.Sprint(woken) != "[a1 a3]" {
		t.Fatalf("woken %v after the line emptied, want no more", woken)
	}
}

// A tenant whose shared reads Graph throttled is turned away until its
// Retry-After ends, without a worker, and leaves its share to the others
// meanwhile; afterwards it counts again.
func TestFairSharePausedTenantLeavesItsShare(t *testing.T) {
	clk := &clock{t: time.Unix(1000, 0)}
	f := newFairShare(4, clk.now)
	woken := 0
	f.wake = func(string) { woken++ }
	releaseA, _, _ := f.take("throttled", "a0")
	releaseA()
	f.pause("throttled", clk.t.Add(10*time.Second))
	f.pause("throttled", clk.t.Add(2*time.Second)) // an earlier end does not shorten it
	for i := range 50 {
		_, wait, ok := f.take("throttled", fmt.Sprintf("a%d", i))
		if ok {
			t.Fatal("a UserMatch of a paused tenant got a worker")
		}
		if wait < 10*time.Second || wait > 15*time.Second {
			t.Fatalf("paused for 10 s, told to wait %s; want 10 to 15 s", wait)
		}
	}
	var held []func()
	for i := range 4 {
		release, _, ok := f.take("healthy", fmt.Sprintf("h%d", i))
		if !ok {
			t.Fatalf("the healthy tenant was refused worker %d of 4 while the other is paused", i+1)
		}
		held = append(held, release)
	}
	for _, r := range held {
		r()
	}
	if woken != 0 {
		t.Fatalf("%d UserMatches woken: a paused tenant's are not in a line", woken)
	}
	clk.t = clk.t.Add(10 * time.Second)
	if _, _, ok := f.take("throttled", "a0"); !ok {
		t.Fatal("the tenant is still turned away after its pause ended")
	}
	// Both tenants active again: two workers each.
	held = held[:0]
	for i := range 3 {
		release, _, ok := f.take("healthy", fmt.Sprintf("h%d", i))
		if ok {
			held = append(held, release)
		}
	}
	if len(held) != 2 {
		t.Fatalf("the healthy tenant got %d workers once the other was back, want 2 of 4", len(held))
	}
}
