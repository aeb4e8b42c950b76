package pairing

import (
	"fmt"
	"testing"

	"github.com/entramatch/entra-match-operator/internal/syncplan"
)

func TestDecide(t *testing.T) {
	yes := true
	tenant := syncplan.Tenant{VerifiedDomains: []string{"contoso.com", "contoso.onmicrosoft.com"}, InitialDomain: "contoso.onmicrosoft.com",
		Flags: syncplan.Flags{SoftMatchOnUPN: true},
		Objects: []syncplan.CloudObject{
			{ID: "c-ana", Kind: syncplan.User, UserPrincipalName: "ana@contoso.com"},
			{ID: "c-ben", Kind: syncplan.User, UserPrincipalName: "ben@contoso.com", ImmutableID: "stale"},
			{ID: "c-cal", Kind: syncplan.User, UserPrincipalName: "cal@contoso.com"},
			{ID: "c-cal2", Kind: syncplan.User, UserPrincipalName: "cal2@contoso.com", Mail: "cal@contoso.com"},
			{ID: "c-dee", Kind: syncplan.User, UserPrincipalName: "dee@contoso.com", ImmutableID: "a-dee", SyncEnabled: &yes},
			{ID: "c-eve", Kind: syncplan.User, UserPrincipalName: "eve@contoso.com", AdminAssigned: true},
			{ID: "c-shared", Kind: syncplan.User, UserPrincipalName: "shared@contoso.com", Mail: "team@contoso.com"},
		},
	}
	users := []ADUser{
		{DN: "CN=ana", UPN: "ana@contoso.local", Anchor: "a-ana"},
		{DN: "CN=ben", UPN: "ben@contoso.com", Anchor: "a-ben"},
		{DN: "CN=cal", UPN: "cal@contoso.com", Mail: "cal@contoso.com", Anchor: "a-cal"},
		{DN: "CN=dee", UPN: "dee@contoso.com", Anchor: "a-dee"},
		{DN: "CN=eve", UPN: "eve@contoso.com", Anchor: "a-eve"},
		{DN: "CN=fay", UPN: "fay@contoso.com", Anchor: "a-fay"},
		{DN: "CN=gus", UPN: "gus@contoso.com", Mail: "team@contoso.com", Anchor: "a-gus"},
		{DN: "CN=hal", UPN: "hal@contoso.com", Mail: "team@contoso.com", Anchor: "a-hal"},
		{DN: "CN=ana2", UPN: "ana@contoso.com", Anchor: "a-ana2"},
	}
	rules := []Rule{{SameUPN: true}, {SuffixFrom: "contoso.local", SuffixTo: "contoso.com"}, {Mail: true}}
	got := map[string]Outcome{}
	for _, p := range Decide(users, tenant, rules, nil) {
		got[p.AD.DN] = p.Outcome
		if p.Message == "" {
			t.Errorf("%s: no message", p.AD.DN)
		}
	}
	want := map[string]Outcome{
		"CN=ana":  Ambiguous,      // c-ana by suffix rewrite, and ana2 by the same UPN
		"CN=ana2": Ambiguous,      // the same cloud user
		"CN=ben":  NeedsUserMatch, // a stale anchor: no soft match
		"CN=cal":  NeedsUserMatch, // paired on the UPN, but sync would soft-match cal2 on the address first: only a hard match is sure
		"CN=dee":  Joined,
		"CN=eve":  NeedsUserMatch, // an admin: sync will not soft-match (the UserMatch then refuses or runs RemoveAndRestore)
		"CN=fay":  Unpaired,
		"CN=gus":  Ambiguous, // c-shared pairs with gus and hal
		"CN=hal":  Ambiguous,
	}
	users[2].Mail = ""
	for _, p := range Decide(users, tenant, rules, nil) {
		if p.AD.DN == "CN=cal" && p.Outcome != WillSoftMatch {
			t.Errorf("without the address, cal soft-matches on its UPN: %s %s", p.Outcome, p.Message)
		}
	}
	for dn, w := range want {
		if got[dn] != w {
			t.Errorf("%s: %s, want %s", dn, got[dn], w)
		}
	}
}

func TestDecideOnAnAttribute(t *testing.T) {
	tenant := syncplan.Tenant{VerifiedDomains: []string{"contoso.com"}, InitialDomain: "contoso.onmicrosoft.com", Flags: syncplan.Flags{SoftMatchOnUPN: true},
		Objects: []syncplan.CloudObject{{ID: "c1", Kind: syncplan.User, UserPrincipalName: "jdoe@contoso.com"},
			{ID: "c2", Kind: syncplan.User, UserPrincipalName: "x@contoso.com"}, {ID: "c3", Kind: syncplan.User, UserPrincipalName: "y@contoso.com"}}}
	attrs := map[string]map[string]string{"c1": {"employeeId": "E100"}, "c2": {"employeeId": "E200"}, "c3": {"employeeId": "e200"}}
	users := []ADUser{
		{DN: "CN=jane", UPN: "jane@contoso.local", Anchor: "a1", Attributes: map[string]string{"employeeID": "e100"}},
		{DN: "CN=twin", UPN: "twin@contoso.local", Anchor: "a2", Attributes: map[string]string{"employeeID": "E200"}},
		{DN: "CN=none", UPN: "none@contoso.local", Anchor: "a3"},
	}
	got := map[string]Pair{}
	for _, p := range Decide(users, tenant, []Rule{{ADAttribute: "employeeID", CloudAttribute: "employeeId"}}, attrs) {
		got[p.AD.DN] = p
	}
	if p := got["CN=jane"]; p.Outcome != NeedsUserMatch || p.Cloud == nil || p.Cloud.ID != "c1" {
		t.Errorf("jane: %+v", p)
	}
	if got["CN=twin"].Outcome != Ambiguous || got["CN=none"].Outcome != Unpaired {
		t.Errorf("twin %s, none %s", got["CN=twin"].Outcome, got["CN=none"].Outcome)
	}
}

func TestDecideOnExplicitPairs(t *testing.T) {
	tenant := syncplan.Tenant{VerifiedDomains: []string{"contoso.com"}, InitialDomain: "contoso.onmicrosoft.com", Flags: syncplan.Flags{SoftMatchOnUPN: true},
		Objects: []syncplan.CloudObject{{ID: "C1", Kind: syncplan.User, UserPrincipalName: "jdoe@contoso.com"},
			{ID: "c2", Kind: syncplan.User, UserPrincipalName: "bob@contoso.com"}}}
	users := []ADUser{
		{DN: "CN=jane", GUID: "3AB39606-c642-489b-84b6-58c038d3ef39", UPN: "jane@contoso.com", Anchor: "a1"},
		{DN: "CN=bob", UPN: "robert@contoso.local", Anchor: "a2"},
		{DN: "CN=carl", UPN: "carl@contoso.com", Anchor: "a3"},
	}
	// Explicit pairs win over the rules: jane@contoso.com would pair with
	// nobody by UPN, but the list says jdoe.
	rules := []Rule{{Explicit: map[string]string{"3ab39606-c642-489b-84b6-58c038d3ef39": "c1", "robert@contoso.local": "bob@contoso.com"}}, {SameUPN: true}}
	got := map[string]Pair{}
	for _, p := range Decide(users, tenant, rules, nil) {
		got[p.AD.DN] = p
	}
	if p := got["CN=jane"]; p.Cloud == nil || p.Cloud.ID != "C1" || p.Outcome != NeedsUserMatch {
		t.Errorf("jane: %+v", p)
	}
	if p := got["CN=bob"]; p.Cloud == nil || p.Cloud.ID != "c2" {
		t.Errorf("bob: %+v", p)
	}
	if got["CN=carl"].Outcome != Unpaired {
		t.Errorf("carl: %+v", got["CN=carl"])
	}
}

// BenchmarkDecide10k pairs 10,000 AD users (DNs in upper case, in reverse
// order) with their 10,000 cloud twins by the same UPN, half of which
// carry a stale anchor: a UserMatchSet's decision over a large scope.
func BenchmarkDecide10k(b *testing.B) {
	const n = 10000
	tenant := syncplan.Tenant{VerifiedDomains: []string{"contoso.com"}, InitialDomain: "contoso.onmicrosoft.com",
		Flags: syncplan.Flags{SoftMatchOnUPN: true}}
	users := make([]ADUser, 0, n)
	for i := range n {
		upn := fmt.Sprintf("user%05d@contoso.com", i)
		o := syncplan.CloudObject{ID: fmt.Sprintf("c-%05d", i), Kind: syncplan.User, UserPrincipalName: upn}
		if i%2 == 0 { // half need a hard match, half will soft-match
			o.ImmutableID = fmt.Sprintf("stale-%05d", i)
		}
		tenant.Objects = append(tenant.Objects, o)
		users = append(users, ADUser{DN: fmt.Sprintf("CN=User %05d,OU=Staff,DC=CONTOSO,DC=COM", n-i), UPN: upn, Anchor: fmt.Sprintf("a-%05d", i)})
	}
	rules := []Rule{{SameUPN: true}, {Mail: true}}
	b.ResetTimer()
	for range b.N {
		if got := Decide(users, tenant, rules, nil); len(got) != n || got[0].Outcome != WillSoftMatch || got[1].Outcome != NeedsUserMatch {
			b.Fatalf("%d pairs, the first two %s, %s", len(got), got[0].Outcome, got[1].Outcome)
		}
	}
}
