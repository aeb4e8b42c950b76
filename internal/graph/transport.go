package graph

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	khttp "github.com/microsoft/kiota-http-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
)

// call is the per-operation state carried in the request context: the
// operation name for the Observer, and the last HTTP response seen, which
// classify uses when the SDK returns an error without a status (for example
// an error body that is not JSON).
type call struct {
	op string

	mu         sync.Mutex
	lastStatus int
	lastHeader http.Header
	tokenErr   error // the last network failure reaching the token endpoint
}

type callKey struct{}

func withCall(ctx context.Context, op string) context.Context {
	return context.WithValue(ctx, callKey{}, &call{op: op})
}

func callFrom(ctx context.Context) *call {
	c, _ := ctx.Value(callKey{}).(*call)
	return c
}

func (c *call) record(resp *http.Response) {
	if c == nil || resp == nil {
		return
	}
	c.mu.Lock()
	c.lastStatus = resp.StatusCode
	c.lastHeader = resp.Header.Clone()
	c.mu.Unlock()
}

func (c *call) recordTokenFailure(err error) {
	if c == nil || err == nil {
		return
	}
	c.mu.Lock()
	c.tokenErr = err
	c.mu.Unlock()
}

// tokenNetworkError tells a token endpoint that could not be reached (which
// azidentity reports as an authentication failure, flattening the cause)
// from a credential that was refused.
func (c *call) tokenNetworkError() error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tokenErr
}

func (c *call) last() (int, http.Header) {
	if c == nil {
		return 0, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastStatus, c.lastHeader
}

// observed is the innermost RoundTripper: it sees every attempt on the wire.
type observed struct {
	next     http.RoundTripper
	observer Observer
	fixedOp  string // set for the token client, whose requests carry the Graph call's context
}

func (o *observed) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := o.next.RoundTrip(req)
	c := callFrom(req.Context())
	if o.fixedOp == "" {
		c.record(resp)
	} else if err != nil {
		c.recordTokenFailure(err)
	}
	if o.observer != nil {
		op := o.fixedOp
		if op == "" && c != nil {
			op = c.op
		}
		if op == "" {
			op = "Unknown"
		}
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		o.observer.ObserveRequest(op, status, time.Since(start))
	}
	return resp, err
}

// baseTransport is a TLS transport trusting the system roots plus extraCA.
func baseTransport(extraCA []byte) (*http.Transport, error) {
	roots, err := x509.SystemCertPool()
	if err != nil || roots == nil {
		roots = x509.NewCertPool()
	}
	if len(extraCA) > 0 && !roots.AppendCertsFromPEM(extraCA) {
		return nil, errors.New("endpoints: CA PEM contains no certificate")
	}
	return &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   10 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		TLSClientConfig:       &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          20,
		MaxIdleConnsPerHost:   10,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		ExpectContinueTimeout: time.Second,
	}, nil
}

// Retry policy, decided here once:
//   - 429 is never retried in-process. A controller serves many objects; sleeping
//     in a worker hides throttling from metrics and blocks other reconciles. The
//     error is classified Throttled with Retry-After and the reconciler requeues.
//   - 503 and 504 are retried at most maxTransientRetries times, only for
//     idempotent methods (GET, PUT, PATCH, DELETE): a POST that timed out at a
//     gateway may have been applied (a role assignment, a PIM request).
//   - a Retry-After longer than maxInlineRetryAfter is not waited for inline;
//     the error goes back to the reconciler with that Retry-After instead.
const (
	maxTransientRetries = 2
	maxInlineRetryAfter = 5 * time.Second
	retryBaseDelay      = 1 // seconds, kiota's exponential backoff base
)

func shouldRetry(_ time.Duration, _ int, req *http.Request, resp *http.Response) bool {
	if resp == nil || req == nil {
		return false
	}
	if resp.StatusCode != http.StatusServiceUnavailable && resp.StatusCode != http.StatusGatewayTimeout {
		return false
	}
	switch req.Method {
	case http.MethodGet, http.MethodPut, http.MethodPatch, http.MethodDelete:
	default:
		return false
	}
	if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok && d > maxInlineRetryAfter {
		return false
	}
	return true
}

// middlewares returns kiota's and Graph's default handlers in a fixed order
// (kiota's GetDefaultMiddlewares builds its list from a map, so its order
// varies between runs), except kiota's CompressionHandler: see
// plainBody. plainBody sits outside retry so that a retried attempt
// re-sends the same seekable body.
func middlewares() []khttp.Middleware {
	opts := clientOptions()
	return []khttp.Middleware{
		msgraphcore.NewGraphTelemetryHandler(&opts),
		khttp.NewUserAgentHandler(),
		khttp.NewHeadersInspectionHandler(),
		khttp.NewParametersNameDecodingHandler(),
		khttp.NewRedirectHandler(),
		plainBody{},
		khttp.NewRetryHandlerWithOptions(khttp.RetryHandlerOptions{
			ShouldRetry:  shouldRetry,
			MaxRetries:   maxTransientRetries,
			DelaySeconds: retryBaseDelay,
		}),
	}
}

// plainBody sends a request body as it is, with its Content-Length.
// kiota's CompressionHandler gzips every body instead: the operator's
// bodies are a few properties, so that saved nothing on the wire and cost
// a new gzip writer (about 800 KB) per write, 5 % of the manager's CPU in
// a rollout. Without it, kiota leaves the length unset and net/http would
// send the body chunked; a Content-Length is what Graph's other clients
// send.
type plainBody struct{}

func (plainBody) Intercept(p khttp.Pipeline, i int, req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody && req.ContentLength <= 0 {
		b, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, err
		}
		req.ContentLength = int64(len(b))
		req.Body = khttp.NopCloser(bytes.NewReader(b))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	}
	return p.Next(req, i)
}

// ownBody gives each attempt of a request its own copy of the body. kiota's
// retry handler re-sends the same request after seeking its body back to
// the start, but net/http may still be reading the previous attempt's body
// after RoundTrip has returned (a server may answer before it has read the
// body), and then the retry finds it consumed: "ContentLength=52 with Body
// length 0". plainBody sets GetBody on every request with a body.
type ownBody struct{ next http.RoundTripper }

func (o ownBody) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.GetBody == nil || req.Body == nil || req.Body == http.NoBody {
		return o.next.RoundTrip(req)
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, err
	}
	attempt := req.WithContext(req.Context())
	attempt.Body = body
	return o.next.RoundTrip(attempt)
}

// httpClients builds the Graph client (middleware + observed TLS transport)
// and the token client (observed TLS transport only: azidentity has its own
// retry policy and must not be compressed or redirected by kiota).
func httpClients(ep Endpoints, obs Observer, timeout time.Duration) (graph, token *http.Client, err error) {
	base, err := baseTransport(ep.CAPEM)
	if err != nil {
		return nil, nil, err
	}
	graph = &http.Client{
		Transport: khttp.NewCustomTransportWithParentTransport(&observed{next: ownBody{base}, observer: obs}, middlewares()...),
		// The redirect middleware follows redirects itself (dropping the
		// Authorization header across hosts); net/http must not do it again.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       timeout,
	}
	token = &http.Client{
		Transport: &observed{next: base, observer: obs, fixedOp: OpAcquireToken},
		Timeout:   timeout,
	}
	return graph, token, nil
}

// maxRetryAfter caps what a server may ask for: Graph's throttling windows
// are seconds to a few minutes, and a larger value (a misbehaving proxy, a
// hostile custom endpoint) must not park reconciles for hours.
const maxRetryAfter = 10 * time.Minute

// parseRetryAfter reads a Retry-After header in seconds or as an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if math.IsNaN(s) || s < 0 {
			return 0, false
		}
		if s > maxRetryAfter.Seconds() {
			return maxRetryAfter, true
		}
		return time.Duration(s * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(now), 0), maxRetryAfter), true
	}
	return 0, false
}
