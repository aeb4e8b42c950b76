package identity

import (
	"crypto/rsa"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/entramatch/entra-match-operator/internal/emulator/jose"
	"github.com/entramatch/entra-match-operator/internal/emulator/tenant"
)

// The identity platform endpoints follow
// https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow
// and
// https://learn.microsoft.com/en-us/entra/identity-platform/certificate-credentials;
// error codes and messages follow
// https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes.

const assertionTypeJWTBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// tokenError is an error answer of the token or discovery endpoints.
type tokenError struct {
	status int
	err    string // OAuth error, e.g. invalid_client
	code   int    // AADSTS number
	msg    string
}

// BaseURL is the origin a request reached, https://127.0.0.1:PORT: the
// resource URI of the emulator's own Graph and the base of the links it
// writes.
func BaseURL(r *http.Request) string {
	scheme := "https"
	if r.TLS == nil {
		scheme = "http"
	}
	return scheme + "://" + r.Host
}

// resolveTenant accepts the tenant id or any of the tenant's domains, as the
// authority path segment may be either.
func (s *Platform) resolveTenant(segment string) bool {
	if strings.EqualFold(segment, s.tenantID) {
		return true
	}
	var ok bool
	s.tenant.Read(func(st *tenant.State) { _, ok = st.Domain(segment) })
	return ok
}

func (s *Platform) writeTokenError(w http.ResponseWriter, r *http.Request, te tokenError) {
	now := s.clock().UTC()
	traceID := uuid.NewString()
	correlationID := r.Header.Get("client-request-id")
	if correlationID == "" {
		correlationID = uuid.NewString()
	}
	ts := now.Format("2006-01-02 15:04:05Z")
	body := map[string]any{
		"error": te.err,
		"error_description": fmt.Sprintf("AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s",
			te.code, te.msg, traceID, correlationID, ts),
		"error_codes":    []int{te.code},
		"timestamp":      ts,
		"trace_id":       traceID,
		"correlation_id": correlationID,
		"error_uri":      fmt.Sprintf("%s/error?code=%d", BaseURL(r), te.code),
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.WriteHeader(te.status)
	_ = json.NewEncoder(w).Encode(body)
}

func (s *Platform) tenantNotFound(segment string) tokenError {
	return tokenError{http.StatusBadRequest, "invalid_tenant", 90002,
		fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.", segment)}
}

// Serve serves the identity platform endpoints under /{tenant}/; segs is
// the request's unescaped path.
func (s *Platform) Serve(w http.ResponseWriter, r *http.Request, segs []string) {
	tenant := segs[0]
	rest := strings.ToLower(strings.Join(segs[1:], "/"))
	switch rest {
	case "v2.0/.well-known/openid-configuration":
		if r.Method != http.MethodGet {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		if !s.resolveTenant(tenant) {
			s.writeTokenError(w, r, s.tenantNotFound(tenant))
			return
		}
		s.serveOpenIDConfig(w, r)
	case "discovery/v2.0/keys", "discovery/keys":
		if !s.resolveTenant(tenant) {
			s.writeTokenError(w, r, s.tenantNotFound(tenant))
			return
		}
		s.serveJWKS(w)
	case "oauth2/v2.0/token":
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		if !s.resolveTenant(tenant) {
			s.writeTokenError(w, r, s.tenantNotFound(tenant))
			return
		}
		s.serveToken(w, r, tenant)
	case "oauth2/v2.0/devicecode":
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		if !s.resolveTenant(tenant) {
			s.writeTokenError(w, r, s.tenantNotFound(tenant))
			return
		}
		s.serveDeviceCode(w, r, tenant)
	default:
		http.NotFound(w, r)
	}
}

func (s *Platform) serveOpenIDConfig(w http.ResponseWriter, r *http.Request) {
	base := BaseURL(r)
	tid := s.tenantID
	doc := map[string]any{
		"token_endpoint":                        base + "/" + tid + "/oauth2/v2.0/token",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"jwks_uri":                              base + "/" + tid + "/discovery/v2.0/keys",
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"issuer":                                base + "/" + tid + "/v2.0",
		"request_uri_parameter_supported":       false,
		"userinfo_endpoint":                     base + "/oidc/userinfo",
		"authorization_endpoint":                base + "/" + tid + "/oauth2/v2.0/authorize",
		"device_authorization_endpoint":         base + "/" + tid + "/oauth2/v2.0/devicecode",
		"http_logout_supported":                 true,
		"frontchannel_logout_supported":         true,
		"end_session_endpoint":                  base + "/" + tid + "/oauth2/v2.0/logout",
		"claims_supported":                      []string{"sub", "iss", "aud", "exp", "iat", "nbf", "tid", "oid", "roles", "scp", "upn", "preferred_username", "name"},
		"kerberos_endpoint":                     base + "/" + tid + "/kerberos",
		"tenant_region_scope":                   "EU",
		"cloud_instance_name":                   "microsoftonline.com",
		"cloud_graph_host_name":                 "graph.windows.net",
		"msgraph_host":                          "graph.microsoft.com",
		"rbac_url":                              "https://pas.windows.net",
	}
	writeJSON(w, http.StatusOK, doc)
}

func (s *Platform) serveJWKS(w http.ResponseWriter) {
	pub := s.signer.key.PublicKey
	key := map[string]any{
		"kty":    "RSA",
		"use":    "sig",
		"kid":    s.signer.kid,
		"x5t":    s.signer.kid,
		"n":      base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e":      base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
		"x5c":    []string{base64.StdEncoding.EncodeToString(s.signer.certDER)},
		"issuer": "https://sts.windows.net/" + s.tenantID + "/",
	}
	writeJSON(w, http.StatusOK, map[string]any{"keys": []any{key}})
}

func missingParam(name string) tokenError {
	return tokenError{http.StatusBadRequest, "invalid_request", 900144,
		fmt.Sprintf("The request body must contain the following parameter: '%s'.", name)}
}

func (s *Platform) serveToken(w http.ResponseWriter, r *http.Request, tenant string) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		s.writeTokenError(w, r, tokenError{http.StatusBadRequest, "invalid_request", 900144,
			"The request body must contain the following parameter: 'grant_type'."})
		return
	}
	f := r.PostForm
	grant := f.Get("grant_type")
	if grant == "" {
		s.writeTokenError(w, r, missingParam("grant_type"))
		return
	}
	switch grant {
	case "client_credentials":
	case grantDeviceCode, "device_code":
		// MSAL sends the short form, which Entra accepts next to RFC 8628's URN.
		s.serveDeviceCodeGrant(w, r, tenant)
		return
	case "refresh_token":
		s.serveRefreshGrant(w, r, tenant)
		return
	default:
		s.writeTokenError(w, r, tokenError{http.StatusBadRequest, "unsupported_grant_type", 70003,
			"The app requested an unsupported grant type '" + grant + "'. The emulator supports client_credentials, device_code and refresh_token."})
		return
	}
	clientID := f.Get("client_id")
	if clientID == "" {
		s.writeTokenError(w, r, missingParam("client_id"))
		return
	}
	app, ok := s.apps.lookup(clientID)
	if !ok {
		s.writeTokenError(w, r, tokenError{http.StatusBadRequest, "unauthorized_client", 700016,
			fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", clientID, tenant)})
		return
	}
	withCert := false
	switch {
	case f.Get("client_assertion") != "" || f.Get("client_assertion_type") != "":
		if te := s.checkAssertion(r, app, f.Get("client_assertion_type"), f.Get("client_assertion")); te != nil {
			s.writeTokenError(w, r, *te)
			return
		}
		withCert = true
	case f.Get("client_secret") != "":
		if app.secret == "" || subtle.ConstantTimeCompare([]byte(app.secret), []byte(f.Get("client_secret"))) != 1 {
			s.writeTokenError(w, r, tokenError{http.StatusUnauthorized, "invalid_client", 7000215,
				fmt.Sprintf("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", app.clientID)})
			return
		}
	default:
		s.writeTokenError(w, r, tokenError{http.StatusUnauthorized, "invalid_client", 7000218,
			"The request body must contain the following parameter: 'client_assertion' or 'client_secret'."})
		return
	}
	resource, te := s.checkScope(r, f.Get("scope"), tenant)
	if te != nil {
		s.writeTokenError(w, r, *te)
		return
	}
	tok, exp, err := s.issueAccessToken(app, withCert, resource)
	if err != nil {
		s.log.Error("Issuing token failed", "err", err)
		s.writeTokenError(w, r, tokenError{http.StatusInternalServerError, "server_error", 90033, "A transient error has occurred. Please try again."})
		return
	}
	lifetime := int(exp.Sub(s.clock()).Seconds()) - 1
	w.Header().Set("Cache-Control", "no-store, no-cache")
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type":     "Bearer",
		"expires_in":     lifetime,
		"ext_expires_in": lifetime,
		"access_token":   tok,
	})
}

// graphResource names the resource a scope's prefix stands for, as a
// token's aud carries it: Graph's URI (also for its app id), or the
// emulator's own origin, the Graph of a cloud served at a custom URL.
// ok is false for any other resource.
func (s *Platform) graphResource(r *http.Request, resource string) (aud string, ok bool) {
	switch resource = strings.TrimSuffix(resource, "/"); {
	case resource == graphResourceURI || resource == graphAppID:
		return graphResourceURI, true
	case strings.EqualFold(resource, BaseURL(r)):
		return BaseURL(r), true
	}
	return "", false
}

// checkScope accepts exactly one "<resource>/.default" scope naming Graph,
// next to the OIDC scopes MSAL always adds, and returns the resource.
func (s *Platform) checkScope(r *http.Request, scope, tenant string) (string, *tokenError) {
	if strings.TrimSpace(scope) == "" {
		te := missingParam("scope")
		return "", &te
	}
	var resources []string
	for _, sc := range strings.Fields(scope) {
		switch sc {
		case "openid", "profile", "offline_access", "email":
			continue
		}
		resources = append(resources, sc)
	}
	if len(resources) != 1 || !strings.HasSuffix(resources[0], "/.default") {
		return "", &tokenError{http.StatusBadRequest, "invalid_scope", 1002012,
			fmt.Sprintf("The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", scope)}
	}
	resource := strings.TrimSuffix(strings.TrimSuffix(resources[0], "/.default"), "/")
	aud, ok := s.graphResource(r, resource)
	if !ok {
		return "", &tokenError{http.StatusBadRequest, "invalid_resource", 500011,
			fmt.Sprintf("The resource principal named %s was not found in the tenant named %s. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.", resource, tenant)}
	}
	return aud, nil
}

const certDocHint = " Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials ."

// checkAssertion validates a certificate-signed client assertion.
func (s *Platform) checkAssertion(r *http.Request, app *appReg, assertionType, assertion string) *tokenError {
	if assertionType != assertionTypeJWTBearer {
		return &tokenError{http.StatusBadRequest, "invalid_request", 900144,
			"The request body must contain the following parameter: 'client_assertion_type' with the value '" + assertionTypeJWTBearer + "'."}
	}
	if assertion == "" {
		te := missingParam("client_assertion")
		return &te
	}
	tok, err := jose.Parse(assertion)
	if err != nil {
		return &tokenError{http.StatusBadRequest, "invalid_request", 50027, "JWT token is invalid or malformed."}
	}
	if isFederatedAssertion(tok, app) {
		return s.checkFederated(tok, app)
	}
	thumb, usedS256, err := assertionThumbprint(tok)
	if err != nil {
		return &tokenError{http.StatusUnauthorized, "invalid_client", 700027,
			"Client assertion contains an invalid signature. [Reason - The key was not found., Thumbprint of key used by client: '']" + certDocHint}
	}
	hexThumb := strings.ToUpper(hex.EncodeToString(thumb))
	invalidSig := func(reason string) *tokenError {
		return &tokenError{http.StatusUnauthorized, "invalid_client", 700027,
			fmt.Sprintf("Client assertion contains an invalid signature. [Reason - %s, Thumbprint of key used by client: '%s', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '%s'.]%s",
				reason, hexThumb, app.clientID, certDocHint)}
	}
	want := app.x5t
	if usedS256 {
		want = app.x5tS256
	}
	if app.cert == nil || subtle.ConstantTimeCompare(want, thumb) != 1 {
		return invalidSig("The key was not found.")
	}
	if tok.Alg() != jose.RS256 && tok.Alg() != jose.PS256 {
		return invalidSig("The signature algorithm " + tok.Alg() + " is not supported.")
	}
	rsaKey, isRSA := app.cert.PublicKey.(*rsa.PublicKey)
	if !isRSA {
		return invalidSig("The key is not an RSA key.")
	}
	if err := tok.Verify(rsaKey); err != nil {
		return invalidSig("The provided signature value did not match the expected signature value.")
	}
	if tok.ClaimString("iss") != tok.ClaimString("sub") || !strings.EqualFold(tok.ClaimString("sub"), app.clientID) {
		return &tokenError{http.StatusUnauthorized, "invalid_client", 700021,
			"Client assertion application identifier doesn't match 'client_id' parameter." + certDocHint}
	}
	if !s.assertionAudienceOK(r, tok.ClaimStrings("aud")) {
		return &tokenError{http.StatusUnauthorized, "invalid_client", 700023,
			"Client assertion audience claim does not match Realm issuer." + certDocHint}
	}
	return assertionLifetimeError(tok, s.clock().UTC(), http.StatusUnauthorized, certDocHint)
}

// assertionLifetimeError checks a client assertion's exp and nbf (with the
// allowed clock skew) and returns AADSTS700024 when it is outside them.
func assertionLifetimeError(tok *jose.Token, now time.Time, status int, hint string) *tokenError {
	exp, hasExp := tok.ClaimInt("exp")
	nbf, hasNbf := tok.ClaimInt("nbf")
	from := time.Unix(0, 0).UTC()
	if hasNbf {
		from = time.Unix(nbf, 0).UTC()
	}
	expiry := time.Unix(exp, 0).UTC()
	if !hasExp || now.After(expiry.Add(clockSkew)) || now.Add(clockSkew).Before(from) {
		return &tokenError{status, "invalid_client", 700024,
			fmt.Sprintf("Client assertion is not within its valid time range. Current time: %s, assertion valid from %s, expiry time of assertion %s.%s",
				now.Format(aadTimeLayout), from.Format(aadTimeLayout), expiry.Format(aadTimeLayout), hint)}
	}
	return nil
}

// aadTimeLayout is how the identity platform writes times in error texts.
const aadTimeLayout = "2006-01-02T15:04:05.0000000Z"

// assertionThumbprint returns the certificate thumbprint a client
// assertion names, preferring x5t#S256 (what MSAL sends) over x5t.
func assertionThumbprint(tok *jose.Token) ([]byte, bool, error) {
	if v := tok.HeaderString("x5t#S256"); v != "" {
		b, err := jose.DecodeThumbprint(v)
		return b, true, err
	}
	if v := tok.HeaderString("x5t"); v != "" {
		b, err := jose.DecodeThumbprint(v)
		return b, false, err
	}
	return nil, false, fmt.Errorf("no x5t header")
}

// assertionAudienceOK accepts the token endpoint of this tenant, by id or
// by any domain, as the audience.
func (s *Platform) assertionAudienceOK(r *http.Request, auds []string) bool {
	base := strings.ToLower(BaseURL(r))
	for _, aud := range auds {
		a := strings.ToLower(strings.TrimSuffix(aud, "/"))
		if !strings.HasPrefix(a, base+"/") {
			continue
		}
		rest := strings.TrimPrefix(a, base+"/")
		tenant, path, ok := strings.Cut(rest, "/")
		if !ok || (path != "oauth2/v2.0/token" && path != "oauth2/token") {
			continue
		}
		if s.resolveTenant(tenant) {
			return true
		}
	}
	return false
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
