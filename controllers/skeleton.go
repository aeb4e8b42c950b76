package controllers

import (
	"context"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"
)

// Every kind reconciles with the same skeleton:
//
//  1. load the object; when it is being deleted, run its finalizer instead;
//  2. make sure the finalizer is on before anything is written outside
//     Kubernetes (kinds that only read have none);
//  3. run the kind's phases in order on a scope that carries what they
//     read and decided;
//  4. compute every condition from the scope, in the kind's status file;
//  5. write the status once, and announce condition transitions as Events.
//
// A phase returns a zero Result and nil to let the next phase run. Anything
// else ends the pass with that result, and so does a phase that records a
// failure (pass.fail) or ends the pass (pass.end) on the scope: a terminal
// failure waits for the resync period, which may be zero in tests.

// phase is one step of a pass over a scope S.
type phase[S any] func(ctx context.Context, s S) (ctrl.Result, error)

// pass is what every scope embeds: the failure that ended the pass, the
// logger with the object's key, and how to persist the status early (to
// record an intent before acting on it).
type pass struct {
	log logr.Logger
	// failed is the classified failure that ended the pass, if one did.
	failed *outcome
	// ended: a phase ended the pass early, with nothing failed (a step of
	// a workflow was made and the next needs fresh reads, or nothing more
	// can be done until something changes).
	ended bool
	// persist writes the status as it stands now.
	persist func() error
}

// fail ends the pass on a classified failure and returns its requeue.
func (p *pass) fail(o outcome, resync time.Duration) (ctrl.Result, error) {
	p.failed = &o
	p.log.V(1).Info("pass stopped", "reason", o.reason, "message", o.message, "transient", o.transient)
	return requeueFor(o, resync)
}

// end ends the pass after this phase, with res.
func (p *pass) end(res ctrl.Result) (ctrl.Result, error) {
	p.ended = true
	return res, nil
}

func (p *pass) base() *pass { return p }

type scope interface{ base() *pass }

// skeleton runs one pass of a kind. T is the API object, S its scope.
type skeleton[T client.Object, S scope] struct {
	client client.Client
	// finalizer is empty for kinds that write nothing outside Kubernetes.
	finalizer string
	finalize  func(ctx context.Context, obj T) (ctrl.Result, error)
	// scope starts the pass's scope for obj.
	scope  func(obj T, p pass) S
	phases []phase[S]
	// status computes every condition (and derived status field) from the
	// scope. It runs after the phases, whatever they returned.
	status func(s S)
	// conditions returns the object's conditions, for transition Events.
	conditions func(obj T) []metav1.Condition
	// announce emits the Events of condition transitions.
	announce func(obj T, before []metav1.Condition)
	// observed records the generation the status now describes.
	observed func(obj T)
}

func (k skeleton[T, S]) reconcile(ctx context.Context, req ctrl.Request, obj T) (ctrl.Result, error) {
	if err := k.client.Get(ctx, req.NamespacedName, obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !obj.GetDeletionTimestamp().IsZero() {
		if k.finalize == nil {
			return ctrl.Result{}, nil
		}
		return k.finalize(ctx, obj)
	}
	if k.finalizer != "" {
		if err := ensureFinalizer(ctx, k.client, obj, k.finalizer); err != nil {
			return ctrl.Result{}, err
		}
	}
	baseObj := obj.DeepCopyObject().(client.Object)
	before := append([]metav1.Condition(nil), k.conditions(obj)...)
	persist := func() error {
		// A pass that changed nothing sends nothing: an empty patch is
		// still a request, and at rest every object of every kind is
		// looked at once per resync period.
		if equality.Semantic.DeepEqual(baseObj, client.Object(obj)) {
			return nil
		}
		if err := k.client.Status().Patch(ctx, obj, client.MergeFrom(baseObj)); err != nil {
			return err
		}
		baseObj = obj.DeepCopyObject().(client.Object)
		return nil
	}
	s := k.scope(obj, pass{log: log.FromContext(ctx), persist: persist})
	res, rerr := runPhases(ctx, s, k.phases)
	k.status(s)
	if rerr == nil {
		k.observed(obj)
	}
	if err := persist(); err != nil {
		// Deleted meanwhile, or changed by someone else: the next pass
		// starts from what is there now.
		if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
			return ctrl.Result{RequeueAfter: time.Second}, nil
		}
		return ctrl.Result{}, err
	}
	if k.announce != nil {
		k.announce(obj, before)
	}
	return res, rerr
}

// runPhases runs the phases in order until one ends the pass.
func runPhases[S scope](ctx context.Context, s S, phases []phase[S]) (ctrl.Result, error) {
	for _, p := range phases {
		res, err := p(ctx, s)
		if err != nil || !res.IsZero() || s.base().failed != nil || s.base().ended {
			return res, err
		}
	}
	return ctrl.Result{}, nil
}

// ensureFinalizer adds the finalizer before anything is written outside
// Kubernetes, so that a deletion always runs the deletion policy.
func ensureFinalizer(ctx context.Context, c client.Client, obj client.Object, finalizer string) error {
	if controllerutil.ContainsFinalizer(obj, finalizer) {
		return nil
	}
	patch := client.MergeFrom(obj.DeepCopyObject().(client.Object))
	controllerutil.AddFinalizer(obj, finalizer)
	return c.Patch(ctx, obj, patch)
}

// removeFinalizer lets the object go once its deletion policy has run.
func removeFinalizer(ctx context.Context, c client.Client, obj client.Object, finalizer string) error {
	patch := client.MergeFrom(obj.DeepCopyObject().(client.Object))
	controllerutil.RemoveFinalizer(obj, finalizer)
	return client.IgnoreNotFound(c.Patch(ctx, obj, patch))
}
