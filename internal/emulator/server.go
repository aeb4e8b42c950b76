// Package emulator plays Microsoft Entra ID (the identity platform's token
// endpoint and the Microsoft Graph v1.0 directory surface) for tests and
// demos. Real msgraph-sdk-go and azidentity clients run against it
// unmodified over HTTPS; its behaviour follows Microsoft's documentation,
// and each rule carries the page it follows.
//
// This package wires the surfaces together: Config, Server, the handler
// chain, the Graph route table with each route's permission, throttling
// and the admin API. The surfaces live in subpackages: tenant (the state
// and its rules), identity (the identity platform and the authentication
// of Graph requests), graphapi (Graph's resources) and dirsync (the sync
// service). The types callers need are aliased here.
package emulator

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/entramatch/entra-match-operator/internal/emulator/dirsync"
	"github.com/entramatch/entra-match-operator/internal/emulator/faults"
	"github.com/entramatch/entra-match-operator/internal/emulator/graphapi"
	"github.com/entramatch/entra-match-operator/internal/emulator/identity"
	"github.com/entramatch/entra-match-operator/internal/emulator/tenant"
)

// Config describes the tenant the emulator plays.
type Config struct {
	// TenantID is the tenant's GUID.
	TenantID string
	// InitialDomain is the tenant's initial domain, e.g. "contoso.onmicrosoft.com".
	InitialDomain string
	// Apps are the app registrations that may obtain tokens.
	Apps []App
	// State is an optional initial tenant state; nil starts an empty tenant.
	State *Snapshot
	// Clock is optional; it defaults to time.Now.
	Clock func() time.Time
	// AppOnlySyncFeatures says whether app-only tokens may use
	// /directory/onPremisesSynchronization. Microsoft's pages disagree (the
	// GET page says application permissions are not supported, the PATCH page
	// lists one), so the emulator can play both.
	AppOnlySyncFeatures bool
	// OwnAudienceOnly makes Graph accept only tokens issued for the
	// emulator's own origin (https://127.0.0.1:PORT), the resource of a
	// cloud whose Graph lives at a custom URL, and refuse tokens for
	// https://graph.microsoft.com: a client that sends a public-cloud Graph
	// token to a custom host is caught. Either resource can always be
	// requested at the token endpoint; the token's aud is the one asked for.
	OwnAudienceOnly bool
	// OnSecret, when set, is given every credential the emulator issues
	// (access, id and refresh tokens, device codes), so that a test can
	// check that none of them shows up where it must not (logs, Events,
	// status).
	OnSecret func(string)
	// Logger is optional; nil discards logs.
	Logger *slog.Logger

	// GraphMiddleware wraps the Graph (/v1.0) routes after authentication,
	// first element outermost. Throttling, fault injection and $batch plug in
	// here; CallerFrom tells them who is calling.
	GraphMiddleware []func(http.Handler) http.Handler
	// IdentityMiddleware wraps the identity platform endpoints, first
	// element outermost.
	IdentityMiddleware []func(http.Handler) http.Handler
	// AdminHandlers are mounted under /_emulator/{name}/ next to the
	// built-in state, faults and sync endpoints, loopback callers only.
	AdminHandlers map[string]http.Handler

	// Throttle selects Graph throttling (identity and access limits):
	// "" or ThrottleOff lets everything through (the library default),
	// ThrottleSmall/Medium/Large fix the tenant size class, ThrottleAuto
	// follows the current number of users.
	Throttle ThrottleProfile
	// TimeScale plays throttling N times faster in miniature: every window
	// and quota is divided by N, so a test reaches a limit after 1/N of the
	// documented burst and leaves it N times sooner. 0 means 1.
	TimeScale float64
	// Sync tunes the emulated sync service where Microsoft's pages leave a
	// choice; the zero value is the least forgiving reading.
	Sync SyncOptions
	// AccessTokenLifetime is how long issued access tokens live; 0 means one
	// hour. Entra's default is 60-90 minutes and a token lifetime policy can
	// lower it to 10 minutes
	// (https://learn.microsoft.com/en-us/entra/identity-platform/configurable-token-lifetimes);
	// tests go lower still so that clients refresh within a test, as MSAL
	// does for any token within five minutes of its end.
	AccessTokenLifetime time.Duration
	// NoPIMLicense plays a tenant without Microsoft Entra ID P2: the PIM
	// collections (role eligibility and assignment schedules) answer 400
	// AadPremiumLicenseRequired, as Graph does for such tenants.
	NoPIMLicense bool
	// SensitiveActionsIgnoreEligibility judges sensitive actions on a user
	// (see App.DirectoryRoles) by its active role assignments only. By
	// default PIM eligibilities count too: the pages name the roles a user
	// "has" without saying whether an eligible one counts, and an eligible
	// user can activate the role at any time.
	SensitiveActionsIgnoreEligibility bool
	// BatchResponsesInRequestOrder answers $batch items in request order.
	// By default they are shuffled: "Individual responses might appear in a
	// different order than the requests" (json-batching), so a client must
	// match them by id.
	BatchResponsesInRequestOrder bool
}

// ThrottleProfile names a throttling size class for Config.Throttle.
type ThrottleProfile string

// Throttling profiles. Sizes follow Microsoft's classes: small under 50
// users, medium 50 to 500, large above 500.
const (
	ThrottleOff    ThrottleProfile = "off"
	ThrottleAuto   ThrottleProfile = "auto"
	ThrottleSmall  ThrottleProfile = "small"
	ThrottleMedium ThrottleProfile = "medium"
	ThrottleLarge  ThrottleProfile = "large"
)

// ParseThrottleProfile reads a profile name (case-insensitive).
func ParseThrottleProfile(v string) (ThrottleProfile, error) {
	switch p := ThrottleProfile(strings.ToLower(v)); p {
	case "", ThrottleOff:
		return ThrottleOff, nil
	case ThrottleAuto, ThrottleSmall, ThrottleMedium, ThrottleLarge:
		return p, nil
	}
	return "", fmt.Errorf("unknown throttle profile %q (want off, auto, small, medium or large)", v)
}

// Server is a running (or ready to run) emulated tenant.
type Server struct {
	tenantID string
	clock    func() time.Time
	log      *slog.Logger

	// The surfaces, each over the one tenant store.
	store    *tenant.Store
	apps     *identity.Apps
	identity *identity.Platform
	graph    *graphapi.API
	sync     *dirsync.Service

	handler      http.Handler
	faults       *faults.Injector
	throttle     *throttling
	noPIM        bool
	batchInOrder bool

	mu       sync.Mutex
	tls      *tlsMaterial
	httpSrv  *http.Server
	url      string
	serveErr chan error
}

var domainPattern = regexp.MustCompile(`^(?i)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$`)

// New validates cfg and builds the emulator. It does not listen; use
// Start, or serve Handler yourself.
func New(cfg Config) (*Server, error) {
	if !tenant.IsGUID(cfg.TenantID) {
		return nil, fmt.Errorf("tenant id %q is not a GUID", cfg.TenantID)
	}
	if !domainPattern.MatchString(cfg.InitialDomain) {
		return nil, fmt.Errorf("initial domain %q is not a domain name", cfg.InitialDomain)
	}
	s := &Server{
		tenantID:     strings.ToLower(cfg.TenantID),
		clock:        cfg.Clock,
		log:          cfg.Logger,
		faults:       faults.New(),
		noPIM:        cfg.NoPIMLicense,
		batchInOrder: cfg.BatchResponsesInRequestOrder,
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	apps, err := identity.NewApps(s.tenantID, cfg.Apps)
	if err != nil {
		return nil, err
	}
	s.apps = apps
	initial := Snapshot{Sync: DefaultSyncState()}
	if cfg.State != nil {
		cp, err := cfg.State.DeepCopy()
		if err != nil {
			return nil, err
		}
		initial = cp
	}
	st, err := tenant.Load(initial, cfg.InitialDomain)
	if err != nil {
		return nil, fmt.Errorf("loading initial state: %w", err)
	}
	s.store = tenant.NewStore(st, cfg.InitialDomain)
	s.sync = dirsync.New(s.store, s.clock, cfg.Sync)
	s.identity, err = identity.New(identity.Config{
		TenantID:            s.tenantID,
		Clock:               s.clock,
		Logger:              s.log,
		OwnAudienceOnly:     cfg.OwnAudienceOnly,
		OnSecret:            cfg.OnSecret,
		AccessTokenLifetime: cfg.AccessTokenLifetime,
	}, s.apps, s.store)
	if err != nil {
		return nil, err
	}
	s.graph = graphapi.New(graphapi.Config{
		TenantID:                          s.tenantID,
		Clock:                             s.clock,
		AppOnlySyncFeatures:               cfg.AppOnlySyncFeatures,
		SensitiveActionsIgnoreEligibility: cfg.SensitiveActionsIgnoreEligibility,
	}, s.store, s.apps)
	if s.throttle, err = newThrottling(cfg.Throttle, cfg.TimeScale, s.clock); err != nil {
		return nil, err
	}
	s.handler = s.buildHandler(cfg)
	return s, nil
}

// Handler returns the emulator's whole HTTP surface: identity platform,
// Graph under /v1.0 and the admin API under /_emulator/.
func (s *Server) Handler() http.Handler { return s.handler }

// Start serves HTTPS on addr (e.g. "127.0.0.1:0") with a private CA that it
// writes, with the server certificate and key, into certDir as ca.crt,
// tls.crt and tls.key. It returns once the listener is open.
func (s *Server) Start(addr, certDir string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.httpSrv != nil {
		return errors.New("emulator already started")
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("parsing listen address: %w", err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("listen address %q is not a loopback IP: the emulator serves loopback only", addr)
	}
	m, err := newTLSMaterial(s.clock())
	if err != nil {
		return err
	}
	if certDir != "" {
		if err := m.write(certDir); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{m.pair}, MinVersion: tls.VersionTLS12},
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	s.tls = m
	s.httpSrv = srv
	s.url = "https://" + ln.Addr().String()
	s.serveErr = make(chan error, 1)
	go func() {
		err := srv.ServeTLS(ln, "", "")
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.serveErr <- err
	}()
	s.log.Info("Emulator listening", "url", s.url, "tenantId", s.tenantID)
	return nil
}

// URL is the base URL after Start, e.g. https://127.0.0.1:PORT.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

// CACertPEM is the CA that signed the server certificate (nil before Start).
func (s *Server) CACertPEM() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tls == nil {
		return nil
	}
	return append([]byte(nil), s.tls.caPEM...)
}

// Close stops serving, waiting up to five seconds for requests in flight.
func (s *Server) Close() error {
	s.mu.Lock()
	srv, done := s.httpSrv, s.serveErr
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		// Connections a client opened but never used count as busy for a
		// while; they hold no request, so closing them loses nothing.
		s.log.Debug("Graceful shutdown timed out, closing connections", "err", err)
		if cerr := srv.Close(); cerr != nil {
			return fmt.Errorf("closing emulator: %w", cerr)
		}
	}
	return <-done
}

// Faults returns the fault injector behind /_emulator/faults, for
// in-process tests that script failures without HTTP.
func (s *Server) Faults() *faults.Injector { return s.faults }

// TenantID returns the tenant id (lower case).
func (s *Server) TenantID() string { return s.tenantID }

// Snapshot returns a deep copy of the tenant state, after the duplicate
// attribute resiliency timer task has run if it was due.
func (s *Server) Snapshot() Snapshot {
	s.releaseIfDue()
	return s.store.Snapshot()
}

// Replace validates snap and swaps it in as the whole tenant state.
func (s *Server) Replace(snap Snapshot) error { return s.store.Replace(snap) }

// Update applies fn to a copy of the state and swaps the result in if fn
// succeeds and the result is valid; the write lock is held throughout, so
// no Graph write interleaves. Tests use it to stage any state; it copies
// and revalidates the whole tenant, so prefer Sync or Graph for bulk work.
// fn must not call other Server methods that read or write the state: they
// would wait for the lock Update holds.
func (s *Server) Update(fn func(*Snapshot) error) error { return s.store.Update(fn) }

// UserCount returns the number of active users (throttling limits depend
// on tenant size).
func (s *Server) UserCount() int { return s.store.UserCount() }

// Now returns the emulator clock's current time.
func (s *Server) Now() time.Time { return s.clock() }

// AddUser adds a user directly, bypassing Graph validation of the request
// body but not the directory's uniqueness rules; tests use it to seed
// users in any state (for example already synced). Empty ID, UserType and
// CreatedDateTime are filled in. It returns the stored user.
func (s *Server) AddUser(u User) (User, error) {
	if u.ID == "" {
		u.ID = uuid.NewString()
	}
	if !tenant.IsGUID(u.ID) {
		return User{}, fmt.Errorf("user id %q is not a GUID", u.ID)
	}
	if u.UserType == "" {
		u.UserType = "Member"
	}
	if u.CreatedDateTime == nil {
		now := s.clock().UTC().Truncate(time.Second)
		u.CreatedDateTime = &now
	}
	err := s.store.Write(func(st *tenant.State) error {
		if st.User(u.ID) != nil || st.DeletedUser(u.ID) != nil {
			return fmt.Errorf("user id %s already exists", u.ID)
		}
		if err := st.CheckUser(&u, ""); err != nil {
			return fmt.Errorf("adding user %s: %w", u.UserPrincipalName, err)
		}
		stored := u
		st.PutUser(nil, &stored)
		return nil
	})
	if err != nil {
		return User{}, err
	}
	return u, nil
}
