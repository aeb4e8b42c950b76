package privileged

import (
	"regexp"
	"strings"
	"testing"

	"github.com/entramatch/entra-match-operator/internal/cloud"
)

var guid = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// TestListIsWellFormed guards the table against editing mistakes: lower-case
// GUID template ids, each once, each name once.
func TestListIsWellFormed(t *testing.T) {
	ids, names := map[string]bool{}, map[string]bool{}
	privileged := 0
	for _, r := range builtinRoles {
		if !guid.MatchString(r.templateID) {
			t.Errorf("%s: template id %q is not a lower-case GUID", r.name, r.templateID)
		}
		if ids[r.templateID] || names[r.name] {
			t.Errorf("%s (%s) is listed twice", r.name, r.templateID)
		}
		ids[r.templateID], names[r.name] = true, true
		if r.privileged {
			privileged++
		}
	}
	// The list of ListTakenOn: 143 built-in roles, 32 marked privileged,
	// and Tenant Governance Administrator marked since.
	if len(builtinRoles) != 143 || privileged != 33 {
		t.Errorf("list holds %d roles, %d privileged; want 143 and 33", len(builtinRoles), privileged)
	}
}

// TestWellKnownRoles pins roles whose label matters most to matching, as
// Microsoft's built-in roles page marks them.
func TestWellKnownRoles(t *testing.T) {
	for _, c := range []struct {
		id, name   string
		privileged bool
	}{
		{"62e90394-69f5-4237-9190-012177145e10", "Global Administrator", true},
		{"e8611ab8-c189-46e8-94e1-60213ab1f814", "Privileged Role Administrator", true},
		{"7be44c8a-adaf-4e2a-84d6-ab2649e08a13", "Privileged Authentication Administrator", true},
		{"fe930be7-5e62-47db-91af-98c3a49a38b1", "User Administrator", true},
		{"8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2", "Hybrid Identity Administrator", true},
		{"729827e3-9c14-49f7-bb1b-9608f156bbb8", "Helpdesk Administrator", true},
		{"29232cdf-9323-42fd-ade2-1d097af3e4de", "Exchange Administrator", false},
		{"88d8e3e3-8f55-4a1e-953a-9b9898b8876b", "Directory Readers", false},
		{"fdd7a751-b60b-444a-984c-02652fe8fa1c", "Groups Administrator", false},
		{"4d6ac14f-3453-41d0-bef9-a3e0c569773a", "License Administrator", false},
	} {
		name, ok := BuiltinName(c.id)
		if !ok || name != c.name {
			t.Errorf("%s: name %q (known %v), want %q", c.id, name, ok, c.name)
		}
		def := cloud.RoleDefinition{ID: c.id, TemplateID: c.id, IsBuiltIn: true, DisplayName: c.name}
		if got := IsPrivileged(def, c.id); got != c.privileged {
			t.Errorf("%s: privileged %v, want %v", c.name, got, c.privileged)
		}
	}
}

// TestNeverNotPrivilegedByDefault: what the list cannot vouch for counts as
// privileged.
func TestNeverNotPrivilegedByDefault(t *testing.T) {
	const exchange = "29232cdf-9323-42fd-ade2-1d097af3e4de"
	for _, c := range []struct {
		name       string
		def        cloud.RoleDefinition
		refID      string
		privileged bool
		why        string
	}{
		{"definition not read", cloud.RoleDefinition{}, exchange, true, "could not be read"},
		{"custom role", cloud.RoleDefinition{ID: "3c5b6ff0-9f4e-4a47-9d0c-8f8f0a1c2b3d", DisplayName: "Helpdesk Tier 3"}, "3c5b6ff0-9f4e-4a47-9d0c-8f8f0a1c2b3d", true, "custom role"},
		{"custom role copying a non-privileged template", cloud.RoleDefinition{ID: "3c5b6ff0-9f4e-4a47-9d0c-8f8f0a1c2b3d", TemplateID: exchange}, "3c5b6ff0-9f4e-4a47-9d0c-8f8f0a1c2b3d", true, "custom role"},
		{"unknown built-in", cloud.RoleDefinition{ID: "00000000-1111-4222-8333-444444444444", IsBuiltIn: true}, "00000000-1111-4222-8333-444444444444", true, "missing from the operator's list"},
		{"built-in without templateId, by id", cloud.RoleDefinition{ID: exchange, IsBuiltIn: true}, exchange, false, "does not mark Exchange Administrator"},
		{"built-in, upper-case id", cloud.RoleDefinition{ID: strings.ToUpper(exchange), IsBuiltIn: true}, exchange, false, "Exchange Administrator"},
		{"built-in privileged", cloud.RoleDefinition{ID: "62e90394-69f5-4237-9190-012177145e10", IsBuiltIn: true}, "", true, "marks Global Administrator as privileged"},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := Of(c.def, c.refID)
			if v.Privileged != c.privileged || !strings.Contains(v.Why, c.why) {
				t.Errorf("Of = %+v, want privileged=%v with %q", v, c.privileged, c.why)
			}
		})
	}
}
