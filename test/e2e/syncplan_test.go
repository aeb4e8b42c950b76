package e2e_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/directory"
	"github.com/entramatch/entra-match-operator/internal/emulator"
	"github.com/entramatch/entra-match-operator/internal/testenv/entra"
	"github.com/entramatch/entra-match-operator/internal/testenv/samba"
)

// docs/plan.md on Samba: an OU with users (one matching on its address,
// one on its UPN, one whose cloud twin is an admin, one on a .local
// suffix), a mail-enabled group, a security group and a contact. The
// SyncPlan predicts each outcome; the emulated sync, fed from Samba by a
// reader of its own, then does exactly that for every object.
func TestSyncPlanOnSamba(t *testing.T) {
	w := env(t)
	st := w.newSyncTenant(t, func(c *emulator.Config) {
		c.Apps[0].Permissions = append(c.Apps[0].Permissions, "RoleManagement.Read.Directory", "Group.Read.All", "OrgContact.Read.All")
	})
	ou := w.dc.CreateObject(t, "OU="+samba.UniqueName(t, "plan"), w.dc.BaseDN, []string{"top", "organizationalUnit"}, nil)
	d := w.dc.DNSDomain
	user := func(prefix, upnSuffix string, withMail bool) (sam, dn string) {
		sam = samba.UniqueName(t, prefix)
		u := samba.User{Sam: sam, UPN: sam + "@" + upnSuffix, Parent: ou}
		if withMail {
			u.Mail, u.ProxyAddresses = sam+".m@"+d, []string{"SMTP:" + sam + ".m@" + d}
		}
		return sam, w.dc.CreateUser(t, u)
	}
	cloud := func(upn, mail string) string {
		u := emulator.User{UserPrincipalName: upn, DisplayName: upn, MailNickname: strings.Split(upn, "@")[0]}
		if mail != "" {
			u.Mail, u.ProxyAddresses = &mail, []string{"SMTP:" + mail}
		}
		got, err := st.em.AddUser(u)
		if err != nil {
			t.Fatal(err)
		}
		return got.ID
	}
	ana, _ := user("ana", d, true)
	anaCloud := cloud(ana+"@fabrikam.onmicrosoft.com", ana+".m@"+d)
	ben, _ := user("ben", d, false)
	benCloud := cloud(ben+"@"+d, "")
	cal, _ := user("cal", d, true)
	calCloud := cloud(cal+"@"+d, cal+".m@"+d)
	if err := st.em.Update(func(s *emulator.Snapshot) error {
		s.RoleAssignments = append(s.RoleAssignments, emulator.RoleAssignment{ID: "ga-" + calCloud, PrincipalID: calCloud,
			RoleDefinitionID: emulator.RoleGlobalAdministrator, DirectoryScopeID: "/"})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	user("dee", "corp.local", false)
	sales := samba.UniqueName(t, "sales")
	w.dc.CreateObject(t, "CN="+sales, ou, []string{"top", "group"}, map[string][]string{"sAMAccountName": {sales}, "groupType": {"2"},
		"mail": {sales + "@" + d}, "proxyAddresses": {"SMTP:" + sales + "@" + d}})
	salesMail := sales + "@" + d
	salesCloud := "6a1b6f36-4f5c-4d45-9c3c-0c6c3c9e1a11"
	sec := samba.UniqueName(t, "sec")
	w.dc.CreateObject(t, "CN="+sec, ou, []string{"top", "group"}, map[string][]string{"sAMAccountName": {sec}})
	vendorMail := samba.UniqueName(t, "vendor") + "@fabrikam.example"
	w.dc.CreateObject(t, "CN=Vendor", ou, []string{"top", "person", "organizationalPerson", "contact"}, map[string][]string{
		"mail": {vendorMail}, "proxyAddresses": {"SMTP:" + vendorMail}})
	vendorCloud := "6a1b6f36-4f5c-4d45-9c3c-0c6c3c9e1a12"
	if err := st.em.Update(func(s *emulator.Snapshot) error {
		s.Groups = append(s.Groups, emulator.Group{ID: salesCloud, DisplayName: "Sales", Mail: &salesMail, MailEnabled: true,
			MailNickname: sales, ProxyAddresses: []string{"SMTP:" + salesMail}})
		s.Contacts = append(s.Contacts, emulator.Contact{ID: vendorCloud, DisplayName: "Vendor", Mail: &vendorMail, ProxyAddresses: []string{"SMTP:" + vendorMail}})
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	name := strings.ToLower(samba.UniqueName(t, "plan"))
	w.create(t, &identityv1alpha1.SyncPlan{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: identityv1alpha1.SyncPlanSpec{TenantRef: identityv1alpha1.TenantReference{Name: st.name},
			DirectoryRef: identityv1alpha1.DirectoryReference{Name: "corp"}, Scope: &identityv1alpha1.PlanScope{BaseDNs: []string{ou}}}})
	var sp identityv1alpha1.SyncPlan
	eventually(t, func() (bool, string) {
		err := w.k8s.Get(ctxFor(t), types.NamespacedName{Name: name}, &sp)
		c := meta.FindStatusCondition(sp.Status.Conditions, identityv1alpha1.ConditionReady)
		return err == nil && c != nil && c.Reason == identityv1alpha1.ReasonPlanned, fmt.Sprintf("never Planned: %v%s", err, describeStatus(sp.Status.Conditions))
	})
	if sp.Status.Objects != 7 || sp.Status.Matched != 4 || sp.Status.Created != 3 || sp.Status.Refused != 0 {
		t.Fatalf("counts: objects %d matched %d created %d refused %d: %+v", sp.Status.Objects, sp.Status.Matched, sp.Status.Created, sp.Status.Refused, sp.Status.Outcomes)
	}
	planned := map[string][]string{}
	for _, ref := range sp.Status.Report {
		ns, n, _ := strings.Cut(ref, "/")
		var cm corev1.ConfigMap
		if err := w.k8s.Get(ctxFor(t), types.NamespacedName{Namespace: ns, Name: n}, &cm); err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(strings.NewReader(cm.Data["report.csv"])).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range rows[1:] {
			planned[strings.ToLower(row[0])] = row
		}
	}

	// The sync, from Samba through a reader of its own.
	ctx := context.Background()
	dcl, err := directory.Dial(ctx, directory.Config{URLs: []string{w.dc.URL}, BaseDN: w.dc.BaseDN, BindDN: w.dc.BindDN, Password: w.dc.Password, CAPEM: w.dc.CAPEM})
	if err != nil {
		t.Fatal(err)
	}
	defer dcl.Close()
	objs, err := dcl.ObjectsInScope(ctx, ou, "")
	if err != nil || len(objs) != 7 {
		t.Fatalf("%d objects under %s: %v", len(objs), ou, err)
	}
	results, err := entra.Export(st.em, objs, directory.AnchorAuto)
	if err != nil {
		t.Fatal(err)
	}
	names := map[emulator.SyncOutcome]string{emulator.OutcomeSoftMatchSMTP: "SoftMatchSMTP", emulator.OutcomeSoftMatchUPN: "SoftMatchUPN", emulator.OutcomeError: "Refused"}
	matched := map[string]bool{}
	for i, got := range results {
		row := planned[strings.ToLower(objs[i].DN)]
		outcome := names[got.Outcome]
		if outcome == "" {
			outcome = string(got.Outcome)
		}
		if row == nil || outcome != row[2] || (row[4] != "" && row[4] != got.ObjectID) {
			t.Errorf("%s: the sync did %s %s, the plan said %v", objs[i].DN, got.Outcome, got.ObjectID, row)
		}
		matched[got.ObjectID] = true
	}
	for _, id := range []string{anaCloud, benCloud, salesCloud, vendorCloud} {
		if !matched[id] {
			t.Errorf("cloud object %s was not matched", id)
		}
	}
	if matched[calCloud] {
		t.Error("the admin was matched")
	}
}
