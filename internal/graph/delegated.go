package graph

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/cache"
	msalerrors "github.com/AzureAD/microsoft-authentication-library-for-go/apps/errors"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"

	"github.com/entramatch/entra-match-operator/internal/cloud"
)

// A delegated sign-in is MSAL's public client with its token cache kept in
// a cloud.TokenCache: MSAL loads the cache before every token request and
// stores it after the identity platform answered, so a rotated refresh
// token is written back at once.

// tokenRefreshMargin is how long before expiry a token is replaced; MSAL
// itself refreshes access tokens within five minutes of their end.
const tokenRefreshMargin = 5 * time.Minute

// delegatedCredential is an azcore.TokenCredential for a signed-in person.
type delegatedCredential struct {
	app public.Client

	// mu serialises token requests: two concurrent refreshes would redeem
	// the same refresh token twice, and the second would be refused.
	mu  sync.Mutex
	tok azcore.AccessToken
}

func newPublicClient(cred Credential, ep resolved, httpClient *http.Client, c cache.ExportReplace) (public.Client, error) {
	opts := []public.Option{
		public.WithAuthority(ep.authorityURL + cred.TenantID),
		public.WithHTTPClient(httpClient),
		// Instance discovery asks Microsoft's host about the authority,
		// which an emulator or a proxy cannot answer.
		public.WithInstanceDiscovery(!ep.customAuth),
	}
	if c != nil {
		opts = append(opts, public.WithCache(c))
	}
	app, err := public.New(cred.ClientID, opts...)
	if err != nil {
		return public.Client{}, fmt.Errorf("public client: %w", err)
	}
	return app, nil
}

func newDelegatedCredential(cred Credential, ep resolved, httpClient *http.Client) (*delegatedCredential, error) {
	app, err := newPublicClient(cred, ep, httpClient, cacheAdapter{cred.Delegated.Cache})
	if err != nil {
		return nil, err
	}
	return &delegatedCredential{app: app}, nil
}

// GetToken returns the signed-in person's token for opts.Scopes, refreshing
// it with the cached refresh token when it is about to expire.
func (d *delegatedCredential) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.tok.Token != "" && time.Until(d.tok.ExpiresOn) > tokenRefreshMargin {
		return d.tok, nil
	}
	accounts, err := d.app.Accounts(ctx)
	if err != nil {
		return azcore.AccessToken{}, classifyMSAL(err)
	}
	if len(accounts) == 0 {
		return azcore.AccessToken{}, &cloud.Error{Class: cloud.ClassUnauthenticated, Code: cloud.CodeNoSignIn, Op: OpAcquireToken,
			Message: "the token cache holds no signed-in account"}
	}
	res, err := d.app.AcquireTokenSilent(ctx, opts.Scopes, public.WithSilentAccount(accounts[0]))
	if err != nil {
		return azcore.AccessToken{}, classifyMSAL(err)
	}
	d.tok = azcore.AccessToken{Token: res.AccessToken, ExpiresOn: res.ExpiresOn}
	return d.tok, nil
}

// heldToken is the access token last handed out, without renewing it.
func (d *delegatedCredential) heldToken() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.tok.Token
}

// cacheAdapter lets MSAL read and write a cloud.TokenCache.
type cacheAdapter struct{ c cloud.TokenCache }

func (a cacheAdapter) Replace(ctx context.Context, u cache.Unmarshaler, _ cache.ReplaceHints) error {
	data, err := a.c.Load(ctx)
	if err != nil {
		return err
	}
	if len(data) == 0 {
		// An empty cache: MSAL then finds no account.
		return nil
	}
	if err := u.Unmarshal(data); err != nil {
		return &cloud.Error{Class: cloud.ClassUnauthenticated, Code: cloud.CodeNoSignIn, Op: OpAcquireToken,
			Message: "the stored token cache is not readable: " + err.Error()}
	}
	return nil
}

func (a cacheAdapter) Export(ctx context.Context, m cache.Marshaler, _ cache.ExportHints) error {
	data, err := m.Marshal()
	if err != nil {
		return fmt.Errorf("serializing token cache: %w", err)
	}
	return a.c.Store(ctx, data)
}

// classifyMSAL maps an MSAL failure: an identity platform answer by its
// status and error code, a cloud.Error from the token cache as it is.
func classifyMSAL(err error) error {
	var ce *cloud.Error
	if errors.As(err, &ce) {
		return ce
	}
	var call msalerrors.CallErr
	if !errors.As(err, &call) || call.Resp == nil {
		if isNetworkError(err) {
			return &cloud.Error{Class: cloud.ClassTransient, Op: OpAcquireToken, Message: "token endpoint unreachable: " + err.Error(), Err: err}
		}
		return &cloud.Error{Class: cloud.ClassUnauthenticated, Op: OpAcquireToken, Message: err.Error(), Err: err}
	}
	resp := call.Resp
	var body []byte
	if resp.Body != nil {
		body, _ = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body = io.NopCloser(bytes.NewReader(body))
	}
	return tokenFailure(OpAcquireToken, resp, body, err)
}
