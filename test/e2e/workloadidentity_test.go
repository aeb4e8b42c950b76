package e2e_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/emulator"
	"github.com/entramatch/entra-match-operator/internal/emulator/jose"
)

const (
	wiClientID = "2f3e4d5c-6b7a-4980-a1b2-c3d4e5f60718"
	wiIssuer   = "https://oidc.cluster.example.test"
	wiSubject  = "system:serviceaccount:entra-match-system:controller-manager"
)

// workloadIdentityApp is the app registration trusting the cluster's service
// account issuer, and the projected token the kubelet would mount.
func workloadIdentityApp(dir string) (emulator.App, string, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return emulator.App{}, "", err
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return emulator.App{}, "", err
	}
	now := time.Now()
	token, err := jose.Sign("RS256", key, map[string]any{"kid": "cluster"}, map[string]any{
		"iss": wiIssuer, "sub": wiSubject, "aud": []string{emulator.DefaultFederatedAudience},
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	})
	if err != nil {
		return emulator.App{}, "", err
	}
	path := filepath.Join(dir, "azure-identity-token")
	if err := os.WriteFile(path, []byte(token), 0o600); err != nil {
		return emulator.App{}, "", err
	}
	return emulator.App{
		ClientID:    wiClientID,
		Permissions: []string{"User.ReadWrite.All", "Domain.Read.All", "Organization.Read.All", "RoleManagement.ReadWrite.Directory"},
		FederatedCredentials: []emulator.FederatedCredential{{Issuer: wiIssuer, Subject: wiSubject,
			PublicKeysPEM: pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})}},
	}, path, nil
}

// An EntraTenant with workload identity federation: the operator exchanges
// the projected service account token for a Graph token (no secret at all)
// and a UserMatch through that tenant hard-matches.
func TestWorkloadIdentityTenant(t *testing.T) {
	w := env(t)
	et := w.tenant("federated", "unused")
	et.Spec.Credentials = identityv1alpha1.TenantCredentials{WorkloadIdentity: &identityv1alpha1.WorkloadIdentityCredential{
		ClientID: wiClientID, TokenFile: w.tokenFile}}
	w.create(t, et)
	got := waitReady(t, w, &identityv1alpha1.EntraTenant{}, "federated", metav1.ConditionTrue, identityv1alpha1.ReasonVerified)
	if len(got.(*identityv1alpha1.EntraTenant).Status.VerifiedDomains) == 0 {
		t.Error("no verified domains read through the federated credential")
	}

	tw := w.newTwin(t, "wi", nil)
	w.userMatch(t, tw.sam, func(s *identityv1alpha1.UserMatchSpec) {
		s.TenantRef.Name = "federated"
		s.ADUser.SAMAccountName = tw.sam
	})
	w.waitUM(t, tw.sam, "Matched", func(um *identityv1alpha1.UserMatch) bool {
		return cond(um, identityv1alpha1.ConditionMatched, T, "")
	})
	if v := immutableID(w.cloud(t, tw.cloudID)); v != tw.anchor.ImmutableID() {
		t.Fatalf("immutableId = %q, want %q", v, tw.anchor.ImmutableID())
	}
}
