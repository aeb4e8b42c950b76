package syncplan

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// Attribute checks in the spirit of IdFix: values Entra refuses or that
// collide, found before the sync quarantines them. Pages: "Prepare
// directory attributes for synchronization" (prepare-directory-attributes-
// for-sync-with-microsoft-365-or-azure, the character and length table),
// how-to-connect-syncservice-duplicate-attribute-resiliency (uniqueness of
// userPrincipalName and proxyAddresses), plan-connect-userprincipalname
// (routable, verified suffixes).

// Rule names one check.
type Rule string

// The rules.
const (
	RuleDuplicateUPN          Rule = "DuplicateUserPrincipalName"
	RuleDuplicateProxyAddress Rule = "DuplicateProxyAddress"
	RuleDuplicateMailNickname Rule = "DuplicateMailNickname"
	RuleUPNInvalid            Rule = "UserPrincipalNameInvalid"
	RuleUPNTooLong            Rule = "UserPrincipalNameTooLong"
	RuleUPNNotRoutable        Rule = "UPNSuffixNotRoutable"
	RuleUPNNotVerified        Rule = "UPNSuffixNotVerified"
	RuleMailNicknameInvalid   Rule = "MailNicknameInvalid"
	RuleProxyAddressInvalid   Rule = "ProxyAddressInvalid"
	RuleNoPrimarySMTP         Rule = "NoPrimarySMTP"
)

// Problem is one broken rule on one export.
type Problem struct {
	// Index is the export's position in the list checked.
	Index   int
	Rule    Rule
	Message string
}

// Entra's limits (prepare-directory-attributes-for-sync): the UPN's
// prefix at most 64 characters and the whole at most 113; mailNickname at
// most 64; a proxy address at most 256.
const (
	maxUPN          = 113
	maxUPNPrefix    = 64
	maxMailNickname = 64
	maxProxyAddress = 256
)

// upnForbidden are characters a UPN may not contain (the page's table:
// letters, digits and ' . - _ ! # ^ ~ are allowed around one @).
const upnForbidden = " \\\"%&*+/:;<=>?[]`{|}(),"

// mailNicknameForbidden: the same table for mailNickname (no spaces, no @).
const mailNicknameForbidden = " \\\"%&*+/:;<=>?[]`{|}(),@"

var nonRoutable = []string{".local", ".lan", ".internal", ".corp", ".localdomain", ".home", ".intranet", ".private"}

// Check runs every rule over the exports. Duplicates are looked for among
// the exports; a value that collides with the tenant is not a problem by
// itself (it is how soft matching finds its object), and when it does not
// lead to a match Predict reports it as quarantined.
func Check(t Tenant, exports []Export) []Problem {
	var out []Problem
	add := func(i int, r Rule, format string, args ...any) {
		out = append(out, Problem{Index: i, Rule: r, Message: fmt.Sprintf(format, args...)})
	}
	verified := map[string]bool{}
	for _, d := range t.VerifiedDomains {
		verified[lower(d)] = true
	}
	upns, addrs, nicks := map[string][]int{}, map[string][]int{}, map[string][]int{}
	for i, e := range exports {
		if e.Kind == User {
			checkUPN(i, e, verified, add)
			upns[lower(e.UserPrincipalName)] = append(upns[lower(e.UserPrincipalName)], i)
		}
		if e.MailNickname != "" {
			if strings.ContainsAny(e.MailNickname, mailNicknameForbidden) || utf8.RuneCountInString(e.MailNickname) > maxMailNickname {
				add(i, RuleMailNicknameInvalid, "mailNickname %q has a character Entra refuses or is longer than %d", e.MailNickname, maxMailNickname)
			}
			nicks[lower(e.MailNickname)] = append(nicks[lower(e.MailNickname)], i)
		}
		smtp, primaries := 0, 0
		for _, a := range e.ProxyAddresses {
			v, ok := smtpAddress(a)
			switch {
			case strings.TrimSpace(a) != a || utf8.RuneCountInString(a) > maxProxyAddress:
				add(i, RuleProxyAddressInvalid, "proxy address %q has surrounding spaces or is longer than %d", a, maxProxyAddress)
			case ok && (strings.Count(v, "@") != 1 || strings.ContainsAny(v, " ,;<>")):
				add(i, RuleProxyAddressInvalid, "proxy address %q is not an e-mail address", a)
			case ok:
				smtp++
				if strings.HasPrefix(a, "SMTP:") {
					primaries++
				}
				addrs[v] = append(addrs[v], i)
			}
		}
		if smtp > 0 && primaries != 1 {
			add(i, RuleNoPrimarySMTP, "%d SMTP: (primary) addresses among %d smtp addresses: exactly one is needed, or nothing can match on it", primaries, smtp)
		}
	}
	dup := func(m map[string][]int, r Rule, what string) {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if k == "" {
				continue
			}
			idx := m[k]
			if len(idx) > 1 {
				for _, i := range idx {
					add(i, r, "%s %s is also on %d other objects in scope", what, k, len(idx)-1)
				}
			}
		}
	}
	dup(upns, RuleDuplicateUPN, "userPrincipalName")
	dup(addrs, RuleDuplicateProxyAddress, "address")
	dup(nicks, RuleDuplicateMailNickname, "mailNickname")
	return out
}

func checkUPN(i int, e Export, verified map[string]bool, add func(int, Rule, string, ...any)) {
	u := e.UserPrincipalName
	prefix, suffix, ok := strings.Cut(u, "@")
	switch {
	case u == "" || !ok || prefix == "" || suffix == "" || strings.Contains(suffix, "@"):
		add(i, RuleUPNInvalid, "userPrincipalName %q is not name@suffix", u)
		return
	case strings.ContainsAny(u, upnForbidden) || strings.HasPrefix(prefix, ".") || strings.HasSuffix(prefix, ".") || strings.Contains(prefix, ".."):
		add(i, RuleUPNInvalid, "userPrincipalName %q has a character Entra refuses (or a dot at the start or end of the name)", u)
	case utf8.RuneCountInString(u) > maxUPN || utf8.RuneCountInString(prefix) > maxUPNPrefix:
		add(i, RuleUPNTooLong, "userPrincipalName %q is longer than %d characters (or its name part than %d)", u, maxUPN, maxUPNPrefix)
	}
	s := lower(suffix)
	for _, n := range nonRoutable {
		if strings.HasSuffix(s, n) || !strings.Contains(s, ".") {
			add(i, RuleUPNNotRoutable, "the UPN suffix %s is not routable on the Internet: sync gives the user its onmicrosoft.com name", suffix)
			return
		}
	}
	if !verified[s] {
		add(i, RuleUPNNotVerified, "the UPN suffix %s is not a verified domain of the tenant: sync gives the user its onmicrosoft.com name", suffix)
	}
}
