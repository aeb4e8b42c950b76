package graph

import (
	"context"
	"testing"

	"github.com/entramatch/entra-match-operator/internal/emulator"
	"github.com/entramatch/entra-match-operator/internal/testenv/entra"
)

type fixedCache []byte

func (f fixedCache) Load(context.Context) ([]byte, error) { return f, nil }
func (f fixedCache) Store(context.Context, []byte) error  { return nil }

// Between requests a delegated client keeps no tokens: a client can outlive
// the Secret it was built for in the factory's cache.
func TestDelegatedKeepsNoTokensBetweenRequests(t *testing.T) {
	const publicID = "0c9b8a7f-6e5d-4c3b-9a2f-1e0d9c8b7a6f"
	env := entra.Start(t, entra.WithApp(emulator.App{ClientID: publicID, PublicClient: true, DelegatedPermissions: []string{"User.Read"}}))
	if _, err := env.Server.AddUser(emulator.User{UserPrincipalName: "admin@contoso.com", DisplayName: "Admin", MailNickname: "admin"}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cfg := Config{Endpoints: env.Endpoints(), Credential: Credential{TenantID: env.TenantID, ClientID: publicID}}
	res, err := SignInWithDeviceCode(ctx, cfg, func(_, code string) {
		if err := env.Server.ApproveDeviceCode(code, "admin@contoso.com"); err != nil {
			t.Error(err)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Credential.Delegated = &Delegated{Cache: fixedCache(res.Cache), CacheID: "memory"}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	d := c.cred.(*delegatedCredential)
	if _, err := d.GetToken(ctx, tokenOptions(c.scope)); err != nil {
		t.Fatalf("GetToken: %v", err)
	}
	if accounts, err := d.app.Accounts(ctx); err != nil || len(accounts) != 0 || len(d.mem.bytes()) != 0 {
		t.Errorf("after a request MSAL holds %d accounts (%v) and the memory cache %d bytes, want none", len(accounts), err, len(d.mem.bytes()))
	}
}
