package graphapi

import (
	"strings"
	"time"

	"github.com/entramatch/entra-match-operator/internal/emulator/grapherr"
	"github.com/entramatch/entra-match-operator/internal/emulator/identity"
	"github.com/entramatch/entra-match-operator/internal/emulator/tenant"
)

// Sensitive actions on users follow "Who can perform sensitive actions" in
// privileged-roles-permissions
// (https://learn.microsoft.com/en-us/entra/identity/role-based-access-control/privileged-roles-permissions#who-can-perform-sensitive-actions,
// MicrosoftDocs/entra-docs docs/identity/role-based-access-control/privileged-roles-permissions.md),
// the table the users resource points to
// (microsoft-graph-docs-contrib api-reference/v1.0/resources/users.md,
// "Who can perform sensitive actions"). Sensitive are updates of
// accountEnabled, businessPhones, mobilePhone, onPremisesImmutableId,
// otherMails, passwordProfile and userPrincipalName, and deleting or
// restoring a user. Only Authentication, User, Privileged Authentication and
// Global Administrators may perform them, each on the users whose roles its
// column allows.
//
// Application permissions alone are not enough on users with admin roles:
// "In app-only scenarios, the User.ReadWrite.All application permission
// isn't enough privilege to delete users with administrative roles. The app
// must be assigned a higher privileged administrator role as indicated in
// Who can perform sensitive actions" (user-delete; the same for restore in
// directory-deleteditems-restore and for updates in user-update). The
// emulator takes that literally for every admin role, privileged or not
// (some versions of the pages say "privileged administrative roles"): a
// target with any directory role needs an app whose service principal
// holds a column role that covers each of the target's roles. Delegated
// callers are bound by the signed-in user's own roles, for every target,
// as the table's "User (no admin role)" row says.

// sensitiveProperties are the user properties whose update is a sensitive
// action.
var sensitiveProperties = []string{"accountEnabled", "businessPhones", "mobilePhone", "onPremisesImmutableId",
	"otherMails", "passwordProfile", "userPrincipalName"}

// The table's columns: the roles that may perform sensitive actions.
var (
	allSensitiveActors = []string{tenant.RoleAuthenticationAdministrator, tenant.RoleUserAdministrator,
		tenant.RolePrivilegedAuthenticationAdministrator, tenant.RoleGlobalAdministrator}
	userAdminActors    = []string{tenant.RoleUserAdministrator, tenant.RolePrivilegedAuthenticationAdministrator, tenant.RoleGlobalAdministrator}
	authAdminActors    = []string{tenant.RoleAuthenticationAdministrator, tenant.RolePrivilegedAuthenticationAdministrator, tenant.RoleGlobalAdministrator}
	privilegedActors   = []string{tenant.RolePrivilegedAuthenticationAdministrator, tenant.RoleGlobalAdministrator}
	sensitiveActorRows = map[string][]string{
		tenant.RoleAuthenticationAdministrator:           authAdminActors,
		tenant.RoleDirectoryReaders:                      allSensitiveActors,
		tenant.RoleGlobalAdministrator:                   privilegedActors,
		tenant.RoleGroupsAdministrator:                   userAdminActors,
		tenant.RoleGuestInviter:                          allSensitiveActors,
		tenant.RoleHelpdeskAdministrator:                 userAdminActors,
		tenant.RoleMessageCenterReader:                   allSensitiveActors,
		tenant.RolePasswordAdministrator:                 allSensitiveActors,
		tenant.RolePrivilegedAuthenticationAdministrator: privilegedActors,
		tenant.RolePrivilegedRoleAdministrator:           privilegedActors,
		tenant.RoleReportsReader:                         allSensitiveActors,
		tenant.RoleUserAdministrator:                     userAdminActors,
		tenant.RoleUserExperienceSuccessManager:          allSensitiveActors,
		tenant.RoleUsageSummaryReportsReader:             allSensitiveActors,
	}
)

// sensitiveActorsFor returns the roles that may perform a sensitive action
// on a user holding targetRoles (role template ids; "" for a custom role):
// the intersection of the table rows, "User (no admin role)" when there are
// none, and "All other built-in and custom roles" for a role the table does
// not list.
func sensitiveActorsFor(targetRoles []string) []string {
	allowed := allSensitiveActors
	for _, role := range targetRoles {
		row, ok := sensitiveActorRows[strings.ToLower(role)]
		if !ok {
			row = privilegedActors
		}
		var next []string
		for _, a := range allowed {
			for _, b := range row {
				if a == b {
					next = append(next, a)
				}
			}
		}
		allowed = next
	}
	return allowed
}

// sensitiveAllowed reports whether a caller holding callerRoles may perform
// a sensitive action on a user holding targetRoles (role template ids).
func sensitiveAllowed(callerRoles, targetRoles []string) bool {
	for _, actor := range sensitiveActorsFor(targetRoles) {
		for _, held := range callerRoles {
			if strings.EqualFold(held, actor) {
				return true
			}
		}
	}
	return false
}

// targetRoles lists the role templates a sensitive action on userID is
// judged by: its active assignments and, unless the switch says otherwise,
// its PIM eligibilities (an eligible user can activate the role at any
// moment, so the stricter reading protects it too).
func (s *API) targetRoles(st *tenant.State, userID string, now time.Time) []string {
	ids := st.AssignedRoles(userID, now)
	if !s.sensitiveIgnoresEligibility {
		ids = append(ids, st.EligibleRoles(userID, now)...)
	}
	return st.RoleTemplates(ids)
}

// callerRoles lists the role templates the caller acts with: for an app,
// the roles configured for it plus active assignments to its service
// principal; for a signed-in user, the user's active assignments.
func (s *API) callerRoles(st *tenant.State, c identity.Caller, now time.Time) []string {
	if !c.AppOnly {
		return st.RoleTemplates(st.AssignedRoles(c.UserID, now))
	}
	out := append([]string(nil), s.apps.DirectoryRoles(c.AppID)...)
	return append(out, st.RoleTemplates(st.AssignedRoles(c.ObjectID, now))...)
}

// checkSensitive refuses a sensitive action on the user userID that the
// caller's directory roles do not allow, with Graph's 403. The store lock
// must be held.
func (s *API) checkSensitive(st *tenant.State, c identity.Caller, userID string) error {
	now := s.clock()
	target := s.targetRoles(st, userID, now)
	if c.AppOnly && len(target) == 0 {
		// The application permission is enough on users without admin roles.
		return nil
	}
	if !c.AppOnly && len(target) > 0 && !c.HasScope("Directory.AccessAsUser.All") {
		// "To delete users with administrator roles in delegated scenarios,
		// the app must be assigned the Directory.AccessAsUser.All delegated
		// permission" (user-delete, directory-deleteditems-restore).
		return grapherr.Forbidden()
	}
	if !sensitiveAllowed(s.callerRoles(st, c, now), target) {
		return grapherr.Forbidden()
	}
	return nil
}

// sensitive reports whether a user change touches a sensitive property.
func (c userChange) sensitive() bool {
	for _, p := range sensitiveProperties {
		if c.has(p) {
			return true
		}
	}
	return false
}
