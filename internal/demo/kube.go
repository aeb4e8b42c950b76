package demo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
)

// Names of the demo's Kubernetes objects.
const (
	namespace        = "entramatch-system"
	tenantName       = "contoso"
	directoryName    = "contoso-local"
	appSecretName    = "entra-app"
	bindSecretName   = "ad-bind"
	syncFeaturesName = "contoso"
)

// baseObjects are the namespace, the credential Secrets and the
// EntraTenant and ActiveDirectory every UserMatch refers to.
func (w *world) baseObjects(t Tenant) []client.Object {
	return []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: appSecretName, Namespace: namespace},
			StringData: map[string]string{"clientSecret": w.clientSecret}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: bindSecretName, Namespace: namespace},
			StringData: map[string]string{"password": w.adminPass}},
		&identityv1alpha1.EntraTenant{
			ObjectMeta: metav1.ObjectMeta{Name: tenantName},
			Spec: identityv1alpha1.EntraTenantSpec{
				TenantID: t.TenantID,
				Cloud:    identityv1alpha1.CloudCustom,
				Custom: &identityv1alpha1.CustomCloud{
					GraphURL: w.em.URL(), AuthorityURL: w.em.URL(), CABundle: string(w.em.CACertPEM()),
				},
				Credentials: identityv1alpha1.TenantCredentials{ClientSecret: &identityv1alpha1.ClientSecretCredential{
					ClientID:  t.ClientID,
					SecretRef: identityv1alpha1.SecretKeyReference{Name: appSecretName, Namespace: namespace, Key: "clientSecret"},
				}},
			},
		},
		&identityv1alpha1.ActiveDirectory{
			ObjectMeta: metav1.ObjectMeta{Name: directoryName},
			Spec: identityv1alpha1.ActiveDirectorySpec{
				URLs:   []string{w.dir.URL()},
				BaseDN: w.dir.BaseDN(),
				Bind: identityv1alpha1.LDAPBind{DN: w.dir.AdminDN(),
					PasswordSecretRef: identityv1alpha1.SecretKeyReference{Name: bindSecretName, Namespace: namespace, Key: "password"}},
				TLS: &identityv1alpha1.LDAPTLS{Mode: identityv1alpha1.TLSModeLDAPS, CABundle: string(w.dir.CAPEM())},
			},
		},
	}
}

// operatorObjects are what a person would apply once the tenant and the
// directory are connected: the UserMatches and the tenant's flags.
func operatorObjects(o Operator) []client.Object {
	var out []client.Object
	if f := o.TenantSyncFeatures; f != nil {
		out = append(out, &identityv1alpha1.TenantSyncFeatures{
			ObjectMeta: metav1.ObjectMeta{Name: syncFeaturesName},
			Spec: identityv1alpha1.TenantSyncFeaturesSpec{
				TenantRef:       identityv1alpha1.TenantReference{Name: tenantName},
				Features:        f.Features.DeepCopy(),
				MatchingWindows: append([]identityv1alpha1.MatchingWindow(nil), f.MatchingWindows...),
			},
		})
	}
	for _, um := range o.UserMatches {
		out = append(out, &identityv1alpha1.UserMatch{
			ObjectMeta: metav1.ObjectMeta{Name: um.Name},
			Spec: identityv1alpha1.UserMatchSpec{
				TenantRef:    identityv1alpha1.TenantReference{Name: tenantName},
				DirectoryRef: identityv1alpha1.DirectoryReference{Name: directoryName},
				ADUser:       um.ADUser,
				CloudUser:    um.CloudUser.DeepCopy(),
			},
		})
	}
	return out
}

func create(ctx context.Context, c client.Client, objs []client.Object) error {
	for _, o := range objs {
		if err := c.Create(ctx, o); err != nil {
			return fmt.Errorf("creating %T %s: %w", o, o.GetName(), err)
		}
	}
	return nil
}

// pollInterval is how often the demo looks at the objects it waits for.
const pollInterval = 200 * time.Millisecond

// poll calls check until it says done, the timeout runs out, or ctx ends.
// On timeout it returns the error of describe, which says what was missing.
func poll(ctx context.Context, timeout time.Duration, check func(context.Context) (bool, error), describe func() error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for {
		done, err := check(ctx)
		if err != nil && ctx.Err() == nil {
			return err
		}
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return describe()
			}
			return ctx.Err()
		case <-t.C:
		}
	}
}

// waitConnected waits until the operator has signed in to the tenant and
// bound to the directory; UserMatches need the tenant's verified domains.
func waitConnected(ctx context.Context, c client.Client, timeout time.Duration) error {
	var tenant identityv1alpha1.EntraTenant
	var ad identityv1alpha1.ActiveDirectory
	ready := func(conds []metav1.Condition, gen, observed int64) bool {
		return observed == gen && meta.IsStatusConditionTrue(conds, identityv1alpha1.ConditionReady)
	}
	return poll(ctx, timeout, func(ctx context.Context) (bool, error) {
		if err := c.Get(ctx, types.NamespacedName{Name: tenantName}, &tenant); err != nil {
			return false, client.IgnoreNotFound(err)
		}
		if err := c.Get(ctx, types.NamespacedName{Name: directoryName}, &ad); err != nil {
			return false, client.IgnoreNotFound(err)
		}
		return ready(tenant.Status.Conditions, tenant.Generation, tenant.Status.ObservedGeneration) &&
			ready(ad.Status.Conditions, ad.Generation, ad.Status.ObservedGeneration), nil
	}, func() error {
		return fmt.Errorf("the operator did not connect within %s: EntraTenant %s:%s; ActiveDirectory %s:%s",
			timeout, tenantName, describeConditions(tenant.Status.Conditions), directoryName, describeConditions(ad.Status.Conditions))
	})
}

// waitUserMatches polls the named UserMatches until done holds for each of
// them (checked against the current generation), and returns them as
// last read. On timeout the objects are returned too, with the error.
func waitUserMatches(ctx context.Context, c client.Client, names []string, timeout time.Duration,
	done func(*identityv1alpha1.UserMatch) bool) (map[string]identityv1alpha1.UserMatch, error) {
	got := map[string]identityv1alpha1.UserMatch{}
	err := poll(ctx, timeout, func(ctx context.Context) (bool, error) {
		all := true
		for _, n := range names {
			var um identityv1alpha1.UserMatch
			if err := c.Get(ctx, types.NamespacedName{Name: n}, &um); err != nil {
				return false, client.IgnoreNotFound(err)
			}
			got[n] = um
			if um.Status.ObservedGeneration != um.Generation || !done(&um) {
				all = false
			}
		}
		return all, nil
	}, func() error {
		var waiting []string
		for _, n := range names {
			um := got[n]
			if um.Status.ObservedGeneration != um.Generation || !done(&um) {
				waiting = append(waiting, fmt.Sprintf("UserMatch %s:%s", n, describeConditions(um.Status.Conditions)))
			}
		}
		return fmt.Errorf("timed out after %s waiting for %s", timeout, strings.Join(waiting, "; "))
	})
	return got, err
}

// settled says a UserMatch has decided: it carries the anchor, or it is
// blocked.
func settled(um *identityv1alpha1.UserMatch) bool {
	return meta.IsStatusConditionTrue(um.Status.Conditions, identityv1alpha1.ConditionMatched) ||
		meta.IsStatusConditionTrue(um.Status.Conditions, identityv1alpha1.ConditionBlocked)
}

func describeConditions(conds []metav1.Condition) string {
	if len(conds) == 0 {
		return " no status yet"
	}
	var b strings.Builder
	for _, c := range conds {
		fmt.Fprintf(&b, " %s=%s", c.Type, c.Status)
		if c.Reason != "" {
			fmt.Fprintf(&b, " (%s)", c.Reason)
		}
	}
	return b.String()
}
