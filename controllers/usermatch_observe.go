package controllers

import (
	"context"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/anchor"
	"github.com/entramatch/entra-match-operator/internal/cloud"
	"github.com/entramatch/entra-match-operator/internal/directory"
	"github.com/entramatch/entra-match-operator/internal/match"
)

// The observe phases of a UserMatch: they only read.

// observeReferences reads the EntraTenant and ActiveDirectory the spec names.
func (r *UserMatchReconciler) observeReferences(ctx context.Context, s *userMatchScope) (ctrl.Result, error) {
	return observeReferences(ctx, r.Client, &s.pass, r.ResyncPeriod, s.um.Spec.TenantRef.Name, s.um.Spec.DirectoryRef.Name, &s.tenant, &s.ad)
}

// observeAnchor finds the AD user and reads its anchor as stored.
func (r *UserMatchReconciler) observeAnchor(ctx context.Context, s *userMatchScope) (ctrl.Result, error) {
	dcfg, err := directoryConfig(ctx, r.APIReader, s.ad)
	if err == nil {
		s.dirConn, err = r.Directory.Directory(ctx, dcfg)
	}
	if err == nil {
		s.dirView = r.views.directory(s.ad.Name + "/" + fingerprint(dcfg))
		s.adUser, err = s.dirView.find(ctx, s.dirConn, adLookup(s.um.Spec.ADUser), func() []directory.Lookup {
			return r.lookupsFor(ctx, s.ad.Name)
		})
	}
	if err == nil {
		s.anchor, s.source, err = readAnchor(s.ad, s.adUser)
	}
	if err != nil {
		o := classifyDirectory(err)
		s.anchorFailed = &o
		return s.fail(o, r.ResyncPeriod)
	}
	s.resolved = true
	recordAnchor(s)
	return ctrl.Result{}, nil
}

// recordAnchor writes the AD user and its anchor into status.
func recordAnchor(s *userMatchScope) {
	s.um.Status.ImmutableID = s.anchor.ImmutableID()
	s.um.Status.AD = &identityv1alpha1.ADUserStatus{
		DistinguishedName: s.adUser.DN, ObjectGUID: s.adUser.ObjectGUID.GUID(),
		UserPrincipalName: s.adUser.UserPrincipalName, AnchorSource: s.source,
	}
}

// readAnchor picks the anchor as Entra Connect would, from the values AD
// holds, and names the attribute it came from.
func readAnchor(ad *identityv1alpha1.ActiveDirectory, u directory.User) (anchor.Anchor, identityv1alpha1.AnchorSource, error) {
	mode := string(ad.Spec.AnchorAttribute)
	if mode == "" {
		mode = directory.AnchorAuto
	}
	a, err := directory.SourceAnchor(u, mode)
	if err != nil {
		return a, "", err
	}
	src := identityv1alpha1.AnchorSourceObjectGUID
	if u.ConsistencyGUID != nil && *u.ConsistencyGUID == a && !strings.EqualFold(mode, directory.AnchorObjectGUID) {
		src = identityv1alpha1.AnchorSourceConsistencyGUID
	}
	return a, src, nil
}

// observeCloudUser finds the target cloud user, from the tenant's shared
// view when it has it, else from Graph.
func (r *UserMatchReconciler) observeCloudUser(ctx context.Context, s *userMatchScope) (ctrl.Result, error) {
	conn, err := tenantConnection(ctx, r.APIReader, s.tenant)
	if err == nil {
		s.cloud, err = r.Cloud.Client(ctx, conn)
	}
	s.target = cloudTarget(s.um, s.adUser)
	if err == nil {
		s.view = r.views.tenant(s.tenant.Name+"/"+fingerprint(conn), s.tenant.Spec.TenantID)
		err = s.view.load(ctx, s.cloud)
		if until := s.view.readsPaused(); err != nil && !until.IsZero() {
			r.fair.pause(s.tenant.Name, until)
		}
	}
	if err == nil {
		var ok bool
		if s.user, ok = s.view.user(s.target); !ok {
			// Created since the view was read, or absent: ask Graph.
			s.user, err = getTarget(ctx, s.cloud, s.target)
		}
	}
	if err != nil {
		o := classifyCloud(err)
		if cloud.ClassOf(err) == cloud.ClassNotFound {
			// Not a failed pass: there is nothing to match yet.
			o.message = fmt.Sprintf("no cloud user %q in tenant %s", s.target, s.tenant.Spec.TenantID)
			s.missing = &o
			return s.end(ctrl.Result{RequeueAfter: r.ResyncPeriod})
		}
		return s.fail(o, r.ResyncPeriod)
	}
	s.found = true
	s.um.Status.Cloud = &identityv1alpha1.CloudUserStatus{ObjectID: s.user.ID, UserPrincipalName: s.user.UserPrincipalName}
	return ctrl.Result{}, nil
}

// observeMatch gathers what the match decision needs beyond the two users:
// other claimants, holders of the anchor, privileged roles, tenant flags.
func (r *UserMatchReconciler) observeMatch(ctx context.Context, s *userMatchScope) (ctrl.Result, error) {
	s.obs = match.Observation{
		Mode:                match.Mode(modeOf(s.um.Spec.Mode)),
		Anchor:              s.anchor.ImmutableID(),
		ADUserPrincipalName: s.adUser.UserPrincipalName,
		ADObjectGUID:        s.adUser.ObjectGUID.GUID(),
		Cloud:               s.user,
		Domains:             tenantDomains(s.tenant),
		PreviouslySet:       recordOf(s.um).PreviouslySet(s.user.ID, s.anchor.ImmutableID()),
		Takeover:            s.view.takeoverFlag(),
	}
	// A synced user is decided on its own fields; the rest is only needed
	// before a write, so it is not read for joined users.
	if s.user.Synced() {
		return ctrl.Result{}, nil
	}
	holders := s.view.holders(s.anchor.ImmutableID())
	ids := []string{s.user.ID}
	for _, h := range holders {
		ids = append(ids, h.ID)
	}
	others, err := r.claimants(ctx, s.um, s.adUser.DN, ids...)
	if err != nil {
		return ctrl.Result{}, err
	}
	s.others = others
	s.obs.ClaimedBy = match.ClaimedBy(claimantOf(s.um, s.adUser.DN, s.user.ID), others)
	s.obs.Holders = holders
	s.obs.PrivilegedRoles = s.view.privileged(s.user.ID)
	return ctrl.Result{}, nil
}

// lookupsFor lists the AD lookups of every UserMatch of a directory, so that
// one paged search serves them all. It runs once per shared-read period, not
// per reconcile, and reads the cache without copying it.
func (r *UserMatchReconciler) lookupsFor(ctx context.Context, directoryName string) []directory.Lookup {
	var list identityv1alpha1.UserMatchList
	if err := r.Client.List(ctx, &list, client.MatchingFields{indexDirectory: directoryName}, client.UnsafeDisableDeepCopy); err != nil {
		return nil
	}
	out := make([]directory.Lookup, 0, len(list.Items))
	for _, um := range list.Items {
		out = append(out, adLookup(um.Spec.ADUser))
	}
	return out
}

// claimants lists the other UserMatches of the tenant that the claim rule
// (match.ClaimedBy) and the duplicates rule can see: those naming the same
// AD user, resolved to the same DN, or resolved to one of cloudIDs. Each is
// one field-index lookup, so the cost does not grow with the number of
// UserMatches in the tenant.
func (r *UserMatchReconciler) claimants(ctx context.Context, um *identityv1alpha1.UserMatch, dn string, cloudIDs ...string) ([]match.Claimant, error) {
	tenant, dir := um.Spec.TenantRef.Name, um.Spec.DirectoryRef.Name
	keys := []string{claimKeyAD(tenant, dir, adLookup(um.Spec.ADUser).String())}
	if dn != "" {
		keys = append(keys, claimKeyDN(tenant, dir, dn))
	}
	for _, id := range cloudIDs {
		if id != "" {
			keys = append(keys, claimKeyCloud(tenant, id))
		}
	}
	seen := map[types.UID]bool{um.UID: true}
	var out []match.Claimant
	for _, key := range keys {
		var list identityv1alpha1.UserMatchList
		if err := r.Client.List(ctx, &list, client.MatchingFields{indexClaims: key}, client.UnsafeDisableDeepCopy); err != nil {
			return nil, err
		}
		for i := range list.Items {
			other := &list.Items[i]
			if seen[other.UID] {
				continue
			}
			seen[other.UID] = true
			odn := ""
			if other.Status.AD != nil {
				odn = other.Status.AD.DistinguishedName
			}
			out = append(out, claimantOf(other, odn, cloudIDOf(other)))
		}
	}
	return out, nil
}

// The claim index: what a UserMatch targets, each value prefixed with its
// tenant, since claims never reach across tenants.
func claimKeyAD(tenant, dir, selector string) string { return tenant + "/ad/" + dir + "/" + selector }
func claimKeyDN(tenant, dir, dn string) string {
	return tenant + "/dn/" + dir + "/" + strings.ToLower(dn)
}
func claimKeyCloud(tenant, id string) string { return tenant + "/cloud/" + strings.ToLower(id) }

func claimKeys(um *identityv1alpha1.UserMatch) []string {
	tenant, dir := um.Spec.TenantRef.Name, um.Spec.DirectoryRef.Name
	keys := []string{claimKeyAD(tenant, dir, adLookup(um.Spec.ADUser).String())}
	if um.Status.AD != nil && um.Status.AD.DistinguishedName != "" {
		keys = append(keys, claimKeyDN(tenant, dir, um.Status.AD.DistinguishedName))
	}
	if id := cloudIDOf(um); id != "" {
		keys = append(keys, claimKeyCloud(tenant, id))
	}
	return keys
}

func claimantOf(um *identityv1alpha1.UserMatch, dn, cloudID string) match.Claimant {
	return match.Claimant{UID: string(um.UID), Name: um.Name, Created: um.CreationTimestamp.Time,
		Deleting: !um.DeletionTimestamp.IsZero(), Directory: um.Spec.DirectoryRef.Name,
		ADUser: adLookup(um.Spec.ADUser).String(), ADDN: dn, CloudID: cloudID}
}

// recordOf is what earlier passes left in status about the anchor.
func recordOf(um *identityv1alpha1.UserMatch) match.Record {
	return match.Record{ImmutableID: um.Status.ImmutableID, CloudID: cloudIDOf(um),
		Matched: meta.IsStatusConditionTrue(um.Status.Conditions, identityv1alpha1.ConditionMatched)}
}
