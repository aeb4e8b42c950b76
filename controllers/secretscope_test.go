package controllers

import (
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
)

// getCounter answers every Get and counts them, so a test sees whether a
// request would have reached the API server.
type getCounter struct {
	client.Reader
	gets int
}

func (g *getCounter) Get(context.Context, client.ObjectKey, client.Object, ...client.GetOption) error {
	g.gets++
	return nil
}

// A resource may name any Secret; only the allowed namespaces are read, and
// a refusal never reaches the API server.
func TestSecretScopeRefusesOtherNamespaces(t *testing.T) {
	inner := &getCounter{}
	s := newSecretScope(inner, []string{"entra-match-system"}, nil)
	ctx := context.Background()
	if err := s.Get(ctx, types.NamespacedName{Namespace: "entra-match-system", Name: "app"}, &corev1.Secret{}); err != nil {
		t.Fatalf("allowed namespace: %v", err)
	}
	for _, ns := range []string{"kube-system", "default", ""} {
		err := s.Get(ctx, types.NamespacedName{Namespace: ns, Name: "admin-token"}, &corev1.Secret{})
		var se *secretError
		if !errors.As(err, &se) || se.outcome().reason != identityv1alpha1.ReasonSecretNotAllowed || !strings.Contains(se.msg, "entra-match-system") {
			t.Errorf("namespace %q: %v, want SecretNotAllowed naming the allowed namespace", ns, err)
		}
	}
	if err := s.List(ctx, &corev1.SecretList{}); err == nil {
		t.Error("listing Secrets through the scope was allowed")
	}
	// Other kinds pass through untouched.
	if err := s.Get(ctx, types.NamespacedName{Name: "contoso"}, &identityv1alpha1.EntraTenant{}); err != nil {
		t.Fatal(err)
	}
	if inner.gets != 2 {
		t.Errorf("%d Gets reached the API server, want 2 (the allowed Secret and the EntraTenant)", inner.gets)
	}
}

func fakeJWT(aud string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256"}`)) + "." + enc([]byte(`{"aud":["`+aud+`"],"sub":"system:serviceaccount:x:y"}`)) + ".c2ln"
}

// workloadIdentity.tokenFile may name only a projected federation token in
// an allowed directory, never the manager's own service account token.
func TestTokenFilePolicy(t *testing.T) {
	dir := t.TempDir()
	allowed := filepath.Join(dir, "azure")
	if err := os.MkdirAll(allowed, 0o700); err != nil {
		t.Fatal(err)
	}
	write := func(path, content string) string {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	good := write(filepath.Join(allowed, "azure-identity-token"), fakeJWT(federatedAudience))
	apiServer := write(filepath.Join(allowed, "sa-token"), fakeJWT("https://kubernetes.default.svc"))
	outside := write(filepath.Join(dir, "elsewhere"), fakeJWT(federatedAudience))
	link := filepath.Join(allowed, "link")
	if err := os.Symlink(outside, link); err != nil {
		t.Fatal(err)
	}
	s := newSecretScope(nil, []string{"ns"}, []string{allowed})
	for _, c := range []struct {
		name, path, why string
	}{
		{"projected federation token", good, ""},
		{"a token for the API server", apiServer, "does not hold a token for audience"},
		{"outside the allowed directories", outside, "outside the directories"},
		{"a symlink out of the allowed directory", link, "outside the directories"},
		{"climbing out with ..", filepath.Join(allowed, "..", "elsewhere"), "outside the directories"},
		{"the service account mount", "/var/run/secrets/kubernetes.io/serviceaccount/token", "service account token"},
		{"relative", "azure/azure-identity-token", "absolute"},
	} {
		err := s.checkTokenFile(c.path)
		if c.why == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.why) {
			t.Errorf("%s: %v, want a refusal saying %q", c.name, err, c.why)
		}
	}
	// A reader without the policy allows no token file at all.
	tenant := &identityv1alpha1.EntraTenant{Spec: identityv1alpha1.EntraTenantSpec{Credentials: identityv1alpha1.TenantCredentials{
		WorkloadIdentity: &identityv1alpha1.WorkloadIdentityCredential{ClientID: "c", TokenFile: good}}}}
	if _, err := tenantConnection(context.Background(), &getCounter{}, tenant); err == nil {
		t.Error("a plain reader allowed a token file")
	}
	if c, err := tenantConnection(context.Background(), s, tenant); err != nil || c.FederatedTokenFile != good {
		t.Errorf("the scope refused an allowed token file: %v", err)
	}
}
