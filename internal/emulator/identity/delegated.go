package identity

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/entramatch/entra-match-operator/internal/emulator/grapherr"
	"github.com/entramatch/entra-match-operator/internal/emulator/jose"
	"github.com/entramatch/entra-match-operator/internal/emulator/odataerr"
	"github.com/entramatch/entra-match-operator/internal/emulator/tenant"
)

// Delegated sign-in follows
// https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-device-code
// (device authorization grant, RFC 8628) and
// https://learn.microsoft.com/en-us/entra/identity-platform/refresh-tokens
// (refresh token grant; the emulator always rotates refresh tokens and
// refuses a redeemed one, the strictest reading). No browser exists here:
// a user approves a code through POST /_emulator/devicecode/approve.

const grantDeviceCode = "urn:ietf:params:oauth:grant-type:device_code"

const (
	deviceCodeLifetime = 15 * time.Minute
	deviceCodeInterval = 5 // seconds, as Entra answers
	// refreshInactivity is the documented 90-day inactivity lifetime of
	// refresh tokens; each rotated token starts a new window.
	refreshInactivity = 90 * 24 * time.Hour
)

// knownDelegated reports whether p is a delegated permission the emulator
// knows: the application permissions' names plus the sign-in scope.
func knownDelegated(p string) bool {
	return knownPermissions[p] || p == "User.Read" || p == "Directory.AccessAsUser.All"
}

type deviceAuth struct {
	deviceCode string
	userCode   string
	clientID   string
	scope      delegatedScope
	expires    time.Time
	userID     string // set once approved
	declined   bool
}

type refreshGrant struct {
	clientID string
	userID   string
	scope    delegatedScope
	issued   time.Time
}

// sessions holds pending device codes and live refresh tokens. Refresh
// tokens are kept by hash only, so a state dump cannot leak them.
type sessions struct {
	mu       sync.Mutex
	byDevice map[string]*deviceAuth
	byUser   map[string]*deviceAuth
	refresh  map[string]refreshGrant
}

func (ss *sessions) init() {
	if ss.byDevice == nil {
		ss.byDevice = map[string]*deviceAuth{}
		ss.byUser = map[string]*deviceAuth{}
		ss.refresh = map[string]refreshGrant{}
	}
}

// prune drops device codes and refresh tokens past their lifetime, so that
// abandoned sign-ins do not accumulate; callers hold mu.
func (ss *sessions) prune(now time.Time) {
	for code, da := range ss.byDevice {
		if now.After(da.expires) {
			delete(ss.byDevice, code)
			delete(ss.byUser, da.userCode)
		}
	}
	for h, g := range ss.refresh {
		if now.After(g.issued.Add(refreshInactivity)) {
			delete(ss.refresh, h)
		}
	}
}

// delegatedScope is a parsed scope parameter of a delegated request.
type delegatedScope struct {
	perms       []string // Graph permissions named explicitly
	allConsent  bool     // ".default": every consented permission
	openID      bool
	offline     bool
	profileLike []string // profile, email
	raw         []string // the resource scopes as requested, echoed back
	// resource is the aud of the token: Graph's URI unless the scopes
	// named the emulator's own origin.
	resource string
}

// parseDelegatedScope reads a delegated scope list. Graph permissions may be
// bare or prefixed with Graph's resource URI or app id; a scope for another
// resource names a resource the tenant does not have.
func (s *Platform) parseDelegatedScope(r *http.Request, scope, tenant string) (delegatedScope, *tokenError) {
	ds := delegatedScope{resource: graphResourceURI}
	if strings.TrimSpace(scope) == "" {
		te := missingParam("scope")
		return ds, &te
	}
	for _, sc := range strings.Fields(scope) {
		switch strings.ToLower(sc) {
		case "openid":
			ds.openID = true
			continue
		case "offline_access":
			ds.offline = true
			continue
		case "profile", "email":
			ds.profileLike = append(ds.profileLike, strings.ToLower(sc))
			continue
		}
		ds.raw = append(ds.raw, sc)
		name := sc
		if i := strings.LastIndex(sc, "/"); i >= 0 {
			resource := strings.TrimSuffix(sc[:i], "/")
			aud, ok := s.graphResource(r, resource)
			if ok {
				ds.resource = aud
			}
			if !ok {
				return ds, &tokenError{http.StatusBadRequest, "invalid_resource", 500011,
					fmt.Sprintf("The resource principal named %s was not found in the tenant named %s. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.", resource, tenant)}
			}
			name = sc[i+1:]
		}
		switch {
		case name == ".default":
			ds.allConsent = true
		case knownDelegated(name):
			if !slices.Contains(ds.perms, name) {
				ds.perms = append(ds.perms, name)
			}
		default:
			return ds, &tokenError{http.StatusBadRequest, "invalid_scope", 70011,
				fmt.Sprintf("The provided value for the input parameter 'scope' is not valid. The scope %s is not valid.", sc)}
		}
	}
	if len(ds.perms) == 0 {
		// Only OIDC scopes: Entra issues a Graph token for what is consented.
		ds.allConsent = true
	}
	return ds, nil
}

// granted returns the permissions a token carries, or the consent error
// Entra gives when the app was not consented for a requested permission.
func (ds delegatedScope) granted(app *appReg) ([]string, *tokenError) {
	var out []string
	if ds.allConsent {
		out = append(out, app.delegated...)
	}
	for _, p := range ds.perms {
		if !slices.Contains(app.delegated, p) {
			return nil, &tokenError{http.StatusBadRequest, "invalid_grant", 65001,
				fmt.Sprintf("The user or administrator has not consented to use the application with ID '%s'. Send an interactive authorization request for this user and resource.", app.clientID)}
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out, nil
}

func randomToken(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// userCodeAlphabet leaves out letters and digits people confuse.
const userCodeAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

func randomUserCode() (string, error) {
	b := make([]byte, 9)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating user code: %w", err)
	}
	for i := range b {
		b[i] = userCodeAlphabet[int(b[i])%len(userCodeAlphabet)]
	}
	return string(b), nil
}

func hashToken(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

// serveDeviceCode answers the device authorization request.
func (s *Platform) serveDeviceCode(w http.ResponseWriter, r *http.Request, tenant string) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		s.writeTokenError(w, r, missingParam("client_id"))
		return
	}
	f := r.PostForm
	app, te := s.lookupClient(f, tenant)
	if te != nil {
		s.writeTokenError(w, r, *te)
		return
	}
	scope, te := s.parseDelegatedScope(r, f.Get("scope"), tenant)
	if te != nil {
		s.writeTokenError(w, r, *te)
		return
	}
	deviceCode, err := randomToken(48)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.issued(deviceCode)
	da := &deviceAuth{deviceCode: deviceCode, clientID: app.clientID, scope: scope, expires: s.clock().Add(deviceCodeLifetime)}
	s.sessions.mu.Lock()
	s.sessions.init()
	s.sessions.prune(s.clock())
	for da.userCode == "" || s.sessions.byUser[da.userCode] != nil {
		if da.userCode, err = randomUserCode(); err != nil {
			s.sessions.mu.Unlock()
			s.serverError(w, r, err)
			return
		}
	}
	s.sessions.byDevice[deviceCode] = da
	s.sessions.byUser[da.userCode] = da
	s.sessions.mu.Unlock()

	verify := BaseURL(r) + "/_emulator/devicecode"
	w.Header().Set("Cache-Control", "no-store, no-cache")
	writeJSON(w, http.StatusOK, map[string]any{
		"user_code":        da.userCode,
		"device_code":      deviceCode,
		"verification_uri": verify,
		"expires_in":       int(deviceCodeLifetime.Seconds()),
		"interval":         deviceCodeInterval,
		"message": fmt.Sprintf("To sign in, use a web browser to open the page %s and enter the code %s to authenticate. (Emulator: POST {\"user_code\":\"%s\",\"userPrincipalName\":\"...\"} to %s/approve.)",
			verify, da.userCode, da.userCode, verify),
	})
}

// lookupClient finds the app a delegated request names.
func (s *Platform) lookupClient(f url.Values, tenant string) (*appReg, *tokenError) {
	clientID := f.Get("client_id")
	if clientID == "" {
		te := missingParam("client_id")
		return nil, &te
	}
	app, ok := s.apps.lookup(clientID)
	if !ok {
		return nil, &tokenError{http.StatusBadRequest, "unauthorized_client", 700016,
			fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", clientID, tenant)}
	}
	return app, nil
}

// authenticateClient applies to delegated grants: a public client sends no
// credential, a confidential one must send its secret.
func authenticateClient(app *appReg, f url.Values) *tokenError {
	if app.public {
		return nil
	}
	secret := f.Get("client_secret")
	if secret == "" {
		return &tokenError{http.StatusUnauthorized, "invalid_client", 7000218,
			"The request body must contain the following parameter: 'client_assertion' or 'client_secret'."}
	}
	if app.secret == "" || subtle.ConstantTimeCompare([]byte(app.secret), []byte(secret)) != 1 {
		return &tokenError{http.StatusUnauthorized, "invalid_client", 7000215,
			fmt.Sprintf("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", app.clientID)}
	}
	return nil
}

func (s *Platform) serverError(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("Identity endpoint failed", "err", err)
	s.writeTokenError(w, r, tokenError{http.StatusInternalServerError, "server_error", 90033, "A transient error has occurred. Please try again."})
}

func (s *Platform) serveDeviceCodeGrant(w http.ResponseWriter, r *http.Request, tenant string) {
	f := r.PostForm
	app, te := s.authenticatedClient(f, tenant)
	if te != nil {
		s.writeTokenError(w, r, *te)
		return
	}
	code := f.Get("device_code")
	if code == "" {
		s.writeTokenError(w, r, missingParam("device_code"))
		return
	}
	now := s.clock()
	s.sessions.mu.Lock()
	s.sessions.init()
	da := s.sessions.byDevice[code]
	var done *deviceAuth
	switch {
	case da == nil || da.clientID != app.clientID:
		te = &tokenError{http.StatusBadRequest, "bad_verification_code", 70000,
			"The provided value for the input parameter 'device_code' is not valid."}
	case now.After(da.expires):
		te = &tokenError{http.StatusBadRequest, "expired_token", 70019,
			"Verification code expired. Have the user retry the sign-in."}
	case da.declined:
		te = &tokenError{http.StatusBadRequest, "authorization_declined", 65004,
			"User declined to consent to access the app."}
	case da.userID == "":
		te = &tokenError{http.StatusBadRequest, "authorization_pending", 70016,
			"OAuth 2.0 device flow error. Authorization is pending. Continue polling."}
	default:
		done = da
	}
	if da != nil && (done != nil || te.err == "expired_token" || te.err == "authorization_declined") {
		// A device code is redeemed or refused once.
		delete(s.sessions.byDevice, da.deviceCode)
		delete(s.sessions.byUser, da.userCode)
	}
	s.sessions.mu.Unlock()
	if te != nil {
		s.writeTokenError(w, r, *te)
		return
	}
	s.issueDelegated(w, r, app, done.userID, done.scope)
}

func (s *Platform) serveRefreshGrant(w http.ResponseWriter, r *http.Request, tenant string) {
	f := r.PostForm
	app, te := s.authenticatedClient(f, tenant)
	if te != nil {
		s.writeTokenError(w, r, *te)
		return
	}
	rt := f.Get("refresh_token")
	if rt == "" {
		s.writeTokenError(w, r, missingParam("refresh_token"))
		return
	}
	scope := delegatedScope{}
	if f.Get("scope") != "" {
		if scope, te = s.parseDelegatedScope(r, f.Get("scope"), tenant); te != nil {
			s.writeTokenError(w, r, *te)
			return
		}
	}
	h := hashToken(rt)
	now := s.clock()
	s.sessions.mu.Lock()
	s.sessions.init()
	g, ok := s.sessions.refresh[h]
	switch {
	case !ok || g.clientID != app.clientID:
		te = &tokenError{http.StatusBadRequest, "invalid_grant", 70000,
			"The provided value for the 'refresh_token' is not valid: it is malformed, was already redeemed, revoked, or issued to another client."}
	case now.After(g.issued.Add(refreshInactivity)):
		delete(s.sessions.refresh, h)
		te = &tokenError{http.StatusBadRequest, "invalid_grant", 700082,
			fmt.Sprintf("The refresh token has expired due to inactivity. The token was issued on %s and was inactive for 90.00:00:00.",
				g.issued.UTC().Format(aadTimeLayout))}
	default:
		delete(s.sessions.refresh, h) // rotation: a refresh token is redeemed once
	}
	s.sessions.mu.Unlock()
	if te != nil {
		s.writeTokenError(w, r, *te)
		return
	}
	if f.Get("scope") == "" {
		scope = g.scope
	} else {
		// The new refresh token keeps the sign-in's OIDC scopes.
		scope.offline = scope.offline || g.scope.offline
	}
	s.issueDelegated(w, r, app, g.userID, scope)
}

// signedInUser is what a delegated token needs of its user.
type signedInUser struct {
	id, upn, name string
	wids          []string
}

func (s *Platform) lookupSignInUser(id string) (su signedInUser, te *tokenError) {
	s.tenant.Read(func(st *tenant.State) {
		u := st.User(id)
		if u == nil {
			te = &tokenError{http.StatusBadRequest, "invalid_grant", 50034,
				"The user account does not exist in the directory. To sign into this application, the account must be added to the directory."}
			return
		}
		if u.AccountEnabled != nil && !*u.AccountEnabled {
			te = &tokenError{http.StatusBadRequest, "invalid_grant", 50057,
				"The user account is disabled."}
			return
		}
		su = signedInUser{id: u.ID, upn: u.UserPrincipalName, name: u.DisplayName}
		now := s.clock()
		for a := range st.RoleAssignments() {
			if strings.EqualFold(a.PrincipalID, u.ID) && a.DirectoryScopeID == "/" && a.ActiveAt(now) && !slices.Contains(su.wids, a.RoleDefinitionID) {
				su.wids = append(su.wids, a.RoleDefinitionID)
			}
		}
		sort.Strings(su.wids)
	})
	return su, te
}

// issueDelegated answers a delegated grant with an access token, an ID
// token when openid was asked for, and a fresh refresh token when
// offline_access was.
func (s *Platform) issueDelegated(w http.ResponseWriter, r *http.Request, app *appReg, userID string, scope delegatedScope) {
	perms, te := scope.granted(app)
	if te == nil {
		var su signedInUser
		if su, te = s.lookupSignInUser(userID); te == nil {
			s.writeDelegatedTokens(w, r, app, su, scope, perms)
			return
		}
	}
	s.writeTokenError(w, r, *te)
}

func (s *Platform) writeDelegatedTokens(w http.ResponseWriter, r *http.Request, app *appReg, su signedInUser, scope delegatedScope, perms []string) {
	now := s.clock()
	exp := now.Add(s.tokenLifetime)
	uti, err := randomToken(16)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	acr := "0"
	if !app.public {
		acr = "1"
	}
	issuer := "https://sts.windows.net/" + s.tenantID + "/"
	// Entra's sub is pairwise: stable per user and app.
	sub := uuid.NewSHA1(uuid.MustParse(s.tenantID), []byte("sub:"+su.id+":"+app.clientID)).String()
	claims := map[string]any{
		"aud": scope.resource, "iss": issuer, "idp": issuer,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": exp.Unix(),
		"appid": app.clientID, "azp": app.clientID, "appidacr": acr,
		"amr": []string{"pwd"}, "idtyp": "user",
		"oid": su.id, "sub": sub, "tid": s.tenantID,
		"upn": su.upn, "unique_name": su.upn, "name": su.name,
		"scp": strings.Join(perms, " "), "uti": uti, "ver": "1.0",
	}
	if len(su.wids) > 0 {
		claims["wids"] = su.wids
	}
	header := map[string]any{"kid": s.signer.kid, "x5t": s.signer.kid}
	access, err := jose.Sign(jose.RS256, s.signer.key, header, claims)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.issued(access)
	// MSAL compares the requested scopes with the granted ones as strings,
	// so the answer echoes them as requested, then names every permission
	// in full, as Entra does.
	var granted []string
	add := func(sc string) {
		if !slices.ContainsFunc(granted, func(g string) bool { return strings.EqualFold(g, sc) }) {
			granted = append(granted, sc)
		}
	}
	for _, sc := range scope.raw {
		add(sc)
	}
	for _, p := range perms {
		add(scope.resource + "/" + p)
	}
	if scope.openID {
		add("openid")
	}
	for _, sc := range scope.profileLike {
		add(sc)
	}
	if scope.offline {
		add("offline_access")
	}
	lifetime := int(exp.Sub(now).Seconds()) - 1
	body := map[string]any{
		"token_type":     "Bearer",
		"scope":          strings.Join(granted, " "),
		"expires_in":     lifetime,
		"ext_expires_in": lifetime,
		"access_token":   access,
	}
	if scope.openID {
		idClaims := map[string]any{
			"aud": app.clientID, "iss": BaseURL(r) + "/" + s.tenantID + "/v2.0",
			"iat": now.Unix(), "nbf": now.Unix(), "exp": exp.Unix(),
			"oid": su.id, "sub": sub, "tid": s.tenantID,
			"preferred_username": su.upn, "name": su.name, "ver": "2.0",
		}
		idTok, err := jose.Sign(jose.RS256, s.signer.key, header, idClaims)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		s.issued(idTok)
		body["id_token"] = idTok
		info, _ := json.Marshal(map[string]string{"uid": su.id, "utid": s.tenantID})
		body["client_info"] = base64.RawURLEncoding.EncodeToString(info)
	}
	if scope.offline {
		rt, err := randomToken(64)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		s.sessions.mu.Lock()
		s.sessions.init()
		s.sessions.refresh[hashToken(rt)] = refreshGrant{clientID: app.clientID, userID: su.id, scope: scope, issued: now}
		s.sessions.mu.Unlock()
		s.issued(rt)
		body["refresh_token"] = rt
	}
	w.Header().Set("Cache-Control", "no-store, no-cache")
	writeJSON(w, http.StatusOK, body)
}

// approveRequest is the body of POST /_emulator/devicecode/approve.
type approveRequest struct {
	UserCode          string `json:"user_code"`
	UserPrincipalName string `json:"userPrincipalName"`
	// Decline plays the user refusing the sign-in.
	Decline bool `json:"decline,omitempty"`
}

// ServeDeviceCodeAdmin serves /_emulator/devicecode/: it plays the user at
// the verification page.
func (s *Platform) ServeDeviceCodeAdmin(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/_emulator/devicecode/approve" {
		odataerr.Write(w, r, http.StatusNotFound, grapherr.CodeNotFound, "Use POST /_emulator/devicecode/approve.")
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		odataerr.Write(w, r, http.StatusMethodNotAllowed, grapherr.CodeMethodNotAllowed, "Use POST to approve a device code.")
		return
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	var req approveRequest
	if err := dec.Decode(&req); err != nil {
		odataerr.Write(w, r, http.StatusBadRequest, grapherr.CodeBadRequestPlain, "decoding approval: "+err.Error())
		return
	}
	if status, msg := s.approveDeviceCode(req); status != http.StatusNoContent {
		code := grapherr.CodeBadRequestPlain
		if status == http.StatusNotFound {
			code = grapherr.CodeNotFound
		}
		odataerr.Write(w, r, status, code, msg)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// ApproveDeviceCode signs userPrincipalName in for a pending device code,
// as the user would at the verification page; in-process tests use it.
func (s *Platform) ApproveDeviceCode(userCode, userPrincipalName string) error {
	if status, msg := s.approveDeviceCode(approveRequest{UserCode: userCode, UserPrincipalName: userPrincipalName}); status != http.StatusNoContent {
		return fmt.Errorf("approving device code: %s", msg)
	}
	return nil
}

func (s *Platform) approveDeviceCode(req approveRequest) (int, string) {
	if req.UserCode == "" {
		return http.StatusBadRequest, "user_code is required."
	}
	userID := ""
	if !req.Decline {
		if req.UserPrincipalName == "" {
			return http.StatusBadRequest, "userPrincipalName is required."
		}
		var found, enabled bool
		s.tenant.Read(func(st *tenant.State) {
			if u := st.LookupUser(req.UserPrincipalName); u != nil {
				found, userID = true, u.ID
				enabled = u.AccountEnabled == nil || *u.AccountEnabled
			}
		})
		if !found {
			return http.StatusNotFound, fmt.Sprintf("User account '%s' does not exist in tenant '%s'.", req.UserPrincipalName, s.tenantID)
		}
		if !enabled {
			return http.StatusBadRequest, "The user account is disabled."
		}
	}
	now := s.clock()
	s.sessions.mu.Lock()
	defer s.sessions.mu.Unlock()
	s.sessions.init()
	da := s.sessions.byUser[strings.ToUpper(strings.TrimSpace(req.UserCode))]
	switch {
	case da == nil:
		return http.StatusNotFound, "The code you entered is not valid or was already used."
	case now.After(da.expires):
		return http.StatusBadRequest, "The code you entered has expired."
	case da.userID != "" || da.declined:
		return http.StatusBadRequest, "The code was already used."
	}
	if req.Decline {
		da.declined = true
	} else {
		da.userID = userID
	}
	return http.StatusNoContent, ""
}

// authenticatedClient finds the calling app and checks its credential (a
// public client has none to check).
func (s *Platform) authenticatedClient(f url.Values, tenant string) (*appReg, *tokenError) {
	app, te := s.lookupClient(f, tenant)
	if te == nil {
		te = authenticateClient(app, f)
	}
	return app, te
}
