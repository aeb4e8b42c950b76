// Package pairing finds each AD user's cloud user by rules a person writes
// once (same UPN, a UPN suffix rewrite, the same mail), and decides what a
// UserMatchSet does with the pair: nothing when sync will soft-match it by
// itself or has joined it, a UserMatch when it needs a hard match, and a
// report when the pairing is ambiguous. Pure, table-tested; the what-will-
// sync-do question is internal/syncplan's.
package pairing

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/entramatch/entra-match-operator/internal/syncplan"
)

// Rule is one pairing rule; exactly one field is set.
type Rule struct {
	SameUPN bool
	// SuffixFrom and SuffixTo rewrite the AD UPN's suffix.
	SuffixFrom, SuffixTo string
	Mail                 bool
	// Explicit maps an AD user (objectGUID, DN or UPN, lower-case) to its
	// cloud user (object ID or UPN, lower-case), as a person listed them.
	Explicit map[string]string
	// ADAttribute names an AD attribute (in ADUser.Attributes) whose value
	// must equal the cloud user's CloudAttribute (in Decide's cloudAttrs).
	ADAttribute, CloudAttribute string
}

// ADUser is an AD user in scope.
type ADUser struct {
	DN             string
	GUID           string
	UPN            string
	Mail           string
	ProxyAddresses []string
	// Anchor is the source anchor sync will export.
	Anchor string
	// Attributes are the AD attributes attribute rules read.
	Attributes map[string]string
}

// Outcome is what the set does with an AD user.
type Outcome string

// The outcomes.
const (
	WillSoftMatch  Outcome = "WillSoftMatch"
	Joined         Outcome = "Joined"
	NeedsUserMatch Outcome = "NeedsUserMatch"
	Ambiguous      Outcome = "Ambiguous"
	Unpaired       Outcome = "Unpaired"
)

// Pair is the decision for one AD user.
type Pair struct {
	AD      ADUser
	Cloud   *syncplan.CloudObject
	Outcome Outcome
	Message string
}

// Decide pairs every AD user and decides what to do with it. Users are
// taken in DN order; a cloud user that several AD users pair with makes
// all of them Ambiguous.
// cloudAttrs gives, per cloud user ID, the properties attribute rules
// read.
func Decide(users []ADUser, tenant syncplan.Tenant, rules []Rule, cloudAttrs map[string]map[string]string) []Pair {
	// The order is sorted, not the users: no copy of them, and each DN is
	// lowered once rather than at every comparison.
	order, dns := make([]int, len(users)), make([]string, len(users))
	for i := range users {
		order[i], dns[i] = i, strings.ToLower(users[i].DN)
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Or(cmp.Compare(dns[a], dns[b]), cmp.Compare(a, b)) })
	byUPN, byMail := map[string][]*syncplan.CloudObject{}, map[string][]*syncplan.CloudObject{}
	// byAttr indexes the cloud users by "property=value" (lower-case).
	byAttr := map[string][]*syncplan.CloudObject{}
	byID := map[string]*syncplan.CloudObject{}
	for i := range tenant.Objects {
		o := &tenant.Objects[i]
		if o.Kind != syncplan.User || o.Deleted {
			continue
		}
		byUPN[low(o.UserPrincipalName)] = append(byUPN[low(o.UserPrincipalName)], o)
		byID[low(o.ID)] = o
		if p := syncplan.CloudPrimarySMTP(o.ProxyAddresses, o.Mail); p != "" {
			byMail[p] = append(byMail[p], o)
		}
		for prop, v := range cloudAttrs[o.ID] {
			if v != "" {
				k := low(prop) + "=" + low(v)
				byAttr[k] = append(byAttr[k], o)
			}
		}
	}
	pairs := make([]Pair, 0, len(users))
	claims := map[string][]int{}
	for _, i := range order {
		u := &users[i]
		p := Pair{AD: *u}
		for _, r := range rules {
			cands := candidates(u, r, byUPN, byMail, byAttr)
			if r.Explicit != nil {
				cands = explicit(u, r.Explicit, byID, byUPN)
			}
			if len(cands) > 1 {
				p.Outcome, p.Message = Ambiguous, fmt.Sprintf("%d cloud users pair with it (%s): the set never guesses", len(cands), upns(cands))
				break
			}
			if len(cands) == 1 {
				p.Cloud = cands[0]
				break
			}
		}
		if p.Cloud != nil {
			claims[low(p.Cloud.ID)] = append(claims[low(p.Cloud.ID)], len(pairs))
		}
		pairs = append(pairs, p)
	}
	for _, idx := range claims {
		if len(idx) < 2 {
			continue
		}
		var claimDNs []string
		for _, i := range idx {
			claimDNs = append(claimDNs, pairs[i].AD.DN)
		}
		for _, i := range idx {
			pairs[i].Outcome = Ambiguous
			pairs[i].Message = fmt.Sprintf("cloud user %s pairs with %d AD users (%s): the set never guesses", pairs[i].Cloud.UserPrincipalName, len(idx), strings.Join(claimDNs, "; "))
		}
	}

	// What sync will do with each paired user, as things stand.
	exports := make([]syncplan.Export, 0, len(pairs))
	for _, p := range pairs {
		exports = append(exports, syncplan.Export{Kind: syncplan.User, Anchor: p.AD.Anchor, UserPrincipalName: p.AD.UPN, Mail: p.AD.Mail,
			ProxyAddresses: p.AD.ProxyAddresses, ObjectIdentifier: p.AD.GUID})
	}
	preds := syncplan.Predict(tenant, exports)
	for i := range pairs {
		p, pred := &pairs[i], preds[i]
		if p.Outcome == Ambiguous {
			continue
		}
		switch {
		case p.Cloud == nil:
			p.Outcome, p.Message = Unpaired, "no cloud user pairs with it: sync will create one"
		case pred.CloudID == p.Cloud.ID && (pred.Outcome == syncplan.Updated || p.Cloud.SyncEnabled != nil && *p.Cloud.SyncEnabled):
			p.Outcome, p.Message = Joined, "sync has joined it to "+p.Cloud.UserPrincipalName
		case pred.CloudID == p.Cloud.ID && (pred.Outcome == syncplan.SoftMatchSMTP || pred.Outcome == syncplan.SoftMatchUPN):
			p.Outcome, p.Message = WillSoftMatch, fmt.Sprintf("sync will match it to %s by itself (%s)", p.Cloud.UserPrincipalName, pred.Outcome)
		case pred.CloudID == p.Cloud.ID && pred.Outcome == syncplan.HardMatch:
			p.Outcome, p.Message = NeedsUserMatch, "its anchor is already on "+p.Cloud.UserPrincipalName+": a UserMatch keeps it there and watches the join"
		case pred.CloudID != "" && pred.CloudID != p.Cloud.ID && pred.Outcome != syncplan.Refused:
			p.Outcome, p.Message = NeedsUserMatch, fmt.Sprintf("sync would match it to another cloud user (%s, %s) by itself: a UserMatch hard-matches it to %s",
				pred.CloudID, pred.Outcome, p.Cloud.UserPrincipalName)
		default:
			why := string(pred.Outcome)
			if pred.Code != "" {
				why += " (" + pred.Code + ")"
			}
			p.Outcome, p.Message = NeedsUserMatch, fmt.Sprintf("sync would not match it to %s by itself (it predicts %s): a UserMatch hard-matches them", p.Cloud.UserPrincipalName, why)
		}
	}
	return pairs
}

func candidates(u *ADUser, r Rule, byUPN, byMail, byAttr map[string][]*syncplan.CloudObject) []*syncplan.CloudObject {
	switch {
	case r.ADAttribute != "":
		v := ""
		for k, val := range u.Attributes {
			if strings.EqualFold(k, r.ADAttribute) {
				v = val
			}
		}
		if low(v) == "" {
			return nil
		}
		return byAttr[low(r.CloudAttribute)+"="+low(v)]
	case r.SameUPN:
		return byUPN[low(u.UPN)]
	case r.SuffixFrom != "":
		local, suffix, ok := strings.Cut(u.UPN, "@")
		if !ok || !strings.EqualFold(suffix, r.SuffixFrom) {
			return nil
		}
		return byUPN[low(local+"@"+r.SuffixTo)]
	case r.Mail:
		seen := map[string]bool{}
		var out []*syncplan.CloudObject
		for _, a := range []string{low(u.Mail), syncplan.ExportPrimarySMTP(u.ProxyAddresses, "")} {
			for _, c := range byMail[a] {
				if a != "" && !seen[c.ID] {
					seen[c.ID] = true
					out = append(out, c)
				}
			}
		}
		return out
	}
	return nil
}

// explicit finds the cloud user a person listed for u.
func explicit(u *ADUser, pairs map[string]string, byID map[string]*syncplan.CloudObject, byUPN map[string][]*syncplan.CloudObject) []*syncplan.CloudObject {
	for _, k := range []string{low(u.GUID), low(u.DN), low(u.UPN)} {
		c, ok := pairs[k]
		if k == "" || !ok {
			continue
		}
		if o := byID[c]; o != nil {
			return []*syncplan.CloudObject{o}
		}
		return byUPN[c]
	}
	return nil
}

func upns(cs []*syncplan.CloudObject) string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.UserPrincipalName)
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

func low(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
