// Package e2e_test runs the operator end to end on real parts: a
// kube-apiserver (envtest), a Samba AD DC over LDAPS, the Entra emulator over
// HTTPS, and the manager with its real Graph and LDAP clients. Everything is
// driven through the Kubernetes API, as a person would.
package e2e_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/controllers"
	"github.com/entramatch/entra-match-operator/internal/emulator"
	"github.com/entramatch/entra-match-operator/internal/graph"
	"github.com/entramatch/entra-match-operator/internal/metrics"
	"github.com/entramatch/entra-match-operator/internal/seal"
	"github.com/entramatch/entra-match-operator/internal/testenv/kube"
	"github.com/entramatch/entra-match-operator/internal/testenv/samba"
)

const (
	tenantID      = "8f2a6d1c-3b4e-4c5d-9e6f-7a8b9c0d1e2f"
	clientID      = "5b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d"
	clientSecret  = "e2e-client-secret-value"
	initialDomain = "contoso.onmicrosoft.com"
	ns            = "entramatch-system"
	resync        = 2 * time.Second
)

// world is the shared environment, started once on first use so that a
// machine without samba skips (or, with CI=true, fails) like any other test.
type world struct {
	kube *kube.Env
	k8s  client.Client
	dc   *samba.DC
	em   *emulator.Server
	// tokenFile is the projected service account token of the workload
	// identity app.
	tokenFile string
	// scan gathers secrets and what people see, for TestZZNoSecretLeaks.
	scan *secretScan
	// trail scrapes the manager's /metrics through the run, and health
	// reads every status the run writes as Argo CD and Flux would, for
	// the zz tests.
	trail  *metricsTrail
	health *healthTrail
	stop   []func()
	err    error
}

var (
	shared   world
	setupRun sync.Once
	dcShared samba.Shared
)

func TestMain(m *testing.M) {
	code := m.Run()
	for i := len(shared.stop) - 1; i >= 0; i-- {
		shared.stop[i]()
	}
	dcShared.Stop()
	os.Exit(code)
}

// env returns the running world, starting it on first use.
func env(t *testing.T) *world {
	t.Helper()
	dc := dcShared.Get(t)
	setupRun.Do(func() { shared.err = shared.start(dc) })
	if shared.err != nil {
		t.Fatalf("starting the end-to-end environment: %v", shared.err)
	}
	return &shared
}

func (w *world) start(dc *samba.DC) error {
	w.dc = dc
	w.scan = newSecretScan()
	w.scan.secret(clientSecret, "the app's client secret")
	w.scan.secret(dc.Password, "the bind password")
	ctrl.SetLogger(zap.New(zap.UseDevMode(true), zap.WriteTo(io.MultiWriter(os.Stderr, w.scan))))
	k, err := kube.Start()
	if err != nil {
		return err
	}
	w.kube, w.k8s = k, k.Client
	w.stop = append(w.stop, func() { _ = k.Stop() })

	tokenDir, err := os.MkdirTemp("", "e2e-token-")
	if err != nil {
		return err
	}
	w.stop = append(w.stop, func() { _ = os.RemoveAll(tokenDir) })
	wiApp, tokenFile, err := workloadIdentityApp(tokenDir)
	if err != nil {
		return err
	}
	w.tokenFile = tokenFile
	em, err := emulator.New(emulator.Config{
		TenantID:        tenantID,
		InitialDomain:   initialDomain,
		OwnAudienceOnly: true,
		OnSecret:        func(v string) { w.scan.secret(v, "a credential the emulator issued") },
		Apps: []emulator.App{{ClientID: clientID, Secret: clientSecret, Permissions: []string{
			"User.ReadWrite.All", "Domain.Read.All", "Organization.Read.All",
			"RoleManagement.ReadWrite.Directory", "OnPremDirectorySynchronization.ReadWrite.All",
		}}, wiApp},
		State: &emulator.Snapshot{
			Organization: emulator.Organization{DisplayName: "Contoso"},
			Domains: []emulator.Domain{
				{ID: initialDomain, IsInitial: true, IsVerified: true, AuthenticationType: "Managed"},
				{ID: dc.DNSDomain, IsDefault: true, IsVerified: true, AuthenticationType: "Managed"},
			},
		},
	})
	if err != nil {
		return err
	}
	certDir, err := os.MkdirTemp("", "e2e-emulator-")
	if err != nil {
		return err
	}
	if err := em.Start("127.0.0.1:0", certDir); err != nil {
		return err
	}
	w.em = em
	w.stop = append(w.stop, func() { _ = em.Close(); _ = os.RemoveAll(certDir) })

	mgr, err := ctrl.NewManager(k.Config, ctrl.Options{
		Scheme:                 k.Scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	})
	if err != nil {
		return err
	}
	dirs := controllers.NewCachingDirectoryFactory()
	sealKey, err := seal.NewKey()
	if err != nil {
		return err
	}
	if err := controllers.Setup(mgr, controllers.Options{
		SealKey:          sealKey,
		Cloud:            graph.NewFactory(metrics.GraphObserver{}).ForConnection(),
		Directory:        dirs,
		ResyncPeriod:     resync,
		Concurrency:      4,
		SecretNamespaces: []string{ns},
		TokenFileDirs:    []string{tokenDir},
	}); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	w.stop = append(w.stop, func() { cancel(); <-done; dirs.Close() })

	wc, err := client.NewWithWatch(k.Config, client.Options{Scheme: k.Scheme})
	if err != nil {
		return err
	}
	w.scan.watch(ctx, wc)
	w.health = newHealthTrail()
	w.health.watch(ctx, wc)
	if w.trail, err = startMetricsTrail(); err != nil {
		return err
	}
	w.stop = append(w.stop, w.trail.close)
	return w.applyBase(ctx)
}

// applyBase creates the namespace, the credential Secrets, and the
// EntraTenant and ActiveDirectory that every UserMatch refers to.
func (w *world) applyBase(ctx context.Context) error {
	objs := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "entra-app", Namespace: ns},
			StringData: map[string]string{"clientSecret": clientSecret}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "ad-bind", Namespace: ns},
			StringData: map[string]string{"password": w.dc.Password}},
		w.tenant("contoso", "entra-app"),
		w.directory("corp", "ad-bind"),
	}
	for _, o := range objs {
		if err := w.k8s.Create(ctx, o); err != nil {
			return fmt.Errorf("creating %T %s: %w", o, o.GetName(), err)
		}
	}
	return nil
}

func (w *world) tenant(name, secret string) *identityv1alpha1.EntraTenant {
	return &identityv1alpha1.EntraTenant{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: identityv1alpha1.EntraTenantSpec{
			TenantID: tenantID,
			Cloud:    identityv1alpha1.CloudCustom,
			Custom: &identityv1alpha1.CustomCloud{
				GraphURL: w.em.URL(), AuthorityURL: w.em.URL(), CABundle: string(w.em.CACertPEM()),
			},
			Credentials: identityv1alpha1.TenantCredentials{ClientSecret: &identityv1alpha1.ClientSecretCredential{
				ClientID:  clientID,
				SecretRef: identityv1alpha1.SecretKeyReference{Name: secret, Namespace: ns, Key: "clientSecret"},
			}},
		},
	}
}

func (w *world) directory(name, secret string) *identityv1alpha1.ActiveDirectory {
	return &identityv1alpha1.ActiveDirectory{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: identityv1alpha1.ActiveDirectorySpec{
			URLs:   []string{w.dc.URL},
			BaseDN: w.dc.BaseDN,
			Bind: identityv1alpha1.LDAPBind{DN: w.dc.BindDN,
				PasswordSecretRef: identityv1alpha1.SecretKeyReference{Name: secret, Namespace: ns, Key: "password"}},
			TLS: &identityv1alpha1.LDAPTLS{Mode: identityv1alpha1.TLSModeLDAPS, CABundle: string(w.dc.CAPEM)},
		},
	}
}
