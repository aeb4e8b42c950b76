package identity

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/entramatch/entra-match-operator/internal/emulator/tenant"
)

// App is an app registration with its application permissions.
type App struct {
	// ClientID is the application (client) id, a GUID.
	ClientID string
	// Secret is the client secret; empty disables secret authentication.
	Secret string
	// Permissions are application permissions (app roles) granted with
	// admin consent, e.g. "User.ReadWrite.All".
	Permissions []string
	// CertificatePEM is an optional public certificate for client-assertion
	// authentication.
	CertificatePEM []byte
	// FederatedCredentials trust tokens of external issuers (workload
	// identity federation) in place of a secret or certificate.
	FederatedCredentials []FederatedCredential
	// PublicClient allows the device code flow without client
	// authentication ("Allow public client flows" in the portal).
	PublicClient bool
	// DelegatedPermissions are the delegated permissions (scopes) granted
	// with admin consent; users signing in through the app get at most these.
	DelegatedPermissions []string
	// DirectoryRoles are Microsoft Entra roles (template ids of built-in
	// roles, e.g. RolePrivilegedAuthenticationAdministrator) assigned to the
	// app's service principal, in addition to any snapshot roleAssignments
	// whose principalId is Apps.ServicePrincipalID(ClientID). Application
	// permissions alone do not allow sensitive actions (accountEnabled,
	// userPrincipalName, onPremisesImmutableId, passwordProfile, phones,
	// delete, restore, purge) on users holding a directory role; the app
	// needs a role of the "Who can perform sensitive actions" table that
	// covers the user's roles (docs/emulator.md lists them). They are
	// configuration: roleAssignments does not list them.
	DirectoryRoles []string
}

type appReg struct {
	clientID    string
	secret      string
	permissions []string
	objectID    string // the service principal's object id: oid and sub of its tokens
	cert        *x509.Certificate
	x5t         []byte
	x5tS256     []byte
	federated   []federatedCred
	public      bool
	delegated   []string
	// directoryRoles are lower-case role template ids.
	directoryRoles []string
}

// Apps are the tenant's app registrations, by client id.
type Apps struct {
	byID map[string]*appReg
}

// NewApps validates the configured apps of the tenant tenantID and
// registers them.
func NewApps(tenantID string, apps []App) (*Apps, error) {
	out := &Apps{byID: map[string]*appReg{}}
	for _, a := range apps {
		reg, err := newAppReg(a, tenantID)
		if err != nil {
			return nil, err
		}
		if _, dup := out.byID[key(reg.clientID)]; dup {
			return nil, fmt.Errorf("app %s is configured twice", a.ClientID)
		}
		out.byID[key(reg.clientID)] = reg
	}
	return out, nil
}

// lookup finds the app registration of clientID.
func (a *Apps) lookup(clientID string) (*appReg, bool) {
	app, ok := a.byID[key(clientID)]
	return app, ok
}

// ServicePrincipalID returns the object id of the service principal of the
// configured app clientID: the oid of its app-only tokens and the
// principalId that role assignments to the app carry.
func (a *Apps) ServicePrincipalID(clientID string) (string, bool) {
	app := a.byID[key(clientID)]
	if app == nil {
		return "", false
	}
	return app.objectID, true
}

// IsServicePrincipal reports whether id is the object id of the service
// principal of a configured app.
func (a *Apps) IsServicePrincipal(id string) bool {
	for _, app := range a.byID {
		if strings.EqualFold(app.objectID, id) {
			return true
		}
	}
	return false
}

// DirectoryRoles returns the role template ids (lower case) configured for
// the app clientID; an unknown app has none.
func (a *Apps) DirectoryRoles(clientID string) []string {
	if app := a.byID[key(clientID)]; app != nil {
		return app.directoryRoles
	}
	return nil
}

func newAppReg(a App, tenantID string) (*appReg, error) {
	if !tenant.IsGUID(a.ClientID) {
		return nil, fmt.Errorf("app client id %q is not a GUID", a.ClientID)
	}
	if a.Secret == "" && len(a.CertificatePEM) == 0 && len(a.FederatedCredentials) == 0 && !a.PublicClient {
		return nil, fmt.Errorf("app %s has neither a secret, a certificate, a federated credential nor public client flows", a.ClientID)
	}
	for _, p := range a.Permissions {
		if !knownPermissions[p] {
			return nil, fmt.Errorf("app %s: unknown application permission %q (names are case-sensitive)", a.ClientID, p)
		}
	}
	for _, p := range a.DelegatedPermissions {
		if !knownDelegated(p) {
			return nil, fmt.Errorf("app %s: unknown delegated permission %q (names are case-sensitive)", a.ClientID, p)
		}
	}
	roles, err := validDirectoryRoles(a.ClientID, a.DirectoryRoles)
	if err != nil {
		return nil, err
	}
	reg := &appReg{
		clientID:       strings.ToLower(a.ClientID),
		secret:         a.Secret,
		permissions:    append([]string(nil), a.Permissions...),
		objectID:       uuid.NewSHA1(uuid.MustParse(tenantID), []byte("sp:"+strings.ToLower(a.ClientID))).String(),
		public:         a.PublicClient,
		delegated:      append([]string(nil), a.DelegatedPermissions...),
		directoryRoles: roles,
	}
	for i, fc := range a.FederatedCredentials {
		c, err := newFederatedCred(fc)
		if err != nil {
			return nil, fmt.Errorf("app %s: federated credential %d: %w", a.ClientID, i, err)
		}
		reg.federated = append(reg.federated, c)
	}
	if len(a.CertificatePEM) > 0 {
		block, _ := pem.Decode(a.CertificatePEM)
		if block == nil || block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("app %s: certificate is not a PEM CERTIFICATE block", a.ClientID)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("app %s: parsing certificate: %w", a.ClientID, err)
		}
		reg.cert = cert
		reg.x5t, reg.x5tS256 = thumbprints(cert.Raw)
	}
	return reg, nil
}

// validDirectoryRoles checks the role template ids configured for an app:
// they must name built-in roles, as only those can be configured outside a
// snapshot.
func validDirectoryRoles(clientID string, roles []string) ([]string, error) {
	out := make([]string, 0, len(roles))
	for _, r := range roles {
		id := strings.ToLower(strings.TrimSpace(r))
		if !tenant.IsBuiltinRole(id) {
			return nil, fmt.Errorf("app %s: directory role %q is not the template id of a built-in role", clientID, r)
		}
		out = append(out, id)
	}
	return out, nil
}

// key is the form client ids are compared in: they are GUIDs, which Entra
// compares case-insensitively.
func key(id string) string { return strings.ToLower(id) }
