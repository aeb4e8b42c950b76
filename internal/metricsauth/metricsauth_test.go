package metricsauth

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

const scraperToken = "eyJhbGciOiJSUzI1NiJ9.scraper.signature"

// reviewer answers TokenReviews and SubjectAccessReviews as an API server
// with one known token (the scraper's) and one rule (the scraper may get
// /metrics) would, failing the first fail calls with err.
type reviewer struct {
	tokenCalls, accessCalls atomic.Int32
	fail                    int32
	err                     error
	lastAccess              *authzv1.SubjectAccessReview
}

func (r *reviewer) failing(n int32) error {
	if r.fail > 0 && n <= r.fail {
		return r.err
	}
	return nil
}

type tokenSide struct{ *reviewer }

func (r tokenSide) Create(_ context.Context, tr *authnv1.TokenReview, _ metav1.CreateOptions) (*authnv1.TokenReview, error) {
	if err := r.failing(r.tokenCalls.Add(1)); err != nil {
		return nil, err
	}
	out := tr.DeepCopy()
	if tr.Spec.Token == scraperToken {
		out.Status = authnv1.TokenReviewStatus{Authenticated: true, User: authnv1.UserInfo{
			Username: "system:serviceaccount:monitoring:scraper", UID: "u-1",
			Groups: []string{"system:serviceaccounts", "system:authenticated"},
			Extra:  map[string]authnv1.ExtraValue{"authentication.kubernetes.io/pod-name": {"prom-0"}},
		}}
	} else {
		out.Status = authnv1.TokenReviewStatus{Error: "invalid bearer token"}
	}
	return out, nil
}

type accessSide struct{ *reviewer }

func (r accessSide) Create(_ context.Context, sar *authzv1.SubjectAccessReview, _ metav1.CreateOptions) (*authzv1.SubjectAccessReview, error) {
	if err := r.failing(r.accessCalls.Add(1)); err != nil {
		return nil, err
	}
	r.lastAccess = sar.DeepCopy()
	out := sar.DeepCopy()
	na := sar.Spec.NonResourceAttributes
	out.Status.Allowed = sar.Spec.User == "system:serviceaccount:monitoring:scraper" && na != nil && na.Path == "/metrics" && na.Verb == "get"
	return out, nil
}

type rig struct {
	*reviewer
	gate    *Gate
	handler http.Handler
	logs    *bytes.Buffer
	now     time.Time
	// seen is the Authorization header the metrics handler received.
	seen atomic.Value
}

func newRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{reviewer: &reviewer{}, logs: &bytes.Buffer{}, now: time.Unix(1_800_000_000, 0)}
	r.gate = New(tokenSide{r.reviewer}, accessSide{r.reviewer})
	r.gate.now = func() time.Time { return r.now }
	r.gate.retryDelay = []time.Duration{time.Millisecond, time.Millisecond}
	log := funcr.New(func(prefix, args string) { r.logs.WriteString(prefix + args + "\n") }, funcr.Options{Verbosity: 10})
	h, err := r.gate.Filter(log, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.seen.Store(req.Header.Get("Authorization"))
		_, _ = w.Write([]byte("# metrics\n"))
	}))
	if err != nil {
		t.Fatal(err)
	}
	r.handler = h
	return r
}

func (r *rig) get(method, path, authorization string) int {
	req := httptest.NewRequest(method, path, nil)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	w := httptest.NewRecorder()
	r.handler.ServeHTTP(w, req)
	return w.Code
}

func TestWhoMayReadTheMetrics(t *testing.T) {
	for _, c := range []struct {
		name, method, path, authorization string
		want                              int
		reviews                           bool
	}{
		{"no Authorization header", http.MethodGet, "/metrics", "", http.StatusUnauthorized, false},
		{"another scheme", http.MethodGet, "/metrics", "Basic " + scraperToken, http.StatusUnauthorized, false},
		{"a bearer scheme without a token", http.MethodGet, "/metrics", "Bearer   ", http.StatusUnauthorized, false},
		{"a token the API server refuses", http.MethodGet, "/metrics", "Bearer not-a-token", http.StatusUnauthorized, true},
		{"the scraper", http.MethodGet, "/metrics", "Bearer " + scraperToken, http.StatusOK, true},
		{"the scheme in lower case", http.MethodGet, "/metrics", "bearer " + scraperToken, http.StatusOK, true},
		{"the scraper on another path", http.MethodGet, "/debug/pprof/", "Bearer " + scraperToken, http.StatusForbidden, true},
		{"the scraper with another verb", http.MethodPost, "/metrics", "Bearer " + scraperToken, http.StatusForbidden, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t)
			if got := r.get(c.method, c.path, c.authorization); got != c.want {
				t.Errorf("answered %d, want %d; logs:\n%s", got, c.want, r.logs)
			}
			if reviewed := r.tokenCalls.Load() > 0; reviewed != c.reviews {
				t.Errorf("TokenReviews made: %d", r.tokenCalls.Load())
			}
		})
	}
}

// The review asks about the caller as the API server described it, and
// the handler never sees the token.
func TestTheReviewCarriesTheWholeUser(t *testing.T) {
	r := newRig(t)
	if got := r.get(http.MethodGet, "/metrics", "Bearer "+scraperToken); got != http.StatusOK {
		t.Fatalf("answered %d", got)
	}
	s := r.lastAccess.Spec
	if s.User != "system:serviceaccount:monitoring:scraper" || s.UID != "u-1" || len(s.Groups) != 2 ||
		len(s.Extra["authentication.kubernetes.io/pod-name"]) != 1 || s.ResourceAttributes != nil {
		t.Errorf("SubjectAccessReview spec %+v", s)
	}
	if seen := r.seen.Load(); seen != "" {
		t.Errorf("the metrics handler received Authorization %q", seen)
	}
}

// Scrapes within the cache's times cost no reviews; after them, new ones.
func TestAnswersAreKeptForTheirTime(t *testing.T) {
	r := newRig(t)
	for range 3 {
		if got := r.get(http.MethodGet, "/metrics", "Bearer "+scraperToken); got != http.StatusOK {
			t.Fatalf("answered %d", got)
		}
	}
	if r.tokenCalls.Load() != 1 || r.accessCalls.Load() != 1 {
		t.Fatalf("three scrapes made %d TokenReviews and %d SubjectAccessReviews, want 1 and 1", r.tokenCalls.Load(), r.accessCalls.Load())
	}
	r.now = r.now.Add(tokenTTL)
	r.get(http.MethodGet, "/metrics", "Bearer "+scraperToken)
	if r.tokenCalls.Load() != 2 || r.accessCalls.Load() != 1 {
		t.Errorf("after %s: %d TokenReviews and %d SubjectAccessReviews, want 2 and 1", tokenTTL, r.tokenCalls.Load(), r.accessCalls.Load())
	}
	// A denial is kept for less time than an allowance.
	r.get(http.MethodGet, "/other", "Bearer "+scraperToken)
	r.now = r.now.Add(denyTTL)
	r.get(http.MethodGet, "/other", "Bearer "+scraperToken)
	if r.accessCalls.Load() != 3 {
		t.Errorf("a denial asked again after %s: %d SubjectAccessReviews, want 3", denyTTL, r.accessCalls.Load())
	}
	// A refused token is kept too: a caller retrying a wrong token does
	// not cost a review each time.
	r.get(http.MethodGet, "/metrics", "Bearer wrong")
	r.get(http.MethodGet, "/metrics", "Bearer wrong")
	if r.tokenCalls.Load() != 3 {
		t.Errorf("a refused token reviewed twice: %d TokenReviews, want 3", r.tokenCalls.Load())
	}
}

func TestFailedReviews(t *testing.T) {
	unavailable := apierrors.NewServiceUnavailable("etcd is down")
	forbidden := apierrors.NewForbidden(schema.GroupResource{Group: "authentication.k8s.io", Resource: "tokenreviews"}, "", errors.New("no RBAC"))
	for _, c := range []struct {
		name      string
		fail      int32
		err       error
		want      int
		wantCalls int32
	}{
		{"unavailable once, then answered", 1, unavailable, http.StatusOK, 2},
		{"unavailable throughout", 10, unavailable, http.StatusInternalServerError, 3},
		{"the connection failing throughout", 10, errors.New("dial tcp: connection refused"), http.StatusInternalServerError, 3},
		{"the manager may not review", 10, forbidden, http.StatusInternalServerError, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t)
			r.fail, r.err = c.fail, c.err
			if got := r.get(http.MethodGet, "/metrics", "Bearer "+scraperToken); got != c.want {
				t.Errorf("answered %d, want %d", got, c.want)
			}
			if r.tokenCalls.Load() != c.wantCalls {
				t.Errorf("%d TokenReviews, want %d", r.tokenCalls.Load(), c.wantCalls)
			}
			if strings.Contains(r.logs.String(), scraperToken) {
				t.Errorf("the token was logged:\n%s", r.logs)
			}
			// A failure is not kept: the next scrape asks again.
			before := r.tokenCalls.Load()
			r.fail = 0
			if c.want != http.StatusOK {
				if got := r.get(http.MethodGet, "/metrics", "Bearer "+scraperToken); got != http.StatusOK || r.tokenCalls.Load() != before+1 {
					t.Errorf("after the API server recovered: answered %d with %d more reviews", got, r.tokenCalls.Load()-before)
				}
			}
		})
	}
}

// Distinct tokens cannot grow the cache past its bound.
func TestTheCacheIsBounded(t *testing.T) {
	r := newRig(t)
	for i := range maxCached + 10 {
		r.get(http.MethodGet, "/metrics", "Bearer t"+strconv.Itoa(i))
	}
	if n := r.gate.users.len(); n > maxCached || n == 0 {
		t.Errorf("%d cached answers, want 1 to %d", n, maxCached)
	}
}

func TestBearer(t *testing.T) {
	for _, c := range []struct {
		header, token string
		ok            bool
	}{
		{"Bearer abc", "abc", true},
		{"BEARER abc", "abc", true},
		{"  Bearer   abc  ", "abc", true},
		{"Bearer", "", false},
		{"Bearer ", "", false},
		{"Bearerabc", "", false},
		{"Token abc", "", false},
		{"", "", false},
	} {
		if token, ok := bearer(c.header); token != c.token || ok != c.ok {
			t.Errorf("bearer(%q) = %q, %v; want %q, %v", c.header, token, ok, c.token, c.ok)
		}
	}
}

// Two users differing only in how their groups split must not share an
// answer.
func TestDecisionKeysDoNotRunTogether(t *testing.T) {
	a := decisionKey(&authnv1.UserInfo{Username: "a", Groups: []string{"b c"}}, "get", "/metrics")
	b := decisionKey(&authnv1.UserInfo{Username: "a", Groups: []string{"b", "c"}}, "get", "/metrics")
	c := decisionKey(&authnv1.UserInfo{Username: "a b", Groups: []string{"c"}}, "get", "/metrics")
	if a == b || b == c || a == c {
		t.Errorf("keys collide: %s | %s | %s", a, b, c)
	}
	same := decisionKey(&authnv1.UserInfo{Username: "a", Groups: []string{"c", "b"}}, "get", "/metrics")
	if same != b {
		t.Errorf("the order of groups changed the key: %s vs %s", same, b)
	}
}
