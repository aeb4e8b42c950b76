package graphapi

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/entramatch/entra-match-operator/internal/emulator/grapherr"
	"github.com/entramatch/entra-match-operator/internal/emulator/tenant"
)

// User properties follow https://learn.microsoft.com/en-us/graph/api/resources/user
// (microsoft-graph-docs-contrib api-reference/v1.0/resources/user.md):
// GET returns a default set; the onPremises* properties, proxyAddresses and
// most others come back only when named in $select.

type userProp struct {
	name    string
	def     bool // part of the default property set
	get     func(*tenant.User) any
	set     func(*tenant.User, json.RawMessage) error // nil: read-only
	onPrem  bool                                      // writable even on an on-premises mastered user
	created bool                                      // required on POST /users
}

func strPtrVal(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

func boolPtrVal(p *bool) any {
	if p == nil {
		return nil
	}
	return *p
}

func timeVal(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

func listVal(l []string) any {
	if l == nil {
		return []string{}
	}
	return l
}

func invalidUserValue(prop string) error { return grapherr.InvalidValue(prop, "User") }

// setOptString assigns a string or JSON null.
func setOptString(prop string, field func(*tenant.User) **string) func(*tenant.User, json.RawMessage) error {
	return func(u *tenant.User, raw json.RawMessage) error {
		if string(raw) == "null" {
			*field(u) = nil
			return nil
		}
		var v string
		if err := json.Unmarshal(raw, &v); err != nil {
			return invalidUserValue(prop)
		}
		*field(u) = &v
		return nil
	}
}

// setReqString assigns a non-empty string; null is refused.
func setReqString(prop string, field func(*tenant.User) *string) func(*tenant.User, json.RawMessage) error {
	return func(u *tenant.User, raw json.RawMessage) error {
		var v string
		if err := json.Unmarshal(raw, &v); err != nil || string(raw) == "null" || strings.TrimSpace(v) == "" {
			return invalidUserValue(prop)
		}
		*field(u) = v
		return nil
	}
}

var userProps = []userProp{
	{name: "id", def: true, get: func(u *tenant.User) any { return u.ID }},
	{name: "businessPhones", def: true, get: func(u *tenant.User) any { return listVal(u.BusinessPhones) },
		set: func(u *tenant.User, raw json.RawMessage) error {
			var v []string
			if err := json.Unmarshal(raw, &v); err != nil {
				return invalidUserValue("businessPhones")
			}
			u.BusinessPhones = v
			return nil
		}},
	{name: "displayName", def: true, created: true, get: func(u *tenant.User) any { return u.DisplayName },
		set: setReqString("displayName", func(u *tenant.User) *string { return &u.DisplayName })},
	{name: "givenName", def: true, get: func(u *tenant.User) any { return strPtrVal(u.GivenName) },
		set: setOptString("givenName", func(u *tenant.User) **string { return &u.GivenName })},
	{name: "jobTitle", def: true, get: func(u *tenant.User) any { return strPtrVal(u.JobTitle) },
		set: setOptString("jobTitle", func(u *tenant.User) **string { return &u.JobTitle })},
	{name: "mail", def: true, get: func(u *tenant.User) any { return strPtrVal(u.Mail) },
		set: func(u *tenant.User, raw json.RawMessage) error {
			if err := setOptString("mail", func(u *tenant.User) **string { return &u.Mail })(u, raw); err != nil {
				return err
			}
			if u.Mail != nil && !strings.Contains(*u.Mail, "@") {
				return invalidUserValue("mail")
			}
			u.ProxyAddresses = proxiesForMail(u.ProxyAddresses, u.Mail)
			return nil
		}},
	{name: "mobilePhone", def: true, get: func(u *tenant.User) any { return strPtrVal(u.MobilePhone) },
		set: setOptString("mobilePhone", func(u *tenant.User) **string { return &u.MobilePhone })},
	{name: "officeLocation", def: true, get: func(u *tenant.User) any { return strPtrVal(u.OfficeLocation) },
		set: setOptString("officeLocation", func(u *tenant.User) **string { return &u.OfficeLocation })},
	{name: "preferredLanguage", def: true, get: func(u *tenant.User) any { return strPtrVal(u.PreferredLanguage) },
		set: setOptString("preferredLanguage", func(u *tenant.User) **string { return &u.PreferredLanguage })},
	{name: "surname", def: true, get: func(u *tenant.User) any { return strPtrVal(u.Surname) },
		set: setOptString("surname", func(u *tenant.User) **string { return &u.Surname })},
	{name: "userPrincipalName", def: true, created: true, get: func(u *tenant.User) any { return u.UserPrincipalName },
		set: setReqString("userPrincipalName", func(u *tenant.User) *string { return &u.UserPrincipalName })},

	{name: "accountEnabled", created: true, get: func(u *tenant.User) any { return boolPtrVal(u.AccountEnabled) },
		set: func(u *tenant.User, raw json.RawMessage) error {
			var v bool
			if err := json.Unmarshal(raw, &v); err != nil || string(raw) == "null" {
				return invalidUserValue("accountEnabled")
			}
			u.AccountEnabled = &v
			return nil
		}},
	{name: "mailNickname", created: true, get: func(u *tenant.User) any { return u.MailNickname },
		set: setReqString("mailNickname", func(u *tenant.User) *string { return &u.MailNickname })},
	{name: "passwordProfile", created: true, onPrem: true, get: func(*tenant.User) any { return nil },
		set: setPasswordProfile},
	{name: "usageLocation", onPrem: true, get: func(u *tenant.User) any { return strPtrVal(u.UsageLocation) },
		set: setOptString("usageLocation", func(u *tenant.User) **string { return &u.UsageLocation })},
	{name: "department", get: func(u *tenant.User) any { return strPtrVal(u.Department) },
		set: setOptString("department", func(u *tenant.User) **string { return &u.Department })},
	{name: "employeeId", get: func(u *tenant.User) any { return strPtrVal(u.EmployeeID) },
		set: setOptString("employeeId", func(u *tenant.User) **string { return &u.EmployeeID })},
	{name: "userType", get: func(u *tenant.User) any { return u.UserType },
		set: func(u *tenant.User, raw json.RawMessage) error {
			var v string
			if err := json.Unmarshal(raw, &v); err != nil || (v != "Member" && v != "Guest") {
				return invalidUserValue("userType")
			}
			u.UserType = v
			return nil
		}},
	{name: "proxyAddresses", get: func(u *tenant.User) any { return listVal(u.ProxyAddresses) }},
	{name: "createdDateTime", get: func(u *tenant.User) any { return timeVal(u.CreatedDateTime) }},
	{name: "deletedDateTime", get: func(u *tenant.User) any { return timeVal(u.DeletedDateTime) }},
	{name: "onPremisesImmutableId", get: func(u *tenant.User) any { return strPtrVal(u.OnPremisesImmutableID) },
		set: func(u *tenant.User, raw json.RawMessage) error {
			if err := setOptString("onPremisesImmutableId", func(u *tenant.User) **string { return &u.OnPremisesImmutableID })(u, raw); err != nil {
				return err
			}
			if u.OnPremisesImmutableID != nil {
				return tenant.ValidImmutableID(*u.OnPremisesImmutableID)
			}
			return nil
		}},
	{name: "onPremisesSyncEnabled", get: func(u *tenant.User) any { return boolPtrVal(u.OnPremisesSyncEnabled) }},
	{name: "onPremisesLastSyncDateTime", get: func(u *tenant.User) any { return timeVal(u.OnPremisesLastSyncDateTime) }},
	{name: "onPremisesDistinguishedName", get: func(u *tenant.User) any { return strPtrVal(u.OnPremisesDistinguishedName) }},
	{name: "onPremisesSamAccountName", get: func(u *tenant.User) any { return strPtrVal(u.OnPremisesSamAccountName) }},
	{name: "onPremisesUserPrincipalName", get: func(u *tenant.User) any { return strPtrVal(u.OnPremisesUserPrincipalName) }},
	{name: "onPremisesObjectIdentifier", get: func(u *tenant.User) any { return strPtrVal(u.OnPremisesObjectIdentifier) }},
	{name: "onPremisesDomainName", get: func(u *tenant.User) any { return strPtrVal(u.OnPremisesDomainName) }},
	{name: "onPremisesExtensionAttributes", get: func(u *tenant.User) any { return extensionAttributesVal(u.OnPremisesExtensionAttributes) },
		set: setExtensionAttributes},
	{name: "onPremisesProvisioningErrors", get: func(u *tenant.User) any {
		if u.OnPremisesProvisioningErrors == nil {
			return []tenant.ProvisioningError{}
		}
		return u.OnPremisesProvisioningErrors
	}},
}

// otherUserProps exist on microsoft.graph.user but are not modelled: they
// can be selected (and read as null) but not written.
var otherUserProps = []string{
	"aboutMe", "ageGroup", "assignedLicenses", "assignedPlans", "authorizationInfo", "birthday", "city",
	"companyName", "consentProvidedForMinor", "country", "creationType", "customSecurityAttributes",
	"employeeHireDate", "employeeLeaveDateTime", "employeeOrgData", "employeeType", "externalUserState",
	"externalUserStateChangeDateTime", "faxNumber", "hireDate", "identities", "imAddresses", "interests",
	"isManagementRestricted", "isResourceAccount", "lastPasswordChangeDateTime", "legalAgeGroupClassification",
	"licenseAssignmentStates", "mailboxSettings", "mySite",
	"onPremisesSecurityIdentifier", "onPremisesSipInfo", "otherMails", "passwordPolicies", "pastProjects",
	"postalCode", "preferredDataLocation", "preferredName", "provisionedPlans", "responsibilities", "schools",
	"securityIdentifier", "serviceProvisioningErrors", "showInAddressList", "signInActivity",
	"signInSessionsValidFromDateTime", "skills", "state", "streetAddress",
}

var (
	userPropIndex  = map[string]*userProp{}
	otherUserIndex = map[string]string{}
)

func init() {
	for i := range userProps {
		userPropIndex[strings.ToLower(userProps[i].name)] = &userProps[i]
	}
	for _, n := range otherUserProps {
		otherUserIndex[strings.ToLower(n)] = n
	}
}

// extensionAttributesVal is the complex value Graph returns: all fifteen
// names, null where unset.
func extensionAttributesVal(e tenant.ExtensionAttributes) any {
	m := make(map[string]any, len(e))
	for i, v := range e {
		m[tenant.ExtensionAttributeName(i)] = strPtrVal(nonEmpty(v))
	}
	return m
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// setExtensionAttributes merges the attributes named (null clears one) into
// the user's. The resource page: "For a cloud-only user (where
// onPremisesSyncEnabled is false or null), these properties can be set
// during creation or update. If a cloud-only user was previously synced
// from on-premises Active Directory, these properties can't be managed via
// the Microsoft Graph API." A synced user is refused before this runs (the
// property is not writable on a mastered user); a user whose
// onPremisesSyncEnabled is false was synced once, so it is refused here with
// the same message. Each value is at most 1024 characters.
func setExtensionAttributes(u *tenant.User, raw json.RawMessage) error {
	if u.OnPremisesSyncEnabled != nil {
		return grapherr.BadRequest("Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration.")
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return invalidUserValue("onPremisesExtensionAttributes")
	}
	names := slices.Sorted(maps.Keys(m))
	for _, k := range names {
		i, ok := tenant.ExtensionAttributeIndex(k)
		if !ok {
			return grapherr.NoSuchProperty(k, "microsoft.graph.onPremisesExtensionAttributes")
		}
		if string(m[k]) == "null" {
			u.OnPremisesExtensionAttributes[i] = ""
			continue
		}
		var v string
		if err := json.Unmarshal(m[k], &v); err != nil || utf8.RuneCountInString(v) > tenant.MaxExtensionAttributeLength {
			return grapherr.InvalidValue(k, "onPremisesExtensionAttributes")
		}
		u.OnPremisesExtensionAttributes[i] = v
	}
	return nil
}

// proxiesForMail makes mail the primary SMTP address, as Entra does for
// users without an Exchange mailbox: the old primary is dropped and a
// secondary equal to the new mail is promoted.
func proxiesForMail(current []string, mail *string) []string {
	var out []string
	if mail != nil {
		out = append(out, "SMTP:"+*mail)
	}
	for _, p := range current {
		if strings.HasPrefix(p, "SMTP:") {
			continue
		}
		if mail != nil && strings.EqualFold(p, "smtp:"+*mail) {
			continue
		}
		out = append(out, p)
	}
	return out
}

func setPasswordProfile(u *tenant.User, raw json.RawMessage) error {
	var pp map[string]json.RawMessage
	if err := json.Unmarshal(raw, &pp); err != nil || pp == nil {
		return invalidUserValue("passwordProfile")
	}
	for k, v := range pp {
		switch k {
		case "password":
			var pw string
			if err := json.Unmarshal(v, &pw); err != nil || pw == "" {
				return invalidUserValue("passwordProfile")
			}
			u.Password = pw
		case "forceChangePasswordNextSignIn", "forceChangePasswordNextSignInWithMfa":
			var b bool
			if err := json.Unmarshal(v, &b); err != nil {
				return invalidUserValue("passwordProfile")
			}
		case "@odata.type":
			if !isODataType(v, "microsoft.graph.passwordProfile") {
				return invalidUserValue("passwordProfile")
			}
		default:
			return grapherr.NoSuchProperty(k, "microsoft.graph.passwordProfile")
		}
	}
	if u.Password == "" {
		return invalidUserValue("passwordProfile")
	}
	return nil
}

func isODataType(raw json.RawMessage, want string) bool {
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return false
	}
	return strings.TrimPrefix(v, "#") == want
}

// resolveUserSelect maps $select names (case-insensitive) to canonical
// names; nil selects the default set.
func resolveUserSelect(sel []string) ([]string, error) {
	if sel == nil {
		var out []string
		for _, p := range userProps {
			if p.def {
				out = append(out, p.name)
			}
		}
		return out, nil
	}
	var out []string
	for _, name := range sel {
		if p, ok := userPropIndex[strings.ToLower(name)]; ok {
			out = append(out, p.name)
			continue
		}
		if n, ok := otherUserIndex[strings.ToLower(name)]; ok {
			out = append(out, n)
			continue
		}
		return nil, grapherr.New(http.StatusBadRequest, grapherr.CodeBadRequestPlain,
			fmt.Sprintf("Could not find a property named '%s' on type 'microsoft.graph.user'.", name))
	}
	return out, nil
}

func renderUser(u *tenant.User, props []string) map[string]any {
	out := make(map[string]any, len(props))
	for _, name := range props {
		if p, ok := userPropIndex[strings.ToLower(name)]; ok {
			out[p.name] = p.get(u)
		} else {
			out[name] = nil
		}
	}
	return out
}

// userChange is a decoded POST or PATCH body.
type userChange struct {
	props map[string]json.RawMessage // canonical name -> raw value
}

func (c userChange) has(name string) bool { _, ok := c.props[name]; return ok }

// decodeUserChange validates a user payload's property names and types:
// unknown names, read-only properties and unmodelled properties are
// refused with the 400 Graph gives.
func decodeUserChange(body map[string]json.RawMessage) (userChange, error) {
	c := userChange{props: map[string]json.RawMessage{}}
	names := make([]string, 0, len(body))
	for k := range body {
		names = append(names, k)
	}
	slices.Sort(names) // deterministic error when several properties are wrong
	for _, k := range names {
		raw := body[k]
		switch {
		case k == "@odata.type":
			if !isODataType(raw, "microsoft.graph.user") {
				return c, grapherr.BadRequest("A type named '%s' could not be resolved by the model.", strings.Trim(string(raw), `"`))
			}
			continue
		case strings.HasPrefix(k, "@"):
			continue // instance annotations carry no data
		case strings.Contains(k, "@"):
			return c, grapherr.BadRequest("Property annotation '%s' is not supported by the emulator.", k)
		}
		p, ok := userPropIndex[strings.ToLower(k)]
		if !ok || p.name != k {
			if n, other := otherUserIndex[strings.ToLower(k)]; other && n == k {
				return c, grapherr.BadRequest("Property '%s' is not supported by the emulator.", k)
			}
			return c, grapherr.NoSuchProperty(k, "microsoft.graph.user")
		}
		if p.set == nil {
			return c, grapherr.BadRequest("Property '%s' is read-only and cannot be set.", k)
		}
		c.props[p.name] = raw
	}
	return c, nil
}

// apply sets the change's properties on u, in the fixed order of userProps.
func (c userChange) apply(u *tenant.User) error {
	for i := range userProps {
		p := &userProps[i]
		raw, ok := c.props[p.name]
		if !ok {
			continue
		}
		if err := p.set(u, raw); err != nil {
			return err
		}
	}
	return nil
}

// onlyCloudWritable reports whether every property in the change may be
// written on an on-premises mastered user.
func (c userChange) onlyCloudWritable() bool {
	for name := range c.props {
		if !userPropIndex[strings.ToLower(name)].onPrem {
			return false
		}
	}
	return true
}
