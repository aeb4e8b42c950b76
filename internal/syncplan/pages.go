package syncplan

// pageBase is where the pages the predictor follows live.
const pageBase = "https://learn.microsoft.com/entra/identity/hybrid/connect/"

// Page is the Microsoft page that states the rule behind an outcome and
// code, for a reader who wants to check the prediction: the same pages the
// package comment cites for each rule.
func Page(outcome Outcome, code string) string {
	switch code {
	case CodeInvalidHardMatch, CodeObjectTypeMismatch, CodeExistingAdminRoleConflict, CodeAttributeUpdateNotAllowed:
		return pageBase + "tshoot-connect-sync-errors"
	case CodeUPNNotVerified:
		return pageBase + "plan-connect-userprincipalname"
	case CodeAnchorTaken, CodeAmbiguous:
		return pageBase + "how-to-connect-syncservice-duplicate-attribute-resiliency"
	case CodeNotMailEnabled, CodeSoftMatchBlocked, CodeAnchorHidden:
		return pageBase + "how-to-connect-install-existing-tenant"
	}
	if outcome == Created {
		return pageBase + "how-to-connect-syncservice-duplicate-attribute-resiliency"
	}
	return pageBase + "how-to-connect-install-existing-tenant"
}
