package match

import (
	"sort"
	"strings"

	"github.com/entramatch/entra-match-operator/internal/cloud"
)

// A sync that ran before the hard match leaves objects in the way: a synced
// object carrying our anchor (created, with a quarantined UPN, when the
// match was refused) and soft-deleted or quarantined objects in deleted
// items. They keep the anchor taken, so the match cannot happen until they
// are gone. Only objects that carry our anchor, or the target's UPN, ever
// count: nothing else is touched, whatever the policy.

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
}

// DuplicatePlan lists what was found and what to do.
type DuplicatePlan struct {
	Found  []Duplicate
	Delete []string // ids to soft-delete
	Purge  []string // ids to delete permanently from deleted items
}

// isSyncedDuplicate: a synced object carrying our anchor that is not the target.
func isSyncedDuplicate(h, target cloud.User, anchor string) bool {
	return h.ID != target.ID && h.OnPremisesImmutableID == anchor && h.Synced()
}

// NeedsDeletedItems says whether deleted items (a tenant-wide read) matter:
// only when sync has already left a duplicate behind, or when the policy purges.
func NeedsDeletedItems(policy DuplicatesPolicy, anchor string, target cloud.User, holders []cloud.User) bool {
	if policy == DuplicatesPurge {
		return true
	}
	for _, h := range holders {
		if isSyncedDuplicate(h, target, anchor) {
			return true
		}
	}
	return false
}

// DecideDuplicates finds the duplicates of the target among the users
// carrying the anchor and the deleted users, and applies the policy.
func DecideDuplicates(policy DuplicatesPolicy, enforce bool, anchor string, target cloud.User, holders []cloud.User, deleted []cloud.DeletedUser) DuplicatePlan {
	var p DuplicatePlan
	act := func(destructive bool, what string) string {
		if enforce && destructive {
			return what
		}
		return "Reported"
	}
	for _, h := range holders {
		if !isSyncedDuplicate(h, target, anchor) {
			continue
		}
		a := act(policy == DuplicatesDelete || policy == DuplicatesPurge, "Deleted")
		p.Found = append(p.Found, Duplicate{ID: h.ID, UserPrincipalName: h.UserPrincipalName, Action: a})
		if a == "Deleted" {
			p.Delete = append(p.Delete, h.ID)
		}
	}
	for _, d := range deleted {
		carries := anchor != "" && d.OnPremisesImmutableID == anchor
		sameUPN := target.UserPrincipalName != "" && strings.EqualFold(d.UserPrincipalName, target.UserPrincipalName)
		if d.ID == target.ID || (!carries && !sameUPN) {
			continue
		}
		a := act(policy == DuplicatesPurge, "Purged")
		p.Found = append(p.Found, Duplicate{ID: d.ID, UserPrincipalName: d.UserPrincipalName, Deleted: true, Action: a})
		if a == "Purged" {
			p.Purge = append(p.Purge, d.ID)
		}
	}
	sort.Slice(p.Found, func(i, j int) bool { return p.Found[i].ID < p.Found[j].ID })
	return p
}
