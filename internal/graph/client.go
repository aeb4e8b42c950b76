package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	abs "github.com/microsoft/kiota-abstractions-go"
	kiotaauth "github.com/microsoft/kiota-authentication-azure-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"

	"github.com/entramatch/entra-match-operator/internal/cloud"
)

// Client is a cloud.Client for one tenant and one credential. It is safe for
// concurrent use.
type Client struct {
	svc      service
	adapter  *msgraphcore.GraphRequestAdapterBase
	graphURL *url.URL
	tenantID string
	clientID string
	// delegatedID is the sign-in's cache for a delegated client, "" for
	// an application credential.
	delegatedID string

	// cred and scope let a refusal be explained from the token's claims.
	cred  azcore.TokenCredential
	scope string

	// noObjectIdentifier is set once Graph has refused to $select
	// onPremisesObjectIdentifier (see userSelect).
	noObjectIdentifier atomic.Bool
}

var _ cloud.Client = (*Client)(nil)

// New builds a Client. It does not call Graph: a wrong credential shows up as
// ClassUnauthenticated on the first call.
func New(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ep, err := resolveEndpoints(cfg.Endpoints)
	if err != nil {
		return nil, fmt.Errorf("endpoints: %w", err)
	}
	graphHTTP, tokenHTTP, err := httpClients(cfg.Endpoints, cfg.Observer, cfg.EffectiveTimeout())
	if err != nil {
		return nil, err
	}
	cred, err := newCredential(cfg.Credential, ep, tokenHTTP)
	if err != nil {
		return nil, err
	}
	// The allowed host must be the bare hostname: kiota compares it with
	// URL.Hostname(), and a "host:port" entry silently sends requests
	// without a token.
	auth, err := kiotaauth.NewAzureIdentityAuthenticationProviderWithScopesAndValidHosts(cred, []string{ep.scope}, []string{ep.graphHost})
	if err != nil {
		return nil, fmt.Errorf("authentication provider: %w", err)
	}
	adapter, err := msgraphcore.NewGraphRequestAdapterBaseWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(auth, clientOptions(), nil, nil, graphHTTP)
	if err != nil {
		return nil, fmt.Errorf("graph request adapter: %w", err)
	}
	// The base URL must be set before the service is built: it copies the
	// URL into every request builder.
	adapter.SetBaseUrl(ep.graphURL)
	gu, err := url.Parse(ep.graphURL)
	if err != nil {
		return nil, fmt.Errorf("graph url: %w", err)
	}
	return &Client{
		svc:         newService(adapter),
		adapter:     adapter,
		graphURL:    gu,
		tenantID:    cfg.Credential.TenantID,
		clientID:    cfg.Credential.ClientID,
		delegatedID: delegatedID(cfg.Credential),
		cred:        cred,
		scope:       ep.scope,
	}, nil
}

// sendJSON sends a request whose body must be exactly body on the wire. The
// SDK models cannot guarantee that: their backing store serialises only the
// properties changed since construction, cannot write an explicit null, and
// v1.89 lacks newer properties such as
// allowOnPremUpdateOfOnPremisesObjectIdentifierEnabled.
func (c *Client) sendJSON(ctx context.Context, method abs.HttpMethod, template string, params map[string]string, body any) error {
	raw, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("encoding request body: %w", err)
	}
	ri := abs.NewRequestInformation()
	ri.Method = method
	ri.UrlTemplate = template
	ri.PathParameters = map[string]string{"baseurl": c.adapter.GetBaseUrl()}
	for k, v := range params {
		ri.PathParameters[k] = v
	}
	ri.Headers.TryAdd("Accept", "application/json")
	ri.SetStreamContentAndContentType(raw, "application/json")
	return c.adapter.SendNoContent(ctx, ri, abs.ErrorMappings{"XXX": odataerrors.CreateODataErrorFromDiscriminatorValue})
}

// page is what every Graph collection response offers.
type page[T any] interface {
	GetValue() []T
	GetOdataNextLink() *string
}

// maxPages bounds a listing so that a server returning nextLinks forever
// cannot keep a reconcile busy; 1,000 pages of 100 is far beyond a tenant's
// role assignments, domains or deleted users.
const maxPages = 1000

// collect reads the first page and follows @odata.nextLink to the end.
func collect[T any, P page[T]](c *Client, first P, err error, next func(link string) (P, error)) ([]T, error) {
	return collectAs(c, first, err, next, func(v T) T { return v })
}

// collectAs is collect turning each item into the operator's own type page
// by page: the SDK's models of a 10,000-user tenant would otherwise all be
// alive at once, at several times the size of what is kept.
func collectAs[T any, P page[T], O any](c *Client, first P, err error, next func(link string) (P, error), conv func(T) O) ([]O, error) {
	if err != nil {
		return nil, err
	}
	var out []O
	seen := map[string]bool{}
	p := first
	for i := 0; ; i++ {
		if any(p) == nil {
			return out, nil
		}
		for _, v := range p.GetValue() {
			out = append(out, conv(v))
		}
		link := deref(p.GetOdataNextLink())
		if link == "" {
			return out, nil
		}
		if seen[link] || i+1 >= maxPages {
			return nil, &cloud.Error{Class: cloud.ClassTransient, Message: "paging did not end: @odata.nextLink repeats or exceeds the page limit"}
		}
		if err := c.checkNextLink(link); err != nil {
			return nil, err
		}
		seen[link] = true
		if p, err = next(link); err != nil {
			return nil, err
		}
	}
}

// checkNextLink refuses to follow a nextLink off the Graph endpoint: the
// token would not be attached anyway, and following it would leak the query.
func (c *Client) checkNextLink(link string) error {
	u, err := url.Parse(link)
	if err != nil || !strings.EqualFold(u.Scheme, c.graphURL.Scheme) || !strings.EqualFold(u.Host, c.graphURL.Host) {
		return &cloud.Error{Class: cloud.ClassInvalid, Message: "refusing @odata.nextLink outside the Graph endpoint"}
	}
	return nil
}

// quote writes s as an OData string literal: single quotes are doubled.
func quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

func invalid(op, msg string) error {
	return &cloud.Error{Class: cloud.ClassInvalid, Op: op, Message: msg}
}

func ptr[T any](v T) *T { return &v }
