package v1alpha1

// AllSyncFeatures returns every flag of SyncFeatureFlags, in Graph's order.
// A new slice is returned each time so that callers may sort or trim it.
func AllSyncFeatures() []SyncFeature {
	return []SyncFeature{
		FeatureAllowOnPremUpdateOfOnPremisesObjectIdentifier,
		FeatureBlockCloudObjectTakeoverThroughHardMatch,
		FeatureBlockSoftMatch,
		FeatureBypassDirSyncOverrides,
		FeatureCloudPasswordPolicyForPasswordSyncedUsers,
		FeatureConcurrentCredentialUpdate,
		FeatureConcurrentOrgIdProvisioning,
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
}

// OneWayFeature reports whether Entra refuses to turn the flag off again once
// it is on.
func OneWayFeature(f SyncFeature) bool {
	return f == FeatureSoftMatchOnUpn || f == FeatureSynchronizeUpnForManagedUsers
}

// UpdatableFeature reports whether Graph accepts writes of the flag.
func UpdatableFeature(f SyncFeature) bool {
	return f != FeaturePasswordWriteback
}

// field returns the address of the named flag, or nil for an unknown name.
// One switch serves both Get and Set so that they cannot disagree.
func (f *SyncFeatureFlags) field(name SyncFeature) **bool {
	switch name {
	case FeatureAllowOnPremUpdateOfOnPremisesObjectIdentifier:
		return &f.AllowOnPremUpdateOfOnPremisesObjectIdentifierEnabled
	case FeatureBlockCloudObjectTakeoverThroughHardMatch:
		return &f.BlockCloudObjectTakeoverThroughHardMatchEnabled
	case FeatureBlockSoftMatch:
		return &f.BlockSoftMatchEnabled
	case FeatureBypassDirSyncOverrides:
		return &f.BypassDirSyncOverridesEnabled
	case FeatureCloudPasswordPolicyForPasswordSyncedUsers:
		return &f.CloudPasswordPolicyForPasswordSyncedUsersEnabled
	case FeatureConcurrentCredentialUpdate:
		return &f.ConcurrentCredentialUpdateEnabled
	case FeatureConcurrentOrgIdProvisioning:
		return &f.ConcurrentOrgIdProvisioningEnabled
	case FeatureDeviceWriteback:
		return &f.DeviceWritebackEnabled
	case FeatureDirectoryExtensions:
		return &f.DirectoryExtensionsEnabled
	case FeatureFopeConflictResolution:
		return &f.FopeConflictResolutionEnabled
	case FeatureGroupWriteBack:
		return &f.GroupWriteBackEnabled
	case FeaturePasswordSync:
		return &f.PasswordSyncEnabled
	case FeaturePasswordWriteback:
		return &f.PasswordWritebackEnabled
	case FeatureQuarantineUponProxyAddressesConflict:
		return &f.QuarantineUponProxyAddressesConflictEnabled
	case FeatureQuarantineUponUpnConflict:
		return &f.QuarantineUponUpnConflictEnabled
	case FeatureSoftMatchOnUpn:
		return &f.SoftMatchOnUpnEnabled
	case FeatureSynchronizeUpnForManagedUsers:
		return &f.SynchronizeUpnForManagedUsersEnabled
	case FeatureUnifiedGroupWriteback:
		return &f.UnifiedGroupWritebackEnabled
	case FeatureUserForcePasswordChangeOnLogon:
		return &f.UserForcePasswordChangeOnLogonEnabled
	case FeatureUserWriteback:
		return &f.UserWritebackEnabled
	}
	return nil
}

// Get returns the named flag; nil when it is unset, the receiver is nil, or
// the name is unknown.
func (f *SyncFeatureFlags) Get(name SyncFeature) *bool {
	if f == nil {
		return nil
	}
	p := f.field(name)
	if p == nil || *p == nil {
		return nil
	}
	v := **p
	return &v
}

// Set stores a copy of value in the named flag (nil clears it). It reports
// false, changing nothing, for an unknown name.
func (f *SyncFeatureFlags) Set(name SyncFeature, value *bool) bool {
	p := f.field(name)
	if p == nil {
		return false
	}
	if value == nil {
		*p = nil
		return true
	}
	v := *value
	*p = &v
	return true
}
