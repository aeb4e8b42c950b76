// Package syncrules is the decision table of the emulated Entra sync service: given one
// object exported from on-premises AD and a read-only view of the cloud directory, it decides
// whether the object hard-matches, soft-matches, updates an already synced object, is
// provisioned as a new object (with duplicate attribute resiliency), or fails with the
// export error Microsoft documents. It performs no I/O and mutates nothing; the emulator's
// store applies the Decision.
//
// Sources (MicrosoftDocs/entra-docs, docs/identity/hybrid/connect/):
//   - how-to-connect-install-existing-tenant.md: match order, block flags, admin roles (any
//     admin role blocks soft match), hard match security protections (July 2026: privileged
//     roles, assigned or eligible, also on soft-deleted targets), groups and contacts.
//   - how-to-connect-syncservice-duplicate-attribute-resiliency.md: quarantine format, always on.
//   - tshoot-connect-sync-errors.md: InvalidHardMatch (and its 2026 messages), InvalidSoftMatch
//     (not seen for new objects with resiliency), ObjectTypeMismatch, AttributeValueMustBeUnique,
//     Existing Admin Role Conflict.
//   - plan-connect-userprincipalname.md: UPN on a non-verified suffix, MailNickName order.
package syncrules

// ObjectType is the kind of directory object being exported or looked up.
type ObjectType string

// Object types that Entra Connect exports.
const (
	User    ObjectType = "user"
	Group   ObjectType = "group"
	Contact ObjectType = "contact"
)

// Outcome is what the sync service does with one exported object.
type Outcome string

// Outcomes of Decide.
const (
	// HardMatch: the sourceAnchor equals a cloud-managed object's onPremisesImmutableId;
	// that object is taken over.
	HardMatch Outcome = "HardMatch"
	// SoftMatchSMTP: the primary SMTP address matched a cloud-managed object.
	SoftMatchSMTP Outcome = "SoftMatchSmtp"
	// SoftMatchUPN: the userPrincipalName matched a cloud-managed user.
	SoftMatchUPN Outcome = "SoftMatchUpn"
	// Created: a new cloud object is provisioned.
	Created Outcome = "Created"
	// Updated: the anchor already belongs to an object synced from on-premises.
	Updated Outcome = "Updated"
	// Error: nothing is written; the export fails with Decision.Code.
	Error Outcome = "Error"
)

// Export error codes, spelled as Entra reports them.
const (
	CodeInvalidHardMatch             = "InvalidHardMatch"
	CodeInvalidSoftMatch             = "InvalidSoftMatch"
	CodeExistingAdminRoleConflict    = "ExistingAdminRoleConflict"
	CodeAttributeValueMustBeUnique   = "AttributeValueMustBeUnique"
	CodeObjectTypeMismatch           = "ObjectTypeMismatch"
	CodeAttributeUpdateNotAllowed    = "AttributeUpdateNotAllowed"
	CodeIdentityDataValidationFailed = "IdentityDataValidationFailed"
)

// Export error messages as tshoot-connect-sync-errors.md (InvalidHardMatch, 2026 version)
// and the 2026-03 "Microsoft Entra Connect security hardening" entry of Microsoft Entra's
// what's new (docs/fundamentals/whats-new.md) give them.
const (
	// MessagePrivilegedTakeover: InvalidHardMatch (103), target assigned or eligible for a
	// privileged role.
	MessagePrivilegedTakeover = "The cloud user with privileged roles is not allowed to be taken over."
	// MessageObjectIdentifierSet: AttributeUpdateNotAllowed (96), a cloud-managed target whose
	// onPremisesObjectIdentifier is already set.
	MessageObjectIdentifierSet = "Unable to update this object because the following attributes associated with this object are not allowed to be updated by your on-premises directory: [OnPremisesObjectIdentifier cannot be changed unless its current value is null.]"
	// MessageHardMatchHardening: a synced object remapped to a different on-premises object.
	MessageHardMatchHardening = "Hard match operation blocked due to security hardening. Review OnPremisesObjectIdentifier mapping."
	// MessageTakeoverBlocked: InvalidHardMatch with blockCloudObjectTakeoverThroughHardMatchEnabled.
	// Microsoft documents no text for it; this is the page's description of the error.
	MessageTakeoverBlocked = "An attempt to hard match an object present in Microsoft Entra ID with a new incoming object that has the same sourceAnchor value was blocked: BlockCloudObjectTakeoverThroughHardMatchEnabled is enabled on the tenant."
)

// Property names used in provisioning errors (Graph onPremisesProvisioningError.propertyCausingError).
const (
	PropertyUserPrincipalName = "UserPrincipalName"
	PropertyProxyAddresses    = "ProxyAddresses"
)

// CategoryPropertyConflict is the only provisioning error category Entra documents.
const CategoryPropertyConflict = "PropertyConflict"

// Export is one on-premises object as the sync client sends it to Entra.
type Export struct {
	Type ObjectType
	// SourceAnchor is the Base64 immutableId (case-sensitive).
	SourceAnchor string
	// UserPrincipalName is the on-premises UPN; users only.
	UserPrincipalName string
	// MailNickname is the on-premises mailNickName, if set.
	MailNickname string
	Mail         string
	// ProxyAddresses as in AD: "SMTP:" marks the primary address, "smtp:" secondaries,
	// other prefixes (X500:, SIP:) are carried through untouched.
	ProxyAddresses []string
	// MailEnabled applies to groups: only mail-enabled groups can be soft-matched.
	MailEnabled bool
	// ObjectIdentifier is the value the sync stamps into onPremisesObjectIdentifier.
	// Empty when the client does not send one.
	ObjectIdentifier string
}

// CloudObject is the part of a cloud object the rules look at.
type CloudObject struct {
	ID                string
	Type              ObjectType
	UserPrincipalName string
	Mail              string
	ProxyAddresses    []string
	// OnPremisesImmutableID is the stored sourceAnchor. The emulator keeps it for synced
	// groups and contacts too, although Graph exposes it on users only.
	OnPremisesImmutableID string
	// OnPremisesSyncEnabled: nil = never synced (cloud-managed), true = synced now,
	// false = was synced, then removed from sync scope (and possibly restored).
	OnPremisesSyncEnabled      *bool
	OnPremisesObjectIdentifier string
	// AdminRoleAssigned: holds an active assignment of any directory (admin) role, privileged
	// or not. Soft match refuses such a user: "Microsoft Entra ID won't match on-premises users
	// with cloud users that have an admin role" (how-to-connect-install-existing-tenant.md) and
	// the fix for Existing Admin Role Conflict is to "remove the account from all admin roles"
	// (tshoot-connect-sync-errors.md).
	AdminRoleAssigned bool
	// AdminRoleEligible: eligible (PIM) for any directory role.
	AdminRoleEligible bool
	// PrivilegedRoleAssigned: holds an active assignment of a privileged directory role (the
	// PRIVILEGED label of the permissions reference). It implies AdminRoleAssigned. Which
	// roles count is the store's choice; the rules treat the flag as given.
	PrivilegedRoleAssigned bool
	// PrivilegedRoleEligible: eligible (PIM) for a privileged directory role. It implies
	// AdminRoleEligible.
	PrivilegedRoleEligible bool
	MailEnabled            bool
	// Deleted: soft-deleted (in deletedItems). Lookups may return such objects; the rules
	// only hard-match them (restoring them) and ignore them for soft match and uniqueness.
	Deleted bool
}

// Features are the tenant's onPremisesDirectorySynchronization feature flags that matching
// depends on.
type Features struct {
	BlockSoftMatch                                bool
	BlockCloudObjectTakeoverThroughHardMatch      bool
	SoftMatchOnUpn                                bool
	AllowOnPremUpdateOfOnPremisesObjectIdentifier bool
}

// Directory gives the read-only lookups the rules need. Address and UPN lookups are
// case-insensitive; ByImmutableID is exact. Results may include soft-deleted objects.
type Directory interface {
	ByImmutableID(anchor string) []CloudObject
	// ByPrimarySMTP finds objects whose primary SMTP address (the "SMTP:" proxy address,
	// or mail when there is none) equals addr (given without prefix).
	ByPrimarySMTP(addr string) []CloudObject
	ByUPN(upn string) []CloudObject
	// ByProxyAddress finds objects holding addr (without prefix) as any SMTP proxy address.
	ByProxyAddress(addr string) []CloudObject
	VerifiedDomain(suffix string) bool
	// InitialDomain is the tenant's <name>.onmicrosoft.com domain.
	InitialDomain() string
}

// ProvisioningError mirrors Graph's onPremisesProvisioningError (without the timestamp,
// which the store stamps).
type ProvisioningError struct {
	Category             string `json:"category"`
	PropertyCausingError string `json:"propertyCausingError"`
	Value                string `json:"value"`
}

// Decision is the result for one exported object.
type Decision struct {
	Outcome Outcome
	// TargetID is the cloud object matched or updated; for errors, the object in conflict.
	TargetID string
	// Restore: the target is soft-deleted and comes back from deletedItems.
	Restore bool
	// Code and Message describe an export error (Outcome Error) or, with Outcome Created,
	// the error reported while the object was still provisioned (ExistingAdminRoleConflict).
	Code    string
	Message string
	// The values to write on success. UserPrincipalName and MailNickname are empty for
	// groups and contacts.
	UserPrincipalName string
	MailNickname      string
	ProxyAddresses    []string
	// ProvisioningErrors lists the quarantined values; Quarantined is true when any exist.
	ProvisioningErrors []ProvisioningError
	Quarantined        bool
}

// Synced is a convenience for building CloudObject.OnPremisesSyncEnabled.
func Synced(b bool) *bool { return &b }
