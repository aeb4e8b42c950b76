package graph

import (
	"sync"

	"github.com/entramatch/entra-match-operator/internal/cloud"
)

// Factory builds Clients and caches them per configuration, so that
// reconcilers reuse token caches and connections, and a rotated secret or
// certificate (a different fingerprint) yields a fresh Client on the next call.
type Factory struct {
	observer Observer

	mu      sync.Mutex
	clients map[string]*Client
}

// NewFactory returns a Factory whose clients report to o (which may be nil).
func NewFactory(o Observer) *Factory {
	return &Factory{observer: o, clients: map[string]*Client{}}
}

// Client returns the cached Client for cfg, building it on first use.
// cfg.Observer is ignored in favour of the Factory's.
func (f *Factory) Client(cfg Config) (cloud.Client, error) {
	cfg.Observer = f.observer
	key := fingerprint(cfg)
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := f.clients[key]; ok {
		return c, nil
	}
	c, err := New(cfg)
	if err != nil {
		return nil, err
	}
	// A new fingerprint for the same app means its secret, certificate,
	// cloud or endpoints changed: drop the superseded client, so that no
	// token or secret of the old configuration stays in memory or is ever
	// sent to the new endpoints.
	for k, old := range f.clients {
		if old.tenantID == c.tenantID && old.clientID == c.clientID && old.delegatedID == c.delegatedID {
			delete(f.clients, k)
		}
	}
	f.clients[key] = c
	return c, nil
}
