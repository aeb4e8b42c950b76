package emulator

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/entramatch/entra-match-operator/internal/emulator/syncrules"
)

// Microsoft pages the sync cases follow (MicrosoftDocs/entra-docs,
// docs/identity/hybrid/connect/).
const (
	docExistingTenant = "https://learn.microsoft.com/entra/identity/hybrid/connect/how-to-connect-install-existing-tenant"
	docResiliency     = "https://learn.microsoft.com/entra/identity/hybrid/connect/how-to-connect-syncservice-duplicate-attribute-resiliency"
	docSyncErrors     = "https://learn.microsoft.com/entra/identity/hybrid/connect/tshoot-connect-sync-errors"
	docUPNPlan        = "https://learn.microsoft.com/entra/identity/hybrid/connect/plan-connect-userprincipalname"
	docDeletes        = "https://learn.microsoft.com/entra/identity/hybrid/connect/how-to-connect-sync-feature-prevent-accidental-deletes"
	docUserResource   = "https://learn.microsoft.com/en-us/graph/api/resources/user"
)

// Cloud objects of the sync fixture.
const (
	idAlice     = "a0000000-0000-4000-8000-000000000001" // cloud-only, SMTP alice@
	idFrank     = "a0000000-0000-4000-8000-000000000002" // cloud-only, UPN only
	idCarol     = "a0000000-0000-4000-8000-000000000003" // cloud-only with anchor (hard match)
	idAdmin     = "a0000000-0000-4000-8000-000000000004" // Global Administrator (assigned)
	idElig      = "a0000000-0000-4000-8000-000000000005" // eligible Privileged Role Administrator
	idErin      = "a0000000-0000-4000-8000-000000000006" // anchor + assigned privileged role
	idIvan      = "a0000000-0000-4000-8000-000000000007" // anchor + eligible privileged role
	idBob       = "a0000000-0000-4000-8000-000000000008" // synced
	idGrace     = "a0000000-0000-4000-8000-000000000009" // anchor, not synced, SMTP grace@
	idJudy      = "a0000000-0000-4000-8000-00000000000a" // anchor + onPremisesObjectIdentifier
	idDave      = "a0000000-0000-4000-8000-00000000000b" // soft-deleted, removed from sync scope
	idExa       = "a0000000-0000-4000-8000-00000000000c" // Exchange Administrator (assigned, not privileged)
	idReader    = "a0000000-0000-4000-8000-00000000000d" // eligible Directory Readers (not privileged), UPN only
	idPeggy     = "a0000000-0000-4000-8000-00000000000e" // soft-deleted synced Global Administrator
	idTaxGroup  = "b0000000-0000-4000-8000-000000000001" // mail-enabled group
	idSecGroup  = "b0000000-0000-4000-8000-000000000002" // security group, no mail
	idVendor    = "c0000000-0000-4000-8000-000000000001" // contact
	newObject   = "<new>"
	quarantine4 = 42
)

// syncFixture is the tenant every sync case starts from.
func syncFixture(h *harness) Snapshot {
	snap := h.srv.Snapshot()
	u := func(id, nick string, mod func(*User)) User {
		x := User{ID: id, UserPrincipalName: nick + "@" + testVanity, DisplayName: nick, MailNickname: nick,
			AccountEnabled: ptr(true), UserType: "Member"}
		if mod != nil {
			mod(&x)
		}
		return x
	}
	smtp := func(nick string) func(*User) {
		return func(x *User) {
			x.Mail = ptr(nick + "@" + testVanity)
			x.ProxyAddresses = []string{"SMTP:" + nick + "@" + testVanity}
		}
	}
	then := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	snap.Users = []User{
		u(idAlice, "alice", smtp("alice")),
		u(idFrank, "frank", nil),
		u(idCarol, "carol", func(x *User) { x.OnPremisesImmutableID = ptr("Q2Fyb2w=") }),
		u(idAdmin, "admin", smtp("admin")),
		u(idElig, "elig", smtp("elig")),
		u(idErin, "erin", func(x *User) { x.OnPremisesImmutableID = ptr("RXJpbg==") }),
		u(idIvan, "ivan", func(x *User) { x.OnPremisesImmutableID = ptr("SXZhbg==") }),
		u(idBob, "bob", func(x *User) {
			smtp("bob")(x)
			x.OnPremisesImmutableID = ptr("Qm9iQm9i")
			x.OnPremisesSyncEnabled = ptr(true)
			x.OnPremisesLastSyncDateTime = &then
		}),
		u(idGrace, "grace", func(x *User) {
			smtp("grace")(x)
			x.OnPremisesImmutableID = ptr("R3JhY2U=")
		}),
		u(idJudy, "judy", func(x *User) {
			x.OnPremisesImmutableID = ptr("SnVkeQ==")
			x.OnPremisesObjectIdentifier = ptr("0696b33a-42c6-9b48-84b6-58c038d3ef39")
		}),
		u(idExa, "exa", smtp("exa")),
		u(idReader, "reader", nil),
	}
	snap.DeletedItems.Users = []User{u(idDave, "dave", func(x *User) {
		x.OnPremisesImmutableID = ptr("RGF2ZQ==")
		x.OnPremisesSyncEnabled = ptr(false)
		x.DeletedDateTime = &then
	}), u(idPeggy, "peggy", func(x *User) {
		// Deleted through Graph while synced: still onPremisesSyncEnabled.
		x.OnPremisesImmutableID = ptr("UGVnZ3k=")
		x.OnPremisesSyncEnabled = ptr(true)
		x.DeletedDateTime = &then
	})}
	snap.Groups = []Group{
		{ID: idTaxGroup, DisplayName: "Tax", MailEnabled: true, Mail: ptr("tax@" + testVanity), ProxyAddresses: []string{"SMTP:tax@" + testVanity}},
		{ID: idSecGroup, DisplayName: "Engineers", SecurityEnabled: true},
	}
	snap.Contacts = []Contact{{ID: idVendor, DisplayName: "Vendor", Mail: ptr("vendor@fabrikam.com"), ProxyAddresses: []string{"SMTP:vendor@fabrikam.com"}}}
	snap.RoleAssignments = []RoleAssignment{
		{ID: "ra-admin", PrincipalID: idAdmin, RoleDefinitionID: RoleGlobalAdministrator, DirectoryScopeID: "/"},
		{ID: "ra-erin", PrincipalID: idErin, RoleDefinitionID: RoleUserAdministrator, DirectoryScopeID: "/"},
		// Exchange Administrator is not privileged, but it is an admin role.
		{ID: "ra-exa", PrincipalID: idExa, RoleDefinitionID: RoleExchangeAdministrator, DirectoryScopeID: "/"},
		{ID: "ra-peggy", PrincipalID: idPeggy, RoleDefinitionID: RoleGlobalAdministrator, DirectoryScopeID: "/"},
	}
	snap.RoleEligibilities = []RoleEligibility{
		{ID: "re-elig", PrincipalID: idElig, RoleDefinitionID: RolePrivilegedRoleAdministrator, DirectoryScopeID: "/"},
		{ID: "re-ivan", PrincipalID: idIvan, RoleDefinitionID: RoleGlobalAdministrator, DirectoryScopeID: "/"},
		{ID: "re-reader", PrincipalID: idReader, RoleDefinitionID: RoleDirectoryReaders, DirectoryScopeID: "/"},
	}
	snap.Sync = DefaultSyncState()
	snap.Sync.Configuration.AccidentalDeletionPrevention = AccidentalDeletionPrevention{SynchronizationPreventionType: "disabled"}
	return snap
}

func withSync(o SyncOptions) harnessOpt { return func(c *Config) { c.Sync = o } }

func fixedSuffix() func() int { return func() int { return quarantine4 } }

type syncWant struct {
	Outcome  SyncOutcome
	ObjectID string
	Code     string
}

// postSync runs a sync over HTTP and returns the results with unknown
// (new) object ids replaced by newObject.
func postSync(t *testing.T, h *harness, req SyncRequest, known map[string]bool) ([]syncWant, SyncResponse) {
	t.Helper()
	raw, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	res := h.send(http.MethodPost, "/_emulator/sync", "", strings.NewReader(string(raw)), map[string]string{"Content-Type": "application/json"})
	h.mustStatus(res, http.StatusOK)
	var resp SyncResponse
	if err := json.Unmarshal(res.raw, &resp); err != nil {
		t.Fatalf("sync response: %v: %s", err, res.raw)
	}
	var got []syncWant
	for _, r := range resp.Results {
		w := syncWant{Outcome: r.Outcome, ObjectID: r.ObjectID}
		if r.ObjectID != "" && !known[strings.ToLower(r.ObjectID)] {
			w.ObjectID = newObject
		}
		if r.Error != nil {
			w.Code = r.Error.Code
		}
		got = append(got, w)
	}
	return got, resp
}

func knownIDs(snap Snapshot) map[string]bool {
	out := map[string]bool{}
	for _, u := range snap.Users {
		out[strings.ToLower(u.ID)] = true
	}
	for _, u := range snap.DeletedItems.Users {
		out[strings.ToLower(u.ID)] = true
	}
	for _, g := range snap.Groups {
		out[strings.ToLower(g.ID)] = true
	}
	for _, c := range snap.Contacts {
		out[strings.ToLower(c.ID)] = true
	}
	return out
}

// selectUser reads a user through Graph with the given $select.
func selectUser(h *harness, id, sel string) map[string]any {
	h.t.Helper()
	res := h.graph(adminApp, http.MethodGet, "/users/"+id+"?$select="+sel, nil)
	h.mustStatus(res, http.StatusOK)
	return res.body
}

func userExport(anchor, nick string, proxies ...string) SyncObject {
	return SyncObject{Type: "user", SourceAnchor: anchor, UserPrincipalName: nick + "@" + testVanity, DisplayName: "On-prem " + nick,
		ProxyAddresses: proxies, OnPremisesDistinguishedName: "CN=" + nick + ",OU=Staff,DC=corp,DC=example",
		OnPremisesSamAccountName: nick}
}

func TestSyncOutcomes(t *testing.T) {
	h := newHarness(t, withSync(SyncOptions{QuarantineSuffix: fixedSuffix()}))
	base := syncFixture(h)
	known := knownIDs(base)
	type features func(*SyncFeatures)
	tests := []struct {
		name     string
		doc      string
		features features
		objects  []SyncObject
		fullSync bool
		// prevention replaces the fixture's (disabled) accidental deletion prevention.
		prevention *AccidentalDeletionPrevention
		want       []syncWant
		check      func(t *testing.T, resp SyncResponse)
	}{
		{
			name:    "hard match on the anchor of a cloud-managed user",
			doc:     docExistingTenant + "#hard-match-vs-soft-match",
			objects: []SyncObject{userExport("Q2Fyb2w=", "carol", "SMTP:carol@contoso.com")},
			want:    []syncWant{{OutcomeHardMatch, idCarol, ""}},
			check: func(t *testing.T, _ SyncResponse) {
				got := selectUser(h, idCarol, "displayName,mail,proxyAddresses,onPremisesSyncEnabled,onPremisesImmutableId,onPremisesDistinguishedName,onPremisesSamAccountName,onPremisesUserPrincipalName,onPremisesDomainName,onPremisesLastSyncDateTime,onPremisesProvisioningErrors")
				delete(got, "@odata.context")
				want := map[string]any{
					"displayName": "On-prem carol", "mail": "carol@contoso.com", "proxyAddresses": []any{"SMTP:carol@contoso.com"},
					"onPremisesSyncEnabled": true, "onPremisesImmutableId": "Q2Fyb2w=",
					"onPremisesDistinguishedName": "CN=carol,OU=Staff,DC=corp,DC=example", "onPremisesSamAccountName": "carol",
					"onPremisesUserPrincipalName": "carol@contoso.com", "onPremisesDomainName": "corp.example",
					"onPremisesLastSyncDateTime": h.clock.Now().UTC().Format(time.RFC3339), "onPremisesProvisioningErrors": []any{},
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("matched user (-want +got):\n%s", diff)
				}
				// On-premises mastered from now on: Graph refuses cloud edits.
				res := h.graph(adminApp, http.MethodPatch, "/users/"+idCarol, map[string]any{"displayName": "x"})
				if res.status != 400 || !strings.Contains(res.errorMessage(), "on-premises mastered") {
					t.Errorf("PATCH after sync: %d %s", res.status, res.raw)
				}
			},
		},
		{
			name:     "hard match refused when cloud object takeover is blocked",
			doc:      docSyncErrors + "#invalidhardmatch",
			features: func(f *SyncFeatures) { f.BlockCloudObjectTakeoverThroughHardMatchEnabled = true },
			objects:  []SyncObject{userExport("Q2Fyb2w=", "carol")},
			want:     []syncWant{{OutcomeError, idCarol, syncrules.CodeInvalidHardMatch}},
		},
		{
			name:    "hard match refused: target assigned a privileged role",
			doc:     docExistingTenant + "#hard-match-security-protections",
			objects: []SyncObject{userExport("RXJpbg==", "erin")},
			want:    []syncWant{{OutcomeError, idErin, syncrules.CodeInvalidHardMatch}},
		},
		{
			name:    "hard match refused: target eligible for a privileged role",
			doc:     docExistingTenant + "#hard-match-security-protections",
			objects: []SyncObject{userExport("SXZhbg==", "ivan")},
			want:    []syncWant{{OutcomeError, idIvan, syncrules.CodeInvalidHardMatch}},
		},
		{
			name: "hard match refused: onPremisesObjectIdentifier already set",
			doc:  docExistingTenant + "#hard-match-security-protections",
			objects: []SyncObject{func() SyncObject {
				o := userExport("SnVkeQ==", "judy")
				o.OnPremisesObjectIdentifier = "11111111-2222-4333-8444-555555555555"
				return o
			}()},
			want: []syncWant{{OutcomeError, idJudy, syncrules.CodeAttributeUpdateNotAllowed}},
		},
		{
			name:     "allowOnPremUpdateOfOnPremisesObjectIdentifierEnabled bypasses the protections",
			doc:      docExistingTenant + "#hard-match-security-protections",
			features: func(f *SyncFeatures) { f.AllowOnPremUpdateOfOnPremisesObjectIdentifierEnabled = true },
			objects: []SyncObject{func() SyncObject {
				o := userExport("SnVkeQ==", "judy")
				o.OnPremisesObjectIdentifier = "11111111-2222-4333-8444-555555555555"
				return o
			}(), userExport("RXJpbg==", "erin")},
			want: []syncWant{{OutcomeHardMatch, idJudy, ""}, {OutcomeHardMatch, idErin, ""}},
		},
		{
			name:    "hard match restores an object removed from sync scope",
			doc:     docSyncErrors + "#invalidhardmatch",
			objects: []SyncObject{userExport("RGF2ZQ==", "dave")},
			want:    []syncWant{{OutcomeHardMatch, idDave, ""}},
			check: func(t *testing.T, _ SyncResponse) {
				got := selectUser(h, idDave, "onPremisesSyncEnabled")
				if got["onPremisesSyncEnabled"] != true {
					t.Errorf("restored user: %v", got)
				}
			},
		},
		{
			name:    "soft match on the primary SMTP address stamps the anchor",
			doc:     docExistingTenant + "#hard-match-vs-soft-match",
			objects: []SyncObject{userExport("QWxpY2U=", "alice", "SMTP:alice@contoso.com", "smtp:al@contoso.com")},
			want:    []syncWant{{OutcomeSoftMatchSMTP, idAlice, ""}},
			check: func(t *testing.T, _ SyncResponse) {
				got := selectUser(h, idAlice, "onPremisesImmutableId,onPremisesSyncEnabled,proxyAddresses")
				if got["onPremisesImmutableId"] != "QWxpY2U=" || got["onPremisesSyncEnabled"] != true ||
					len(got["proxyAddresses"].([]any)) != 2 {
					t.Errorf("soft-matched user: %v", got)
				}
			},
		},
		{
			name:    "a secondary smtp address does not soft-match",
			doc:     docExistingTenant + "#hard-match-vs-soft-match",
			objects: []SyncObject{{Type: "user", SourceAnchor: "QWxpY2U=", UserPrincipalName: "alice2@contoso.com", ProxyAddresses: []string{"SMTP:alice2@contoso.com", "smtp:alice@contoso.com"}}},
			want:    []syncWant{{OutcomeCreated, newObject, ""}},
		},
		{
			name:     "blockSoftMatchEnabled provisions a new object with quarantined values",
			doc:      docResiliency,
			features: func(f *SyncFeatures) { f.BlockSoftMatchEnabled = true },
			objects:  []SyncObject{userExport("QWxpY2U=", "alice", "SMTP:alice@contoso.com")},
			want:     []syncWant{{OutcomeCreated, newObject, ""}},
			check: func(t *testing.T, resp SyncResponse) {
				got := selectUser(h, resp.Results[0].ObjectID, "userPrincipalName,proxyAddresses,onPremisesProvisioningErrors")
				if got["userPrincipalName"] != "alice+0042@"+testDomain {
					t.Errorf("quarantined UPN %v", got["userPrincipalName"])
				}
				if got["proxyAddresses"] != nil && len(got["proxyAddresses"].([]any)) != 0 {
					t.Errorf("colliding proxy address kept: %v", got["proxyAddresses"])
				}
				errs, _ := got["onPremisesProvisioningErrors"].([]any)
				var props []string
				for _, e := range errs {
					m := e.(map[string]any)
					if m["category"] != "PropertyConflict" || m["occurredDateTime"] == nil {
						t.Errorf("provisioning error %v", m)
					}
					props = append(props, m["propertyCausingError"].(string)+"="+m["value"].(string))
				}
				if diff := cmp.Diff([]string{"UserPrincipalName=alice@contoso.com", "ProxyAddresses=SMTP:alice@contoso.com"}, props); diff != "" {
					t.Errorf("provisioning errors (-want +got):\n%s", diff)
				}
			},
		},
		{
			name:    "soft match on UPN when softMatchOnUpnEnabled",
			doc:     docExistingTenant + "#hard-match-vs-soft-match",
			objects: []SyncObject{userExport("RnJhbms=", "frank")},
			want:    []syncWant{{OutcomeSoftMatchUPN, idFrank, ""}},
		},
		{
			name:     "no UPN soft match without softMatchOnUpnEnabled",
			doc:      docExistingTenant + "#hard-match-vs-soft-match",
			features: func(f *SyncFeatures) { f.SoftMatchOnUpnEnabled = false },
			objects:  []SyncObject{userExport("RnJhbms=", "frank")},
			want:     []syncWant{{OutcomeCreated, newObject, ""}},
		},
		{
			name:    "a UPN on a non-verified suffix is rewritten and cannot soft-match",
			doc:     docUPNPlan,
			objects: []SyncObject{{Type: "user", SourceAnchor: "RnJhbms=", UserPrincipalName: "frank@corp.local", MailNickname: "frank"}},
			want:    []syncWant{{OutcomeCreated, newObject, ""}},
			check: func(t *testing.T, resp SyncResponse) {
				got := selectUser(h, resp.Results[0].ObjectID, "userPrincipalName,onPremisesUserPrincipalName")
				if got["userPrincipalName"] != "frank@"+testDomain || got["onPremisesUserPrincipalName"] != "frank@corp.local" {
					t.Errorf("rewritten UPN: %v", got)
				}
			},
		},
		{
			name:    "admin role conflict: assigned privileged role",
			doc:     docExistingTenant + "#admin-role-considerations",
			objects: []SyncObject{userExport("QWRtaW4=", "admin", "SMTP:admin@contoso.com")},
			want:    []syncWant{{OutcomeCreated, newObject, syncrules.CodeExistingAdminRoleConflict}},
		},
		{
			name:    "admin role conflict: eligible privileged role",
			doc:     docExistingTenant + "#admin-role-considerations",
			objects: []SyncObject{userExport("RWxpZw==", "elig", "SMTP:elig@contoso.com")},
			want:    []syncWant{{OutcomeCreated, newObject, syncrules.CodeExistingAdminRoleConflict}},
		},
		{
			name:    "admin role conflict: any admin role, not only a privileged one (Exchange Administrator)",
			doc:     docExistingTenant + "#admin-role-considerations",
			objects: []SyncObject{userExport("RXhh", "exa", "SMTP:exa@contoso.com")},
			want:    []syncWant{{OutcomeCreated, newObject, syncrules.CodeExistingAdminRoleConflict}},
			check: func(t *testing.T, resp SyncResponse) {
				if got := selectUser(h, idExa, "onPremisesImmutableId"); got["onPremisesImmutableId"] != nil {
					t.Errorf("the admin was matched: %v", got)
				}
				got := selectUser(h, resp.Results[0].ObjectID, "userPrincipalName,proxyAddresses")
				if got["userPrincipalName"] != "exa+0042@"+testDomain {
					t.Errorf("new object UPN %v, want it quarantined", got["userPrincipalName"])
				}
			},
		},
		{
			name:    "admin role conflict: eligible for a non-privileged role, on the UPN",
			doc:     docExistingTenant + "#admin-role-considerations",
			objects: []SyncObject{userExport("UmVhZGVy", "reader")},
			want:    []syncWant{{OutcomeCreated, newObject, syncrules.CodeExistingAdminRoleConflict}},
		},
		{
			name:    "soft match onto an object with another anchor provisions a quarantined object",
			doc:     docSyncErrors + "#invalidsoftmatch",
			objects: []SyncObject{userExport("T3RoZXI=", "grace", "SMTP:grace@contoso.com")},
			want:    []syncWant{{OutcomeCreated, newObject, ""}},
			check: func(t *testing.T, resp SyncResponse) {
				got := selectUser(h, resp.Results[0].ObjectID, "userPrincipalName,proxyAddresses,onPremisesProvisioningErrors")
				if got["userPrincipalName"] != "grace+0042@"+testDomain || len(got["proxyAddresses"].([]any)) != 0 ||
					len(got["onPremisesProvisioningErrors"].([]any)) != 2 {
					t.Errorf("new object %v, want UPN and SMTP address quarantined", got)
				}
			},
		},
		{
			name:    "hard match refused: target soft-deleted and privileged, even if it was synced",
			doc:     docExistingTenant + "#hard-match-scenarios-and-recovery-paths",
			objects: []SyncObject{userExport("UGVnZ3k=", "peggy")},
			want:    []syncWant{{OutcomeError, idPeggy, syncrules.CodeInvalidHardMatch}},
			check: func(t *testing.T, resp SyncResponse) {
				if msg := resp.Results[0].Error.Message; msg != syncrules.MessagePrivilegedTakeover {
					t.Errorf("message %q", msg)
				}
			},
		},
		{
			name:    "a user export matching a group's address",
			doc:     docSyncErrors + "#objecttypemismatch",
			objects: []SyncObject{userExport("VGF4VXNlcg==", "taxuser", "SMTP:tax@contoso.com")},
			want:    []syncWant{{OutcomeError, idTaxGroup, syncrules.CodeObjectTypeMismatch}},
		},
		{
			name: "mail-enabled group and contact soft-match on proxyAddresses",
			doc:  docExistingTenant + "#other-objects-than-users",
			objects: []SyncObject{
				{Type: "group", SourceAnchor: "VGF4", DisplayName: "Tax (AD)", ProxyAddresses: []string{"SMTP:tax@contoso.com"}},
				{Type: "contact", SourceAnchor: "VmVuZG9y", DisplayName: "Vendor (AD)", Mail: "vendor@fabrikam.com", ProxyAddresses: []string{"SMTP:vendor@fabrikam.com"}},
			},
			want: []syncWant{{OutcomeSoftMatchSMTP, idTaxGroup, ""}, {OutcomeSoftMatchSMTP, idVendor, ""}},
			check: func(t *testing.T, _ SyncResponse) {
				snap := h.srv.Snapshot()
				for _, g := range snap.Groups {
					if g.ID == idTaxGroup && (g.OnPremisesSyncEnabled == nil || !*g.OnPremisesSyncEnabled || g.DisplayName != "Tax (AD)") {
						t.Errorf("group after match: %+v", g)
					}
				}
			},
		},
		{
			name:    "a group that is not mail-enabled is never matched",
			doc:     docExistingTenant + "#other-objects-than-users",
			objects: []SyncObject{{Type: "group", SourceAnchor: "RW5n", DisplayName: "Engineers"}},
			want:    []syncWant{{OutcomeCreated, newObject, ""}},
		},
		{
			name:    "an anchor that is already synced updates the object",
			doc:     docExistingTenant,
			objects: []SyncObject{userExport("Qm9iQm9i", "bob", "SMTP:bob@contoso.com")},
			want:    []syncWant{{OutcomeUpdated, idBob, ""}},
			check: func(t *testing.T, _ SyncResponse) {
				if got := selectUser(h, idBob, "displayName"); got["displayName"] != "On-prem bob" {
					t.Errorf("updated user: %v", got)
				}
			},
		},
		{
			name:    "two exports with one UPN: the second collides with the first, which has an anchor, and is quarantined",
			doc:     docSyncErrors + "#invalidsoftmatch",
			objects: []SyncObject{userExport("TmV3MQ==", "newbie"), userExport("TmV3Mg==", "newbie")},
			want:    []syncWant{{OutcomeCreated, newObject, ""}, {OutcomeCreated, newObject, ""}},
			check: func(t *testing.T, resp SyncResponse) {
				got := selectUser(h, resp.Results[1].ObjectID, "userPrincipalName")
				if got["userPrincipalName"] != "newbie+0042@"+testDomain {
					t.Errorf("second UPN %v", got["userPrincipalName"])
				}
			},
		},
		{
			name:     "two exports with one UPN and no UPN soft match: the second is quarantined",
			doc:      docResiliency,
			features: func(f *SyncFeatures) { f.SoftMatchOnUpnEnabled = false },
			objects:  []SyncObject{userExport("TmV3MQ==", "newbie"), userExport("TmV3Mg==", "newbie")},
			want:     []syncWant{{OutcomeCreated, newObject, ""}, {OutcomeCreated, newObject, ""}},
			check: func(t *testing.T, resp SyncResponse) {
				got := selectUser(h, resp.Results[1].ObjectID, "userPrincipalName")
				if got["userPrincipalName"] != "newbie+0042@"+testDomain {
					t.Errorf("second UPN %v", got["userPrincipalName"])
				}
			},
		},
		{
			name:     "full sync soft-deletes synced objects missing from the export",
			doc:      docDeletes,
			fullSync: true,
			objects:  []SyncObject{userExport("Q2Fyb2w=", "carol")},
			want:     []syncWant{{OutcomeHardMatch, idCarol, ""}, {OutcomeDeleted, idBob, ""}},
			check: func(t *testing.T, resp SyncResponse) {
				if resp.Results[1].SourceAnchor != "Qm9iQm9i" {
					t.Errorf("deleted result anchor %q", resp.Results[1].SourceAnchor)
				}
				if res := h.graph(adminApp, http.MethodGet, "/users/"+idBob, nil); res.status != 404 {
					t.Errorf("deleted user still readable: %d", res.status)
				}
				res := h.graph(adminApp, http.MethodGet, "/directory/deletedItems/"+idBob+"?$select=id,onPremisesSyncEnabled,onPremisesImmutableId", nil)
				h.mustStatus(res, 200)
				if res.body["onPremisesSyncEnabled"] != false || res.body["onPremisesImmutableId"] != "Qm9iQm9i" {
					t.Errorf("deleted item %v", res.body)
				}
			},
		},
		{
			name:       "accidental deletion prevention holds the deletions back",
			doc:        docDeletes,
			fullSync:   true,
			prevention: &AccidentalDeletionPrevention{SynchronizationPreventionType: "enabledForCount", AlertThreshold: 0},
			want:       []syncWant{{OutcomeError, idBob, CodeDeletionThresholdExceeded}},
			check: func(t *testing.T, _ SyncResponse) {
				h.mustStatus(h.graph(adminApp, http.MethodGet, "/users/"+idBob, nil), http.StatusOK)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap := base
			if tt.features != nil {
				tt.features(&snap.Sync.Features)
			}
			if tt.prevention != nil {
				snap.Sync.Configuration.AccidentalDeletionPrevention = *tt.prevention
			}
			if err := h.srv.Replace(snap); err != nil {
				t.Fatal(err)
			}
			got, resp := postSync(t, h, SyncRequest{Objects: tt.objects, FullSync: tt.fullSync}, known)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("results (-want +got):\n%s\nresponse: %+v", diff, resp)
			}
			if tt.check != nil {
				tt.check(t, resp)
			}
		})
	}
}

func TestSyncEligibilityOption(t *testing.T) {
	// doc: docExistingTenant + "#admin-role-considerations" (says only "has an admin
	// role"; the laxer reading lets an eligible-only user be soft-matched)
	h := newHarness(t, withSync(SyncOptions{SoftMatchIgnoresEligibility: true}))
	snap := syncFixture(h)
	if err := h.srv.Replace(snap); err != nil {
		t.Fatal(err)
	}
	got, _ := postSync(t, h, SyncRequest{Objects: []SyncObject{
		userExport("RWxpZw==", "elig", "SMTP:elig@contoso.com"),
		userExport("SXZhbg==", "ivan"), // eligibility still blocks hard match
	}}, knownIDs(snap))
	want := []syncWant{{OutcomeSoftMatchSMTP, idElig, ""}, {OutcomeError, idIvan, syncrules.CodeInvalidHardMatch}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
}

func TestSyncSecondRunHardMatches(t *testing.T) {
	// doc: docExistingTenant ("a soft match stamps the sourceAnchor, so later runs hard-match")
	h := newHarness(t)
	snap := syncFixture(h)
	if err := h.srv.Replace(snap); err != nil {
		t.Fatal(err)
	}
	known := knownIDs(snap)
	obj := userExport("QWxpY2U=", "alice", "SMTP:alice@contoso.com")
	first, _ := postSync(t, h, SyncRequest{Objects: []SyncObject{obj}}, known)
	second, _ := postSync(t, h, SyncRequest{Objects: []SyncObject{obj}}, known)
	want := []syncWant{{OutcomeSoftMatchSMTP, idAlice, ""}, {OutcomeUpdated, idAlice, ""}}
	if diff := cmp.Diff(want, append(first, second...)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	org := h.graph(adminApp, http.MethodGet, "/organization", nil)
	h.mustStatus(org, 200)
	if v := org.body["value"].([]any)[0].(map[string]any); v["onPremisesSyncEnabled"] != true || v["onPremisesLastSyncDateTime"] == nil {
		t.Errorf("organization after sync: %v", v)
	}
}

func TestSyncEndpointRejectsBadRequests(t *testing.T) {
	// doc: https://learn.microsoft.com/en-us/graph/errors (error shape reused by the admin API)
	h := newHarness(t)
	tests := []struct {
		name   string
		method string
		body   string
		status int
	}{
		{"malformed JSON", http.MethodPost, `{"objects":[`, 400},
		{"unknown property", http.MethodPost, `{"objects":[],"bogus":1}`, 400},
		{"wrong type", http.MethodPost, `{"objects":{}}`, 400},
		{"trailing data", http.MethodPost, `{"objects":[]} {}`, 400},
		{"wrong method", http.MethodGet, ``, 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := h.send(tt.method, "/_emulator/sync", "", strings.NewReader(tt.body), map[string]string{"Content-Type": "application/json"})
			if res.status != tt.status || res.errorCode() == "" {
				t.Fatalf("%d %s", res.status, res.raw)
			}
			e := res.body["error"].(map[string]any)["innerError"].(map[string]any)
			if e["request-id"] != res.header.Get("request-id") {
				t.Errorf("request-id header %q, body %v", res.header.Get("request-id"), e["request-id"])
			}
		})
	}
	// An object the rules cannot take is a result, not a failed request.
	got, _ := postSync(t, h, SyncRequest{Objects: []SyncObject{{Type: "printer", SourceAnchor: "UHJpbnQ="}, {Type: "user"}}}, nil)
	want := []syncWant{{OutcomeError, "", syncrules.CodeIdentityDataValidationFailed}, {OutcomeError, "", syncrules.CodeIdentityDataValidationFailed}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestSyncRefusedWholeWhenDeletionsCannotBePlanned(t *testing.T) {
	// doc: docDeletes (the threshold is a count or a percentage, never negative)
	h := newHarness(t)
	snap := syncFixture(h)
	snap.Sync.Configuration.AccidentalDeletionPrevention = AccidentalDeletionPrevention{SynchronizationPreventionType: "enabledForCount", AlertThreshold: -1}
	if err := h.srv.Replace(snap); err != nil {
		t.Fatal(err)
	}
	if _, err := h.srv.Sync(SyncRequest{Objects: []SyncObject{userExport("Q2Fyb2w=", "carol")}, FullSync: true}); err == nil {
		t.Fatal("sync with a negative deletion threshold accepted")
	}
	if got := selectUser(h, idCarol, "onPremisesSyncEnabled"); got["onPremisesSyncEnabled"] != nil {
		t.Errorf("a refused run wrote: %v", got)
	}
}

// An assignment whose end date has passed no longer holds the role, so it
// no longer blocks the match.
func TestSyncExpiredAdminAssignmentNoLongerBlocks(t *testing.T) {
	// doc: docExistingTenant + "#admin-role-considerations" and
	// https://learn.microsoft.com/graph/api/resources/unifiedroleassignmentscheduleinstance (endDateTime)
	h := newHarness(t)
	snap := syncFixture(h)
	ended := h.srv.Now().Add(-time.Minute)
	for i := range snap.RoleAssignments {
		if snap.RoleAssignments[i].ID == "ra-admin" {
			snap.RoleAssignments[i].EndDateTime = &ended
		}
	}
	if err := h.srv.Replace(snap); err != nil {
		t.Fatal(err)
	}
	got, _ := postSync(t, h, SyncRequest{Objects: []SyncObject{userExport("QWRtaW4=", "admin", "SMTP:admin@contoso.com")}}, knownIDs(snap))
	want := []syncWant{{OutcomeSoftMatchSMTP, idAdmin, ""}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
}
