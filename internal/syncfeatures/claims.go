package syncfeatures

import (
	"strings"
	"time"
)

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

// TenantRef is what a TenantSyncFeatures governs: the EntraTenant it names
// and, when that object was read, its tenant ID and cloud.
type TenantRef struct {
	Name, TenantID, Cloud string
}

// SameTenant reports whether two TenantSyncFeatures govern the same tenant:
// they name the same EntraTenant, or EntraTenants for the same tenant ID
// (GUIDs compare without case) in the same cloud.
func SameTenant(a, b TenantRef) bool {
	if a.Name == b.Name {
		return true
	}
	return a.TenantID != "" && strings.EqualFold(a.TenantID, b.TenantID) && a.Cloud == b.Cloud
}
