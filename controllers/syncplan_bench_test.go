//go:build !unit

package controllers

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/emulator"
	"github.com/entramatch/entra-match-operator/internal/fakead"
	"github.com/entramatch/entra-match-operator/internal/graph"
)

// BenchmarkSyncPlan10k plans 10,000 AD users, 1,000 groups and 1,000
// contacts against a tenant of 10,000 users, with Graph throttling on (the
// large-tenant class), through the real LDAP and Graph clients, and
// reports what one plan costs: seconds, Graph requests and resource units
// as the emulator counts them. `make bench` runs it; the figures go in the
// notes, not in assertions.
func BenchmarkSyncPlan10k(b *testing.B) {
	const users, groups, contacts = 10000, 1000, 1000
	var requests, units atomic.Int64
	h := newUMHarness(b, func(c *emulator.Config) {
		c.AppOnlySyncFeatures = true
		c.Throttle = emulator.ThrottleLarge
		c.Apps[0].Permissions = append(c.Apps[0].Permissions, "Group.Read.All", "OrgContact.Read.All")
		c.GraphMiddleware = append(c.GraphMiddleware, func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				next.ServeHTTP(w, r)
				requests.Add(1)
				if ru, err := strconv.Atoi(w.Header().Get("x-ms-resource-unit")); err == nil {
					units.Add(int64(ru))
				}
			})
		})
	})
	ctx := context.Background()
	for i := range users {
		sam := fmt.Sprintf("u%05d", i)
		if _, _, err := h.dir.AddUser(fakead.User{SAMAccountName: sam, UserPrincipalName: sam + "@" + umDomain, Mail: sam + "@" + umDomain,
			ProxyAddresses: []string{"SMTP:" + sam + "@" + umDomain}}); err != nil {
			b.Fatal(err)
		}
	}
	for i := range groups {
		sam := fmt.Sprintf("g%04d", i)
		if _, _, err := h.dir.AddGroup(fakead.Group{SAMAccountName: sam, Mail: sam + "@" + umDomain, ProxyAddresses: []string{"SMTP:" + sam + "@" + umDomain}, GroupType: 2}); err != nil {
			b.Fatal(err)
		}
	}
	for i := range contacts {
		cn := fmt.Sprintf("c%04d", i)
		if _, _, err := h.dir.AddContact(fakead.Contact{CN: cn, Mail: cn + "@fabrikam.example"}); err != nil {
			b.Fatal(err)
		}
	}
	if err := h.em.Update(func(s *emulator.Snapshot) error {
		for i := range users {
			upn := fmt.Sprintf("u%05d@%s", i, umDomain)
			s.Users = append(s.Users, emulator.User{ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), UserPrincipalName: upn, DisplayName: upn,
				MailNickname: fmt.Sprintf("u%05d", i)})
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	r := &SyncPlanReconciler{Client: h.k8s, APIReader: h.r.APIReader, Reader: h.k8s, Cloud: graph.NewFactory(nil).ForConnection(),
		Directory: h.r.Directory, Recorder: h.rec, Namespace: umNamespace, ResyncPeriod: time.Minute}
	sp := &identityv1alpha1.SyncPlan{ObjectMeta: metav1.ObjectMeta{Name: "big", Generation: 1, UID: "uid-big"},
		Spec: identityv1alpha1.SyncPlanSpec{TenantRef: identityv1alpha1.TenantReference{Name: "contoso"}, DirectoryRef: identityv1alpha1.DirectoryReference{Name: "corp"}}}
	if err := h.k8s.Create(ctx, sp); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		requests.Store(0)
		units.Store(0)
		start := time.Now()
		if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: types.NamespacedName{Name: "big"}}); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(time.Since(start).Seconds(), "s/plan")
	}
	b.StopTimer()
	if err := h.k8s.Get(ctx, types.NamespacedName{Name: "big"}, sp); err != nil {
		b.Fatal(err)
	}
	if sp.Status.Objects < users+groups+contacts {
		b.Fatalf("planned %d objects: %+v", sp.Status.Objects, sp.Status.Conditions)
	}
	b.ReportMetric(float64(sp.Status.Objects), "objects")
	b.ReportMetric(float64(requests.Load()), "graph-requests/plan")
	b.ReportMetric(float64(units.Load()), "resource-units/plan")
	b.ReportMetric(float64(len(sp.Status.Report)), "report-configmaps")
}
