//go:build !unit

package controllers

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/anchor"
	"github.com/entramatch/entra-match-operator/internal/emulator"
	"github.com/entramatch/entra-match-operator/internal/fakead"
	"github.com/entramatch/entra-match-operator/internal/graph"
	"github.com/entramatch/entra-match-operator/internal/pairing"
	"github.com/entramatch/entra-match-operator/internal/syncplan"
)

// A UserMatchSet over a small directory: Observe reports and creates
// nothing; Enforce creates one UserMatch per pair that needs a hard match,
// at most maxInFlight at work; the UserMatches write, the emulated sync
// joins every pair, and the set counts it; deleting the set orphans them.
func TestUserMatchSetRollsOut(t *testing.T) {
	h := newUMHarness(t, func(c *emulator.Config) { c.AppOnlySyncFeatures = true })
	ctx := context.Background()
	d := umDomain
	type person struct {
		dn   string
		guid fakead.GUID
	}
	people := map[string]person{}
	ad := func(sam, upn, mail string) {
		u := fakead.User{SAMAccountName: sam, UserPrincipalName: upn}
		if mail != "" {
			u.Mail = mail
		}
		dn, guid, err := h.dir.AddUser(u)
		if err != nil {
			t.Fatal(err)
		}
		people[sam] = person{dn, guid}
	}
	cloud := func(upn, mail string, mut func(*emulator.User)) string {
		return h.addCloudUser(t, upn, strings.Split(upn, "@")[0], func(u *emulator.User) {
			if mail != "" {
				u.Mail = &mail
			}
			if mut != nil {
				mut(u)
			}
		})
	}
	ad("ana", "ana@"+d, "")
	ana := cloud("ana@"+d, "", nil)
	ad("ben", "ben@legacy.local", "")
	ben := cloud("ben@"+d, "", nil)
	ad("cal", "cal@"+d, "")
	stale := "c3RhbGVzdGFsZXN0YWxlIQ=="
	cal := cloud("cal@"+d, "", func(u *emulator.User) { u.OnPremisesImmutableID = &stale })
	ad("dee", "dee@legacy.local", "dee@"+d)
	cloud("dee1@"+d, "dee@"+d, nil)
	cloud("dee2@"+d, "dee@"+d, nil)
	ad("eve", "eve@"+d, "")
	// fay pairs only on employeeID: other names on both sides.
	fayDN, fayGUID, err := h.dir.AddUser(fakead.User{SAMAccountName: "fay", UserPrincipalName: "fay@legacy.local",
		Attributes: map[string][]string{"employeeID": {"E-7"}}})
	if err != nil {
		t.Fatal(err)
	}
	people["fay"] = person{fayDN, fayGUID}
	emp := "e-7"
	fay := cloud("f.jones@"+d, "", func(u *emulator.User) { u.EmployeeID = &emp })

	r := &UserMatchSetReconciler{Client: h.k8s, APIReader: h.r.APIReader, Cloud: graph.NewFactory(nil).ForConnection(),
		Directory: h.r.Directory, Recorder: h.rec, ResyncPeriod: time.Minute}
	set := &identityv1alpha1.UserMatchSet{ObjectMeta: metav1.ObjectMeta{Name: "staff", Generation: 1, UID: "uid-staff"},
		Spec: identityv1alpha1.UserMatchSetSpec{TenantRef: identityv1alpha1.TenantReference{Name: "contoso"},
			DirectoryRef: identityv1alpha1.DirectoryReference{Name: "corp"},
			Pairing: []identityv1alpha1.PairingRule{{SameUPN: &identityv1alpha1.SameUPNRule{}},
				{UPNSuffix: &identityv1alpha1.UPNSuffixRule{From: "legacy.local", To: d}}, {Mail: &identityv1alpha1.MailRule{}},
				{Attribute: &identityv1alpha1.AttributeRule{AD: "employeeID", Cloud: "employeeId"}}},
			Mode: identityv1alpha1.ModeObserve, MaxInFlight: 1, DeletionPolicy: identityv1alpha1.SetDeletionOrphan,
			Template: identityv1alpha1.UserMatchTemplate{Mode: identityv1alpha1.ModeEnforce, DeletionPolicy: identityv1alpha1.UserDeletionOrphan,
				PrivilegedRoles: identityv1alpha1.PrivilegedRolesRefuse, Duplicates: identityv1alpha1.DuplicatesReport}}}
	if err := h.k8s.Create(ctx, set); err != nil {
		t.Fatal(err)
	}
	pass := func() *identityv1alpha1.UserMatchSet {
		t.Helper()
		if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: types.NamespacedName{Name: "staff"}}); err != nil {
			t.Fatal(err)
		}
		var got identityv1alpha1.UserMatchSet
		if err := h.k8s.Get(ctx, types.NamespacedName{Name: "staff"}, &got); err != nil {
			t.Fatal(err)
		}
		return &got
	}
	owned := func() []identityv1alpha1.UserMatch {
		t.Helper()
		var list identityv1alpha1.UserMatchList
		if err := h.k8s.List(ctx, &list, client.MatchingLabels{labelUserMatchSet: "staff"}); err != nil {
			t.Fatal(err)
		}
		return list.Items
	}

	got := pass()
	st := got.Status
	if st.InScope < 6 || st.WillSoftMatch != 1 || st.NeedsUserMatch != 3 || st.Ambiguous != 1 || st.UserMatches != 0 || len(owned()) != 0 {
		t.Fatalf("Observe: %+v", st)
	}
	if c := meta.FindStatusCondition(st.Conditions, identityv1alpha1.ConditionReady); c == nil || c.Reason != identityv1alpha1.ReasonChangesPlanned {
		t.Fatalf("Observe: Ready %+v", c)
	}

	got.Spec.Mode = identityv1alpha1.ModeEnforce
	got.Generation++
	if err := h.k8s.Update(ctx, got); err != nil {
		t.Fatal(err)
	}
	pass()
	if ums := owned(); len(ums) != 1 {
		t.Fatalf("maxInFlight 1: %d UserMatches", len(ums))
	} else if fmt.Sprint(ums[0].Finalizers) != fmt.Sprint([]string{UserMatchFinalizer}) {
		// Created with the UserMatch controller's finalizer, so that its
		// first pass has no metadata to patch.
		t.Fatalf("UserMatch %s created with finalizers %v, want [%s]", ums[0].Name, ums[0].Finalizers, UserMatchFinalizer)
	}
	pass()
	if ums := owned(); len(ums) != 1 {
		t.Fatalf("a second UserMatch while the first is at work: %d", len(ums))
	}
	// The UserMatch works (writes the anchor) and becomes Ready: the next
	// pass starts the second.
	for round := 0; round < 3; round++ {
		for _, um := range owned() {
			if _, err := h.reconcile(um.Name, 5); err != nil {
				t.Fatal(err)
			}
		}
		pass()
	}
	ums := owned()
	if len(ums) != 3 {
		t.Fatalf("%d UserMatches, want 3", len(ums))
	}
	targets := map[string]bool{}
	for _, um := range ums {
		targets[um.Spec.CloudUser.ObjectID] = true
		if !metav1.IsControlledBy(&um, got) || um.Spec.ADUser.ObjectGUID == "" {
			t.Errorf("UserMatch %s: owner %v, adUser %+v", um.Name, um.OwnerReferences, um.Spec.ADUser)
		}
	}
	if !targets[ben] || !targets[cal] || !targets[fay] || targets[ana] {
		t.Fatalf("UserMatches for %v; want ben, cal and fay, never ana (who soft-matches)", targets)
	}

	// The sync joins every pair; the UserMatches see it, and so does the set.
	req := emulator.SyncRequest{}
	for _, sam := range []string{"ana", "ben", "cal", "fay", "eve"} {
		p := people[sam]
		upn := sam + "@legacy.local"
		if sam != "ben" && sam != "fay" {
			upn = sam + "@" + d
		}
		req.Objects = append(req.Objects, emulator.SyncObject{Type: "user", SourceAnchor: base64.StdEncoding.EncodeToString(p.guid[:]),
			UserPrincipalName: upn, OnPremisesDistinguishedName: p.dn, OnPremisesSamAccountName: sam})
	}
	resp, err := h.em.Sync(req)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{ana, ben, cal, fay} {
		if resp.Results[i].ObjectID != want {
			t.Fatalf("sync %d: %+v", i, resp.Results[i])
		}
	}
	for _, um := range owned() {
		if _, err := h.reconcile(um.Name, 5); err != nil {
			t.Fatal(err)
		}
	}
	st = pass().Status
	if st.Joined != 3 || st.Matched != 3 || st.InFlight != 0 {
		t.Fatalf("after the sync: %+v", st)
	}
	if c := meta.FindStatusCondition(st.Conditions, identityv1alpha1.ConditionReady); c == nil || c.Reason != identityv1alpha1.ReasonNeedsAttention {
		t.Fatalf("Ready %+v (dee is ambiguous)", c)
	}

	// Between full passes (one resync period) the set reuses its pairs:
	// a user added to the scope is seen only after an annotation change.
	scope := st.InScope
	ad("gus", "gus@"+d, "")
	if st = pass().Status; st.InScope != scope {
		t.Fatalf("a pass within the resync period re-read the scope: %d users, had %d", st.InScope, scope)
	}
	got = pass()
	got.Annotations = map[string]string{"identity.entramatch.io/replan": "1"}
	if err := h.k8s.Update(ctx, got); err != nil {
		t.Fatal(err)
	}
	if st = pass().Status; st.InScope != scope+1 || st.Unpaired < 1 {
		t.Fatalf("after an annotation change: %d users in scope, want %d (gus, unpaired): %+v", st.InScope, scope+1, st)
	}

	// Deleting the set orphans its UserMatches.
	if err := h.k8s.Delete(ctx, pass()); err != nil {
		t.Fatal(err)
	}
	pass2, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: types.NamespacedName{Name: "staff"}})
	if err != nil {
		t.Fatal(err, pass2)
	}
	for _, um := range owned() {
		if len(um.OwnerReferences) != 0 {
			t.Errorf("UserMatch %s still owned: %v", um.Name, um.OwnerReferences)
		}
	}
	if len(owned()) != 3 {
		t.Fatalf("Orphan deleted UserMatches")
	}
}

// Explicit pairs from a ConfigMap: they pair users no rule would, a
// ConfigMap outside the namespaces the operator reads is refused, and a
// malformed one is reported.
func TestUserMatchSetExplicitPairs(t *testing.T) {
	h := newUMHarness(t, func(c *emulator.Config) { c.AppOnlySyncFeatures = true })
	ctx := context.Background()
	_, guid, err := h.dir.AddUser(fakead.User{SAMAccountName: "gil", UserPrincipalName: "gil@legacy.local"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.em.AddUser(emulator.User{UserPrincipalName: "gilbert@" + umDomain, DisplayName: "Gilbert", MailNickname: "gilbert"})
	if err != nil {
		t.Fatal(err)
	}
	g, _ := anchorGUID(guid)
	for ns, data := range map[string]string{umNamespace: "adUser,cloudUser\n" + g + ",gilbert@" + umDomain + "\n", "elsewhere": "x,y\n"} {
		if err := h.k8s.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "pairs"}, Data: map[string]string{"pairs.csv": data}}); err != nil {
			t.Fatal(err)
		}
	}
	r := &UserMatchSetReconciler{Client: h.k8s, APIReader: h.r.APIReader, Cloud: graph.NewFactory(nil).ForConnection(),
		Directory: h.r.Directory, Recorder: h.rec, ResyncPeriod: time.Minute}
	run := func(name, ns string) *identityv1alpha1.UserMatchSet {
		t.Helper()
		set := &identityv1alpha1.UserMatchSet{ObjectMeta: metav1.ObjectMeta{Name: name, Generation: 1, UID: types.UID("uid-" + name)},
			Spec: identityv1alpha1.UserMatchSetSpec{TenantRef: identityv1alpha1.TenantReference{Name: "contoso"},
				DirectoryRef: identityv1alpha1.DirectoryReference{Name: "corp"},
				Pairs:        &identityv1alpha1.ConfigMapKeyReference{Namespace: ns, Name: "pairs", Key: "pairs.csv"},
				Mode:         identityv1alpha1.ModeObserve, MaxInFlight: 5}}
		if err := h.k8s.Create(ctx, set); err != nil {
			t.Fatal(err)
		}
		_, _ = r.Reconcile(ctx, ctrl.Request{NamespacedName: types.NamespacedName{Name: name}})
		if err := h.k8s.Get(ctx, types.NamespacedName{Name: name}, set); err != nil {
			t.Fatal(err)
		}
		return set
	}
	set := run("listed", umNamespace)
	if set.Status.NeedsUserMatch != 1 || set.Status.Pairs != 1 {
		t.Fatalf("explicit pair: %+v", set.Status)
	}
	set = run("foreign", "elsewhere")
	if c := meta.FindStatusCondition(set.Status.Conditions, identityv1alpha1.ConditionReady); c == nil || c.Reason != identityv1alpha1.ReasonSecretNotAllowed {
		t.Fatalf("a ConfigMap in another namespace: %+v", set.Status.Conditions)
	}
	if err := h.k8s.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: umNamespace, Name: "bad"}, Data: map[string]string{"pairs.csv": "only-one-column\n"}}); err != nil {
		t.Fatal(err)
	}
	bad := &identityv1alpha1.UserMatchSet{ObjectMeta: metav1.ObjectMeta{Name: "bad", Generation: 1, UID: "uid-bad"},
		Spec: identityv1alpha1.UserMatchSetSpec{TenantRef: identityv1alpha1.TenantReference{Name: "contoso"}, DirectoryRef: identityv1alpha1.DirectoryReference{Name: "corp"},
			Pairs: &identityv1alpha1.ConfigMapKeyReference{Namespace: umNamespace, Name: "bad", Key: "pairs.csv"}, Mode: identityv1alpha1.ModeObserve}}
	if err := h.k8s.Create(ctx, bad); err != nil {
		t.Fatal(err)
	}
	_, _ = r.Reconcile(ctx, ctrl.Request{NamespacedName: types.NamespacedName{Name: "bad"}})
	if err := h.k8s.Get(ctx, types.NamespacedName{Name: "bad"}, bad); err != nil {
		t.Fatal(err)
	}
	if c := meta.FindStatusCondition(bad.Status.Conditions, identityv1alpha1.ConditionReady); c == nil || c.Reason != identityv1alpha1.ReasonPairsInvalid {
		t.Fatalf("malformed pairs: %+v", bad.Status.Conditions)
	}
}

// Attribute rules on the cloud properties other than employeeId: the
// Exchange alias (mailNickname), the sAMAccountName a user kept from a sync
// of another forest that was stopped (onPremisesSamAccountName), and an
// Exchange custom attribute (extensionAttribute1..15). Each AD user below
// pairs by one of them alone; the first rule that finds a cloud user wins.
func TestUserMatchSetPairsOnCloudProperties(t *testing.T) {
	h := newUMHarness(t, func(c *emulator.Config) { c.AppOnlySyncFeatures = true })
	ctx := context.Background()
	ad := func(sam string, attrs map[string][]string) {
		if _, _, err := h.dir.AddUser(fakead.User{SAMAccountName: sam, UserPrincipalName: sam + "@legacy.local", Attributes: attrs}); err != nil {
			t.Fatal(err)
		}
	}
	cloud := func(name, nick string, mut func(*emulator.User)) string {
		return h.addCloudUser(t, name+"@"+umDomain, nick, mut)
	}
	ad("gil", nil)
	gil := cloud("g.lopez", "GIL", nil)
	ad("ivy", nil)
	old := "b2xkZm9yZXN0YW5jaG9yIQ=="
	ivy := cloud("i.young", "iyoung", func(u *emulator.User) {
		sam, off := "ivy", false
		u.OnPremisesSamAccountName, u.OnPremisesSyncEnabled, u.OnPremisesImmutableID = &sam, &off, &old
	})
	ad("hal", map[string][]string{"employeeNumber": {"H-9"}})
	hal := cloud("h.adams", "hadams", func(u *emulator.User) { u.OnPremisesExtensionAttributes[4] = "h-9" })
	// jon's number is on two cloud users: never guessed.
	ad("jon", map[string][]string{"employeeNumber": {"J-1"}})
	cloud("j.one", "jone", func(u *emulator.User) { u.OnPremisesExtensionAttributes[4] = "J-1" })
	cloud("j.two", "jtwo", func(u *emulator.User) { u.OnPremisesExtensionAttributes[4] = "J-1" })

	r := &UserMatchSetReconciler{Client: h.k8s, APIReader: h.r.APIReader, Cloud: graph.NewFactory(nil).ForConnection(),
		Directory: h.r.Directory, Recorder: h.rec, ResyncPeriod: time.Minute}
	set := &identityv1alpha1.UserMatchSet{ObjectMeta: metav1.ObjectMeta{Name: "props", Generation: 1, UID: "uid-props"},
		Spec: identityv1alpha1.UserMatchSetSpec{TenantRef: identityv1alpha1.TenantReference{Name: "contoso"},
			DirectoryRef: identityv1alpha1.DirectoryReference{Name: "corp"},
			Pairing: []identityv1alpha1.PairingRule{
				{Attribute: &identityv1alpha1.AttributeRule{AD: "sAMAccountName", Cloud: "mailNickname"}},
				{Attribute: &identityv1alpha1.AttributeRule{AD: "sAMAccountName", Cloud: "onPremisesSamAccountName"}},
				{Attribute: &identityv1alpha1.AttributeRule{AD: "employeeNumber", Cloud: "extensionAttribute5"}}},
			Mode: identityv1alpha1.ModeEnforce, MaxInFlight: 10, DeletionPolicy: identityv1alpha1.SetDeletionOrphan,
			Template: identityv1alpha1.UserMatchTemplate{Mode: identityv1alpha1.ModeObserve, DeletionPolicy: identityv1alpha1.UserDeletionOrphan,
				PrivilegedRoles: identityv1alpha1.PrivilegedRolesRefuse, Duplicates: identityv1alpha1.DuplicatesReport}}}
	if err := h.k8s.Create(ctx, set); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: types.NamespacedName{Name: "props"}}); err != nil {
		t.Fatal(err)
	}
	if err := h.k8s.Get(ctx, types.NamespacedName{Name: "props"}, set); err != nil {
		t.Fatal(err)
	}
	var list identityv1alpha1.UserMatchList
	if err := h.k8s.List(ctx, &list, client.MatchingLabels{labelUserMatchSet: "props"}); err != nil {
		t.Fatal(err)
	}
	targets := map[string]bool{}
	for _, um := range list.Items {
		targets[um.Spec.CloudUser.ObjectID] = true
	}
	if len(targets) != 3 || !targets[gil] || !targets[ivy] || !targets[hal] || set.Status.Ambiguous != 1 {
		t.Fatalf("UserMatches for %v (want gil %s, ivy %s, hal %s); status %+v", targets, gil, ivy, hal, set.Status)
	}
}

// A pass lists the set's UserMatches from the cache, which may not yet hold
// one an earlier pass created: creating it again is AlreadyExists, and the
// pass counts it as the set's instead of failing. A UserMatch of that name
// the set does not control is reported, never adopted.
func TestUserMatchSetCreateRacesItsCache(t *testing.T) {
	h := newUMHarness(t, func(c *emulator.Config) { c.AppOnlySyncFeatures = true })
	ctx := context.Background()
	_, guid, err := h.dir.AddUser(fakead.User{SAMAccountName: "kim", UserPrincipalName: "kim@legacy.local"})
	if err != nil {
		t.Fatal(err)
	}
	cloudID := h.addCloudUser(t, "kim@"+umDomain, "kim", nil)
	r := &UserMatchSetReconciler{Client: h.k8s, APIReader: h.r.APIReader, Cloud: graph.NewFactory(nil).ForConnection(),
		Directory: h.r.Directory, Recorder: h.rec, ResyncPeriod: time.Minute}
	set := &identityv1alpha1.UserMatchSet{ObjectMeta: metav1.ObjectMeta{Name: "race"},
		Spec: identityv1alpha1.UserMatchSetSpec{TenantRef: identityv1alpha1.TenantReference{Name: "contoso"},
			DirectoryRef: identityv1alpha1.DirectoryReference{Name: "corp"},
			Pairing:      []identityv1alpha1.PairingRule{{UPNSuffix: &identityv1alpha1.UPNSuffixRule{From: "legacy.local", To: umDomain}}},
			Mode:         identityv1alpha1.ModeEnforce, MaxInFlight: 5}}
	if err := h.k8s.Create(ctx, set); err != nil {
		t.Fatal(err)
	}
	g, err := anchorGUID(guid)
	if err != nil {
		t.Fatal(err)
	}
	// The UserMatch an earlier pass made, as a cache that has not seen it
	// yet lists it: not at all (here: without the set's label).
	um := r.userMatchFor(set, keepPairs([]pairing.Pair{{AD: pairing.ADUser{GUID: g}, Cloud: &syncplan.CloudObject{ID: cloudID}}})[0])
	um.Labels = nil
	if err := h.k8s.Create(ctx, um); err != nil {
		t.Fatal(err)
	}
	req := ctrl.Request{NamespacedName: types.NamespacedName{Name: "race"}}
	if _, err := r.Reconcile(ctx, req); err != nil {
		t.Fatalf("a UserMatch the cache had not seen failed the pass: %v", err)
	}
	var list identityv1alpha1.UserMatchList
	if err := h.k8s.List(ctx, &list); err != nil || len(list.Items) != 1 {
		t.Fatalf("%d UserMatches (%v), want the one", len(list.Items), err)
	}

	um = &list.Items[0]
	um.OwnerReferences = nil
	if err := h.k8s.Update(ctx, um); err != nil {
		t.Fatal(err)
	}
	r.decided.forget(set.UID) // a full pass, as after a resync period
	if _, err := r.Reconcile(ctx, req); err == nil || !strings.Contains(err.Error(), "is not this set's") {
		t.Fatalf("a foreign UserMatch of the same name: %v", err)
	}
	if err := h.k8s.Get(ctx, client.ObjectKeyFromObject(um), um); err != nil || len(um.OwnerReferences) != 0 {
		t.Fatalf("the foreign UserMatch was adopted: %v %v", um.OwnerReferences, err)
	}
}

// addCloudUser adds a cloud-only user to the emulated tenant, as mut shapes
// it, and returns its object ID.
func (h *umHarness) addCloudUser(t *testing.T, upn, nick string, mut func(*emulator.User)) string {
	t.Helper()
	u := emulator.User{UserPrincipalName: upn, DisplayName: upn, MailNickname: nick}
	if mut != nil {
		mut(&u)
	}
	got, err := h.em.AddUser(u)
	if err != nil {
		t.Fatal(err)
	}
	return got.ID
}

func anchorGUID(g fakead.GUID) (string, error) {
	a, err := anchor.FromBytes(g[:])
	return a.GUID(), err
}
