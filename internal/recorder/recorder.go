// Package recorder records Kubernetes Events (events.k8s.io/v1) in a
// bounded amount of memory.
//
// client-go's events broadcaster keeps a copy of every Event it sent for
// six to twelve minutes, to count repeats into a series. The operator
// emits an Event where a condition changes or a write is made, so repeats
// are rare, but a rollout of 10,000 UserMatches emits some 20,000 Events
// in a few minutes: about 10 MB kept alive for nothing, in a manager whose
// heap is bounded by GOMEMLIMIT. This recorder keeps only a bounded queue
// of Events not yet sent; when the API server falls that far behind, new
// Events are dropped and counted, as client-go's broadcaster also drops
// when its queue is full.
package recorder

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/reference"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
)

var log = logf.Log.WithName("events")

// Creator creates one Event; a controller-runtime client is one.
type Creator interface {
	Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error
}

// Options configure a Recorder; zero values take the defaults.
type Options struct {
	// Controller is reportingController, e.g. "entra-match-operator".
	Controller string
	// Instance is reportingInstance; the host name when empty.
	Instance string
	// QueueSize bounds the Events waiting to be sent (default 1000).
	QueueSize int
	// Attempts is how often a failed create is tried (default 3), waiting
	// Backoff (default 1 s) after the first failure and twice as long
	// after each next one.
	Attempts int
	Backoff  time.Duration
	// Dropped is told of every Event dropped (queue full, or every
	// attempt failed), e.g. to count it in a metric.
	Dropped func(reason string)
	Now     func() time.Time
}

// Recorder implements client-go's events.EventRecorder. Start (a
// controller-runtime Runnable) sends what Eventf queued.
type Recorder struct {
	scheme  *runtime.Scheme
	creator Creator
	o       Options
	queue   chan *eventsv1.Event
	seq     atomic.Uint64
}

// New returns a Recorder that creates Events with c, naming objects by
// their kind in scheme.
func New(c Creator, scheme *runtime.Scheme, o Options) *Recorder {
	if o.Instance == "" {
		host, _ := os.Hostname()
		o.Instance = o.Controller + "-" + host
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 1000
	}
	if o.Attempts <= 0 {
		o.Attempts = 3
	}
	if o.Backoff <= 0 {
		o.Backoff = time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Recorder{scheme: scheme, creator: c, o: o, queue: make(chan *eventsv1.Event, o.QueueSize)}
}

// Eventf queues one Event about regarding; it never blocks. An object the
// scheme cannot name, or an unknown type, is logged and not recorded.
func (r *Recorder) Eventf(regarding, related runtime.Object, eventtype, reason, action, note string, args ...any) {
	if eventtype != corev1.EventTypeNormal && eventtype != corev1.EventTypeWarning {
		log.Error(nil, "Event type is neither Normal nor Warning; not recorded", "type", eventtype, "reason", reason)
		return
	}
	ref, err := reference.GetReference(r.scheme, regarding)
	if err != nil {
		log.Error(err, "cannot name the object of an Event; not recorded", "reason", reason)
		return
	}
	var rel *corev1.ObjectReference
	if related != nil {
		rel, _ = reference.GetReference(r.scheme, related)
	}
	now := r.o.Now()
	ns := ref.Namespace
	if ns == "" {
		// Events about cluster-scoped objects live in default, where
		// kubectl describe looks for them.
		ns = metav1.NamespaceDefault
	}
	ev := &eventsv1.Event{
		ObjectMeta: metav1.ObjectMeta{
			// Unique per recorder even within one nanosecond tick.
			Name:      fmt.Sprintf("%s.%x%04x", ref.Name, now.UnixNano(), r.seq.Add(1)&0xffff),
			Namespace: ns,
		},
		EventTime:           metav1.NewMicroTime(now),
		ReportingController: r.o.Controller,
		ReportingInstance:   r.o.Instance,
		Action:              action,
		Reason:              reason,
		Regarding:           *ref,
		Related:             rel,
		Note:                fmt.Sprintf(note, args...),
		Type:                eventtype,
	}
	select {
	case r.queue <- ev:
	default:
		r.drop("QueueFull")
	}
}

// flushFor is how long Events queued when the manager stops may still
// take to send.
const flushFor = 5 * time.Second

// Start sends queued Events until ctx ends, then sends what is left for at
// most flushFor, so that the Events of a manager's last moments are not
// lost on a clean stop.
func (r *Recorder) Start(ctx context.Context) error {
	sendCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(flushFor, cancel) })
	defer stop()
	for {
		select {
		case ev := <-r.queue:
			r.send(sendCtx, ev)
		case <-ctx.Done():
			for sendCtx.Err() == nil {
				select {
				case ev := <-r.queue:
					r.send(sendCtx, ev)
				default:
					return nil
				}
			}
			return nil
		}
	}
}

// NeedLeaderElection is false: a manager that is not the leader runs no
// reconciler and so records nothing, but one that was must still send.
func (r *Recorder) NeedLeaderElection() bool { return false }

// send creates ev, retrying failures the API server may recover from,
// until ctx ends.
func (r *Recorder) send(ctx context.Context, ev *eventsv1.Event) {
	wait := r.o.Backoff
	for attempt := 1; ; attempt++ {
		req, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := r.creator.Create(req, ev)
		cancel()
		if err == nil || apierrors.IsAlreadyExists(err) {
			return
		}
		// The Event itself is refused (invalid, forbidden, its namespace
		// gone): trying again cannot help.
		refused := apierrors.IsInvalid(err) || apierrors.IsForbidden(err) || apierrors.IsNotFound(err) || apierrors.IsBadRequest(err)
		if refused || attempt >= r.o.Attempts || ctx.Err() != nil {
			log.Error(err, "Event not recorded", "regarding", ev.Regarding.Name, "reason", ev.Reason)
			r.drop("CreateFailed")
			return
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
		}
		wait *= 2
	}
}

func (r *Recorder) drop(reason string) {
	if r.o.Dropped != nil {
		r.o.Dropped(reason)
	}
}
