//go:build !unit

// Excluded from make unit (-tags unit): it needs a kube-apiserver.

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"sigs.k8s.io/yaml"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
)

// `plan` against a real API server: the report of a SyncPlan as a table,
// CSV and JSON, only what needs a person with --attention, and --refresh
// waiting for a new plan (played here by a stand-in for the controller).
func TestPlanPrintsTheReport(t *testing.T) {
	k, kubeconfig := startKube(t)
	ctx := context.Background()
	if err := k.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ops"}}); err != nil {
		t.Fatal(err)
	}
	report := "object,kind,outcome,code,cloudObject,problems,message\n" +
		"\"CN=ana,OU=Staff,DC=corp\",user,SoftMatchSMTP,,id-ana,,soft match on the primary SMTP address ana@contoso.com\n" +
		"\"CN=cal,OU=Staff,DC=corp\",user,Created,ExistingAdminRoleConflict,,,the user holds an admin role\n" +
		"\"CN=dee,OU=Staff,DC=corp\",user,Created,UPNNotVerified,,UPNSuffixNotRoutable,no object to match\n"
	for i, body := range []string{report, "object,kind,outcome,code,cloudObject,problems,message\n\"CN=sec,OU=Groups,DC=corp\",group,Created,NotMailEnabled,,,a group without mail\n"} {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ops", Name: "syncplan-first-" + string(rune('0'+i))}, Data: map[string]string{"report.csv": body}}
		if err := k.Client.Create(ctx, cm); err != nil {
			t.Fatal(err)
		}
	}
	sp := &identityv1alpha1.SyncPlan{ObjectMeta: metav1.ObjectMeta{Name: "first"},
		Spec: identityv1alpha1.SyncPlanSpec{TenantRef: identityv1alpha1.TenantReference{Name: "contoso"}, DirectoryRef: identityv1alpha1.DirectoryReference{Name: "corp"}}}
	if err := k.Client.Create(ctx, sp); err != nil {
		t.Fatal(err)
	}
	setPlanned := func(at time.Time) {
		t.Helper()
		sp.Status.Report = []string{"ops/syncplan-first-0", "ops/syncplan-first-1"}
		sp.Status.LastPlanTime = &metav1.Time{Time: at}
		sp.Status.Conditions = []metav1.Condition{{Type: identityv1alpha1.ConditionReady, Status: metav1.ConditionTrue,
			Reason: identityv1alpha1.ReasonPlanned, LastTransitionTime: metav1.Now()}}
		if err := k.Client.Status().Update(ctx, sp); err != nil {
			t.Fatal(err)
		}
	}
	setPlanned(time.Now().Add(-time.Hour))

	cli := func(args ...string) (string, int) {
		var out, errOut bytes.Buffer
		code := run(ctx, "entramatch", append(args, "--kubeconfig", kubeconfig), strings.NewReader(""), &out, &errOut)
		return out.String() + errOut.String(), code
	}
	out, code := cli("plan", "first")
	if code != 0 || !strings.Contains(out, "CLOUD OBJECT") || strings.Count(out, "CN=") != 4 || !strings.Contains(out, "NotMailEnabled") {
		t.Fatalf("table (%d):\n%s", code, out)
	}
	out, code = cli("plan", "first", "-o", "json", "--attention")
	var lines []planLine
	if code != 0 || json.Unmarshal([]byte(out), &lines) != nil {
		t.Fatalf("json (%d):\n%s", code, out)
	}
	if len(lines) != 3 || lines[0].Code != "ExistingAdminRoleConflict" || len(lines[1].Problems) != 1 || lines[2].Code != "NotMailEnabled" {
		t.Fatalf("attention: %+v", lines)
	}
	out, code = cli("plan", "first", "-o", "csv")
	if code != 0 || !strings.HasPrefix(out, "object,kind,outcome") || strings.Count(out, "\n") != 5 {
		t.Fatalf("csv (%d):\n%s", code, out)
	}
	out, code = cli("plan", "first", "-o", "yaml")
	if code != 0 || yaml.Unmarshal([]byte(out), &lines) != nil || len(lines) != 4 ||
		lines[1].Page != "https://learn.microsoft.com/entra/identity/hybrid/connect/tshoot-connect-sync-errors" {
		t.Fatalf("yaml (%d):\n%s", code, out)
	}
	// -o html: the page internal/planreport's browser test opens, here
	// made from the SyncPlan's report.
	out, code = cli("plan", "first", "-o", "html")
	if code != 0 || !strings.HasPrefix(out, "<!DOCTYPE html>") || strings.Count(out, "<tr class=") != 4 ||
		!strings.Contains(out, `data-outcome="Created" data-count="3"`) || !strings.Contains(out, "CN=sec,OU=Groups,DC=corp") {
		t.Fatalf("html (%d):\n%s", code, out)
	}
	if _, code := cli("plan", "first", "-o", "pdf"); code != 2 {
		t.Fatalf("-o pdf exits %d, want 2 (usage)", code)
	}

	// --refresh: the annotation is set, and the command waits for a plan
	// made after it.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 100 {
			var got identityv1alpha1.SyncPlan
			if err := k.Client.Get(ctx, types.NamespacedName{Name: "first"}, &got); err == nil && got.Annotations[annotationReplan] != "" {
				sp = &got
				setPlanned(time.Now().Add(time.Second))
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	out, code = cli("plan", "first", "--refresh", "--timeout", "20s", "-o", "csv")
	<-done
	if code != 0 || !strings.Contains(out, "CN=sec") {
		t.Fatalf("refresh (%d):\n%s", code, out)
	}
	if _, code := cli("plan", "missing"); code == 0 {
		t.Fatal("a missing SyncPlan is not an error")
	}
}
