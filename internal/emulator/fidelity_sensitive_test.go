package emulator

import (
	"net/http"
	"strings"
	"testing"
)

// Pages the sensitive-action rules follow.
const (
	docUserDelete     = "https://learn.microsoft.com/en-us/graph/api/user-delete"
	docDeletedRestore = "https://learn.microsoft.com/en-us/graph/api/directory-deleteditems-restore"
	docDeletedPurge   = "https://learn.microsoft.com/en-us/graph/api/directory-deleteditems-delete"
)

// Users of the sensitive-action fixture.
const (
	idPlainUser   = "d0000000-0000-4000-8000-000000000001" // no role
	idReaderUser  = "d0000000-0000-4000-8000-000000000002" // Directory Readers
	idHelpdesk    = "d0000000-0000-4000-8000-000000000003" // Helpdesk Administrator
	idGlobalAdmin = "d0000000-0000-4000-8000-000000000004" // Global Administrator
	idEligibleGA  = "d0000000-0000-4000-8000-000000000005" // eligible Global Administrator
	idExchange    = "d0000000-0000-4000-8000-000000000006" // Exchange Administrator
	idDeletedGA   = "d0000000-0000-4000-8000-000000000007" // soft-deleted Global Administrator
	idDeletedUser = "d0000000-0000-4000-8000-000000000008" // soft-deleted, no role
	idCustomRole  = "d0000000-0000-4000-8000-000000000009" // custom role
	customRoleDef = "e0000000-0000-4000-8000-000000000001"

	uaApp = "99999999-9999-4999-8999-999999999991" // User Administrator (configured)
	spApp = "99999999-9999-4999-8999-999999999992" // Global Administrator (snapshot assignment to its service principal)
)

func sensitiveHarness(t *testing.T, opts ...harnessOpt) (*harness, Snapshot) {
	t.Helper()
	perms := []string{"User.ReadWrite.All", "User.DeleteRestore.All"}
	opts = append([]harnessOpt{
		withApp(App{ClientID: uaApp, Secret: testSecret, Permissions: perms, DirectoryRoles: []string{RoleUserAdministrator}}),
		withApp(App{ClientID: paaApp, Secret: testSecret, Permissions: perms, DirectoryRoles: []string{strings.ToUpper(RolePrivilegedAuthenticationAdministrator)}}),
		withApp(App{ClientID: spApp, Secret: testSecret, Permissions: perms}),
	}, opts...)
	h := newHarness(t, opts...)
	snap := h.srv.Snapshot()
	u := func(id, nick string) User {
		return User{ID: id, UserPrincipalName: nick + "@" + testVanity, DisplayName: nick, MailNickname: nick,
			AccountEnabled: ptr(true), UserType: "Member", ProxyAddresses: []string{"SMTP:" + nick + "@" + testVanity}}
	}
	snap.Users = []User{u(idPlainUser, "plain"), u(idReaderUser, "reader"), u(idHelpdesk, "helpdesk"), u(idGlobalAdmin, "ga"),
		u(idEligibleGA, "eligible"), u(idExchange, "exchange"), u(idCustomRole, "custom")}
	snap.DeletedItems.Users = []User{u(idDeletedGA, "deletedga"), u(idDeletedUser, "deleted")}
	snap.RoleDefinitions = []RoleDefinition{{ID: customRoleDef, DisplayName: "Custom helpers", IsEnabled: true}}
	sp, ok := h.srv.ServicePrincipalID(spApp)
	if !ok {
		t.Fatal("no service principal for spApp")
	}
	ra := func(id, principal, role string) RoleAssignment {
		return RoleAssignment{ID: id, PrincipalID: principal, RoleDefinitionID: role, DirectoryScopeID: "/"}
	}
	snap.RoleAssignments = []RoleAssignment{
		ra("ra-reader", idReaderUser, RoleDirectoryReaders), ra("ra-helpdesk", idHelpdesk, RoleHelpdeskAdministrator),
		ra("ra-ga", idGlobalAdmin, RoleGlobalAdministrator), ra("ra-exchange", idExchange, RoleExchangeAdministrator),
		ra("ra-deleted", idDeletedGA, RoleGlobalAdministrator), ra("ra-custom", idCustomRole, customRoleDef),
		ra("ra-sp", sp, RoleGlobalAdministrator),
	}
	snap.RoleEligibilities = []RoleEligibility{{ID: "re-ga", PrincipalID: idEligibleGA, RoleDefinitionID: RoleGlobalAdministrator, DirectoryScopeID: "/"}}
	if err := h.srv.Replace(snap); err != nil {
		t.Fatal(err)
	}
	return h, snap
}

// TestSensitiveActionsAppOnly follows the table and the app-only notes of
// user-delete, user-update and directory-deleteditems-restore/-delete:
// application permissions are enough on users without admin roles; on
// others the app's service principal needs a role of the table's columns
// that covers the user's roles.
func TestSensitiveActionsAppOnly(t *testing.T) {
	h, snap := sensitiveHarness(t)
	patch := func(body map[string]any) func(id string) (string, string, any) {
		return func(id string) (string, string, any) { return http.MethodPatch, "/users/" + id, body }
	}
	del := func(id string) (string, string, any) { return http.MethodDelete, "/users/" + id, nil }
	restore := func(id string) (string, string, any) {
		return http.MethodPost, "/directory/deletedItems/" + id + "/restore", nil
	}
	purge := func(id string) (string, string, any) { return http.MethodDelete, "/directory/deletedItems/" + id, nil }
	anchor := patch(map[string]any{"onPremisesImmutableId": "U2Vuc2l0aXZl"})
	tests := []struct {
		name   string
		doc    string
		app    string
		target string
		op     func(string) (string, string, any)
		status int
	}{
		{"anchor of a user without roles: permission is enough", docSensitive, userOnlyApp, idPlainUser, anchor, 204},
		{"anchor of a Directory Reader: app without a role", docSensitive, userOnlyApp, idReaderUser, anchor, 403},
		{"anchor of a Directory Reader: User Administrator", docSensitive, uaApp, idReaderUser, anchor, 204},
		{"anchor of a Helpdesk Administrator: User Administrator", docSensitive, uaApp, idHelpdesk, anchor, 204},
		{"anchor of a Global Administrator: User Administrator is not enough", docSensitive, uaApp, idGlobalAdmin, anchor, 403},
		{"anchor of a Global Administrator: Privileged Authentication Administrator", docSensitive, paaApp, idGlobalAdmin, anchor, 204},
		{"anchor of a Global Administrator: Global Administrator through a snapshot assignment", docSensitive, spApp, idGlobalAdmin, anchor, 204},
		{"anchor of an Exchange Administrator (all other roles): User Administrator is not enough", docSensitive, uaApp, idExchange, anchor, 403},
		{"anchor of an Exchange Administrator: Privileged Authentication Administrator", docSensitive, paaApp, idExchange, anchor, 204},
		{"anchor of a custom role holder: User Administrator is not enough", docSensitive, uaApp, idCustomRole, anchor, 403},
		{"anchor of an eligible Global Administrator: eligibility counts", docSensitive, uaApp, idEligibleGA, anchor, 403},
		{"accountEnabled", docSensitive, userOnlyApp, idGlobalAdmin, patch(map[string]any{"accountEnabled": false}), 403},
		{"userPrincipalName", docSensitive, userOnlyApp, idGlobalAdmin, patch(map[string]any{"userPrincipalName": "boss@" + testVanity}), 403},
		{"mobilePhone", docSensitive, userOnlyApp, idGlobalAdmin, patch(map[string]any{"mobilePhone": "+1 555"}), 403},
		{"businessPhones", docSensitive, userOnlyApp, idGlobalAdmin, patch(map[string]any{"businessPhones": []string{"+1 555"}}), 403},
		{"passwordProfile", docSensitive, userOnlyApp, idGlobalAdmin, patch(map[string]any{"passwordProfile": map[string]any{"password": "N3w!pass"}}), 403},
		{"an unchanged value is refused all the same", docSensitive, userOnlyApp, idGlobalAdmin, patch(map[string]any{"accountEnabled": true}), 403},
		{"a property that is not sensitive", docSensitive, userOnlyApp, idGlobalAdmin, patch(map[string]any{"jobTitle": "Boss"}), 204},
		{"delete a Global Administrator without a role", docUserDelete, userOnlyApp, idGlobalAdmin, del, 403},
		{"delete a Global Administrator as Privileged Authentication Administrator", docUserDelete, paaApp, idGlobalAdmin, del, 204},
		{"delete a Directory Reader as User Administrator", docUserDelete, uaApp, idReaderUser, del, 204},
		{"delete a user without roles", docUserDelete, userOnlyApp, idPlainUser, del, 204},
		{"restore a Global Administrator without a role", docDeletedRestore, userOnlyApp, idDeletedGA, restore, 403},
		{"restore a Global Administrator as Privileged Authentication Administrator", docDeletedRestore, paaApp, idDeletedGA, restore, 200},
		{"restore a user without roles", docDeletedRestore, userOnlyApp, idDeletedUser, restore, 200},
		{"purge a Global Administrator without a role", docDeletedPurge, userOnlyApp, idDeletedGA, purge, 403},
		{"purge a Global Administrator as Global Administrator", docDeletedPurge, spApp, idDeletedGA, purge, 204},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := h.srv.Replace(snap); err != nil {
				t.Fatal(err)
			}
			method, path, body := tt.op(tt.target)
			res := h.graph(tt.app, method, path, body)
			if res.status != tt.status {
				t.Fatalf("%s %s: status %d, want %d (%s): %s", method, path, res.status, tt.status, tt.doc, res.raw)
			}
			if tt.status == 403 && (res.errorCode() != codeAuthorizationDenied || res.errorMessage() != "Insufficient privileges to complete the operation.") {
				t.Errorf("refusal %s %q", res.errorCode(), res.errorMessage())
			}
		})
	}
}

// TestSensitiveActionsEligibilitySwitch: Config.SensitiveActionsIgnoreEligibility
// judges a target by its active assignments only.
func TestSensitiveActionsEligibilitySwitch(t *testing.T) {
	// doc: docSensitive (the table names roles a user holds; whether an
	// eligible role counts is not said, so counting it is the default)
	h, _ := sensitiveHarness(t, func(c *Config) { c.SensitiveActionsIgnoreEligibility = true })
	h.mustStatus(h.graph(userOnlyApp, http.MethodPatch, "/users/"+idEligibleGA, map[string]any{"onPremisesImmutableId": "RWxpZ2libGU="}), 204)
	h.mustStatus(h.graph(userOnlyApp, http.MethodPatch, "/users/"+idGlobalAdmin, map[string]any{"onPremisesImmutableId": "R2xvYmFs"}), 403)
}

// TestSensitiveActionsDelegated: a signed-in user is bound by the user's
// own roles, for every target ("User (no admin role)" is a row of the
// table too), and acting on a user with admin roles needs the
// Directory.AccessAsUser.All delegated permission (user-delete,
// directory-deleteditems-restore).
func TestSensitiveActionsDelegated(t *testing.T) {
	tests := []struct {
		name   string
		doc    string
		role   string // the signed-in user's role; "" none
		scopes []string
		target string
		status int
	}{
		{"no role, target without roles", docSensitive, "", []string{"User.ReadWrite.All"}, idPlainUser, 403},
		{"User Administrator, target without roles", docSensitive, RoleUserAdministrator, []string{"User.ReadWrite.All"}, idPlainUser, 204},
		{"User Administrator, Helpdesk target, without Directory.AccessAsUser.All", docUserDelete, RoleUserAdministrator,
			[]string{"User.ReadWrite.All"}, idHelpdesk, 403},
		{"User Administrator, Helpdesk target", docUserDelete, RoleUserAdministrator,
			[]string{"User.ReadWrite.All", "Directory.AccessAsUser.All"}, idHelpdesk, 204},
		{"User Administrator, Global Administrator target", docSensitive, RoleUserAdministrator,
			[]string{"User.ReadWrite.All", "Directory.AccessAsUser.All"}, idGlobalAdmin, 403},
		{"Privileged Authentication Administrator, Global Administrator target", docSensitive, RolePrivilegedAuthenticationAdministrator,
			[]string{"User.ReadWrite.All", "Directory.AccessAsUser.All"}, idGlobalAdmin, 204},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, snap := sensitiveHarness(t, withApp(App{ClientID: publicApp, PublicClient: true, DelegatedPermissions: tt.scopes}))
			snap.Users = append(snap.Users, User{ID: "d0000000-0000-4000-8000-0000000000aa", UserPrincipalName: "operator@" + testVanity,
				DisplayName: "Operator", MailNickname: "operator", AccountEnabled: ptr(true), UserType: "Member"})
			if tt.role != "" {
				snap.RoleAssignments = append(snap.RoleAssignments, RoleAssignment{ID: "ra-operator",
					PrincipalID: "d0000000-0000-4000-8000-0000000000aa", RoleDefinitionID: tt.role, DirectoryScopeID: "/"})
			}
			if err := h.srv.Replace(snap); err != nil {
				t.Fatal(err)
			}
			var scope []string
			for _, s := range tt.scopes {
				scope = append(scope, "https://graph.microsoft.com/"+s)
			}
			tok := h.signIn("operator@"+testVanity, strings.Join(scope, " "))
			res := h.send(http.MethodPatch, "/v1.0/users/"+tt.target, tok.body["access_token"].(string),
				strings.NewReader(`{"onPremisesImmutableId":"RGVsZWdhdGVk"}`), map[string]string{"Content-Type": "application/json"})
			if res.status != tt.status {
				t.Fatalf("status %d, want %d (%s): %s", res.status, tt.status, tt.doc, res.raw)
			}
		})
	}
}

// TestAppDirectoryRolesAreBuiltIn: App.DirectoryRoles names built-in roles
// by template id; anything else is a configuration error.
func TestAppDirectoryRolesAreBuiltIn(t *testing.T) {
	for _, roles := range [][]string{{"not-a-guid"}, {customRoleDef}} {
		_, err := New(Config{TenantID: testTenant, InitialDomain: testDomain,
			Apps: []App{{ClientID: uaApp, Secret: testSecret, DirectoryRoles: roles}}})
		if err == nil {
			t.Errorf("directory roles %v accepted", roles)
		}
	}
	if id, ok := BuiltinRoleID("privileged authentication administrator"); !ok || id != RolePrivilegedAuthenticationAdministrator {
		t.Errorf("BuiltinRoleID by name: %s %v", id, ok)
	}
	if _, ok := BuiltinRoleID("Chief Everything Officer"); ok {
		t.Error("unknown role name resolved")
	}
}
