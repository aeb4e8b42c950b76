package graphapi

import (
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/entramatch/entra-match-operator/internal/emulator/tenant"
)

const docSensitive = "https://learn.microsoft.com/en-us/entra/identity/role-based-access-control/privileged-roles-permissions#who-can-perform-sensitive-actions"

// TestSensitiveActorsTable is the "Who can perform sensitive actions" table
// of privileged-roles-permissions (MicrosoftDocs/entra-docs
// docs/identity/role-based-access-control/privileged-roles-permissions.md):
// rows are the target's roles, the result the roles that may act on it.
func TestSensitiveActorsTable(t *testing.T) {
	const (
		auth = tenant.RoleAuthenticationAdministrator
		ua   = tenant.RoleUserAdministrator
		paa  = tenant.RolePrivilegedAuthenticationAdministrator
		ga   = tenant.RoleGlobalAdministrator
	)
	tests := []struct {
		name   string
		target []string
		want   []string
	}{
		{"User (no admin role)", nil, []string{auth, ua, paa, ga}},
		{"Auth Admin", []string{tenant.RoleAuthenticationAdministrator}, []string{auth, paa, ga}},
		{"Directory Readers", []string{tenant.RoleDirectoryReaders}, []string{auth, ua, paa, ga}},
		{"Global Admin", []string{tenant.RoleGlobalAdministrator}, []string{paa, ga}},
		{"Groups Admin", []string{tenant.RoleGroupsAdministrator}, []string{ua, paa, ga}},
		{"Guest Inviter", []string{tenant.RoleGuestInviter}, []string{auth, ua, paa, ga}},
		{"Helpdesk Admin", []string{tenant.RoleHelpdeskAdministrator}, []string{ua, paa, ga}},
		{"Message Center Reader", []string{tenant.RoleMessageCenterReader}, []string{auth, ua, paa, ga}},
		{"Password Admin", []string{tenant.RolePasswordAdministrator}, []string{auth, ua, paa, ga}},
		{"Privileged Auth Admin", []string{tenant.RolePrivilegedAuthenticationAdministrator}, []string{paa, ga}},
		{"Privileged Role Admin", []string{tenant.RolePrivilegedRoleAdministrator}, []string{paa, ga}},
		{"Reports Reader", []string{tenant.RoleReportsReader}, []string{auth, ua, paa, ga}},
		{"User Admin", []string{tenant.RoleUserAdministrator}, []string{ua, paa, ga}},
		{"User Experience Success Manager", []string{tenant.RoleUserExperienceSuccessManager}, []string{auth, ua, paa, ga}},
		{"Usage Summary Reports Reader", []string{tenant.RoleUsageSummaryReportsReader}, []string{auth, ua, paa, ga}},
		{"All other built-in roles (Exchange Administrator)", []string{tenant.RoleExchangeAdministrator}, []string{paa, ga}},
		{"All other custom roles", []string{""}, []string{paa, ga}},
		{"several roles: every row must allow it (Auth Admin and Groups Admin)", []string{tenant.RoleAuthenticationAdministrator, tenant.RoleGroupsAdministrator}, []string{paa, ga}},
		{"several roles: Directory Readers and Helpdesk Admin", []string{tenant.RoleDirectoryReaders, tenant.RoleHelpdeskAdministrator}, []string{ua, paa, ga}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// doc: docSensitive
			got := append([]string(nil), sensitiveActorsFor(tt.target)...)
			want := append([]string(nil), tt.want...)
			sort.Strings(got)
			sort.Strings(want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("actors (-want +got), see %s:\n%s", docSensitive, diff)
			}
		})
	}
}
