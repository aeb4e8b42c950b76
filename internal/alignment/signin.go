package alignment

import (
	"fmt"
	"sort"
	"strings"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/syncplan"
)

// Sign-in names. Entra's sync soft-matches a new on-premises user to a
// cloud-only user whose userPrincipalName equals the exported one, when the
// tenant's softMatchOnUpnEnabled is on and blockSoftMatchEnabled is off
// (how-to-connect-install-existing-tenant: "soft match ... on
// userPrincipalName"). A UPN whose suffix is not a verified domain is
// rewritten to the initial onmicrosoft.com domain on export
// (plan-connect-userprincipalname), so both sides must carry the same name
// on a verified suffix: AD logon names move off contoso.local, cloud sign-in
// names off contoso.onmicrosoft.com. Matching is refused for a cloud user
// holding an admin role ("Existing Admin Role Conflict") and for one that
// already has an onPremisesImmutableId; a synced user's names are mastered
// on-premises and Graph refuses to change them. Moving a cloud-only user
// into a federated domain needs an immutable ID (Set-MsolUserPrincipalName:
// "required if moving the user from a standard to a federated identity
// domain"), which is a hard match, not alignment.

// ADUser is an AD user in scope.
type ADUser struct {
	DN             string
	UPN            string
	Mail           string
	ProxyAddresses []string
	// Anchors are the immutable IDs sync may export for the user
	// (objectGUID, and mS-DS-ConsistencyGuid when set).
	Anchors []string
	// SourceAnchor is the one it will export; the last of Anchors when
	// empty.
	SourceAnchor string
	// ObjectIdentifier is the objectGUID as sync stamps it into
	// onPremisesObjectIdentifier.
	ObjectIdentifier string
}

// CloudUser is a user of the tenant.
type CloudUser struct {
	ID             string
	UPN            string
	Mail           string
	ProxyAddresses []string
	ImmutableID    string
	Synced         bool
	// HasRoles: assigned or eligible for any directory role.
	HasRoles bool
}

// Domain is a tenant domain.
type Domain struct {
	Name      string
	Verified  bool
	Federated bool
	// Initial is the tenant's <name>.onmicrosoft.com domain.
	Initial bool
}

// SignInInput is what a plan reads.
type SignInInput struct {
	// Users are the AD users in scope.
	Users        []ADUser
	TargetSuffix string
	// ADSuffixes and CloudSuffixes are the suffixes names move off.
	ADSuffixes, CloudSuffixes []string
	// ForestOffered are the UPN suffixes the forest offers.
	ForestOffered []string
	// ForestUPNs maps every userPrincipalName in the forest (lower-case) to
	// the DNs holding it, in scope or not.
	ForestUPNs map[string][]string
	Domains    []Domain
	// Cloud are the tenant's users.
	Cloud          []CloudUser
	BlockSoftMatch bool
	SoftMatchOnUPN bool
}

// Rename is one sign-in name to change.
type Rename struct {
	Side identityv1alpha1.NameSide
	// Object is the AD user's DN or the cloud user's object ID.
	Object   string
	From, To string
}

// Refusal says why a user, or the whole scope, is not aligned.
type Refusal struct {
	Reason  string
	Message string
}

// UserState is where one user stands.
type UserState string

// The states of a user in scope.
const (
	// StateAligned users need no change.
	StateAligned UserState = "Aligned"
	// StatePending users need the plan's renames.
	StatePending UserState = "Pending"
	// StateRefused users cannot be aligned.
	StateRefused UserState = "Refused"
	// StateUntouched users are on a suffix neither list names.
	StateUntouched UserState = "Untouched"
)

// UserPlan is the plan for one AD user.
type UserPlan struct {
	DN    string
	State UserState
	// Renames are in write order: the cloud name first, as Graph refuses
	// more often (roles, sensitive actions) and a refusal there then
	// leaves AD untouched.
	Renames []Rename
	Refusal *Refusal
	// CloudUserID is the paired cloud-only user, if any.
	CloudUserID string
	// SoftMatch says whether sync will soft-match the aligned user, and
	// Prediction says what it will do, in a sentence.
	SoftMatch  bool
	Prediction string
}

// SignInPlan is the decision for a scope.
type SignInPlan struct {
	// Blocked, when set, stops every write.
	Blocked *Refusal
	Users   []UserPlan
}

// Counts tallies the plan.
func (p SignInPlan) Counts() identityv1alpha1.AlignmentCounts {
	c := identityv1alpha1.AlignmentCounts{InScope: int32(len(p.Users))}
	for _, u := range p.Users {
		switch u.State {
		case StateAligned:
			c.Aligned++
		case StatePending:
			c.Pending++
		case StateRefused:
			c.Refused++
		case StateUntouched:
			c.Untouched++
		}
		if u.SoftMatch {
			c.WillSoftMatch++
		}
	}
	return c
}

// Renames lists every rename of the plan in write order; none when the
// plan is blocked.
func (p SignInPlan) Renames() []Rename {
	if p.Blocked != nil {
		return nil
	}
	var out []Rename
	for _, u := range p.Users {
		out = append(out, u.Renames...)
	}
	return out
}

// PlanSignIn decides, for every AD user in scope, which names to change so
// that sync soft-matches it to its cloud-only counterpart. It never
// guesses: two candidates, a name taken elsewhere, a synced or privileged
// cloud user refuse that user and change nothing of it.
func PlanSignIn(in SignInInput) SignInPlan {
	target := key(in.TargetSuffix)
	var plan SignInPlan
	plan.Blocked = blocked(in, target)

	idx := indexCloud(in.Cloud)
	adFrom, cloudFrom := set(in.ADSuffixes), set(in.CloudSuffixes)
	federated := false
	for _, d := range in.Domains {
		if key(d.Name) == target {
			federated = d.Federated
		}
	}

	users := append([]ADUser(nil), in.Users...)
	sort.Slice(users, func(i, j int) bool { return key(users[i].DN) < key(users[j].DN) })
	pairs := map[string][]string{} // cloud user id -> AD DNs pairing with it
	newNames := map[string][]string{}
	for _, u := range users {
		up := planUser(u, in, idx, target, adFrom, cloudFrom, federated)
		if up.CloudUserID != "" {
			pairs[key(up.CloudUserID)] = append(pairs[key(up.CloudUserID)], u.DN)
		}
		if up.State == StatePending {
			newNames[key(finalName(u, target))] = append(newNames[key(finalName(u, target))], u.DN)
		}
		plan.Users = append(plan.Users, up)
	}
	// A cloud user paired with two AD users, or a name two users would
	// take, refuses all of them: which one is meant is a person's call.
	for i := range plan.Users {
		up := &plan.Users[i]
		if up.State == StateRefused || up.State == StateUntouched {
			continue
		}
		if dns := pairs[key(up.CloudUserID)]; up.CloudUserID != "" && len(dns) > 1 {
			refuse(up, identityv1alpha1.ReasonAmbiguousCloudUser, fmt.Sprintf("cloud user %s pairs with %d AD users in scope (%s); align them by hand or narrow the scope",
				up.CloudUserID, len(dns), strings.Join(dns, "; ")))
			continue
		}
		if up.State != StatePending {
			continue
		}
		for _, r := range up.Renames {
			if dns := newNames[key(r.To)]; len(dns) > 1 {
				refuse(up, identityv1alpha1.ReasonNameCollisionInScope, fmt.Sprintf("%d users in scope would all become %s (%s)", len(dns), r.To, strings.Join(dns, "; ")))
				break
			}
		}
	}
	predictAfter(&plan, users, in)
	return plan
}

// predictAfter asks the sync plan (internal/syncplan) what the next sync
// does with every user in scope once the plan's renames are made: the
// same engine as a SyncPlan, so that alignment and plan never disagree.
func predictAfter(plan *SignInPlan, users []ADUser, in SignInInput) {
	renamed := map[string]string{} // cloud id or AD DN, lower-case -> new name
	if plan.Blocked == nil {
		for _, up := range plan.Users {
			for _, r := range up.Renames {
				renamed[key(r.Object)] = r.To
			}
		}
	}
	t := syncplan.Tenant{Flags: syncplan.Flags{BlockSoftMatch: in.BlockSoftMatch, SoftMatchOnUPN: in.SoftMatchOnUPN}}
	for _, d := range in.Domains {
		if d.Verified || d.Initial {
			t.VerifiedDomains = append(t.VerifiedDomains, d.Name)
		}
		if d.Initial {
			t.InitialDomain = d.Name
		}
	}
	for _, c := range in.Cloud {
		on := c.Synced
		o := syncplan.CloudObject{ID: c.ID, Kind: syncplan.User, UserPrincipalName: c.UPN, Mail: c.Mail, ProxyAddresses: c.ProxyAddresses,
			ImmutableID: c.ImmutableID, AdminAssigned: c.HasRoles,
			// Which roles are privileged is not known here: any role counts,
			// so a hard match is never predicted where it could be refused.
			PrivilegedAssigned: c.HasRoles}
		if on {
			o.SyncEnabled = &on
		}
		if n, ok := renamed[key(c.ID)]; ok {
			o.UserPrincipalName = n
		}
		t.Objects = append(t.Objects, o)
	}
	exports := make([]syncplan.Export, 0, len(users))
	for _, u := range users {
		e := syncplan.Export{Kind: syncplan.User, Anchor: u.SourceAnchor, UserPrincipalName: u.UPN, Mail: u.Mail,
			ProxyAddresses: u.ProxyAddresses, ObjectIdentifier: u.ObjectIdentifier}
		if e.Anchor == "" && len(u.Anchors) > 0 {
			e.Anchor = u.Anchors[len(u.Anchors)-1]
		}
		if n, ok := renamed[key(u.DN)]; ok {
			e.UserPrincipalName = n
		}
		exports = append(exports, e)
	}
	for i, p := range syncplan.Predict(t, exports) {
		up := &plan.Users[i]
		up.SoftMatch = p.Outcome == syncplan.SoftMatchSMTP || p.Outcome == syncplan.SoftMatchUPN
		up.Prediction = fmt.Sprintf("sync: %s", p.Outcome)
		if p.CloudID != "" {
			up.Prediction += " with " + p.CloudID
		}
		if p.Code != "" {
			up.Prediction += " (" + p.Code + ")"
		}
		up.Prediction += ": " + p.Reason
	}
}

func refuse(up *UserPlan, reason, msg string) {
	up.State, up.Renames = StateRefused, nil
	up.Refusal = &Refusal{Reason: reason, Message: msg}
}

// blocked returns what stops every write, if anything.
func blocked(in SignInInput, target string) *Refusal {
	verified := false
	for _, d := range in.Domains {
		if key(d.Name) == target && d.Verified {
			verified = true
		}
	}
	switch {
	case !verified:
		return &Refusal{identityv1alpha1.ReasonTargetSuffixNotVerified, fmt.Sprintf("%s is not a verified domain of the tenant: Entra refuses it as a sign-in name and sync "+
			"rewrites it to the onmicrosoft.com domain; verify the domain in Entra first", in.TargetSuffix)}
	case len(in.ADSuffixes) > 0 && !set(in.ForestOffered)[target]:
		return &Refusal{identityv1alpha1.ReasonTargetSuffixNotOffered, fmt.Sprintf("the forest does not offer %s as a UPN suffix; add it with the "+
			"ActiveDirectory's spec.forestUPNSuffixes (or in Active Directory Domains and Trusts) first", in.TargetSuffix)}
	case in.BlockSoftMatch:
		return &Refusal{identityv1alpha1.ReasonSoftMatchBlocked, "blockSoftMatchEnabled is on in the tenant: aligned names would not make sync match; " +
			"turn it off with a TenantSyncFeatures for the migration, or match with UserMatch (hard match)"}
	case !in.SoftMatchOnUPN:
		return &Refusal{identityv1alpha1.ReasonUPNSoftMatchDisabled, "softMatchOnUpnEnabled is off in the tenant: sync would not match on the aligned names; " +
			"turn it on with a TenantSyncFeatures, or match with UserMatch (hard match)"}
	}
	return nil
}

// finalName is the AD user's name once aligned.
func finalName(u ADUser, target string) string {
	local, suffix := splitUPN(u.UPN)
	if key(suffix) == target {
		return u.UPN
	}
	return local + "@" + target
}

func planUser(u ADUser, in SignInInput, idx cloudIndex, target string, adFrom, cloudFrom map[string]bool, federated bool) UserPlan {
	up := UserPlan{DN: u.DN}
	local, suffix := splitUPN(u.UPN)
	adMoves := adFrom[key(suffix)]
	if local == "" || !adMoves && key(suffix) != target {
		up.State = StateUntouched
		return up
	}
	for _, a := range u.Anchors {
		if holders := idx.byAnchor[a]; len(holders) > 0 {
			refuse(&up, identityv1alpha1.ReasonAlreadySynced, fmt.Sprintf("cloud user %s already carries this user's anchor %s: sync joined them, and the names are mastered on-premises",
				holders[0].UPN, a))
			return up
		}
	}
	name := local + "@" + in.TargetSuffix
	if !adMoves {
		name = u.UPN
	}

	// The cloud counterpart: the same name before the @ on a suffix to move
	// off, or the same mail. Without one, whoever already signs in with the
	// aligned name is the counterpart (sync would match them on it); with
	// one, that holder is someone else, and the name is taken.
	cands := map[string]CloudUser{}
	for _, s := range in.CloudSuffixes {
		if c, ok := idx.byUPN[key(local+"@"+s)]; ok {
			cands[key(c.ID)] = c
		}
	}
	for _, m := range adAddresses(u) {
		for _, c := range idx.byMail[m] {
			cands[key(c.ID)] = c
		}
	}
	if len(cands) > 1 {
		refuse(&up, identityv1alpha1.ReasonAmbiguousCloudUser, fmt.Sprintf("%d cloud users pair with this user (%s); the operator never guesses: align it by hand or with a UserMatch",
			len(cands), strings.Join(sortedUPNs(cands), ", ")))
		return up
	}
	holder, taken := idx.byUPN[key(name)]
	var pair *CloudUser
	for _, c := range cands {
		pair = &c
	}
	switch {
	case pair == nil && taken:
		pair = &holder
	case pair != nil && taken && !strings.EqualFold(holder.ID, pair.ID):
		refuse(&up, identityv1alpha1.ReasonNameTakenInTenant, fmt.Sprintf("%s is already the sign-in name of cloud user %s, while this user's counterpart is %s",
			name, holder.ID, pair.UPN))
		return up
	}

	if adMoves {
		for _, dn := range in.ForestUPNs[key(name)] {
			if !strings.EqualFold(dn, u.DN) {
				refuse(&up, identityv1alpha1.ReasonNameTakenInForest, fmt.Sprintf("%s is already the logon name of %s in the forest", name, dn))
				return up
			}
		}
	}

	if pair != nil {
		up.CloudUserID = pair.ID
		switch {
		case pair.Synced || pair.ImmutableID != "":
			refuse(&up, identityv1alpha1.ReasonCloudUserSynced, fmt.Sprintf("cloud user %s is synced or carries an onPremisesImmutableId: Graph cannot rename it and sync will not soft-match it; "+
				"use a UserMatch", pair.UPN))
			return up
		case pair.HasRoles:
			refuse(&up, identityv1alpha1.ReasonCloudUserHasRoles, fmt.Sprintf("cloud user %s holds directory roles, which make Entra refuse the match (Existing Admin Role Conflict); "+
				"use a UserMatch with privilegedRoles RemoveAndRestore", pair.UPN))
			return up
		}
		_, cloudSuffix := splitUPN(pair.UPN)
		if !strings.EqualFold(pair.UPN, name) {
			if !cloudFrom[key(cloudSuffix)] && key(cloudSuffix) != target {
				// Paired by mail on a suffix nobody asked to move: leave it.
				up.State = StateUntouched
				up.CloudUserID = ""
				return up
			}
			if federated {
				refuse(&up, identityv1alpha1.ReasonFederatedTargetDomain, fmt.Sprintf("%s is a federated domain: cloud user %s can only move into it with an immutable ID, which is a hard match; use a UserMatch",
					in.TargetSuffix, pair.UPN))
				return up
			}
			up.Renames = append(up.Renames, Rename{Side: identityv1alpha1.SideEntraID, Object: pair.ID, From: pair.UPN, To: name})
		}
	}
	if adMoves {
		up.Renames = append(up.Renames, Rename{Side: identityv1alpha1.SideActiveDirectory, Object: u.DN, From: u.UPN, To: name})
	}
	up.State = StateAligned
	if len(up.Renames) > 0 {
		up.State = StatePending
	}
	return up
}

type cloudIndex struct {
	byUPN    map[string]CloudUser
	byMail   map[string][]CloudUser
	byAnchor map[string][]CloudUser
}

func indexCloud(users []CloudUser) cloudIndex {
	idx := cloudIndex{byUPN: map[string]CloudUser{}, byMail: map[string][]CloudUser{}, byAnchor: map[string][]CloudUser{}}
	for _, c := range users {
		idx.byUPN[key(c.UPN)] = c
		if p := syncplan.CloudPrimarySMTP(c.ProxyAddresses, c.Mail); p != "" {
			idx.byMail[p] = append(idx.byMail[p], c)
		}
		if c.ImmutableID != "" {
			// Source anchors compare case-sensitively.
			idx.byAnchor[c.ImmutableID] = append(idx.byAnchor[c.ImmutableID], c)
		}
	}
	return idx
}

// adAddresses are the AD user's mail and primary SMTP, lower-case.
func adAddresses(u ADUser) []string {
	var out []string
	if m := key(u.Mail); m != "" {
		out = append(out, m)
	}
	if p := syncplan.ExportPrimarySMTP(u.ProxyAddresses, ""); p != "" && p != key(u.Mail) {
		out = append(out, p)
	}
	return out
}

func splitUPN(upn string) (local, suffix string) {
	at := strings.LastIndex(upn, "@")
	if at <= 0 || at == len(upn)-1 {
		return "", ""
	}
	return upn[:at], upn[at+1:]
}

func sortedUPNs(m map[string]CloudUser) []string {
	var out []string
	for _, c := range m {
		out = append(out, c.UPN)
	}
	sort.Strings(out)
	return out
}
