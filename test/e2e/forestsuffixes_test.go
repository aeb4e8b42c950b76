package e2e_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/testenv/samba"
)

// forestSuffixes reads uPNSuffixes straight from Samba, not through the
// operator's client.
func (w *world) forestSuffixes(t *testing.T) []string {
	t.Helper()
	res, err := w.dc.Conn(t).Search(ldap.NewSearchRequest("CN=Partitions,CN=Configuration,"+w.dc.BaseDN,
		ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)", []string{"uPNSuffixes"}, nil))
	if err != nil || len(res.Entries) != 1 {
		t.Fatalf("reading uPNSuffixes: %v", err)
	}
	return res.Entries[0].GetEqualFoldAttributeValues("uPNSuffixes")
}

func (w *world) waitSuffixCondition(t *testing.T, name string, status metav1.ConditionStatus, reason string, also func([]string) bool) *identityv1alpha1.ActiveDirectory {
	t.Helper()
	var ad identityv1alpha1.ActiveDirectory
	eventually(t, func() (bool, string) {
		err := w.k8s.Get(ctxFor(t), types.NamespacedName{Name: name}, &ad)
		c := meta.FindStatusCondition(ad.Status.Conditions, identityv1alpha1.ConditionUPNSuffixesOffered)
		ok := err == nil && c != nil && c.Status == status && c.Reason == reason && c.ObservedGeneration == ad.Generation
		forest := w.forestSuffixes(t)
		return ok && (also == nil || also(forest)), fmt.Sprintf("UPNSuffixesOffered never became %s/%s (forest offers %q): err=%v%s",
			status, reason, forest, err, describeStatus(ad.Status.Conditions))
	})
	return &ad
}

func (w *world) updateDirectory(t *testing.T, name string, change func(*identityv1alpha1.ActiveDirectorySpec)) {
	t.Helper()
	var ad identityv1alpha1.ActiveDirectory
	if err := w.k8s.Get(ctxFor(t), types.NamespacedName{Name: name}, &ad); err != nil {
		t.Fatal(err)
	}
	change(&ad.Spec)
	if err := w.k8s.Update(ctxFor(t), &ad); err != nil {
		t.Fatal(err)
	}
}

// docs/soft-match.md, step 1, as a person uses it: Enforce adds the declared
// suffix to the real forest, Observe reports and writes nothing, and only
// the suffix the operator added is ever removed.
func TestForestUPNSuffixes(t *testing.T) {
	w := env(t)
	first := samba.UniqueName(t, "mail") + ".example.com"
	second := samba.UniqueName(t, "mail") + ".example.org"
	other := samba.UniqueName(t, "theirs") + ".example.net"
	w.dc.AddUPNSuffix(t, other) // someone else's
	ad := w.directory("suffixes", "ad-bind")
	ad.Spec.ForestUPNSuffixes = &identityv1alpha1.ForestUPNSuffixes{Mode: identityv1alpha1.ModeEnforce, Suffixes: []string{first}}
	w.create(t, ad)
	t.Cleanup(func() {
		for _, s := range []string{first, second} {
			if slices.Contains(w.forestSuffixes(t), s) {
				w.dc.RemoveUPNSuffix(t, s)
			}
		}
	})

	got := w.waitSuffixCondition(t, "suffixes", metav1.ConditionTrue, identityv1alpha1.ReasonUPNSuffixesPresent,
		func(f []string) bool { return slices.Contains(f, first) })
	if !slices.Equal(got.Status.AddedUPNSuffixes, []string{first}) {
		t.Fatalf("status.addedUPNSuffixes = %q", got.Status.AddedUPNSuffixes)
	}
	w.waitEventOf(t, "ActiveDirectory", "suffixes", identityv1alpha1.EventUPNSuffixAdded)

	// Observe with another suffix: reported, nothing written or removed.
	w.updateDirectory(t, "suffixes", func(s *identityv1alpha1.ActiveDirectorySpec) {
		s.ForestUPNSuffixes = &identityv1alpha1.ForestUPNSuffixes{Mode: identityv1alpha1.ModeObserve, Suffixes: []string{second}}
	})
	got = w.waitSuffixCondition(t, "suffixes", metav1.ConditionFalse, identityv1alpha1.ReasonUPNSuffixesMissing, nil)
	if f := w.forestSuffixes(t); slices.Contains(f, second) || !slices.Contains(f, first) {
		t.Fatalf("Observe changed the forest: %q", f)
	}
	if c := meta.FindStatusCondition(got.Status.Conditions, identityv1alpha1.ConditionUPNSuffixesOffered); !strings.Contains(c.Message, second) {
		t.Errorf("the message should name %s: %q", second, c.Message)
	}

	// Enforce: the new one is added, ours is removed, theirs stays.
	w.updateDirectory(t, "suffixes", func(s *identityv1alpha1.ActiveDirectorySpec) {
		s.ForestUPNSuffixes.Mode = identityv1alpha1.ModeEnforce
	})
	w.waitSuffixCondition(t, "suffixes", metav1.ConditionTrue, identityv1alpha1.ReasonUPNSuffixesPresent, func(f []string) bool {
		return slices.Contains(f, second) && !slices.Contains(f, first) && slices.Contains(f, other)
	})
	w.waitEventOf(t, "ActiveDirectory", "suffixes", identityv1alpha1.EventUPNSuffixRemoved)
}

// A bind account Samba does not let write CN=Partitions: MissingPermission
// naming the right, Synced False, Ready still True, the forest untouched.
func TestForestUPNSuffixesRefused(t *testing.T) {
	w := env(t)
	const pass = "Plain-Passw0rd-9a"
	sam := samba.UniqueName(t, "svcplain")
	w.dc.CreateUser(t, samba.User{Sam: sam, UPN: sam + "@" + w.dc.DNSDomain, Password: pass})
	w.create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "plain-bind", Namespace: ns}, StringData: map[string]string{"password": pass}})
	suffix := samba.UniqueName(t, "refused") + ".example.com"
	ad := w.directory("suffixes-refused", "plain-bind")
	ad.Spec.Bind.DN = sam + "@" + w.dc.DNSDomain
	ad.Spec.ForestUPNSuffixes = &identityv1alpha1.ForestUPNSuffixes{Mode: identityv1alpha1.ModeEnforce, Suffixes: []string{suffix}}
	w.create(t, ad)
	got := w.waitSuffixCondition(t, "suffixes-refused", metav1.ConditionFalse, identityv1alpha1.ReasonMissingPermission, nil)
	c := meta.FindStatusCondition(got.Status.Conditions, identityv1alpha1.ConditionUPNSuffixesOffered)
	if !strings.Contains(c.Message, "Enterprise Admins") || !strings.Contains(c.Message, "CN=Partitions") {
		t.Errorf("the message should name the right and the object: %q", c.Message)
	}
	if !meta.IsStatusConditionTrue(got.Status.Conditions, identityv1alpha1.ConditionReady) ||
		meta.IsStatusConditionTrue(got.Status.Conditions, identityv1alpha1.ConditionSynced) {
		t.Errorf("want Ready True and Synced False:%s", describeStatus(got.Status.Conditions))
	}
	if slices.Contains(w.forestSuffixes(t), suffix) {
		t.Fatal("the refused suffix is in the forest")
	}
}
