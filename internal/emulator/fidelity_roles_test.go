package emulator

import (
	"net/http"
	"strings"
	"testing"
)

// The v1.0 role definition rules follow
// https://learn.microsoft.com/en-us/graph/api/resources/unifiedroledefinition?view=graph-rest-1.0
// and the PRIVILEGED labels of
// https://learn.microsoft.com/en-us/entra/identity/role-based-access-control/permissions-reference.

// TestRoleDefinitionsHaveNoIsPrivilegedOnV1 follows the v1.0
// unifiedRoleDefinition resource page (microsoft-graph-docs-contrib
// api-reference/v1.0/resources/unifiedroledefinition.md), which has no
// isPrivileged: the property is beta-only, so v1.0 never shows it and a
// filter or $select on it fails as on any unknown property.
func TestRoleDefinitionsHaveNoIsPrivilegedOnV1(t *testing.T) {
	h := newHarness(t)
	user := h.createUser("expanded", nil)
	h.mustStatus(h.graph(adminApp, http.MethodPost, "/roleManagement/directory/roleAssignments", map[string]any{
		"principalId": user, "roleDefinitionId": RoleGlobalAdministrator, "directoryScopeId": "/"}), 201)
	if err := h.srv.Update(func(s *Snapshot) error {
		s.RoleEligibilities = append(s.RoleEligibilities, RoleEligibility{ID: "re-expanded", PrincipalID: user,
			RoleDefinitionID: RolePrivilegedRoleAdministrator, DirectoryScopeID: "/"})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	noIsPrivileged := func(t *testing.T, v map[string]any) {
		t.Helper()
		for k := range v {
			if strings.EqualFold(k, "isPrivileged") {
				t.Errorf("v1.0 shows %s: %v", k, v)
			}
		}
	}
	tests := []struct {
		name    string
		path    string
		status  int
		code    string
		message string
		check   func(t *testing.T, body map[string]any)
	}{
		{name: "list", path: "/roleManagement/directory/roleDefinitions", status: 200,
			check: func(t *testing.T, b map[string]any) {
				for _, v := range b["value"].([]any) {
					noIsPrivileged(t, v.(map[string]any))
				}
			}},
		{name: "get", path: "/roleManagement/directory/roleDefinitions/" + RoleGlobalAdministrator, status: 200,
			check: func(t *testing.T, b map[string]any) { noIsPrivileged(t, b) }},
		{name: "filter on isPrivileged", path: "/roleManagement/directory/roleDefinitions?" + escapeQuery("$filter=isPrivileged eq true"),
			status: 400, code: codeBadRequestPlain,
			message: "Could not find a property named 'isPrivileged' on type 'microsoft.graph.unifiedRoleDefinition'."},
		{name: "select isPrivileged", path: "/roleManagement/directory/roleDefinitions?$select=id,isPrivileged",
			status: 400, code: codeBadRequestPlain,
			message: "Could not find a property named 'isPrivileged' on type 'microsoft.graph.unifiedRoleDefinition'."},
		{name: "select of v1.0 properties", path: "/roleManagement/directory/roleDefinitions/" + RoleGlobalAdministrator + "?$select=displayName,templateId",
			status: 200, check: func(t *testing.T, b map[string]any) {
				if b["displayName"] != "Global Administrator" || b["templateId"] != RoleGlobalAdministrator || b["description"] != nil {
					t.Errorf("selected %v", b)
				}
			}},
		{name: "filter on a v1.0 property", path: "/roleManagement/directory/roleDefinitions?" + escapeQuery("$filter=displayName eq 'Exchange Administrator'"),
			status: 200, check: func(t *testing.T, b map[string]any) {
				if v := b["value"].([]any); len(v) != 1 || v[0].(map[string]any)["id"] != RoleExchangeAdministrator {
					t.Errorf("filtered %v", v)
				}
			}},
		{name: "expanded on an assignment", path: "/roleManagement/directory/roleAssignments?" + escapeQuery("$filter=principalId eq '"+user+"'&$expand=roleDefinition"),
			status: 200, check: func(t *testing.T, b map[string]any) {
				v := b["value"].([]any)
				if len(v) != 1 {
					t.Fatalf("assignments %v", v)
				}
				noIsPrivileged(t, v[0].(map[string]any)["roleDefinition"].(map[string]any))
			}},
		{name: "expanded on an assignment instance", path: "/roleManagement/directory/roleAssignmentScheduleInstances?" + escapeQuery("$filter=principalId eq '"+user+"'&$expand=roleDefinition"),
			status: 200, check: func(t *testing.T, b map[string]any) {
				v := b["value"].([]any)
				if len(v) != 1 {
					t.Fatalf("instances %v", v)
				}
				noIsPrivileged(t, v[0].(map[string]any)["roleDefinition"].(map[string]any))
			}},
		{name: "expanded on an eligibility instance", path: "/roleManagement/directory/roleEligibilityScheduleInstances?" + escapeQuery("$filter=principalId eq '"+user+"'&$expand=roleDefinition"),
			status: 200, check: func(t *testing.T, b map[string]any) {
				v := b["value"].([]any)
				if len(v) != 1 {
					t.Fatalf("instances %v", v)
				}
				rd, _ := v[0].(map[string]any)["roleDefinition"].(map[string]any)
				if rd["displayName"] != "Privileged Role Administrator" {
					t.Errorf("expanded %v", rd)
				}
				noIsPrivileged(t, rd)
			}},
		{name: "an eligibility instance by id, expanded", path: "/roleManagement/directory/roleEligibilityScheduleInstances/re-expanded?$expand=roleDefinition",
			status: 200, check: func(t *testing.T, b map[string]any) {
				rd, _ := b["roleDefinition"].(map[string]any)
				if rd["id"] != RolePrivilegedRoleAdministrator {
					t.Errorf("expanded %v", b)
				}
				noIsPrivileged(t, rd)
			}},
		{name: "other navigation properties are not expanded", path: "/roleManagement/directory/roleEligibilityScheduleInstances?$expand=principal",
			status: 400, code: codeBadRequest,
			message: "Expanding 'principal' is not supported by the emulator; only 'roleDefinition' is."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// doc: docRoleDefV1
			res := h.graph(adminApp, http.MethodGet, tt.path, nil)
			if res.status != tt.status {
				t.Fatalf("status %d, want %d: %s", res.status, tt.status, res.raw)
			}
			if tt.code != "" && (res.errorCode() != tt.code || res.errorMessage() != tt.message) {
				t.Errorf("error %s %q, want %s %q", res.errorCode(), res.errorMessage(), tt.code, tt.message)
			}
			if tt.check != nil {
				tt.check(t, res.body)
			}
		})
	}
}

// TestBuiltinPrivilegedLabels follows the PRIVILEGED label of the
// permissions reference: the emulator keeps the flag internally to play
// the sync service's hard match protections.
func TestBuiltinPrivilegedLabels(t *testing.T) {
	defs := map[string]RoleDefinition{}
	for _, d := range BuiltinRoleDefinitions() {
		if d.ID != d.TemplateID || !d.IsBuiltIn || !d.IsEnabled {
			t.Errorf("%s: id %s template %s builtIn %v enabled %v", d.DisplayName, d.ID, d.TemplateID, d.IsBuiltIn, d.IsEnabled)
		}
		if _, dup := defs[d.ID]; dup {
			t.Errorf("%s: id %s twice", d.DisplayName, d.ID)
		}
		defs[d.ID] = d
	}
	tests := []struct {
		role       string
		name       string
		privileged bool
	}{
		{RoleGlobalAdministrator, "Global Administrator", true},
		{RolePrivilegedRoleAdministrator, "Privileged Role Administrator", true},
		{RolePrivilegedAuthenticationAdministrator, "Privileged Authentication Administrator", true},
		{RoleUserAdministrator, "User Administrator", true},
		{RoleHelpdeskAdministrator, "Helpdesk Administrator", true},
		{RoleHybridIdentityAdministrator, "Hybrid Identity Administrator", true},
		{RoleSecurityReader, "Security Reader", true},
		{"b1be1c3e-b65d-4f19-8427-f6fa0d97feb9", "Conditional Access Administrator", true},
		{"3a2c62db-5318-420d-8d74-23affee5d9d5", "Intune Administrator", true},
		{RoleExchangeAdministrator, "Exchange Administrator", false},
		{RoleDirectoryReaders, "Directory Readers", false},
		{RoleDirectorySynchronizationAccounts, "Directory Synchronization Accounts", false},
		{RoleGroupsAdministrator, "Groups Administrator", false},
		{RoleGuestInviter, "Guest Inviter", false},
		{RoleReportsReader, "Reports Reader", false},
		{RoleMessageCenterReader, "Message Center Reader", false},
		{RoleUserExperienceSuccessManager, "User Experience Success Manager", false},
		{RoleUsageSummaryReportsReader, "Usage Summary Reports Reader", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// doc: docPermissionsRef
			d, ok := defs[tt.role]
			if !ok || d.DisplayName != tt.name || d.IsPrivileged != tt.privileged {
				t.Errorf("got %+v (present %v), want %s privileged=%v", d, ok, tt.name, tt.privileged)
			}
		})
	}
	privileged := 0
	for _, d := range defs {
		if d.IsPrivileged {
			privileged++
		}
	}
	if len(defs) < 140 || privileged != 33 {
		t.Errorf("%d built-in roles, %d privileged; want every built-in role and the 33 labelled privileged", len(defs), privileged)
	}
}
