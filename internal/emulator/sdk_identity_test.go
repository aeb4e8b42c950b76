package emulator_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/entramatch/entra-match-operator/internal/emulator"
	"github.com/entramatch/entra-match-operator/internal/emulator/jose"
)

const (
	sdkFedApp     = "a1a1a1a1-0000-4000-8000-000000000005"
	sdkPublicApp  = "a1a1a1a1-0000-4000-8000-000000000006"
	sdkFedIssuer  = "https://oidc.kind.example/cluster"
	sdkFedSubject = "system:serviceaccount:entramatch-system:entramatch-operator"
)

// issuer plays a Kubernetes service account issuer: a key and its JWKS.
type issuer struct {
	key  *rsa.PrivateKey
	jwks []byte
}

func newIssuer(t *testing.T) issuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	jwks, err := json.Marshal(map[string]any{"keys": []any{map[string]any{"kty": "RSA", "kid": "sa-key", "use": "sig",
		"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes())}}})
	if err != nil {
		t.Fatal(err)
	}
	return issuer{key: key, jwks: jwks}
}

// token is a projected service account token as the kubelet writes it.
func (i issuer) token(t *testing.T, subject string) string {
	t.Helper()
	now := time.Now()
	tok, err := jose.Sign(jose.RS256, i.key, map[string]any{"kid": "sa-key"}, map[string]any{
		"iss": sdkFedIssuer, "sub": subject, "aud": []string{emulator.DefaultFederatedAudience},
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestSDKWorkloadIdentity follows
// https://learn.microsoft.com/en-us/entra/workload-id/workload-identity-federation:
// azidentity's assertion and workload identity credentials exchange a
// service account token for a Graph token.
func TestSDKWorkloadIdentity(t *testing.T) {
	iss := newIssuer(t)
	env := newSDKEnv(t, func(c *emulator.Config) {
		c.Apps = append(c.Apps, emulator.App{ClientID: sdkFedApp, Permissions: []string{"User.Read.All"},
			FederatedCredentials: []emulator.FederatedCredential{{Issuer: sdkFedIssuer, Subject: sdkFedSubject, JWKS: iss.jwks}}})
	})
	ctx := context.Background()
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(iss.token(t, sdkFedSubject)), 0o600); err != nil {
		t.Fatal(err)
	}

	t.Run("ClientAssertionCredential", func(t *testing.T) {
		cred, err := azidentity.NewClientAssertionCredential(sdkTenant, sdkFedApp,
			func(context.Context) (string, error) { return iss.token(t, sdkFedSubject), nil },
			&azidentity.ClientAssertionCredentialOptions{ClientOptions: env.clientOptions(), DisableInstanceDiscovery: true})
		if err != nil {
			t.Fatal(err)
		}
		client, _ := env.graph(t, cred, "127.0.0.1")
		if _, err := client.Users().Get(ctx, nil); err != nil {
			t.Fatalf("list users with a federated token: %v", err)
		}
	})

	t.Run("WorkloadIdentityCredential", func(t *testing.T) {
		cred, err := azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
			ClientOptions: env.clientOptions(), ClientID: sdkFedApp, TenantID: sdkTenant, TokenFilePath: tokenFile,
			DisableInstanceDiscovery: true})
		if err != nil {
			t.Fatal(err)
		}
		client, _ := env.graph(t, cred, "127.0.0.1")
		if _, err := client.Users().Get(ctx, nil); err != nil {
			t.Fatalf("list users with a workload identity: %v", err)
		}
	})

	t.Run("wrong service account", func(t *testing.T) {
		cred, err := azidentity.NewClientAssertionCredential(sdkTenant, sdkFedApp,
			func(context.Context) (string, error) {
				return iss.token(t, "system:serviceaccount:default:default"), nil
			},
			&azidentity.ClientAssertionCredentialOptions{ClientOptions: env.clientOptions(), DisableInstanceDiscovery: true})
		if err != nil {
			t.Fatal(err)
		}
		_, err = cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{graphDefault}})
		if err == nil || !strings.Contains(err.Error(), "AADSTS700213") {
			t.Fatalf("want AADSTS700213, got %v", err)
		}
	})

}

// approveVia approves device codes through the admin endpoint, as a person
// at the verification page would.
func approveVia(env *sdkEnv, upn string, prompts *atomic.Int32) func(context.Context, azidentity.DeviceCodeMessage) error {
	return func(ctx context.Context, m azidentity.DeviceCodeMessage) error {
		prompts.Add(1)
		body, err := json.Marshal(map[string]string{"user_code": m.UserCode, "userPrincipalName": upn})
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, env.srv.URL()+"/_emulator/devicecode/approve", bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := (&http.Client{Transport: env.transport}).Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			return fmt.Errorf("approve: status %d", resp.StatusCode)
		}
		return nil
	}
}

// TestSDKDeviceCodeSyncFeatures follows
// https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-device-code
// and the permissions of
// https://learn.microsoft.com/en-us/graph/api/onpremisesdirectorysynchronization-update
// (delegated access needs a Global Administrator): with app-only access
// refused, a Global Administrator signed in through the device code flow
// reads and writes the sync features; a plain user is refused.
func TestSDKDeviceCodeSyncFeatures(t *testing.T) {
	env := newSDKEnv(t, func(c *emulator.Config) {
		c.AppOnlySyncFeatures = false
		c.Apps = append(c.Apps, emulator.App{ClientID: sdkPublicApp, PublicClient: true,
			DelegatedPermissions: []string{"OnPremDirectorySynchronization.ReadWrite.All", "User.Read"}})
	})
	ctx := context.Background()
	admin, err := env.srv.AddUser(emulator.User{UserPrincipalName: "gadmin@" + sdkVanity, DisplayName: "Admin", AccountEnabled: ptr(true)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.srv.AddUser(emulator.User{UserPrincipalName: "plain@" + sdkVanity, DisplayName: "Plain", AccountEnabled: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	if err := env.srv.Update(func(s *emulator.Snapshot) error {
		s.RoleAssignments = append(s.RoleAssignments, emulator.RoleAssignment{ID: "ra-1", PrincipalID: admin.ID,
			RoleDefinitionID: emulator.RoleGlobalAdministrator, DirectoryScopeID: "/"})
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	// App-only is refused in this tenant.
	appClient, _ := env.graph(t, env.secretCredential(t, sdkAdmin, sdkSecret), "127.0.0.1")
	_, err = appClient.Directory().OnPremisesSynchronization().Get(ctx, nil)
	if status, code, _ := odataError(t, err); status != 403 || code != "Authorization_RequestDenied" {
		t.Errorf("app-only: %d %s", status, code)
	}

	var prompts atomic.Int32
	deviceCred := func(upn string) *azidentity.DeviceCodeCredential {
		cred, err := azidentity.NewDeviceCodeCredential(&azidentity.DeviceCodeCredentialOptions{
			ClientOptions: env.clientOptions(), TenantID: sdkTenant, ClientID: sdkPublicApp,
			DisableInstanceDiscovery: true, UserPrompt: approveVia(env, upn, &prompts)})
		if err != nil {
			t.Fatal(err)
		}
		return cred
	}

	cred := deviceCred("gadmin@" + sdkVanity)
	client, _ := env.graph(t, cred, "127.0.0.1")
	cur := syncFeatures(t, client)
	full := copyFeatures(cur.GetFeatures())
	full.SetBlockSoftMatchEnabled(ptr(!deref(cur.GetFeatures().GetBlockSoftMatchEnabled())))
	body := models.NewOnPremisesDirectorySynchronization()
	body.SetFeatures(full)
	if _, err := client.Directory().OnPremisesSynchronization().ByOnPremisesDirectorySynchronizationId(sdkTenant).Patch(ctx, body, nil); err != nil {
		t.Fatalf("delegated PATCH: %v", err)
	}
	if got := env.srv.Snapshot().Sync.Features; got.BlockSoftMatchEnabled == deref(cur.GetFeatures().GetBlockSoftMatchEnabled()) {
		t.Errorf("blockSoftMatchEnabled not changed: %+v", got)
	}

	// A claims challenge (as continuous access evaluation sends) makes MSAL
	// skip its cached access token and redeem the refresh token: a new
	// token, without a second sign-in. EnableCAE as the Graph SDK's
	// authentication provider sets it: azidentity keeps one cache per mode.
	tro := policy.TokenRequestOptions{Scopes: []string{graphDefault}, EnableCAE: true}
	cached, err := cred.GetToken(ctx, tro)
	if err != nil {
		t.Fatalf("cached token: %v", err)
	}
	tro.Claims = `{"access_token":{"nbf":{"essential":true,"value":"1"}}}`
	refreshed, err := cred.GetToken(ctx, tro)
	if err != nil {
		t.Fatalf("refreshed token: %v", err)
	}
	if refreshed.Token == cached.Token {
		t.Error("the claims challenge did not yield a new token")
	}
	if n := prompts.Load(); n != 1 {
		t.Errorf("%d sign-in prompts, want 1 (the new token should come from the refresh token)", n)
	}
	parsed, err := jose.Parse(refreshed.Token)
	if err != nil {
		t.Fatal(err)
	}
	if parsed.ClaimString("scp") != "OnPremDirectorySynchronization.ReadWrite.All User.Read" || parsed.ClaimString("upn") != "gadmin@"+sdkVanity {
		t.Errorf("refreshed token claims %v", parsed.Claims)
	}

	plainClient, _ := env.graph(t, deviceCred("plain@"+sdkVanity), "127.0.0.1")
	_, err = plainClient.Directory().OnPremisesSynchronization().Get(ctx, nil)
	if status, code, _ := odataError(t, err); status != 403 || code != "Authorization_RequestDenied" {
		t.Errorf("user without Global Administrator: %d %s", status, code)
	}
}
