package directory

import (
	"context"

	"github.com/entramatch/entra-match-operator/internal/anchor"
)

// Service is what the controllers ask of Active Directory, as cloud.Client
// is what they ask of Graph. *Client implements it; tests may put their own
// in front of it.
type Service interface {
	// FindUsers resolves many lookups with as few searches as it can.
	FindUsers(ctx context.Context, lookups []Lookup) (map[Lookup]User, map[Lookup]error)
	// SearchBase reads the search base: ErrBaseDNNotFound when it names no object.
	SearchBase(ctx context.Context) (string, error)
	NamingContext(ctx context.Context) (string, error)
	UPNSuffixes(ctx context.Context) ([]string, error)
	// ForestUPNSuffixes reads the offered and the alternative suffixes.
	ForestUPNSuffixes(ctx context.Context) (ForestSuffixes, error)
	// ChangeUPNSuffixes adds and removes alternative suffixes (uPNSuffixes
	// on CN=Partitions).
	ChangeUPNSuffixes(ctx context.Context, add, remove []string) error
	// SetConsistencyGUID fills an empty mS-DS-ConsistencyGuid; it never
	// overwrites a value (ErrConsistencyGUIDSet).
	SetConsistencyGUID(ctx context.Context, dn string, a anchor.Anchor) error
	// UsersInScope lists the users under base that match filter.
	UsersInScope(ctx context.Context, base, filter string, extra ...string) ([]User, error)
	// ObjectsInScope lists the users, groups and contacts sync would
	// export from under base that match filter.
	ObjectsInScope(ctx context.Context, base, filter string) ([]Object, error)
	// UPNHolders finds which objects hold each logon name.
	UPNHolders(ctx context.Context, names []string) (map[string][]string, error)
	// SetUserPrincipalName changes a logon name from exactly from to to
	// (ErrNameChanged when it holds something else).
	SetUserPrincipalName(ctx context.Context, dn, from, to string) error
}

// Factory builds a Service for a resolved configuration.
type Factory interface {
	Directory(ctx context.Context, cfg Config) (Service, error)
}

var _ Service = (*Client)(nil)
