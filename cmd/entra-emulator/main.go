// Command entra-emulator serves an emulated Microsoft Entra ID tenant
// (identity platform token endpoint and Microsoft Graph v1.0) over HTTPS on
// loopback, for tests and demos. See docs/emulator.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/entramatch/entra-match-operator/internal/emulator"
	"github.com/entramatch/entra-match-operator/internal/emulator/syncrules"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "entra-emulator:", err)
		os.Exit(1)
	}
}

// multiFlag collects a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, " ") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

type options struct {
	addr                string
	certDir             string
	tenantID            string
	initialDomain       string
	apps                []emulator.App
	statePath           string
	throttle            emulator.ThrottleProfile
	timeScale           float64
	appOnlySyncFeatures bool
	tokenLifetime       time.Duration
	pim                 bool
	logLevel            slog.Level
	// Switches for the places where Microsoft's pages leave a choice; each
	// defaults to the stricter reading (see docs/emulator.md, "Fidelity").
	sync                        emulator.SyncOptions
	sensitiveIgnoresEligibility bool
	shuffleBatchResponses       bool
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	var apps, certApps, publicApps, federated, appRoles multiFlag
	var throttle, timeScale, logLevel, softMatchConflict string
	var quarantineRelease time.Duration
	fs := flag.NewFlagSet("entra-emulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:0", "loopback address to listen on (port 0 picks a free port)")
	fs.StringVar(&o.certDir, "cert-dir", "", "directory that receives the generated ca.crt, tls.crt and tls.key (required)")
	fs.StringVar(&o.tenantID, "tenant-id", "", "tenant id, a GUID (required)")
	fs.StringVar(&o.initialDomain, "initial-domain", "", "initial domain, e.g. contoso.onmicrosoft.com (required)")
	fs.Var(&apps, "app", "app registration CLIENT_ID:SECRET:Perm.One,Perm.Two (repeatable)")
	fs.Var(&certApps, "app-cert", "app registration using a certificate CLIENT_ID:CERT_PEM_FILE:Perm.One,Perm.Two (repeatable)")
	fs.Var(&publicApps, "public-app", "public client for device code sign-in CLIENT_ID:Scope.One,Scope.Two with its consented delegated permissions; adds to an --app of the same id (repeatable)")
	fs.Var(&federated, "federated", "federated identity credential CLIENT_ID|ISSUER|SUBJECT|KEYFILE[|PERMS]: KEYFILE holds the issuer's JWKS or PEM public keys; adds to an app of the same id, or declares a federated-only app with application permissions PERMS (repeatable)")
	fs.StringVar(&o.statePath, "state", "", "initial tenant snapshot, YAML or JSON")
	fs.StringVar(&throttle, "throttle", "auto", "Graph throttling: auto (sized by the tenant's user count), small, medium, large or off")
	fs.StringVar(&timeScale, "time-scale", "1", "play throttling N times faster: windows and quotas divided by N (> 0)")
	fs.BoolVar(&o.appOnlySyncFeatures, "app-only-sync-features", true, "allow app-only tokens on /directory/onPremisesSynchronization")
	fs.BoolVar(&o.pim, "pim", true, "the tenant has Microsoft Entra ID P2 (PIM); false answers 400 AadPremiumLicenseRequired on the role schedule collections")
	fs.DurationVar(&o.tokenLifetime, "token-lifetime", time.Hour, "lifetime of issued access tokens; below 5m every MSAL token request redeems (and rotates) the refresh token")
	fs.Var(&appRoles, "app-role", "directory roles of an app's service principal CLIENT_ID:ROLE[,ROLE]; a ROLE is a built-in role's template id or display name, e.g. 'Privileged Authentication Administrator' (repeatable)")
	fs.StringVar(&softMatchConflict, "soft-match-conflict", "Quarantine", "a new object colliding with an object synced from elsewhere: Quarantine (duplicate attribute resiliency), InvalidSoftMatch or AttributeValueMustBeUnique")
	fs.BoolVar(&o.sync.SoftMatchIgnoresEligibility, "soft-match-ignores-eligibility", false, "let a user who is only eligible (PIM) for a directory role be soft-matched")
	fs.DurationVar(&quarantineRelease, "quarantine-release-interval", time.Hour, "period of the duplicate attribute resiliency task that gives quarantined values back (emulator clock); 0 never runs it on its own")
	fs.BoolVar(&o.sensitiveIgnoresEligibility, "sensitive-actions-ignore-eligibility", false, "judge sensitive actions on a user by its active role assignments only, not its PIM eligibilities")
	fs.BoolVar(&o.shuffleBatchResponses, "shuffle-batch-responses", true, "answer $batch items in another order than the requests, as Graph may")
	fs.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	var missing []string
	for name, v := range map[string]string{"--cert-dir": o.certDir, "--tenant-id": o.tenantID, "--initial-domain": o.initialDomain} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return o, fmt.Errorf("missing required flags: %s", strings.Join(slices.Sorted(slices.Values(missing)), ", "))
	}
	p, err := emulator.ParseThrottleProfile(throttle)
	if err != nil || throttle == "" {
		return o, fmt.Errorf("--throttle must be auto, small, medium, large or off, not %q", throttle)
	}
	o.throttle = p
	ts, err := strconv.ParseFloat(timeScale, 64)
	if err != nil || ts <= 0 || ts > 1e6 {
		return o, fmt.Errorf("--time-scale must be a number > 0, not %q", timeScale)
	}
	o.timeScale = ts
	if o.tokenLifetime < time.Minute || o.tokenLifetime > 24*time.Hour {
		return o, fmt.Errorf("--token-lifetime must be between 1m and 24h, not %s", o.tokenLifetime)
	}
	if err := o.logLevel.UnmarshalText([]byte(logLevel)); err != nil {
		return o, fmt.Errorf("--log-level: %w", err)
	}
	mode, err := syncrules.ParseSoftMatchConflictMode(softMatchConflict)
	if err != nil {
		return o, fmt.Errorf("--soft-match-conflict: %w", err)
	}
	o.sync.SoftMatchConflict = mode
	switch {
	case quarantineRelease < 0:
		return o, fmt.Errorf("--quarantine-release-interval must not be negative, not %s", quarantineRelease)
	case quarantineRelease == 0:
		o.sync.QuarantineReleaseInterval = -1
	default:
		o.sync.QuarantineReleaseInterval = quarantineRelease
	}
	for _, spec := range apps {
		app, err := parseApp(spec)
		if err != nil {
			return o, err
		}
		o.apps = append(o.apps, app)
	}
	for _, spec := range certApps {
		id, file, perms, err := splitAppSpec(spec)
		if err != nil {
			return o, fmt.Errorf("--app-cert %q: %w", spec, err)
		}
		pemBytes, err := os.ReadFile(file)
		if err != nil {
			return o, fmt.Errorf("--app-cert %s: %w", id, err)
		}
		o.apps = append(o.apps, emulator.App{ClientID: id, CertificatePEM: pemBytes, Permissions: perms})
	}
	for _, spec := range publicApps {
		if err := o.addPublicApp(spec); err != nil {
			return o, err
		}
	}
	for _, spec := range federated {
		if err := o.addFederated(spec); err != nil {
			return o, err
		}
	}
	if len(o.apps) == 0 {
		return o, errors.New("at least one --app, --app-cert, --public-app or --federated is required")
	}
	for _, spec := range appRoles {
		if err := o.addAppRoles(spec); err != nil {
			return o, err
		}
	}
	return o, nil
}

// addAppRoles reads --app-role CLIENT_ID:ROLE[,ROLE] for an app declared by
// another flag.
func (o *options) addAppRoles(spec string) error {
	id, list, ok := strings.Cut(spec, ":")
	roles := splitList(list)
	if !ok || id == "" || len(roles) == 0 {
		return fmt.Errorf("--app-role %q: want CLIENT_ID:ROLE[,ROLE]", spec)
	}
	var app *emulator.App
	for i := range o.apps {
		if strings.EqualFold(o.apps[i].ClientID, id) {
			app = &o.apps[i]
		}
	}
	if app == nil {
		return fmt.Errorf("--app-role %s: no --app, --app-cert, --public-app or --federated declares that client id", id)
	}
	for _, r := range roles {
		tid, ok := emulator.BuiltinRoleID(r)
		if !ok {
			return fmt.Errorf("--app-role %s: %q is neither the display name nor the template id of a built-in role", id, r)
		}
		app.DirectoryRoles = append(app.DirectoryRoles, tid)
	}
	return nil
}

func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// app returns the app declared with id, adding an empty one if none is.
func (o *options) app(id string) (*emulator.App, bool) {
	for i := range o.apps {
		if strings.EqualFold(o.apps[i].ClientID, id) {
			return &o.apps[i], true
		}
	}
	o.apps = append(o.apps, emulator.App{ClientID: id})
	return &o.apps[len(o.apps)-1], false
}

func (o *options) addPublicApp(spec string) error {
	id, scopes, ok := strings.Cut(spec, ":")
	if !ok || id == "" {
		return fmt.Errorf("--public-app %q: want CLIENT_ID:Scope.One,Scope.Two", spec)
	}
	a, _ := o.app(id)
	a.PublicClient = true
	a.DelegatedPermissions = append(a.DelegatedPermissions, splitList(scopes)...)
	return nil
}

func (o *options) addFederated(spec string) error {
	parts := strings.Split(spec, "|")
	if len(parts) < 4 || len(parts) > 5 || parts[0] == "" || parts[1] == "" || parts[2] == "" || parts[3] == "" {
		return fmt.Errorf("--federated %q: want CLIENT_ID|ISSUER|SUBJECT|KEYFILE[|Perm.One,Perm.Two]", spec)
	}
	raw, err := os.ReadFile(parts[3])
	if err != nil {
		return fmt.Errorf("--federated %s: %w", parts[0], err)
	}
	fc, err := emulator.ParseFederatedKeys(raw)
	if err != nil {
		return fmt.Errorf("--federated %s: %s: %w", parts[0], parts[3], err)
	}
	fc.Issuer, fc.Subject = parts[1], parts[2]
	a, existed := o.app(parts[0])
	if len(parts) == 5 {
		if existed && len(splitList(parts[4])) > 0 {
			return fmt.Errorf("--federated %s: the app is declared by another flag, which gives its permissions", parts[0])
		}
		a.Permissions = append(a.Permissions, splitList(parts[4])...)
	}
	a.FederatedCredentials = append(a.FederatedCredentials, fc)
	return nil
}

// splitAppSpec splits ID:MIDDLE:PERMS; the middle part (a secret) may
// itself contain colons, the id and permission names cannot.
func splitAppSpec(spec string) (id, middle string, perms []string, err error) {
	first := strings.Index(spec, ":")
	last := strings.LastIndex(spec, ":")
	if first < 0 || first == last {
		return "", "", nil, errors.New("want CLIENT_ID:VALUE:Perm.One,Perm.Two")
	}
	id, middle = spec[:first], spec[first+1:last]
	for _, p := range strings.Split(spec[last+1:], ",") {
		if p = strings.TrimSpace(p); p != "" {
			perms = append(perms, p)
		}
	}
	if id == "" || middle == "" {
		return "", "", nil, errors.New("client id and value must not be empty")
	}
	return id, middle, perms, nil
}

func parseApp(spec string) (emulator.App, error) {
	id, secret, perms, err := splitAppSpec(spec)
	if err != nil {
		// Never echo the spec: it holds a secret.
		return emulator.App{}, fmt.Errorf("--app: %w", err)
	}
	return emulator.App{ClientID: id, Secret: secret, Permissions: perms}, nil
}

func loadState(path string) (*emulator.Snapshot, error) {
	if path == "" {
		return nil, nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading state: %w", err)
	}
	var snap emulator.Snapshot
	if err := yaml.UnmarshalStrict(raw, &snap); err != nil {
		return nil, fmt.Errorf("parsing state %s: %w", path, err)
	}
	return &snap, nil
}

// run serves until ctx is cancelled. It prints exactly one line on stdout,
// "listening on URL", once the listener is open.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: o.logLevel}))
	state, err := loadState(o.statePath)
	if err != nil {
		return err
	}
	srv, err := emulator.New(emulator.Config{
		TenantID:            o.tenantID,
		InitialDomain:       o.initialDomain,
		Apps:                o.apps,
		State:               state,
		AppOnlySyncFeatures: o.appOnlySyncFeatures,
		AccessTokenLifetime: o.tokenLifetime,
		NoPIMLicense:        !o.pim,
		Logger:              logger,
		Throttle:            o.throttle,
		TimeScale:           o.timeScale,
		Sync:                o.sync,

		SensitiveActionsIgnoreEligibility: o.sensitiveIgnoresEligibility,
		BatchResponsesInRequestOrder:      !o.shuffleBatchResponses,
	})
	if err != nil {
		return err
	}
	logger.Debug("Throttling", "profile", o.throttle, "timeScale", o.timeScale)
	if err := srv.Start(o.addr, o.certDir); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "listening on %s\n", srv.URL())
	<-ctx.Done()
	logger.Info("Shutting down")
	return srv.Close()
}
