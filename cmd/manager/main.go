// Command manager runs the entra-match-operator controllers.
package main

import (
	"context"
	"flag"
	"os"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/controllers"
	"github.com/entramatch/entra-match-operator/internal/graph"
	"github.com/entramatch/entra-match-operator/internal/metrics"
	"github.com/entramatch/entra-match-operator/internal/metricsauth"
)

func main() {
	var (
		metricsAddr, probeAddr string
		leaderElect            bool
		opts                   controllers.Options
	)
	var metricsSecure bool
	flag.StringVar(&metricsAddr, "metrics-bind-address", ":8443", "Address the /metrics endpoint binds to; 0 disables it.")
	flag.BoolVar(&metricsSecure, "metrics-secure", true,
		"Serve /metrics over HTTPS to callers whose token the API server authenticates and authorizes (get on the non-resource URL /metrics). "+
			"Turn off only with a loopback --metrics-bind-address.")
	flag.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "Address the health probes bind to.")
	var pprofAddr string
	flag.StringVar(&pprofAddr, "pprof-bind-address", "0", "Address Go's /debug/pprof profiles are served on (plain HTTP, no authentication: a loopback address only); 0 disables them.")
	flag.BoolVar(&leaderElect, "leader-elect", false, "Elect a leader, so that only one replica reconciles at a time.")
	var leaseDuration, renewDeadline, retryPeriod time.Duration
	flag.DurationVar(&leaseDuration, "leader-elect-lease-duration", 15*time.Second,
		"How long a replica waits, after the leader stopped renewing, before it takes over (a killed leader's work resumes after about this long).")
	flag.DurationVar(&renewDeadline, "leader-elect-renew-deadline", 10*time.Second, "How long the leader keeps trying to renew before it gives up leading.")
	flag.DurationVar(&retryPeriod, "leader-elect-retry-period", 2*time.Second, "How often replicas try to acquire or renew the lease.")
	flag.DurationVar(&opts.ResyncPeriod, "resync-period", 5*time.Minute, "How often each resource is looked at again to catch drift made outside Kubernetes.")
	flag.IntVar(&opts.Concurrency, "concurrency", 16, "UserMatches reconciled at once (16: with Graph answering in about 100 ms, enough to outrun the write quota; see docs/performance.md).")
	var secretNamespaces, tokenDirs string
	flag.StringVar(&tokenDirs, "token-file-dirs", "/var/run/secrets/azure/tokens,/var/run/secrets/tokens",
		"Comma-separated directories workload identity token files may be read from (projected federation tokens with audience api://AzureADTokenExchange).")
	flag.StringVar(&secretNamespaces, "secret-namespaces", "",
		"Comma-separated namespaces the operator reads Secrets from; default: its own (POD_NAMESPACE, or the service account's namespace). "+
			"A resource naming a Secret elsewhere gets SecretNotAllowed.")
	flag.Func("graph-write-quota", "Graph writes per period each tenant's writes are paced at, such as 3000/150s (Graph's documented write quota per app and tenant, the default); 0 turns pacing off.",
		func(v string) (err error) { opts.WriteQuota, err = controllers.ParseWriteQuota(v); return err })
	zapOpts := zap.Options{}
	zapOpts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))
	log := ctrl.Log.WithName("setup")
	opts.SecretNamespaces = namespaces(secretNamespaces)
	opts.TokenFileDirs = splitList(tokenDirs)
	if len(opts.SecretNamespaces) == 0 {
		log.Error(nil, "No namespace to read Secrets from: set POD_NAMESPACE or --secret-namespaces")
		os.Exit(1)
	}

	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(identityv1alpha1.AddToScheme(scheme))

	mgr, err := ctrl.NewManager(ctrl.GetConfigOrDie(), ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsOptions(metricsAddr, metricsSecure),
		HealthProbeBindAddress: probeAddr,
		PprofBindAddress:       pprofAddr,
		LeaderElection:         leaderElect,
		LeaderElectionID:       "entra-match-operator.identity.entramatch.io",
		// Outside a Pod (a manager run by hand or by the tests) there is no
		// service account namespace to find the Lease in.
		LeaderElectionNamespace: ownNamespace(),
		// The process exits as soon as the manager stops, so handing the
		// Lease over at once is safe, and a rolling update does not wait a
		// whole lease duration.
		LeaderElectionReleaseOnCancel: true,
		LeaseDuration:                 &leaseDuration,
		RenewDeadline:                 &renewDeadline,
		RetryPeriod:                   &retryPeriod,
		// managedFields are a large part of every cached object and the
		// operator never reads them: with 10,000 UserMatches they would
		// cost tens of MiB. The UserMatches' repeated strings are shared.
		Cache: cache.Options{DefaultTransform: controllers.CacheTransform()},
	})
	if err != nil {
		log.Error(err, "Unable to create the manager")
		os.Exit(1)
	}
	// The key sealing recorded roles lives in the manager's own namespace.
	direct, err := client.New(mgr.GetConfig(), client.Options{Scheme: scheme})
	if err == nil {
		opts.Namespace = ownNamespace()
		opts.SealKey, err = controllers.LoadSealKey(context.Background(), direct, opts.Namespace)
	}
	if err != nil {
		log.Error(err, "Unable to load the key that seals recorded roles")
		os.Exit(1)
	}
	opts.Cloud = graph.NewFactory(metrics.GraphObserver{}).ForConnection()
	dirs := controllers.NewCachingDirectoryFactory()
	defer dirs.Close()
	opts.Directory = dirs
	if err := controllers.Setup(mgr, opts); err != nil {
		log.Error(err, "Unable to set up the controllers")
		os.Exit(1)
	}
	utilruntime.Must(mgr.AddHealthzCheck("healthz", healthz.Ping))
	utilruntime.Must(mgr.AddReadyzCheck("readyz", healthz.Ping))
	log.Info("Starting the manager")
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		log.Error(err, "The manager stopped with an error")
		os.Exit(1)
	}
}

func splitList(v string) []string {
	var out []string
	for _, n := range strings.Split(v, ",") {
		if n = strings.TrimSpace(n); n != "" {
			out = append(out, n)
		}
	}
	return out
}

// namespaces is the flag's list, or the manager's own namespace.
func namespaces(flagValue string) []string {
	if out := splitList(flagValue); len(out) > 0 {
		return out
	}
	if n := ownNamespace(); n != "" {
		return []string{n}
	}
	return nil
}

// ownNamespace is the manager's namespace: POD_NAMESPACE (set from the
// downward API), else its service account's.
func ownNamespace() string {
	if n := strings.TrimSpace(os.Getenv("POD_NAMESPACE")); n != "" {
		return n
	}
	if b, err := os.ReadFile("/var/run/secrets/kubernetes.io/serviceaccount/namespace"); err == nil {
		return strings.TrimSpace(string(b))
	}
	return ""
}

// metricsOptions protects /metrics as kubebuilder's layout does: HTTPS with
// the API server authenticating the caller's token and authorizing it
// (TokenReview, SubjectAccessReview). The metrics name tenants, users and
// roles, so they are not served to whoever can reach the port.
func metricsOptions(addr string, secure bool) metricsserver.Options {
	o := metricsserver.Options{BindAddress: addr, SecureServing: secure}
	if secure {
		o.FilterProvider = metricsauth.Provider
	}
	return o
}
