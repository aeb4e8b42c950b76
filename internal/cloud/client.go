package cloud

import "context"

// Client is everything the controllers ask of Entra ID. One Client serves one
// tenant with one credential; it is safe for concurrent use.
type Client interface {
	// GetUser reads a user by object id or UPN, with the onPremises* properties.
	GetUser(ctx context.Context, idOrUPN string) (User, error)
	// UsersByImmutableID finds every user carrying the value (an advanced,
	// eventually consistent query).
	UsersByImmutableID(ctx context.Context, immutableID string) ([]User, error)
	// ListUsers reads every user of the tenant, with the onPremises* properties
	// and the extra Graph properties named (PairingSelect's).
	ListUsers(ctx context.Context, extra ...string) ([]User, error)
	// UsersDelta runs one round of Graph's delta query on users. An empty
	// deltaLink starts a full round (every user, with the properties
	// ListUsers selects); otherwise deltaLink is the one the previous round
	// returned and the round brings what changed since. It follows every
	// page and returns the changes in the order Graph gave them (a user may
	// show more than once: apply them in order) and the deltaLink of the
	// next round. A link Graph no longer honours fails with
	// ClassDeltaExpired (IsDeltaExpired): start again with "".
	UsersDelta(ctx context.Context, deltaLink string) (changes []UserChange, nextDeltaLink string, err error)
	// SetImmutableID writes onPremisesImmutableId; nil clears it.
	SetImmutableID(ctx context.Context, userID string, immutableID *string) error
	// SetUserPrincipalName renames a cloud-only user's sign-in name.
	SetUserPrincipalName(ctx context.Context, userID, upn string) error
	// DeleteUser soft-deletes a user into deleted items.
	DeleteUser(ctx context.Context, userID string) error

	// ListGroups and ListContacts read every group and organizational
	// contact of the tenant, for a plan of the first sync.
	ListGroups(ctx context.Context) ([]Group, error)
	ListContacts(ctx context.Context) ([]Contact, error)

	Organization(ctx context.Context) (Organization, error)
	Domains(ctx context.Context) ([]Domain, error)

	RoleAssignments(ctx context.Context, principalID string) ([]RoleAssignment, error)
	// AllRoleAssignments and AllRoleEligibilities list the whole tenant's.
	AllRoleAssignments(ctx context.Context) ([]RoleAssignment, error)
	AllRoleEligibilities(ctx context.Context) ([]RoleEligibility, error)
	// CreateRoleAssignment makes a permanent active assignment.
	CreateRoleAssignment(ctx context.Context, a RoleAssignment) (RoleAssignment, error)
	DeleteRoleAssignment(ctx context.Context, id string) error
	// AssignRoleSchedule and RemoveRoleSchedule file PIM adminAssign and
	// adminRemove requests for an active assignment; AssignRoleSchedule
	// makes it end at a.EndDateTime (nil: permanent).
	AssignRoleSchedule(ctx context.Context, a RoleAssignment, justification string) error
	RemoveRoleSchedule(ctx context.Context, a RoleAssignment, justification string) error
	RoleEligibilities(ctx context.Context, principalID string) ([]RoleEligibility, error)
	// AssignEligibility and RemoveEligibility file PIM adminAssign/adminRemove requests.
	AssignEligibility(ctx context.Context, e RoleEligibility, justification string) error
	RemoveEligibility(ctx context.Context, e RoleEligibility, justification string) error

	DeletedUsers(ctx context.Context) ([]DeletedUser, error)
	PurgeDeletedItem(ctx context.Context, id string) error

	SyncSettings(ctx context.Context, tenantID string) (SyncSettings, error)
	// UpdateSyncSettings sends the whole features object back (read-modify-write).
	UpdateSyncSettings(ctx context.Context, s SyncSettings) error
}
