package e2e_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/directory"
	"github.com/entramatch/entra-match-operator/internal/emulator"
	"github.com/entramatch/entra-match-operator/internal/testenv/samba"
)

// adUPN reads a logon name straight from Samba, not through the operator.
func (w *world) adUPN(t *testing.T, dn string) string {
	t.Helper()
	res, err := w.dc.Conn(t).Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", []string{"userPrincipalName"}, nil))
	if err != nil || len(res.Entries) != 1 {
		t.Fatalf("reading %s: %v", dn, err)
	}
	return res.Entries[0].GetAttributeValue("userPrincipalName")
}

func (w *world) waitAlignment(t *testing.T, name, typ string, status metav1.ConditionStatus, reason string) *identityv1alpha1.SignInNameAlignment {
	t.Helper()
	var sa identityv1alpha1.SignInNameAlignment
	eventually(t, func() (bool, string) {
		err := w.k8s.Get(ctxFor(t), types.NamespacedName{Name: name}, &sa)
		c := meta.FindStatusCondition(sa.Status.Conditions, typ)
		ok := err == nil && c != nil && c.Status == status && c.Reason == reason && sa.Status.ObservedGeneration == sa.Generation
		return ok, fmt.Sprintf("%s never became %s/%s: err=%v%s", typ, status, reason, err, describeStatus(sa.Status.Conditions))
	})
	return &sa
}

func (w *world) updateAlignment(t *testing.T, name string, change func(*identityv1alpha1.SignInNameAlignmentSpec)) {
	t.Helper()
	var sa identityv1alpha1.SignInNameAlignment
	if err := w.k8s.Get(ctxFor(t), types.NamespacedName{Name: name}, &sa); err != nil {
		t.Fatal(err)
	}
	change(&sa.Spec)
	if err := w.k8s.Update(ctxFor(t), &sa); err != nil {
		t.Fatal(err)
	}
}

// exportTo plays Entra Connect's first export of the given AD users into
// em, reading them from Samba; it returns the results by DN.
func (w *world) exportTo(t *testing.T, em *emulator.Server, dns ...string) map[string]emulator.SyncResult {
	t.Helper()
	ctx := context.Background()
	d, err := directory.Dial(ctx, directory.Config{URLs: []string{w.dc.URL}, BaseDN: w.dc.BaseDN,
		BindDN: w.dc.BindDN, Password: w.dc.Password, CAPEM: w.dc.CAPEM})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	req := emulator.SyncRequest{}
	byAnchor := map[string]string{}
	for _, dn := range dns {
		u, err := d.FindUser(ctx, directory.Lookup{By: directory.KeyDistinguishedName, Value: dn})
		if err != nil {
			t.Fatal(err)
		}
		a, err := directory.SourceAnchor(u, directory.AnchorAuto)
		if err != nil {
			t.Fatal(err)
		}
		byAnchor[a.ImmutableID()] = dn
		req.Objects = append(req.Objects, emulator.SyncObject{Type: "user", SourceAnchor: a.ImmutableID(), UserPrincipalName: u.UserPrincipalName,
			Mail: u.Mail, ProxyAddresses: u.ProxyAddresses, DisplayName: u.SAMAccountName, OnPremisesDistinguishedName: u.DN,
			OnPremisesSamAccountName: u.SAMAccountName, OnPremisesObjectIdentifier: u.ObjectGUID.GUID()})
	}
	resp, err := em.Sync(req)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]emulator.SyncResult{}
	for _, r := range resp.Results {
		out[byAnchor[r.SourceAnchor]] = r
	}
	return out
}

// docs/soft-match.md, step 2, on Samba: a forest whose logon names end in
// .local and a tenant whose users sign in on onmicrosoft.com. Observe plans
// and writes nothing; Enforce writes the real directory and renames the
// cloud users; the emulated sync then soft-matches every aligned user with
// no UserMatch and no immutable ID written, as the plan predicted; undo
// puts every name back. A name already taken in the forest is refused.
func TestSignInNameAlignmentOnSamba(t *testing.T) {
	w := env(t)
	st := w.newSyncTenant(t, func(c *emulator.Config) {
		c.Apps[0].Permissions = append(c.Apps[0].Permissions, "RoleManagement.Read.Directory")
	})
	legacy := strings.ToLower(samba.UniqueName(t, "legacy")) + ".local"
	type person struct{ dn, cloudID, sam string }
	var people []person
	for _, prefix := range []string{"ana", "ben"} {
		sam := samba.UniqueName(t, prefix)
		dn := w.dc.CreateUser(t, samba.User{Sam: sam, UPN: sam + "@" + legacy})
		u, err := st.em.AddUser(emulator.User{UserPrincipalName: sam + "@fabrikam.onmicrosoft.com", DisplayName: sam, MailNickname: sam})
		if err != nil {
			t.Fatal(err)
		}
		people = append(people, person{dn: dn, cloudID: u.ID, sam: sam})
	}
	// Taken twice over: cal's new name is another account's logon name,
	// and eve's is another account's implicit one (its sAMAccountName at
	// the domain's DNS name), which Samba would refuse.
	takenSam := samba.UniqueName(t, "cal")
	taken := w.dc.CreateUser(t, samba.User{Sam: takenSam, UPN: "carl-" + takenSam + "@" + legacy})
	w.dc.CreateUser(t, samba.User{Sam: samba.UniqueName(t, "holder"), UPN: "carl-" + takenSam + "@" + w.dc.DNSDomain})
	implicitSam := samba.UniqueName(t, "eve")
	implicit := w.dc.CreateUser(t, samba.User{Sam: samba.UniqueName(t, "evie"), UPN: implicitSam + "@" + legacy})
	w.dc.CreateUser(t, samba.User{Sam: implicitSam})

	name := strings.ToLower(samba.UniqueName(t, "align"))
	w.create(t, &identityv1alpha1.SignInNameAlignment{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: identityv1alpha1.SignInNameAlignmentSpec{TenantRef: identityv1alpha1.TenantReference{Name: st.name},
			DirectoryRef: identityv1alpha1.DirectoryReference{Name: "corp"}, TargetSuffix: w.dc.DNSDomain,
			ADSuffixes: []string{legacy}, CloudSuffixes: []string{"fabrikam.onmicrosoft.com"},
			Scope:          &identityv1alpha1.UserScope{Filter: "(userPrincipalName=*@" + legacy + ")"},
			DeletionPolicy: identityv1alpha1.AlignmentDeletionRestore}})

	sa := w.waitAlignment(t, name, identityv1alpha1.ConditionAligned, metav1.ConditionFalse, identityv1alpha1.ReasonChangesPlanned)
	if c := sa.Status.Counts; c == nil || c.InScope != 4 || c.Pending != 2 || c.Refused != 2 || c.WillSoftMatch != 2 {
		t.Fatalf("Observe counts %+v", sa.Status.Counts)
	}
	refused := map[string]string{}
	for _, r := range sa.Status.Refusals {
		refused[strings.ToLower(r.User)] = r.Reason
	}
	if len(refused) != 2 || refused[strings.ToLower(taken)] != identityv1alpha1.ReasonNameTakenInForest || refused[strings.ToLower(implicit)] != identityv1alpha1.ReasonNameTakenInForest {
		t.Fatalf("refusals %+v", sa.Status.Refusals)
	}
	for _, p := range people {
		if w.adUPN(t, p.dn) != p.sam+"@"+legacy {
			t.Fatalf("Observe wrote %s", p.dn)
		}
	}

	w.updateAlignment(t, name, func(s *identityv1alpha1.SignInNameAlignmentSpec) { s.Mode = identityv1alpha1.ModeEnforce })
	sa = w.waitAlignment(t, name, identityv1alpha1.ConditionAligned, metav1.ConditionTrue, identityv1alpha1.ReasonAllAligned)
	if c := meta.FindStatusCondition(sa.Status.Conditions, identityv1alpha1.ConditionReady); c == nil || c.Reason != identityv1alpha1.ReasonNameTakenInForest {
		t.Fatalf("Ready should name the refusal:%s", describeStatus(sa.Status.Conditions))
	}
	var dns []string
	for _, p := range people {
		want := p.sam + "@" + w.dc.DNSDomain
		if got := w.adUPN(t, p.dn); !strings.EqualFold(got, want) {
			t.Fatalf("AD %s: %s, want %s", p.dn, got, want)
		}
		u := cloudOf(t, st.em, p.cloudID)
		if !strings.EqualFold(u.UserPrincipalName, want) || u.OnPremisesImmutableID != nil {
			t.Fatalf("cloud %s: %s (immutable ID %v), want %s and none", p.cloudID, u.UserPrincipalName, u.OnPremisesImmutableID, want)
		}
		dns = append(dns, p.dn)
	}
	if w.adUPN(t, taken) != "carl-"+takenSam+"@"+legacy || w.adUPN(t, implicit) != implicitSam+"@"+legacy {
		t.Fatal("the refused user was renamed")
	}
	w.waitEventOf(t, "SignInNameAlignment", name, identityv1alpha1.EventSignInNameChanged)

	// Undo, then align again and let sync run.
	w.updateAlignment(t, name, func(s *identityv1alpha1.SignInNameAlignmentSpec) { s.Undo = true })
	w.waitAlignment(t, name, identityv1alpha1.ConditionReady, metav1.ConditionTrue, identityv1alpha1.ReasonRestored)
	for _, p := range people {
		if got := w.adUPN(t, p.dn); got != p.sam+"@"+legacy {
			t.Fatalf("undo left AD %s as %s", p.dn, got)
		}
		if got := cloudOf(t, st.em, p.cloudID).UserPrincipalName; got != p.sam+"@fabrikam.onmicrosoft.com" {
			t.Fatalf("undo left cloud %s as %s", p.cloudID, got)
		}
	}
	w.updateAlignment(t, name, func(s *identityv1alpha1.SignInNameAlignmentSpec) { s.Undo = false })
	w.waitAlignment(t, name, identityv1alpha1.ConditionAligned, metav1.ConditionTrue, identityv1alpha1.ReasonAllAligned)
	results := w.exportTo(t, st.em, dns...)
	for _, p := range people {
		if r := results[p.dn]; r.Outcome != emulator.OutcomeSoftMatchUPN || r.ObjectID != p.cloudID {
			t.Fatalf("%s: sync %+v, want a soft match on UPN to %s, as planned", p.dn, r, p.cloudID)
		}
	}
}

// A bind account that may not write other users' logon names: the write
// is refused (NameWriteRefused, with Samba's answer), nothing changes.
func TestSignInNameAlignmentRefusedBySamba(t *testing.T) {
	w := env(t)
	st := w.newSyncTenant(t, func(c *emulator.Config) {
		c.Apps[0].Permissions = append(c.Apps[0].Permissions, "RoleManagement.Read.Directory")
	})
	const pass = "Plain-Passw0rd-9b"
	bindSam := samba.UniqueName(t, "svcalign")
	w.dc.CreateUser(t, samba.User{Sam: bindSam, UPN: bindSam + "@" + w.dc.DNSDomain, Password: pass})
	w.create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "align-plain-bind", Namespace: ns}, StringData: map[string]string{"password": pass}})
	adName := strings.ToLower(samba.UniqueName(t, "plainad"))
	ad := w.directory(adName, "align-plain-bind")
	ad.Spec.Bind.DN = bindSam + "@" + w.dc.DNSDomain
	w.create(t, ad)

	legacy := strings.ToLower(samba.UniqueName(t, "legacy")) + ".local"
	sam := samba.UniqueName(t, "dee")
	dn := w.dc.CreateUser(t, samba.User{Sam: sam, UPN: sam + "@" + legacy})
	name := strings.ToLower(samba.UniqueName(t, "align"))
	w.create(t, &identityv1alpha1.SignInNameAlignment{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: identityv1alpha1.SignInNameAlignmentSpec{TenantRef: identityv1alpha1.TenantReference{Name: st.name},
			DirectoryRef: identityv1alpha1.DirectoryReference{Name: adName}, TargetSuffix: w.dc.DNSDomain,
			ADSuffixes: []string{legacy}, Mode: identityv1alpha1.ModeEnforce,
			Scope: &identityv1alpha1.UserScope{Filter: "(userPrincipalName=*@" + legacy + ")"}}})
	sa := w.waitAlignment(t, name, identityv1alpha1.ConditionReady, metav1.ConditionFalse, identityv1alpha1.ReasonNameWriteRefused)
	if len(sa.Status.Refusals) == 0 || !strings.Contains(sa.Status.Refusals[0].Message, dn) {
		t.Fatalf("refusals %+v", sa.Status.Refusals)
	}
	if got := w.adUPN(t, dn); got != sam+"@"+legacy {
		t.Fatalf("renamed to %s despite the refusal", got)
	}
	if len(sa.Status.Changes) != 0 {
		t.Fatalf("a refused write is recorded: %+v", sa.Status.Changes)
	}
	w.waitEventOf(t, "SignInNameAlignment", name, identityv1alpha1.EventSignInNameWriteFailed)
}

func cloudOf(t *testing.T, em *emulator.Server, id string) emulator.User {
	t.Helper()
	for _, u := range em.Snapshot().Users {
		if u.ID == id {
			return u
		}
	}
	t.Fatalf("no cloud user %s", id)
	return emulator.User{}
}
