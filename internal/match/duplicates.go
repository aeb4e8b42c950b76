package match

import (
	"fmt"
	"sort"
	"strings"

	"github.com/entramatch/entra-match-operator/internal/cloud"
)

// A sync that ran before the hard match leaves objects in the way: when
// Entra refused to match the AD user with the cloud user (an admin role, a
// foreign immutableId), it provisioned a new synced object for the AD user
// instead, with its colliding UPN or addresses quarantined (duplicate
// attribute resiliency, how-to-connect-syncservice-duplicate-attribute-
// resiliency). That object carries our anchor, so the match cannot happen
// until it is gone: Microsoft's workaround hard-deletes "the quarantined
// object" (how-to-connect-install-existing-tenant).
//
// Deleting is irreversible enough that an object counts as such a duplicate
// only on proof: it carries our anchor, it is synced, it recorded a
// quarantined value that collides with the target (the reason sync created
// it instead of matching), and no UserMatch claims it. Anything else that
// carries the anchor is reported for a person to look at, never touched.
// And nothing is deleted unless the match itself would go ahead once the
// duplicates are gone.

// DuplicatesPolicy says what to do with such objects.
type DuplicatesPolicy string

const (
	DuplicatesReport DuplicatesPolicy = "Report"
	DuplicatesDelete DuplicatesPolicy = "Delete"
	DuplicatesPurge  DuplicatesPolicy = "Purge"
)

// Duplicate is one object in the way.
type Duplicate struct {
	ID                string
	UserPrincipalName string
	Deleted           bool // in deleted items
	// Action is "Reported", "Deleted" or "Purged": what the plan does to it.
	Action string
	// Proven: shown to be a sync-created duplicate of this AD user.
	Proven bool
}

// DuplicateInput is what the duplicates decision reads.
type DuplicateInput struct {
	Policy  DuplicatesPolicy
	Enforce bool
	Anchor  string
	Target  cloud.User
	// Holders are the active users carrying Anchor.
	Holders []cloud.User
	// Deleted are the soft-deleted users (nil when not read).
	Deleted []cloud.DeletedUser
	// Claimed are the cloud object ids that other UserMatches claim.
	Claimed map[string]bool
	// Match is the match decision with the proven duplicates taken out of
	// the holders: cleanup happens only when it allows the match.
	Match Plan
}

// DuplicatePlan lists what was found and what to do.
type DuplicatePlan struct {
	Found  []Duplicate
	Delete []string // ids to soft-delete
	Purge  []string // ids to delete permanently from deleted items
	// Held says why duplicates the policy would remove are left alone.
	Held string
}

// Proven reports whether u, active or soft-deleted, is a duplicate sync
// created for the AD user with anchor because target was in the way.
func Proven(u, target cloud.User, anchor string, claimed map[string]bool) bool {
	if anchor == "" || u.ID == target.ID || u.OnPremisesImmutableID != anchor || !u.Synced() || claimed[strings.ToLower(u.ID)] {
		return false
	}
	for _, e := range u.ProvisioningErrors {
		if collides(e.Value, target) {
			return true
		}
	}
	return false
}

// collides says whether a quarantined value (a UPN, or a proxy address
// with or without its prefix) is one the target holds.
func collides(value string, target cloud.User) bool {
	v := strings.ToLower(strings.TrimSpace(value))
	if i := strings.IndexByte(v, ':'); i >= 0 && !strings.Contains(v[:i], "@") {
		v = v[i+1:]
	}
	if v == "" {
		return false
	}
	if v == strings.ToLower(target.UserPrincipalName) || v == strings.ToLower(target.Mail) {
		return true
	}
	for _, p := range target.ProxyAddresses {
		pv := strings.ToLower(p)
		if i := strings.IndexByte(pv, ':'); i >= 0 {
			pv = pv[i+1:]
		}
		if pv == v {
			return true
		}
	}
	return false
}

// NeedsDeletedItems says whether deleted items (a tenant-wide read) matter:
// only when sync has already left a duplicate behind, or when the policy purges.
func NeedsDeletedItems(policy DuplicatesPolicy, anchor string, target cloud.User, holders []cloud.User) bool {
	if policy == DuplicatesPurge {
		return true
	}
	for _, h := range holders {
		if h.ID != target.ID && h.OnPremisesImmutableID == anchor && h.Synced() {
			return true
		}
	}
	return false
}

// WithoutProven returns the holders that are not proven duplicates: what
// stands in the way of the match once the duplicates are cleaned up.
func WithoutProven(holders []cloud.User, target cloud.User, anchor string, claimed map[string]bool) []cloud.User {
	var out []cloud.User
	for _, h := range holders {
		if !Proven(h, target, anchor, claimed) {
			out = append(out, h)
		}
	}
	return out
}

// DecideDuplicates finds what carries the anchor besides the target and
// applies the policy to the proven duplicates, if the match goes ahead.
func DecideDuplicates(in DuplicateInput) DuplicatePlan {
	var p DuplicatePlan
	destructive := in.Policy == DuplicatesDelete || in.Policy == DuplicatesPurge
	switch {
	case !destructive:
	case !in.Enforce:
		p.Held = "Observe mode"
	case in.Match.Block != nil:
		p.Held = "the match is blocked (" + in.Match.Block.Reason + "): " + in.Match.Block.Message
	case in.Match.Joined:
		p.Held = "sync has already joined the user"
	}
	act := func(ok bool, what string) string {
		if ok && destructive && p.Held == "" {
			return what
		}
		return "Reported"
	}
	for _, h := range in.Holders {
		if h.ID == in.Target.ID || !h.Synced() {
			// A cloud-managed holder was not created by sync: a conflict
			// for a person (the match decision reports it), not a duplicate.
			continue
		}
		proven := Proven(h, in.Target, in.Anchor, in.Claimed)
		a := act(proven, "Deleted")
		p.Found = append(p.Found, Duplicate{ID: h.ID, UserPrincipalName: h.UserPrincipalName, Action: a, Proven: proven})
		if a == "Deleted" {
			p.Delete = append(p.Delete, h.ID)
		}
	}
	for _, d := range in.Deleted {
		if d.ID == in.Target.ID || in.Anchor == "" || d.OnPremisesImmutableID != in.Anchor {
			continue
		}
		proven := Proven(d.User, in.Target, in.Anchor, in.Claimed)
		a := act(proven && in.Policy == DuplicatesPurge, "Purged")
		p.Found = append(p.Found, Duplicate{ID: d.ID, UserPrincipalName: d.UserPrincipalName, Deleted: true, Action: a, Proven: proven})
		if a == "Purged" {
			p.Purge = append(p.Purge, d.ID)
		}
	}
	sort.Slice(p.Found, func(i, j int) bool { return p.Found[i].ID < p.Found[j].ID })
	if p.Held == "" && destructive {
		for _, d := range p.Found {
			if !d.Proven {
				p.Held = fmt.Sprintf("%s (%s) carries the anchor but is not proven to be a duplicate sync created for this user "+
					"(synced, with a quarantined value of %s, claimed by no UserMatch), so it is left for a person to look at",
					d.UserPrincipalName, d.ID, in.Target.UserPrincipalName)
				break
			}
		}
	}
	return p
}
