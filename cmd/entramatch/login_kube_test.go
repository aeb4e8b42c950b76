//go:build !unit

// Excluded from make unit (-tags unit): it needs a kube-apiserver.

package main

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/emulator"
	"github.com/entramatch/entra-match-operator/internal/tenantaccess"
	"github.com/entramatch/entra-match-operator/internal/testenv/entra"
	"github.com/entramatch/entra-match-operator/internal/testenv/kube"
)

type approver struct {
	t   *testing.T
	em  *emulator.Server
	upn string

	mu  sync.Mutex
	buf bytes.Buffer
}

var userCode = regexp.MustCompile(`enter the code (\S+)`)

func (a *approver) Write(p []byte) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.buf.Write(p)
	if m := userCode.FindSubmatch(p); m != nil {
		if err := a.em.ApproveDeviceCode(string(m[1]), a.upn); err != nil {
			a.t.Errorf("approving %s: %v", m[1], err)
		}
	}
	return len(p), nil
}

// The command signs in through the real device code flow against the
// emulator and stores the sign-in in a real API server.
func TestLoginStoresSignIn(t *testing.T) {
	k, kubeconfig := startKube(t)
	const publicID = "0c9b8a7f-6e5d-4c3b-9a2f-1e0d9c8b7a6f"
	env := entra.Start(t, entra.WithApp(emulator.App{ClientID: publicID, PublicClient: true,
		DelegatedPermissions: []string{"OnPremDirectorySynchronization.ReadWrite.All"}}))
	if _, err := env.Server.AddUser(emulator.User{UserPrincipalName: "admin@contoso.com", DisplayName: "Admin", MailNickname: "admin"}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := k.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ops"}}); err != nil {
		t.Fatal(err)
	}
	tenant := &identityv1alpha1.EntraTenant{
		ObjectMeta: metav1.ObjectMeta{Name: "contoso"},
		Spec: identityv1alpha1.EntraTenantSpec{
			TenantID: env.TenantID,
			Cloud:    identityv1alpha1.CloudCustom,
			Custom:   &identityv1alpha1.CustomCloud{GraphURL: env.URL + "/v1.0", AuthorityURL: env.URL, CABundle: string(env.CAPEM)},
			Credentials: identityv1alpha1.TenantCredentials{ClientSecret: &identityv1alpha1.ClientSecretCredential{ClientID: env.ClientID,
				SecretRef: identityv1alpha1.SecretKeyReference{Namespace: "ops", Name: "app", Key: "clientSecret"}}},
		},
	}
	if err := k.Client.Create(ctx, tenant); err != nil {
		t.Fatal(err)
	}

	var out bytes.Buffer
	a := &approver{t: t, em: env.Server, upn: "admin@contoso.com"}
	code := run(ctx, "entramatch", []string{"login", "--tenant", "contoso", "--secret", "ops/admin-signin", "--client-id", publicID,
		"--configure-tenant", "--kubeconfig", kubeconfig}, strings.NewReader(""), &out, a)
	if code != 0 {
		t.Fatalf("exit %d; stdout %q; stderr %q", code, out.String(), a.buf.String())
	}
	if !strings.Contains(out.String(), "Signed in as admin@contoso.com") || !strings.Contains(out.String(), "spec.delegated set") {
		t.Errorf("stdout = %q", out.String())
	}
	var s corev1.Secret
	if err := k.Client.Get(ctx, types.NamespacedName{Namespace: "ops", Name: "admin-signin"}, &s); err != nil {
		t.Fatal(err)
	}
	// MSAL's cache format: the refresh token sits under "RefreshToken".
	if !bytes.Contains(s.Data[tenantaccess.DefaultKey], []byte(`"RefreshToken"`)) || s.Annotations[tenantaccess.AnnotationSignedInUser] != "admin@contoso.com" {
		t.Errorf("Secret annotations %v, %d cache bytes", s.Annotations, len(s.Data[tenantaccess.DefaultKey]))
	}
	if err := k.Client.Get(ctx, types.NamespacedName{Name: "contoso"}, tenant); err != nil {
		t.Fatal(err)
	}
	if d := tenant.Spec.Delegated; d == nil || d.SecretRef.Name != "admin-signin" || d.ClientID != publicID {
		t.Errorf("spec.delegated = %+v", d)
	}
}

// startKube starts a kube-apiserver for one test and writes a kubeconfig
// for it.
func startKube(t *testing.T) (*kube.Env, string) {
	t.Helper()
	k, err := kube.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k.Stop() })
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := k.Kubeconfig(kubeconfig); err != nil {
		t.Fatal(err)
	}
	return k, kubeconfig
}
