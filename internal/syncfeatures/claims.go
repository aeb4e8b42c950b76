package syncfeatures

import "time"

// Claim is one TenantSyncFeatures that wants to govern a tenant.
type Claim struct {
	Name    string
	Created time.Time
}

// Governor picks the one claim that governs a tenant: the oldest, and on a
// tie (creation times have a one-second grain) the first by name, so every
// reconciler picks the same one whatever order it lists them in. A claim
// being deleted still counts until it is gone, so that its deletion policy
// does not race a successor. ok is false for no claims.
func Governor(claims []Claim) (gov Claim, ok bool) {
	for i, c := range claims {
		if i == 0 || c.Created.Before(gov.Created) || (c.Created.Equal(gov.Created) && c.Name < gov.Name) {
			gov = c
		}
	}
	return gov, len(claims) > 0
}
