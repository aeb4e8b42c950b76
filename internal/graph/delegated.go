package graph

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/cache"
	msalerrors "github.com/AzureAD/microsoft-authentication-library-for-go/apps/errors"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"

	"github.com/entramatch/entra-match-operator/internal/cloud"
)

// A delegated sign-in is MSAL's public client over an in-memory cache that
// is filled from the cloud.TokenCache once per token request and written
// back once after it, when the identity platform rotated the refresh token.
// MSAL itself reloads its cache several times within one request; keeping
// those reloads in memory makes each request one read and at most one
// conditional write of the stored cache, so a sign-in stored meanwhile (a
// person ran `entramatch login` again) is never merged with the old one.

// delegatedCredential is an azcore.TokenCredential for a signed-in person.
// It serves no token from memory and keeps no refresh token between
// requests: every request reads the stored cache, so a new sign-in, or a
// deleted one, takes effect at the next Graph call.
type delegatedCredential struct {
	app    public.Client
	stored cloud.TokenCache
	mem    *memoryCache // MSAL's view during one request

	// mu serialises token requests: two concurrent refreshes would redeem
	// the same refresh token twice, and the second would be refused.
	mu   sync.Mutex
	last string // the last access token, only to explain a refusal
}

func newPublicClient(cred Credential, ep resolved, httpClient *http.Client, c cache.ExportReplace) (public.Client, error) {
	opts := []public.Option{
		public.WithAuthority(ep.authorityURL + cred.TenantID),
		public.WithHTTPClient(httpClient),
		// Instance discovery asks Microsoft's host about the authority,
		// which an emulator or a proxy cannot answer.
		public.WithInstanceDiscovery(!ep.customAuth),
		public.WithCache(c),
	}
	app, err := public.New(cred.ClientID, opts...)
	if err != nil {
		return public.Client{}, fmt.Errorf("public client: %w", err)
	}
	return app, nil
}

func newDelegatedCredential(cred Credential, ep resolved, httpClient *http.Client) (*delegatedCredential, error) {
	mem := &memoryCache{}
	app, err := newPublicClient(cred, ep, httpClient, cacheAdapter{mem})
	if err != nil {
		return nil, err
	}
	return &delegatedCredential{app: app, stored: cred.Delegated.Cache, mem: mem}, nil
}

// GetToken returns the signed-in person's token for opts.Scopes: from the
// stored cache while it is valid, else redeemed with the stored refresh
// token, the rotated cache written back before the token is used.
func (d *delegatedCredential) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	// Keep no refresh token in memory between requests (a client may
	// outlive its Secret): empty the cache, and let MSAL reload the empty
	// one, which drops its own copy.
	defer func() {
		d.mem.replace(nil)
		_, _ = d.app.Accounts(context.WithoutCancel(ctx))
	}()
	// A new sign-in stored while this request refreshed the old one wins;
	// the request is then made again with it, once.
	for attempt := 0; ; attempt++ {
		before, err := d.stored.Load(ctx)
		if err != nil {
			return azcore.AccessToken{}, err
		}
		d.mem.replace(before)
		tok, err := d.acquire(ctx, opts.Scopes)
		if err != nil {
			return azcore.AccessToken{}, err
		}
		if after := d.mem.bytes(); !bytes.Equal(after, before) {
			err := d.stored.Store(ctx, after)
			if errors.Is(err, cloud.ErrSignInReplaced) && attempt == 0 {
				continue
			}
			if err != nil {
				return azcore.AccessToken{}, err
			}
		}
		d.last = tok.Token
		return tok, nil
	}
}

// acquire runs MSAL's silent flow over the in-memory cache.
func (d *delegatedCredential) acquire(ctx context.Context, scopes []string) (azcore.AccessToken, error) {
	accounts, err := d.app.Accounts(ctx)
	if err != nil {
		return azcore.AccessToken{}, classifyMSAL(err)
	}
	switch len(accounts) {
	case 0:
		return azcore.AccessToken{}, &cloud.Error{Class: cloud.ClassUnauthenticated, Code: cloud.CodeNoSignIn, Op: OpAcquireToken,
			Message: "the stored token cache holds no signed-in account"}
	case 1:
	default:
		// Whose sign-in to use would be a guess; `entramatch login`
		// always stores exactly one.
		return azcore.AccessToken{}, &cloud.Error{Class: cloud.ClassUnauthenticated, Code: cloud.CodeNoSignIn, Op: OpAcquireToken,
			Message: fmt.Sprintf("the stored token cache holds %d signed-in accounts instead of one", len(accounts))}
	}
	res, err := d.app.AcquireTokenSilent(ctx, scopes, public.WithSilentAccount(accounts[0]))
	if err != nil {
		return azcore.AccessToken{}, classifyMSAL(err)
	}
	return azcore.AccessToken{Token: res.AccessToken, ExpiresOn: res.ExpiresOn}, nil
}

// heldToken is the access token last handed out, without renewing it.
func (d *delegatedCredential) heldToken() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.last
}

// cacheAdapter lets MSAL read and write an in-memory cache.
type cacheAdapter struct{ c *memoryCache }

func (a cacheAdapter) Replace(_ context.Context, u cache.Unmarshaler, _ cache.ReplaceHints) error {
	data := a.c.bytes()
	if len(data) == 0 {
		// Replace, not keep, what MSAL held before.
		data = []byte("{}")
	}
	if err := u.Unmarshal(data); err != nil {
		// The unmarshal error is not repeated: it could quote the cache.
		return &cloud.Error{Class: cloud.ClassUnauthenticated, Code: cloud.CodeNoSignIn, Op: OpAcquireToken,
			Message: "the stored token cache is not in MSAL's format"}
	}
	return nil
}

func (a cacheAdapter) Export(_ context.Context, m cache.Marshaler, _ cache.ExportHints) error {
	data, err := m.Marshal()
	if err != nil {
		return fmt.Errorf("serializing token cache: %w", err)
	}
	a.c.replace(data)
	return nil
}

// msalNoToken is MSAL's error text when the silent flow finds neither a
// valid access token nor a refresh token.
const msalNoToken = "no token found"

// classifyMSAL maps an MSAL failure: an identity platform answer by its
// status and error code, a cloud.Error from the token cache as it is.
func classifyMSAL(err error) error {
	var ce *cloud.Error
	if errors.As(err, &ce) {
		return ce
	}
	var badJSON msalerrors.InvalidJsonErr
	if errors.As(err, &badJSON) {
		// MSAL quotes the whole answer, tokens included: neither the
		// message nor the kept error may carry it.
		return &cloud.Error{Class: cloud.ClassTransient, Op: OpAcquireToken,
			Message: "the identity platform's answer could not be read", Err: errors.New("MSAL: invalid JSON from the identity platform")}
	}
	var call msalerrors.CallErr
	if !errors.As(err, &call) || call.Resp == nil {
		if isNetworkError(err) {
			return &cloud.Error{Class: cloud.ClassTransient, Op: OpAcquireToken, Message: "token endpoint unreachable: " + err.Error(), Err: err}
		}
		msg, _, _ := strings.Cut(err.Error(), "\n")
		out := &cloud.Error{Class: cloud.ClassUnauthenticated, Op: OpAcquireToken, Message: msg, Err: errors.New(msg)}
		if msg == msalNoToken {
			// An account without a refresh token: only a new sign-in helps.
			out.Code = cloud.CodeNoSignIn
			out.Message = "the stored token cache holds no refresh token"
		}
		return out
	}
	resp := call.Resp
	var body []byte
	if resp.Body != nil {
		body, _ = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body = io.NopCloser(bytes.NewReader(body))
	}
	return tokenFailure(OpAcquireToken, resp, body, err)
}
