package controllers

import (
	"context"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
)

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

// pass is the shape shared by the reconcilers that act outside Kubernetes:
// load the object, run its deletion policy when it is being deleted, make
// sure the finalizer is on before anything else, run one pass, and write the
// status once at the end (a pass may also persist it earlier, to record an
// intent before acting on it).
type pass[T client.Object] struct {
	client    client.Client
	finalizer string
	finalize  func(ctx context.Context, obj T) (ctrl.Result, error)
	run       func(ctx context.Context, obj T, persist func() error) (ctrl.Result, error)
	// observed records the generation the status now describes.
	observed func(obj T)
}

func (p pass[T]) reconcile(ctx context.Context, req ctrl.Request, obj T) (ctrl.Result, error) {
	if err := p.client.Get(ctx, req.NamespacedName, obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !obj.GetDeletionTimestamp().IsZero() {
		return p.finalize(ctx, obj)
	}
	if err := ensureFinalizer(ctx, p.client, obj, p.finalizer); err != nil {
		return ctrl.Result{}, err
	}
	base := obj.DeepCopyObject().(client.Object)
	persist := func() error {
		if err := p.client.Status().Patch(ctx, obj, client.MergeFrom(base)); err != nil {
			return err
		}
		base = obj.DeepCopyObject().(client.Object)
		return nil
	}
	res, rerr := p.run(ctx, obj, persist)
	if rerr == nil {
		p.observed(obj)
	}
	if err := persist(); err != nil {
		// Deleted meanwhile, or changed by someone else: the next pass
		// starts from what is there now.
		if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
			return ctrl.Result{RequeueAfter: time.Second}, nil
		}
		return ctrl.Result{}, err
	}
	return res, rerr
}
