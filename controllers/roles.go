package controllers

import (
	"context"
	"fmt"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/cloud"
	"github.com/entramatch/entra-match-operator/internal/crashpoint"
	"github.com/entramatch/entra-match-operator/internal/match"
	"github.com/entramatch/entra-match-operator/internal/metrics"
)

// roleStepDelay is how soon the next step of the role workflow runs: each
// step is decided again from fresh reads, so steps are short passes.
const roleStepDelay = time.Second

const roleJustification = "entra-match-operator: hard match of an on-premises user (privilegedRoles: RemoveAndRestore)"

// rolesStep is the phase of the remove-and-restore workflow: it runs when
// the spec asks for it or roles are still recorded.
func (r *UserMatchReconciler) rolesStep(ctx context.Context, s *userMatchScope) (ctrl.Result, error) {
	if !match.RolesInPlay(s.um.Spec.PrivilegedRoles == identityv1alpha1.PrivilegedRolesRemoveAndRestore, len(s.um.Status.RecordedRoles), s.obs) {
		return ctrl.Result{}, nil
	}
	return r.roleWorkflow(ctx, s, false)
}

// roleWorkflow runs one step of the remove-and-restore workflow. A step
// that wrote ends the pass, so that the next step decides from fresh reads;
// otherwise the match decision goes on with s.obs.PrivilegedRoles read fresh.
func (r *UserMatchReconciler) roleWorkflow(ctx context.Context, s *userMatchScope, deleting bool) (ctrl.Result, error) {
	um := s.um
	if len(um.Status.RecordedRoles) > 0 && !r.recordSealed(um) {
		// Someone else wrote the record: acting on it would grant or
		// remove whatever they listed. Nothing is done, and a person is told.
		msg := fmt.Sprintf("status.recordedRoles (%s, for cloud user %s) does not carry the operator's seal, so it was not written by the operator: "+
			"nothing is removed or restored from it. If the operator did remove these roles, restore them by hand, then clear status.recordedRoles",
			recordedNames(um.Status.RecordedRoles), cloudIDOf(um))
		s.roles = &cond{false, identityv1alpha1.ReasonRoleRecordInvalid, msg}
		s.log.Info("role record not sealed by the operator; nothing removed or restored", "cloudUser", cloudIDOf(um))
		return s.end(ctrl.Result{RequeueAfter: r.ResyncPeriod})
	}
	current, privileged, err := currentRoles(ctx, s.cloud, s.user.ID)
	if err != nil {
		return s.fail(classifyCloud(err), r.ResyncPeriod)
	}
	state := match.RoleState{
		Enforce:   modeOf(um.Spec.Mode) == identityv1alpha1.ModeEnforce,
		Recorded:  recordedRoles(um.Status.RecordedRoles),
		Current:   current,
		Now:       r.now(),
		Joined:    match.Joined(s.user, s.anchor.ImmutableID()),
		Deleting:  deleting,
		RemovedAt: timeOf(um.Status.RolesRemovedTime),
		Retry:     um.Spec.RoleHoldAttempt > um.Status.RoleHoldAttempt,
	}
	// Roles never stay removed without a bound.
	state.MaxHold = identityv1alpha1.DefaultMaxRoleHoldDuration
	if d := um.Spec.MaxRoleHoldDuration; d != nil {
		state.MaxHold = d.Duration
	}
	plan := match.DecideRoles(state)
	for _, i := range plan.Confirmed {
		um.Status.RecordedRoles[i].Restored = true
	}
	for _, d := range plan.NotRestored {
		um.Status.RecordedRoles[d.Index].NotRestored = true
		r.event(um, corev1.EventTypeNormal, identityv1alpha1.EventRoleNotRestored, "Restore/"+d.Role.RoleDefinitionID,
			fmt.Sprintf("%s %s is not given back to %s: %s", kindWord(d.Role), d.Role.Label(), s.user.UserPrincipalName, d.Reason))
	}
	defer func() { metrics.RolesHeld.WithLabelValues(um.Name).Set(float64(heldRoles(um))) }()
	again := ctrl.Result{RequeueAfter: roleStepDelay}

	switch plan.Step {
	case match.RoleStepRecord:
		// Write down every role and wait for the API server to confirm it
		// before anything is removed: the record is what a crash recovers from.
		um.Status.RecordedRoles = toRecorded(plan.Record)
		um.Status.RecordedRolesSeal = r.sealRecord(um)
		um.Status.RoleHoldAttempt = um.Spec.RoleHoldAttempt
		now := metav1.NewTime(r.now())
		um.Status.RolesRemovedTime = &now
		s.roles = &cond{false, identityv1alpha1.ReasonProgressing, plan.Message}
		crashpoint.Hit("roles-recording")
		if err := s.persist(); err != nil {
			return ctrl.Result{}, fmt.Errorf("recording roles before removal: %w", err)
		}
		crashpoint.Hit("roles-recorded")
		s.log.Info("recorded roles before removing them", "cloudUser", s.user.ID, "roles", recordedNames(um.Status.RecordedRoles))
		r.event(um, corev1.EventTypeNormal, identityv1alpha1.EventRolesRecorded, "RecordRoles", plan.Message)
		return s.end(again)

	case match.RoleStepRemove:
		for _, role := range plan.Remove {
			s.log.Info("removing role", "cloudUser", s.user.ID, "kind", role.Kind, "role", role.Label(), "scope", role.DirectoryScopeID)
			if err := removeRole(ctx, s.cloud, s.user.ID, role); err != nil && cloud.ClassOf(err) != cloud.ClassNotFound {
				return s.fail(classifyCloud(err), r.ResyncPeriod)
			}
			r.event(um, corev1.EventTypeWarning, identityv1alpha1.EventRoleRemoved, "RemoveRole",
				fmt.Sprintf("removed %s %s from %s; it is recorded in status and will be restored", kindWord(role), role.Label(), s.user.UserPrincipalName))
			crashpoint.Hit("role-removed")
		}
		s.roles = &cond{true, identityv1alpha1.ReasonRolesRemoved, plan.Message}
		return s.end(again)

	case match.RoleStepRestore:
		// Every role is attempted: one that fails must not keep the others
		// removed. The first failure is returned once all were tried.
		var failed error
		for _, role := range plan.Restore {
			crashpoint.Hit("role-restoring")
			s.log.Info("restoring role", "cloudUser", s.user.ID, "kind", role.Kind, "role", role.Label(), "scope", role.DirectoryScopeID)
			refused, err := restoreRole(ctx, s.cloud, s.user.ID, role, um.Spec.RestorePermanentOnPolicyRefusal)
			switch {
			case err != nil:
				if failed == nil {
					failed = err
				}
				continue
			case refused != nil && um.Spec.RestorePermanentOnPolicyRefusal:
				r.event(um, corev1.EventTypeWarning, identityv1alpha1.EventRoleRestoredPermanent, "RestoreRole/"+role.RoleDefinitionID,
					fmt.Sprintf("PIM refused to give %s back to %s until %s (%v), so it was restored as a permanent assignment "+
						"(spec.restorePermanentOnPolicyRefusal): end it by hand at that time", role.Label(), s.user.UserPrincipalName,
						role.End.UTC().Format(time.RFC3339), refused))
			case refused != nil:
				// Left removed rather than made permanent behind anyone's
				// back: settled, and the exact request to restore it is given.
				for i := range um.Status.RecordedRoles {
					rr := &um.Status.RecordedRoles[i]
					if !rr.Restored && !rr.NotRestored && string(rr.Kind) == role.Kind && rr.RoleDefinitionID == role.RoleDefinitionID &&
						rr.DirectoryScopeID == role.DirectoryScopeID {
						rr.NotRestored = true
					}
				}
				r.event(um, corev1.EventTypeWarning, identityv1alpha1.EventRoleNotRestored, "RestoreRole/"+role.RoleDefinitionID,
					fmt.Sprintf("PIM refused to give %s back to %s until %s (%v); it is left removed rather than made permanent. "+
						"Restore it by hand: %s", role.Label(), s.user.UserPrincipalName, role.End.UTC().Format(time.RFC3339), refused,
						restoreRequest(s.user.ID, role)))
				continue
			}
			r.event(um, corev1.EventTypeNormal, identityv1alpha1.EventRoleRestored, "RestoreRole",
				fmt.Sprintf("restored %s %s to %s", kindWord(role), role.Label(), s.user.UserPrincipalName))
			crashpoint.Hit("role-restored")
		}
		if failed != nil {
			return s.fail(classifyCloud(failed), r.ResyncPeriod)
		}
		// Marked restored only once a read shows them back (next pass).
		return s.end(again)

	case match.RoleStepConfirm, match.RoleStepDone:
		reason := identityv1alpha1.ReasonRolesRestored
		if plan.HoldExpired {
			reason = identityv1alpha1.ReasonRoleHoldExpired
			plan.Message = "maxRoleHoldDuration ran out before sync joined the user; " + plan.Message
		}
		if plan.Step == match.RoleStepConfirm {
			r.event(um, corev1.EventTypeNormal, reason, "ConfirmRoles", plan.Message)
		}
		s.roles = &cond{false, reason, plan.Message}

	case match.RoleStepWait:
		s.roles = &cond{true, identityv1alpha1.ReasonRolesRemoved, plan.Message}
	}
	s.obs.PrivilegedRoles, s.rolesFresh = privileged, true
	return ctrl.Result{}, nil
}

// currentRoles reads, fresh, every role the user holds or is eligible for.
func currentRoles(ctx context.Context, c cloud.Client, userID string) ([]match.Role, []string, error) {
	var (
		assignments   []cloud.RoleAssignment
		eligibilities []cloud.RoleEligibility
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { assignments, err = c.RoleAssignments(gctx, userID); return err })
	g.Go(func() (err error) { eligibilities, err = c.RoleEligibilities(gctx, userID); return err })
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	roles := make([]match.Role, 0, len(assignments)+len(eligibilities))
	for _, a := range assignments {
		roles = append(roles, match.Role{Kind: string(identityv1alpha1.RoleKindAssignment), RoleDefinitionID: a.RoleDefinitionID,
			DirectoryScopeID: a.DirectoryScopeID, Name: a.Role.DisplayName, ID: a.ID, End: a.EndDateTime, Activation: a.Activated})
	}
	for _, e := range eligibilities {
		roles = append(roles, match.Role{Kind: string(identityv1alpha1.RoleKindEligibility), RoleDefinitionID: e.RoleDefinitionID,
			DirectoryScopeID: e.DirectoryScopeID, Name: e.Role.DisplayName, ID: e.ID, End: e.EndDateTime})
	}
	return roles, privilegedByPrincipal(assignments, eligibilities)[userID], nil
}

// removeRole ends a role: PIM requests for eligibilities and for the
// assignments PIM manages (time-bound or activated), a plain delete for a
// permanent assignment.
func removeRole(ctx context.Context, c cloud.Client, userID string, role match.Role) error {
	switch {
	case role.Kind == string(identityv1alpha1.RoleKindEligibility):
		return c.RemoveEligibility(ctx, cloud.RoleEligibility{ID: role.ID, PrincipalID: userID,
			RoleDefinitionID: role.RoleDefinitionID, DirectoryScopeID: role.DirectoryScopeID}, roleJustification)
	case role.End != nil || role.Activation:
		return c.RemoveRoleSchedule(ctx, cloud.RoleAssignment{ID: role.ID, PrincipalID: userID,
			RoleDefinitionID: role.RoleDefinitionID, DirectoryScopeID: role.DirectoryScopeID}, roleJustification)
	}
	return c.DeleteRoleAssignment(ctx, role.ID)
}

// restoreRole gives a role back as it was. A time-bound assignment goes
// through PIM, whose policy may refuse it (a maximum duration, a required
// ticket); the refusal is returned in refused, and only when permanentOK
// is the role then restored as a permanent assignment.
func restoreRole(ctx context.Context, c cloud.Client, userID string, role match.Role, permanentOK bool) (refused error, err error) {
	a := cloud.RoleAssignment{PrincipalID: userID, RoleDefinitionID: role.RoleDefinitionID, DirectoryScopeID: role.DirectoryScopeID}
	switch {
	case role.Kind == string(identityv1alpha1.RoleKindEligibility):
		return nil, c.AssignEligibility(ctx, cloud.RoleEligibility{PrincipalID: userID,
			RoleDefinitionID: role.RoleDefinitionID, DirectoryScopeID: role.DirectoryScopeID, EndDateTime: role.End}, roleJustification)
	case role.End != nil:
		a.EndDateTime = role.End
		err := c.AssignRoleSchedule(ctx, a, roleJustification)
		if class := cloud.ClassOf(err); class != cloud.ClassInvalid && class != cloud.ClassPermission {
			return nil, err
		}
		if !permanentOK {
			return err, nil
		}
		refused = err
		a.EndDateTime = nil
	}
	_, err = c.CreateRoleAssignment(ctx, a)
	return refused, err
}

// restoreRequest is the Graph request that restores a time-bound role by
// hand, for a person whose PIM policy needs what the operator cannot give.
func restoreRequest(userID string, role match.Role) string {
	return fmt.Sprintf(`POST https://graph.microsoft.com/v1.0/roleManagement/directory/roleAssignmentScheduleRequests `+
		`{"action":"adminAssign","principalId":%q,"roleDefinitionId":%q,"directoryScopeId":%q,"justification":"restore after hard match",`+
		`"scheduleInfo":{"startDateTime":"<now>","expiration":{"type":"afterDateTime","endDateTime":%q}}}`,
		userID, role.RoleDefinitionID, role.DirectoryScopeID, role.End.UTC().Format(time.RFC3339))
}

func recordedRoles(rs []identityv1alpha1.RecordedRole) []match.RecordedRole {
	out := make([]match.RecordedRole, 0, len(rs))
	for _, r := range rs {
		out = append(out, match.RecordedRole{Restored: r.Restored, NotRestored: r.NotRestored, Role: match.Role{Kind: string(r.Kind),
			RoleDefinitionID: r.RoleDefinitionID, DirectoryScopeID: r.DirectoryScopeID, Name: r.RoleName, ID: r.ID, End: timeOf(r.EndTime),
			Activation: r.Activation}})
	}
	return out
}

func toRecorded(rs []match.Role) []identityv1alpha1.RecordedRole {
	out := make([]identityv1alpha1.RecordedRole, 0, len(rs))
	for _, r := range rs {
		rr := identityv1alpha1.RecordedRole{Kind: identityv1alpha1.RoleKind(r.Kind), RoleDefinitionID: r.RoleDefinitionID,
			RoleName: r.Name, DirectoryScopeID: r.DirectoryScopeID, ID: r.ID, Activation: r.Activation}
		if r.End != nil {
			end := metav1.NewTime(*r.End)
			rr.EndTime = &end
		}
		out = append(out, rr)
	}
	return out
}

// heldRoles counts the recorded roles not yet settled (match.Held).
func heldRoles(um *identityv1alpha1.UserMatch) int {
	return match.Held(recordedRoles(um.Status.RecordedRoles))
}

func timeOf(t *metav1.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := t.Time
	return &v
}

// recordFields are what the seal covers: the UserMatch, the cloud user the
// roles belong to, and each role's identity, scope, end and kind. The
// restored/notRestored marks are left out: forging them can only keep a
// role from coming back, never grant one.
func recordFields(um *identityv1alpha1.UserMatch) []string {
	fields := []string{string(um.UID), cloudIDOf(um)}
	for _, rr := range um.Status.RecordedRoles {
		end := ""
		if rr.EndTime != nil {
			end = rr.EndTime.UTC().Format(time.RFC3339)
		}
		fields = append(fields, fmt.Sprintf("%s|%s|%s|%s|%s|%t", rr.Kind, rr.RoleDefinitionID, rr.DirectoryScopeID, rr.ID, end, rr.Activation))
	}
	return fields
}

func (r *UserMatchReconciler) sealRecord(um *identityv1alpha1.UserMatch) string {
	return r.Sealer.Seal(recordFields(um)...)
}

// recordSealed reports whether the recorded roles are the operator's own,
// for the cloud user they were recorded from, and never widen a scope.
func (r *UserMatchReconciler) recordSealed(um *identityv1alpha1.UserMatch) bool {
	for _, rr := range um.Status.RecordedRoles {
		if rr.DirectoryScopeID == "" {
			return false
		}
	}
	return r.Sealer != nil && r.Sealer.Verify(um.Status.RecordedRolesSeal, recordFields(um)...)
}

func cloudIDOf(um *identityv1alpha1.UserMatch) string {
	if um.Status.Cloud == nil {
		return ""
	}
	return um.Status.Cloud.ObjectID
}

func recordedNames(rs []identityv1alpha1.RecordedRole) string {
	parts := make([]string, 0, len(rs))
	for _, rr := range rs {
		name := rr.RoleName
		if name == "" {
			name = rr.RoleDefinitionID
		}
		parts = append(parts, fmt.Sprintf("%s %s at %q", rr.Kind, name, rr.DirectoryScopeID))
	}
	return strings.Join(parts, ", ")
}

func kindWord(r match.Role) string {
	if r.Kind == string(identityv1alpha1.RoleKindEligibility) {
		return "eligibility for"
	}
	return "role"
}
