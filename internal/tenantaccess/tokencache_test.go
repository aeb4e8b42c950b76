package tenantaccess

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/cloud"
	"github.com/entramatch/entra-match-operator/internal/metrics"
)

// t0 is the clock of these tests.
var t0 = time.Date(2026, 3, 6, 9, 0, 0, 0, time.UTC)

var signInRef = identityv1alpha1.SecretKeyReference{Namespace: "ops", Name: "admin-signin", Key: "tokenCache"}

func signInSecret(data string) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ops", Name: "admin-signin"},
		Data: map[string][]byte{"tokenCache": []byte(data)}}
}

func newTokenCache(t *testing.T, failWrites *bool, objs ...client.Object) (*SecretTokenCache, client.Client) {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).WithInterceptorFuncs(interceptor.Funcs{
		Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
			if failWrites != nil && *failWrites {
				return errors.New("apiserver unavailable")
			}
			return c.Update(ctx, obj, opts...)
		},
	}).Build()
	now := func() time.Time { return t0 }
	return &SecretTokenCache{reader: c, writer: c, ref: signInRef, now: now}, c
}

func storedCache(t *testing.T, c client.Client) (string, string) {
	t.Helper()
	var s corev1.Secret
	if err := c.Get(context.Background(), types.NamespacedName{Namespace: "ops", Name: "admin-signin"}, &s); err != nil {
		t.Fatal(err)
	}
	return string(s.Data["tokenCache"]), s.Annotations[AnnotationTokenRefreshed]
}

func wantNoSignIn(t *testing.T, err error) {
	t.Helper()
	var ce *cloud.Error
	if !errors.As(err, &ce) || ce.Class != cloud.ClassUnauthenticated || ce.Code != cloud.CodeNoSignIn {
		t.Fatalf("err = %v, want Unauthenticated/%s", err, cloud.CodeNoSignIn)
	}
}

func TestSecretTokenCacheMissingSignIn(t *testing.T) {
	ctx := context.Background()
	c, _ := newTokenCache(t, nil)
	_, err := c.Load(ctx)
	wantNoSignIn(t, err)

	c, _ = newTokenCache(t, nil, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ops", Name: "admin-signin"}})
	_, err = c.Load(ctx)
	wantNoSignIn(t, err)
}

func TestSecretTokenCacheWritesRotationBack(t *testing.T) {
	ctx := context.Background()
	c, k := newTokenCache(t, nil, signInSecret("rt-1"))
	got, err := c.Load(ctx)
	if err != nil || string(got) != "rt-1" {
		t.Fatalf("Load = %q, %v", got, err)
	}
	okBefore := testutil.ToFloat64(metrics.SignInWrites.WithLabelValues("ok"))
	if err := c.Store(ctx, []byte("rt-2")); err != nil {
		t.Fatal(err)
	}
	if d := testutil.ToFloat64(metrics.SignInWrites.WithLabelValues("ok")) - okBefore; d != 1 {
		t.Errorf("ok write-backs counted %v, want 1", d)
	}
	if got := testutil.ToFloat64(metrics.SignInLastRefresh.WithLabelValues("ops/admin-signin")); got != float64(t0.Unix()) {
		t.Errorf("last refresh gauge = %v, want %d", got, t0.Unix())
	}
	if data, at := storedCache(t, k); data != "rt-2" || at != t0.UTC().Format(time.RFC3339) {
		t.Errorf("Secret holds %q refreshed at %q, want rt-2 at %s", data, at, t0.UTC().Format(time.RFC3339))
	}
	// A second rotation in the same process is conditional on the version
	// the first one wrote, not the one first read.
	if err := c.Store(ctx, []byte("rt-3")); err != nil {
		t.Fatal(err)
	}
	if data, _ := storedCache(t, k); data != "rt-3" {
		t.Errorf("Secret holds %q, want rt-3", data)
	}
}

// A person signing in again while the operator refreshes wins: the
// operator's write, based on the older version, is dropped and the new
// sign-in is read next.
func TestSecretTokenCacheNewSignInWins(t *testing.T) {
	ctx := context.Background()
	c, k := newTokenCache(t, nil, signInSecret("rt-1"))
	if _, err := c.Load(ctx); err != nil {
		t.Fatal(err)
	}
	fresh := signInSecret("login-2")
	var cur corev1.Secret
	if err := k.Get(ctx, types.NamespacedName{Namespace: "ops", Name: "admin-signin"}, &cur); err != nil {
		t.Fatal(err)
	}
	fresh.ResourceVersion = cur.ResourceVersion
	if err := k.Update(ctx, fresh); err != nil {
		t.Fatal(err)
	}
	replacedBefore := testutil.ToFloat64(metrics.SignInWrites.WithLabelValues("replaced"))
	if err := c.Store(ctx, []byte("rt-2")); !errors.Is(err, cloud.ErrSignInReplaced) {
		t.Fatalf("Store after a new sign-in = %v, want ErrSignInReplaced", err)
	}
	if d := testutil.ToFloat64(metrics.SignInWrites.WithLabelValues("replaced")) - replacedBefore; d != 1 {
		t.Errorf("replaced write-backs counted %v, want 1", d)
	}
	if data, _ := storedCache(t, k); data != "login-2" {
		t.Errorf("Secret holds %q, want the new sign-in", data)
	}
	if got, err := c.Load(ctx); err != nil || string(got) != "login-2" {
		t.Errorf("Load = %q, %v, want the new sign-in", got, err)
	}
}

// A rotated refresh token whose write failed is the only redeemable one: it
// is served from memory and written on the next call.
func TestSecretTokenCacheKeepsAFailedWrite(t *testing.T) {
	ctx := context.Background()
	fail := false
	c, k := newTokenCache(t, &fail, signInSecret("rt-1"))
	if _, err := c.Load(ctx); err != nil {
		t.Fatal(err)
	}
	fail = true
	err := c.Store(ctx, []byte("rt-2"))
	if cloud.ClassOf(err) != cloud.ClassTransient {
		t.Fatalf("Store with a failing API server = %v, want Transient", err)
	}
	if got, err := c.Load(ctx); err != nil || string(got) != "rt-2" {
		t.Fatalf("Load while the write fails = %q, %v, want the pending rt-2", got, err)
	}
	fail = false
	if got, err := c.Load(ctx); err != nil || string(got) != "rt-2" {
		t.Fatalf("Load = %q, %v", got, err)
	}
	if data, _ := storedCache(t, k); data != "rt-2" {
		t.Errorf("Secret holds %q after the retry, want rt-2", data)
	}
}

// A change of the Secret's metadata alone does not cost the rotated token:
// the write is made again on the new version.
func TestSecretTokenCacheRetriesAfterAMetadataChange(t *testing.T) {
	ctx := context.Background()
	c, k := newTokenCache(t, nil, signInSecret("rt-1"))
	if _, err := c.Load(ctx); err != nil {
		t.Fatal(err)
	}
	var cur corev1.Secret
	if err := k.Get(ctx, types.NamespacedName{Namespace: "ops", Name: "admin-signin"}, &cur); err != nil {
		t.Fatal(err)
	}
	cur.Labels = map[string]string{"team": "identity"}
	if err := k.Update(ctx, &cur); err != nil {
		t.Fatal(err)
	}
	if err := c.Store(ctx, []byte("rt-2")); err != nil {
		t.Fatalf("Store after a label change: %v", err)
	}
	if data, _ := storedCache(t, k); data != "rt-2" {
		t.Errorf("Secret holds %q, want rt-2", data)
	}
}

func TestSecretTokenCacheForbiddenNeedsAPerson(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	k := fake.NewClientBuilder().WithScheme(scheme).WithInterceptorFuncs(interceptor.Funcs{
		Get: func(context.Context, client.WithWatch, client.ObjectKey, client.Object, ...client.GetOption) error {
			return apierrors.NewForbidden(corev1.Resource("secrets"), "admin-signin", errors.New("RBAC"))
		},
	}).Build()
	c := &SecretTokenCache{reader: k, writer: k, ref: signInRef, now: time.Now}
	if _, err := c.Load(context.Background()); cloud.ClassOf(err) != cloud.ClassPermission {
		t.Errorf("Load refused by RBAC = %v, want Permission", err)
	}
}
