package graph_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/entramatch/entra-match-operator/internal/cloud"
	"github.com/entramatch/entra-match-operator/internal/emulator"
	"github.com/entramatch/entra-match-operator/internal/emulator/faults"
	"github.com/entramatch/entra-match-operator/internal/graph"
	"github.com/entramatch/entra-match-operator/internal/privileged"
	"github.com/entramatch/entra-match-operator/internal/testenv/entra"
)

// These tests drive the real client, azidentity and msgraph-sdk-go against
// the in-process emulator over HTTPS.

const (
	globalAdminTemplate = "62e90394-69f5-4237-9190-012177145e10"
	docUserUpdate       = "https://learn.microsoft.com/graph/api/user-update"
	docAdvancedQueries  = "https://learn.microsoft.com/graph/aad-advanced-queries"
	docSyncUpdate       = "https://learn.microsoft.com/graph/api/onpremisesdirectorysynchronization-update"
)

func sp(s string) *string { return &s }
func bp(b bool) *bool     { return &b }

type opRecorder struct {
	mu  sync.Mutex
	ops map[string]map[int]int
}

func (o *opRecorder) ObserveRequest(op string, status int, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.ops == nil {
		o.ops = map[string]map[int]int{}
	}
	if o.ops[op] == nil {
		o.ops[op] = map[int]int{}
	}
	o.ops[op][status]++
}

func (o *opRecorder) count(op string, status int) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.ops[op][status]
}

func (o *opRecorder) seen() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []string
	for op := range o.ops {
		out = append(out, op)
	}
	sort.Strings(out)
	return out
}

func newClient(t *testing.T, cfg graph.Config) *graph.Client {
	t.Helper()
	c, err := graph.New(cfg)
	if err != nil {
		t.Fatalf("graph.New: %v", err)
	}
	return c
}

func addUser(t *testing.T, env *entra.Env, u emulator.User) emulator.User {
	t.Helper()
	got, err := env.Server.AddUser(u)
	if err != nil {
		t.Fatalf("AddUser %s: %v", u.UserPrincipalName, err)
	}
	return got
}

func classOf(t *testing.T, err error) cloud.Class {
	t.Helper()
	var ce *cloud.Error
	if err != nil && !errors.As(err, &ce) {
		t.Fatalf("error is not a *cloud.Error: %T %v", err, err)
	}
	return cloud.ClassOf(err)
}

func TestEmulatorEveryMethod(t *testing.T) {
	env := entra.Start(t)
	obs := &opRecorder{}
	cfg := env.GraphConfig()
	cfg.Observer = obs
	c := newClient(t, cfg)
	ctx := context.Background()

	alice := addUser(t, env, emulator.User{
		UserPrincipalName: "alice@contoso.com", DisplayName: "Alice", Mail: sp("alice@contoso.com"), MailNickname: "alice",
		AccountEnabled: bp(true), ProxyAddresses: []string{"SMTP:alice@contoso.com", "smtp:alice@contoso.onmicrosoft.com"},
	})
	bob := addUser(t, env, emulator.User{
		UserPrincipalName: "bob@contoso.com", DisplayName: "Bob", MailNickname: "bob", AccountEnabled: bp(true),
	})
	synced := addUser(t, env, emulator.User{
		UserPrincipalName: "carol@contoso.com", DisplayName: "Carol", MailNickname: "carol", AccountEnabled: bp(true),
		OnPremisesImmutableID: sp("3PNdoRZES0GLfV+9y1dDwQ=="), OnPremisesSyncEnabled: bp(true),
		OnPremisesDistinguishedName: sp("CN=Carol,OU=Users,DC=corp,DC=example"), OnPremisesUserPrincipalName: sp("carol@corp.example"),
	})

	t.Run("Organization", func(t *testing.T) {
		org, err := c.Organization(ctx)
		if err != nil || org.ID != env.TenantID || org.DisplayName != "Contoso" {
			t.Fatalf("Organization = %+v, %v", org, err)
		}
	})
	t.Run("Domains", func(t *testing.T) {
		ds, err := c.Domains(ctx)
		if err != nil {
			t.Fatal(err)
		}
		verified := map[string]bool{}
		for _, d := range ds {
			verified[d.ID] = d.IsVerified
		}
		if !verified[entra.DefaultVerifiedDomain] || !verified[entra.DefaultInitialDomain] {
			t.Errorf("domains = %+v", ds)
		}
	})
	t.Run("GetUser by UPN and id", func(t *testing.T) {
		byUPN, err := c.GetUser(ctx, "alice@contoso.com")
		if err != nil {
			t.Fatal(err)
		}
		byID, err := c.GetUser(ctx, alice.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(byUPN, byID); diff != "" {
			t.Errorf("by UPN vs by id (-upn +id):\n%s", diff)
		}
		if byUPN.ID != alice.ID || byUPN.Mail != "alice@contoso.com" || len(byUPN.ProxyAddresses) != 2 || byUPN.Synced() {
			t.Errorf("alice = %+v", byUPN)
		}
		carol, err := c.GetUser(ctx, synced.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !carol.Synced() || carol.OnPremisesImmutableID != "3PNdoRZES0GLfV+9y1dDwQ==" ||
			carol.OnPremisesDistinguishedName == "" || carol.OnPremisesUserPrincipalName != "carol@corp.example" {
			t.Errorf("onPremises* properties not selected: %+v", carol)
		}
	})
	t.Run("GetUser missing is NotFound", func(t *testing.T) {
		_, err := c.GetUser(ctx, uuid.NewString())
		if classOf(t, err) != cloud.ClassNotFound || !errors.Is(err, cloud.ErrNotFound) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("SetImmutableID, advanced query, clear", func(t *testing.T) {
		id := "BpazOkLGm0iEtljAONPvOQ=="
		if err := c.SetImmutableID(ctx, alice.ID, &id); err != nil {
			t.Fatalf("set: %v (doc: %s)", err, docUserUpdate)
		}
		found, err := c.UsersByImmutableID(ctx, id)
		if err != nil {
			t.Fatalf("advanced query: %v (doc: %s)", err, docAdvancedQueries)
		}
		if len(found) != 1 || found[0].ID != alice.ID || found[0].OnPremisesImmutableID != id {
			t.Errorf("UsersByImmutableID = %+v", found)
		}
		if err := c.SetImmutableID(ctx, alice.ID, nil); err != nil {
			t.Fatalf("clear: %v", err)
		}
		u, err := c.GetUser(ctx, alice.ID)
		if err != nil || u.OnPremisesImmutableID != "" {
			t.Errorf("after clear: %+v, %v", u, err)
		}
		if found, err := c.UsersByImmutableID(ctx, id); err != nil || len(found) != 0 {
			t.Errorf("after clear UsersByImmutableID = %+v, %v", found, err)
		}
	})
	t.Run("ObjectConflict names the conflicting object", func(t *testing.T) {
		id := "cG9pbnRlZC1jb25mbGljdA=="
		if err := c.SetImmutableID(ctx, alice.ID, &id); err != nil {
			t.Fatal(err)
		}
		err := c.SetImmutableID(ctx, bob.ID, &id)
		var ce *cloud.Error
		if !errors.As(err, &ce) || ce.Class != cloud.ClassConflict || ce.ConflictingObjectID != alice.ID {
			t.Errorf("err = %#v, want Conflict naming %s (doc: %s)", err, alice.ID, docUserUpdate)
		}
		if err := c.SetImmutableID(ctx, alice.ID, nil); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("on-premises mastered user", func(t *testing.T) {
		err := c.SetImmutableID(ctx, synced.ID, sp("bmV3LXZhbHVl"))
		if classOf(t, err) != cloud.ClassOnPremMastered {
			t.Errorf("err = %v, want OnPremMastered (doc: %s)", err, docUserUpdate)
		}
	})
	t.Run("role assignments", func(t *testing.T) {
		created, err := c.CreateRoleAssignment(ctx, cloud.RoleAssignment{PrincipalID: bob.ID, RoleDefinitionID: globalAdminTemplate, DirectoryScopeID: "/"})
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.RoleAssignments(ctx, bob.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].ID != created.ID || !privileged.IsPrivileged(got[0].Role, got[0].RoleDefinitionID) || got[0].Role.DisplayName != "Global Administrator" ||
			got[0].DirectoryScopeID != "/" || got[0].EndDateTime != nil {
			t.Fatalf("RoleAssignments = %+v, want one permanent Global Administrator assignment", got)
		}
		if err := c.DeleteRoleAssignment(ctx, created.ID); err != nil {
			t.Fatal(err)
		}
		if got, err := c.RoleAssignments(ctx, bob.ID); err != nil || len(got) != 0 {
			t.Errorf("after delete = %+v, %v", got, err)
		}
		// A time-bound active assignment goes through a PIM request and
		// reads back with its end from the schedule instance:
		// https://learn.microsoft.com/graph/api/rbacapplication-post-roleassignmentschedulerequests
		end := time.Now().Add(72 * time.Hour).UTC().Truncate(time.Second)
		timed := cloud.RoleAssignment{PrincipalID: bob.ID, RoleDefinitionID: globalAdminTemplate, DirectoryScopeID: "/", EndDateTime: &end}
		if err := c.AssignRoleSchedule(ctx, timed, "test"); err != nil {
			t.Fatal(err)
		}
		got, err = c.RoleAssignments(ctx, bob.ID)
		if err != nil || len(got) != 1 || got[0].EndDateTime == nil || !got[0].EndDateTime.Equal(end) || got[0].Activated {
			t.Fatalf("time-bound RoleAssignments = %+v, %v; want end %s", got, err, end)
		}
		if err := c.RemoveRoleSchedule(ctx, timed, "test"); err != nil {
			t.Fatal(err)
		}
		if got, err := c.RoleAssignments(ctx, bob.ID); err != nil || len(got) != 0 {
			t.Errorf("after adminRemove = %+v, %v", got, err)
		}
		// A PIM activation of an eligibility reads as Activated.
		if err := env.Server.Update(func(s *emulator.Snapshot) error {
			s.RoleAssignments = append(s.RoleAssignments, emulator.RoleAssignment{ID: "activation-bob", PrincipalID: bob.ID,
				RoleDefinitionID: globalAdminTemplate, DirectoryScopeID: "/", EndDateTime: &end, AssignmentType: "Activated"})
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if got, err := c.RoleAssignments(ctx, bob.ID); err != nil || len(got) != 1 || !got[0].Activated {
			t.Fatalf("activated RoleAssignments = %+v, %v", got, err)
		}
		if err := c.RemoveRoleSchedule(ctx, timed, "test"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("role eligibilities", func(t *testing.T) {
		e := cloud.RoleEligibility{PrincipalID: bob.ID, RoleDefinitionID: globalAdminTemplate, DirectoryScopeID: "/"}
		if err := c.AssignEligibility(ctx, e, "test"); err != nil {
			t.Fatal(err)
		}
		got, err := c.RoleEligibilities(ctx, bob.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].RoleDefinitionID != globalAdminTemplate || !privileged.IsPrivileged(got[0].Role, got[0].RoleDefinitionID) || got[0].EndDateTime != nil {
			t.Fatalf("RoleEligibilities = %+v, want one permanent Global Administrator eligibility", got)
		}
		if err := c.RemoveEligibility(ctx, got[0], "test"); err != nil {
			t.Fatal(err)
		}
		if got, err := c.RoleEligibilities(ctx, bob.ID); err != nil || len(got) != 0 {
			t.Errorf("after remove = %+v, %v", got, err)
		}
		// A time-bound eligibility (expiration afterDateTime) keeps its end:
		// https://learn.microsoft.com/graph/api/rbacapplication-post-roleeligibilityschedulerequests
		end := time.Now().Add(72 * time.Hour).UTC().Truncate(time.Second)
		e.EndDateTime = &end
		if err := c.AssignEligibility(ctx, e, "test"); err != nil {
			t.Fatal(err)
		}
		got, err = c.RoleEligibilities(ctx, bob.ID)
		if err != nil || len(got) != 1 || got[0].EndDateTime == nil || !got[0].EndDateTime.Equal(end) {
			t.Fatalf("time-bound RoleEligibilities = %+v, %v; want end %s", got, err, end)
		}
		if err := c.RemoveEligibility(ctx, got[0], "test"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("sync settings read-modify-write", func(t *testing.T) {
		s, err := c.SyncSettings(ctx, env.TenantID)
		if err != nil {
			t.Fatal(err)
		}
		s.Features[cloud.FeatureBlockCloudObjectTakeoverThroughHardMatch] = true
		if err := c.UpdateSyncSettings(ctx, s); err != nil {
			t.Fatalf("first update: %v (doc: %s)", err, docSyncUpdate)
		}
		s2, err := c.SyncSettings(ctx, env.TenantID)
		if err != nil {
			t.Fatal(err)
		}
		s2.Features[cloud.FeatureBlockSoftMatch] = !s2.Features[cloud.FeatureBlockSoftMatch]
		if err := c.UpdateSyncSettings(ctx, s2); err != nil {
			t.Fatalf("second update: %v", err)
		}
		s3, err := c.SyncSettings(ctx, env.TenantID)
		if err != nil {
			t.Fatal(err)
		}
		// The emulator resets flags omitted from a PATCH: the first change
		// survives only because every flag was sent back.
		if diff := cmp.Diff(s2, s3); diff != "" {
			t.Errorf("settings after read-modify-write (-sent +read):\n%s", diff)
		}
		if !s3.Features[cloud.FeatureBlockCloudObjectTakeoverThroughHardMatch] {
			t.Error("the first change was lost")
		}
	})
	t.Run("delete, list deleted, purge", func(t *testing.T) {
		if err := c.DeleteUser(ctx, bob.ID); err != nil {
			t.Fatal(err)
		}
		deleted, err := c.DeletedUsers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var hit *cloud.DeletedUser
		for i := range deleted {
			if deleted[i].ID == bob.ID {
				hit = &deleted[i]
			}
		}
		if hit == nil || hit.DeletedDateTime == nil || hit.UserPrincipalName == "" {
			t.Fatalf("deleted users = %+v", deleted)
		}
		if err := c.PurgeDeletedItem(ctx, bob.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := c.GetUser(ctx, bob.ID); classOf(t, err) != cloud.ClassNotFound {
			t.Errorf("GetUser after delete: %v", err)
		}
		if err := c.PurgeDeletedItem(ctx, bob.ID); classOf(t, err) != cloud.ClassNotFound {
			t.Errorf("second purge: %v, want NotFound", err)
		}
	})

	want := []string{
		graph.OpAcquireToken, "AssignEligibility", "AssignRoleSchedule", "CreateRoleAssignment", "DeleteRoleAssignment", "DeleteUser",
		"DeletedUsers", "Domains", "GetUser", "Organization", "PurgeDeletedItem", "RemoveEligibility", "RemoveRoleSchedule",
		"RoleAssignments", "RoleEligibilities", "SetImmutableID", "SyncSettings", "UpdateSyncSettings", "UsersByImmutableID",
	}
	sort.Strings(want)
	if diff := cmp.Diff(want, obs.seen()); diff != "" {
		t.Errorf("operations observed (-want +got):\n%s", diff)
	}
}

func TestEmulatorPaging(t *testing.T) {
	const n = 230 // the emulator pages by 100
	state := emulator.Snapshot{Sync: emulator.DefaultSyncState()}
	now := time.Now().UTC().Truncate(time.Second)
	for i := 0; i < n; i++ {
		state.DeletedItems.Users = append(state.DeletedItems.Users, emulator.User{
			ID: uuid.NewString(), UserPrincipalName: fmt.Sprintf("gone%03d@contoso.com", i), DisplayName: "Gone",
			MailNickname: fmt.Sprintf("gone%03d", i), AccountEnabled: bp(true), DeletedDateTime: &now,
		})
	}
	env := entra.Start(t, entra.WithState(state))
	obs := &opRecorder{}
	cfg := env.GraphConfig()
	cfg.Observer = obs
	got, err := newClient(t, cfg).DeletedUsers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, u := range got {
		seen[u.ID] = true
	}
	if len(got) != n || len(seen) != n {
		t.Errorf("got %d users (%d distinct), want %d", len(got), len(seen), n)
	}
	if pages := obs.count("DeletedUsers", 200); pages != 3 {
		t.Errorf("DeletedUsers took %d pages, want 3", pages)
	}
}

func TestEmulatorCredentials(t *testing.T) {
	env := entra.Start(t, entra.WithCertificateApp(), entra.WithApp(emulator.App{
		ClientID: "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b", Secret: "reader-secret", Permissions: []string{"User.Read.All"},
	}))
	ctx := context.Background()

	t.Run("certificate", func(t *testing.T) {
		org, err := newClient(t, env.CertificateConfig(t)).Organization(ctx)
		if err != nil || org.ID != env.TenantID {
			t.Fatalf("Organization = %+v, %v", org, err)
		}
	})
	t.Run("wrong secret", func(t *testing.T) {
		_, err := newClient(t, env.SecretConfig(env.ClientID, "not-the-secret")).Organization(ctx)
		if classOf(t, err) != cloud.ClassUnauthenticated {
			t.Fatalf("err = %v, want Unauthenticated", err)
		}
		var ce *cloud.Error
		errors.As(err, &ce)
		if ce.Status != 401 || ce.Code != "invalid_client" {
			t.Errorf("token error = %+v", ce)
		}
	})
	t.Run("unknown tenant", func(t *testing.T) {
		cfg := env.GraphConfig()
		cfg.Credential.TenantID = uuid.NewString()
		if _, err := newClient(t, cfg).Organization(ctx); classOf(t, err) != cloud.ClassUnauthenticated {
			t.Fatalf("err = %v, want Unauthenticated", err)
		}
	})
	t.Run("missing permission", func(t *testing.T) {
		reader := newClient(t, env.SecretConfig("9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b", "reader-secret"))
		u := addUser(t, env, emulator.User{UserPrincipalName: "dave@contoso.com", DisplayName: "Dave", MailNickname: "dave", AccountEnabled: bp(true)})
		if _, err := reader.GetUser(ctx, u.ID); err != nil {
			t.Fatalf("read with User.Read.All: %v", err)
		}
		err := reader.SetImmutableID(ctx, u.ID, sp("ZGF2ZQ=="))
		if classOf(t, err) != cloud.ClassPermission || !errors.Is(err, cloud.ErrPermission) {
			t.Errorf("err = %v, want Permission", err)
		}
	})
}

// The emulator, like Graph, refuses a filter on onPremisesImmutableId
// without ConsistencyLevel: eventual and $count=true; the client sends both.
func TestEmulatorAdvancedQuery(t *testing.T) {
	env := entra.Start(t)
	c := newClient(t, env.GraphConfig())
	addUser(t, env, emulator.User{UserPrincipalName: "erin@contoso.com", DisplayName: "Erin", MailNickname: "erin",
		AccountEnabled: bp(true), OnPremisesImmutableID: sp("ZXJpbg==")})
	got, err := c.UsersByImmutableID(context.Background(), "ZXJpbg==")
	if err != nil || len(got) != 1 {
		t.Fatalf("UsersByImmutableID = %+v, %v (doc: %s)", got, err, docAdvancedQueries)
	}
}

// One Client serves concurrent reconciles.
func TestEmulatorConcurrentUse(t *testing.T) {
	env := entra.Start(t)
	c := newClient(t, env.GraphConfig())
	var ids []string
	for i := 0; i < 20; i++ {
		u := addUser(t, env, emulator.User{UserPrincipalName: fmt.Sprintf("p%02d@contoso.com", i), DisplayName: "P",
			MailNickname: fmt.Sprintf("p%02d", i), AccountEnabled: bp(true)})
		ids = append(ids, u.ID)
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(ids))
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			immutable := fmt.Sprintf("Y29uY3VycmVudC0%02d", i)
			if err := c.SetImmutableID(context.Background(), id, &immutable); err != nil {
				errs <- err
				return
			}
			u, err := c.GetUser(context.Background(), id)
			if err == nil && u.OnPremisesImmutableID != immutable {
				err = fmt.Errorf("user %s has %q, want %q", id, u.OnPremisesImmutableID, immutable)
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// A tenant without PIM (no Microsoft Entra ID P2) answers 400
// AadPremiumLicenseRequired on every schedule collection: it has no
// eligibilities and no time-bound assignments, and reading roles works.
// Any other failure of those reads is an error.
func TestRolesWithoutPIM(t *testing.T) {
	env := entra.Start(t, entra.WithEmulatorConfig(func(c *emulator.Config) { c.NoPIMLicense = true }))
	ctx := context.Background()
	c := newClient(t, env.GraphConfig())
	bob := addUser(t, env, emulator.User{UserPrincipalName: "bob@contoso.com", DisplayName: "Bob", MailNickname: "bob", AccountEnabled: bp(true)})
	if _, err := c.CreateRoleAssignment(ctx, cloud.RoleAssignment{PrincipalID: bob.ID, RoleDefinitionID: globalAdminTemplate, DirectoryScopeID: "/"}); err != nil {
		t.Fatal(err)
	}
	got, err := c.RoleAssignments(ctx, bob.ID)
	if err != nil || len(got) != 1 || got[0].EndDateTime != nil {
		t.Fatalf("RoleAssignments without PIM = %+v, %v; want the permanent assignment", got, err)
	}
	if e, err := c.RoleEligibilities(ctx, bob.ID); err != nil || len(e) != 0 {
		t.Errorf("RoleEligibilities without PIM = %+v, %v; want none", e, err)
	}
	if e, err := c.AllRoleEligibilities(ctx); err != nil || len(e) != 0 {
		t.Errorf("AllRoleEligibilities without PIM = %+v, %v; want none", e, err)
	}
	if err := env.Server.Faults().Set([]faults.Rule{{Method: "GET", PathPrefix: "/v1.0/roleManagement/directory/roleAssignmentScheduleInstances", Status: 400}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RoleAssignments(ctx, bob.ID); classOf(t, err) != cloud.ClassInvalid {
		t.Errorf("another 400 on the schedule read = %v, want Invalid", err)
	}
}
