// Package directory reads users from Active Directory over LDAPS (or
// StartTLS) and writes the one attribute the operator may change on them,
// an empty mS-DS-ConsistencyGuid.
//
// A Client keeps one bound connection and redials when it breaks. Every
// value placed in a filter is escaped, certificates are always verified
// unless a Config explicitly says otherwise, and failures are classified
// once here (see the Err* classes) so callers never inspect error text.
package directory

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// DefaultTimeout bounds a dial, a bind and each LDAP operation when
// Config.Timeout is zero.
const DefaultTimeout = 15 * time.Second

// Config says how to reach and bind to the directory.
type Config struct {
	// URLs are tried in order until one answers: ldaps://host[:636], or
	// ldap://host[:389] together with StartTLS.
	URLs []string
	// BaseDN is where user searches start; the domain's default naming
	// context when empty.
	BaseDN string
	// BindDN names the account to bind as: a DN, a UPN
	// (svc@corp.example.com) or DOMAIN\name, as AD accepts all three.
	BindDN   string
	Password string
	// CAPEM holds the PEM certificates that may issue the servers'
	// certificates; the system roots when empty.
	CAPEM []byte
	// StartTLS upgrades an ldap:// connection before binding.
	StartTLS bool
	// ServerName overrides the name checked against the certificate, for
	// when the URL names a server by another name or address.
	ServerName string
	// Plaintext allows ldap:// without StartTLS: the bind password and all
	// directory data cross the network in clear. Only for a lab; most
	// domain controllers refuse such binds anyway (strongerAuthRequired).
	Plaintext bool
	// InsecureSkipVerify turns certificate verification off. Never the
	// default; meant for a first test against a lab DC only.
	InsecureSkipVerify bool
	// Timeout bounds a dial, a bind and each operation; DefaultTimeout
	// when zero.
	Timeout time.Duration
}

func (c Config) validate() error {
	bad := func(format string, args ...any) error {
		return &Error{Op: "check directory config", Class: ErrInvalidConfig, Err: fmt.Errorf(format, args...)}
	}
	if len(c.URLs) == 0 {
		return bad("no server URL")
	}
	for _, raw := range c.URLs {
		u, err := url.Parse(raw)
		if err != nil {
			return bad("URL %q: %v", raw, err)
		}
		if u.Host == "" {
			return bad("URL %q names no host", raw)
		}
		switch {
		case u.Scheme == "ldaps" && c.StartTLS:
			return bad("URL %q is already LDAPS: StartTLS applies to ldap:// URLs only", raw)
		case u.Scheme == "ldap" && !c.StartTLS && !c.Plaintext:
			return bad("URL %q without StartTLS would send the password in clear: use ldaps:// or StartTLS", raw)
		case u.Scheme != "ldap" && u.Scheme != "ldaps":
			return bad("URL %q: scheme must be ldaps or ldap", raw)
		}
	}
	if c.BindDN == "" || c.Password == "" {
		return bad("bind DN and password are required (anonymous binds cannot read users in AD)")
	}
	if len(c.CAPEM) > 0 && !x509.NewCertPool().AppendCertsFromPEM(c.CAPEM) {
		return bad("the CA PEM holds no certificate")
	}
	if c.Timeout < 0 {
		return bad("negative timeout")
	}
	return nil
}

func (c Config) timeout() time.Duration {
	if c.Timeout == 0 {
		return DefaultTimeout
	}
	return c.Timeout
}

// Client is a connection to one directory, safe for concurrent use; calls
// are serialised on its single connection, which suits the operator's low,
// bursty call rate and keeps reconnection simple.
type Client struct {
	cfg   Config
	roots *x509.CertPool

	mu     sync.Mutex
	conn   *ldap.Conn
	server string // URL of conn
	closed bool
}

// Dial checks cfg, connects and binds, so that a wrong password or an
// untrusted certificate shows at once rather than on the first lookup.
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	c := &Client{cfg: cfg}
	if len(cfg.CAPEM) > 0 {
		c.roots = x509.NewCertPool()
		c.roots.AppendCertsFromPEM(cfg.CAPEM)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := c.connLocked(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// Close drops the connection; later calls fail with ErrClosed.
func (c *Client) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	c.dropLocked()
}

// Server returns the URL of the server currently connected, if any.
func (c *Client) Server() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.server
}

func (c *Client) dropLocked() {
	if c.conn != nil {
		c.conn.Close()
	}
	c.conn, c.server = nil, ""
}

// do runs fn on the bound connection. When the connection turns out to be
// broken (the DC restarted, or AD dropped it after its idle timeout), it
// redials and runs fn once more; fn must therefore be safe to repeat.
func (c *Client) do(ctx context.Context, op string, fn func(*ldap.Conn) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return &Error{Op: op, Err: err}
	}
	for attempt := 0; ; attempt++ {
		conn, err := c.connLocked(ctx)
		if err != nil {
			return err
		}
		err = c.run(ctx, conn, fn)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			c.dropLocked()
			return &Error{Op: op + " on " + c.serverOr(), Class: ErrUnreachable, Err: fmt.Errorf("%w (last error: %w)", ctx.Err(), err)}
		}
		if attempt == 0 && isConnectionError(err) {
			c.dropLocked()
			continue
		}
		if isConnectionError(err) {
			c.dropLocked()
		}
		return classify(op+" on "+c.serverOr(), err, nil)
	}
}

func (c *Client) serverOr() string {
	if c.server == "" {
		return "directory"
	}
	return c.server
}

// run executes fn, closing the connection if ctx ends first: go-ldap's
// operations take no context, and closing is the way to abort them.
func (c *Client) run(ctx context.Context, conn *ldap.Conn, fn func(*ldap.Conn) error) error {
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	return fn(conn)
}

// connLocked returns the bound connection, dialling the configured URLs in
// order when there is none.
func (c *Client) connLocked(ctx context.Context) (*ldap.Conn, error) {
	if c.closed {
		return nil, &Error{Op: "use directory client", Class: ErrClosed, Err: errors.New("Close was called")}
	}
	if c.conn != nil && !c.conn.IsClosing() {
		return c.conn, nil
	}
	c.dropLocked()
	var first error
	for _, server := range c.cfg.URLs {
		conn, err := c.dialOne(ctx, server)
		if err == nil {
			c.conn, c.server = conn, server
			return conn, nil
		}
		// Credentials and certificates are the same on every DC: trying
		// the next one would only risk locking the account out.
		if errors.Is(err, ErrInvalidCredentials) || errors.Is(err, ErrInsufficientAccess) || ctx.Err() != nil {
			return nil, err
		}
		if first == nil || (errors.Is(first, ErrUnreachable) && !errors.Is(err, ErrUnreachable)) {
			first = err
		}
	}
	return nil, first
}

// dialOne connects to one server, secures the connection and binds.
func (c *Client) dialOne(ctx context.Context, server string) (*ldap.Conn, error) {
	timeout := c.cfg.timeout()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	u, err := url.Parse(server)
	if err != nil {
		return nil, &Error{Op: "dial " + server, Class: ErrInvalidConfig, Err: err}
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = ldap.DefaultLdapsPort
		if u.Scheme == "ldap" {
			port = ldap.DefaultLdapPort
		}
	}
	var tlsErr error
	tlsCfg := c.tlsConfig(host, &tlsErr)

	raw, err := (&net.Dialer{Timeout: timeout}).DialContext(ctx, "tcp", net.JoinHostPort(host, port))
	if err != nil {
		return nil, classify("dial "+server, err, nil)
	}
	// Nothing below takes a context: a deadline on the socket bounds the
	// handshakes and the bind, and closing it aborts them when ctx ends.
	_ = raw.SetDeadline(time.Now().Add(timeout))
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	defer stop()

	var conn *ldap.Conn
	if u.Scheme == "ldaps" {
		tc := tls.Client(raw, tlsCfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, handshakeError("TLS handshake with "+server, err, tlsErr)
		}
		conn = ldap.NewConn(tc, true)
		conn.Start()
	} else if c.cfg.Plaintext && !c.cfg.StartTLS {
		conn = ldap.NewConn(raw, false)
		conn.Start()
	} else {
		conn = ldap.NewConn(raw, false)
		conn.Start()
		if err := conn.StartTLS(tlsCfg); err != nil {
			conn.Close()
			if !isConnectionError(err) {
				// The server refused the StartTLS request itself.
				return nil, &Error{Op: "StartTLS with " + server, Class: ErrTLS, Err: err}
			}
			return nil, classify("StartTLS with "+server, err, tlsErr)
		}
	}
	conn.SetTimeout(timeout)
	if err := conn.Bind(c.cfg.BindDN, c.cfg.Password); err != nil {
		conn.Close()
		return nil, classify("bind to "+server+" as "+c.cfg.BindDN, err, nil)
	}
	if !stop() {
		conn.Close()
		return nil, &Error{Op: "dial " + server, Class: ErrUnreachable, Err: ctx.Err()}
	}
	_ = raw.SetDeadline(time.Time{})
	return conn, nil
}

// handshakeError classifies a failed LDAPS handshake. The TCP connection
// was up, so anything but a timeout means the two sides do not agree on TLS
// (most often an ldaps:// URL pointing at a plain LDAP port, which servers
// answer with a reset): a configuration problem, not an outage.
func handshakeError(op string, err, tlsErr error) error {
	var nerr net.Error
	if tlsErr == nil && (errors.As(err, &nerr) && nerr.Timeout() || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return classify(op, err, nil)
	}
	return &Error{Op: op, Class: ErrTLS, Err: err}
}

// tlsConfig verifies the chain and the name itself instead of leaving it to
// crypto/tls, only to keep the verification error: go-ldap's StartTLS turns
// handshake errors into text, and classification must not depend on text.
// The checks are those crypto/tls makes for a client (chain to the roots,
// server-auth usage, name or IP in the certificate).
func (c *Client) tlsConfig(host string, verifyErr *error) *tls.Config {
	name := host
	if c.cfg.ServerName != "" {
		name = c.cfg.ServerName
	}
	cfg := &tls.Config{
		MinVersion: tls.VersionTLS12,
		ServerName: name,
		// Verification is done in VerifyConnection below.
		InsecureSkipVerify: true, //nolint:gosec // verified in VerifyConnection unless the Config opts out
	}
	if c.cfg.InsecureSkipVerify {
		return cfg
	}
	roots := c.roots
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			*verifyErr = errors.New("the server sent no certificate")
			return *verifyErr
		}
		intermediates := x509.NewCertPool()
		for _, cert := range cs.PeerCertificates[1:] {
			intermediates.AddCert(cert)
		}
		_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{
			Roots:         roots,
			DNSName:       name,
			Intermediates: intermediates,
			KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		})
		if err != nil {
			*verifyErr = err
		}
		return err
	}
	return cfg
}

// searchBase returns the search base: the configured one, or the
// default naming context read from the root DSE.
func (c *Client) searchBase(ctx context.Context) (string, error) {
	if strings.TrimSpace(c.cfg.BaseDN) != "" {
		return c.cfg.BaseDN, nil
	}
	return c.NamingContext(ctx)
}

// SearchBase returns the search base after reading it: a configured base DN
// that names no object on the server is ErrBaseDNNotFound, not an empty
// directory.
func (c *Client) SearchBase(ctx context.Context) (string, error) {
	base, err := c.searchBase(ctx)
	if err != nil {
		return "", err
	}
	err = c.do(ctx, "read base DN "+base, func(conn *ldap.Conn) error {
		_, err := conn.Search(ldap.NewSearchRequest(base, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, 0, false,
			"(objectClass=*)", []string{"1.1"}, nil))
		return err
	})
	return base, baseMissing(base, err)
}

// baseMissing turns the noSuchObject of a search rooted at base into
// ErrBaseDNNotFound: the only object such a search names is its base.
func baseMissing(base string, err error) error {
	var lerr *ldap.Error
	if err == nil || !errors.As(err, &lerr) || lerr.ResultCode != ldap.LDAPResultNoSuchObject {
		return err
	}
	return &Error{Op: "search under " + base, Class: ErrBaseDNNotFound, Err: lerr}
}
