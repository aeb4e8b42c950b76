package match

import (
	"fmt"
	"sort"
	"strings"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/anchor"
	"github.com/entramatch/entra-match-operator/internal/cloud"
)

// Mode says whether the operator may write.
type Mode string

const (
	Enforce Mode = "Enforce"
	Observe Mode = "Observe"
)

// Observation is everything the decision needs, read before any write.
type Observation struct {
	Mode Mode
	// Anchor is the immutableId computed from the AD user.
	Anchor string
	// ADUserPrincipalName is the AD user's UPN, for the suffix checks.
	ADUserPrincipalName string
	// Cloud is the target cloud user as read now.
	Cloud cloud.User
	// Holders are the users that carry Anchor as their immutableId (advanced
	// query; eventually consistent, so it may lag a write we just made).
	Holders []cloud.User
	// PrivilegedRoles names the privileged roles the cloud user holds or is
	// eligible for; Entra refuses to match such users.
	PrivilegedRoles []string
	// ClaimedBy names another UserMatch that targets the same AD or cloud user.
	ClaimedBy string
	// Domains are the tenant's domains.
	Domains []cloud.Domain
	// PreviouslySet is true when an earlier reconcile wrote Anchor onto this
	// cloud user, so a different value now is drift rather than a first write.
	PreviouslySet bool
	// Takeover is the tenant's blockCloudObjectTakeoverThroughHardMatchEnabled
	// as last read.
	Takeover Takeover
	// ADObjectGUID is the AD user's objectGUID, which Entra's sync stamps
	// into onPremisesObjectIdentifier.
	ADObjectGUID string
}

// Takeover is what is known of the tenant flag
// blockCloudObjectTakeoverThroughHardMatchEnabled. While it is on, Entra's
// sync refuses to hard-match a cloud-managed user (InvalidHardMatch:
// "Another cloud created object with the same source anchor already exists
// in Azure Active Directory", how-to-connect-install-existing-tenant and
// tshoot-connect-sync-errors), so writing the anchor would leave the user
// waiting for a join that cannot happen.
type Takeover struct {
	Blocked bool
	// ObjectIdentifierUpdateAllowed is the tenant flag
	// allowOnPremUpdateOfOnPremisesObjectIdentifierEnabled: the temporary
	// bypass of the 2026 protections. Unknown counts as off.
	ObjectIdentifierUpdateAllowed bool
	// Unknown says why the flag could not be read ("" when it was); the
	// match goes ahead and the message says what may still refuse it.
	Unknown string
}

// Action is the single write a plan may ask for.
type Action string

const (
	ActionNone           Action = "None"
	ActionSetImmutableID Action = "SetImmutableID"
)

// Block is a refusal to write, with a message a person can act on.
type Block struct {
	Reason  string
	Message string
}

// Warning is a condition worth showing that does not stop the match.
type Warning struct {
	Reason  string
	Message string
}

// Plan is the outcome of Decide.
type Plan struct {
	Action Action
	// Joined is true when Entra's sync has matched the cloud user with our anchor.
	Joined bool
	// Drift is true when the write restores a value someone changed or cleared.
	Drift bool
	// Block is set when the operator must not write.
	Block *Block
	// Warning is set when the UPN suffix will keep soft matching and sign-in apart.
	Warning *Warning
	// Reason and Message describe the state for the Ready/Matched conditions
	// when nothing is blocked.
	Reason  string
	Message string
}

// Joined reports whether Entra's sync has matched the cloud user with anchor:
// it is on-premises mastered and carries that immutableId.
func Joined(u cloud.User, anchor string) bool {
	return u.Synced() && u.OnPremisesImmutableID == anchor
}

// Decide applies the hard-match rules in the order that protects data first:
// a synced user is never overwritten, then every reason Entra would refuse
// the match is checked before a write is planned.
func Decide(o Observation) Plan {
	p := Plan{Action: ActionNone, Warning: upnWarning(o.ADUserPrincipalName, o.Domains)}
	current := o.Cloud.OnPremisesImmutableID

	if o.Cloud.Synced() {
		if Joined(o.Cloud, o.Anchor) {
			p.Joined = true
			p.Reason = identityv1alpha1.ReasonSyncJoined
			p.Message = fmt.Sprintf("Entra sync has joined %s with immutableId %s", o.Cloud.UserPrincipalName, o.Anchor)
			return p
		}
		p.Block = &Block{Reason: identityv1alpha1.ReasonSyncedFromOtherAnchor, Message: fmt.Sprintf(
			"cloud user %s is already synced from on-premises with immutableId %q, not %q; the operator never overwrites a synced user: "+
				"check that the UserMatch names the right AD user, or take the user out of sync scope first",
			o.Cloud.UserPrincipalName, current, o.Anchor)}
		return p
	}
	if err := anchor.ValidateImmutableID(o.Anchor); err != nil {
		p.Block = &Block{Reason: identityv1alpha1.ReasonInvalidAnchor, Message: err.Error()}
		return p
	}
	if o.ClaimedBy != "" {
		p.Block = &Block{Reason: identityv1alpha1.ReasonDuplicateClaim, Message: fmt.Sprintf(
			"UserMatch %s already claims this AD or cloud user; delete one of the two", o.ClaimedBy)}
		return p
	}
	if h := otherHolders(o.Holders, o.Cloud.ID); len(h) > 0 {
		p.Block = &Block{Reason: identityv1alpha1.ReasonImmutableIDConflict, Message: fmt.Sprintf(
			"immutableId %s is already used by %s; Entra allows one object per anchor: remove the duplicate (or set spec.duplicates) first",
			o.Anchor, describe(h))}
		return p
	}
	if o.Takeover.Blocked {
		p.Block = &Block{Reason: identityv1alpha1.ReasonHardMatchTakeoverBlocked, Message: fmt.Sprintf(
			"the tenant's blockCloudObjectTakeoverThroughHardMatchEnabled is on, so Entra sync refuses to hard-match the cloud-managed user %s (InvalidHardMatch); "+
				"open a matching window for that flag with a TenantSyncFeatures (spec.matchingWindows, feature blockCloudObjectTakeoverThroughHardMatchEnabled, value false): "+
				"the match goes ahead by itself while the window is open",
			o.Cloud.UserPrincipalName)}
		return p
	}
	if remap(o) {
		p.Block = &Block{Reason: identityv1alpha1.ReasonObjectIdentifierSet, Message: fmt.Sprintf(
			"cloud user %s already carries onPremisesObjectIdentifier %q of another on-premises object (the AD user's objectGUID is %s); "+
				"Entra sync refuses to remap it (AttributeUpdateNotAllowed) while the tenant's allowOnPremUpdateOfOnPremisesObjectIdentifierEnabled is off: "+
				"check that the UserMatch names the right AD user, or follow Microsoft's guidance on changing a user's source anchor",
			o.Cloud.UserPrincipalName, o.Cloud.OnPremisesObjectIdentifier, o.ADObjectGUID)}
		return p
	}
	if len(o.PrivilegedRoles) > 0 {
		roles := append([]string(nil), o.PrivilegedRoles...)
		sort.Strings(roles)
		p.Block = &Block{Reason: identityv1alpha1.ReasonPrivilegedRole, Message: fmt.Sprintf(
			"cloud user %s holds or is eligible for privileged roles (%s); Entra refuses to match such users: "+
				"remove the roles, or set spec.privilegedRoles to RemoveAndRestore",
			o.Cloud.UserPrincipalName, strings.Join(roles, ", "))}
		return p
	}
	if current == o.Anchor {
		p.Reason = identityv1alpha1.ReasonImmutableIDSet
		p.Message = waitingForJoin(o)
		return p
	}
	if o.Mode == Observe {
		p.Reason = identityv1alpha1.ReasonObserveOnly
		p.Message = fmt.Sprintf("Observe mode: would set immutableId of %s from %q to %q", o.Cloud.UserPrincipalName, current, o.Anchor)
		return p
	}
	p.Action = ActionSetImmutableID
	p.Drift = o.PreviouslySet
	if p.Drift {
		p.Reason = identityv1alpha1.ReasonDriftCorrected
		p.Message = fmt.Sprintf("immutableId of %s was changed to %q outside the operator; set back to %s", o.Cloud.UserPrincipalName, current, o.Anchor)
	} else {
		// Worded as the passes after the write will find it, so that the
		// next pass has nothing to change in status (the write itself is
		// told by its Event).
		p.Reason = identityv1alpha1.ReasonImmutableIDSet
		p.Message = waitingForJoin(o)
	}
	return p
}

// waitingForJoin says the anchor is on the cloud user and sync has yet to
// join the two.
func waitingForJoin(o Observation) string {
	return fmt.Sprintf("immutableId %s is set on %s; waiting for Entra sync to join the user", o.Anchor, o.Cloud.UserPrincipalName) + o.Takeover.caveat()
}

// remap reports a cloud user that already names another on-premises object
// in onPremisesObjectIdentifier: Entra's sync refuses to point it at a new
// one unless the tenant's bypass flag is on.
func remap(o Observation) bool {
	id := strings.TrimSpace(o.Cloud.OnPremisesObjectIdentifier)
	if id == "" || o.Takeover.ObjectIdentifierUpdateAllowed {
		return false
	}
	return !strings.EqualFold(id, o.ADObjectGUID) && id != o.Anchor
}

// caveat tells, when the flag could not be read, what may still refuse the
// match.
func (t Takeover) caveat() string {
	if t.Unknown == "" {
		return ""
	}
	return " (the tenant's blockCloudObjectTakeoverThroughHardMatchEnabled could not be read: " + t.Unknown +
		"; if it is on, sync will refuse the match with InvalidHardMatch)"
}

func otherHolders(holders []cloud.User, target string) []cloud.User {
	var out []cloud.User
	for _, h := range holders {
		if h.ID != target {
			out = append(out, h)
		}
	}
	return out
}

func describe(users []cloud.User) string {
	parts := make([]string, 0, len(users))
	for _, u := range users {
		parts = append(parts, fmt.Sprintf("%s (%s)", u.UserPrincipalName, u.ID))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// upnWarning explains why a UPN will not line up with the tenant, which is
// what makes soft matching fail and sign-in names differ (the manual procedure's first step).
func upnWarning(upn string, domains []cloud.Domain) *Warning {
	at := strings.LastIndexByte(upn, '@')
	if at < 0 || len(domains) == 0 {
		return nil
	}
	suffix := strings.ToLower(upn[at+1:])
	switch {
	case strings.HasSuffix(suffix, ".local"):
		return &Warning{Reason: identityv1alpha1.ReasonNonRoutableUPNSuffix, Message: fmt.Sprintf(
			"AD UPN %s ends in .local, which cannot be a verified domain: add a routable UPN suffix in AD and give the user a UPN in a verified domain", upn)}
	case strings.HasSuffix(suffix, ".onmicrosoft.com"):
		return &Warning{Reason: identityv1alpha1.ReasonInitialDomainUPNSuffix, Message: fmt.Sprintf(
			"AD UPN %s uses an onmicrosoft.com domain; use the user's email domain so sign-in and soft matching line up", upn)}
	}
	for _, d := range domains {
		if strings.EqualFold(d.ID, suffix) {
			if d.IsVerified {
				return nil
			}
			break
		}
	}
	return &Warning{Reason: identityv1alpha1.ReasonUPNSuffixNotVerified, Message: fmt.Sprintf(
		"UPN suffix %s of %s is not a verified domain of the tenant: sync will rewrite the UPN to the onmicrosoft.com domain; verify the domain first", suffix, upn)}
}
