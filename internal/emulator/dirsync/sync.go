// Package dirsync is the emulated directory-sync service: it runs Entra
// Connect's exports against the tenant through package syncrules and
// plays duplicate attribute resiliency, quarantining colliding values and
// giving them back once their conflict is gone.
package dirsync

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/entramatch/entra-match-operator/internal/emulator/grapherr"
	"github.com/entramatch/entra-match-operator/internal/emulator/syncrules"
	"github.com/entramatch/entra-match-operator/internal/emulator/tenant"
)

// The sync service plays an Entra Connect export run: each exported object
// goes through syncrules.Decide against the live directory and the decision
// is written at once, so later objects of the same run see earlier ones.
// Rules and their sources are in package syncrules; the write side follows
// https://learn.microsoft.com/entra/identity/hybrid/connect/how-to-connect-install-existing-tenant
// (a matched object becomes on-premises mastered, its attributes overwritten)
// and
// https://learn.microsoft.com/entra/identity/hybrid/connect/how-to-connect-syncservice-duplicate-attribute-resiliency
// (quarantined values recorded in onPremisesProvisioningErrors).

// SyncOptions tunes the emulated sync service where Microsoft's pages
// leave a choice. The zero value is the least forgiving reading.
type SyncOptions struct {
	// SoftMatchIgnoresEligibility lets a cloud user who is only eligible
	// (PIM) for a directory role be soft-matched. By default eligibility
	// blocks soft match like an active assignment of any directory role does
	// ("Existing Admin Role Conflict"): the docs say only "have an admin
	// role", so the emulator takes the stricter reading. Eligibility for a
	// privileged role always blocks hard match.
	SoftMatchIgnoresEligibility bool
	// LegacyHardMatch plays the service before the 2026 hard match
	// protections (privileged role, onPremisesObjectIdentifier).
	LegacyHardMatch bool
	// SoftMatchConflict says what a soft match onto an object that already
	// carries another anchor gives: by default (the zero value) duplicate
	// attribute resiliency provisions a new object with the colliding values
	// quarantined; syncrules.ConflictInvalidSoftMatch and
	// ConflictAttributeValueMustBeUnique fail the export instead. See
	// syncrules.SoftMatchConflictMode.
	SoftMatchConflict syncrules.SoftMatchConflictMode
	// QuarantineSuffix returns the 4-digit number of a quarantined UPN;
	// nil draws a random one.
	QuarantineSuffix func() int
	// QuarantineReleaseInterval is the period, on the emulator clock, of the
	// duplicate attribute resiliency timer task that gives quarantined values
	// back once their conflict is gone: 0 means one hour, as documented; a
	// negative value never runs it on its own (Service.ReleaseQuarantined and
	// POST /_emulator/release-quarantined still do).
	QuarantineReleaseInterval time.Duration
}

// SyncObject is one object of an export, as POST /_emulator/sync takes it.
type SyncObject struct {
	// Type is "user", "group" or "contact".
	Type string `json:"type"`
	// SourceAnchor is the Base64 immutableId (case-sensitive).
	SourceAnchor                string   `json:"sourceAnchor"`
	UserPrincipalName           string   `json:"userPrincipalName,omitempty"`
	Mail                        string   `json:"mail,omitempty"`
	MailNickname                string   `json:"mailNickname,omitempty"`
	ProxyAddresses              []string `json:"proxyAddresses,omitempty"`
	DisplayName                 string   `json:"displayName,omitempty"`
	OnPremisesDistinguishedName string   `json:"onPremisesDistinguishedName,omitempty"`
	OnPremisesSamAccountName    string   `json:"onPremisesSamAccountName,omitempty"`
	// OnPremisesObjectIdentifier is what the sync stamps into the cloud
	// object's onPremisesObjectIdentifier (the AD objectGUID).
	OnPremisesObjectIdentifier string `json:"onPremisesObjectIdentifier,omitempty"`
	// MailEnabled applies to groups; when absent a group with a mail or an
	// SMTP proxy address counts as mail-enabled.
	MailEnabled *bool `json:"mailEnabled,omitempty"`
}

// SyncRequest is the body of POST /_emulator/sync.
type SyncRequest struct {
	Objects []SyncObject `json:"objects"`
	// FullSync soft-deletes previously synced objects that are absent from
	// Objects, subject to accidental deletion prevention.
	FullSync bool `json:"fullSync"`
}

// SyncOutcome is what happened to one object.
type SyncOutcome string

// Sync outcomes. The matching ones are syncrules' outcomes.
const (
	OutcomeHardMatch                 = SyncOutcome(syncrules.HardMatch)
	OutcomeSoftMatchSMTP             = SyncOutcome(syncrules.SoftMatchSMTP)
	OutcomeSoftMatchUPN              = SyncOutcome(syncrules.SoftMatchUPN)
	OutcomeCreated                   = SyncOutcome(syncrules.Created)
	OutcomeUpdated                   = SyncOutcome(syncrules.Updated)
	OutcomeDeleted       SyncOutcome = "Deleted"
	OutcomeError                     = SyncOutcome(syncrules.Error)
)

// CodeDeletionThresholdExceeded is reported for every deletion a full sync
// holds back because it exceeds the accidental deletion threshold; Entra
// Connect shows the run status "stopped-deletion-limit".
const CodeDeletionThresholdExceeded = "stopped-deletion-limit"

// SyncResult is the result for one object. Error is set for outcome Error
// and for a Created object whose soft match was refused
// (ExistingAdminRoleConflict). ObjectID is the object written, or for an
// error the cloud object in conflict, if any.
type SyncResult struct {
	SourceAnchor string      `json:"sourceAnchor"`
	Outcome      SyncOutcome `json:"outcome"`
	ObjectID     string      `json:"objectId,omitempty"`
	Error        *SyncError  `json:"error,omitempty"`
}

// SyncError is an export error, with the code Entra reports.
type SyncError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// SyncResponse lists one result per exported object, in request order,
// followed by the full sync's deletions.
type SyncResponse struct {
	Results []SyncResult `json:"results"`
}

// Service is the sync service of one tenant.
type Service struct {
	store *tenant.Store
	clock func() time.Time
	opts  SyncOptions

	// releaseMu guards lastRelease, the last run of the duplicate attribute
	// resiliency timer task (see quarantine.go).
	releaseMu   sync.Mutex
	lastRelease time.Time
}

// New returns the sync service of the tenant in store, on clock; the
// duplicate attribute resiliency timer task counts its first interval
// from now.
func New(store *tenant.Store, clock func() time.Time, opts SyncOptions) *Service {
	return &Service{store: store, clock: clock, opts: opts, lastRelease: clock()}
}

// Sync plays one export run. The whole run holds the store's write lock,
// so Graph sees it as one atomic change. The error is reserved for a
// request that cannot be run at all; per-object failures are results.
func (s *Service) Sync(req SyncRequest) (SyncResponse, error) {
	now := s.clock().UTC().Truncate(time.Second)
	due := s.releaseDue(s.clock())
	var resp SyncResponse
	err := s.store.Write(func(st *tenant.State) error {
		if due {
			releaseQuarantined(st, now)
		}
		features := st.Sync().Features
		cfg := syncrules.Config{
			Features: syncrules.Features{
				BlockSoftMatch:                                features.BlockSoftMatchEnabled,
				BlockCloudObjectTakeoverThroughHardMatch:      features.BlockCloudObjectTakeoverThroughHardMatchEnabled,
				SoftMatchOnUpn:                                features.SoftMatchOnUpnEnabled,
				AllowOnPremUpdateOfOnPremisesObjectIdentifier: features.AllowOnPremUpdateOfOnPremisesObjectIdentifierEnabled,
			},
			LegacyHardMatch:             s.opts.LegacyHardMatch,
			SoftMatchIgnoresEligibility: s.opts.SoftMatchIgnoresEligibility,
			SoftMatchConflict:           s.opts.SoftMatchConflict,
			QuarantineSuffix:            s.opts.QuarantineSuffix,
		}
		prevention := deletionPrevention(st.Sync().Configuration.AccidentalDeletionPrevention)
		if req.FullSync {
			// Refuse a run whose deletions cannot be planned before writing anything.
			if _, err := syncrules.PlanDeletions(nil, nil, prevention); err != nil {
				return grapherr.New(http.StatusBadRequest, grapherr.CodeBadRequestPlain, fmt.Sprintf("accidental deletion prevention: %v", err))
			}
		}
		dir := storeDirectory{st: st, now: now}
		resp = SyncResponse{Results: make([]SyncResult, 0, len(req.Objects))}
		exports := make([]syncrules.Export, 0, len(req.Objects))
		for _, obj := range req.Objects {
			e := obj.export()
			exports = append(exports, e)
			d := syncrules.Decide(e, cfg, dir)
			resp.Results = append(resp.Results, applySync(st, obj, e, d, now))
		}
		if req.FullSync {
			deleted, err := syncDeletions(st, exports, prevention, now)
			if err != nil {
				return err
			}
			resp.Results = append(resp.Results, deleted...)
		}
		st.RecordSync(now)
		return nil
	})
	if err != nil {
		return SyncResponse{}, err
	}
	return resp, nil
}

func (o SyncObject) export() syncrules.Export {
	e := syncrules.Export{
		Type:              syncrules.ObjectType(o.Type),
		SourceAnchor:      o.SourceAnchor,
		UserPrincipalName: o.UserPrincipalName,
		MailNickname:      o.MailNickname,
		Mail:              o.Mail,
		ProxyAddresses:    o.ProxyAddresses,
		ObjectIdentifier:  o.OnPremisesObjectIdentifier,
	}
	e.MailEnabled = o.Mail != "" || hasSMTP(o.ProxyAddresses)
	if o.MailEnabled != nil {
		e.MailEnabled = *o.MailEnabled
	}
	return e
}

func hasSMTP(addrs []string) bool {
	for _, p := range addrs {
		if len(p) > 5 && strings.EqualFold(p[:5], "smtp:") {
			return true
		}
	}
	return false
}

// applySync writes one decision. A write that the store refuses (a value
// the rules could not see as taken) fails the object, never the run.
func applySync(st *tenant.State, obj SyncObject, e syncrules.Export, d syncrules.Decision, now time.Time) SyncResult {
	res := SyncResult{SourceAnchor: obj.SourceAnchor, Outcome: SyncOutcome(d.Outcome), ObjectID: d.TargetID}
	if d.Outcome == syncrules.Error {
		res.Error = &SyncError{Code: d.Code, Message: d.Message}
		return res
	}
	var id string
	var err error
	switch e.Type {
	case syncrules.User:
		id, err = syncUser(st, obj, d, now)
	case syncrules.Group:
		id, err = syncGroup(st, obj, e, d, now)
	case syncrules.Contact:
		id, err = syncContact(st, obj, d, now)
	default:
		err = fmt.Errorf("unknown object type %q", obj.Type)
	}
	if err != nil {
		return SyncResult{SourceAnchor: obj.SourceAnchor, Outcome: OutcomeError, ObjectID: d.TargetID, Error: storeRefusal(err)}
	}
	res.ObjectID = id
	if d.Code != "" {
		res.Error = &SyncError{Code: d.Code, Message: d.Message}
	}
	return res
}

// storeRefusal names a write the directory refused in the sync service's
// terms: a uniqueness conflict is AttributeValueMustBeUnique, anything else
// (a value Graph would not store) IdentityDataValidationFailed.
func storeRefusal(err error) *SyncError {
	var ge *grapherr.GraphError
	if !errors.As(err, &ge) {
		return &SyncError{Code: syncrules.CodeIdentityDataValidationFailed, Message: err.Error()}
	}
	for _, d := range ge.Details {
		if d.Code == grapherr.CodeObjectConflict {
			return &SyncError{Code: syncrules.CodeAttributeValueMustBeUnique, Message: ge.Message}
		}
	}
	return &SyncError{Code: syncrules.CodeIdentityDataValidationFailed, Message: ge.Message}
}

func optString(v string) *string {
	if v == "" {
		return nil
	}
	return &v
}

// domainFromDN is the DNS name of the AD domain holding dn, which Entra
// reports as onPremisesDomainName: its DC= components joined by dots.
func domainFromDN(dn string) *string {
	var parts []string
	for _, rdn := range strings.Split(dn, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(rdn), "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), "DC") && v != "" {
			parts = append(parts, strings.TrimSpace(v))
		}
	}
	if len(parts) == 0 {
		return nil
	}
	return optString(strings.Join(parts, "."))
}

func provisioningErrors(pe []syncrules.ProvisioningError, now time.Time) []tenant.ProvisioningError {
	if len(pe) == 0 {
		return nil
	}
	out := make([]tenant.ProvisioningError, 0, len(pe))
	for _, p := range pe {
		at := now
		out = append(out, tenant.ProvisioningError{Category: p.Category, OccurredDateTime: &at,
			PropertyCausingError: p.PropertyCausingError, Value: p.Value})
	}
	return out
}

// primaryOf returns the address of the "SMTP:" proxy address.
func primaryOf(addrs []string) string {
	for _, p := range addrs {
		if strings.HasPrefix(p, "SMTP:") {
			return p[len("SMTP:"):]
		}
	}
	return ""
}

// syncMail is the mail a synced object gets: the exported mail, or the
// primary SMTP address that survived quarantine.
func syncMail(obj SyncObject, proxies []string) *string {
	if obj.Mail != "" {
		return optString(obj.Mail)
	}
	return optString(primaryOf(proxies))
}

func syncUser(st *tenant.State, obj SyncObject, d syncrules.Decision, now time.Time) (string, error) {
	var old *tenant.User
	u := tenant.User{ID: uuid.NewString(), UserType: "Member", CreatedDateTime: &now, AccountEnabled: ptrTo(true)}
	if d.TargetID != "" {
		if d.Restore {
			old = st.DeletedUser(d.TargetID)
		} else {
			old = st.User(d.TargetID)
		}
		if old == nil {
			return "", fmt.Errorf("target user %s vanished", d.TargetID)
		}
		u = *old
	}
	u.UserPrincipalName = d.UserPrincipalName
	u.MailNickname = d.MailNickname
	if obj.DisplayName != "" {
		u.DisplayName = obj.DisplayName
	} else if u.DisplayName == "" {
		u.DisplayName = d.MailNickname
	}
	u.ProxyAddresses = append([]string(nil), d.ProxyAddresses...)
	u.Mail = syncMail(obj, u.ProxyAddresses)
	anchor := obj.SourceAnchor
	u.OnPremisesImmutableID = &anchor
	u.OnPremisesSyncEnabled = ptrTo(true)
	u.OnPremisesLastSyncDateTime = &now
	u.OnPremisesDistinguishedName = optString(obj.OnPremisesDistinguishedName)
	u.OnPremisesSamAccountName = optString(obj.OnPremisesSamAccountName)
	u.OnPremisesUserPrincipalName = optString(obj.UserPrincipalName)
	u.OnPremisesDomainName = domainFromDN(obj.OnPremisesDistinguishedName)
	if obj.OnPremisesObjectIdentifier != "" {
		u.OnPremisesObjectIdentifier = optString(obj.OnPremisesObjectIdentifier)
	}
	u.OnPremisesProvisioningErrors = provisioningErrors(d.ProvisioningErrors, now)
	u.DeletedDateTime = nil
	if err := st.CheckUser(&u, u.ID); err != nil {
		return "", err
	}
	if d.Restore {
		st.RemoveDeletedUser(u.ID)
		old = nil
	}
	st.PutUser(old, &u)
	return u.ID, nil
}

func syncGroup(st *tenant.State, obj SyncObject, e syncrules.Export, d syncrules.Decision, now time.Time) (string, error) {
	var old *tenant.Group
	g := tenant.Group{ID: uuid.NewString(), CreatedDateTime: &now}
	if d.TargetID != "" {
		if d.Restore {
			old = st.DeletedGroup(d.TargetID)
		} else {
			old = st.Group(d.TargetID)
		}
		if old == nil {
			return "", fmt.Errorf("target group %s vanished", d.TargetID)
		}
		g = *old
	}
	if obj.DisplayName != "" || g.DisplayName == "" {
		g.DisplayName = obj.DisplayName
	}
	g.MailEnabled = e.MailEnabled
	// AD groups are security groups unless they are distribution lists
	// (mail-enabled); the export does not say which, so mail decides.
	g.SecurityEnabled = !e.MailEnabled
	g.MailNickname = obj.MailNickname
	g.ProxyAddresses = append([]string(nil), d.ProxyAddresses...)
	g.Mail = syncMail(obj, g.ProxyAddresses)
	anchor := obj.SourceAnchor
	g.OnPremisesImmutableID = &anchor
	g.OnPremisesSyncEnabled = ptrTo(true)
	g.OnPremisesLastSyncDateTime = &now
	g.OnPremisesSamAccountName = optString(obj.OnPremisesSamAccountName)
	g.OnPremisesDomainName = domainFromDN(obj.OnPremisesDistinguishedName)
	g.OnPremisesProvisioningErrors = provisioningErrors(d.ProvisioningErrors, now)
	g.DeletedDateTime = nil
	if err := st.CheckSyncedObject(g.ID, g.ProxyAddresses, anchor); err != nil {
		return "", err
	}
	if d.Restore {
		st.RemoveDeletedGroup(g.ID)
		old = nil
	}
	st.PutGroup(old, &g)
	return g.ID, nil
}

func syncContact(st *tenant.State, obj SyncObject, d syncrules.Decision, now time.Time) (string, error) {
	var old *tenant.Contact
	c := tenant.Contact{ID: uuid.NewString()}
	if d.TargetID != "" {
		if d.Restore {
			old = st.DeletedContact(d.TargetID)
		} else {
			old = st.Contact(d.TargetID)
		}
		if old == nil {
			return "", fmt.Errorf("target contact %s vanished", d.TargetID)
		}
		c = *old
	}
	if obj.DisplayName != "" || c.DisplayName == "" {
		c.DisplayName = obj.DisplayName
	}
	c.MailNickname = obj.MailNickname
	c.ProxyAddresses = append([]string(nil), d.ProxyAddresses...)
	c.Mail = syncMail(obj, c.ProxyAddresses)
	anchor := obj.SourceAnchor
	c.OnPremisesImmutableID = &anchor
	c.OnPremisesSyncEnabled = ptrTo(true)
	c.OnPremisesLastSyncDateTime = &now
	c.OnPremisesProvisioningErrors = provisioningErrors(d.ProvisioningErrors, now)
	c.DeletedDateTime = nil
	if err := st.CheckSyncedObject(c.ID, c.ProxyAddresses, anchor); err != nil {
		return "", err
	}
	if d.Restore {
		st.RemoveDeletedContact(c.ID)
		old = nil
	}
	st.PutContact(old, &c)
	return c.ID, nil
}

// syncDeletions soft-deletes the synced objects a full sync no longer
// exports, unless accidental deletion prevention holds them all back
// (https://learn.microsoft.com/entra/identity/hybrid/connect/how-to-connect-sync-feature-prevent-accidental-deletes).
// A deleted object keeps its anchor, so exporting it again hard-matches
// and restores it; onPremisesSyncEnabled turns false as for an object
// removed from sync scope.
func syncDeletions(st *tenant.State, exports []syncrules.Export, prevention syncrules.DeletionPrevention, now time.Time) ([]SyncResult, error) {
	var cloud []syncrules.CloudObject
	anchors := map[string]string{}
	collect := func(id string, anchor *string, synced *bool, typ syncrules.ObjectType) {
		if anchor == nil {
			return
		}
		anchors[key(id)] = *anchor
		cloud = append(cloud, syncrules.CloudObject{ID: id, Type: typ, OnPremisesImmutableID: *anchor, OnPremisesSyncEnabled: synced})
	}
	for u := range st.Users() {
		collect(u.ID, u.OnPremisesImmutableID, u.OnPremisesSyncEnabled, syncrules.User)
	}
	for g := range st.Groups() {
		collect(g.ID, g.OnPremisesImmutableID, g.OnPremisesSyncEnabled, syncrules.Group)
	}
	for c := range st.Contacts() {
		collect(c.ID, c.OnPremisesImmutableID, c.OnPremisesSyncEnabled, syncrules.Contact)
	}
	plan, err := syncrules.PlanDeletions(cloud, exports, prevention)
	if err != nil {
		return nil, grapherr.New(http.StatusBadRequest, grapherr.CodeBadRequestPlain, fmt.Sprintf("accidental deletion prevention: %v", err))
	}
	out := make([]SyncResult, 0, len(plan.Delete))
	for _, id := range plan.Delete {
		res := SyncResult{SourceAnchor: anchors[key(id)], ObjectID: id, Outcome: OutcomeDeleted}
		if plan.Blocked {
			res.Outcome = OutcomeError
			res.Error = &SyncError{Code: CodeDeletionThresholdExceeded, Message: plan.Reason}
		} else {
			softDeleteSynced(st, id, now)
		}
		out = append(out, res)
	}
	return out, nil
}

func deletionPrevention(adp tenant.AccidentalDeletionPrevention) syncrules.DeletionPrevention {
	return syncrules.DeletionPrevention{Type: syncrules.PreventionType(adp.SynchronizationPreventionType), Threshold: float64(adp.AlertThreshold)}
}

func softDeleteSynced(st *tenant.State, id string, now time.Time) {
	off := false
	if u := st.User(id); u != nil {
		u.OnPremisesSyncEnabled = &off
		st.SoftDeleteUser(u, now)
		return
	}
	if g := st.Group(id); g != nil {
		g.OnPremisesSyncEnabled = &off
		st.SoftDeleteGroup(g, now)
		return
	}
	if c := st.Contact(id); c != nil {
		c.OnPremisesSyncEnabled = &off
		st.SoftDeleteContact(c, now)
	}
}

func ptrTo[T any](v T) *T { return &v }
