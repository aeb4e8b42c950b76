package controllers

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/cloud"
	"github.com/entramatch/entra-match-operator/internal/crashpoint"
	"github.com/entramatch/entra-match-operator/internal/match"
)

// cleanDuplicates finds the cloud objects a failed sync left in the way and
// applies spec.duplicates to the proven ones, once the match decision with
// them taken away allows the match. A deletion ends the pass, so that the
// next one decides from fresh reads.
func (r *UserMatchReconciler) cleanDuplicates(ctx context.Context, s *userMatchScope) (ctrl.Result, error) {
	um, o := s.um, s
	if o.user.Synced() {
		return ctrl.Result{}, nil
	}
	none := &cond{false, identityv1alpha1.ReasonNoDuplicates, ""}
	policy := match.DuplicatesPolicy(um.Spec.Duplicates)
	if policy == "" {
		policy = match.DuplicatesReport
	}
	anchor := o.anchor.ImmutableID()
	if !match.NeedsDeletedItems(policy, anchor, o.user, o.obs.Holders) {
		um.Status.DuplicatesFound = nil
		s.duplicates = none
		return ctrl.Result{}, nil
	}
	deleted, err := o.cloud.DeletedUsers(ctx)
	if err != nil {
		return s.fail(classifyCloud(err), r.ResyncPeriod)
	}
	// Every object the cleanup could touch (only what carries the anchor
	// can be proven a duplicate) is asked about, not only those
	// observeMatch saw: the deleted items are read only here.
	ids := make([]string, 0, len(o.obs.Holders)+len(deleted))
	for _, h := range o.obs.Holders {
		ids = append(ids, h.ID)
	}
	for _, d := range deleted {
		if d.OnPremisesImmutableID == anchor {
			ids = append(ids, d.ID)
		}
	}
	rivals, err := r.claimants(ctx, um, s.adUser.DN, ids...)
	if err != nil {
		return ctrl.Result{}, err
	}
	claimed := claimedCloudIDs(append(rivals, s.others...))
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
		s.duplicates = none
		return ctrl.Result{}, nil
	}
	upn := map[string]string{}
	for _, d := range plan.Found {
		upn[d.ID] = d.UserPrincipalName
	}
	for _, id := range plan.Delete {
		s.log.Info("deleting duplicate", "objectID", id, "userPrincipalName", upn[id], "immutableId", anchor, "policy", policy)
		if err := o.cloud.DeleteUser(ctx, id); err != nil && cloud.ClassOf(err) != cloud.ClassNotFound {
			return s.fail(classifyCloud(err), r.ResyncPeriod)
		}
		o.view.removed(id)
		r.event(um, corev1.EventTypeWarning, identityv1alpha1.EventDuplicateDeleted, "DeleteDuplicate",
			fmt.Sprintf("soft-deleted %s (%s): a duplicate sync created for this AD user, carrying immutableId %s", upn[id], id, anchor))
		crashpoint.Hit("duplicate-deleted")
	}
	for _, id := range plan.Purge {
		s.log.Info("purging duplicate", "objectID", id, "userPrincipalName", upn[id], "immutableId", anchor, "policy", policy)
		if err := o.cloud.PurgeDeletedItem(ctx, id); err != nil && cloud.ClassOf(err) != cloud.ClassNotFound {
			return s.fail(classifyCloud(err), r.ResyncPeriod)
		}
		r.event(um, corev1.EventTypeWarning, identityv1alpha1.EventDuplicatePurged, "PurgeDuplicate",
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
	s.duplicates = &cond{true, reason, msg}
	if len(plan.Delete)+len(plan.Purge) > 0 {
		return s.end(ctrl.Result{RequeueAfter: roleStepDelay})
	}
	return ctrl.Result{}, nil
}

// claimedCloudIDs lists the cloud users that other UserMatches of the
// tenant claim: never a duplicate to delete, whatever they carry.
func claimedCloudIDs(others []match.Claimant) map[string]bool {
	out := map[string]bool{}
	for _, o := range others {
		if o.CloudID != "" {
			out[strings.ToLower(o.CloudID)] = true
		}
	}
	return out
}
