package demo

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/entramatch/entra-match-operator/controllers"
	"github.com/entramatch/entra-match-operator/internal/emulator"
	"github.com/entramatch/entra-match-operator/internal/fakead"
	"github.com/entramatch/entra-match-operator/internal/graph"
	"github.com/entramatch/entra-match-operator/internal/seal"
	"github.com/entramatch/entra-match-operator/internal/testenv/kube"
)

// world is everything the demo runs: a control plane, the directory, the
// tenant and the manager, all on loopback and all stopped by close.
type world struct {
	kube         *kube.Env
	dir          *fakead.Server
	em           *emulator.Server
	adminPass    string
	clientSecret string
	workDir      string
	kubeconfig   string

	cleanups []func()
}

// close undoes the start steps in reverse order; it is safe to call on a
// half-started world.
func (w *world) close() {
	for i := len(w.cleanups) - 1; i >= 0; i-- {
		w.cleanups[i]()
	}
	w.cleanups = nil
}

func (w *world) onClose(f func()) { w.cleanups = append(w.cleanups, f) }

// startWorkDir creates the directory for the kubeconfig and the emulator's
// certificates: a fresh temporary one unless the caller names one.
func (w *world) startWorkDir(dir string) error {
	if dir == "" {
		d, err := os.MkdirTemp("", "entramatch-demo-")
		if err != nil {
			return fmt.Errorf("creating the demo's work directory: %w", err)
		}
		w.workDir = d
		w.onClose(func() { _ = os.RemoveAll(d) })
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating the demo's work directory: %w", err)
	}
	w.workDir = dir
	// Only what the demo wrote goes; the directory may hold other files.
	w.onClose(func() {
		_ = os.Remove(filepath.Join(dir, "kubeconfig"))
		_ = os.RemoveAll(filepath.Join(dir, "emulator"))
	})
	return nil
}

func (w *world) startKube() error {
	k, err := kube.Start()
	if err != nil {
		// The CRDs are read from the repository's config/crd/bases.
		return fmt.Errorf("starting the control plane (run the demo inside the repository, e.g. with `make demo`): %w", err)
	}
	w.kube = k
	w.onClose(func() { _ = k.Stop() })
	w.kubeconfig = filepath.Join(w.workDir, "kubeconfig")
	if err := k.Kubeconfig(w.kubeconfig); err != nil {
		return fmt.Errorf("writing the kubeconfig: %w", err)
	}
	return nil
}

func (w *world) startDirectory(d Directory) error {
	pass, err := randomSecret()
	if err != nil {
		return err
	}
	// AD's default password policy wants three character classes.
	w.adminPass = "Demo-" + pass + "9a"
	dir, err := fakead.New(fakead.Config{Domain: d.Domain, AdminPassword: w.adminPass})
	if err != nil {
		return err
	}
	w.onClose(dir.Close)
	if err := dir.Load(d.Seed); err != nil {
		return fmt.Errorf("loading the directory: %w", err)
	}
	if err := dir.Start("127.0.0.1:0"); err != nil {
		return fmt.Errorf("starting the directory: %w", err)
	}
	w.dir = dir
	return nil
}

func (w *world) startTenant(t Tenant) error {
	secret, err := randomSecret()
	if err != nil {
		return err
	}
	w.clientSecret = secret
	state, err := t.State.DeepCopy()
	if err != nil {
		return err
	}
	em, err := emulator.New(emulator.Config{
		TenantID:            t.TenantID,
		InitialDomain:       t.InitialDomain,
		OwnAudienceOnly:     true,
		Apps:                []emulator.App{{ClientID: t.ClientID, Secret: secret, Permissions: t.Permissions}},
		State:               &state,
		AppOnlySyncFeatures: true,
	})
	if err != nil {
		return fmt.Errorf("loading the tenant: %w", err)
	}
	certDir := filepath.Join(w.workDir, "emulator")
	if err := os.MkdirAll(certDir, 0o700); err != nil {
		return err
	}
	if err := em.Start("127.0.0.1:0", certDir); err != nil {
		return fmt.Errorf("starting the Entra emulator: %w", err)
	}
	w.em = em
	w.onClose(func() { _ = em.Close() })
	return nil
}

// startManager runs the operator's controllers in this process, wired
// exactly as cmd/manager wires them.
func (w *world) startManager(log logr.Logger, o controllers.Options) error {
	skipNameCheck := true
	mgr, err := ctrl.NewManager(w.kube.Config, ctrl.Options{
		Scheme:                 w.kube.Scheme,
		Logger:                 log,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		// Controller names are unique per process, and a test may run the
		// demo (and so a new manager) more than once.
		Controller: config.Controller{SkipNameValidation: &skipNameCheck},
		Cache:      cache.Options{DefaultTransform: controllers.CacheTransform()},
	})
	if err != nil {
		return fmt.Errorf("creating the manager: %w", err)
	}
	dirs := controllers.NewCachingDirectoryFactory()
	o.Cloud = graph.NewFactory(nil).ForConnection()
	o.Directory = dirs
	o.SecretNamespaces = []string{namespace}
	if o.SealKey, err = seal.NewKey(); err != nil {
		dirs.Close()
		return err
	}
	if err := controllers.Setup(mgr, o); err != nil {
		dirs.Close()
		return fmt.Errorf("setting up the controllers: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	w.onClose(func() {
		cancel()
		if err := <-done; err != nil {
			log.Error(err, "The manager stopped with an error")
		}
		dirs.Close()
	})
	select {
	case <-mgr.Elected():
		return nil
	case err := <-done:
		// The deferred cleanup waits on done too; hand the result back.
		done <- err
		if err == nil {
			err = errors.New("the manager stopped at once")
		}
		return fmt.Errorf("starting the manager: %w", err)
	}
}

// randomSecret returns 24 random bytes in URL-safe Base64: passwords and
// client secrets that exist only for this run and are never printed.
func randomSecret() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating a secret: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
