package tenantaccess

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
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
)

const (
	appID    = "3f0e8d2c-1b4a-4d6e-9f8a-7b6c5d4e3f21"
	publicID = "0c9b8a7f-6e5d-4c3b-9a2f-1e0d9c8b7a6f"
)

var signedInAt = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func tenant(delegated *identityv1alpha1.DelegatedCredentials) *identityv1alpha1.EntraTenant {
	return &identityv1alpha1.EntraTenant{
		ObjectMeta: metav1.ObjectMeta{Name: "contoso"},
		Spec: identityv1alpha1.EntraTenantSpec{
			TenantID: "7c1d9f4e-2b3a-4c5d-8e6f-0a1b2c3d4e5f",
			Cloud:    identityv1alpha1.CloudCustom,
			Custom:   &identityv1alpha1.CustomCloud{GraphURL: "https://graph.example/v1.0", AuthorityURL: "https://login.example", CABundle: "CA"},
			Credentials: identityv1alpha1.TenantCredentials{ClientSecret: &identityv1alpha1.ClientSecretCredential{
				ClientID: appID, SecretRef: identityv1alpha1.SecretKeyReference{Namespace: "ops", Name: "app", Key: "clientSecret"}}},
			Delegated: delegated,
		},
	}
}

func newClient(t *testing.T, objs ...client.Object) client.Client {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := identityv1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	return fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).Build()
}

// fakeSignIn records the connection it was given and signs in alice.
type fakeSignIn struct{ conn cloud.Connection }

func (f *fakeSignIn) run(_ context.Context, conn cloud.Connection, show func(string, string)) ([]byte, string, error) {
	f.conn = conn
	show("open https://login.example/device and enter ABCD-EFGH", "ABCD-EFGH")
	return []byte("cache-bytes"), "alice@contoso.com", nil
}

func secretOf(t *testing.T, c client.Client, ns, name string) corev1.Secret {
	t.Helper()
	var s corev1.Secret
	if err := c.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, &s); err != nil {
		t.Fatalf("Secret %s/%s: %v", ns, name, err)
	}
	return s
}

func TestLoginCreatesSecretAndConfiguresTenant(t *testing.T) {
	c := newClient(t, tenant(nil))
	var out bytes.Buffer
	f := &fakeSignIn{}
	res, err := Login(context.Background(), c, LoginOptions{Tenant: "contoso", Secret: types.NamespacedName{Namespace: "ops", Name: "admin-signin"},
		ClientID: publicID, Configure: true, Now: func() time.Time { return signedInAt }}, f.run, &out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "ABCD-EFGH") {
		t.Errorf("instructions not shown: %q", out.String())
	}
	wantConn := cloud.Connection{TenantID: "7c1d9f4e-2b3a-4c5d-8e6f-0a1b2c3d4e5f", Cloud: "Custom", GraphURL: "https://graph.example/v1.0",
		AuthorityURL: "https://login.example", CAPEM: []byte("CA"), Delegated: &cloud.DelegatedAccess{ClientID: publicID}}
	if diff := cmp.Diff(wantConn, f.conn, cmp.Comparer(func(a, b cloud.TokenCache) bool { return a == b })); diff != "" {
		t.Errorf("connection (-want +got):\n%s", diff)
	}
	s := secretOf(t, c, "ops", "admin-signin")
	if string(s.Data[DefaultKey]) != "cache-bytes" || s.Annotations[AnnotationSignedInUser] != "alice@contoso.com" ||
		s.Annotations[AnnotationSignedInAt] != "2026-11-25T12:00:00Z" || s.Annotations[AnnotationClientID] != publicID {
		t.Errorf("Secret = %v %v", s.Annotations, s.Data)
	}
	var got identityv1alpha1.EntraTenant
	if err := c.Get(context.Background(), types.NamespacedName{Name: "contoso"}, &got); err != nil {
		t.Fatal(err)
	}
	want := &identityv1alpha1.DelegatedCredentials{ClientID: publicID,
		SecretRef: identityv1alpha1.SecretKeyReference{Namespace: "ops", Name: "admin-signin", Key: DefaultKey}}
	if diff := cmp.Diff(want, got.Spec.Delegated); diff != "" || !res.Configured || res.Unused {
		t.Errorf("spec.delegated (-want +got):\n%s\nresult %+v", diff, res)
	}
}

// Signing in again replaces only the token cache key and the sign-in
// annotations, and defaults to the tenant's own spec.delegated.
func TestLoginAgainKeepsTheRestOfTheSecret(t *testing.T) {
	ref := identityv1alpha1.SecretKeyReference{Namespace: "ops", Name: "admin-signin", Key: "cache"}
	old := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ops", Name: "admin-signin",
		Labels: map[string]string{"team": "identity"}, Annotations: map[string]string{"note": "keep"}},
		Data: map[string][]byte{"cache": []byte("old"), "other": []byte("keep")}}
	c := newClient(t, tenant(&identityv1alpha1.DelegatedCredentials{SecretRef: ref, ClientID: publicID}), old)
	f := &fakeSignIn{}
	res, err := Login(context.Background(), c, LoginOptions{Tenant: "contoso"}, f.run, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if f.conn.Delegated.ClientID != publicID || res.Configured || res.Unused {
		t.Errorf("client id %s, result %+v", f.conn.Delegated.ClientID, res)
	}
	s := secretOf(t, c, "ops", "admin-signin")
	if string(s.Data["cache"]) != "cache-bytes" || string(s.Data["other"]) != "keep" || s.Labels["team"] != "identity" ||
		s.Annotations["note"] != "keep" || s.Annotations[AnnotationSignedInUser] != "alice@contoso.com" {
		t.Errorf("Secret = labels %v annotations %v data %v", s.Labels, s.Annotations, s.Data)
	}
}

func TestLoginRefusals(t *testing.T) {
	f := &fakeSignIn{}
	ctx := context.Background()
	if _, err := Login(ctx, newClient(t), LoginOptions{Tenant: "contoso"}, f.run, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), `EntraTenant "contoso" does not exist`) {
		t.Errorf("missing tenant: %v", err)
	}
	if _, err := Login(ctx, newClient(t, tenant(nil)), LoginOptions{Tenant: "contoso"}, f.run, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "no spec.delegated.secretRef") {
		t.Errorf("no Secret named: %v", err)
	}
	tlsSecret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ops", Name: "tls"}, Type: corev1.SecretTypeTLS}
	notAsked := &fakeSignIn{}
	_, err := Login(ctx, newClient(t, tenant(nil), tlsSecret), LoginOptions{Tenant: "contoso", Secret: types.NamespacedName{Namespace: "ops", Name: "tls"}}, notAsked.run, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "Opaque") || notAsked.conn.TenantID != "" {
		t.Errorf("TLS Secret: %v (sign-in run: %t)", err, notAsked.conn.TenantID != "")
	}
	failing := func(context.Context, cloud.Connection, func(string, string)) ([]byte, string, error) {
		return nil, "", errors.New("authorization_declined")
	}
	c := newClient(t, tenant(nil))
	if _, err := Login(ctx, c, LoginOptions{Tenant: "contoso", Secret: types.NamespacedName{Namespace: "ops", Name: "s"}}, failing, &bytes.Buffer{}); err == nil {
		t.Error("a declined sign-in must fail")
	}
	var s corev1.Secret
	if err := c.Get(ctx, types.NamespacedName{Namespace: "ops", Name: "s"}, &s); err == nil {
		t.Error("a declined sign-in must store nothing")
	}
}

// Without --configure-tenant the EntraTenant is left to its owner (Git).
func TestLoginLeavesTenantAloneUnlessAsked(t *testing.T) {
	c := newClient(t, tenant(nil))
	res, err := Login(context.Background(), c, LoginOptions{Tenant: "contoso", Secret: types.NamespacedName{Namespace: "ops", Name: "s"}}, (&fakeSignIn{}).run, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	var got identityv1alpha1.EntraTenant
	if err := c.Get(context.Background(), types.NamespacedName{Name: "contoso"}, &got); err != nil {
		t.Fatal(err)
	}
	if got.Spec.Delegated != nil || !res.Unused || res.Configured {
		t.Errorf("spec.delegated = %+v, result %+v", got.Spec.Delegated, res)
	}
}

// The operator writing a rotated token of the old sign-in at the same
// moment does not make the person sign in again: the write is retried.
func TestLoginRetriesAConflict(t *testing.T) {
	ref := identityv1alpha1.SecretKeyReference{Namespace: "ops", Name: "admin-signin", Key: DefaultKey}
	old := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ops", Name: "admin-signin"}, Data: map[string][]byte{DefaultKey: []byte("old")}}
	base := newClient(t, tenant(&identityv1alpha1.DelegatedCredentials{SecretRef: ref}), old)
	conflicts := 0
	c := interceptor.NewClient(base.(client.WithWatch), interceptor.Funcs{
		Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
			if _, ok := obj.(*corev1.Secret); ok && conflicts == 0 {
				conflicts++
				return apierrors.NewConflict(corev1.Resource("secrets"), obj.GetName(), errors.New("the object has been modified"))
			}
			return c.Update(ctx, obj, opts...)
		},
	})
	if _, err := Login(context.Background(), c, LoginOptions{Tenant: "contoso"}, (&fakeSignIn{}).run, &bytes.Buffer{}); err != nil {
		t.Fatalf("login with one conflict: %v", err)
	}
	if s := secretOf(t, base, "ops", "admin-signin"); string(s.Data[DefaultKey]) != "cache-bytes" || conflicts != 1 {
		t.Errorf("Secret holds %q after %d conflicts", s.Data[DefaultKey], conflicts)
	}
}
