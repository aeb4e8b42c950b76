package controllers

import (
	"context"
	"errors"
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
	"github.com/entramatch/entra-match-operator/internal/directory"
	"github.com/entramatch/entra-match-operator/internal/match"
	"github.com/entramatch/entra-match-operator/internal/metrics"
)

// The deciding and writing phases of a UserMatch.

// stampAnchor fills an empty mS-DS-ConsistencyGuid with objectGUID when the
// directory asks for it (spec.writeConsistencyGuid), so that the anchor
// survives a move between forests. Another writer may fill the attribute
// between the read and this write: its value is then the anchor, never
// objectGUID under its name, so the pass stops and the next one reads it.
func (r *UserMatchReconciler) stampAnchor(ctx context.Context, s *userMatchScope) (ctrl.Result, error) {
	u := s.adUser
	switch {
	case !s.ad.Spec.WriteConsistencyGuid:
		s.stamp = nil
		return ctrl.Result{}, nil
	case u.ConsistencyGUID != nil:
		s.stamp = &cond{status: true, reason: identityv1alpha1.ReasonConsistencyGuidPresent,
			message: fmt.Sprintf("mS-DS-ConsistencyGuid of %s already holds a value; the operator never overwrites it", u.DN)}
		return ctrl.Result{}, nil
	case u.InvalidConsistencyGUID != nil || u.ObjectGUID.IsZero():
		// Nothing sound to write; the anchor phase has said why.
		return ctrl.Result{}, nil
	case modeOf(s.um.Spec.Mode) == identityv1alpha1.ModeObserve:
		s.stamp = &cond{status: false, reason: identityv1alpha1.ReasonObserveOnly,
			message: fmt.Sprintf("Observe mode: would write objectGUID %s into the empty mS-DS-ConsistencyGuid of %s", u.ObjectGUID.GUID(), u.DN)}
		return ctrl.Result{}, nil
	}
	s.log.Info("writing mS-DS-ConsistencyGuid", "dn", u.DN, "value", u.ObjectGUID.GUID())
	if err := s.dirConn.SetConsistencyGUID(ctx, u.DN, u.ObjectGUID); err != nil {
		if errors.Is(err, directory.ErrConsistencyGUIDSet) && s.dirView != nil {
			s.dirView.expire()
		}
		o := classifyDirectory(err)
		s.stamp = &cond{status: false, reason: o.reason, message: o.message}
		// The anchor read before the write is not known to be the anchor.
		s.resolved, s.anchorFailed = false, &o
		return s.fail(o, r.ResyncPeriod)
	}
	g := u.ObjectGUID
	s.adUser.ConsistencyGUID = &g
	a, src, err := readAnchor(s.ad, s.adUser)
	if err != nil {
		o := classifyDirectory(err)
		s.resolved, s.anchorFailed = false, &o
		return s.fail(o, r.ResyncPeriod)
	}
	s.anchor, s.source = a, src
	recordAnchor(s)
	s.stamp = &cond{status: true, reason: identityv1alpha1.ReasonConsistencyGuidWritten,
		message: fmt.Sprintf("wrote objectGUID %s into the empty mS-DS-ConsistencyGuid of %s", u.ObjectGUID.GUID(), u.DN)}
	r.event(s.um, corev1.EventTypeNormal, identityv1alpha1.ReasonConsistencyGuidWritten, "WriteConsistencyGuid", s.stamp.message)
	return ctrl.Result{}, nil
}

// maxInlineWriteWait is the longest a worker sleeps for a write slot; a
// longer wait requeues the UserMatch, freeing the worker for other tenants.
const maxInlineWriteWait = time.Second

// decide applies the match rules. The shared views may be a few seconds
// old: before a write, what Entra would refuse the match for is read again
// straight from Graph and decided again, and the claim on the cloud user is
// taken, so that only one UserMatch ever writes to it.
func (r *UserMatchReconciler) decide(ctx context.Context, s *userMatchScope) (ctrl.Result, error) {
	plan := match.Decide(s.obs)
	if plan.Action == match.ActionSetImmutableID {
		if wait := s.view.writesPaused(); wait > 0 {
			return s.fail(outcome{reason: identityv1alpha1.ReasonThrottled, transient: true, retryAfter: wait,
				message: "Graph throttled this tenant's writes; waiting for its Retry-After before writing"}, r.ResyncPeriod)
		}
		// The slot in the tenant's write quota is taken before the reads
		// that precede the write, so that no read is spent on a write that
		// would wait.
		if wait, err := s.view.reserveWrite(ctx, maxInlineWriteWait); err != nil {
			return ctrl.Result{}, err
		} else if wait > 0 {
			return s.fail(outcome{reason: identityv1alpha1.ReasonThrottled, transient: true, retryAfter: wait,
				message: "waiting for a slot in this tenant's Graph write quota; the operator keeps its writes within it"}, r.ResyncPeriod)
		}
		if err := r.refresh(ctx, s); errors.Is(err, errTargetMoved) {
			// Observe again from fresh reads before anything is written.
			s.log.Info("target UPN moved to another cloud user; observing again", "target", s.target.key)
			s.view.expire()
			return s.end(ctrl.Result{RequeueAfter: time.Second})
		} else if err != nil {
			return s.fail(classifyCloud(err), r.ResyncPeriod)
		}
		plan = match.Decide(s.obs)
	}

	if plan.Action == match.ActionSetImmutableID {
		holder, err := r.claims.take(ctx, s.um, s.tenant.Spec.TenantID, s.user.ID)
		if err != nil {
			return s.fail(outcome{reason: identityv1alpha1.ReasonReconcileFailed, message: err.Error(), transient: true}, r.ResyncPeriod)
		}
		if holder != "" {
			plan.Action = match.ActionNone
			plan.Block = &match.Block{Reason: identityv1alpha1.ReasonDuplicateClaim, Message: fmt.Sprintf(
				"UserMatch %s already claims cloud user %s; delete one of the two", holder, s.user.UserPrincipalName)}
		}
	} else if plan.Block != nil && plan.Block.Reason == identityv1alpha1.ReasonDuplicateClaim && s.user.ID != "" {
		// Yield a claim taken earlier to the UserMatch that wins.
		if err := r.claims.release(ctx, s.um, s.tenant.Spec.TenantID, s.user.ID); err != nil {
			return s.fail(outcome{reason: identityv1alpha1.ReasonReconcileFailed, message: err.Error(), transient: true}, r.ResyncPeriod)
		}
	}
	if plan.Block != nil {
		s.log.Info("match blocked", "reason", plan.Block.Reason, "message", plan.Block.Message)
	}
	s.plan = &plan
	return ctrl.Result{}, nil
}

// refresh re-reads, straight from Graph, the target and the two things
// Entra would refuse a match for that Graph itself does not stop us from
// writing over: other holders of the anchor (the advanced query) and
// privileged roles. The reads are independent of each other (the target's
// id is known), so they go out together: one round trip before a write
// instead of four.
func (r *UserMatchReconciler) refresh(ctx context.Context, s *userMatchScope) error {
	var (
		fresh   cloud.User
		holders []cloud.User
		roles   []string
	)
	g, gctx := errgroup.WithContext(ctx)
	// The target itself, by id: the view may be seconds old, and a UPN may
	// have moved to another user since (errTargetMoved).
	g.Go(func() (err error) { fresh, err = s.cloud.GetUser(gctx, s.user.ID); return err })
	g.Go(func() (err error) {
		holders, err = s.cloud.UsersByImmutableID(gctx, s.anchor.ImmutableID())
		return err
	})
	if !s.rolesFresh {
		g.Go(func() (err error) { roles, err = privilegedRoles(gctx, s.cloud, s.user.ID); return err })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if !s.target.byID && !strings.EqualFold(fresh.UserPrincipalName, s.target.key) {
		return errTargetMoved
	}
	s.user, s.obs.Cloud = fresh, fresh
	s.obs.Holders = holders
	if !s.rolesFresh {
		s.obs.PrivilegedRoles = roles
	}
	return nil
}

// writeImmutableID makes the one write the plan asks for.
func (r *UserMatchReconciler) writeImmutableID(ctx context.Context, s *userMatchScope) (ctrl.Result, error) {
	plan := s.plan
	if plan.Action != match.ActionSetImmutableID {
		return ctrl.Result{}, nil
	}
	value := s.anchor.ImmutableID()
	s.log.Info("writing onPremisesImmutableId", "cloudUser", s.user.ID, "userPrincipalName", s.user.UserPrincipalName,
		"value", value, "drift", plan.Drift)
	err := s.cloud.SetImmutableID(ctx, s.user.ID, &value)
	if err != nil {
		class := cloud.ClassOf(err)
		metrics.ImmutableIDWrites.WithLabelValues(string(class)).Inc()
		s.log.Info("writing onPremisesImmutableId failed", "cloudUser", s.user.ID, "class", class, "error", err.Error())
		refusal := match.WriteRefused(class, value, conflictingObject(err))
		switch {
		case refusal.Block != nil:
			plan.Action, plan.Block = match.ActionNone, refusal.Block
			return ctrl.Result{}, nil
		case refusal.LookAgain:
			return s.end(ctrl.Result{RequeueAfter: time.Second})
		case class == cloud.ClassThrottled:
			if ra, ok := cloud.RetryAfter(err); ok {
				s.view.pauseWrites(ra)
			}
		}
		return s.fail(classifyCloud(err), r.ResyncPeriod)
	}
	metrics.ImmutableIDWrites.WithLabelValues("ok").Inc()
	crashpoint.Hit("immutableid-set")
	s.user.OnPremisesImmutableID = value
	s.view.wrote(s.user.ID, value)
	if plan.Drift {
		now := metav1.NewTime(r.now())
		s.um.Status.DriftCorrections++
		s.um.Status.LastDriftTime = &now
		metrics.DriftCorrections.WithLabelValues("UserMatch", "onPremisesImmutableId").Inc()
		r.event(s.um, corev1.EventTypeWarning, identityv1alpha1.ReasonDriftCorrected, "SetImmutableID", plan.Message)
	} else {
		r.event(s.um, corev1.EventTypeNormal, identityv1alpha1.ReasonImmutableIDSet, "SetImmutableID", plan.Message)
	}
	return ctrl.Result{}, nil
}

// finish ends a pass that ran to the end: a joined user is looked at
// again less often, since that only reads.
func (r *UserMatchReconciler) finish(_ context.Context, s *userMatchScope) (ctrl.Result, error) {
	s.finished = true
	if s.plan.Joined {
		return ctrl.Result{RequeueAfter: r.joinedResync()}, nil
	}
	return ctrl.Result{RequeueAfter: r.ResyncPeriod}, nil
}

// privilegedRoles lists the names of the privileged roles a user holds or is
// eligible for; Entra refuses to match such users.
func privilegedRoles(ctx context.Context, c cloud.Client, userID string) ([]string, error) {
	_, privileged, err := currentRoles(ctx, c, userID)
	return privileged, err
}
