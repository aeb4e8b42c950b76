package controllers

import (
	"encoding/json"
	"fmt"
	"reflect"
	"runtime"
	"testing"
	"time"
	"unsafe"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
)

// cachedUserMatch is the JSON of the i-th UserMatch of a set, matched, as
// the API server sends it (its conditions and messages as the controller
// writes them): a rollout's UserMatches differ in their names, IDs and
// messages and repeat everything else.
func cachedUserMatch(t testing.TB, i int) []byte {
	t.Helper()
	now := metav1.NewTime(time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC))
	cond := func(typ, status, reason, msg string) metav1.Condition {
		return metav1.Condition{Type: typ, Status: metav1.ConditionStatus(status), Reason: reason, Message: msg, LastTransitionTime: now, ObservedGeneration: 1}
	}
	guid := fmt.Sprintf("6f1c3b0e-0000-4000-8000-%012d", i)
	cloud := fmt.Sprintf("0a4e2d91-0000-4000-8000-%012d", i)
	dn := fmt.Sprintf("CN=user%05d,OU=Users,DC=corp,DC=contoso,DC=local", i)
	upn := fmt.Sprintf("user%05d@contoso.com", i)
	anchor := fmt.Sprintf("DjsccAAAAECAAAAA%08d", i)
	yes := true
	um := identityv1alpha1.UserMatch{
		TypeMeta: metav1.TypeMeta{APIVersion: identityv1alpha1.GroupVersion.String(), Kind: "UserMatch"},
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("migration-%012x", i), UID: types.UID(fmt.Sprintf("uid-%d", i)), ResourceVersion: fmt.Sprint(1000 + i),
			Generation: 1, CreationTimestamp: now, Labels: map[string]string{labelUserMatchSet: "migration"}, Finalizers: []string{UserMatchFinalizer},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: identityv1alpha1.GroupVersion.String(), Kind: "UserMatchSet", Name: "migration", UID: "set-uid", Controller: &yes, BlockOwnerDeletion: &yes}},
			ManagedFields:   []metav1.ManagedFieldsEntry{{Manager: "entra-match-operator", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "identity.entramatch.io/v1alpha1"}}},
		Spec: identityv1alpha1.UserMatchSpec{TenantRef: identityv1alpha1.TenantReference{Name: "contoso"}, DirectoryRef: identityv1alpha1.DirectoryReference{Name: "corp"},
			ADUser: identityv1alpha1.ADUserSelector{ObjectGUID: guid}, CloudUser: &identityv1alpha1.CloudUserSelector{ObjectID: cloud},
			Mode: identityv1alpha1.ModeEnforce, DeletionPolicy: "Orphan", PrivilegedRoles: identityv1alpha1.PrivilegedRolesRefuse, Duplicates: "Report"},
		Status: identityv1alpha1.UserMatchStatus{ObservedGeneration: 1, ImmutableID: anchor,
			AD:    &identityv1alpha1.ADUserStatus{DistinguishedName: dn, ObjectGUID: guid, UserPrincipalName: fmt.Sprintf("user%05d@contoso.local", i), AnchorSource: identityv1alpha1.AnchorSourceObjectGUID},
			Cloud: &identityv1alpha1.CloudUserStatus{ObjectID: cloud, UserPrincipalName: upn},
			Conditions: []metav1.Condition{
				cond(identityv1alpha1.ConditionAnchorResolved, "True", identityv1alpha1.ReasonResolved, dn+" has anchor "+anchor+" (objectGUID)"),
				cond(identityv1alpha1.ConditionCloudUserFound, "True", identityv1alpha1.ReasonFound, "cloud user "+upn+" ("+cloud+")"),
				cond(identityv1alpha1.ConditionDuplicatesFound, "False", identityv1alpha1.ReasonNoDuplicates, ""),
				cond(identityv1alpha1.ConditionUPNSuffixMismatch, "False", identityv1alpha1.ReasonUPNSuffixVerified, ""),
				cond(identityv1alpha1.ConditionMatched, "True", identityv1alpha1.ReasonImmutableIDSet, "onPremisesImmutableId of "+upn+" is "+anchor),
				cond(identityv1alpha1.ConditionBlocked, "False", identityv1alpha1.ReasonNotBlocked, ""),
				cond(identityv1alpha1.ConditionReady, "False", identityv1alpha1.ReasonImmutableIDSet, "immutableId "+anchor+" is set on "+upn+"; waiting for Entra sync to join the user"),
				cond(identityv1alpha1.ConditionSynced, "True", identityv1alpha1.ReasonReconcileSucceeded, ""),
			}},
	}
	data, err := json.Marshal(&um)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// decodeUserMatch decodes as the cache's client does (apimachinery's JSON
// serializer), so that the test sees the decoder's allocations.
func decodeUserMatch(t testing.TB, data []byte) *identityv1alpha1.UserMatch {
	t.Helper()
	obj, _, err := userMatchDecoder.Decode(data, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return obj.(*identityv1alpha1.UserMatch)
}

var userMatchDecoder = func() kruntime.Decoder {
	scheme := kruntime.NewScheme()
	utilruntime.Must(identityv1alpha1.AddToScheme(scheme))
	return serializer.NewCodecFactory(scheme).UniversalDeserializer()
}()

func sameBytes(a, b string) bool { return unsafe.StringData(a) == unsafe.StringData(b) }

// Two cached UserMatches share the strings a rollout repeats, keep their
// own values, and lose their managedFields.
func TestCacheTransformSharesRepeatedStrings(t *testing.T) {
	transform := CacheTransform()
	var ums [2]*identityv1alpha1.UserMatch
	for i := range ums {
		out, err := transform(decodeUserMatch(t, cachedUserMatch(t, i)))
		if err != nil {
			t.Fatal(err)
		}
		ums[i] = out.(*identityv1alpha1.UserMatch)
	}
	a, b := ums[0], ums[1]
	if a.ManagedFields != nil {
		t.Fatalf("managedFields kept: %v", a.ManagedFields)
	}
	pairs := map[string][2]string{
		"finalizer":             {a.Finalizers[0], b.Finalizers[0]},
		"ownerReference kind":   {a.OwnerReferences[0].Kind, b.OwnerReferences[0].Kind},
		"ownerReference name":   {a.OwnerReferences[0].Name, b.OwnerReferences[0].Name},
		"ownerReference group":  {a.OwnerReferences[0].APIVersion, b.OwnerReferences[0].APIVersion},
		"label value":           {a.Labels[labelUserMatchSet], b.Labels[labelUserMatchSet]},
		"tenantRef":             {a.Spec.TenantRef.Name, b.Spec.TenantRef.Name},
		"directoryRef":          {a.Spec.DirectoryRef.Name, b.Spec.DirectoryRef.Name},
		"mode":                  {string(a.Spec.Mode), string(b.Spec.Mode)},
		"condition type":        {a.Status.Conditions[3].Type, b.Status.Conditions[3].Type},
		"condition status":      {string(a.Status.Conditions[3].Status), string(b.Status.Conditions[3].Status)},
		"condition reason":      {a.Status.Conditions[4].Reason, b.Status.Conditions[4].Reason},
		"anchor source":         {string(a.Status.AD.AnchorSource), string(b.Status.AD.AnchorSource)},
		"privileged role rules": {string(a.Spec.PrivilegedRoles), string(b.Spec.PrivilegedRoles)},
	}
	for what, p := range pairs {
		if p[0] != p[1] || !sameBytes(p[0], p[1]) {
			t.Errorf("%s: %q and %q are not one shared copy", what, p[0], p[1])
		}
	}
	for k := range a.Labels {
		for k2 := range b.Labels {
			if !sameBytes(k, k2) {
				t.Errorf("label key %q is not shared", k)
			}
		}
	}
	// Values of one UserMatch alone keep their own, and all values stay.
	want := decodeUserMatch(t, cachedUserMatch(t, 1))
	want.ManagedFields = nil
	if !reflect.DeepEqual(b, want) {
		t.Fatalf("the transform changed a value:\n got %+v\nwant %+v", *b, *want)
	}
	if !sameBytes(b.Status.AD.ObjectGUID, b.Spec.ADUser.ObjectGUID) || !sameBytes(b.Status.Cloud.ObjectID, b.Spec.CloudUser.ObjectID) {
		t.Error("status repeats spec's objectGUID and objectID in copies of its own")
	}
	if a.Status.Conditions[6].Message == b.Status.Conditions[6].Message {
		t.Fatal("the fixture's messages should differ")
	}
}

// The transform passes other objects through (with their managedFields
// stripped), and values that are not objects unchanged.
func TestCacheTransformLeavesOtherObjects(t *testing.T) {
	set := &identityv1alpha1.UserMatchSet{ObjectMeta: metav1.ObjectMeta{Name: "s", ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "m"}}}}
	out, err := CacheTransform()(set)
	if err != nil || out != set || set.ManagedFields != nil {
		t.Fatalf("%v %v %v", out, err, set.ManagedFields)
	}
	if out, err := CacheTransform()("not an object"); err != nil || out != "not an object" {
		t.Fatalf("%v %v", out, err)
	}
}

// BenchmarkCachedUserMatch reports the heap that 10,000 cached UserMatches
// of one set hold, decoded as the cache decodes them, with and without
// CacheTransform.
func BenchmarkCachedUserMatch(b *testing.B) {
	const n = 10000
	docs := make([][]byte, n)
	for i := range docs {
		docs[i] = cachedUserMatch(b, i)
	}
	for _, tc := range []struct {
		name      string
		transform bool
	}{{"decoded", false}, {"transformed", true}} {
		b.Run(tc.name, func(b *testing.B) {
			transform := CacheTransform()
			for b.Loop() {
				keep := make([]any, n)
				runtime.GC()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				for i, d := range docs {
					um := decodeUserMatch(b, d)
					um.ManagedFields = nil
					keep[i] = um
					if tc.transform {
						keep[i], _ = transform(um)
					}
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "heap-B/usermatch")
				runtime.KeepAlive(keep)
			}
		})
	}
}
