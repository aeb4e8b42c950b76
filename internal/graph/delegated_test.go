package graph_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/entramatch/entra-match-operator/internal/cloud"
	"github.com/entramatch/entra-match-operator/internal/emulator"
	"github.com/entramatch/entra-match-operator/internal/graph"
	"github.com/entramatch/entra-match-operator/internal/testenv/entra"
)

// Delegated access to the synchronization settings follows
// https://learn.microsoft.com/graph/api/onpremisesdirectorysynchronization-update
// (delegated OnPremDirectorySynchronization.ReadWrite.All, signed-in user a
// Global Administrator), the device code flow of
// https://learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code
// and refresh token rotation of
// https://learn.microsoft.com/entra/identity-platform/refresh-tokens.

const (
	publicClientID = "0c9b8a7f-6e5d-4c3b-9a2f-1e0d9c8b7a6f"
	readerClientID = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b"
	adminUPN       = "admin@contoso.com"
	helpdeskUPN    = "helpdesk@contoso.com"
)

// storedCache is a cloud.TokenCache that counts how often the cache was
// written back.
type storedCache struct {
	mu     sync.Mutex
	data   []byte
	stores int
	// replaceOnStore, when set, is stored by "someone else" at the next
	// Store, which then fails as the TokenCache contract says.
	replaceOnStore []byte
}

func (s *storedCache) Load(context.Context) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.data...), nil
}

func (s *storedCache) Store(_ context.Context, data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.replaceOnStore != nil {
		// A person stored a new sign-in while the refresh was in flight.
		s.data, s.replaceOnStore = s.replaceOnStore, nil
		return cloud.ErrSignInReplaced
	}
	s.data = append([]byte(nil), data...)
	s.stores++
	return nil
}

func (s *storedCache) set(data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.data = append([]byte(nil), data...)
}

func (s *storedCache) snapshot() ([]byte, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.data...), s.stores
}

// delegatedTenant refuses app-only access to the synchronization settings
// and issues two-minute tokens, so that every token request of MSAL (which
// renews tokens within five minutes of their end) redeems the refresh token.
func delegatedTenant(t *testing.T, opts ...entra.Option) *entra.Env {
	t.Helper()
	env := entra.Start(t, append([]entra.Option{
		entra.WithAppOnlySyncFeatures(false),
		entra.WithApp(emulator.App{ClientID: publicClientID, PublicClient: true,
			DelegatedPermissions: []string{"OnPremDirectorySynchronization.ReadWrite.All", "User.Read"}}),
		entra.WithApp(emulator.App{ClientID: readerClientID, Secret: "reader-secret", Permissions: []string{"User.Read.All"}}),
		entra.WithEmulatorConfig(func(c *emulator.Config) { c.AccessTokenLifetime = 2 * time.Minute }),
	}, opts...)...)
	admin := addUser(t, env, emulator.User{UserPrincipalName: adminUPN, DisplayName: "Admin", MailNickname: "admin", AccountEnabled: bp(true)})
	addUser(t, env, emulator.User{UserPrincipalName: helpdeskUPN, DisplayName: "Helpdesk", MailNickname: "helpdesk", AccountEnabled: bp(true)})
	if err := env.Server.Update(func(s *emulator.Snapshot) error {
		s.RoleAssignments = append(s.RoleAssignments, emulator.RoleAssignment{ID: "ra-admin", PrincipalID: admin.ID,
			RoleDefinitionID: emulator.RoleGlobalAdministrator, DirectoryScopeID: "/"})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return env
}

func signIn(t *testing.T, env *entra.Env, upn string) graph.SignInResult {
	t.Helper()
	cfg := graph.Config{Endpoints: env.Endpoints(), Credential: graph.Credential{TenantID: env.TenantID, ClientID: publicClientID}}
	var shown string
	res, err := graph.SignInWithDeviceCode(context.Background(), cfg, func(msg, code string) {
		shown = msg
		// The person enters the code at the verification page.
		if err := env.Server.ApproveDeviceCode(code, upn); err != nil {
			t.Errorf("approving: %v", err)
		}
	})
	if err != nil {
		t.Fatalf("sign-in as %s: %v", upn, err)
	}
	if shown == "" || res.User != upn || len(res.Cache) == 0 {
		t.Fatalf("sign-in result: user %q, %d cache bytes, message %q", res.User, len(res.Cache), shown)
	}
	return res
}

func delegatedClient(t *testing.T, env *entra.Env, cache cloud.TokenCache) *graph.Client {
	t.Helper()
	return newClient(t, graph.Config{Endpoints: env.Endpoints(), Timeout: 30 * time.Second, Credential: graph.Credential{
		TenantID: env.TenantID, ClientID: publicClientID, Delegated: &graph.Delegated{Cache: cache, CacheID: "test"},
	}})
}

func accessOf(t *testing.T, err error) *cloud.Access {
	t.Helper()
	var ce *cloud.Error
	if !errors.As(err, &ce) || ce.Class != cloud.ClassPermission {
		t.Fatalf("err = %v, want a Permission error", err)
	}
	if ce.Access == nil {
		t.Fatalf("refusal carries no token description: %v", err)
	}
	return ce.Access
}

func TestDelegatedSyncSettings(t *testing.T) {
	env := delegatedTenant(t)
	ctx := context.Background()
	const perm = "OnPremDirectorySynchronization.ReadWrite.All"

	// App-only: the app holds the permission, the tenant refuses anyway.
	_, err := newClient(t, env.GraphConfig()).SyncSettings(ctx, env.TenantID)
	if a := accessOf(t, err); a.Delegated || !a.Has(perm) {
		t.Errorf("app-only refusal access = %+v, want app-only with %s", a, perm)
	}
	// App-only without the permission: the description says so.
	_, err = newClient(t, env.SecretConfig(readerClientID, "reader-secret")).SyncSettings(ctx, env.TenantID)
	if a := accessOf(t, err); a.Delegated || a.Has(perm) {
		t.Errorf("reader refusal access = %+v, want app-only without %s", a, perm)
	}

	signedIn := signIn(t, env, adminUPN)
	cache := &storedCache{data: signedIn.Cache}
	c := delegatedClient(t, env, cache)
	s, err := c.SyncSettings(ctx, env.TenantID)
	if err != nil {
		t.Fatalf("delegated SyncSettings: %v", err)
	}
	s.Features[cloud.FeatureBlockSoftMatch] = !s.Features[cloud.FeatureBlockSoftMatch]
	if err := c.UpdateSyncSettings(ctx, s); err != nil {
		t.Fatalf("delegated UpdateSyncSettings: %v", err)
	}
	got, err := c.SyncSettings(ctx, env.TenantID)
	if err != nil || got.Features[cloud.FeatureBlockSoftMatch] != s.Features[cloud.FeatureBlockSoftMatch] {
		t.Fatalf("after update: %v, %v", got.Features[cloud.FeatureBlockSoftMatch], err)
	}

	// Every token request redeemed the refresh token and stored the
	// rotated one; the one from the sign-in is spent.
	rotated, stores := cache.snapshot()
	if stores < 3 || bytes.Equal(rotated, signedIn.Cache) {
		t.Errorf("cache stored %d times (changed: %t), want a store per refresh", stores, !bytes.Equal(rotated, signedIn.Cache))
	}
	_, err = delegatedClient(t, env, &storedCache{data: signedIn.Cache}).SyncSettings(ctx, env.TenantID)
	var ce *cloud.Error
	if !errors.As(err, &ce) || ce.Class != cloud.ClassUnauthenticated || ce.Code != "invalid_grant" {
		t.Errorf("redeemed refresh token: err = %v, want Unauthenticated invalid_grant", err)
	}

	// A person who is not a Global Administrator gets a token with the
	// scope but is refused; the description names the person.
	helpdesk := signIn(t, env, helpdeskUPN)
	_, err = delegatedClient(t, env, &storedCache{data: helpdesk.Cache}).SyncSettings(ctx, env.TenantID)
	if a := accessOf(t, err); !a.Delegated || a.User != helpdeskUPN || !a.Has(perm) {
		t.Errorf("helpdesk refusal access = %+v", a)
	}

	// No sign-in at all.
	_, err = delegatedClient(t, env, &storedCache{}).SyncSettings(ctx, env.TenantID)
	if !errors.As(err, &ce) || ce.Class != cloud.ClassUnauthenticated || ce.Code != cloud.CodeNoSignIn {
		t.Errorf("empty cache: err = %v, want Unauthenticated %s", err, cloud.CodeNoSignIn)
	}
}

// With hour-long tokens nothing is refreshed between calls, yet a new
// sign-in, or a removed one, takes effect at the next call: the client
// holds no token of its own.
func TestDelegatedFollowsTheStoredSignIn(t *testing.T) {
	env := delegatedTenant(t, entra.WithEmulatorConfig(func(c *emulator.Config) { c.AccessTokenLifetime = time.Hour }))
	ctx := context.Background()
	cache := &storedCache{data: signIn(t, env, helpdeskUPN).Cache}
	c := delegatedClient(t, env, cache)
	if _, err := c.SyncSettings(ctx, env.TenantID); accessOf(t, err).User != helpdeskUPN {
		t.Fatalf("helpdesk sign-in: %v", err)
	}
	cache.set(signIn(t, env, adminUPN).Cache)
	if _, err := c.SyncSettings(ctx, env.TenantID); err != nil {
		t.Fatalf("after the administrator signed in: %v", err)
	}
	cache.set(nil)
	var ce *cloud.Error
	if _, err := c.SyncSettings(ctx, env.TenantID); !errors.As(err, &ce) || ce.Code != cloud.CodeNoSignIn {
		t.Fatalf("after the sign-in was removed: err = %v, want %s", err, cloud.CodeNoSignIn)
	}
	if _, stores := cache.snapshot(); stores != 0 {
		t.Errorf("hour-long tokens were refreshed %d times", stores)
	}
}

// A sign-in stored while the old one is being refreshed wins: the old
// refresh is dropped, never merged into it, and the call is made with the
// new sign-in.
func TestDelegatedNewSignInDuringRefreshWins(t *testing.T) {
	env := delegatedTenant(t)
	ctx := context.Background()
	cache := &storedCache{data: signIn(t, env, helpdeskUPN).Cache}
	cache.replaceOnStore = signIn(t, env, adminUPN).Cache
	if _, err := delegatedClient(t, env, cache).SyncSettings(ctx, env.TenantID); err != nil {
		t.Fatalf("the call should run with the administrator's new sign-in: %v", err)
	}
	stored, _ := cache.snapshot()
	for _, old := range []string{helpdeskUPN} {
		if bytes.Contains(stored, []byte(old)) {
			t.Errorf("the stored cache still holds %s: the old sign-in was merged into the new one", old)
		}
	}
	if !bytes.Contains(stored, []byte(adminUPN)) {
		t.Errorf("the stored cache lost the administrator's sign-in")
	}
}
