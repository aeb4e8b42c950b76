package syncplan

import "testing"

// Each outcome and code links the page whose rule it follows (the package
// comment lists them).
func TestPage(t *testing.T) {
	for _, tc := range []struct {
		outcome Outcome
		code    string
		page    string
	}{
		{HardMatch, "", "how-to-connect-install-existing-tenant"},
		{SoftMatchSMTP, "", "how-to-connect-install-existing-tenant"},
		{SoftMatchUPN, "", "how-to-connect-install-existing-tenant"},
		{Updated, CodeAnchorHidden, "how-to-connect-install-existing-tenant"},
		{Created, "", "how-to-connect-syncservice-duplicate-attribute-resiliency"},
		{Created, CodeAnchorTaken, "how-to-connect-syncservice-duplicate-attribute-resiliency"},
		{Created, CodeAmbiguous, "how-to-connect-syncservice-duplicate-attribute-resiliency"},
		{Created, CodeUPNNotVerified, "plan-connect-userprincipalname"},
		{Created, CodeNotMailEnabled, "how-to-connect-install-existing-tenant"},
		{Created, CodeSoftMatchBlocked, "how-to-connect-install-existing-tenant"},
		{Refused, CodeInvalidHardMatch, "tshoot-connect-sync-errors"},
		{Refused, CodeObjectTypeMismatch, "tshoot-connect-sync-errors"},
		{Refused, CodeExistingAdminRoleConflict, "tshoot-connect-sync-errors"},
		{Refused, CodeAttributeUpdateNotAllowed, "tshoot-connect-sync-errors"},
	} {
		if got := Page(tc.outcome, tc.code); got != pageBase+tc.page {
			t.Errorf("Page(%s, %q) = %s, want %s", tc.outcome, tc.code, got, pageBase+tc.page)
		}
	}
}
