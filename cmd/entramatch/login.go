package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/cloud"
	"github.com/entramatch/entra-match-operator/internal/graph"
	"github.com/entramatch/entra-match-operator/internal/tenantaccess"
)

func init() {
	register(command{
		name:    "login",
		summary: "sign a Global Administrator in (device code) and store the refresh token where the operator reads it",
		run:     runLogin,
	})
}

func runLogin(ctx context.Context, e *env, args []string) error {
	fs := e.newFlagSet("login", "--tenant ENTRATENANT [--secret NAMESPACE/NAME] [flags]")
	tenant := fs.String("tenant", "", "name of the EntraTenant to sign in for (required)")
	secret := fs.String("secret", "", "Secret to store the sign-in in, NAMESPACE/NAME (default: the EntraTenant's spec.delegated.secretRef)")
	key := fs.String("key", "", "key of the Secret (default: spec.delegated.secretRef.key, else "+tenantaccess.DefaultKey+")")
	clientID := fs.String("client-id", "", "public client app to sign in through (default: spec.delegated.clientID, else the EntraTenant's app)")
	configure := fs.Bool("configure-tenant", false, "set spec.delegated of the EntraTenant to this Secret (leave it off when Git owns the EntraTenant)")
	connect := kubeFlags(fs)
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}
	if *tenant == "" {
		return usagef("--tenant is required")
	}
	opts := tenantaccess.LoginOptions{Tenant: *tenant, Key: *key, ClientID: *clientID, Configure: *configure}
	if *secret != "" {
		ns, name, ok := strings.Cut(*secret, "/")
		if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
			return usagef("--secret must be NAMESPACE/NAME, not %q", *secret)
		}
		opts.Secret = types.NamespacedName{Namespace: ns, Name: name}
	}
	c, err := connect()
	if err != nil {
		return err
	}
	res, err := tenantaccess.Login(ctx, c, opts, deviceCodeSignIn, e.stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Signed in as %s; the token cache is in Secret %s, key %s.\n", res.User, res.Secret, res.Key)
	switch {
	case res.Configured:
		fmt.Fprintf(e.stdout, "EntraTenant %s now uses it (spec.delegated set).\n", *tenant)
	case res.Unused:
		fmt.Fprintf(e.stdout, "EntraTenant %s does not use it yet: set spec.delegated.secretRef to {namespace: %s, name: %s, key: %s} (or rerun with --configure-tenant).\n",
			*tenant, res.Secret.Namespace, res.Secret.Name, res.Key)
	default:
		fmt.Fprintf(e.stdout, "The operator uses the new sign-in from its next reconcile of EntraTenant %s.\n", *tenant)
	}
	return nil
}

// deviceCodeSignIn runs the device code flow with MSAL through package graph.
func deviceCodeSignIn(ctx context.Context, conn cloud.Connection, show func(message, userCode string)) ([]byte, string, error) {
	cfg, err := graph.ConfigFor(conn)
	if err != nil {
		return nil, "", err
	}
	res, err := graph.SignInWithDeviceCode(ctx, cfg, show)
	if err != nil {
		return nil, "", err
	}
	return res.Cache, res.User, nil
}

// kubeFlags adds kubectl's --kubeconfig and --context to fs and returns
// how to connect with them once parsed.
func kubeFlags(fs *flag.FlagSet) func() (client.Client, error) {
	kubeconfig := fs.String("kubeconfig", "", "path of the kubeconfig (default: $KUBECONFIG, then ~/.kube/config)")
	kubecontext := fs.String("context", "", "kubeconfig context to use")
	return func() (client.Client, error) { return kubeClient(*kubeconfig, *kubecontext) }
}

func kubeClient(path, context string) (client.Client, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = path
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: context}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	scheme := runtime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	if err := identityv1alpha1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	return c, nil
}
