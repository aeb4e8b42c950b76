package throttle

import (
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const docLimits = "https://learn.microsoft.com/graph/throttling-limits#identity-and-access-service-limits"

func TestCost(t *testing.T) {
	type cost struct {
		RU    int
		Write bool
	}
	tests := []struct {
		method, url string
		doc         string
		want        cost
	}{
		{"GET", "/v1.0/users", docLimits, cost{2, false}},
		{"GET", "/users?$select=id,onPremisesImmutableId", docLimits, cost{1, false}},
		{"GET", "/users?select=id", docLimits + " ($ prefix optional)", cost{1, false}},
		{"GET", "/users?$top=5&$select=id", docLimits + " (minimum 1)", cost{1, false}},
		{"GET", "/users?$top=999", docLimits, cost{2, false}},
		{"GET", "/users?$top=19", docLimits, cost{1, false}},
		{"GET", "/users?$top=20", docLimits, cost{2, false}},
		{"GET", "/users?$expand=manager", docLimits, cost{3, false}},
		{"GET", "/v1.0/users/8f1c/", docLimits + " (not listed: 1)", cost{1, false}},
		// Delta is not listed; it reads the user collection and is priced like GET users.
		{"GET", "/v1.0/users/delta", docLimits + " (delta as GET users)", cost{2, false}},
		{"GET", "/v1.0/users/microsoft.graph.delta()?$select=id", docLimits + " (delta as GET users, $select -1)", cost{1, false}},
		{"GET", "/v1.0/users/delta?$deltatoken=abc", docLimits + " (delta as GET users)", cost{2, false}},
		{"GET", "/v1.0/groups", docLimits, cost{1, false}},
		{"GET", "/beta/groups/g1/members", docLimits, cost{3, false}},
		{"GET", "/groups/g1/transitiveMembers?$select=id", docLimits, cost{4, false}},
		{"GET", "/me/memberOf", docLimits, cost{2, false}},
		{"GET", "/users/alice@contoso.com/memberOf", docLimits + " (me/ equals users/{id}/)", cost{2, false}},
		{"GET", "/me", docLimits, cost{1, false}},
		{"POST", "/users/u1/checkMemberGroups", docLimits, cost{4, false}},
		{"POST", "/directoryObjects/getByIds", docLimits, cost{5, false}},
		{"POST", "/getObjectsById", docLimits, cost{5, false}},
		{"POST", "/directoryObjects/getByIds?$select=id", docLimits + " ($select on getByIds: 2)", cost{2, false}},
		{"GET", "/subscribedSkus", docLimits, cost{3, false}},
		{"GET", "/domains/contoso.com/domainNameReferences", docLimits, cost{4, false}},
		{"GET", "/servicePrincipals/s1/appRoleAssignments", docLimits, cost{2, false}},
		{"POST", "/users", docLimits, cost{1, true}},
		{"PATCH", "/v1.0/users/u1", docLimits, cost{1, true}},
		{"patch", "/v1.0/users/u1?$select=id", docLimits + " (minimum 1)", cost{1, true}},
		{"PUT", "/users/u1/manager/$ref", docLimits, cost{1, true}},
		{"DELETE", "/directory/deletedItems/u1", docLimits, cost{1, true}},
		{"GET", "/directory/deletedItems/microsoft.graph.user", docLimits, cost{1, false}},
		{"GET", "/roleManagement/directory/roleAssignments?$filter=principalId eq 'x'&$expand=roleDefinition", docLimits, cost{2, false}},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.url, func(t *testing.T) {
			u, err := url.Parse(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			ru, w := Cost(tt.method, u)
			if diff := cmp.Diff(tt.want, cost{ru, w}); diff != "" {
				t.Errorf("Cost mismatch (-want +got), per %s:\n%s", tt.doc, diff)
			}
		})
	}
}

func TestCostNilURL(t *testing.T) {
	if ru, w := Cost("DELETE", nil); ru != 1 || !w {
		t.Errorf("Cost(DELETE, nil) = %d, %v", ru, w)
	}
}
