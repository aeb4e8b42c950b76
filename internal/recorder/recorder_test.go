package recorder

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The controllers hold client-go's interface; this recorder must satisfy it.
var _ events.EventRecorder = (*Recorder)(nil)

// creator records what was created; fail answers the n-th create (from 1).
type creator struct {
	mu      sync.Mutex
	calls   int
	created []*eventsv1.Event
	fail    func(n int) error
}

func (c *creator) Create(_ context.Context, obj client.Object, _ ...client.CreateOption) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	if c.fail != nil {
		if err := c.fail(c.calls); err != nil {
			return err
		}
	}
	c.created = append(c.created, obj.(*eventsv1.Event).DeepCopy())
	return nil
}

func (c *creator) snapshot() (int, []*eventsv1.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls, append([]*eventsv1.Event(nil), c.created...)
}

type drops struct {
	mu sync.Mutex
	by map[string]int
}

func (d *drops) add(reason string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.by == nil {
		d.by = map[string]int{}
	}
	d.by[reason]++
}

func (d *drops) get(reason string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.by[reason]
}

var t0 = time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)

func newRecorder(c Creator, d *drops, o Options) *Recorder {
	o.Controller, o.Instance, o.Now, o.Dropped = "entra-match-operator", "entra-match-operator-pod-1", func() time.Time { return t0 }, d.add
	if o.Backoff == 0 {
		o.Backoff = time.Millisecond
	}
	return New(c, clientgoscheme.Scheme, o)
}

// run starts r until the returned stop is called, which waits for the flush.
func run(r *Recorder) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = r.Start(ctx); close(done) }()
	return func() { cancel(); <-done }
}

func TestEventShape(t *testing.T) {
	c := &creator{}
	r := newRecorder(c, &drops{}, Options{})
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-a", UID: "u-1"}}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "pairs", Namespace: "team-a", UID: "u-2"}}
	r.Eventf(ns, cm, corev1.EventTypeWarning, "Ambiguous", "Pair", "%d users share %s", 2, "x@contoso.com")
	r.Eventf(cm, nil, corev1.EventTypeNormal, "Matched", "Match", "done")
	stop := run(r)
	stop()
	_, got := c.snapshot()
	if len(got) != 2 {
		t.Fatalf("created %d Events, want 2", len(got))
	}
	a, b := got[0], got[1]
	// A cluster-scoped object's Events go to default, where kubectl
	// describe looks; a namespaced one's to its namespace.
	if a.Namespace != metav1.NamespaceDefault || b.Namespace != "team-a" {
		t.Errorf("namespaces %q, %q; want default, team-a", a.Namespace, b.Namespace)
	}
	if a.Regarding.Kind != "Namespace" || a.Regarding.Name != "team-a" || a.Regarding.UID != "u-1" || a.Regarding.APIVersion != "v1" {
		t.Errorf("regarding %+v", a.Regarding)
	}
	if a.Related == nil || a.Related.Kind != "ConfigMap" || a.Related.Namespace != "team-a" {
		t.Errorf("related %+v", a.Related)
	}
	if b.Related != nil {
		t.Errorf("related %+v, want none", b.Related)
	}
	if a.Note != "2 users share x@contoso.com" || a.Type != corev1.EventTypeWarning || a.Reason != "Ambiguous" || a.Action != "Pair" {
		t.Errorf("event %q %q %q %q", a.Note, a.Type, a.Reason, a.Action)
	}
	if a.ReportingController != "entra-match-operator" || a.ReportingInstance != "entra-match-operator-pod-1" {
		t.Errorf("reporting %q %q", a.ReportingController, a.ReportingInstance)
	}
	if !a.EventTime.Time.Equal(t0) {
		t.Errorf("eventTime %v, want %v", a.EventTime, t0)
	}
	// Two Events about one object in the same instant still get two names.
	r.Eventf(ns, nil, corev1.EventTypeNormal, "X", "Y", "one")
	r.Eventf(ns, nil, corev1.EventTypeNormal, "X", "Y", "two")
	stop = run(r)
	stop()
	_, got = c.snapshot()
	if len(got) != 4 || got[2].Name == got[3].Name || got[2].Name == a.Name {
		t.Errorf("names %q %q %q: want distinct", a.Name, got[2].Name, got[3].Name)
	}
}

// A type other than Normal or Warning, or an object the scheme cannot
// name, is refused before it takes a place in the queue.
func TestRefusedBeforeQueued(t *testing.T) {
	c := &creator{}
	r := newRecorder(c, &drops{}, Options{})
	r.Eventf(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "a"}}, nil, "Info", "R", "A", "n")
	r.Eventf(&unknown{}, nil, corev1.EventTypeNormal, "R", "A", "n")
	stop := run(r)
	stop()
	if calls, _ := c.snapshot(); calls != 0 {
		t.Errorf("%d creates, want none", calls)
	}
}

type unknown struct{ metav1.ObjectMeta }

func (u *unknown) GetObjectKind() schema.ObjectKind { return schema.EmptyObjectKind }
func (u *unknown) DeepCopyObject() runtime.Object   { return &unknown{} }

// Eventf never blocks a reconciler: beyond the queue's size, Events are
// dropped and counted.
func TestFullQueueDrops(t *testing.T) {
	c := &creator{}
	d := &drops{}
	r := newRecorder(c, d, Options{QueueSize: 2})
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "a"}}
	done := make(chan struct{})
	go func() {
		for range 5 {
			r.Eventf(ns, nil, corev1.EventTypeNormal, "R", "A", "n")
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Eventf blocked on a full queue")
	}
	if d.get("QueueFull") != 3 {
		t.Errorf("QueueFull drops %d, want 3", d.get("QueueFull"))
	}
	stop := run(r)
	stop()
	if _, got := c.snapshot(); len(got) != 2 {
		t.Errorf("created %d, want the 2 queued", len(got))
	}
}

func TestRetries(t *testing.T) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "a"}}
	gr := schema.GroupResource{Group: "events.k8s.io", Resource: "events"}
	unavailable := apierrors.NewServiceUnavailable("etcd leader changed")
	for _, tc := range []struct {
		name    string
		fail    func(n int) error
		calls   int
		created int
		dropped int
	}{
		{"a failure the server recovers from is tried again", func(n int) error {
			if n < 3 {
				return unavailable
			}
			return nil
		}, 3, 1, 0},
		{"at most Attempts times", func(int) error { return unavailable }, 3, 0, 1},
		{"a network error too", func(n int) error {
			if n == 1 {
				return errors.New("connection reset by peer")
			}
			return nil
		}, 2, 1, 0},
		{"an invalid Event is not tried again", func(int) error {
			return apierrors.NewInvalid(schema.GroupKind{Group: "events.k8s.io", Kind: "Event"}, "x", nil)
		}, 1, 0, 1},
		{"nor a forbidden one", func(int) error { return apierrors.NewForbidden(gr, "x", errors.New("no")) }, 1, 0, 1},
		{"nor one whose namespace is gone", func(int) error { return apierrors.NewNotFound(gr, "x") }, 1, 0, 1},
		{"one that already exists was recorded", func(int) error { return apierrors.NewAlreadyExists(gr, "x") }, 1, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &creator{fail: tc.fail}
			d := &drops{}
			r := newRecorder(c, d, Options{Attempts: 3})
			r.Eventf(ns, nil, corev1.EventTypeNormal, "R", "A", "n")
			stop := run(r)
			stop()
			calls, got := c.snapshot()
			if calls != tc.calls || len(got) != tc.created || d.get("CreateFailed") != tc.dropped {
				t.Errorf("%d creates, %d created, %d dropped; want %d, %d, %d", calls, len(got), d.get("CreateFailed"), tc.calls, tc.created, tc.dropped)
			}
		})
	}
}

// Events queued when the manager stops are still sent.
func TestStopFlushes(t *testing.T) {
	c := &creator{}
	r := newRecorder(c, &drops{}, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "a"}}
	for range 3 {
		r.Eventf(ns, nil, corev1.EventTypeNormal, "R", "A", "n")
	}
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if _, got := c.snapshot(); len(got) != 3 {
		t.Errorf("created %d after the stop, want 3", len(got))
	}
	if r.NeedLeaderElection() {
		t.Error("a manager that lost the lead must still send its Events")
	}
}
