package controllers

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/cloud"
	"github.com/entramatch/entra-match-operator/internal/crashpoint"
	"github.com/entramatch/entra-match-operator/internal/match"
)

// duplicates finds the cloud objects a failed sync left in the way and
// applies spec.duplicates to them. It returns done=true after a deletion,
// so that the next pass decides from fresh reads.
func (r *UserMatchReconciler) duplicates(ctx context.Context, um *identityv1alpha1.UserMatch, o *observed) (ctrl.Result, error, bool) {
	if o.user.Synced() {
		return ctrl.Result{}, nil, false
	}
	gen := um.Generation
	conds := &um.Status.Conditions
	policy := match.DuplicatesPolicy(um.Spec.Duplicates)
	if policy == "" {
		policy = match.DuplicatesReport
	}
	anchor := o.anchor.ImmutableID()
	var deleted []cloud.DeletedUser
	if match.NeedsDeletedItems(policy, anchor, o.user, o.obs.Holders) {
		var err error
		if deleted, err = o.cloud.DeletedUsers(ctx); err != nil {
			return r.stepFailed(um, err)
		}
	}
	plan := match.DecideDuplicates(policy, modeOf(um.Spec.Mode) == identityv1alpha1.ModeEnforce, anchor, o.user, o.obs.Holders, deleted)
	um.Status.DuplicatesFound = nil
	for _, d := range plan.Found {
		where := identityv1alpha1.DuplicateLocationActive
		if d.Deleted {
			where = identityv1alpha1.DuplicateLocationDeleted
		}
		um.Status.DuplicatesFound = append(um.Status.DuplicatesFound, identityv1alpha1.DuplicateObject{
			ObjectID: d.ID, UserPrincipalName: d.UserPrincipalName, Where: where, Action: identityv1alpha1.DuplicateAction(d.Action)})
	}
	if len(plan.Found) == 0 {
		setCondition(conds, gen, identityv1alpha1.ConditionDuplicatesFound, false, identityv1alpha1.ReasonNoDuplicates, "")
		return ctrl.Result{}, nil, false
	}
	upn := map[string]string{}
	for _, d := range plan.Found {
		upn[d.ID] = d.UserPrincipalName
	}
	for _, id := range plan.Delete {
		if err := o.cloud.DeleteUser(ctx, id); err != nil && cloud.ClassOf(err) != cloud.ClassNotFound {
			return r.stepFailed(um, err)
		}
		o.view.removed(id)
		r.event(um, corev1.EventTypeWarning, "DuplicateDeleted", "DeleteDuplicate",
			fmt.Sprintf("soft-deleted %s (%s): synced duplicate carrying immutableId %s", upn[id], id, anchor))
		crashpoint.Hit("duplicate-deleted")
	}
	for _, id := range plan.Purge {
		if err := o.cloud.PurgeDeletedItem(ctx, id); err != nil && cloud.ClassOf(err) != cloud.ClassNotFound {
			return r.stepFailed(um, err)
		}
		r.event(um, corev1.EventTypeWarning, "DuplicatePurged", "PurgeDuplicate",
			fmt.Sprintf("permanently deleted %s (%s) from deleted items: it carried immutableId %s or the UPN %s", upn[id], id, anchor, o.user.UserPrincipalName))
		crashpoint.Hit("duplicate-purged")
	}
	reason := identityv1alpha1.ReasonDuplicatesReported
	switch {
	case len(plan.Purge) > 0:
		reason = identityv1alpha1.ReasonDuplicatesPurged
	case len(plan.Delete) > 0:
		reason = identityv1alpha1.ReasonDuplicatesDeleted
	}
	setCondition(conds, gen, identityv1alpha1.ConditionDuplicatesFound, true, reason,
		fmt.Sprintf("%d object(s) left by an earlier sync stand in the way; see status.duplicatesFound", len(plan.Found)))
	if len(plan.Delete)+len(plan.Purge) > 0 {
		return ctrl.Result{RequeueAfter: roleStepDelay}, nil, true
	}
	return ctrl.Result{}, nil, false
}
