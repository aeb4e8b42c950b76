package cloud

import (
	"strconv"
	"strings"
	"time"
)

// User is the part of a Graph user that matching reads. The onPremises*
// properties are only returned by Graph when selected, so implementations
// must always select them.
type User struct {
	ID                          string
	UserPrincipalName           string
	DisplayName                 string
	Mail                        string
	ProxyAddresses              []string
	OnPremisesImmutableID       string
	OnPremisesSyncEnabled       *bool
	OnPremisesLastSyncDateTime  *time.Time
	OnPremisesDistinguishedName string
	OnPremisesObjectIdentifier  string
	OnPremisesUserPrincipalName string
	// EmployeeID is employeeId, which a UserMatchSet may pair on.
	EmployeeID string
	// MailNickname, OnPremisesSamAccountName and ExtensionAttributes
	// (onPremisesExtensionAttributes, keyed extensionAttribute1..15, only
	// the non-empty ones) are read only by ListUsers when asked for
	// (PairingSelect): a UserMatchSet may pair on them.
	MailNickname             string
	OnPremisesSamAccountName string
	ExtensionAttributes      map[string]string
	// ProvisioningErrors are the values sync quarantined on this object
	// (onPremisesProvisioningErrors): what collided when it was provisioned.
	ProvisioningErrors []ProvisioningError
}

// UserChange is one entry of a users delta round (Client.UsersDelta).
type UserChange struct {
	// User holds the properties the entry carried; the others are zero.
	User User
	// Present names the Graph properties the entry carried, "id" always
	// (the Prop* constants name those of User). In a full round every entry
	// is a whole user. Later, an updated user may carry only what changed:
	// a present property with a zero value was cleared, an absent one is
	// unchanged. Merge applies exactly that.
	Present map[string]bool
	// Removed says the user left the users collection. Permanent tells a
	// permanent deletion from a soft delete, which deleted items can still
	// restore (Graph's @removed reason "deleted" or "changed").
	Removed   bool
	Permanent bool
}

// Graph property names of User's fields, as UserChange.Present names them.
const (
	PropID                            = "id"
	PropUserPrincipalName             = "userPrincipalName"
	PropDisplayName                   = "displayName"
	PropMail                          = "mail"
	PropProxyAddresses                = "proxyAddresses"
	PropOnPremisesImmutableID         = "onPremisesImmutableId"
	PropOnPremisesSyncEnabled         = "onPremisesSyncEnabled"
	PropOnPremisesLastSyncDateTime    = "onPremisesLastSyncDateTime"
	PropOnPremisesDistinguishedName   = "onPremisesDistinguishedName"
	PropOnPremisesObjectIdentifier    = "onPremisesObjectIdentifier"
	PropOnPremisesUserPrincipalName   = "onPremisesUserPrincipalName"
	PropEmployeeID                    = "employeeId"
	PropMailNickname                  = "mailNickname"
	PropOnPremisesSamAccountName      = "onPremisesSamAccountName"
	PropOnPremisesExtensionAttributes = "onPremisesExtensionAttributes"
	PropOnPremisesProvisioningErrors  = "onPremisesProvisioningErrors"
)

// Has reports whether the entry carried the Graph property prop.
func (c UserChange) Has(prop string) bool { return c.Present[prop] }

// Merge returns known with the entry's present properties applied, so that
// a partial update never blanks what it did not carry. For a new user pass
// the zero User. A removal returns known unchanged: dropping the user is
// the caller's decision.
func (c UserChange) Merge(known User) User {
	if c.Removed {
		return known
	}
	out := known
	out.ID = c.User.ID
	if c.Has(PropUserPrincipalName) {
		out.UserPrincipalName = c.User.UserPrincipalName
	}
	if c.Has(PropDisplayName) {
		out.DisplayName = c.User.DisplayName
	}
	if c.Has(PropMail) {
		out.Mail = c.User.Mail
	}
	if c.Has(PropProxyAddresses) {
		out.ProxyAddresses = c.User.ProxyAddresses
	}
	if c.Has(PropOnPremisesImmutableID) {
		out.OnPremisesImmutableID = c.User.OnPremisesImmutableID
	}
	if c.Has(PropOnPremisesSyncEnabled) {
		out.OnPremisesSyncEnabled = c.User.OnPremisesSyncEnabled
	}
	if c.Has(PropOnPremisesLastSyncDateTime) {
		out.OnPremisesLastSyncDateTime = c.User.OnPremisesLastSyncDateTime
	}
	if c.Has(PropOnPremisesDistinguishedName) {
		out.OnPremisesDistinguishedName = c.User.OnPremisesDistinguishedName
	}
	if c.Has(PropOnPremisesObjectIdentifier) {
		out.OnPremisesObjectIdentifier = c.User.OnPremisesObjectIdentifier
	}
	if c.Has(PropOnPremisesUserPrincipalName) {
		out.OnPremisesUserPrincipalName = c.User.OnPremisesUserPrincipalName
	}
	if c.Has(PropEmployeeID) {
		out.EmployeeID = c.User.EmployeeID
	}
	if c.Has(PropOnPremisesProvisioningErrors) {
		out.ProvisioningErrors = c.User.ProvisioningErrors
	}
	return out
}

// PairingProperties are the cloud user properties a UserMatchSet may pair
// on, by the names its attribute rules use: extensionAttributeN is
// onPremisesExtensionAttributes' Nth (Exchange custom attribute N).
var PairingProperties = func() []string {
	out := []string{PropEmployeeID, PropMailNickname, PropOnPremisesSamAccountName}
	for n := 1; n <= 15; n++ {
		out = append(out, ExtensionAttributeName(n))
	}
	return out
}()

const extensionAttributePrefix = "extensionAttribute"

// ExtensionAttributeName is the name of onPremisesExtensionAttributes' Nth
// attribute, n from 1 to 15.
func ExtensionAttributeName(n int) string { return extensionAttributePrefix + strconv.Itoa(n) }

// PairingSelect is the Graph property ListUsers must select to read the
// pairing property prop, and false for a property it cannot pair on.
func PairingSelect(prop string) (string, bool) {
	switch {
	case prop == PropEmployeeID || prop == PropMailNickname || prop == PropOnPremisesSamAccountName:
		return prop, true
	case isExtensionAttribute(prop):
		return PropOnPremisesExtensionAttributes, true
	}
	return "", false
}

// PairingValue is the user's value of the pairing property prop ("" when
// unset or not a pairing property).
func (u User) PairingValue(prop string) string {
	switch {
	case prop == PropEmployeeID:
		return u.EmployeeID
	case prop == PropMailNickname:
		return u.MailNickname
	case prop == PropOnPremisesSamAccountName:
		return u.OnPremisesSamAccountName
	case isExtensionAttribute(prop):
		return u.ExtensionAttributes[prop]
	}
	return ""
}

func isExtensionAttribute(prop string) bool {
	n, err := strconv.Atoi(strings.TrimPrefix(prop, extensionAttributePrefix))
	return strings.HasPrefix(prop, extensionAttributePrefix) && err == nil && n >= 1 && n <= 15 &&
		prop == ExtensionAttributeName(n)
}

// ProvisioningError is one onPremisesProvisioningError.
type ProvisioningError struct {
	Category             string
	PropertyCausingError string
	Value                string
}

// Synced reports whether Entra's sync service masters the user: after a match
// the user is read-only for onPremises* writes through Graph.
func (u User) Synced() bool { return u.OnPremisesSyncEnabled != nil && *u.OnPremisesSyncEnabled }

// Domain is a tenant domain as GET /domains returns it.
type Domain struct {
	ID                 string
	IsVerified         bool
	IsInitial          bool
	IsDefault          bool
	AuthenticationType string
}

// Organization is the tenant's identity as GET /organization returns it.
type Organization struct {
	ID          string
	DisplayName string
}

// RoleDefinition is a directory role as Graph v1.0 describes it. v1.0 does
// not say whether a role is privileged (isPrivileged is beta-only): package
// privileged decides that from the template id.
type RoleDefinition struct {
	ID          string
	TemplateID  string
	DisplayName string
	IsBuiltIn   bool
}

// RoleAssignment is an active directory role assignment of a principal.
type RoleAssignment struct {
	ID               string
	PrincipalID      string
	RoleDefinitionID string
	DirectoryScopeID string
	Role             RoleDefinition
	// EndDateTime is when a time-bound assignment ends; nil for a
	// permanent one. Activated is true for a PIM activation of an
	// eligibility. Both are filled by RoleAssignments (per principal) only.
	EndDateTime *time.Time
	Activated   bool
}

// RoleEligibility is a PIM eligibility schedule instance of a principal.
type RoleEligibility struct {
	ID               string
	PrincipalID      string
	RoleDefinitionID string
	DirectoryScopeID string
	Role             RoleDefinition
	// EndDateTime is when a time-bound eligibility ends; nil for a
	// permanent one. AssignEligibility creates it with the same end.
	EndDateTime *time.Time
}

// DeletedUser is a soft-deleted user in the tenant's deleted items.
type DeletedUser struct {
	User
	DeletedDateTime *time.Time
}

// Group is the part of a Graph group a sync plan reads. Graph never shows a
// group's source anchor; a synced group says so in OnPremisesSyncEnabled.
type Group struct {
	ID                    string
	DisplayName           string
	Mail                  string
	MailEnabled           bool
	ProxyAddresses        []string
	OnPremisesSyncEnabled *bool
	// OnPremisesSamAccountName identifies a synced group: Graph does not
	// show its source anchor.
	OnPremisesSamAccountName string
}

// Contact is the part of a Graph organizational contact a sync plan reads.
type Contact struct {
	ID                    string
	DisplayName           string
	Mail                  string
	ProxyAddresses        []string
	OnPremisesSyncEnabled *bool
}
