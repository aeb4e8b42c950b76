package controllers

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/anchor"
	"github.com/entramatch/entra-match-operator/internal/cloud"
	"github.com/entramatch/entra-match-operator/internal/metrics"
)

// finalize applies the deletion policy, then releases the finalizer.
func (r *UserMatchReconciler) finalize(ctx context.Context, um *identityv1alpha1.UserMatch) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(um, UserMatchFinalizer) {
		return ctrl.Result{}, nil
	}
	if pendingRoles(um) {
		if !r.recordSealed(um) {
			// Not the operator's record: nothing is restored from it, and
			// the deletion is not held hostage by it.
			r.event(um, corev1.EventTypeWarning, identityv1alpha1.ReasonRoleRecordInvalid, "Finalize", fmt.Sprintf(
				"deleted without restoring status.recordedRoles (%s): the record does not carry the operator's seal", recordedNames(um.Status.RecordedRoles)))
		} else if res, err, held := r.restoreOnDelete(ctx, um); held {
			// Roles removed for the match come back before the UserMatch goes.
			return res, err
		}
	}
	if um.Spec.DeletionPolicy == identityv1alpha1.UserDeletionClearImmutableID && modeOf(um.Spec.Mode) == identityv1alpha1.ModeEnforce &&
		um.Status.Cloud != nil && um.Status.Cloud.ObjectID != "" && um.Status.ImmutableID != "" {
		if err := r.clearOnDelete(ctx, um); err != nil {
			return ctrl.Result{}, err
		}
	}
	if um.Status.Cloud != nil && um.Status.Cloud.ObjectID != "" {
		var tenant identityv1alpha1.EntraTenant
		if err := r.Client.Get(ctx, types.NamespacedName{Name: um.Spec.TenantRef.Name}, &tenant); err == nil {
			if err := r.claims.release(ctx, um, tenant.Spec.TenantID, um.Status.Cloud.ObjectID); err != nil {
				return ctrl.Result{}, err
			}
		}
	}
	metrics.RolesHeld.DeleteLabelValues(um.Name)
	return ctrl.Result{}, removeFinalizer(ctx, r.Client, um, UserMatchFinalizer)
}

func pendingRoles(um *identityv1alpha1.UserMatch) bool {
	return heldRoles(um) > 0
}

// restoreOnDelete runs the role workflow in its restoring phase for a
// UserMatch being deleted, persisting progress, until every role is back.
// held is true while the finalizer must stay.
func (r *UserMatchReconciler) restoreOnDelete(ctx context.Context, um *identityv1alpha1.UserMatch) (res ctrl.Result, err error, held bool) {
	// Deletion always completes: when the tenant or the cloud user is gone
	// for good, the roles cannot come back, and a person is told which.
	giveUp := func(why string) (ctrl.Result, error, bool) {
		r.event(um, corev1.EventTypeWarning, identityv1alpha1.EventRoleNotRestored, "Finalize", fmt.Sprintf(
			"deleted without restoring %s: %s", recordedNames(um.Status.RecordedRoles), why))
		return ctrl.Result{}, nil, false
	}
	base := um.DeepCopy()
	s := &userMatchScope{um: um, pass: pass{log: log.FromContext(ctx), persist: func() error {
		if err := r.Client.Status().Patch(ctx, um, client.MergeFrom(base)); err != nil {
			return err
		}
		base = um.DeepCopy()
		return nil
	}}}
	if s.cloud, err = r.cloudFor(ctx, um, "restoring roles"); err != nil {
		if apierrors.IsNotFound(err) {
			return giveUp(fmt.Sprintf("EntraTenant %q no longer exists", um.Spec.TenantRef.Name))
		}
		return ctrl.Result{}, err, true
	}
	if um.Status.Cloud == nil || um.Status.Cloud.ObjectID == "" {
		return giveUp("the cloud user they belong to is not known")
	}
	if s.user, err = s.cloud.GetUser(ctx, um.Status.Cloud.ObjectID); err != nil {
		if cloud.ClassOf(err) == cloud.ClassNotFound {
			return giveUp(fmt.Sprintf("cloud user %s no longer exists", um.Status.Cloud.ObjectID))
		}
		return ctrl.Result{}, err, true
	}
	s.anchor, _ = anchor.FromImmutableID(um.Status.ImmutableID)
	res, rerr := r.roleWorkflow(ctx, s, true)
	r.status(s)
	if err := s.persist(); err != nil && !apierrors.IsNotFound(err) {
		return ctrl.Result{}, err, true
	}
	if s.ended || s.failed != nil || rerr != nil || pendingRoles(um) {
		if rerr == nil && res.RequeueAfter == 0 {
			res.RequeueAfter = roleStepDelay
		}
		return res, rerr, true
	}
	return ctrl.Result{}, nil, false
}

// cloudFor builds the Graph client of the UserMatch's tenant, for the
// deletion paths, which run without an observe pass.
func (r *UserMatchReconciler) cloudFor(ctx context.Context, um *identityv1alpha1.UserMatch, purpose string) (cloud.Client, error) {
	var tenant identityv1alpha1.EntraTenant
	if err := r.Client.Get(ctx, types.NamespacedName{Name: um.Spec.TenantRef.Name}, &tenant); err != nil {
		return nil, fmt.Errorf("%s needs EntraTenant %q: %w", purpose, um.Spec.TenantRef.Name, err)
	}
	conn, err := tenantConnection(ctx, r.APIReader, &tenant)
	if err != nil {
		return nil, err
	}
	return r.Cloud.Client(ctx, conn)
}

// clearOnDelete clears the immutableId only if the user is not synced and
// still carries the value this UserMatch wrote: anything else belongs to
// someone else now.
func (r *UserMatchReconciler) clearOnDelete(ctx context.Context, um *identityv1alpha1.UserMatch) error {
	c, err := r.cloudFor(ctx, um, "deletion policy ClearImmutableId")
	if err != nil {
		return err
	}
	u, err := c.GetUser(ctx, um.Status.Cloud.ObjectID)
	if cloud.ClassOf(err) == cloud.ClassNotFound {
		return nil
	}
	if err != nil {
		return err
	}
	if u.Synced() || u.OnPremisesImmutableID != um.Status.ImmutableID {
		r.event(um, corev1.EventTypeNormal, identityv1alpha1.EventImmutableIDKept, "Finalize",
			fmt.Sprintf("left onPremisesImmutableId of %s as it is: the user is synced or carries another value", u.UserPrincipalName))
		return nil
	}
	log.FromContext(ctx).Info("clearing onPremisesImmutableId (deletion policy ClearImmutableId)", "cloudUser", u.ID)
	if err := c.SetImmutableID(ctx, u.ID, nil); err != nil {
		return err
	}
	r.event(um, corev1.EventTypeNormal, identityv1alpha1.EventImmutableIDCleared, "Finalize",
		fmt.Sprintf("cleared onPremisesImmutableId of %s (deletion policy ClearImmutableId)", u.UserPrincipalName))
	return nil
}
