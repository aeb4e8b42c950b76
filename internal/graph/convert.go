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
		ProvisioningErrors:          toProvisioningErrors(u.GetOnPremisesProvisioningErrors()),
	}
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
