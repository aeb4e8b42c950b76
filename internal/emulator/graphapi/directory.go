package graphapi

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/entramatch/entra-match-operator/internal/emulator/grapherr"
	"github.com/entramatch/entra-match-operator/internal/emulator/identity"
	"github.com/entramatch/entra-match-operator/internal/emulator/tenant"
)

// Domains follow https://learn.microsoft.com/en-us/graph/api/domain-list and
// domain-get; the organization follows organization-list / organization-get.

func renderDomain(d tenant.Domain) map[string]any {
	services := d.SupportedServices
	if services == nil {
		services = []string{}
	}
	return map[string]any{
		"id":                               d.ID,
		"authenticationType":               d.AuthenticationType,
		"availabilityStatus":               nil,
		"isAdminManaged":                   d.IsAdminManaged,
		"isDefault":                        d.IsDefault,
		"isInitial":                        d.IsInitial,
		"isRoot":                           d.IsRoot,
		"isVerified":                       d.IsVerified,
		"passwordNotificationWindowInDays": 14,
		"passwordValidityPeriodInDays":     2147483647,
		"supportedServices":                services,
		"state":                            nil,
	}
}

// ListDomains serves GET /domains.
func (s *API) ListDomains(w http.ResponseWriter, r *http.Request) error {
	var domains []tenant.Domain
	s.store.Read(func(st *tenant.State) { domains = st.Domains() })
	values := make([]map[string]any, 0, len(domains))
	for _, d := range domains {
		values = append(values, renderDomain(d))
	}
	writeOData(w, http.StatusOK, map[string]any{"@odata.context": s.metadata(r, "domains"), "value": values})
	return nil
}

// GetDomain serves GET /domains/{id}.
func (s *API) GetDomain(w http.ResponseWriter, r *http.Request, id string) error {
	var d tenant.Domain
	var ok bool
	s.store.Read(func(st *tenant.State) { d, ok = st.Domain(id) })
	if !ok {
		return grapherr.NotFound(id)
	}
	out := renderDomain(d)
	out["@odata.context"] = s.metadata(r, "domains/$entity")
	writeOData(w, http.StatusOK, out)
	return nil
}

func (s *API) renderOrganization(st *tenant.State) map[string]any {
	var verified []map[string]any
	for _, d := range st.Domains() {
		if !d.IsVerified {
			continue
		}
		kind := "Managed"
		if d.AuthenticationType == "Federated" {
			kind = "Federated"
		}
		verified = append(verified, map[string]any{
			"capabilities": strings.Join(d.SupportedServices, ", "),
			"isDefault":    d.IsDefault,
			"isInitial":    d.IsInitial,
			"name":         d.ID,
			"type":         kind,
		})
	}
	org := st.Organization()
	name := org.DisplayName
	if name == "" {
		name = strings.SplitN(st.InitialDomain(), ".", 2)[0]
	}
	country := org.CountryLetterCode
	if country == "" {
		country = "US"
	}
	return map[string]any{
		"id":                         s.tenantID,
		"displayName":                name,
		"tenantType":                 "AAD",
		"countryLetterCode":          country,
		"createdDateTime":            timeVal(org.CreatedDateTime),
		"onPremisesSyncEnabled":      boolPtrVal(org.OnPremisesSyncEnabled),
		"onPremisesLastSyncDateTime": timeVal(org.OnPremisesLastSyncDateTime),
		"verifiedDomains":            verified,
		"businessPhones":             []string{},
		"technicalNotificationMails": []string{},
		"assignedPlans":              []any{},
		"provisionedPlans":           []any{},
	}
}

// ListOrganization serves GET /organization.
func (s *API) ListOrganization(w http.ResponseWriter, r *http.Request) error {
	var org map[string]any
	s.store.Read(func(st *tenant.State) { org = s.renderOrganization(st) })
	writeOData(w, http.StatusOK, map[string]any{"@odata.context": s.metadata(r, "organization"), "value": []any{org}})
	return nil
}

// GetOrganization serves GET /organization/{id}.
func (s *API) GetOrganization(w http.ResponseWriter, r *http.Request, id string) error {
	if !strings.EqualFold(id, s.tenantID) {
		return grapherr.NotFound(id)
	}
	var org map[string]any
	s.store.Read(func(st *tenant.State) { org = s.renderOrganization(st) })
	org["@odata.context"] = s.metadata(r, "organization/$entity")
	writeOData(w, http.StatusOK, org)
	return nil
}

// The synchronization object follows
// https://learn.microsoft.com/en-us/graph/api/resources/onpremisesdirectorysynchronization,
// onpremisesdirectorysynchronization-get and -update, and
// https://learn.microsoft.com/en-us/graph/api/resources/onpremisesdirectorysynchronizationfeature.

// AuthorizeSync is the permission check of the onPremisesSynchronization
// routes: app-only access may be refused for the tenant, and delegated
// access needs a Global Administrator besides the scope.
func (s *API) AuthorizeSync(r *http.Request, perms []string) error {
	c, _ := identity.CallerFrom(r.Context())
	if c.AppOnly && !s.appOnlySync {
		return grapherr.New(http.StatusForbidden, grapherr.CodeAuthorizationDenied,
			"This operation requires a delegated token: application permissions are not supported for onPremisesSynchronization in this tenant.")
	}
	if err := identity.Require(r, perms...); err != nil {
		return err
	}
	if !c.AppOnly {
		// Delegated access needs the signed-in user to be a Global
		// Administrator as well as the scope (the resource's permissions
		// section); the role is read live, not from the token's wids.
		var ok bool
		s.store.Read(func(st *tenant.State) { ok = st.HoldsRole(c.UserID, tenant.RoleGlobalAdministrator, s.clock()) })
		if !ok {
			return grapherr.Forbidden()
		}
	}
	return nil
}

func (s *API) renderSync(st *tenant.State) map[string]any {
	sync := st.Sync()
	return map[string]any{
		"id":            s.tenantID,
		"features":      sync.Features,
		"configuration": renderSyncConfig(sync.Configuration),
	}
}

func renderSyncConfig(c tenant.SyncConfiguration) map[string]any {
	opt := func(v string) any {
		if v == "" {
			return nil
		}
		return v
	}
	return map[string]any{
		"accidentalDeletionPrevention":             c.AccidentalDeletionPrevention,
		"synchronizationInterval":                  opt(c.SynchronizationInterval),
		"customerRequestedSynchronizationInterval": opt(c.CustomerRequestedSynchronizationInterval),
	}
}

// ListSync serves GET /directory/onPremisesSynchronization.
func (s *API) ListSync(w http.ResponseWriter, r *http.Request) error {
	var obj map[string]any
	s.store.Read(func(st *tenant.State) { obj = s.renderSync(st) })
	writeOData(w, http.StatusOK, map[string]any{
		"@odata.context": s.metadata(r, "directory/onPremisesSynchronization"),
		"value":          []any{obj},
	})
	return nil
}

// GetSync serves GET /directory/onPremisesSynchronization/{id}.
func (s *API) GetSync(w http.ResponseWriter, r *http.Request, id string) error {
	if !strings.EqualFold(id, s.tenantID) {
		return grapherr.NotFound(id)
	}
	var obj map[string]any
	s.store.Read(func(st *tenant.State) { obj = s.renderSync(st) })
	obj["@odata.context"] = s.metadata(r, "directory/onPremisesSynchronization/$entity")
	writeOData(w, http.StatusOK, obj)
	return nil
}

// PatchSync serves PATCH /directory/onPremisesSynchronization/{id}.
func (s *API) PatchSync(w http.ResponseWriter, r *http.Request, id string) error {
	if !strings.EqualFold(id, s.tenantID) {
		return grapherr.NotFound(id)
	}
	body, err := readJSONObject(w, r)
	if err != nil {
		return err
	}
	return s.store.Write(func(st *tenant.State) error {
		next, err := applySyncPatch(st.Sync(), body)
		if err != nil {
			return err
		}
		st.SetSync(next)
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

const (
	syncType        = "microsoft.graph.onPremisesDirectorySynchronization"
	syncFeatureType = "microsoft.graph.onPremisesDirectorySynchronizationFeature"
	syncConfigType  = "microsoft.graph.onPremisesDirectorySynchronizationConfiguration"
	syncADPType     = "microsoft.graph.onPremisesAccidentalDeletionPrevention"
)

// applySyncPatch is the decision for PATCH onPremisesSynchronization/{id}.
//
// Graph's PATCH rule holds for the features object too: "Existing properties
// that aren't included in the request body maintain their previous values"
// (the update-property-table-intro of onpremisesdirectorysynchronization-update,
// microsoft-graph-docs-contrib api-reference/v1.0/api/onpremisesdirectorysynchronization-update.md),
// and Microsoft's own examples send one flag: the update page sends
// "features": {"groupWriteBackEnabled": true}, and how-to-connect-syncservice-features
// (MicrosoftDocs/entra-docs) sends @{ BlockSoftMatchEnabled = "true" } alone. So
// flags omitted from features keep their values. Exceptions, as documented:
// passwordWritebackEnabled is not updatable (sending a different value is
// refused), and softMatchOnUpnEnabled and synchronizeUpnForManagedUsersEnabled
// cannot be turned off once on ("After you have enabled a feature, it can't be
// disabled again", how-to-connect-syncservice-features).
func applySyncPatch(cur tenant.SyncState, body map[string]json.RawMessage) (tenant.SyncState, error) {
	next := cur
	for k, raw := range body {
		switch k {
		case "@odata.type":
			if !isODataType(raw, syncType) {
				return cur, grapherr.BadRequest("A type named '%s' could not be resolved by the model.", strings.Trim(string(raw), `"`))
			}
		case "id":
			var v string
			if err := json.Unmarshal(raw, &v); err != nil || !strings.EqualFold(v, "") && !tenant.IsGUID(v) {
				return cur, grapherr.InvalidValue("id", "OnPremisesDirectorySynchronization")
			}
		case "features":
			f, err := decodeFeatures(cur.Features, raw)
			if err != nil {
				return cur, err
			}
			next.Features = f
		case "configuration":
			c, err := decodeSyncConfig(cur.Configuration, raw)
			if err != nil {
				return cur, err
			}
			next.Configuration = c
		default:
			if strings.HasPrefix(k, "@") {
				continue
			}
			return cur, grapherr.NoSuchProperty(k, syncType)
		}
	}
	return next, nil
}

// featureFields maps JSON names to the flags of SyncFeatures.
func featureFields(f *tenant.SyncFeatures) map[string]*bool {
	return map[string]*bool{
		"allowOnPremUpdateOfOnPremisesObjectIdentifierEnabled": &f.AllowOnPremUpdateOfOnPremisesObjectIdentifierEnabled,
		"blockCloudObjectTakeoverThroughHardMatchEnabled":      &f.BlockCloudObjectTakeoverThroughHardMatchEnabled,
		"blockSoftMatchEnabled":                                &f.BlockSoftMatchEnabled,
		"bypassDirSyncOverridesEnabled":                        &f.BypassDirSyncOverridesEnabled,
		"cloudPasswordPolicyForPasswordSyncedUsersEnabled":     &f.CloudPasswordPolicyForPasswordSyncedUsersEnabled,
		"concurrentCredentialUpdateEnabled":                    &f.ConcurrentCredentialUpdateEnabled,
		"concurrentOrgIdProvisioningEnabled":                   &f.ConcurrentOrgIDProvisioningEnabled,
		"deviceWritebackEnabled":                               &f.DeviceWritebackEnabled,
		"directoryExtensionsEnabled":                           &f.DirectoryExtensionsEnabled,
		"fopeConflictResolutionEnabled":                        &f.FopeConflictResolutionEnabled,
		"groupWriteBackEnabled":                                &f.GroupWriteBackEnabled,
		"passwordSyncEnabled":                                  &f.PasswordSyncEnabled,
		"passwordWritebackEnabled":                             &f.PasswordWritebackEnabled,
		"quarantineUponProxyAddressesConflictEnabled":          &f.QuarantineUponProxyAddressesConflictEnabled,
		"quarantineUponUpnConflictEnabled":                     &f.QuarantineUponUpnConflictEnabled,
		"softMatchOnUpnEnabled":                                &f.SoftMatchOnUpnEnabled,
		"synchronizeUpnForManagedUsersEnabled":                 &f.SynchronizeUpnForManagedUsersEnabled,
		"unifiedGroupWritebackEnabled":                         &f.UnifiedGroupWritebackEnabled,
		"userForcePasswordChangeOnLogonEnabled":                &f.UserForcePasswordChangeOnLogonEnabled,
		"userWritebackEnabled":                                 &f.UserWritebackEnabled,
	}
}

func decodeFeatures(cur tenant.SyncFeatures, raw json.RawMessage) (tenant.SyncFeatures, error) {
	var in map[string]json.RawMessage
	if err := json.Unmarshal(raw, &in); err != nil || in == nil {
		return cur, grapherr.InvalidValue("features", "OnPremisesDirectorySynchronization")
	}
	next := cur
	fields := featureFields(&next)
	for k, v := range in {
		if k == "@odata.type" {
			if !isODataType(v, syncFeatureType) {
				return cur, grapherr.BadRequest("A type named '%s' could not be resolved by the model.", strings.Trim(string(v), `"`))
			}
			continue
		}
		if strings.HasPrefix(k, "@") {
			continue
		}
		ptr, ok := fields[k]
		if !ok {
			return cur, grapherr.NoSuchProperty(k, syncFeatureType)
		}
		var b bool
		if err := json.Unmarshal(v, &b); err != nil || string(v) == "null" {
			return cur, grapherr.InvalidValue(k, "OnPremisesDirectorySynchronizationFeature")
		}
		if k == "passwordWritebackEnabled" && b != cur.PasswordWritebackEnabled {
			return cur, grapherr.BadRequest("Property 'passwordWritebackEnabled' is not in use and cannot be updated.")
		}
		*ptr = b
	}
	if cur.SoftMatchOnUpnEnabled && !next.SoftMatchOnUpnEnabled {
		return cur, grapherr.BadRequest("Property 'softMatchOnUpnEnabled' cannot be disabled once it has been enabled.")
	}
	if cur.SynchronizeUpnForManagedUsersEnabled && !next.SynchronizeUpnForManagedUsersEnabled {
		return cur, grapherr.BadRequest("Property 'synchronizeUpnForManagedUsersEnabled' cannot be disabled once it has been enabled.")
	}
	return next, nil
}

// decodeSyncConfig merges a configuration object; unlike features, only
// the properties sent change (each is a distinct setting, not a flag set).
func decodeSyncConfig(cur tenant.SyncConfiguration, raw json.RawMessage) (tenant.SyncConfiguration, error) {
	var in map[string]json.RawMessage
	if err := json.Unmarshal(raw, &in); err != nil || in == nil {
		return cur, grapherr.InvalidValue("configuration", "OnPremisesDirectorySynchronization")
	}
	next := cur
	for k, v := range in {
		switch k {
		case "@odata.type":
			if !isODataType(v, syncConfigType) {
				return cur, grapherr.BadRequest("A type named '%s' could not be resolved by the model.", strings.Trim(string(v), `"`))
			}
		case "accidentalDeletionPrevention":
			adp, err := decodeADP(cur.AccidentalDeletionPrevention, v)
			if err != nil {
				return cur, err
			}
			next.AccidentalDeletionPrevention = adp
		case "customerRequestedSynchronizationInterval":
			var sv *string
			if err := json.Unmarshal(v, &sv); err != nil {
				return cur, grapherr.InvalidValue(k, "OnPremisesDirectorySynchronizationConfiguration")
			}
			next.CustomerRequestedSynchronizationInterval = ""
			if sv != nil {
				next.CustomerRequestedSynchronizationInterval = *sv
			}
		case "synchronizationInterval":
			return cur, grapherr.BadRequest("Property 'synchronizationInterval' is read-only and cannot be set.")
		default:
			if strings.HasPrefix(k, "@") {
				continue
			}
			return cur, grapherr.NoSuchProperty(k, syncConfigType)
		}
	}
	return next, nil
}

func decodeADP(cur tenant.AccidentalDeletionPrevention, raw json.RawMessage) (tenant.AccidentalDeletionPrevention, error) {
	var in map[string]json.RawMessage
	if err := json.Unmarshal(raw, &in); err != nil || in == nil {
		return cur, grapherr.InvalidValue("accidentalDeletionPrevention", "OnPremisesDirectorySynchronizationConfiguration")
	}
	next := cur
	for k, v := range in {
		switch k {
		case "@odata.type":
			if !isODataType(v, syncADPType) {
				return cur, grapherr.BadRequest("A type named '%s' could not be resolved by the model.", strings.Trim(string(v), `"`))
			}
		case "synchronizationPreventionType":
			var t string
			if err := json.Unmarshal(v, &t); err != nil {
				return cur, grapherr.InvalidValue(k, "OnPremisesAccidentalDeletionPrevention")
			}
			if err := tenant.ValidPreventionType(t); err != nil {
				return cur, err
			}
			next.SynchronizationPreventionType = t
		case "alertThreshold":
			var n int32
			if err := json.Unmarshal(v, &n); err != nil || n < 0 {
				return cur, grapherr.InvalidValue(k, "OnPremisesAccidentalDeletionPrevention")
			}
			next.AlertThreshold = n
		default:
			if strings.HasPrefix(k, "@") {
				continue
			}
			return cur, grapherr.NoSuchProperty(k, syncADPType)
		}
	}
	return next, nil
}
