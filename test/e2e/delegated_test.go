package e2e_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/cloud"
	"github.com/entramatch/entra-match-operator/internal/emulator"
	"github.com/entramatch/entra-match-operator/internal/graph"
	"github.com/entramatch/entra-match-operator/internal/tenantaccess"
)

const publicClientID = "0c9b8a7f-6e5d-4c3b-9a2f-1e0d9c8b7a6f"

// newDelegatedTenant is a tenant that refuses app-only access to its
// synchronization settings (as the GET page of
// https://learn.microsoft.com/graph/api/onpremisesdirectorysynchronization-get
// says) and issues two-minute access tokens, so that every token request
// redeems and rotates the stored refresh token. It has a Global
// Administrator and a helpdesk user who is not one.
func (w *world) newDelegatedTenant(t *testing.T) (*syncTenant, string, string) {
	t.Helper()
	st := w.newSyncTenant(t, func(c *emulator.Config) {
		c.AppOnlySyncFeatures = false
		c.AccessTokenLifetime = 2 * time.Minute
		c.Apps = append(c.Apps, emulator.App{ClientID: publicClientID, PublicClient: true,
			DelegatedPermissions: []string{"OnPremDirectorySynchronization.ReadWrite.All", "User.Read"}})
	})
	admin, helpdesk := "admin@"+w.dc.DNSDomain, "helpdesk@"+w.dc.DNSDomain
	var adminID string
	for _, upn := range []string{admin, helpdesk} {
		name, _, _ := strings.Cut(upn, "@")
		u, err := st.em.AddUser(emulator.User{UserPrincipalName: upn, DisplayName: name, MailNickname: name, AccountEnabled: ptr(true)})
		if err != nil {
			t.Fatal(err)
		}
		if upn == admin {
			adminID = u.ID
		}
	}
	if err := st.em.Update(func(s *emulator.Snapshot) error {
		s.RoleAssignments = append(s.RoleAssignments, emulator.RoleAssignment{ID: "ra-admin", PrincipalID: adminID,
			RoleDefinitionID: emulator.RoleGlobalAdministrator, DirectoryScopeID: "/"})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return st, admin, helpdesk
}

// login runs what `entramatch login` runs, with upn approving the device
// code at the emulator's verification endpoint.
func (w *world) login(t *testing.T, st *syncTenant, upn string, opts tenantaccess.LoginOptions) (tenantaccess.LoginResult, []byte) {
	t.Helper()
	var cache []byte
	signIn := func(ctx context.Context, conn cloud.Connection, show func(string, string)) ([]byte, string, error) {
		cfg, err := graph.ConfigFor(conn)
		if err != nil {
			return nil, "", err
		}
		res, err := graph.SignInWithDeviceCode(ctx, cfg, func(msg, code string) {
			show(msg, code)
			if err := st.em.ApproveDeviceCode(code, upn); err != nil {
				t.Errorf("approving the device code as %s: %v", upn, err)
			}
		})
		cache = res.Cache
		return res.Cache, res.User, err
	}
	opts.Tenant = st.name
	var out bytes.Buffer
	res, err := tenantaccess.Login(ctxFor(t), w.k8s, opts, signIn, &out)
	if err != nil {
		t.Fatalf("login as %s: %v", upn, err)
	}
	if res.User != upn || !strings.Contains(out.String(), "enter the code") {
		t.Fatalf("login result %+v, instructions %q", res, out.String())
	}
	return res, cache
}

func (w *world) signInSecret(t *testing.T, name string) corev1.Secret {
	t.Helper()
	var s corev1.Secret
	if err := w.k8s.Get(ctxFor(t), types.NamespacedName{Namespace: ns, Name: name}, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func readyMessage(tsf *identityv1alpha1.TenantSyncFeatures) string {
	if c := meta.FindStatusCondition(tsf.Status.Conditions, identityv1alpha1.ConditionReady); c != nil {
		return c.Message
	}
	return ""
}

// The tenant refuses app-only access; the condition says to configure a
// delegated sign-in. A helpdesk user's sign-in is refused with a message
// naming them; a Global Administrator's sign-in makes the flags governed.
// Each refresh rotates the refresh token, which the operator writes back to
// the Secret, so that it keeps working after the token it started from is
// spent.
func TestDelegatedSignInAfterAppOnlyRefused(t *testing.T) {
	w := env(t)
	st, admin, helpdesk := w.newDelegatedTenant(t)
	block := identityv1alpha1.FeatureBlockSoftMatch
	name := st.name + "-features"
	w.syncFeatures(t, st.name, name, func(s *identityv1alpha1.TenantSyncFeaturesSpec) {
		s.Features = specFlags(map[identityv1alpha1.SyncFeature]bool{block: true})
	})

	tsf := w.waitTSF(t, name, "app-only access refused", func(tsf *identityv1alpha1.TenantSyncFeatures) bool {
		return tsfCond(tsf, identityv1alpha1.ConditionReady, metav1.ConditionFalse, identityv1alpha1.ReasonMissingPermission)
	})
	for _, want := range []string{"refuses app-only access", "entramatch login --tenant " + st.name, "spec.delegated.secretRef"} {
		if msg := readyMessage(tsf); !strings.Contains(msg, want) {
			t.Errorf("app-only refusal lacks %q: %s", want, msg)
		}
	}

	secret := st.name + "-signin"
	res, _ := w.login(t, st, helpdesk, tenantaccess.LoginOptions{Secret: types.NamespacedName{Namespace: ns, Name: secret},
		ClientID: publicClientID, Configure: true})
	if !res.Configured {
		t.Fatalf("login did not configure the tenant: %+v", res)
	}
	w.waitTSF(t, name, "the helpdesk sign-in refused", func(tsf *identityv1alpha1.TenantSyncFeatures) bool {
		return tsfCond(tsf, identityv1alpha1.ConditionReady, metav1.ConditionFalse, identityv1alpha1.ReasonMissingPermission) &&
			strings.Contains(readyMessage(tsf), "delegated sign-in of "+helpdesk) && strings.Contains(readyMessage(tsf), "active Global Administrator")
	})
	if st.flags(t)[string(block)] {
		t.Fatal("a refused sign-in changed the tenant")
	}

	// Signing in again replaces the Secret's sign-in; no spec change.
	_, loginCache := w.login(t, st, admin, tenantaccess.LoginOptions{})
	if tsf := w.waitTSF(t, name, "Ready through the administrator's sign-in", tsfReady); tsf.Status.Access != identityv1alpha1.SyncAccessDelegated {
		t.Errorf("status.access = %q, want Delegated", tsf.Status.Access)
	}
	if !st.flags(t)[string(block)] {
		t.Fatal("blockSoftMatchEnabled was not set through the delegated sign-in")
	}

	// The operator redeemed the login's refresh token and stored the new one.
	eventually(t, func() (bool, string) {
		s := w.signInSecret(t, secret)
		return !bytes.Equal(s.Data[tenantaccess.DefaultKey], loginCache) && s.Annotations[tenantaccess.AnnotationTokenRefreshed] != "",
			"the operator did not write a rotated refresh token back to the Secret"
	})
	// The EntraTenant shows who signed in, from the Secret's annotations.
	tenant := w.waitSignIn(t, st.name, metav1.ConditionTrue, identityv1alpha1.ReasonSignedIn, func(tn *identityv1alpha1.EntraTenant) bool {
		d := tn.Status.Delegated
		return d != nil && d.User == admin && d.SignedInTime != nil && d.LastRefreshTime != nil
	})
	spent := graph.Config{Endpoints: graph.Endpoints{GraphURL: st.em.URL() + "/v1.0", AuthorityURL: st.em.URL(), CAPEM: st.em.CACertPEM(),
		Scope: "https://graph.microsoft.com/.default"}, Credential: graph.Credential{TenantID: tenant.Spec.TenantID, ClientID: publicClientID,
		Delegated: &graph.Delegated{Cache: staticCache(loginCache), CacheID: "spent"}}}
	c, err := graph.New(spent)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.SyncSettings(context.Background(), tenant.Spec.TenantID)
	var ce *cloud.Error
	if !errors.As(err, &ce) || ce.Code != "invalid_grant" {
		t.Errorf("the login's refresh token should be spent after rotation, got %v", err)
	}

	// Drift is still corrected several refreshes later: each rotated token
	// was stored, or the next refresh would have been refused.
	for i := 0; i < 2; i++ {
		st.setFlags(t, map[identityv1alpha1.SyncFeature]bool{block: false})
		eventually(t, func() (bool, string) {
			return st.flags(t)[string(block)], "drift of blockSoftMatchEnabled not corrected through the delegated sign-in"
		})
	}
	w.waitTSF(t, name, "still Ready", tsfReady)
}

// Removing the sign-in Secret turns the condition to SignInRequired, naming
// the command to run.
func TestDelegatedSignInMissing(t *testing.T) {
	w := env(t)
	st, _, _ := w.newDelegatedTenant(t)
	var tenant identityv1alpha1.EntraTenant
	if err := w.k8s.Get(ctxFor(t), types.NamespacedName{Name: st.name}, &tenant); err != nil {
		t.Fatal(err)
	}
	base := tenant.DeepCopy()
	tenant.Spec.Delegated = &identityv1alpha1.DelegatedCredentials{ClientID: publicClientID,
		SecretRef: identityv1alpha1.SecretKeyReference{Namespace: ns, Name: st.name + "-nobody", Key: "tokenCache"}}
	if err := w.k8s.Patch(ctxFor(t), &tenant, client.MergeFrom(base)); err != nil {
		t.Fatal(err)
	}
	name := st.name + "-features"
	w.syncFeatures(t, st.name, name, nil)
	tsf := w.waitTSF(t, name, "SignInRequired", func(tsf *identityv1alpha1.TenantSyncFeatures) bool {
		return tsfCond(tsf, identityv1alpha1.ConditionReady, metav1.ConditionFalse, identityv1alpha1.ReasonSignInRequired)
	})
	for _, want := range []string{st.name + "-nobody", "does not exist", "entramatch login --tenant " + st.name} {
		if msg := readyMessage(tsf); !strings.Contains(msg, want) {
			t.Errorf("message lacks %q: %s", want, msg)
		}
	}
	w.waitTSFEvent(t, name, identityv1alpha1.ReasonSignInRequired, "entramatch login --tenant "+st.name)
	got := w.waitSignIn(t, st.name, metav1.ConditionFalse, identityv1alpha1.ReasonSignInRequired, nil)
	if got.Status.Delegated != nil {
		t.Errorf("status.delegated = %+v without a sign-in", got.Status.Delegated)
	}

	// Without spec.delegated the condition goes away.
	base = got.DeepCopy()
	got.Spec.Delegated = nil
	if err := w.k8s.Patch(ctxFor(t), got, client.MergeFrom(base)); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() (bool, string) {
		var tn identityv1alpha1.EntraTenant
		err := w.k8s.Get(ctxFor(t), types.NamespacedName{Name: st.name}, &tn)
		c := meta.FindStatusCondition(tn.Status.Conditions, identityv1alpha1.ConditionDelegatedSignIn)
		return err == nil && c == nil && tn.Status.Delegated == nil, fmt.Sprintf("DelegatedSignIn still %+v (err %v)", c, err)
	})
}

// waitSignIn waits for the EntraTenant's DelegatedSignIn condition.
func (w *world) waitSignIn(t *testing.T, name string, status metav1.ConditionStatus, reason string, ok func(*identityv1alpha1.EntraTenant) bool) *identityv1alpha1.EntraTenant {
	t.Helper()
	var tn identityv1alpha1.EntraTenant
	eventually(t, func() (bool, string) {
		err := w.k8s.Get(ctxFor(t), types.NamespacedName{Name: name}, &tn)
		c := meta.FindStatusCondition(tn.Status.Conditions, identityv1alpha1.ConditionDelegatedSignIn)
		done := err == nil && c != nil && c.Status == status && c.Reason == reason && (ok == nil || ok(&tn))
		return done, fmt.Sprintf("EntraTenant %s: waiting for DelegatedSignIn %s/%s; err=%v status=%s delegated=%+v",
			name, status, reason, err, describeStatus(tn.Status.Conditions), tn.Status.Delegated)
	})
	return &tn
}

// staticCache serves a fixed token cache and discards writes.
type staticCache []byte

func (s staticCache) Load(context.Context) ([]byte, error) { return s, nil }
func (s staticCache) Store(context.Context, []byte) error  { return nil }
