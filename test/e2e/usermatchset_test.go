package e2e_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/directory"
	"github.com/entramatch/entra-match-operator/internal/emulator"
	"github.com/entramatch/entra-match-operator/internal/testenv/entra"
	"github.com/entramatch/entra-match-operator/internal/testenv/samba"
)

// docs/usermatchset.md on Samba: an OU of users whose cloud twins need a
// hard match (a stale immutableId, a .local UPN, a twin found only by an
// attribute rule: sAMAccountName in extensionAttribute1) or none (same UPN). In
// Observe the set lists what it would do and creates nothing; in Enforce it
// creates the UserMatches, they write, the emulated sync joins every pair,
// and the set reports it.
func TestUserMatchSetOnSamba(t *testing.T) {
	w := env(t)
	st := w.newSyncTenant(t, func(c *emulator.Config) {
		c.Apps[0].Permissions = append(c.Apps[0].Permissions, "RoleManagement.Read.Directory")
	})
	ou := w.dc.CreateObject(t, "OU="+samba.UniqueName(t, "wave"), w.dc.BaseDN, []string{"top", "organizationalUnit"}, nil)
	d := w.dc.DNSDomain
	legacy := strings.ToLower(samba.UniqueName(t, "legacy")) + ".local"
	cloud := func(upn string, mut func(*emulator.User)) string {
		u := emulator.User{UserPrincipalName: upn, DisplayName: upn, MailNickname: strings.Split(upn, "@")[0]}
		if mut != nil {
			mut(&u)
		}
		got, err := st.em.AddUser(u)
		if err != nil {
			t.Fatal(err)
		}
		return got.ID
	}
	soft := samba.UniqueName(t, "soft")
	w.dc.CreateUser(t, samba.User{Sam: soft, UPN: soft + "@" + d, Parent: ou})
	softCloud := cloud(soft+"@"+d, nil)
	stale := samba.UniqueName(t, "stale")
	w.dc.CreateUser(t, samba.User{Sam: stale, UPN: stale + "@" + d, Parent: ou})
	old := "b2xkYW5jaG9yb2xkYW5jaG9y"
	staleCloud := cloud(stale+"@"+d, func(u *emulator.User) { u.OnPremisesImmutableID = &old })
	local := samba.UniqueName(t, "local")
	w.dc.CreateUser(t, samba.User{Sam: local, UPN: local + "@" + legacy, Parent: ou})
	localCloud := cloud(local+"@"+d, nil)
	stamped := samba.UniqueName(t, "stamped")
	w.dc.CreateUser(t, samba.User{Sam: stamped, UPN: stamped + "@" + d, Parent: ou})
	stampedCloud := cloud("x."+stamped+"@"+d, func(u *emulator.User) { u.OnPremisesExtensionAttributes[0] = strings.ToUpper(stamped) })

	name := strings.ToLower(samba.UniqueName(t, "set"))
	w.create(t, &identityv1alpha1.UserMatchSet{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: identityv1alpha1.UserMatchSetSpec{TenantRef: identityv1alpha1.TenantReference{Name: st.name},
			DirectoryRef: identityv1alpha1.DirectoryReference{Name: "corp"}, Scope: &identityv1alpha1.UserScope{BaseDN: ou},
			Pairing: []identityv1alpha1.PairingRule{{SameUPN: &identityv1alpha1.SameUPNRule{}},
				{UPNSuffix: &identityv1alpha1.UPNSuffixRule{From: legacy, To: d}},
				{Attribute: &identityv1alpha1.AttributeRule{AD: "sAMAccountName", Cloud: "extensionAttribute1"}}},
			DeletionPolicy: identityv1alpha1.SetDeletionDelete}})
	get := func() *identityv1alpha1.UserMatchSet {
		var set identityv1alpha1.UserMatchSet
		if err := w.k8s.Get(ctxFor(t), types.NamespacedName{Name: name}, &set); err != nil {
			t.Fatal(err)
		}
		return &set
	}
	waitSet := func(why string, ok func(*identityv1alpha1.UserMatchSet) bool) *identityv1alpha1.UserMatchSet {
		t.Helper()
		var set *identityv1alpha1.UserMatchSet
		eventually(t, func() (bool, string) {
			set = get()
			return ok(set), fmt.Sprintf("%s: %+v%s", why, set.Status, describeStatus(set.Status.Conditions))
		})
		return set
	}
	owned := func() []identityv1alpha1.UserMatch {
		var list identityv1alpha1.UserMatchList
		if err := w.k8s.List(ctxFor(t), &list, client.MatchingLabels{"identity.entramatch.io/usermatchset": name}); err != nil {
			t.Fatal(err)
		}
		return list.Items
	}

	waitSet("Observe never reported", func(s *identityv1alpha1.UserMatchSet) bool {
		c := meta.FindStatusCondition(s.Status.Conditions, identityv1alpha1.ConditionReady)
		return c != nil && c.Reason == identityv1alpha1.ReasonChangesPlanned && s.Status.InScope == 4
	})
	set := get()
	if set.Status.WillSoftMatch != 1 || set.Status.NeedsUserMatch != 3 || len(owned()) != 0 {
		t.Fatalf("Observe: %+v, %d UserMatches", set.Status, len(owned()))
	}

	set.Spec.Mode = identityv1alpha1.ModeEnforce
	if err := w.k8s.Update(ctxFor(t), set); err != nil {
		t.Fatal(err)
	}
	waitSet("the UserMatches never wrote", func(s *identityv1alpha1.UserMatchSet) bool {
		return s.Status.UserMatches == 3 && s.Status.Matched == 3
	})
	targets := map[string]bool{}
	for _, um := range owned() {
		targets[um.Spec.CloudUser.ObjectID] = true
	}
	if !targets[staleCloud] || !targets[localCloud] || !targets[stampedCloud] || targets[softCloud] {
		t.Fatalf("UserMatches for %v", targets)
	}

	// The sync, fed from Samba, joins every pair.
	ctx := context.Background()
	dcl, err := directory.Dial(ctx, directory.Config{URLs: []string{w.dc.URL}, BaseDN: w.dc.BaseDN, BindDN: w.dc.BindDN, Password: w.dc.Password, CAPEM: w.dc.CAPEM})
	if err != nil {
		t.Fatal(err)
	}
	defer dcl.Close()
	objs, err := dcl.ObjectsInScope(ctx, ou, "")
	if err != nil || len(objs) != 4 {
		t.Fatalf("%d objects: %v", len(objs), err)
	}
	results, err := entra.Export(st.em, objs, directory.AnchorAuto)
	if err != nil {
		t.Fatal(err)
	}
	joined := map[string]bool{}
	for _, r := range results {
		joined[r.ObjectID] = true
	}
	for _, id := range []string{softCloud, staleCloud, localCloud, stampedCloud} {
		if !joined[id] {
			t.Fatalf("cloud user %s was not joined: %+v", id, results)
		}
	}
	waitSet("the set never saw the joins", func(s *identityv1alpha1.UserMatchSet) bool {
		c := meta.FindStatusCondition(s.Status.Conditions, identityv1alpha1.ConditionReady)
		return s.Status.Joined == 3 && c != nil && c.Status == metav1.ConditionTrue && c.Reason == identityv1alpha1.ReasonAllAligned
	})
	w.waitEventOf(t, "UserMatchSet", name, identityv1alpha1.EventUserMatchCreated)
}
