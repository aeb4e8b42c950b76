package controllers

import (
	"testing"
	"time"
)

func TestFairShareGivesEachActiveTenantItsShare(t *testing.T) {
	clk := &clock{t: time.Unix(1000, 0)}
	f := newFairShare(4, clk.now)
	var held []func()
	take := func(tenant string) bool {
		release, wait, ok := f.take(tenant)
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
	if _, _, ok := (*fairShare)(nil).take("x"); !ok {
		t.Fatal("no limit refused a worker")
	}
}
