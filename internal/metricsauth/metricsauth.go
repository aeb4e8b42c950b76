// Package metricsauth serves /metrics only to callers the API server
// authenticates (TokenReview) and authorizes for the request's verb and path
// (SubjectAccessReview), as kubebuilder's layout asks.
//
// controller-runtime offers the same through its metrics/filters package,
// but that package builds on k8s.io/apiserver, whose authentication stack
// brings CEL, gRPC, OpenTelemetry exporters and text/template into the
// binary. text/template calls methods by name through reflection, which
// makes the linker keep every exported method of every type in the
// program. With it the manager's executable was 149 MB; without it, 86 MB,
// and those pages count in the manager's resident memory.
package metricsauth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	authnclient "k8s.io/client-go/kubernetes/typed/authentication/v1"
	authzclient "k8s.io/client-go/kubernetes/typed/authorization/v1"
	"k8s.io/client-go/rest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

// How long answers are kept: a scraper asks every 15 to 60 seconds, and
// each unanswered scrape would cost two API requests. A revoked token or
// role stops working within these times, as with kube-apiserver's own
// delegated authentication.
const (
	tokenTTL = time.Minute
	allowTTL = 5 * time.Minute
	denyTTL  = 30 * time.Second
	// reviewTimeout bounds one scrape's wait for the API server.
	reviewTimeout = 10 * time.Second
	// maxCached bounds each cache; a flood of distinct tokens empties it
	// rather than growing the manager's memory.
	maxCached = 1024
)

// TokenReviews and AccessReviews are the two API calls a Gate makes.
type (
	TokenReviews interface {
		Create(ctx context.Context, r *authnv1.TokenReview, opts metav1.CreateOptions) (*authnv1.TokenReview, error)
	}
	AccessReviews interface {
		Create(ctx context.Context, r *authzv1.SubjectAccessReview, opts metav1.CreateOptions) (*authzv1.SubjectAccessReview, error)
	}
)

// Gate decides who may read the metrics.
type Gate struct {
	tokens    TokenReviews
	access    AccessReviews
	users     *cache[*authnv1.UserInfo] // nil: the token was refused
	decisions *cache[bool]
	now       func() time.Time
	// retryDelay is the wait before each of the retries of a review that
	// failed for a reason the API server may recover from.
	retryDelay []time.Duration
}

// New builds a Gate on the two review APIs.
func New(tokens TokenReviews, access AccessReviews) *Gate {
	return &Gate{
		tokens:     tokens,
		access:     access,
		users:      newCache[*authnv1.UserInfo](),
		decisions:  newCache[bool](),
		now:        time.Now,
		retryDelay: []time.Duration{500 * time.Millisecond, time.Second},
	}
}

// Provider is a metricsserver.Options.FilterProvider: the manager's own
// credentials make the reviews, so it needs create on tokenreviews and
// subjectaccessreviews.
func Provider(cfg *rest.Config, hc *http.Client) (metricsserver.Filter, error) {
	authn, err := authnclient.NewForConfigAndClient(cfg, hc)
	if err != nil {
		return nil, err
	}
	authz, err := authzclient.NewForConfigAndClient(cfg, hc)
	if err != nil {
		return nil, err
	}
	return New(authn.TokenReviews(), authz.SubjectAccessReviews()).Filter, nil
}

// Filter wraps the metrics handler. Answers: 401 without a bearer token or
// with one the API server does not accept, 403 when the caller may not
// use the request's verb on its path, 500 when the API server could not
// answer. The token is never logged and is removed from the request before
// the handler sees it.
func (g *Gate) Filter(log logr.Logger, next http.Handler) (http.Handler, error) {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		ctx, cancel := context.WithTimeout(req.Context(), reviewTimeout)
		defer cancel()
		token, ok := bearer(req.Header.Get("Authorization"))
		if !ok {
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		user, err := g.authenticate(ctx, token)
		if err != nil {
			log.Error(err, "Reviewing a metrics caller's token failed")
			http.Error(w, "Authentication failed", http.StatusInternalServerError)
			return
		}
		if user == nil {
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		verb := strings.ToLower(req.Method)
		allowed, err := g.authorize(ctx, user, verb, req.URL.Path)
		if err != nil {
			log.Error(err, "Reviewing a metrics caller's access failed", "user", user.Username)
			http.Error(w, fmt.Sprintf("Authorization for user %s failed", user.Username), http.StatusInternalServerError)
			return
		}
		if !allowed {
			log.V(4).Info("Metrics caller denied", "user", user.Username, "verb", verb, "path", req.URL.Path)
			http.Error(w, fmt.Sprintf("Authorization denied for user %s", user.Username), http.StatusForbidden)
			return
		}
		req.Header.Del("Authorization")
		next.ServeHTTP(w, req)
	}), nil
}

// bearer reads "Bearer <token>" (the scheme in any case), as kube-apiserver
// does.
func bearer(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// authenticate returns the token's user, nil for a token the API server
// refuses. The cache is keyed by the token's hash, never the token.
func (g *Gate) authenticate(ctx context.Context, token string) (*authnv1.UserInfo, error) {
	sum := sha256.Sum256([]byte(token))
	key := hex.EncodeToString(sum[:])
	if u, ok := g.users.get(key, g.now()); ok {
		return u, nil
	}
	var review *authnv1.TokenReview
	err := g.retry(ctx, func() (err error) {
		review, err = g.tokens.Create(ctx, &authnv1.TokenReview{Spec: authnv1.TokenReviewSpec{Token: token}}, metav1.CreateOptions{})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("TokenReview: %w", err)
	}
	var user *authnv1.UserInfo
	if review.Status.Authenticated && review.Status.User.Username != "" {
		user = review.Status.User.DeepCopy()
	}
	g.users.put(key, user, tokenTTL, g.now())
	return user, nil
}

// authorize asks whether user may use verb on the non-resource path.
func (g *Gate) authorize(ctx context.Context, user *authnv1.UserInfo, verb, path string) (bool, error) {
	key := decisionKey(user, verb, path)
	if allowed, ok := g.decisions.get(key, g.now()); ok {
		return allowed, nil
	}
	sar := &authzv1.SubjectAccessReview{Spec: authzv1.SubjectAccessReviewSpec{
		User:                  user.Username,
		UID:                   user.UID,
		Groups:                user.Groups,
		NonResourceAttributes: &authzv1.NonResourceAttributes{Path: path, Verb: verb},
	}}
	if len(user.Extra) > 0 {
		sar.Spec.Extra = make(map[string]authzv1.ExtraValue, len(user.Extra))
		for k, v := range user.Extra {
			sar.Spec.Extra[k] = authzv1.ExtraValue(v)
		}
	}
	var got *authzv1.SubjectAccessReview
	err := g.retry(ctx, func() (err error) {
		got, err = g.access.Create(ctx, sar, metav1.CreateOptions{})
		return err
	})
	if err != nil {
		return false, fmt.Errorf("SubjectAccessReview: %w", err)
	}
	allowed := got.Status.Allowed && !got.Status.Denied
	ttl := denyTTL
	if allowed {
		ttl = allowTTL
	}
	g.decisions.put(key, allowed, ttl, g.now())
	return allowed, nil
}

// retry runs call again after the delays while it fails in a way the API
// server may recover from; a refusal (the manager may not create reviews,
// a malformed review) is returned at once.
func (g *Gate) retry(ctx context.Context, call func() error) error {
	err := call()
	for _, d := range g.retryDelay {
		if err == nil || !transient(err) {
			return err
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(err, ctx.Err())
		case <-t.C:
		}
		err = call()
	}
	return err
}

func transient(err error) bool {
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		return true // not an answer from the API server: the connection
	}
	return apierrors.IsInternalError(err) || apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err) ||
		apierrors.IsTooManyRequests(err) || apierrors.IsServiceUnavailable(err) || apierrors.IsUnexpectedServerError(err)
}

// decisionKey names everything a SubjectAccessReview's answer depends on;
// %q keeps one field from running into the next.
func decisionKey(u *authnv1.UserInfo, verb, path string) string {
	groups := append([]string(nil), u.Groups...)
	sort.Strings(groups)
	extra := make([]string, 0, len(u.Extra))
	for k, v := range u.Extra {
		vs := append([]string(nil), v...)
		sort.Strings(vs)
		extra = append(extra, fmt.Sprintf("%q=%q", k, vs))
	}
	sort.Strings(extra)
	return fmt.Sprintf("%q %q %q %q %q %q", u.Username, u.UID, groups, extra, verb, path)
}

// cache keeps answers until they expire, at most maxCached of them.
type cache[V any] struct {
	mu sync.Mutex
	m  map[string]entry[V]
}

type entry[V any] struct {
	v   V
	exp time.Time
}

func newCache[V any]() *cache[V] { return &cache[V]{m: map[string]entry[V]{}} }

func (c *cache[V]) get(key string, now time.Time) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok || !now.Before(e.exp) {
		var zero V
		return zero, false
	}
	return e.v, true
}

func (c *cache[V]) put(key string, v V, ttl time.Duration, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxCached {
		for k, e := range c.m {
			if !now.Before(e.exp) {
				delete(c.m, k)
			}
		}
		if len(c.m) >= maxCached {
			clear(c.m)
		}
	}
	c.m[key] = entry[V]{v: v, exp: now.Add(ttl)}
}

func (c *cache[V]) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
