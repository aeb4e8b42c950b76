package cloud

// Feature names are Graph's onPremisesDirectorySynchronizationFeature property
// names, so that specs, status, Events and the wire all use one vocabulary.
const (
	FeatureAllowOnPremUpdateOfOnPremisesObjectIdentifier = "allowOnPremUpdateOfOnPremisesObjectIdentifierEnabled"
	FeatureBlockCloudObjectTakeoverThroughHardMatch      = "blockCloudObjectTakeoverThroughHardMatchEnabled"
	FeatureBlockSoftMatch                                = "blockSoftMatchEnabled"
	FeatureBypassDirSyncOverrides                        = "bypassDirSyncOverridesEnabled"
	FeatureCloudPasswordPolicyForPasswordSyncedUsers     = "cloudPasswordPolicyForPasswordSyncedUsersEnabled"
	FeatureConcurrentCredentialUpdate                    = "concurrentCredentialUpdateEnabled"
	FeatureConcurrentOrgIDProvisioning                   = "concurrentOrgIdProvisioningEnabled"
	FeatureDeviceWriteback                               = "deviceWritebackEnabled"
	FeatureDirectoryExtensions                           = "directoryExtensionsEnabled"
	FeatureFopeConflictResolution                        = "fopeConflictResolutionEnabled"
	FeatureGroupWriteBack                                = "groupWriteBackEnabled"
	FeaturePasswordSync                                  = "passwordSyncEnabled"
	FeaturePasswordWriteback                             = "passwordWritebackEnabled"
	FeatureQuarantineUponProxyAddressesConflict          = "quarantineUponProxyAddressesConflictEnabled"
	FeatureQuarantineUponUpnConflict                     = "quarantineUponUpnConflictEnabled"
	FeatureSoftMatchOnUpn                                = "softMatchOnUpnEnabled"
	FeatureSynchronizeUpnForManagedUsers                 = "synchronizeUpnForManagedUsersEnabled"
	FeatureUnifiedGroupWriteback                         = "unifiedGroupWritebackEnabled"
	FeatureUserForcePasswordChangeOnLogon                = "userForcePasswordChangeOnLogonEnabled"
	FeatureUserWriteback                                 = "userWritebackEnabled"
)

// AllFeatures lists every documented flag, in Graph's order.
var AllFeatures = []string{
	FeatureAllowOnPremUpdateOfOnPremisesObjectIdentifier,
	FeatureBlockCloudObjectTakeoverThroughHardMatch,
	FeatureBlockSoftMatch,
	FeatureBypassDirSyncOverrides,
	FeatureCloudPasswordPolicyForPasswordSyncedUsers,
	FeatureConcurrentCredentialUpdate,
	FeatureConcurrentOrgIDProvisioning,
	FeatureDeviceWriteback,
	FeatureDirectoryExtensions,
	FeatureFopeConflictResolution,
	FeatureGroupWriteBack,
	FeaturePasswordSync,
	FeaturePasswordWriteback,
	FeatureQuarantineUponProxyAddressesConflict,
	FeatureQuarantineUponUpnConflict,
	FeatureSoftMatchOnUpn,
	FeatureSynchronizeUpnForManagedUsers,
	FeatureUnifiedGroupWriteback,
	FeatureUserForcePasswordChangeOnLogon,
	FeatureUserWriteback,
}

// SyncSettings is the tenant's onPremisesDirectorySynchronization object:
// every flag as the tenant holds it, keyed by Graph property name. It is always
// read and written whole, because Graph may reset flags omitted from a PATCH.
type SyncSettings struct {
	ID       string
	Features map[string]bool
	// AccidentalDeletionPrevention is nil when the tenant returns none.
	AccidentalDeletionPrevention *AccidentalDeletionPrevention
}

// AccidentalDeletionPrevention mirrors configuration.accidentalDeletionPrevention.
type AccidentalDeletionPrevention struct {
	SynchronizationPreventionType string
	AlertThreshold                int32
}
