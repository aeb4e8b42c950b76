package syncfeatures

import "testing"

// One governor per tenant (only one TenantSyncFeatures may govern a
// tenant): two objects are rivals when they name the same EntraTenant, or
// two EntraTenants for the same tenant in the same cloud.
func TestSameTenant(t *testing.T) {
	const id = "7c1d9f4e-2b3a-4c5d-8e6f-0a1b2c3d4e5f"
	cases := []struct {
		name string
		a, b TenantRef
		want bool
	}{
		{"same EntraTenant", TenantRef{Name: "contoso", TenantID: id}, TenantRef{Name: "contoso"}, true},
		{"alias for the same tenant ID, case aside", TenantRef{Name: "contoso", TenantID: id, Cloud: "Public"},
			TenantRef{Name: "alias", TenantID: "7C1D9F4E-2B3A-4C5D-8E6F-0A1B2C3D4E5F", Cloud: "Public"}, true},
		{"same tenant ID in another cloud", TenantRef{Name: "contoso", TenantID: id, Cloud: "Public"},
			TenantRef{Name: "gov", TenantID: id, Cloud: "USGov"}, false},
		{"other tenant", TenantRef{Name: "contoso", TenantID: id}, TenantRef{Name: "fabrikam", TenantID: "00000000-0000-0000-0000-000000000001"}, false},
		{"the other EntraTenant is missing", TenantRef{Name: "contoso", TenantID: id}, TenantRef{Name: "gone"}, false},
	}
	for _, tc := range cases {
		if got := SameTenant(tc.a, tc.b); got != tc.want {
			t.Errorf("%s: SameTenant = %t, want %t", tc.name, got, tc.want)
		}
	}
}
