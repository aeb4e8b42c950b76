package syncrules

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
)

// SoftMatchConflictMode says what happens when a soft match finds a cloud object that already
// carries a (different) sourceAnchor. Microsoft's pages disagree, so the emulator can play each:
// tshoot-connect-sync-errors.md names InvalidSoftMatch but adds that tenants with duplicate
// attribute resiliency do not see it for new objects (the object is provisioned with the
// colliding values quarantined); the 2026 how-to-connect-install-existing-tenant.md says the
// provisioning attempt fails with AttributeValueMustBeUnique.
type SoftMatchConflictMode string

// Soft-match conflict modes.
const (
	// ConflictInvalidSoftMatch (default): the export fails with InvalidSoftMatch.
	ConflictInvalidSoftMatch SoftMatchConflictMode = ""
	// ConflictQuarantine: a new object is provisioned; colliding values are quarantined.
	ConflictQuarantine SoftMatchConflictMode = "Quarantine"
	// ConflictAttributeValueMustBeUnique: the export fails with AttributeValueMustBeUnique.
	ConflictAttributeValueMustBeUnique SoftMatchConflictMode = "AttributeValueMustBeUnique"
)

// Config holds the tenant flags and the emulator's knobs for Decide.
type Config struct {
	Features Features
	// LegacyHardMatch turns off the hard match security protections Microsoft enforces in the
	// cloud from 2026-07-01 (target with onPremisesObjectIdentifier set, or assigned or
	// eligible for a privileged role). The zero value plays today's service.
	LegacyHardMatch bool
	// EligibleBlocksSoftMatch makes PIM eligibility count for the soft-match admin-role
	// protection. The docs only say "has an admin role" there, so the default is assignments
	// only; eligibility always counts for the hard match protections.
	EligibleBlocksSoftMatch bool
	SoftMatchConflict       SoftMatchConflictMode
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
			if c, ok := first(live(dir.ByPrimarySMTP(addr), true, nil)); ok {
				return decideSoftMatch(e, cfg, dir, c, SoftMatchSMTP, upn, nick)
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

	if c.OnPremisesSyncEnabled != nil && *c.OnPremisesSyncEnabled {
		// Ongoing sync of a correctly matched object is not affected by the 2026 protections;
		// a different on-premises object claiming the same anchor (AD user recreated, forest
		// move) is a remap and is refused.
		if protections && remap && e.ObjectIdentifier != "" {
			return fail(c.ID, CodeAttributeUpdateNotAllowed, "onPremisesObjectIdentifier is already set on the target object and cannot be changed by synchronization")
		}
		d := provision(e, cfg, dir, c.ID, Updated, upn, nick)
		d.Restore = c.Deleted
		return d
	}

	// Cloud-managed target: never synced (nil) or removed from sync scope (false).
	if cfg.Features.BlockCloudObjectTakeoverThroughHardMatch {
		return fail(c.ID, CodeInvalidHardMatch, "Another cloud created object with the same source anchor already exists in Azure Active Directory.")
	}
	// The tenant flag allowOnPremUpdateOfOnPremisesObjectIdentifierEnabled is documented as the
	// temporary bypass of these protections as a whole, so it lifts the role check as well.
	if protections && (c.PrivilegedRoleAssigned || c.PrivilegedRoleEligible) {
		return fail(c.ID, CodeInvalidHardMatch, "hard match is blocked: the target cloud object is assigned or eligible for a privileged role")
	}
	if protections && remap {
		return fail(c.ID, CodeAttributeUpdateNotAllowed, "hard match is blocked: onPremisesObjectIdentifier is already set on the target cloud object")
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
		case ConflictQuarantine:
			return provision(e, cfg, dir, "", Created, upn, nick)
		case ConflictAttributeValueMustBeUnique:
			return fail(c.ID, CodeAttributeValueMustBeUnique, fmt.Sprintf("another object already uses this %s value", softProperty(how)))
		default:
			return fail(c.ID, CodeInvalidSoftMatch, fmt.Sprintf("the object matching on %s already has a different source anchor", softProperty(how)))
		}
	}
	if c.Type == User && (c.PrivilegedRoleAssigned || (cfg.EligibleBlocksSoftMatch && c.PrivilegedRoleEligible)) {
		// Entra does not match, and provisions a new object whose colliding values are
		// quarantined: Microsoft's workaround is to hard-delete that "quarantined object",
		// remove the roles, and sync again.
		d := provision(e, cfg, dir, "", Created, upn, nick)
		d.Code = CodeExistingAdminRoleConflict
		d.Message = fmt.Sprintf("the cloud user %s holds an administrative role and cannot be soft-matched", c.ID)
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
