package graph

import (
	"context"
	"fmt"
	"sync"
)

// SignInResult is a completed delegated sign-in.
type SignInResult struct {
	// Cache is the serialized token cache holding the refresh token; store
	// it where the operator's cloud.TokenCache reads it.
	Cache []byte
	// User is the signed-in person's user principal name.
	User string
}

// SignInWithDeviceCode signs a person in through the device code flow of
// the public client cfg.Credential.ClientID: show receives the instructions
// to pass on (the page to open and the code to enter), then the call waits
// until the person finished, declined, or the code expired. The
// credential's secret fields are ignored.
func SignInWithDeviceCode(ctx context.Context, cfg Config, show func(message, userCode string)) (SignInResult, error) {
	if cfg.Credential.TenantID == "" || cfg.Credential.ClientID == "" {
		return SignInResult{}, fmt.Errorf("sign-in needs a tenant id and a client id")
	}
	ep, err := resolveEndpoints(cfg.Endpoints)
	if err != nil {
		return SignInResult{}, fmt.Errorf("endpoints: %w", err)
	}
	_, tokenHTTP, err := httpClients(cfg.Endpoints, cfg.Observer, cfg.EffectiveTimeout())
	if err != nil {
		return SignInResult{}, err
	}
	mem := &memoryCache{}
	app, err := newPublicClient(cfg.Credential, ep, tokenHTTP, cacheAdapter{mem})
	if err != nil {
		return SignInResult{}, err
	}
	dc, err := app.AcquireTokenByDeviceCode(ctx, []string{ep.scope})
	if err != nil {
		return SignInResult{}, fmt.Errorf("starting device code sign-in: %w", classifyMSAL(err))
	}
	show(dc.Result.Message, dc.Result.UserCode)
	res, err := dc.AuthenticationResult(ctx)
	if err != nil {
		return SignInResult{}, fmt.Errorf("device code sign-in: %w", classifyMSAL(err))
	}
	return SignInResult{Cache: mem.bytes(), User: res.Account.PreferredUsername}, nil
}

// memoryCache is the cache MSAL works on: filled from the stored cache
// before a request, read back after it.
type memoryCache struct {
	mu   sync.Mutex
	data []byte
}

func (m *memoryCache) replace(data []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.data = append([]byte(nil), data...)
}

func (m *memoryCache) bytes() []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]byte(nil), m.data...)
}
