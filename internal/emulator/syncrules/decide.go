package syncrules

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
)

// SoftMatchConflictMode says what happens when a soft match finds a cloud object that already
// carries a (different) sourceAnchor, that is when a new object collides with one synced from
// elsewhere. Duplicate attribute resiliency is always on ("Once Duplicate Attribute Resiliency
// has been turned on it cannot be disabled", how-to-connect-syncservice-duplicate-attribute-
// resiliency.md), and with it "you won't see the InvalidSoftMatch synchronization errors seen
// during provisioning of new objects" (tshoot-connect-sync-errors.md, InvalidSoftMatch): the new
// object is provisioned with the colliding values quarantined. The same tshoot page still
// describes InvalidSoftMatch, and an export can also fail with AttributeValueMustBeUnique, so the
// emulator can play each.
type SoftMatchConflictMode string

// Soft-match conflict modes.
const (
	// ConflictQuarantine (default, also the zero value): a new object is provisioned; the
	// colliding values are quarantined.
	ConflictQuarantine SoftMatchConflictMode = ""
	// ConflictInvalidSoftMatch: the export fails with InvalidSoftMatch (a tenant without
	// duplicate attribute resiliency).
	ConflictInvalidSoftMatch SoftMatchConflictMode = "InvalidSoftMatch"
	// ConflictAttributeValueMustBeUnique: the export fails with AttributeValueMustBeUnique.
	ConflictAttributeValueMustBeUnique SoftMatchConflictMode = "AttributeValueMustBeUnique"
)

// ParseSoftMatchConflictMode reads a mode name ("" or "Quarantine", "InvalidSoftMatch",
// "AttributeValueMustBeUnique"; case-insensitive).
func ParseSoftMatchConflictMode(v string) (SoftMatchConflictMode, error) {
	switch strings.ToLower(v) {
	case "", "quarantine":
		return ConflictQuarantine, nil
	case "invalidsoftmatch":
		return ConflictInvalidSoftMatch, nil
	case "attributevaluemustbeunique":
		return ConflictAttributeValueMustBeUnique, nil
	}
	return "", fmt.Errorf("unknown soft match conflict mode %q (want Quarantine, InvalidSoftMatch or AttributeValueMustBeUnique)", v)
}

// Config holds the tenant flags and the emulator's knobs for Decide. The zero value is the
// strictest reading of Microsoft's pages.
type Config struct {
	Features Features
	// LegacyHardMatch turns off the hard match security protections Microsoft enforces in the
	// cloud from 2026-07-01 (target with onPremisesObjectIdentifier set, or assigned or
	// eligible for a privileged role). The zero value plays today's service.
	LegacyHardMatch bool
	// SoftMatchIgnoresEligibility lets a user who is only eligible (PIM) for a directory role
	// be soft-matched. The pages say only "have an admin role"; an eligible user can activate
	// the role at any time, so by default eligibility blocks soft match like an assignment.
	// Eligibility always counts for the hard match protections.
	SoftMatchIgnoresEligibility bool
	SoftMatchConflict           SoftMatchConflictMode
	// QuarantineSuffix returns the 4-digit number of a quarantined UPN (0..9999).
	// nil draws a random one; tests inject a deterministic source.
	QuarantineSuffix func() int
}

// maxSuffixTries bounds the search for a free quarantine UPN.
const maxSuffixTries = 50

// Decide evaluates one export in Microsoft's documented order: hard match on sourceAnchor,
// soft match on the primary SMTP address, soft match on UPN (when softMatchOnUpnEnabled),
// otherwise provisioning of a new object with duplicate attribute resiliency.
//
// Matching is evaluated only for objects new to the cloud; an anchor that already belongs to an
// object synced from on-premises gives Updated.
func Decide(e Export, cfg Config, dir Directory) Decision {
	if d, ok := validate(e); !ok {
		return d
	}
	nick := mailNickname(e)
	upn, upnKept := "", false
	if e.Type == User {
		upn, upnKept = effectiveUPN(e.UserPrincipalName, nick, dir)
		if upn == "" {
			return fail("", CodeIdentityDataValidationFailed, "the user has neither a valid userPrincipalName nor a value to derive a mailNickname from")
		}
	}

	if hits := live(dir.ByImmutableID(e.SourceAnchor), false, func(c CloudObject) bool {
		return c.OnPremisesImmutableID == e.SourceAnchor
	}); len(hits) > 0 {
		return decideHardMatch(e, cfg, dir, hits[0], upn, nick)
	}

	// Non-mail-enabled groups cannot be matched at all (install-existing-tenant, "Other
	// objects than users"); the block flag turns soft matching off for every object. Either
	// way the object is provisioned, and any collision is quarantined.
	softMatchable := !cfg.Features.BlockSoftMatch && (e.Type != Group || e.MailEnabled)
	if softMatchable {
		if addr := primarySMTP(e); addr != "" {
			switch hits := live(dir.ByPrimarySMTP(addr), true, nil); {
			case len(hits) > 1:
				// Mail is not unique, so two objects can answer to one
				// primary SMTP address. No page says which Entra would take;
				// taking any one would be a guess that takes an object over,
				// so none is matched and the new object's colliding values
				// are quarantined (the stricter reading).
				return provision(e, cfg, dir, "", Created, upn, nick)
			case len(hits) == 1:
				return decideSoftMatch(e, cfg, dir, hits[0], SoftMatchSMTP, upn, nick)
			}
		}
		if e.Type == User && cfg.Features.SoftMatchOnUpn && upnKept {
			if c, ok := first(live(dir.ByUPN(upn), true, nil)); ok {
				return decideSoftMatch(e, cfg, dir, c, SoftMatchUPN, upn, nick)
			}
		}
	}
	return provision(e, cfg, dir, "", Created, upn, nick)
}

func decideHardMatch(e Export, cfg Config, dir Directory, c CloudObject, upn, nick string) Decision {
	if c.Type != e.Type {
		return fail(c.ID, CodeObjectTypeMismatch, fmt.Sprintf("the source anchor belongs to a %s, the exported object is a %s", c.Type, e.Type))
	}
	protections := !cfg.LegacyHardMatch && !cfg.Features.AllowOnPremUpdateOfOnPremisesObjectIdentifier
	remap := c.OnPremisesObjectIdentifier != "" && !strings.EqualFold(c.OnPremisesObjectIdentifier, e.ObjectIdentifier)
	privileged := c.PrivilegedRoleAssigned || c.PrivilegedRoleEligible

	// "The target cloud user is soft-deleted and privileged | Hard match blocked | Restore the
	// user if needed, then apply the privileged-role recovery" (how-to-connect-install-existing-
	// tenant.md, hard match scenarios and recovery paths): a restore through the sync is a
	// takeover too, even of an object that was synced before it was deleted.
	if protections && c.Deleted && privileged {
		return fail(c.ID, CodeInvalidHardMatch, MessagePrivilegedTakeover)
	}

	if c.OnPremisesSyncEnabled != nil && *c.OnPremisesSyncEnabled {
		// Ongoing sync of a correctly matched object is not affected by the 2026 protections;
		// a different on-premises object claiming the same anchor (AD user recreated, forest
		// move) is a remap and is refused.
		if protections && remap && e.ObjectIdentifier != "" {
			return fail(c.ID, CodeAttributeUpdateNotAllowed, MessageHardMatchHardening)
		}
		d := provision(e, cfg, dir, c.ID, Updated, upn, nick)
		d.Restore = c.Deleted
		return d
	}

	// Cloud-managed target: never synced (nil) or removed from sync scope (false).
	if cfg.Features.BlockCloudObjectTakeoverThroughHardMatch {
		return fail(c.ID, CodeInvalidHardMatch, MessageTakeoverBlocked)
	}
	// The tenant flag allowOnPremUpdateOfOnPremisesObjectIdentifierEnabled is documented as the
	// temporary bypass of these protections as a whole, so it lifts the role check as well.
	if protections && privileged {
		return fail(c.ID, CodeInvalidHardMatch, MessagePrivilegedTakeover)
	}
	if protections && remap {
		return fail(c.ID, CodeAttributeUpdateNotAllowed, MessageObjectIdentifierSet)
	}
	d := provision(e, cfg, dir, c.ID, HardMatch, upn, nick)
	d.Restore = c.Deleted
	return d
}

func decideSoftMatch(e Export, cfg Config, dir Directory, c CloudObject, how Outcome, upn, nick string) Decision {
	if c.Type != e.Type {
		return fail(c.ID, CodeObjectTypeMismatch, fmt.Sprintf("the %s value matches a %s, the exported object is a %s", softProperty(how), c.Type, e.Type))
	}
	if c.OnPremisesImmutableID != "" || (c.OnPremisesSyncEnabled != nil && *c.OnPremisesSyncEnabled) {
		switch cfg.SoftMatchConflict {
		case ConflictInvalidSoftMatch:
			return fail(c.ID, CodeInvalidSoftMatch, fmt.Sprintf("the object matching on %s already has a different source anchor", softProperty(how)))
		case ConflictAttributeValueMustBeUnique:
			return fail(c.ID, CodeAttributeValueMustBeUnique, fmt.Sprintf("another object already uses this %s value", softProperty(how)))
		default:
			return provision(e, cfg, dir, "", Created, upn, nick)
		}
	}
	if c.Type == User && hasAdminRole(c, !cfg.SoftMatchIgnoresEligibility) {
		// Any admin role, not only a privileged one: "won't match on-premises users with cloud
		// users that have an admin role" (how-to-connect-install-existing-tenant.md, admin
		// role considerations). Entra does not match, and provisions a new object whose
		// colliding values are quarantined: Microsoft's workaround is to remove the roles,
		// hard-delete that "quarantined object", and sync again.
		d := provision(e, cfg, dir, "", Created, upn, nick)
		d.Code = CodeExistingAdminRoleConflict
		d.Message = fmt.Sprintf("Microsoft Entra Connect isn't allowed to soft match a user object from on-premises AD with a user object in Microsoft Entra ID that has an administrative role assigned to it (%s).", c.ID)
		return d
	}
	return provision(e, cfg, dir, c.ID, how, upn, nick)
}

// provision computes the values written to a new object (selfID "") or to the object selfID
// after a match, quarantining UPN and SMTP proxy values that another object already holds.
func provision(e Export, cfg Config, dir Directory, selfID string, how Outcome, upn, nick string) Decision {
	d := Decision{Outcome: how, TargetID: selfID}
	if e.Type == User {
		d.MailNickname = nick
		d.UserPrincipalName = upn
		if taken(dir.ByUPN(upn), selfID) {
			d.UserPrincipalName = quarantineUPN(upn, cfg, dir, selfID)
			d.ProvisioningErrors = append(d.ProvisioningErrors, ProvisioningError{
				Category: CategoryPropertyConflict, PropertyCausingError: PropertyUserPrincipalName, Value: upn})
		}
	}
	seen := map[string]bool{}
	for _, p := range e.ProxyAddresses {
		key := strings.ToLower(p)
		if p == "" || seen[key] {
			continue
		}
		seen[key] = true
		if addr, ok := smtpAddress(p); ok && taken(dir.ByProxyAddress(addr), selfID) {
			d.ProvisioningErrors = append(d.ProvisioningErrors, ProvisioningError{
				Category: CategoryPropertyConflict, PropertyCausingError: PropertyProxyAddresses, Value: p})
			continue
		}
		d.ProxyAddresses = append(d.ProxyAddresses, p)
	}
	d.Quarantined = len(d.ProvisioningErrors) > 0
	return d
}

// quarantineUPN builds <prefix>+<4 digits>@<initial domain>, retrying while the value is taken.
func quarantineUPN(upn string, cfg Config, dir Directory, selfID string) string {
	prefix, _, _ := strings.Cut(upn, "@")
	next := cfg.QuarantineSuffix
	if next == nil {
		next = func() int { return rand.IntN(10000) }
	}
	var cand string
	for range maxSuffixTries {
		n := next() % 10000
		if n < 0 {
			n = -n
		}
		cand = fmt.Sprintf("%s+%04d@%s", prefix, n, dir.InitialDomain())
		if !taken(dir.ByUPN(cand), selfID) {
			break
		}
	}
	return cand
}

func validate(e Export) (Decision, bool) {
	switch e.Type {
	case User, Group, Contact:
	default:
		return fail("", CodeIdentityDataValidationFailed, fmt.Sprintf("unknown object type %q", e.Type)), false
	}
	if strings.TrimSpace(e.SourceAnchor) == "" {
		return fail("", CodeIdentityDataValidationFailed, "the exported object has no sourceAnchor"), false
	}
	return Decision{}, true
}

// effectiveUPN returns the UPN Entra stores and whether it is the on-premises value. A
// non-verified suffix or an invalid value is replaced by <MailNickName>@<initial domain>
// (plan-connect-userprincipalname.md), which is why UPN soft match cannot happen then.
func effectiveUPN(onPrem, nick string, dir Directory) (string, bool) {
	if prefix, suffix, ok := splitUPN(onPrem); ok && prefix != "" && dir.VerifiedDomain(suffix) {
		return onPrem, true
	}
	if nick == "" {
		return "", false
	}
	return nick + "@" + dir.InitialDomain(), false
}

func splitUPN(upn string) (prefix, suffix string, ok bool) {
	if upn == "" || strings.ContainsAny(upn, " \t\r\n") || strings.Count(upn, "@") != 1 {
		return "", "", false
	}
	prefix, suffix, _ = strings.Cut(upn, "@")
	return prefix, suffix, prefix != "" && suffix != ""
}

// mailNickname follows Entra's order for a first sync: on-premises mailNickName, prefix of the
// primary SMTP address, of mail, of the UPN, of a secondary smtp address.
func mailNickname(e Export) string {
	if e.MailNickname != "" {
		return e.MailNickname
	}
	var primary, secondary string
	for _, p := range e.ProxyAddresses {
		addr, ok := smtpAddress(p)
		if !ok {
			continue
		}
		if strings.HasPrefix(p, "SMTP:") && primary == "" {
			primary = addr
		} else if secondary == "" {
			secondary = addr
		}
	}
	for _, v := range []string{primary, e.Mail, e.UserPrincipalName, secondary} {
		if prefix, _, _ := strings.Cut(v, "@"); prefix != "" {
			return prefix
		}
	}
	return ""
}

// primarySMTP is the address of the "SMTP:" (upper-case) proxy address; only that value takes
// part in soft matching. Without proxy addresses, Entra derives the primary from mail.
func primarySMTP(e Export) string {
	for _, p := range e.ProxyAddresses {
		if strings.HasPrefix(p, "SMTP:") {
			return p[len("SMTP:"):]
		}
	}
	if len(e.ProxyAddresses) == 0 {
		return e.Mail
	}
	return ""
}

func smtpAddress(p string) (string, bool) {
	if len(p) > 5 && strings.EqualFold(p[:5], "smtp:") {
		return p[5:], true
	}
	return "", false
}

// live keeps the objects that pass keep, dropping soft-deleted ones when dropDeleted is set,
// sorted by ID so that an inconsistent store still gives a stable answer.
func live(objs []CloudObject, dropDeleted bool, keep func(CloudObject) bool) []CloudObject {
	var out []CloudObject
	for _, o := range objs {
		if (dropDeleted && o.Deleted) || (keep != nil && !keep(o)) {
			continue
		}
		out = append(out, o)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Deleted != out[j].Deleted {
			return !out[i].Deleted // prefer a live object
		}
		return out[i].ID < out[j].ID
	})
	return out
}

func first(objs []CloudObject) (CloudObject, bool) {
	if len(objs) == 0 {
		return CloudObject{}, false
	}
	return objs[0], true
}

// taken reports whether a live object other than selfID holds the value.
func taken(objs []CloudObject, selfID string) bool {
	for _, o := range objs {
		if !o.Deleted && (selfID == "" || o.ID != selfID) {
			return true
		}
	}
	return false
}

// hasAdminRole reports whether c holds a directory role: assigned, or also eligible when
// eligible is set. A privileged role is an admin role too.
func hasAdminRole(c CloudObject, eligible bool) bool {
	if c.AdminRoleAssigned || c.PrivilegedRoleAssigned {
		return true
	}
	return eligible && (c.AdminRoleEligible || c.PrivilegedRoleEligible)
}

func softProperty(how Outcome) string {
	if how == SoftMatchUPN {
		return "userPrincipalName"
	}
	return "primary SMTP address"
}

// fail is an export error; target is the object in conflict, if any.
func fail(target, code, msg string) Decision {
	return Decision{Outcome: Error, TargetID: target, Code: code, Message: msg}
}
