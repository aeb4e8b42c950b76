package graph

import (
	"strings"

	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/entramatch/entra-match-operator/internal/cloud"
)

// Property names not modelled by msgraph-sdk-go v1.89; Graph returns them in
// the models' AdditionalData.
const (
	propObjectIdentifier = "onPremisesObjectIdentifier"
)

func toUser(u models.Userable) cloud.User {
	if u == nil {
		return cloud.User{}
	}
	return cloud.User{
		ID:                          deref(u.GetId()),
		UserPrincipalName:           deref(u.GetUserPrincipalName()),
		DisplayName:                 deref(u.GetDisplayName()),
		Mail:                        deref(u.GetMail()),
		ProxyAddresses:              append([]string(nil), u.GetProxyAddresses()...),
		OnPremisesImmutableID:       deref(u.GetOnPremisesImmutableId()),
		OnPremisesSyncEnabled:       copyPtr(u.GetOnPremisesSyncEnabled()),
		OnPremisesLastSyncDateTime:  copyPtr(u.GetOnPremisesLastSyncDateTime()),
		OnPremisesDistinguishedName: deref(u.GetOnPremisesDistinguishedName()),
		OnPremisesObjectIdentifier:  additionalString(u.GetAdditionalData(), propObjectIdentifier),
		OnPremisesUserPrincipalName: deref(u.GetOnPremisesUserPrincipalName()),
		EmployeeID:                  deref(u.GetEmployeeId()),
		MailNickname:                deref(u.GetMailNickname()),
		OnPremisesSamAccountName:    deref(u.GetOnPremisesSamAccountName()),
		ExtensionAttributes:         toExtensionAttributes(u.GetOnPremisesExtensionAttributes()),
		ProvisioningErrors:          toProvisioningErrors(u.GetOnPremisesProvisioningErrors()),
	}
}

// toExtensionAttributes keeps the non-empty attributes only: most users
// have none, and a tenant's list is held whole while a set pairs.
func toExtensionAttributes(e models.OnPremisesExtensionAttributesable) map[string]string {
	if e == nil {
		return nil
	}
	var out map[string]string
	for i, v := range []*string{e.GetExtensionAttribute1(), e.GetExtensionAttribute2(), e.GetExtensionAttribute3(),
		e.GetExtensionAttribute4(), e.GetExtensionAttribute5(), e.GetExtensionAttribute6(), e.GetExtensionAttribute7(),
		e.GetExtensionAttribute8(), e.GetExtensionAttribute9(), e.GetExtensionAttribute10(), e.GetExtensionAttribute11(),
		e.GetExtensionAttribute12(), e.GetExtensionAttribute13(), e.GetExtensionAttribute14(), e.GetExtensionAttribute15()} {
		if v != nil && *v != "" {
			if out == nil {
				out = map[string]string{}
			}
			out[cloud.ExtensionAttributeName(i+1)] = *v
		}
	}
	return out
}

func toProvisioningErrors(es []models.OnPremisesProvisioningErrorable) []cloud.ProvisioningError {
	var out []cloud.ProvisioningError
	for _, e := range es {
		if e != nil {
			out = append(out, cloud.ProvisioningError{Category: deref(e.GetCategory()),
				PropertyCausingError: deref(e.GetPropertyCausingError()), Value: deref(e.GetValue())})
		}
	}
	return out
}

func toDeletedUser(u models.Userable) cloud.DeletedUser {
	if u == nil {
		return cloud.DeletedUser{}
	}
	return cloud.DeletedUser{User: toUser(u), DeletedDateTime: copyPtr(u.GetDeletedDateTime())}
}

func toDomain(d models.Domainable) cloud.Domain {
	return cloud.Domain{
		ID:                 deref(d.GetId()),
		IsVerified:         deref(d.GetIsVerified()),
		IsInitial:          deref(d.GetIsInitial()),
		IsDefault:          deref(d.GetIsDefault()),
		AuthenticationType: deref(d.GetAuthenticationType()),
	}
}

func toRoleDefinition(r models.UnifiedRoleDefinitionable) cloud.RoleDefinition {
	if r == nil {
		return cloud.RoleDefinition{}
	}
	return cloud.RoleDefinition{
		ID:          deref(r.GetId()),
		TemplateID:  deref(r.GetTemplateId()),
		DisplayName: deref(r.GetDisplayName()),
		IsBuiltIn:   deref(r.GetIsBuiltIn()),
	}
}

func toRoleAssignment(a models.UnifiedRoleAssignmentable) cloud.RoleAssignment {
	return cloud.RoleAssignment{
		ID:               deref(a.GetId()),
		PrincipalID:      deref(a.GetPrincipalId()),
		RoleDefinitionID: deref(a.GetRoleDefinitionId()),
		DirectoryScopeID: deref(a.GetDirectoryScopeId()),
		Role:             toRoleDefinition(a.GetRoleDefinition()),
	}
}

func toRoleEligibility(e models.UnifiedRoleEligibilityScheduleInstanceable) cloud.RoleEligibility {
	return cloud.RoleEligibility{
		ID:               deref(e.GetId()),
		PrincipalID:      deref(e.GetPrincipalId()),
		RoleDefinitionID: deref(e.GetRoleDefinitionId()),
		DirectoryScopeID: deref(e.GetDirectoryScopeId()),
		Role:             toRoleDefinition(e.GetRoleDefinition()),
		EndDateTime:      e.GetEndDateTime(),
	}
}

// lookupBool reads a boolean the SDK did not model; the JSON parse node
// stores booleans as *bool.
func lookupBool(data map[string]any, key string) (value, ok bool) {
	for k, v := range data {
		if !strings.EqualFold(k, key) {
			continue
		}
		switch b := v.(type) {
		case *bool:
			if b != nil {
				return *b, true
			}
		case bool:
			return b, true
		}
	}
	return false, false
}

func additionalString(data map[string]any, key string) string {
	for k, v := range data {
		if !strings.EqualFold(k, key) {
			continue
		}
		switch s := v.(type) {
		case *string:
			return deref(s)
		case string:
			return s
		}
	}
	return ""
}

func copyPtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
