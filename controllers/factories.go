package controllers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"sync"

	"github.com/entramatch/entra-match-operator/internal/anchor"
	"github.com/entramatch/entra-match-operator/internal/directory"
	"github.com/entramatch/entra-match-operator/internal/metrics"
)

// CachingDirectoryFactory keeps one client (one LDAP connection) per distinct
// configuration. A rotated password or CA is a distinct configuration, so it
// gets a new connection, and the old one is closed.
type CachingDirectoryFactory struct {
	mu      sync.Mutex
	clients map[string]*directory.Client // by spec identity
	keys    map[string]string            // spec identity -> fingerprint
	// dialing holds one channel per identity being dialed: a dial may take
	// every URL's timeout, and must not hold up other directories.
	dialing map[string]chan struct{}
}

// NewCachingDirectoryFactory returns an empty factory.
func NewCachingDirectoryFactory() *CachingDirectoryFactory {
	return &CachingDirectoryFactory{clients: map[string]*directory.Client{}, keys: map[string]string{},
		dialing: map[string]chan struct{}{}}
}

// Directory returns the cached client for cfg, dialing on first use.
// Dials happen outside the factory's lock, one at a time per directory.
func (f *CachingDirectoryFactory) Directory(ctx context.Context, cfg directory.Config) (directory.Service, error) {
	identity := fingerprint(struct {
		URLs   []string
		BindDN string
		BaseDN string
	}{cfg.URLs, cfg.BindDN, cfg.BaseDN})
	fp := fingerprint(cfg)
	for {
		f.mu.Lock()
		if c, ok := f.clients[identity]; ok && f.keys[identity] == fp {
			f.mu.Unlock()
			return counted{c}, nil
		}
		wait, busy := f.dialing[identity]
		if !busy {
			break // still locked
		}
		f.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	done := make(chan struct{})
	f.dialing[identity] = done
	f.mu.Unlock()

	c, err := directory.Dial(ctx, cfg)

	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.dialing, identity)
	close(done)
	if err != nil {
		return nil, err
	}
	if old, ok := f.clients[identity]; ok {
		old.Close()
	}
	f.clients[identity] = c
	f.keys[identity] = fp
	return counted{c}, nil
}

// Close closes every cached connection.
func (f *CachingDirectoryFactory) Close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k, c := range f.clients {
		c.Close()
		delete(f.clients, k)
	}
}

// fingerprint hashes a configuration, secret material included, so that it
// can be compared and used as a key without keeping or logging the secret.
func fingerprint(v any) string {
	b, _ := json.Marshal(v)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// counted records every call to the directory in the LDAP metrics.
type counted struct{ *directory.Client }

func result(err error) string {
	if err != nil {
		return "error"
	}
	return "ok"
}

func (c counted) FindUsers(ctx context.Context, ls []directory.Lookup) (map[directory.Lookup]directory.User, map[directory.Lookup]error) {
	users, errs := c.Client.FindUsers(ctx, ls)
	res := "ok"
	for _, err := range errs {
		if !errors.Is(err, directory.ErrNotFound) {
			res = "error"
			break
		}
	}
	metrics.LDAPRequests.WithLabelValues("FindUsers", res).Inc()
	metrics.LDAPLookups.Add(float64(len(ls)))
	return users, errs
}

func (c counted) SearchBase(ctx context.Context) (string, error) {
	b, err := c.Client.SearchBase(ctx)
	metrics.LDAPRequests.WithLabelValues("SearchBase", result(err)).Inc()
	return b, err
}

func (c counted) NamingContext(ctx context.Context) (string, error) {
	nc, err := c.Client.NamingContext(ctx)
	metrics.LDAPRequests.WithLabelValues("NamingContext", result(err)).Inc()
	return nc, err
}

func (c counted) UPNSuffixes(ctx context.Context) ([]string, error) {
	s, err := c.Client.UPNSuffixes(ctx)
	metrics.LDAPRequests.WithLabelValues("UPNSuffixes", result(err)).Inc()
	return s, err
}

func (c counted) ForestUPNSuffixes(ctx context.Context) (directory.ForestSuffixes, error) {
	f, err := c.Client.ForestUPNSuffixes(ctx)
	metrics.LDAPRequests.WithLabelValues("ForestUPNSuffixes", result(err)).Inc()
	return f, err
}

func (c counted) ChangeUPNSuffixes(ctx context.Context, add, remove []string) error {
	err := c.Client.ChangeUPNSuffixes(ctx, add, remove)
	metrics.LDAPRequests.WithLabelValues("ChangeUPNSuffixes", result(err)).Inc()
	return err
}

func (c counted) SetConsistencyGUID(ctx context.Context, dn string, a anchor.Anchor) error {
	err := c.Client.SetConsistencyGUID(ctx, dn, a)
	metrics.LDAPRequests.WithLabelValues("SetConsistencyGUID", result(err)).Inc()
	return err
}
