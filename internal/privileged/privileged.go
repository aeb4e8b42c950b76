package privileged

import (
	"strings"

	"github.com/entramatch/entra-match-operator/internal/cloud"
)

// Verdict says whether a role counts as privileged, and why, in words a
// condition message can carry.
type Verdict struct {
	Privileged bool
	Why        string
}

var byTemplate = func() map[string]int {
	m := make(map[string]int, len(builtinRoles))
	for i, r := range builtinRoles {
		m[r.templateID] = i
	}
	return m
}()

// Of decides for the role definition def, referenced as roleDefinitionID by
// an assignment or eligibility. Built-in roles are looked up by template id
// (for built-in roles Graph's roleDefinitionId is the template id); anything
// the list cannot vouch for is privileged.
func Of(def cloud.RoleDefinition, roleDefinitionID string) Verdict {
	if def.ID == "" {
		return Verdict{true, "its role definition could not be read, so it is treated as privileged"}
	}
	if !def.IsBuiltIn {
		return Verdict{true, "it is a custom role; custom roles are treated as privileged"}
	}
	template := strings.ToLower(firstNonEmpty(def.TemplateID, def.ID, roleDefinitionID))
	i, ok := byTemplate[template]
	if !ok {
		return Verdict{true, "it is a built-in role missing from the operator's list of " + ListTakenOn + ", so it is treated as privileged"}
	}
	if builtinRoles[i].privileged {
		return Verdict{true, "Microsoft marks " + builtinRoles[i].name + " as privileged"}
	}
	return Verdict{false, "Microsoft does not mark " + builtinRoles[i].name + " as privileged"}
}

// IsPrivileged is Of(...).Privileged.
func IsPrivileged(def cloud.RoleDefinition, roleDefinitionID string) bool {
	return Of(def, roleDefinitionID).Privileged
}

// BuiltinName returns the display name of a built-in role by template id.
func BuiltinName(templateID string) (string, bool) {
	i, ok := byTemplate[strings.ToLower(templateID)]
	if !ok {
		return "", false
	}
	return builtinRoles[i].name, true
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
