package identity

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/entramatch/entra-match-operator/internal/emulator/grapherr"
	"github.com/entramatch/entra-match-operator/internal/emulator/jose"
)

// Graph's resource identifiers: a token's aud is one of these.
const (
	graphResourceURI = "https://graph.microsoft.com"
	graphAppID       = "00000003-0000-0000-c000-000000000000"
)

// Application permissions the emulator knows. Routes check against these
// names exactly as Graph does (case-sensitive claim values).
var knownPermissions = map[string]bool{
	"User.Read.All": true, "User.ReadWrite.All": true, "User.ReadBasic.All": true, "User.DeleteRestore.All": true,
	"Directory.Read.All": true, "Directory.ReadWrite.All": true,
	"Domain.Read.All": true, "Domain.ReadWrite.All": true,
	"Organization.Read.All": true, "Organization.ReadWrite.All": true,
	"OnPremDirectorySynchronization.Read.All": true, "OnPremDirectorySynchronization.ReadWrite.All": true,
	"RoleManagement.Read.Directory": true, "RoleManagement.Read.All": true, "RoleManagement.ReadWrite.Directory": true,
	"RoleEligibilitySchedule.Read.Directory": true, "RoleEligibilitySchedule.ReadWrite.Directory": true,
	"RoleAssignmentSchedule.Read.Directory": true, "RoleAssignmentSchedule.ReadWrite.Directory": true,
	"Group.Read.All": true, "Group.ReadWrite.All": true,
	"OrgContact.Read.All": true,
}

// Caller is the authenticated principal of a Graph request.
type Caller struct {
	AppID    string // client id
	ObjectID string // service principal object id
	TenantID string
	Roles    []string // application permissions from the token's roles claim
	AppOnly  bool
	// Delegated tokens only: the scp claim and the signed-in user.
	Scopes []string
	UserID string
	UPN    string
}

// Has reports whether the caller holds any of perms: application
// permissions for an app-only token, delegated ones (scopes) otherwise.
func (c Caller) Has(perms ...string) bool {
	granted := c.Roles
	if !c.AppOnly {
		granted = c.Scopes
	}
	for _, p := range perms {
		if slices.Contains(granted, p) {
			return true
		}
	}
	return false
}

// HasScope reports whether a delegated caller was granted scope p.
func (c Caller) HasScope(p string) bool { return !c.AppOnly && slices.Contains(c.Scopes, p) }

type callerKey struct{}

// CallerFrom returns the authenticated caller of a Graph request; Graph
// middlewares (throttling per app) use it.
func CallerFrom(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}

// WithCaller returns ctx carrying the authenticated caller c.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// Require refuses, with Graph's 403, a request whose caller holds none of
// perms.
func Require(r *http.Request, perms ...string) error {
	c, ok := CallerFrom(r.Context())
	if !ok || !c.Has(perms...) {
		return grapherr.Forbidden()
	}
	return nil
}

// issueAccessToken signs a v1.0 app-only access token for Graph, shaped
// like the ones Entra issues for the client credentials grant.
func (s *Platform) issueAccessToken(app *appReg, withCert bool, aud string) (string, time.Time, error) {
	now := s.clock()
	exp := now.Add(s.tokenLifetime)
	uti := make([]byte, 16)
	if _, err := rand.Read(uti); err != nil {
		return "", time.Time{}, fmt.Errorf("generating token id: %w", err)
	}
	acr := "1"
	if withCert {
		acr = "2"
	}
	issuer := "https://sts.windows.net/" + s.tenantID + "/"
	claims := map[string]any{
		"aud":      aud,
		"iss":      issuer,
		"idp":      issuer,
		"iat":      now.Unix(),
		"nbf":      now.Unix(),
		"exp":      exp.Unix(),
		"appid":    app.clientID,
		"azp":      app.clientID,
		"appidacr": acr,
		"idtyp":    "app",
		"oid":      app.objectID,
		"sub":      app.objectID,
		"tid":      s.tenantID,
		"uti":      base64.RawURLEncoding.EncodeToString(uti),
		"ver":      "1.0",
	}
	if len(app.permissions) > 0 {
		claims["roles"] = app.permissions
	}
	tok, err := jose.Sign(jose.RS256, s.signer.key, map[string]any{"kid": s.signer.kid, "x5t": s.signer.kid}, claims)
	if err != nil {
		return "", time.Time{}, err
	}
	s.issued(tok)
	return tok, exp, nil
}

// audienceOK accepts a token issued for this Graph: its own origin always,
// the public Graph resource unless OwnAudienceOnly.
func (s *Platform) audienceOK(r *http.Request, aud string) bool {
	aud = strings.TrimSuffix(aud, "/")
	if strings.EqualFold(aud, BaseURL(r)) {
		return true
	}
	return !s.ownAudience && (aud == graphResourceURI || aud == graphAppID)
}

// clockSkew is the tolerance Entra applies to token lifetimes.
const clockSkew = 5 * time.Minute

// Authenticate checks the bearer token of a Graph request: signature,
// lifetime, audience and tenant. The returned error is a 401 GraphError.
func (s *Platform) Authenticate(r *http.Request) (Caller, *grapherr.GraphError) {
	unauth := func(msg string) *grapherr.GraphError {
		return grapherr.New(http.StatusUnauthorized, grapherr.CodeInvalidToken, msg)
	}
	h := r.Header.Get("Authorization")
	if strings.TrimSpace(h) == "" {
		return Caller{}, unauth("Access token is empty.")
	}
	scheme, raw, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(raw) == "" {
		return Caller{}, unauth("Access token is empty.")
	}
	tok, err := jose.Parse(strings.TrimSpace(raw))
	if err != nil {
		return Caller{}, unauth("IDX14100: JWT is not well formed, there are no dots (.).\nThe token needs to be in JWS or JWE Compact Serialization Format.")
	}
	if tok.Alg() != jose.RS256 || tok.HeaderString("kid") != s.signer.kid {
		return Caller{}, unauth("Access token validation failure. Invalid signing key.")
	}
	if err := tok.Verify(&s.signer.key.PublicKey); err != nil {
		return Caller{}, unauth("Access token validation failure. Invalid signature.")
	}
	now := s.clock()
	exp, okExp := tok.ClaimInt("exp")
	if !okExp || now.After(time.Unix(exp, 0).Add(clockSkew)) {
		return Caller{}, unauth("Lifetime validation failed, the token is expired.")
	}
	if nbf, ok := tok.ClaimInt("nbf"); ok && now.Add(clockSkew).Before(time.Unix(nbf, 0)) {
		return Caller{}, unauth("Lifetime validation failed, the token is not yet valid.")
	}
	if !s.audienceOK(r, tok.ClaimString("aud")) {
		return Caller{}, unauth("Access token validation failure. Invalid audience.")
	}
	if !strings.EqualFold(tok.ClaimString("tid"), s.tenantID) {
		return Caller{}, unauth("Access token validation failure. Invalid issuer.")
	}
	c := Caller{
		AppID:    tok.ClaimString("appid"),
		ObjectID: tok.ClaimString("oid"),
		TenantID: tok.ClaimString("tid"),
		Roles:    tok.ClaimStrings("roles"),
		AppOnly:  tok.ClaimString("idtyp") == "app",
	}
	if !c.AppOnly {
		c.Scopes = strings.Fields(tok.ClaimString("scp"))
		c.UserID = tok.ClaimString("oid")
		c.UPN = tok.ClaimString("upn")
		c.Roles = nil // a user token's roles would be the app's roles for the user, not application permissions
	}
	return c, nil
}
