//go:build !unit

// Excluded from make unit (-tags unit): it needs a kube-apiserver.

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
)

// `status` against a real API server: the tenant, its TenantSyncFeatures,
// the directories its UserMatches use, and the UserMatches that are not
// Ready, with counts by reason; another tenant's objects are left out.
func TestStatusSummarisesATenant(t *testing.T) {
	k, kubeconfig := startKube(t)
	ctx := context.Background()
	ref := identityv1alpha1.SecretKeyReference{Namespace: "ops", Name: "app", Key: "clientSecret"}
	withStatus := func(obj client.Object, conds ...metav1.Condition) {
		t.Helper()
		if err := k.Client.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
		for _, c := range conds {
			c.LastTransitionTime = metav1.Now()
			meta.SetStatusCondition(conditionsPtr(obj), c)
		}
		if err := k.Client.Status().Update(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	ready := func(s metav1.ConditionStatus, reason, msg string) metav1.Condition {
		return metav1.Condition{Type: identityv1alpha1.ConditionReady, Status: s, Reason: reason, Message: msg}
	}
	stalled := func(reason, msg string) metav1.Condition {
		return metav1.Condition{Type: identityv1alpha1.ConditionStalled, Status: metav1.ConditionTrue, Reason: reason, Message: msg}
	}
	for _, name := range []string{"contoso", "fabrikam"} {
		withStatus(&identityv1alpha1.EntraTenant{ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: identityv1alpha1.EntraTenantSpec{TenantID: "72f988bf-86f1-41af-91ab-2d7cd011db47",
				Credentials: identityv1alpha1.TenantCredentials{ClientSecret: &identityv1alpha1.ClientSecretCredential{
					ClientID: "0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5", SecretRef: ref}}}},
			ready(metav1.ConditionTrue, identityv1alpha1.ReasonVerified, "signed in to "+name))
	}
	withStatus(&identityv1alpha1.TenantSyncFeatures{ObjectMeta: metav1.ObjectMeta{Name: "contoso-flags"},
		Spec: identityv1alpha1.TenantSyncFeaturesSpec{TenantRef: identityv1alpha1.TenantReference{Name: "contoso"}}},
		ready(metav1.ConditionFalse, identityv1alpha1.ReasonDrifted, "x is on"), stalled(identityv1alpha1.ReasonDrifted, "x is on, desired off"))
	withStatus(&identityv1alpha1.ActiveDirectory{ObjectMeta: metav1.ObjectMeta{Name: "corp"},
		Spec: identityv1alpha1.ActiveDirectorySpec{URLs: []string{"ldaps://dc1.corp.example.com:636"}, BaseDN: "DC=corp,DC=example,DC=com",
			Bind: identityv1alpha1.LDAPBind{DN: "svc@corp.example.com", PasswordSecretRef: ref}}},
		ready(metav1.ConditionTrue, identityv1alpha1.ReasonConnected, "bound over TLS"))
	um := func(name, tenant string, conds ...metav1.Condition) {
		withStatus(&identityv1alpha1.UserMatch{ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: identityv1alpha1.UserMatchSpec{TenantRef: identityv1alpha1.TenantReference{Name: tenant},
				DirectoryRef: identityv1alpha1.DirectoryReference{Name: "corp"},
				ADUser:       identityv1alpha1.ADUserSelector{SAMAccountName: name}}}, conds...)
	}
	um("alice", "contoso", ready(metav1.ConditionTrue, identityv1alpha1.ReasonSyncJoined, "joined"))
	um("bob", "contoso", ready(metav1.ConditionFalse, identityv1alpha1.ReasonImmutableIDSet, "waiting for sync"))
	um("carol", "contoso", ready(metav1.ConditionFalse, identityv1alpha1.ReasonPrivilegedRole, "holds Global Administrator"),
		stalled(identityv1alpha1.ReasonPrivilegedRole, "holds Global Administrator"))
	um("dave", "fabrikam", ready(metav1.ConditionFalse, identityv1alpha1.ReasonImmutableIDSet, "other tenant"))

	var out, errOut bytes.Buffer
	if code := run(ctx, "entramatch", []string{"status", "--tenant", "contoso", "-o", "json", "--kubeconfig", kubeconfig},
		strings.NewReader(""), &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var rep statusReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	got := map[string]resourceStatus{}
	for _, r := range rep.Resources {
		got[r.Kind+"/"+r.Name] = r
	}
	want := map[string]string{
		"EntraTenant/contoso":              "True " + identityv1alpha1.ReasonVerified,
		"TenantSyncFeatures/contoso-flags": "False " + identityv1alpha1.ReasonDrifted + " stalled",
		"ActiveDirectory/corp":             "True " + identityv1alpha1.ReasonConnected,
		"UserMatch/alice":                  "True " + identityv1alpha1.ReasonSyncJoined,
		"UserMatch/bob":                    "False " + identityv1alpha1.ReasonImmutableIDSet,
		"UserMatch/carol":                  "False " + identityv1alpha1.ReasonPrivilegedRole + " stalled",
	}
	if len(got) != len(want) {
		t.Errorf("resources = %+v", rep.Resources)
	}
	for key, w := range want {
		r := got[key]
		desc := r.Ready + " " + r.Reason
		if r.Stalled {
			desc += " stalled"
		}
		if desc != w {
			t.Errorf("%s = %q, want %q", key, desc, w)
		}
	}
	if s := rep.UserMatches; s.Total != 3 || s.Ready != 1 || s.Stalled != 1 || s.ByReason[identityv1alpha1.ReasonImmutableIDSet] != 1 {
		t.Errorf("summary = %+v", s)
	}

	// The table lists only what is not Ready among UserMatches.
	out.Reset()
	if code := run(ctx, "entramatch", []string{"status", "--tenant", "contoso", "--kubeconfig", kubeconfig}, strings.NewReader(""), &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	table := out.String()
	for _, s := range []string{"KIND", "STALLED", "carol", "bob", "UserMatches: 3, Ready 1, Stalled 1"} {
		if !strings.Contains(table, s) {
			t.Errorf("table lacks %q:\n%s", s, table)
		}
	}
	if strings.Contains(table, "alice") || strings.Contains(table, "dave") {
		t.Errorf("table lists a Ready UserMatch or another tenant's:\n%s", table)
	}

	// Bad input: exit 2 with the usage.
	errOut.Reset()
	if code := run(ctx, "entramatch", []string{"status", "--tenant", "contoso", "-o", "xml"}, strings.NewReader(""), &out, &errOut); code != 2 ||
		!strings.Contains(errOut.String(), "-o must be table, json or yaml") {
		t.Errorf("-o xml: exit %d, %q", code, errOut.String())
	}
}

func conditionsPtr(obj client.Object) *[]metav1.Condition {
	switch o := obj.(type) {
	case *identityv1alpha1.EntraTenant:
		return &o.Status.Conditions
	case *identityv1alpha1.TenantSyncFeatures:
		return &o.Status.Conditions
	case *identityv1alpha1.ActiveDirectory:
		return &o.Status.Conditions
	case *identityv1alpha1.UserMatch:
		return &o.Status.Conditions
	}
	panic("no conditions")
}
