package fakead

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/hashicorp/go-hclog"
	"github.com/jimlambrt/gldap"

	"github.com/entramatch/entra-match-operator/internal/selfsigned"
)

// OIDs of the controls and extended operations served.
const (
	oidPagedResults     = "1.2.840.113556.1.4.319"
	oidPermissiveModify = "1.2.840.113556.1.4.1413"
	oidStartTLS         = "1.3.6.1.4.1.1466.20037"
)

const (
	// maxPagedSearchesPerConn mirrors AD's MaxResultSetsPerConn policy.
	maxPagedSearchesPerConn = 10
	// startTimeout bounds how long Start waits for its listener.
	startTimeout = 10 * time.Second
	// closeGrace bounds how long Close waits for connections it could not
	// close itself (see Close).
	closeGrace = 2 * time.Second
	// maxTrackedConns bounds the list of connections Close will cut.
	maxTrackedConns = 1024
)

// Server is a small Active Directory look-alike served over LDAPS from the
// calling process: enough of AD for the operator's LDAP client to run
// unchanged against it (see the package documentation).
type Server struct {
	store *store
	auth  *selfsigned.Authority
	tls   *tls.Config

	mu        sync.Mutex
	listeners []*listener
	conns     []net.Conn // TLS connections seen, so Close can cut them
	closed    bool
}

// New builds a directory holding the domain skeleton (the domain object,
// CN=Users with Administrator, Domain Users and Domain Admins,
// CN=Computers, OU=Domain Controllers, and the configuration partition
// with CN=Partitions and the domain's crossRef). Nothing listens until
// Start.
func New(cfg Config) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	st, err := newStore(cfg)
	if err != nil {
		return nil, err
	}
	auth, err := newAuthority([]string{cfg.HostName, cfg.Domain, "localhost", "127.0.0.1", "::1"})
	if err != nil {
		return nil, fmt.Errorf("fakead: %w", err)
	}
	s := &Server{store: st, auth: auth}
	s.tls = &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{auth.Pair},
		GetConfigForClient: func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
			s.track(hello.Conn)
			return nil, nil
		},
	}
	return s, nil
}

// Start serves LDAPS on addr ("127.0.0.1:0" picks a free port; see URL).
// It returns once the listener answers.
func (s *Server) Start(addr string) error { return s.start(addr, true) }

// StartLDAP serves plain LDAP on addr for clients that upgrade with
// StartTLS (see StartTLSURL). As on a DC that requires signing, simple
// binds before StartTLS fail with strongerAuthRequired.
func (s *Server) StartLDAP(addr string) error { return s.start(addr, false) }

// URL returns the ldaps:// URL of the first LDAPS listener, or "" before
// Start.
func (s *Server) URL() string { return s.firstURL(true) }

// StartTLSURL returns the ldap:// URL of the first StartTLS listener, or ""
// before StartLDAP.
func (s *Server) StartTLSURL() string { return s.firstURL(false) }

func (s *Server) firstURL(ldaps bool) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.listeners {
		if l.ldaps == ldaps {
			return l.url
		}
	}
	return ""
}

// CAPEM returns the PEM certificate of the CA that issued the server's
// certificate, for the client's trust store.
func (s *Server) CAPEM() []byte { return append([]byte(nil), s.auth.CAPEM...) }

// Close stops every listener and cuts open connections. A plain LDAP
// connection that never started TLS cannot be cut from here (gldap does not
// expose it), so Close waits at most a short grace period for such clients
// to leave.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	listeners := s.listeners
	s.mu.Unlock()

	done := make(chan struct{})
	go func() {
		var wg sync.WaitGroup
		for _, l := range listeners {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = l.gl.Stop()
			}()
		}
		wg.Wait()
		close(done)
	}()
	deadline := time.After(closeGrace)
	for {
		s.cutConns()
		select {
		case <-done:
			return
		case <-deadline:
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (s *Server) track(c net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		_ = c.Close()
		return
	}
	if len(s.conns) >= maxTrackedConns {
		// The oldest are the likeliest to be gone already.
		s.conns = append(s.conns[:0], s.conns[len(s.conns)/2:]...)
	}
	s.conns = append(s.conns, c)
}

func (s *Server) cutConns() {
	s.mu.Lock()
	conns := s.conns
	s.conns = nil
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}

func (s *Server) start(addr string, ldaps bool) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("fakead: listen address %q: %w", addr, err)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	attempts := 1
	if port == "" || port == "0" {
		attempts = 10
	}
	var last error
	for range attempts {
		p := port
		if attempts > 1 {
			if p, err = freePort(host); err != nil {
				return err
			}
		}
		last = s.startOn(net.JoinHostPort(host, p), ldaps)
		if last == nil || errors.Is(last, errClosed) {
			return last
		}
	}
	return last
}

var errClosed = errors.New("fakead: server closed")

// freePort asks the kernel for a free port. gldap opens its own listener
// and does not report its address, so the port must be known beforehand;
// startOn retries when another process takes it in between.
func freePort(host string) (string, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return "", fmt.Errorf("fakead: finding a free port on %s: %w", host, err)
	}
	defer l.Close()
	_, port, err := net.SplitHostPort(l.Addr().String())
	return port, err
}

func (s *Server) startOn(hostPort string, ldaps bool) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return errClosed
	}
	s.mu.Unlock()

	l := &listener{srv: s, ldaps: ldaps, sessions: map[int]*session{}}
	scheme := "ldap"
	if ldaps {
		scheme = "ldaps"
	}
	l.url = scheme + "://" + hostPort
	gl, err := gldap.NewServer(gldap.WithLogger(hclog.NewNullLogger()), gldap.WithOnClose(l.forget))
	if err != nil {
		return fmt.Errorf("fakead: %w", err)
	}
	mux, err := l.routes()
	if err != nil {
		return fmt.Errorf("fakead: %w", err)
	}
	if err := gl.Router(mux); err != nil {
		return fmt.Errorf("fakead: %w", err)
	}
	l.gl = gl
	var opts []gldap.Option
	if ldaps {
		opts = append(opts, gldap.WithTLSConfig(s.tls))
	}
	runErr := make(chan error, 1)
	go func() { runErr <- gl.Run(hostPort, opts...) }()

	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		select {
		case err := <-runErr:
			if err == nil {
				err = errors.New("listener stopped")
			}
			return fmt.Errorf("fakead: serving on %s: %w", hostPort, err)
		case <-time.After(10 * time.Millisecond):
		}
		if !gl.Ready() || !s.answers(l.url, hostPort, ldaps) {
			continue
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			_ = gl.Stop()
			return errClosed
		}
		s.listeners = append(s.listeners, l)
		s.mu.Unlock()
		return nil
	}
	_ = gl.Stop()
	return fmt.Errorf("fakead: %s did not answer within %s", hostPort, startTimeout)
}

// answers reports whether this server (not some other process that took
// the port) serves hostPort: only it holds a certificate from its CA.
func (s *Server) answers(url, hostPort string, ldaps bool) bool {
	host, _, _ := net.SplitHostPort(hostPort)
	cfg := &tls.Config{RootCAs: s.auth.Pool, ServerName: host, MinVersion: tls.VersionTLS12}
	if ldaps {
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: time.Second}, "tcp", hostPort, cfg)
		if err != nil {
			return false
		}
		_ = c.Close()
		return true
	}
	c, err := ldap.DialURL(url, ldap.DialWithDialer(&net.Dialer{Timeout: time.Second}))
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetTimeout(time.Second)
	return c.StartTLS(cfg) == nil
}

// listener is one gldap server (one port) with its connections' state.
type listener struct {
	srv   *Server
	gl    *gldap.Server
	ldaps bool
	url   string

	mu       sync.Mutex
	sessions map[int]*session // by gldap connection ID, which is per listener
}

// session is what a connection carries between requests.
type session struct {
	// principal is the key of the bound account, "" when anonymous.
	principal string
	// tls is true once StartTLS succeeded (always on LDAPS).
	tls   bool
	pages map[string]*pagedSearch
	order []string // cookies, oldest first
}

// pagedSearch is the rest of a paged search's result set, which AD also
// computes once and then hands out page by page.
type pagedSearch struct {
	fingerprint string
	keys        []string
	pos         int
	sel         attrSelection
	truncated   bool // the size limit cut the result set
}

func (l *listener) session(id int) *session {
	l.mu.Lock()
	defer l.mu.Unlock()
	s, ok := l.sessions[id]
	if !ok {
		s = &session{tls: l.ldaps, pages: map[string]*pagedSearch{}}
		l.sessions[id] = s
	}
	return s
}

func (l *listener) forget(id int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.sessions, id)
}

// principal returns the key of the account connection id is bound as.
func (l *listener) principal(id int) string {
	s := l.session(id)
	l.mu.Lock()
	defer l.mu.Unlock()
	return s.principal
}
