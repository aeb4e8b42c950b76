//go:build !unit

package controllers

import (
	"context"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/directory"
	"github.com/entramatch/entra-match-operator/internal/emulator"
	"github.com/entramatch/entra-match-operator/internal/fakead"
	"github.com/entramatch/entra-match-operator/internal/graph"
	"github.com/entramatch/entra-match-operator/internal/testenv/entra"
)

// A directory with every kind of object a first sync meets; the SyncPlan
// predicts each one, then the emulated sync runs and must do exactly that.
func TestSyncPlanPredictsTheSync(t *testing.T) {
	h := newUMHarness(t, func(c *emulator.Config) {
		c.AppOnlySyncFeatures = true
		c.Apps[0].Permissions = append(c.Apps[0].Permissions, "Group.Read.All", "OrgContact.Read.All")
	})
	ctx := context.Background()
	add := func(u fakead.User) {
		if _, _, err := h.dir.AddUser(u); err != nil {
			t.Fatal(err)
		}
	}
	cloudUser := func(upn string, mail string) string {
		u := emulator.User{UserPrincipalName: upn, DisplayName: upn, MailNickname: strings.Split(upn, "@")[0]}
		if mail != "" {
			u.Mail, u.ProxyAddresses = &mail, []string{"SMTP:" + mail}
		}
		got, err := h.em.AddUser(u)
		if err != nil {
			t.Fatal(err)
		}
		return got.ID
	}
	d := umDomain
	// Soft match on SMTP, on UPN, refused for an admin, a user on a .local
	// suffix, a mail-enabled group and a contact that match, a security
	// group that cannot.
	add(fakead.User{SAMAccountName: "ana", UserPrincipalName: "ana@" + d, Mail: "ana.m@" + d, ProxyAddresses: []string{"SMTP:ana.m@" + d}})
	ana := cloudUser("ana.cloud@"+umInitial, "ana.m@"+d)
	add(fakead.User{SAMAccountName: "ben", UserPrincipalName: "ben@" + d})
	ben := cloudUser("ben@"+d, "")
	add(fakead.User{SAMAccountName: "cal", UserPrincipalName: "cal@" + d, Mail: "cal@" + d, ProxyAddresses: []string{"SMTP:cal@" + d}})
	cal := cloudUser("cal@"+d, "cal@"+d)
	h.grantGlobalAdmin(cal)
	add(fakead.User{SAMAccountName: "dee", UserPrincipalName: "dee@corp.local"})
	if _, _, err := h.dir.AddGroup(fakead.Group{SAMAccountName: "sales", Mail: "sales@" + d, ProxyAddresses: []string{"SMTP:sales@" + d}, GroupType: 2}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.dir.AddGroup(fakead.Group{SAMAccountName: "sec"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.dir.AddContact(fakead.Contact{CN: "Vendor", Mail: "vendor@fabrikam.example", ProxyAddresses: []string{"SMTP:vendor@fabrikam.example"}}); err != nil {
		t.Fatal(err)
	}
	salesMail, vendorMail := "sales@"+d, "vendor@fabrikam.example"
	if err := h.em.Update(func(s *emulator.Snapshot) error {
		s.Groups = append(s.Groups, emulator.Group{ID: "6a1b6f36-4f5c-4d45-9c3c-0c6c3c9e1a01", DisplayName: "Sales", Mail: &salesMail, MailEnabled: true,
			MailNickname: "sales", ProxyAddresses: []string{"SMTP:" + salesMail}})
		s.Contacts = append(s.Contacts, emulator.Contact{ID: "6a1b6f36-4f5c-4d45-9c3c-0c6c3c9e1a02", DisplayName: "Vendor", Mail: &vendorMail,
			ProxyAddresses: []string{"SMTP:" + vendorMail}})
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	r := &SyncPlanReconciler{Client: h.k8s, APIReader: h.r.APIReader, Reader: h.k8s, Cloud: graph.NewFactory(nil).ForConnection(),
		Directory: h.r.Directory, Recorder: h.rec, Namespace: umNamespace, ResyncPeriod: time.Minute}
	sp := &identityv1alpha1.SyncPlan{ObjectMeta: metav1.ObjectMeta{Name: "first", Generation: 1, UID: "uid-first"},
		Spec: identityv1alpha1.SyncPlanSpec{TenantRef: identityv1alpha1.TenantReference{Name: "contoso"}, DirectoryRef: identityv1alpha1.DirectoryReference{Name: "corp"}}}
	if err := h.k8s.Create(ctx, sp); err != nil {
		t.Fatal(err)
	}
	res, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: types.NamespacedName{Name: "first"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.RequeueAfter != time.Hour {
		t.Errorf("requeue %v, want the default interval", res.RequeueAfter)
	}
	if err := h.k8s.Get(ctx, types.NamespacedName{Name: "first"}, sp); err != nil {
		t.Fatal(err)
	}
	if c := meta.FindStatusCondition(sp.Status.Conditions, identityv1alpha1.ConditionReady); c == nil || c.Reason != identityv1alpha1.ReasonPlanned {
		t.Fatalf("Ready %+v", sp.Status.Conditions)
	}

	// The report, read back as a person would.
	planned := map[string][]string{}
	for _, ref := range sp.Status.Report {
		var cm corev1.ConfigMap
		ns, name, _ := strings.Cut(ref, "/")
		if err := h.k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, &cm); err != nil {
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
	if int(sp.Status.Objects) != len(planned) || len(planned) != 7 {
		t.Fatalf("%d objects in status, %d in the report: %v", sp.Status.Objects, len(planned), planned)
	}

	// Now the sync, fed from the same directory by a reader of its own.
	dcl, err := directory.Dial(ctx, directory.Config{URLs: []string{h.dir.URL()}, BaseDN: h.dir.BaseDN(), BindDN: h.dir.AdminDN(),
		Password: adminPassword(t, h), CAPEM: h.dir.CAPEM()})
	if err != nil {
		t.Fatal(err)
	}
	defer dcl.Close()
	objs, err := dcl.ObjectsInScope(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	results, err := entra.Export(h.em, objs, directory.AnchorAuto)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{ana: "SoftMatchSmtp", ben: "SoftMatchUpn"}
	for i, got := range results {
		row := planned[strings.ToLower(objs[i].DN)]
		if row == nil {
			t.Fatalf("%s is not in the plan", objs[i].DN)
		}
		code := ""
		if got.Error != nil {
			code = got.Error.Code
		}
		outcome := map[emulator.SyncOutcome]string{emulator.OutcomeSoftMatchSMTP: "SoftMatchSMTP", emulator.OutcomeSoftMatchUPN: "SoftMatchUPN",
			emulator.OutcomeError: "Refused"}[got.Outcome]
		if outcome == "" {
			outcome = string(got.Outcome)
		}
		if outcome != row[2] || (row[4] != "" && row[4] != got.ObjectID) {
			t.Errorf("%s: sync %s (%s) %s, the plan said %v", objs[i].DN, got.Outcome, code, got.ObjectID, row)
		}
		if code == "ExistingAdminRoleConflict" && row[3] != code {
			t.Errorf("%s: sync code %s, the plan said %v", objs[i].DN, code, row)
		}
		delete(want, got.ObjectID)
	}
	if len(want) > 0 {
		t.Errorf("not matched as planned: %v", want)
	}
	if sp.Status.Matched != 4 || sp.Status.Created != 3 || len(sp.Status.Attention) == 0 {
		t.Errorf("status %+v", sp.Status)
	}

	// Planned again after the sync: every object is now synced, the report
	// is rewritten in place, and the change is announced.
	if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: types.NamespacedName{Name: "first"}}); err != nil {
		t.Fatal(err)
	}
	if err := h.k8s.Get(ctx, types.NamespacedName{Name: "first"}, sp); err != nil {
		t.Fatal(err)
	}
	if sp.Status.Matched != 7 || sp.Status.Created != 0 || sp.Status.Refused != 0 {
		t.Errorf("after the sync: %+v", sp.Status.Outcomes)
	}
	var cm corev1.ConfigMap
	if err := h.k8s.Get(ctx, types.NamespacedName{Namespace: umNamespace, Name: "syncplan-first-0"}, &cm); err != nil || strings.Count(cm.Data["report.csv"], ",Updated,") != 7 {
		t.Errorf("report not rewritten: %v\n%s", err, cm.Data["report.csv"])
	}
	if !strings.Contains(strings.Join(h.events(), "\n"), identityv1alpha1.EventPlanChanged) {
		t.Error("no PlanChanged Event")
	}
}

func adminPassword(t *testing.T, h *umHarness) string {
	t.Helper()
	var s corev1.Secret
	if err := h.k8s.Get(context.Background(), types.NamespacedName{Namespace: umNamespace, Name: "ad-bind"}, &s); err != nil {
		t.Fatal(err)
	}
	return string(s.Data["password"])
}
