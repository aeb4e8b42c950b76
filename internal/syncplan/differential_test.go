package syncplan_test

import (
	"encoding/base64"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/entramatch/entra-match-operator/internal/cloud"
	"github.com/entramatch/entra-match-operator/internal/emulator"
	"github.com/entramatch/entra-match-operator/internal/privileged"
	"github.com/entramatch/entra-match-operator/internal/syncplan"
)

// The differential test: random populations, AD side and cloud side, with
// every edge case the plan must know (shared and secondary addresses,
// stale and taken anchors, admin and privileged roles assigned or
// eligible, unverified suffixes, deleted objects, groups with and without
// mail, contacts, each tenant flag); the predictor and the emulator's sync
// engine, two independent readings of Microsoft's pages, must agree on
// every object. SYNCPLAN_OBJECTS raises the population (the benchmark runs
// 10,000).

const (
	initial    = "contoso.onmicrosoft.com"
	globalAdm  = "62e90394-69f5-4237-9190-012177145e10" // privileged
	dirReaders = "88d8e3e3-8f55-4a1e-953a-9b9898b8876b" // not privileged
)

var (
	verified = []string{"contoso.com", "fabrikam.com"}
	suffixes = []string{"contoso.com", "fabrikam.com", "corp.local", initial}
)

func TestPredictionAgreesWithTheEmulatedSync(t *testing.T) {
	n := 2400
	if v, err := strconv.Atoi(os.Getenv("SYNCPLAN_OBJECTS")); err == nil && v > 0 {
		n = v
	}
	flagSets := []syncplan.Flags{
		{SoftMatchOnUPN: true},
		{SoftMatchOnUPN: true, BlockTakeover: true},
		{BlockSoftMatch: true},
		{SoftMatchOnUPN: false, AllowObjectIdentifierUpdate: true},
	}
	for i, flags := range flagSets {
		t.Run(fmt.Sprintf("flags%d", i), func(t *testing.T) {
			seed := uint64(20261202 + i)
			pop := generate(mrand.New(mrand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), n/len(flagSets), flags)
			compare(t, pop, seed)
		})
	}
	for _, c := range []string{syncplan.CodeInvalidHardMatch, syncplan.CodeObjectTypeMismatch, syncplan.CodeAttributeUpdateNotAllowed,
		syncplan.CodeExistingAdminRoleConflict} {
		if !seenCodes[c] {
			t.Errorf("no export met %s: the populations do not test it", c)
		}
	}
}

// population is one generated world, in both forms.
type population struct {
	snap    emulator.Snapshot
	tenant  syncplan.Tenant
	exports []syncplan.Export
}

// anchor and guid draw from r, so that a seed reproduces a population.
func anchor(r *mrand.Rand) string {
	b := make([]byte, 16)
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	return base64.StdEncoding.EncodeToString(b)
}

func guid(r *mrand.Rand) string {
	var b [16]byte
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	return uuid.UUID(b).String()
}

func pick[T any](r *mrand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// generate builds about n exports and n/2 cloud objects. Names come from a
// small pool, so that addresses and UPNs collide often.
func generate(r *mrand.Rand, n int, flags syncplan.Flags) population {
	pool := max(n/3, 4)
	name := func() string { return "n" + strconv.Itoa(r.IntN(pool)) }
	on, off := true, false

	var exports []syncplan.Export
	for range n {
		e := syncplan.Export{Anchor: anchor(r)}
		switch x := r.IntN(100); {
		case x < 70:
			e.Kind = syncplan.User
			local := name()
			e.UserPrincipalName = local + "@" + pick(r, suffixes)
			if r.IntN(3) == 0 {
				e.MailNickname = name()
			}
			if r.IntN(2) == 0 {
				e.ObjectIdentifier = guid(r)
			}
		case x < 85:
			e.Kind = syncplan.Group
			e.MailEnabled = r.IntN(10) < 6
		default:
			e.Kind = syncplan.Contact
		}
		if e.Kind != syncplan.Group || e.MailEnabled {
			switch r.IntN(5) {
			case 0: // none
			case 1:
				e.Mail = name() + "@" + pick(r, verified)
			default:
				addr := name() + "@" + pick(r, verified)
				e.Mail = addr
				e.ProxyAddresses = []string{"SMTP:" + addr}
				if r.IntN(3) == 0 {
					e.ProxyAddresses = append(e.ProxyAddresses, "smtp:"+name()+"@"+pick(r, verified))
				}
				if r.IntN(10) == 0 {
					// Secondary only: no primary to match on.
					e.ProxyAddresses = []string{"smtp:" + addr}
				}
			}
		}
		exports = append(exports, e)
	}
	// Exports never repeat an address among themselves in a way AD would
	// refuse: proxy addresses are unique in a forest.
	seen := map[string]bool{}
	for i := range exports {
		var keep []string
		for _, a := range exports[i].ProxyAddresses {
			k := strings.ToLower(a[5:])
			if !seen[k] {
				seen[k] = true
				keep = append(keep, a)
			}
		}
		exports[i].ProxyAddresses = keep
	}

	snap := emulator.Snapshot{
		Organization: emulator.Organization{DisplayName: "Contoso"},
		Domains: []emulator.Domain{{ID: initial, IsInitial: true, IsVerified: true, AuthenticationType: "Managed"},
			{ID: "contoso.com", IsDefault: true, IsVerified: true, AuthenticationType: "Managed"},
			{ID: "fabrikam.com", IsVerified: true, AuthenticationType: "Managed"}},
		Sync: emulator.DefaultSyncState(),
	}
	snap.Sync.Features.BlockSoftMatchEnabled = flags.BlockSoftMatch
	snap.Sync.Features.BlockCloudObjectTakeoverThroughHardMatchEnabled = flags.BlockTakeover
	snap.Sync.Features.SoftMatchOnUpnEnabled = flags.SoftMatchOnUPN
	snap.Sync.Features.AllowOnPremUpdateOfOnPremisesObjectIdentifierEnabled = flags.AllowObjectIdentifierUpdate
	tenant := syncplan.Tenant{VerifiedDomains: append([]string{initial}, verified...), InitialDomain: initial, Flags: flags}

	upns, proxies := map[string]bool{}, map[string]bool{}
	anchorsOf := func(k syncplan.Kind) []string {
		var out []string
		for _, e := range exports {
			if e.Kind == k {
				out = append(out, e.Anchor)
			}
		}
		return out
	}
	userAnchors, groupAnchors := anchorsOf(syncplan.User), anchorsOf(syncplan.Group)
	addresses := func() (*string, []string) {
		if r.IntN(3) == 0 {
			return nil, nil
		}
		addr := name() + "@" + pick(r, verified)
		if r.IntN(4) == 0 {
			return &addr, nil // mail alone: not unique
		}
		if proxies[strings.ToLower(addr)] {
			return &addr, nil
		}
		proxies[strings.ToLower(addr)] = true
		list := []string{"SMTP:" + addr}
		if alias := name() + "@" + pick(r, verified); r.IntN(3) == 0 && !proxies[strings.ToLower(alias)] {
			proxies[strings.ToLower(alias)] = true
			list = append(list, "smtp:"+alias)
		}
		return &addr, list
	}
	now := time.Now().UTC()
	for i := range n / 2 {
		id := guid(r)
		co := syncplan.CloudObject{ID: id}
		switch x := r.IntN(100); {
		case x < 70:
			co.Kind = syncplan.User
			upn := name() + "@" + pick(r, []string{"contoso.com", "fabrikam.com", initial})
			if upns[strings.ToLower(upn)] {
				upn = "u" + strconv.Itoa(i) + "-" + upn
			}
			upns[strings.ToLower(upn)] = true
			mail, px := addresses()
			u := emulator.User{ID: id, UserPrincipalName: upn, DisplayName: upn, MailNickname: "m" + strconv.Itoa(i), Mail: mail, ProxyAddresses: px}
			switch y := r.IntN(100); {
			case y < 10 && len(userAnchors) > 0:
				// An AD user's anchor already on a cloud user: a hard
				// match, or a refusal. Each anchor is on one object only.
				a := userAnchors[len(userAnchors)-1]
				userAnchors = userAnchors[:len(userAnchors)-1]
				u.OnPremisesImmutableID = &a
			case y < 20:
				a := anchor(r)
				u.OnPremisesImmutableID = &a
			}
			if u.OnPremisesImmutableID != nil {
				switch r.IntN(3) {
				case 0:
					u.OnPremisesSyncEnabled = &on
				case 1:
					u.OnPremisesSyncEnabled = &off
				}
			}
			if r.IntN(10) == 0 {
				oid := guid(r)
				u.OnPremisesObjectIdentifier = &oid
				co.ObjectIdentifier = oid
			}
			co.UserPrincipalName, co.ProxyAddresses, co.SyncEnabled = upn, px, u.OnPremisesSyncEnabled
			if mail != nil {
				co.Mail = *mail
			}
			if u.OnPremisesImmutableID != nil {
				co.ImmutableID = *u.OnPremisesImmutableID
			}
			if r.IntN(20) == 0 {
				u.DeletedDateTime = &now
				co.Deleted = true
				snap.DeletedItems.Users = append(snap.DeletedItems.Users, u)
			} else {
				snap.Users = append(snap.Users, u)
				switch r.IntN(14) {
				case 0:
					role := pick(r, []string{globalAdm, dirReaders})
					snap.RoleAssignments = append(snap.RoleAssignments, emulator.RoleAssignment{ID: "a-" + id, PrincipalID: id, RoleDefinitionID: role, DirectoryScopeID: "/"})
					co.AdminAssigned, co.PrivilegedAssigned = true, privileged.IsPrivileged(cloud.RoleDefinition{ID: role, TemplateID: role, IsBuiltIn: true}, role)
				case 1:
					role := pick(r, []string{globalAdm, dirReaders})
					snap.RoleEligibilities = append(snap.RoleEligibilities, emulator.RoleEligibility{ID: "e-" + id, PrincipalID: id, RoleDefinitionID: role, DirectoryScopeID: "/"})
					co.AdminEligible, co.PrivilegedEligible = true, privileged.IsPrivileged(cloud.RoleDefinition{ID: role, TemplateID: role, IsBuiltIn: true}, role)
				}
			}
		case x < 85:
			co.Kind = syncplan.Group
			g := emulator.Group{ID: id, DisplayName: "g" + strconv.Itoa(i), SecurityEnabled: true, MailNickname: "g" + strconv.Itoa(i)}
			if r.IntN(3) > 0 {
				g.Mail, g.ProxyAddresses = addresses()
				g.MailEnabled = g.Mail != nil
			}
			if r.IntN(8) == 0 && len(groupAnchors) > 0 {
				a := groupAnchors[len(groupAnchors)-1]
				groupAnchors = groupAnchors[:len(groupAnchors)-1]
				g.OnPremisesImmutableID, g.OnPremisesSyncEnabled = &a, &on
				co.ImmutableID, co.SyncEnabled = a, &on
			}
			co.MailEnabled, co.ProxyAddresses = g.MailEnabled, g.ProxyAddresses
			if g.Mail != nil {
				co.Mail = *g.Mail
			}
			snap.Groups = append(snap.Groups, g)
		default:
			co.Kind = syncplan.Contact
			c := emulator.Contact{ID: id, DisplayName: "c" + strconv.Itoa(i), MailNickname: "c" + strconv.Itoa(i)}
			c.Mail, c.ProxyAddresses = addresses()
			co.ProxyAddresses = c.ProxyAddresses
			if c.Mail != nil {
				co.Mail = *c.Mail
			}
			snap.Contacts = append(snap.Contacts, c)
		}
		tenant.Objects = append(tenant.Objects, co)
	}
	return population{snap: snap, tenant: tenant, exports: exports}
}

func compare(t *testing.T, pop population, seed uint64) {
	t.Helper()
	want := []syncplan.Outcome{syncplan.Created, syncplan.Updated}
	if !pop.tenant.Flags.BlockSoftMatch {
		// Refusals are frequent through soft match (type mismatches);
		// through hard match alone they are too rare for a small run.
		want = append(want, syncplan.Refused)
	}
	if !pop.tenant.Flags.BlockTakeover {
		want = append(want, syncplan.HardMatch)
	}
	if !pop.tenant.Flags.BlockSoftMatch {
		want = append(want, syncplan.SoftMatchSMTP)
	}
	if !pop.tenant.Flags.BlockSoftMatch && pop.tenant.Flags.SoftMatchOnUPN {
		want = append(want, syncplan.SoftMatchUPN)
	}
	compareOutcomes(t, pop, seed, want)
}

// seenCodes gathers the codes of every run, so that the test can require
// that each documented refusal was met at least once.
var seenCodes = map[string]bool{}

func compareOutcomes(t *testing.T, pop population, seed uint64, mustOccur []syncplan.Outcome) {
	t.Helper()
	em, err := emulator.New(emulator.Config{TenantID: uuid.NewString(), InitialDomain: initial, State: &pop.snap})
	if err != nil {
		t.Fatalf("seed %d: the population does not load: %v", seed, err)
	}
	req := emulator.SyncRequest{}
	for _, e := range pop.exports {
		o := emulator.SyncObject{Type: string(e.Kind), SourceAnchor: e.Anchor, UserPrincipalName: e.UserPrincipalName, Mail: e.Mail,
			MailNickname: e.MailNickname, ProxyAddresses: e.ProxyAddresses, OnPremisesObjectIdentifier: e.ObjectIdentifier}
		if e.Kind == syncplan.Group {
			me := e.MailEnabled
			o.MailEnabled = &me
		}
		req.Objects = append(req.Objects, o)
	}
	resp, err := em.Sync(req)
	if err != nil {
		t.Fatalf("seed %d: sync: %v", seed, err)
	}
	want := syncplan.Predict(pop.tenant, pop.exports)
	after := em.Snapshot()
	quarantine := map[string][]emulator.ProvisioningError{}
	upnOf := map[string]string{}
	for _, u := range after.Users {
		quarantine[u.ID], upnOf[u.ID] = u.OnPremisesProvisioningErrors, u.UserPrincipalName
	}
	for _, g := range after.Groups {
		quarantine[g.ID] = g.OnPremisesProvisioningErrors
	}
	for _, c := range after.Contacts {
		quarantine[c.ID] = c.OnPremisesProvisioningErrors
	}
	outcomes := map[string]int{}
	disagreements := 0
	for i, got := range resp.Results {
		p, e := want[i], pop.exports[i]
		code := ""
		if got.Error != nil {
			code = got.Error.Code
		}
		gotOutcome := map[emulator.SyncOutcome]syncplan.Outcome{emulator.OutcomeHardMatch: syncplan.HardMatch, emulator.OutcomeSoftMatchSMTP: syncplan.SoftMatchSMTP,
			emulator.OutcomeSoftMatchUPN: syncplan.SoftMatchUPN, emulator.OutcomeCreated: syncplan.Created, emulator.OutcomeUpdated: syncplan.Updated,
			emulator.OutcomeError: syncplan.Refused}[got.Outcome]
		outcomes[string(gotOutcome)]++
		if code != "" {
			seenCodes[code] = true
		}
		var why []string
		if gotOutcome != p.Outcome {
			why = append(why, fmt.Sprintf("outcome %s (%s), predicted %s (%s: %s)", got.Outcome, code, p.Outcome, p.Code, p.Reason))
		} else {
			switch p.Outcome {
			case syncplan.Refused:
				if code != p.Code {
					why = append(why, fmt.Sprintf("code %s, predicted %s (%s)", code, p.Code, p.Reason))
				}
			case syncplan.HardMatch, syncplan.SoftMatchSMTP, syncplan.SoftMatchUPN, syncplan.Updated:
				if !strings.EqualFold(got.ObjectID, p.CloudID) {
					why = append(why, fmt.Sprintf("matched %s, predicted %s", got.ObjectID, p.CloudID))
				}
			case syncplan.Created:
				if (code == syncplan.CodeExistingAdminRoleConflict) != (p.Code == syncplan.CodeExistingAdminRoleConflict) {
					why = append(why, fmt.Sprintf("created with code %q, predicted %q (%s)", code, p.Code, p.Reason))
				}
				var qUPN bool
				var qProxies []string
				for _, pe := range quarantine[got.ObjectID] {
					switch {
					case strings.EqualFold(pe.PropertyCausingError, "UserPrincipalName"):
						qUPN = true
					case strings.EqualFold(pe.PropertyCausingError, "ProxyAddresses"):
						qProxies = append(qProxies, strings.ToLower(pe.Value))
					}
				}
				var wantProxies []string
				for _, a := range p.QuarantinedProxies {
					wantProxies = append(wantProxies, strings.ToLower(a[5:]))
				}
				for i := range qProxies {
					qProxies[i] = strings.TrimPrefix(strings.TrimPrefix(qProxies[i], "smtp:"), "SMTP:")
				}
				slices.Sort(qProxies)
				slices.Sort(wantProxies)
				if qUPN != p.QuarantinedUPN {
					why = append(why, fmt.Sprintf("UPN quarantined %v (now %s), predicted %v for %s", qUPN, upnOf[got.ObjectID], p.QuarantinedUPN, p.UserPrincipalName))
				}
				if !slices.Equal(qProxies, wantProxies) {
					why = append(why, fmt.Sprintf("proxies quarantined %v, predicted %v", qProxies, wantProxies))
				}
				if e.Kind == syncplan.User && !p.QuarantinedUPN && !strings.EqualFold(upnOf[got.ObjectID], p.UserPrincipalName) {
					why = append(why, fmt.Sprintf("created as %s, predicted %s", upnOf[got.ObjectID], p.UserPrincipalName))
				}
			}
		}
		if len(why) > 0 {
			disagreements++
			if os.Getenv("SYNCPLAN_DEBUG") != "" && disagreements <= 15 {
				t.Log(related(pop, i))
			}
			if disagreements <= 15 {
				t.Errorf("seed %d, export %d (%s %s upn=%s mail=%s proxies=%v): %s", seed, i, e.Kind, e.Anchor, e.UserPrincipalName, e.Mail, e.ProxyAddresses, strings.Join(why, "; "))
			}
		}
	}
	if disagreements > 0 {
		t.Errorf("seed %d: %d of %d objects disagree", seed, disagreements, len(resp.Results))
	}
	t.Logf("seed %d: %d objects, outcomes %v", seed, len(resp.Results), outcomes)
	// Every outcome the flags allow must occur, or the population does not
	// test it.
	for _, o := range mustOccur {
		if outcomes[string(o)] == 0 {
			t.Errorf("seed %d: no %s in the population", seed, o)
		}
	}
}

// related lists, for a disagreement, the cloud objects and earlier exports
// that share an address or name with export i.
func related(pop population, i int) string {
	e := pop.exports[i]
	keys := map[string]bool{strings.ToLower(e.UserPrincipalName): true, strings.ToLower(e.Mail): true}
	for _, a := range e.ProxyAddresses {
		keys[strings.ToLower(a[5:])] = true
	}
	delete(keys, "")
	hit := func(upn, mail string, proxies []string) bool {
		if keys[strings.ToLower(upn)] || keys[strings.ToLower(mail)] {
			return true
		}
		for _, a := range proxies {
			if len(a) > 5 && keys[strings.ToLower(a[5:])] {
				return true
			}
		}
		return false
	}
	var b strings.Builder
	for _, o := range pop.tenant.Objects {
		if hit(o.UserPrincipalName, o.Mail, o.ProxyAddresses) || (o.ImmutableID != "" && o.ImmutableID == e.Anchor) {
			fmt.Fprintf(&b, "\n  cloud %+v", o)
		}
	}
	for j := range i {
		x := pop.exports[j]
		if hit(x.UserPrincipalName, x.Mail, x.ProxyAddresses) {
			fmt.Fprintf(&b, "\n  earlier export %d %+v", j, x)
		}
	}
	return b.String()
}

// BenchmarkPredict10k plans 10,000 exports (users, groups, contacts)
// against a tenant of 5,000 objects: the engine's share of a SyncPlan over
// a large directory (the reads are paged LDAP and Graph lists).
func BenchmarkPredict10k(b *testing.B) {
	r := mrand.New(mrand.NewPCG(1, 2))
	pop := generate(r, 10000, syncplan.Flags{SoftMatchOnUPN: true})
	b.ResetTimer()
	for range b.N {
		syncplan.Predict(pop.tenant, pop.exports)
	}
	b.ReportMetric(float64(len(pop.exports)), "exports")
}
