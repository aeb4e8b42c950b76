package e2e_test

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/directory"
)

// With writeConsistencyGuid, the operator stamps objectGUID into an empty
// mS-DS-ConsistencyGuid before using it, as Entra Connect does, so the
// anchor survives a move of the user to another forest.
func TestWriteConsistencyGuid(t *testing.T) {
	w := env(t)
	w.create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "ad-bind-cg", Namespace: ns},
		StringData: map[string]string{"password": w.dc.Password}})
	ad := w.directory("corp-cg", "ad-bind-cg")
	ad.Spec.AnchorAttribute = identityv1alpha1.AnchorAuto
	ad.Spec.WriteConsistencyGuid = true
	w.create(t, ad)

	tw := w.newTwin(t, "cguid", nil)
	w.userMatch(t, tw.sam, func(s *identityv1alpha1.UserMatchSpec) {
		s.DirectoryRef.Name = "corp-cg"
		s.ADUser.SAMAccountName = tw.sam
	})
	um := w.waitUM(t, tw.sam, "Matched", func(um *identityv1alpha1.UserMatch) bool {
		return cond(um, identityv1alpha1.ConditionMatched, T, "")
	})
	if um.Status.AD.AnchorSource != identityv1alpha1.AnchorSourceConsistencyGUID {
		t.Errorf("anchorSource = %q, want %q", um.Status.AD.AnchorSource, identityv1alpha1.AnchorSourceConsistencyGUID)
	}
	// Read the user back from Samba: the attribute now holds the objectGUID bytes.
	d, err := directory.Dial(context.Background(), directory.Config{URLs: []string{w.dc.URL}, BaseDN: w.dc.BaseDN,
		BindDN: w.dc.BindDN, Password: w.dc.Password, CAPEM: w.dc.CAPEM})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	u, err := d.FindUser(context.Background(), directory.Lookup{By: directory.KeySAMAccountName, Value: tw.sam})
	if err != nil {
		t.Fatal(err)
	}
	if u.ConsistencyGUID == nil || *u.ConsistencyGUID != tw.anchor {
		t.Fatalf("mS-DS-ConsistencyGuid = %v, want the objectGUID %s", u.ConsistencyGUID, tw.anchor.GUID())
	}
	if got := immutableID(w.cloud(t, tw.cloudID)); got != tw.anchor.ImmutableID() {
		t.Fatalf("cloud immutableId = %q, want %q", got, tw.anchor.ImmutableID())
	}
}
