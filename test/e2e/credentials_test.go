package e2e_test

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
)

// Wrong credentials on both sides show as InvalidCredentials, and fixing
// the Secret (rotation) makes the resources Ready without touching them.
func TestWrongCredentialsAndRotation(t *testing.T) {
	w := env(t)
	tenantSecret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "rotating-app", Namespace: ns},
		StringData: map[string]string{"clientSecret": "wrong"}}
	adSecret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "rotating-ad", Namespace: ns},
		StringData: map[string]string{"password": "wrong-Passw0rd"}}
	w.create(t, tenantSecret)
	w.create(t, adSecret)
	w.create(t, w.tenant("rotating", "rotating-app"))
	w.create(t, w.directory("rotating", "rotating-ad"))

	waitReady(t, w, &identityv1alpha1.EntraTenant{}, "rotating", metav1.ConditionFalse, identityv1alpha1.ReasonInvalidCredentials)
	waitReady(t, w, &identityv1alpha1.ActiveDirectory{}, "rotating", metav1.ConditionFalse, identityv1alpha1.ReasonInvalidCredentials)

	tenantSecret.StringData = map[string]string{"clientSecret": clientSecret}
	adSecret.StringData = map[string]string{"password": w.dc.Password}
	if err := w.k8s.Update(ctxFor(t), tenantSecret); err != nil {
		t.Fatal(err)
	}
	if err := w.k8s.Update(ctxFor(t), adSecret); err != nil {
		t.Fatal(err)
	}
	et := waitReady(t, w, &identityv1alpha1.EntraTenant{}, "rotating", metav1.ConditionTrue, identityv1alpha1.ReasonVerified)
	if len(et.(*identityv1alpha1.EntraTenant).Status.VerifiedDomains) != 2 {
		t.Errorf("verified domains = %+v", et.(*identityv1alpha1.EntraTenant).Status.VerifiedDomains)
	}
	ad := waitReady(t, w, &identityv1alpha1.ActiveDirectory{}, "rotating", metav1.ConditionTrue, identityv1alpha1.ReasonConnected)
	if got := ad.(*identityv1alpha1.ActiveDirectory).Status.NamingContext; got != w.dc.BaseDN {
		t.Errorf("naming context = %q, want %q", got, w.dc.BaseDN)
	}
	// Each change of readiness was announced once, as an Event.
	for _, kind := range []struct{ kind, ok string }{
		{"EntraTenant", identityv1alpha1.ReasonVerified},
		{"ActiveDirectory", identityv1alpha1.ReasonConnected},
	} {
		eventually(t, func() (bool, string) {
			var seen []string
			warned, ok := 0, 0
			for _, e := range w.eventsFor(t, kind.kind, "rotating") {
				seen = append(seen, e.Type+" "+e.Reason)
				switch {
				case e.Type == corev1.EventTypeWarning && e.Reason == identityv1alpha1.ReasonInvalidCredentials:
					warned++
				case e.Type == corev1.EventTypeNormal && e.Reason == kind.ok:
					ok++
				}
			}
			return warned == 1 && ok == 1, fmt.Sprintf("%s events: %v, want one InvalidCredentials Warning and one %s", kind.kind, seen, kind.ok)
		})
	}
}

func TestMissingSecret(t *testing.T) {
	w := env(t)
	w.create(t, w.tenant("nosecret", "does-not-exist"))
	waitReady(t, w, &identityv1alpha1.EntraTenant{}, "nosecret", metav1.ConditionFalse, identityv1alpha1.ReasonSecretNotFound)
}

type withConditions interface {
	client.Object
}

func conditionsOf(o client.Object) []metav1.Condition {
	switch v := o.(type) {
	case *identityv1alpha1.EntraTenant:
		return v.Status.Conditions
	case *identityv1alpha1.ActiveDirectory:
		return v.Status.Conditions
	case *identityv1alpha1.TenantSyncFeatures:
		return v.Status.Conditions
	case *identityv1alpha1.UserMatch:
		return v.Status.Conditions
	}
	return nil
}

func waitReady(t *testing.T, w *world, obj withConditions, name string, status metav1.ConditionStatus, reason string) client.Object {
	t.Helper()
	eventually(t, func() (bool, string) {
		err := w.k8s.Get(ctxFor(t), types.NamespacedName{Name: name}, obj)
		c := meta.FindStatusCondition(conditionsOf(obj), identityv1alpha1.ConditionReady)
		return err == nil && c != nil && c.Status == status && c.Reason == reason,
			fmt.Sprintf("%T %s: Ready never became %s/%s: err=%v%s", obj, name, status, reason, err, describeStatus(conditionsOf(obj)))
	})
	return obj
}

// tls.mode Insecure (with the explicit insecure flag) binds over clear-text
// LDAP; a domain controller that demands TLS for simple binds, as Samba and
// hardened AD do, is reported as a TLS problem a person can act on.
func TestInsecureModeAgainstADemandingDC(t *testing.T) {
	w := env(t)
	ad := w.directory("plain", "ad-bind")
	ad.Spec.URLs = []string{w.dc.StartTLSURL}
	ad.Spec.TLS = &identityv1alpha1.LDAPTLS{Mode: identityv1alpha1.TLSModeInsecure, Insecure: true}
	w.create(t, ad)
	got := waitReady(t, w, &identityv1alpha1.ActiveDirectory{}, "plain", metav1.ConditionFalse, identityv1alpha1.ReasonTLSError)
	c := meta.FindStatusCondition(conditionsOf(got), identityv1alpha1.ConditionReady)
	if !strings.Contains(strings.ToLower(c.Message), "strong") {
		t.Errorf("message %q should pass on the server's demand for stronger authentication", c.Message)
	}
}
