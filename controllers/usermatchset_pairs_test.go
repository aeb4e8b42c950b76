package controllers

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/entramatch/entra-match-operator/internal/pairing"
	"github.com/entramatch/entra-match-operator/internal/syncplan"
)

// A set keeps, between passes, what creating and counting its UserMatches
// need: the AD user's objectGUID (as written and lower-cased) and DN, the
// cloud user's ID and UPN, the outcome, and the message of an ambiguous
// pair only.
func TestKeepPairsKeepsWhatAPassNeeds(t *testing.T) {
	cloud := &syncplan.CloudObject{ID: "c-1", UserPrincipalName: "ann@contoso.com", Mail: "ann@contoso.com", ProxyAddresses: []string{"SMTP:ann@contoso.com"}}
	pairs := []pairing.Pair{
		{AD: pairing.ADUser{GUID: "AB-CD", DN: "CN=Ann,DC=corp", UPN: "ann@corp.local"}, Cloud: cloud, Outcome: pairing.NeedsUserMatch, Message: "sync would not match it"},
		{AD: pairing.ADUser{GUID: "ef", DN: "CN=Bo,DC=corp"}, Outcome: pairing.Ambiguous, Message: "2 cloud users pair with it"},
		{AD: pairing.ADUser{GUID: "01", DN: "CN=Cy,DC=corp"}, Outcome: pairing.Unpaired, Message: "no cloud user pairs with it"},
	}
	got := keepPairs(pairs)
	want := []setPair{
		{adGUID: "AB-CD", key: "ab-cd", adDN: "CN=Ann,DC=corp", cloudID: "c-1", cloudUPN: "ann@contoso.com", outcome: pairing.NeedsUserMatch},
		{adGUID: "ef", key: "ef", adDN: "CN=Bo,DC=corp", outcome: pairing.Ambiguous, message: "2 cloud users pair with it"},
		{adGUID: "01", key: "01", adDN: "CN=Cy,DC=corp", outcome: pairing.Unpaired},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("kept %+v\nwant %+v", got, want)
	}
	if !got[0].paired() || got[1].paired() || got[2].paired() {
		t.Fatalf("paired: %v %v %v, want true false false", got[0].paired(), got[1].paired(), got[2].paired())
	}
}

// The kept pairs hold none of the tenant read for the decision: a large
// set would otherwise keep every cloud user alive for a resync period.
func TestKeptPairsLetTheTenantGo(t *testing.T) {
	freed := make(chan struct{})
	kept := func() []setPair {
		objects := make([]syncplan.CloudObject, 100)
		users := make([]pairing.ADUser, 100)
		for i := range objects {
			objects[i] = syncplan.CloudObject{ID: fmt.Sprintf("c-%d", i), Kind: syncplan.User, UserPrincipalName: fmt.Sprintf("u%d@contoso.com", i)}
			users[i] = pairing.ADUser{GUID: fmt.Sprintf("g-%d", i), DN: fmt.Sprintf("CN=u%d,DC=corp", i), UPN: fmt.Sprintf("u%d@contoso.com", i)}
		}
		runtime.AddCleanup(&objects[0], func(ch chan struct{}) { close(ch) }, freed)
		pairs := pairing.Decide(users, syncplan.Tenant{Objects: objects}, []pairing.Rule{{SameUPN: true}}, nil)
		if pairs[0].Cloud == nil {
			t.Fatal("the fixture did not pair")
		}
		return keepPairs(pairs)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		runtime.GC()
		select {
		case <-freed:
			if kept[0].cloudID == "" {
				t.Fatal("the kept pair lost its cloud user")
			}
			return
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("the tenant's objects are still reachable from the kept pairs")
		}
	}
}
