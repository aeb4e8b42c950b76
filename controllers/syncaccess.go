package controllers

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/cloud"
	"github.com/entramatch/entra-match-operator/internal/tenantaccess"
)

// globalAdministratorTemplate is the role template id of Global
// Administrator, as it appears in a token's wids claim.
const globalAdministratorTemplate = "62e90394-69f5-4237-9190-012177145e10"

// syncPermission is the permission (application or delegated) that reading
// and writing the directory synchronization settings needs.
const syncPermission = "OnPremDirectorySynchronization.ReadWrite.All"

// classifySyncFeatures is classifyTenant with the one thing a person must
// know about this resource: which of the two kinds of access to configure,
// and how. The refused token's claims (cloud.Error.Access) decide between
// granting the application permission, switching to a delegated sign-in,
// granting the delegated scope, or signing in as a Global Administrator.
func classifySyncFeatures(err error, tenant *identityv1alpha1.EntraTenant) outcome {
	o := classifyTenant(err)
	var ce *cloud.Error
	if !errors.As(err, &ce) {
		return o
	}
	delegated := tenant.Spec.Delegated
	login := fmt.Sprintf("`entramatch login --tenant %s`", tenant.Name)
	loginTo := fmt.Sprintf("`entramatch login --tenant %s --secret <namespace>/<name>`", tenant.Name)
	switch {
	case ce.Class == cloud.ClassUnauthenticated && delegated != nil && signInUnusable(ce.Code):
		o.reason = identityv1alpha1.ReasonSignInRequired
		o.message = fmt.Sprintf("The delegated sign-in in Secret %s/%s (key %s) cannot be used (%s). Run %s as a Global Administrator to sign in again.",
			delegated.SecretRef.Namespace, delegated.SecretRef.Name, delegated.SecretRef.Key, ce.Message, login)
	case ce.Class != cloud.ClassPermission, ce.Op == tenantaccess.OpLoadTokenCache, ce.Op == tenantaccess.OpStoreTokenCache:
		// Not a refusal by Graph: the class's own reason and message.
	case ce.Access == nil:
		o.message = fmt.Sprintf("Microsoft Graph refused access to the tenant's directory synchronization settings (%s). "+
			"With application access, grant the app registration the Microsoft Graph application permission %s with admin consent; "+
			"if the tenant refuses app-only access to this resource, sign in a Global Administrator with %s and set spec.delegated.secretRef of EntraTenant %s.",
			err, syncPermission, loginTo, tenant.Name)
	case !ce.Access.Delegated && !ce.Access.Has(syncPermission):
		o.message = fmt.Sprintf("The app registration %s has no Microsoft Graph application permission %s (its token grants: %s). "+
			"Grant that permission with admin consent; the next resync picks it up.",
			tenant.Spec.Credentials.ClientID(), syncPermission, listOrNone(ce.Access.Permissions))
	case !ce.Access.Delegated:
		o.message = fmt.Sprintf("The tenant refuses app-only access to its directory synchronization settings, although the app registration %s holds %s (%s). "+
			"Configure a delegated sign-in: run %s as a Global Administrator, then set spec.delegated.secretRef of EntraTenant %s to that Secret.",
			tenant.Spec.Credentials.ClientID(), syncPermission, ce.Message, loginTo, tenant.Name)
	case !ce.Access.Has(syncPermission):
		o.message = fmt.Sprintf("The delegated sign-in of %s has no %s scope (its token grants: %s). "+
			"Grant the public client app that delegated permission with admin consent, then run %s again.",
			ce.Access.User, syncPermission, listOrNone(ce.Access.Permissions), login)
	case slices.Contains(ce.Access.DirectoryRoles, globalAdministratorTemplate):
		o.message = fmt.Sprintf("Microsoft Graph refused the delegated sign-in of %s although it has the %s scope and the Global Administrator role (%s).",
			ce.Access.User, syncPermission, ce.Message)
	case len(ce.Access.DirectoryRoles) == 0:
		// Tokens carry wids only when the app asks for directory roles
		// (groupMembershipClaims), so its absence proves nothing.
		o.message = fmt.Sprintf("Microsoft Graph refused the delegated sign-in of %s although it has the %s scope (%s). "+
			"Microsoft requires the signed-in person to be an active Global Administrator (with PIM, activated): "+
			"check the role, or run %s again as a Global Administrator.", ce.Access.User, syncPermission, ce.Message, login)
	default:
		o.message = fmt.Sprintf("%s is signed in with the %s scope but is not a Global Administrator, which Microsoft requires for delegated access to these settings (%s). "+
			"Run %s again as a Global Administrator.", ce.Access.User, syncPermission, ce.Message, login)
	}
	return o
}

// signInUnusable reports whether a token error means the stored sign-in
// must be renewed by a person: none stored, or its refresh token expired,
// revoked or already redeemed (invalid_grant), or a new consent or MFA is
// required (interaction_required).
func signInUnusable(code string) bool {
	switch code {
	case cloud.CodeNoSignIn, "invalid_grant", "interaction_required":
		return true
	}
	return false
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}
