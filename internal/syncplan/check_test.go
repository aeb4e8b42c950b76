package syncplan

import (
	"reflect"
	"sort"
	"testing"
)

func TestCheck(t *testing.T) {
	tn := Tenant{VerifiedDomains: []string{"contoso.com"}, InitialDomain: "contoso.onmicrosoft.com"}
	exports := []Export{
		/* 0 */ {Kind: User, UserPrincipalName: "jane@contoso.com", ProxyAddresses: []string{"SMTP:jane@contoso.com"}},
		/* 1 */ {Kind: User, UserPrincipalName: "Jane@contoso.com", ProxyAddresses: []string{"smtp:jane@contoso.com", "SMTP:j2@contoso.com"}},
		/* 2 */ {Kind: User, UserPrincipalName: "bob@corp.local"},
		/* 3 */ {Kind: User, UserPrincipalName: "carl@fabrikam.com"},
		/* 4 */ {Kind: User, UserPrincipalName: "no-at-sign"},
		/* 5 */ {Kind: User, UserPrincipalName: "d a n@contoso.com", MailNickname: "d a n"},
		/* 6 */ {Kind: Contact, ProxyAddresses: []string{"smtp:only@contoso.com"}},
		/* 7 */ {Kind: Group, MailNickname: "sales", MailEnabled: true, ProxyAddresses: []string{"SMTP:sales@contoso.com", "SMTP:s2@contoso.com"}},
		/* 8 */ {Kind: Group, MailNickname: "Sales"},
		/* 9 */ {Kind: User, UserPrincipalName: "x@contoso.com", ProxyAddresses: []string{"SMTP:not an address"}},
	}
	got := map[int][]Rule{}
	for _, p := range Check(tn, exports) {
		got[p.Index] = append(got[p.Index], p.Rule)
		if p.Message == "" {
			t.Errorf("problem without a message: %+v", p)
		}
	}
	for _, rs := range got {
		sort.Slice(rs, func(i, j int) bool { return rs[i] < rs[j] })
	}
	want := map[int][]Rule{
		0: {RuleDuplicateProxyAddress, RuleDuplicateUPN},
		1: {RuleDuplicateProxyAddress, RuleDuplicateUPN},
		2: {RuleUPNNotRoutable},
		3: {RuleUPNNotVerified},
		4: {RuleUPNInvalid},
		5: {RuleMailNicknameInvalid, RuleUPNInvalid},
		6: {RuleNoPrimarySMTP},
		7: {RuleDuplicateMailNickname, RuleNoPrimarySMTP},
		8: {RuleDuplicateMailNickname},
		9: {RuleProxyAddressInvalid},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %v\nwant %v", got, want)
	}
}
