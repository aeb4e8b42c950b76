package controllers

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/cloud"
	"github.com/entramatch/entra-match-operator/internal/crashpoint"
	"github.com/entramatch/entra-match-operator/internal/match"
)

// duplicates finds the cloud objects a failed sync left in the way and
// applies spec.duplicates to the proven ones, once the match decision with
// them taken away allows the match. It returns done=true after a deletion,
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
	if !match.NeedsDeletedItems(policy, anchor, o.user, o.obs.Holders) {
		um.Status.DuplicatesFound = nil
		setCondition(conds, gen, identityv1alpha1.ConditionDuplicatesFound, false, identityv1alpha1.ReasonNoDuplicates, "")
		return ctrl.Result{}, nil, false
	}
	deleted, err := o.cloud.DeletedUsers(ctx)
	if err != nil {
		return r.stepFailed(um, err)
	}
	claimed, err := r.claimedCloudIDs(ctx, um)
	if err != nil {
		return ctrl.Result{}, err, true
	}
	// The decision the cleanup serves: the match with the proven duplicates
	// gone, and with privileged roles out of the way when the workflow will
	// remove them.
	probe := o.obs
	probe.Holders = match.WithoutProven(o.obs.Holders, o.user, anchor, claimed)
	if um.Spec.PrivilegedRoles == identityv1alpha1.PrivilegedRolesRemoveAndRestore {
		probe.PrivilegedRoles = nil
	}
	plan := match.DecideDuplicates(match.DuplicateInput{Policy: policy, Enforce: modeOf(um.Spec.Mode) == identityv1alpha1.ModeEnforce,
		Anchor: anchor, Target: o.user, Holders: o.obs.Holders, Deleted: deleted, Claimed: claimed, Match: match.Decide(probe)})
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
			fmt.Sprintf("soft-deleted %s (%s): a duplicate sync created for this AD user, carrying immutableId %s", upn[id], id, anchor))
		crashpoint.Hit("duplicate-deleted")
	}
	for _, id := range plan.Purge {
		if err := o.cloud.PurgeDeletedItem(ctx, id); err != nil && cloud.ClassOf(err) != cloud.ClassNotFound {
			return r.stepFailed(um, err)
		}
		r.event(um, corev1.EventTypeWarning, "DuplicatePurged", "PurgeDuplicate",
			fmt.Sprintf("permanently deleted %s (%s) from deleted items: a duplicate sync created for this AD user, carrying immutableId %s", upn[id], id, anchor))
		crashpoint.Hit("duplicate-purged")
	}
	reason := identityv1alpha1.ReasonDuplicatesReported
	switch {
	case len(plan.Purge) > 0:
		reason = identityv1alpha1.ReasonDuplicatesPurged
	case len(plan.Delete) > 0:
		reason = identityv1alpha1.ReasonDuplicatesDeleted
	}
	msg := fmt.Sprintf("%d object(s) carrying the anchor stand in the way; see status.duplicatesFound", len(plan.Found))
	if plan.Held != "" {
		msg += "; left alone: " + plan.Held
	}
	setCondition(conds, gen, identityv1alpha1.ConditionDuplicatesFound, true, reason, msg)
	if len(plan.Delete)+len(plan.Purge) > 0 {
		return ctrl.Result{RequeueAfter: roleStepDelay}, nil, true
	}
	return ctrl.Result{}, nil, false
}

// claimedCloudIDs lists the cloud users that other UserMatches of the
// tenant claim: never a duplicate to delete, whatever they carry.
func (r *UserMatchReconciler) claimedCloudIDs(ctx context.Context, um *identityv1alpha1.UserMatch) (map[string]bool, error) {
	var list identityv1alpha1.UserMatchList
	if err := r.Client.List(ctx, &list, client.MatchingFields{indexTenant: um.Spec.TenantRef.Name}); err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, other := range list.Items {
		if other.UID != um.UID && other.Status.Cloud != nil && other.Status.Cloud.ObjectID != "" {
			out[strings.ToLower(other.Status.Cloud.ObjectID)] = true
		}
	}
	return out, nil
}
