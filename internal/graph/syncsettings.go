package graph

import (
	"context"
	"fmt"
	"sort"
	"strings"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/entramatch/entra-match-operator/internal/cloud"
)

// featureGetter returns the getter for a flag msgraph-sdk-go v1.89 models.
// Flags it does not model (allowOnPremUpdateOfOnPremisesObjectIdentifierEnabled)
// arrive in the model's AdditionalData instead.
func featureGetter(name string) (func(models.OnPremisesDirectorySynchronizationFeatureable) *bool, bool) {
	type f = models.OnPremisesDirectorySynchronizationFeatureable
	switch name {
	case cloud.FeatureBlockCloudObjectTakeoverThroughHardMatch:
		return f.GetBlockCloudObjectTakeoverThroughHardMatchEnabled, true
	case cloud.FeatureBlockSoftMatch:
		return f.GetBlockSoftMatchEnabled, true
	case cloud.FeatureBypassDirSyncOverrides:
		return f.GetBypassDirSyncOverridesEnabled, true
	case cloud.FeatureCloudPasswordPolicyForPasswordSyncedUsers:
		return f.GetCloudPasswordPolicyForPasswordSyncedUsersEnabled, true
	case cloud.FeatureConcurrentCredentialUpdate:
		return f.GetConcurrentCredentialUpdateEnabled, true
	case cloud.FeatureConcurrentOrgIDProvisioning:
		return f.GetConcurrentOrgIdProvisioningEnabled, true
	case cloud.FeatureDeviceWriteback:
		return f.GetDeviceWritebackEnabled, true
	case cloud.FeatureDirectoryExtensions:
		return f.GetDirectoryExtensionsEnabled, true
	case cloud.FeatureFopeConflictResolution:
		return f.GetFopeConflictResolutionEnabled, true
	case cloud.FeatureGroupWriteBack:
		return f.GetGroupWriteBackEnabled, true
	case cloud.FeaturePasswordSync:
		return f.GetPasswordSyncEnabled, true
	case cloud.FeaturePasswordWriteback:
		return f.GetPasswordWritebackEnabled, true
	case cloud.FeatureQuarantineUponProxyAddressesConflict:
		return f.GetQuarantineUponProxyAddressesConflictEnabled, true
	case cloud.FeatureQuarantineUponUpnConflict:
		return f.GetQuarantineUponUpnConflictEnabled, true
	case cloud.FeatureSoftMatchOnUpn:
		return f.GetSoftMatchOnUpnEnabled, true
	case cloud.FeatureSynchronizeUpnForManagedUsers:
		return f.GetSynchronizeUpnForManagedUsersEnabled, true
	case cloud.FeatureUnifiedGroupWriteback:
		return f.GetUnifiedGroupWritebackEnabled, true
	case cloud.FeatureUserForcePasswordChangeOnLogon:
		return f.GetUserForcePasswordChangeOnLogonEnabled, true
	case cloud.FeatureUserWriteback:
		return f.GetUserWritebackEnabled, true
	}
	return nil, false
}

// SyncSettings reads the tenant's onPremisesDirectorySynchronization object.
// Every documented flag is present in Features (false when Graph omits it),
// plus any further boolean flag Graph returns, so that UpdateSyncSettings can
// send back everything the tenant holds.
func (c *Client) SyncSettings(ctx context.Context, tenantID string) (cloud.SyncSettings, error) {
	const op = "SyncSettings"
	if tenantID == "" {
		return cloud.SyncSettings{}, invalid(op, "tenant id is required")
	}
	ctx = withCall(ctx, op)
	got, err := c.svc.Directory().OnPremisesSynchronization().ByOnPremisesDirectorySynchronizationId(tenantID).Get(ctx, nil)
	if err != nil {
		return cloud.SyncSettings{}, c.explainRefusal(ctx, classify(ctx, op, err))
	}
	if got == nil {
		return cloud.SyncSettings{}, &cloud.Error{Class: cloud.ClassNotFound, Op: op, Message: "Graph returned no synchronization settings"}
	}
	return toSyncSettings(got, tenantID), nil
}

func toSyncSettings(got models.OnPremisesDirectorySynchronizationable, tenantID string) cloud.SyncSettings {
	s := cloud.SyncSettings{ID: deref(got.GetId()), Features: make(map[string]bool, len(cloud.AllFeatures))}
	if s.ID == "" {
		s.ID = tenantID
	}
	f := got.GetFeatures()
	var extra map[string]any
	if f != nil {
		extra = f.GetAdditionalData()
	}
	for k, v := range extra {
		switch b := v.(type) {
		case *bool:
			if b != nil {
				s.Features[k] = *b
			}
		case bool:
			s.Features[k] = b
		}
	}
	for _, name := range cloud.AllFeatures {
		if get, ok := featureGetter(name); ok && f != nil {
			s.Features[name] = deref(get(f))
		} else if v, ok := lookupBool(extra, name); ok {
			s.Features[name] = v
		} else {
			s.Features[name] = false
		}
	}
	if cfg := got.GetConfiguration(); cfg != nil {
		if p := cfg.GetAccidentalDeletionPrevention(); p != nil {
			adp := &cloud.AccidentalDeletionPrevention{AlertThreshold: deref(p.GetAlertThreshold())}
			if t := p.GetSynchronizationPreventionType(); t != nil {
				adp.SynchronizationPreventionType = t.String()
			}
			s.AccidentalDeletionPrevention = adp
		}
	}
	return s
}

// syncPatch is the wire body of UpdateSyncSettings.
type syncPatch struct {
	Features      map[string]bool  `json:"features"`
	Configuration *syncPatchConfig `json:"configuration,omitempty"`
}

type syncPatchConfig struct {
	AccidentalDeletionPrevention *accidentalDeletionPrevention `json:"accidentalDeletionPrevention"`
}

type accidentalDeletionPrevention struct {
	SynchronizationPreventionType string `json:"synchronizationPreventionType"`
	AlertThreshold                int32  `json:"alertThreshold"`
}

// UpdateSyncSettings PATCHes the whole features object. Graph may reset
// flags omitted from a PATCH (Microsoft's own examples read, modify and send
// everything back), so every documented flag must be present in s.Features:
// a settings value not read with SyncSettings is refused rather than guessed.
func (c *Client) UpdateSyncSettings(ctx context.Context, s cloud.SyncSettings) error {
	const op = "UpdateSyncSettings"
	body, err := syncPatchBody(s)
	if err != nil {
		return invalid(op, err.Error())
	}
	ctx = withCall(ctx, op)
	err = c.sendJSON(ctx, abs.PATCH, "{+baseurl}/directory/onPremisesSynchronization/{onPremisesDirectorySynchronization%2Did}",
		map[string]string{"onPremisesDirectorySynchronization%2Did": s.ID}, body)
	return c.explainRefusal(ctx, classify(ctx, op, err))
}

func syncPatchBody(s cloud.SyncSettings) (syncPatch, error) {
	if s.ID == "" {
		return syncPatch{}, fmt.Errorf("sync settings id (the tenant id) is required")
	}
	var missing []string
	for _, name := range cloud.AllFeatures {
		if _, ok := s.Features[name]; !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return syncPatch{}, fmt.Errorf("features missing, read them with SyncSettings first: %s", strings.Join(missing, ", "))
	}
	body := syncPatch{Features: make(map[string]bool, len(s.Features))}
	for k, v := range s.Features {
		body.Features[k] = v
	}
	// An unknown prevention type cannot be sent back faithfully; leaving the
	// configuration out keeps the tenant's own value.
	if p := s.AccidentalDeletionPrevention; p != nil && knownPreventionType(p.SynchronizationPreventionType) {
		body.Configuration = &syncPatchConfig{AccidentalDeletionPrevention: &accidentalDeletionPrevention{
			SynchronizationPreventionType: p.SynchronizationPreventionType,
			AlertThreshold:                p.AlertThreshold,
		}}
	}
	return body, nil
}

func knownPreventionType(t string) bool {
	switch t {
	case "disabled", "enabledForCount", "enabledForPercentage":
		return true
	}
	return false
}
