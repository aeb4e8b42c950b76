package v1alpha1

// Condition types. Ready and Synced are on every kind; the others are on
// UserMatch (and WindowActive on TenantSyncFeatures).
const (
	// ConditionReady: the declared state holds in the world (the tenant or
	// directory is reachable with valid credentials, the users are matched,
	// the flags have their desired values).
	ConditionReady = "Ready"
	// ConditionSynced: the last reconcile ran to the end without error.
	ConditionSynced = "Synced"
	// ConditionAnchorResolved: the AD user was found and its anchor read.
	ConditionAnchorResolved = "AnchorResolved"
	// ConditionCloudUserFound: the cloud user was found.
	ConditionCloudUserFound = "CloudUserFound"
	// ConditionMatched: the cloud user's onPremisesImmutableId equals the
	// anchor of the AD user.
	ConditionMatched = "Matched"
	// ConditionBlocked: something outside the spec stops the match (a
	// privileged role, a tenant block flag, a conflicting immutable ID, a
	// user synced from another anchor). True means blocked.
	ConditionBlocked = "Blocked"
	// ConditionUPNSuffixMismatch (warning): the AD user's UPN suffix is not a
	// verified domain of the tenant, so sync will rewrite the UPN to the
	// initial onmicrosoft.com domain. True means there is a mismatch.
	ConditionUPNSuffixMismatch = "UPNSuffixMismatch"
	// ConditionRolesRemoved (warning): directory roles of the cloud user are
	// removed for the match and are still to be restored.
	ConditionRolesRemoved = "RolesRemoved"
	// ConditionDuplicatesFound (warning): sync created cloud objects for the
	// same AD user; see status.duplicatesFound.
	ConditionDuplicatesFound = "DuplicatesFound"
	// ConditionWindowActive: a matching window of TenantSyncFeatures is open.
	ConditionWindowActive = "WindowActive"
	// ConditionDelegatedSignIn: the EntraTenant's spec.delegated Secret holds
	// a sign-in (as stored; TenantSyncFeatures conditions say whether Graph
	// accepts it).
	ConditionDelegatedSignIn = "DelegatedSignIn"
	// ConditionConsistencyGuidWritten: with the ActiveDirectory's
	// writeConsistencyGuid, the AD user's mS-DS-ConsistencyGuid holds the
	// anchor (absent when the directory does not ask for it).
	ConditionConsistencyGuidWritten = "ConsistencyGuidWritten"
	// ConditionStalled (abnormal-true, on every kind): the operator waits for
	// a person (a terminal failure, a block); its reason says why. kstatus,
	// and so Flux, read an object whose Stalled is True as Failed; it is
	// absent otherwise.
	ConditionStalled = "Stalled"
	// ConditionUPNSuffixesOffered: the forest offers every suffix of the
	// ActiveDirectory's spec.forestUPNSuffixes (absent without it).
	ConditionUPNSuffixesOffered = "UPNSuffixesOffered"
	// ConditionAligned (SignInNameAlignment): every user in scope has its
	// sign-in names on the target suffix, on both sides, or is refused.
	ConditionAligned = "Aligned"
)

// Condition reasons, CamelCase as metav1.Condition requires.
const (
	// Generic outcomes.

	// ReasonReconcileSucceeded: the last reconcile completed (Synced=True).
	ReasonReconcileSucceeded = "ReconcileSucceeded"
	// ReasonReconcileFailed: the last reconcile stopped on an error (Synced=False).
	ReasonReconcileFailed = "ReconcileFailed"
	// ReasonProgressing: work is under way; nothing is wrong yet.
	ReasonProgressing = "Progressing"
	// ReasonObserveOnly: Mode Observe; the needed change was reported, not made.
	ReasonObserveOnly = "ObserveOnly"
	// ReasonSecretNotFound: a referenced Secret or one of its keys is missing.
	ReasonSecretNotFound = "SecretNotFound"
	// ReasonSecretNotAllowed: a referenced Secret is in a namespace the
	// operator does not read Secrets from, or a token file is not a
	// projected federation token.
	ReasonSecretNotAllowed = "SecretNotAllowed"
	// ReasonInvalidCredentials: the credentials were refused.
	ReasonInvalidCredentials = "InvalidCredentials"
	// ReasonSignInRequired: the delegated sign-in (spec.delegated of the
	// EntraTenant) is missing, expired or revoked; run `entramatch login`.
	ReasonSignInRequired = "SignInRequired"
	// ReasonMissingPermission: signed in, but a Graph permission or directory
	// role (or an AD access right) is missing.
	ReasonMissingPermission = "MissingPermission"
	// ReasonUnreachable: the endpoint could not be reached (DNS, TCP, timeout).
	ReasonUnreachable = "Unreachable"
	// ReasonThrottled: Graph answered 429; the operator waits for Retry-After.
	ReasonThrottled = "Throttled"

	// EntraTenant.

	// ReasonVerified: the operator signed in and read the tenant's domains.
	ReasonVerified = "Verified"
	// ReasonSignedIn: spec.delegated names a Secret holding a sign-in.
	ReasonSignedIn = "SignedIn"
	// ReasonTenantNotFound: the tenant ID does not exist in the chosen cloud.
	ReasonTenantNotFound = "TenantNotFound"
	// ReasonWrongEndpoint: what answered at the Graph URL is not Microsoft
	// Graph (a web page or plain text instead of OData JSON).
	ReasonWrongEndpoint = "WrongEndpoint"

	// ActiveDirectory.

	// ReasonConnected: bound over TLS and searched the base DN.
	ReasonConnected = "Connected"
	// ReasonInsecureConnection: bound, but over clear-text LDAP (Ready=True
	// with this reason is a warning).
	ReasonInsecureConnection = "InsecureConnection"
	// ReasonTLSError: the TLS handshake failed (untrusted CA, wrong name).
	ReasonTLSError = "TLSError"
	// ReasonBaseDNNotFound: the base DN does not exist on the server.
	ReasonBaseDNNotFound = "BaseDNNotFound"
	// ReasonUPNSuffixesPresent: the forest offers every declared suffix.
	ReasonUPNSuffixesPresent = "UPNSuffixesPresent"
	// ReasonUPNSuffixesMissing: declared suffixes are missing from the
	// forest (Observe reports them; Enforce adds them on this pass).
	ReasonUPNSuffixesMissing = "UPNSuffixesMissing"

	// UserMatchSet (also ChangesPlanned, ChangesPending, AllAligned).

	// ReasonRolloutPaused: spec.paused holds back UserMatches still to
	// create.
	ReasonRolloutPaused = "RolloutPaused"
	// ReasonPairsInvalid: spec.pairs names a ConfigMap that is missing or
	// does not hold "adUser,cloudUser" lines.
	ReasonPairsInvalid = "PairsInvalid"
	// ReasonNeedsAttention: some pairs are ambiguous or their UserMatch is
	// blocked; status.attention lists them.
	ReasonNeedsAttention = "NeedsAttention"

	// SyncPlan.

	// ReasonPlanned: the plan was computed (Ready=True); the status counts
	// say what the next sync will do.
	ReasonPlanned = "Planned"

	// SignInNameAlignment: Aligned.

	// ReasonAllAligned: no user in scope needs a change (Aligned=True).
	ReasonAllAligned = "AllAligned"
	// ReasonChangesPlanned: Observe mode; status.planned lists what Enforce
	// would change.
	ReasonChangesPlanned = "ChangesPlanned"
	// ReasonChangesPending: Enforce mode; changes are being made at
	// spec.writesPerMinute.
	ReasonChangesPending = "ChangesPending"
	// ReasonRestored: spec.undo; every recorded name is back (Aligned=False,
	// Ready=True).
	ReasonRestored = "Restored"
	// ReasonRestoring: spec.undo; recorded names are being put back.
	ReasonRestoring = "Restoring"

	// SignInNameAlignment: what stops every write (Ready=False, Stalled).

	// ReasonTargetSuffixNotVerified: spec.targetSuffix is not a verified
	// domain of the tenant: Entra would refuse the cloud names, and sync
	// would rewrite the AD names to the onmicrosoft.com domain.
	ReasonTargetSuffixNotVerified = "TargetSuffixNotVerified"
	// ReasonTargetSuffixNotOffered: the forest does not offer
	// spec.targetSuffix as a UPN suffix (add it with the ActiveDirectory's
	// spec.forestUPNSuffixes).
	ReasonTargetSuffixNotOffered = "TargetSuffixNotOffered"
	// ReasonSoftMatchBlocked: blockSoftMatchEnabled is on in the tenant, so
	// aligned names would not make sync match.
	ReasonSoftMatchBlocked = "SoftMatchBlocked"
	// ReasonUPNSoftMatchDisabled: softMatchOnUpnEnabled is off in the tenant,
	// so aligned names would not make sync match.
	ReasonUPNSoftMatchDisabled = "UPNSoftMatchDisabled"
	// ReasonScopeOutsideDirectory: spec.scope.baseDN is not under the
	// ActiveDirectory's baseDN.
	ReasonScopeOutsideDirectory = "ScopeOutsideDirectory"
	// ReasonInvalidScopeFilter: spec.scope.filter is not a valid LDAP filter.
	ReasonInvalidScopeFilter = "InvalidScopeFilter"
	// ReasonChangeRecordFull: the record of changes holds its maximum; split
	// the scope into several objects.
	ReasonChangeRecordFull = "ChangeRecordFull"

	// SignInNameAlignment: why one user is refused (status.refusals).

	// ReasonNameTakenInForest: another AD object already has the new logon name.
	ReasonNameTakenInForest = "NameTakenInForest"
	// ReasonNameTakenInTenant: another cloud user already has the new
	// sign-in name.
	ReasonNameTakenInTenant = "NameTakenInTenant"
	// ReasonNameCollisionInScope: two users in scope would get the same name.
	ReasonNameCollisionInScope = "NameCollisionInScope"
	// ReasonAmbiguousCloudUser: more than one cloud user pairs with the AD
	// user; the operator never guesses.
	ReasonAmbiguousCloudUser = "AmbiguousCloudUser"
	// ReasonAlreadySynced: a cloud user already carries the AD user's anchor:
	// sync joined it, and its names are mastered on-premises.
	ReasonAlreadySynced = "AlreadySynced"
	// ReasonCloudUserSynced: the paired cloud user is synced or carries an
	// onPremisesImmutableId: Graph cannot rename it, and sync will not
	// soft-match it.
	ReasonCloudUserSynced = "CloudUserSynced"
	// ReasonCloudUserHasRoles: the paired cloud user holds directory roles,
	// which make Entra refuse the match (use a UserMatch with privilegedRoles
	// RemoveAndRestore).
	ReasonCloudUserHasRoles = "CloudUserHasRoles"
	// ReasonFederatedTargetDomain: targetSuffix is a federated domain; a
	// cloud-only user can only move into it with an immutable ID, which is
	// a hard match (use a UserMatch).
	ReasonFederatedTargetDomain = "FederatedTargetDomain"
	// ReasonNameWriteRefused: the directory or Graph refused the write; the
	// message quotes it.
	ReasonNameWriteRefused = "NameWriteRefused"

	// References from UserMatch and TenantSyncFeatures.

	// ReasonTenantNotReady: the referenced EntraTenant is missing or not Ready.
	ReasonTenantNotReady = "TenantNotReady"
	// ReasonDirectoryNotReady: the referenced ActiveDirectory is missing or not Ready.
	ReasonDirectoryNotReady = "DirectoryNotReady"

	// UserMatch: AnchorResolved and CloudUserFound.

	// ReasonResolved: the AD user was found and its anchor computed.
	ReasonResolved = "Resolved"
	// ReasonADUserNotFound: no AD user matches spec.adUser.
	ReasonADUserNotFound = "ADUserNotFound"
	// ReasonADUserAmbiguous: more than one AD user matches spec.adUser.
	ReasonADUserAmbiguous = "ADUserAmbiguous"
	// ReasonAnchorChanged: mS-DS-ConsistencyGuid was filled by another
	// writer between the operator's read and its write; the next pass
	// uses the stored value.
	ReasonAnchorChanged = "AnchorChanged"
	// ReasonConsistencyGuidWritten: the operator wrote objectGUID into the
	// empty mS-DS-ConsistencyGuid (also the Event of that write).
	ReasonConsistencyGuidWritten = "ConsistencyGuidWritten"
	// ReasonConsistencyGuidPresent: mS-DS-ConsistencyGuid already holds a
	// value, which the operator never overwrites.
	ReasonConsistencyGuidPresent = "ConsistencyGuidPresent"
	// ReasonAnchorMissing: the anchor attribute the spec demands is empty.
	ReasonAnchorMissing = "AnchorMissing"
	// ReasonFound: the cloud user was found.
	ReasonFound = "Found"
	// ReasonCloudUserNotFound: no cloud user matches.
	ReasonCloudUserNotFound = "CloudUserNotFound"

	// UserMatch: Matched and Ready.

	// ReasonImmutableIDSet: the cloud user carries the anchor; waiting for
	// the sync engine to join it.
	ReasonImmutableIDSet = "ImmutableIDSet"
	// ReasonSyncJoined: the sync engine has joined the cloud user.
	ReasonSyncJoined = "SyncJoined"
	// ReasonImmutableIDMismatch: the cloud user carries another immutable ID.
	ReasonImmutableIDMismatch = "ImmutableIDMismatch"
	// ReasonDriftCorrected: someone changed the immutable ID; it was rewritten.
	ReasonDriftCorrected = "DriftCorrected"

	// UserMatch: Blocked.

	// ReasonPrivilegedRole: the cloud user holds or is eligible for a
	// directory role and privilegedRoles is Refuse.
	ReasonPrivilegedRole = "PrivilegedRole"
	// ReasonHardMatchTakeoverBlocked: the tenant's
	// blockCloudObjectTakeoverThroughHardMatchEnabled is on.
	ReasonHardMatchTakeoverBlocked = "HardMatchTakeoverBlocked"
	// ReasonImmutableIDConflict: another object already holds the immutable ID.
	ReasonImmutableIDConflict = "ImmutableIDConflict"
	// ReasonSyncedFromOtherAnchor: the cloud user is already synced from a
	// different on-premises object; it cannot be changed from the cloud.
	ReasonSyncedFromOtherAnchor = "SyncedFromOtherAnchor"
	// ReasonObjectIdentifierSet: the cloud user already has an
	// onPremisesObjectIdentifier, so Entra refuses to remap it.
	ReasonObjectIdentifierSet = "ObjectIdentifierSet"
	// ReasonDuplicateClaim: another UserMatch already claims the same AD or
	// cloud user; the newer one is blocked.
	ReasonDuplicateClaim = "DuplicateClaim"
	// ReasonInvalidAnchor: the computed immutable ID is not one Graph accepts.
	ReasonInvalidAnchor = "InvalidAnchor"
	// ReasonNotBlocked: nothing blocks the match (Blocked=False).
	ReasonNotBlocked = "NotBlocked"

	// UserMatch: UPNSuffixMismatch.

	// ReasonUPNSuffixNotVerified: the AD UPN suffix is not a verified domain.
	ReasonUPNSuffixNotVerified = "UPNSuffixNotVerified"
	// ReasonNonRoutableUPNSuffix: the AD UPN ends in .local or another
	// suffix that can never be a verified domain.
	ReasonNonRoutableUPNSuffix = "NonRoutableUPNSuffix"
	// ReasonInitialDomainUPNSuffix: the AD UPN uses the tenant's
	// onmicrosoft.com domain instead of the user's email domain.
	ReasonInitialDomainUPNSuffix = "InitialDomainUPNSuffix"
	// ReasonUPNSuffixVerified: the AD UPN suffix is a verified domain.
	ReasonUPNSuffixVerified = "UPNSuffixVerified"

	// UserMatch: role workflow.

	// ReasonRolesRemoved: the recorded roles were removed for the match.
	ReasonRolesRemoved = "RolesRemoved"
	// ReasonRolesRestored: the recorded roles were added back.
	ReasonRolesRestored = "RolesRestored"
	// ReasonRoleRecordInvalid: status.recordedRoles does not carry the
	// operator's seal (it was written or changed by someone else); nothing
	// is removed or restored from it.
	ReasonRoleRecordInvalid = "RoleRecordInvalid"
	// ReasonRoleHoldExpired: maxRoleHoldDuration ran out before sync joined
	// the user; the roles were restored.
	ReasonRoleHoldExpired = "RoleHoldExpired"

	// UserMatch: duplicates.

	// ReasonDuplicatesReported: duplicates were listed, not touched.
	ReasonDuplicatesReported = "DuplicatesReported"
	// ReasonDuplicatesDeleted: duplicates were soft-deleted.
	ReasonDuplicatesDeleted = "DuplicatesDeleted"
	// ReasonDuplicatesPurged: duplicates were permanently deleted.
	ReasonDuplicatesPurged = "DuplicatesPurged"
	// ReasonNoDuplicates: no duplicates exist.
	ReasonNoDuplicates = "NoDuplicates"

	// TenantSyncFeatures.

	// ReasonInSync: every declared flag has its desired value.
	ReasonInSync = "InSync"
	// ReasonDrifted: some flags differ from the desired values; see
	// status.differences.
	ReasonDrifted = "Drifted"
	// ReasonCorrected: differing flags were written back.
	ReasonCorrected = "Corrected"
	// ReasonWindowOpen: a matching window is open.
	ReasonWindowOpen = "WindowOpen"
	// ReasonNoWindowOpen: no matching window is open.
	ReasonNoWindowOpen = "NoWindowOpen"
	// ReasonDuplicateTenantSyncFeatures: another TenantSyncFeatures already
	// manages the same tenant; this one is ignored.
	ReasonDuplicateTenantSyncFeatures = "DuplicateTenantSyncFeatures"
)

// Event reasons of writes and of deletions, beyond the condition reasons
// (which are also used as Event reasons when a condition changes).
const (
	// UserMatch: the role workflow.

	// EventRolesRecorded: the roles were written into status.recordedRoles
	// before any was removed.
	EventRolesRecorded = "RolesRecorded"
	// EventRoleRemoved: one role or eligibility was removed for the match.
	EventRoleRemoved = "RoleRemoved"
	// EventRoleRestored: one role or eligibility was given back.
	EventRoleRestored = "RoleRestored"
	// EventRoleRestoredPermanent: PIM refused a time-bound restore and
	// spec.restorePermanentOnPolicyRefusal made it permanent.
	EventRoleRestoredPermanent = "RoleRestoredPermanent"
	// EventRoleNotRestored: a role is deliberately not given back (expired,
	// PIM refused, or the tenant or user is gone); the note says how to.
	EventRoleNotRestored = "RoleNotRestored"

	// UserMatch: duplicates and deletion.

	// EventDuplicateDeleted: a proven duplicate was soft-deleted.
	EventDuplicateDeleted = "DuplicateDeleted"
	// EventDuplicatePurged: a proven duplicate was deleted permanently.
	EventDuplicatePurged = "DuplicatePurged"
	// EventImmutableIDCleared: deletion policy ClearImmutableId cleared it.
	EventImmutableIDCleared = "ImmutableIDCleared"
	// EventImmutableIDKept: deletion policy ClearImmutableId left it, as
	// the user is synced or carries another value.
	EventImmutableIDKept = "ImmutableIDKept"

	// ActiveDirectory.

	// EventUPNSuffixAdded: a declared suffix was added to the forest.
	EventUPNSuffixAdded = "UPNSuffixAdded"
	// EventUPNSuffixRemoved: a suffix the operator had added left the spec
	// and was removed from the forest.
	EventUPNSuffixRemoved = "UPNSuffixRemoved"

	// UserMatchSet.

	// EventUserMatchCreated: the set created a UserMatch for a pair.
	EventUserMatchCreated = "UserMatchCreated"

	// SyncPlan.

	// EventPlanChanged: a new plan predicts other outcomes than the last.
	EventPlanChanged = "PlanChanged"

	// SignInNameAlignment.

	// EventSignInNameChanged: one sign-in name was changed (AD or Entra).
	EventSignInNameChanged = "SignInNameChanged"
	// EventSignInNameRestored: one recorded name was put back.
	EventSignInNameRestored = "SignInNameRestored"
	// EventSignInNameNotRestored: a recorded name was not put back because
	// someone changed it since; the record is dropped.
	EventSignInNameNotRestored = "SignInNameNotRestored"
	// EventSignInNameWriteFailed: a rename was refused or failed.
	EventSignInNameWriteFailed = "SignInNameWriteFailed"

	// TenantSyncFeatures.

	// EventFeatureUpdated: a flag was set to its desired value.
	EventFeatureUpdated = "FeatureUpdated"
	// EventWindowOpened: a matching window opened.
	EventWindowOpened = "WindowOpened"
	// EventWindowClosed: a matching window closed.
	EventWindowClosed = "WindowClosed"
	// EventOriginalRestored: deletion policy RestoreOriginal wrote back the
	// values from before the operator.
	EventOriginalRestored = "OriginalRestored"
	// EventRestoreFailed: a write at deletion failed (retried) or is not
	// possible (the tenant is gone).
	EventRestoreFailed = "RestoreFailed"
	// EventChangeRefused: a desired value cannot be set (for example a
	// flag Microsoft lets no one turn off); the note says why.
	EventChangeRefused = "ChangeRefused"
)
