package controllers
import ("testing";"fmt";"context"
identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1")
func TestDbg(t *testing.T) {
	tenant := newFakeSync(nil)
	h := newHarness(t, tenant,
		tsfObject("second", t0, identityv1alpha1.TenantSyncFeaturesSpec{}),
		tsfObject("first", t0.Add(-t0.Sub(t0.Add(-60e9))), identityv1alpha1.TenantSyncFeaturesSpec{}))
	var l identityv1alpha1.TenantSyncFeaturesList
	h.k8s.List(context.Background(), &l)
	for _, i := range l.Items { fmt.Println(i.Name, i.CreationTimestamp, i.UID) }
}
