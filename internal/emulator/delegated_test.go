package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/entramatch/entra-match-operator/internal/emulator/jose"
	"github.com/entramatch/entra-match-operator/internal/emulator/tenant"
)

const (
	docDeviceCode    = "https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-device-code"
	docRefreshTokens = "https://learn.microsoft.com/en-us/entra/identity-platform/refresh-tokens"
	docSyncGet       = "https://learn.microsoft.com/en-us/graph/api/onpremisesdirectorysynchronization-get"

	publicApp       = "77777777-7777-4777-8777-777777777777"
	confidentialApp = "88888888-8888-4888-8888-888888888888"
	syncScope       = "https://graph.microsoft.com/OnPremDirectorySynchronization.ReadWrite.All"
	oidcScopes      = " openid profile offline_access"
)

// delegatedHarness adds a public client consented for the sync scope, a
// confidential one, and two users: a Global Administrator and a plain user.
func delegatedHarness(t *testing.T, opts ...harnessOpt) (h *harness, adminUPN, plainUPN string) {
	t.Helper()
	opts = append([]harnessOpt{func(c *Config) {
		c.Apps = append(c.Apps,
			App{ClientID: publicApp, PublicClient: true, DelegatedPermissions: []string{"OnPremDirectorySynchronization.ReadWrite.All", "User.Read"}},
			App{ClientID: confidentialApp, Secret: testSecret, DelegatedPermissions: []string{"User.Read.All"}})
	}}, opts...)
	h = newHarness(t, opts...)
	admin := h.createUser("gadmin", nil)
	h.createUser("plain", nil)
	if err := h.srv.Update(func(s *Snapshot) error {
		s.RoleAssignments = append(s.RoleAssignments, RoleAssignment{ID: "ra-gadmin", PrincipalID: admin,
			RoleDefinitionID: RoleGlobalAdministrator, DirectoryScopeID: "/"})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return h, "gadmin@" + testVanity, "plain@" + testVanity
}

func (h *harness) deviceCode(client, scope string) (deviceCode, userCode string) {
	h.t.Helper()
	res := h.send(http.MethodPost, "/"+testTenant+"/oauth2/v2.0/devicecode", "",
		strings.NewReader(url.Values{"client_id": {client}, "scope": {scope}}.Encode()),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	h.mustStatus(res, http.StatusOK)
	for _, k := range []string{"device_code", "user_code", "verification_uri", "message"} {
		if s, _ := res.body[k].(string); s == "" {
			h.t.Fatalf("device code response lacks %s: %s", k, res.raw)
		}
	}
	if res.body["expires_in"] != float64(900) || res.body["interval"] != float64(5) {
		h.t.Fatalf("expires_in/interval: %s", res.raw)
	}
	return res.body["device_code"].(string), res.body["user_code"].(string)
}

func (h *harness) approve(body map[string]any) response {
	h.t.Helper()
	raw, err := json.Marshal(body)
	if err != nil {
		h.t.Fatal(err)
	}
	return h.send(http.MethodPost, "/_emulator/devicecode/approve", "", bytes.NewReader(raw), map[string]string{"Content-Type": "application/json"})
}

func (h *harness) pollDevice(client, deviceCode string, extra url.Values) response {
	h.t.Helper()
	form := url.Values{"grant_type": {grantDeviceCode}, "client_id": {client}, "device_code": {deviceCode}}
	for k, v := range extra {
		form[k] = v
	}
	return h.tokenRequest(testTenant, form)
}

// signIn runs the device code flow for upn and returns the token response.
func (h *harness) signIn(upn, scope string) response {
	h.t.Helper()
	dc, uc := h.deviceCode(publicApp, scope)
	h.mustStatus(h.approve(map[string]any{"user_code": uc, "userPrincipalName": upn}), http.StatusNoContent)
	res := h.pollDevice(publicApp, dc, nil)
	h.mustStatus(res, http.StatusOK)
	return res
}

func TestDeviceCodeFlow(t *testing.T) {
	h, adminUPN, _ := delegatedHarness(t)
	dc, uc := h.deviceCode(publicApp, syncScope+oidcScopes)

	// doc: docDeviceCode — polling before the user signs in.
	checkTokenError(t, h.pollDevice(publicApp, dc, nil), "authorization_pending", 70016)

	h.mustStatus(h.approve(map[string]any{"user_code": strings.ToLower(uc), "userPrincipalName": adminUPN}), http.StatusNoContent)
	res := h.pollDevice(publicApp, dc, nil)
	h.mustStatus(res, http.StatusOK)
	for _, k := range []string{"access_token", "refresh_token", "id_token", "client_info"} {
		if s, _ := res.body[k].(string); s == "" {
			t.Errorf("token response lacks %s: %s", k, res.raw)
		}
	}
	if !strings.Contains(res.body["scope"].(string), "OnPremDirectorySynchronization.ReadWrite.All") {
		t.Errorf("scope %v", res.body["scope"])
	}
	tok, err := jose.Parse(res.body["access_token"].(string))
	if err != nil {
		t.Fatal(err)
	}
	_, pub := h.signingKey()
	if err := tok.Verify(pub); err != nil {
		t.Fatal(err)
	}
	var user *User
	h.srv.store.Read(func(st *tenant.State) { user = st.LookupUser(adminUPN) })
	if tok.ClaimString("scp") != "OnPremDirectorySynchronization.ReadWrite.All" || tok.ClaimString("upn") != adminUPN ||
		tok.ClaimString("oid") != user.ID || tok.ClaimString("idtyp") != "user" || tok.ClaimString("appid") != publicApp ||
		tok.ClaimString("appidacr") != "0" || strings.Join(tok.ClaimStrings("wids"), ",") != RoleGlobalAdministrator {
		t.Errorf("delegated claims %v", tok.Claims)
	}
	// A device code is redeemed once.
	checkTokenError(t, h.pollDevice(publicApp, dc, nil), "bad_verification_code", 70000)
}

func TestDeviceCodeErrors(t *testing.T) {
	h, adminUPN, _ := delegatedHarness(t)
	devReq := func(form url.Values) response {
		return h.send(http.MethodPost, "/"+testTenant+"/oauth2/v2.0/devicecode", "", strings.NewReader(form.Encode()),
			map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	}
	t.Run("device authorization request", func(t *testing.T) {
		tests := []struct {
			name     string
			form     url.Values
			wantErr  string
			wantCode float64
			doc      string
		}{
			{"unknown client", url.Values{"client_id": {"99999999-9999-4999-8999-999999999999"}, "scope": {syncScope}}, "unauthorized_client", 700016, docErrorCodes},
			{"no client", url.Values{"scope": {syncScope}}, "invalid_request", 900144, docErrorCodes},
			{"no scope", url.Values{"client_id": {publicApp}}, "invalid_request", 900144, docDeviceCode},
			{"unknown permission", url.Values{"client_id": {publicApp}, "scope": {"https://graph.microsoft.com/Nope.All"}}, "invalid_scope", 70011, docErrorCodes},
			{"other resource", url.Values{"client_id": {publicApp}, "scope": {"https://management.azure.com/user_impersonation"}}, "invalid_resource", 500011, docErrorCodes},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				res := devReq(tt.form)
				if res.status != http.StatusBadRequest {
					t.Fatalf("status %d: %s", res.status, res.raw)
				}
				checkTokenError(t, res, tt.wantErr, tt.wantCode)
			})
		}
	})

	t.Run("token request", func(t *testing.T) {
		expiredDC, _ := h.deviceCode(publicApp, syncScope+oidcScopes)
		declinedDC, declinedUC := h.deviceCode(publicApp, syncScope+oidcScopes)
		h.mustStatus(h.approve(map[string]any{"user_code": declinedUC, "decline": true}), http.StatusNoContent)
		unconsentedDC, unconsentedUC := h.deviceCode(publicApp, "User.Read.All"+oidcScopes)
		h.mustStatus(h.approve(map[string]any{"user_code": unconsentedUC, "userPrincipalName": adminUPN}), http.StatusNoContent)
		confDC, _ := h.deviceCode(confidentialApp, "User.Read.All"+oidcScopes)
		tests := []struct {
			name     string
			client   string
			code     string
			extra    url.Values
			advance  time.Duration
			status   int
			wantErr  string
			wantCode float64
			doc      string
		}{
			{"unknown device code", publicApp, "nope", nil, 0, 400, "bad_verification_code", 70000, docDeviceCode},
			{"missing device code", publicApp, "", nil, 0, 400, "invalid_request", 900144, docDeviceCode},
			{"declined by the user", publicApp, declinedDC, nil, 0, 400, "authorization_declined", 65004, docDeviceCode},
			{"scope the admin never consented", publicApp, unconsentedDC, nil, 0, 400, "invalid_grant", 65001, docErrorCodes},
			{"confidential client without secret", confidentialApp, confDC, nil, 0, 401, "invalid_client", 7000218, docErrorCodes},
			{"confidential client, wrong secret", confidentialApp, confDC, url.Values{"client_secret": {"x"}}, 0, 401, "invalid_client", 7000215, docErrorCodes},
			{"code of another client", confidentialApp, expiredDC, url.Values{"client_secret": {testSecret}}, 0, 400, "bad_verification_code", 70000, docDeviceCode},
			{"expired after 15 minutes", publicApp, expiredDC, nil, 16 * time.Minute, 400, "expired_token", 70019, docDeviceCode},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				h.clock.Advance(tt.advance)
				res := h.pollDevice(tt.client, tt.code, tt.extra)
				if res.status != tt.status {
					t.Fatalf("status %d, want %d: %s", res.status, tt.status, res.raw)
				}
				checkTokenError(t, res, tt.wantErr, tt.wantCode)
			})
		}
	})

	t.Run("approval endpoint", func(t *testing.T) {
		_, uc := h.deviceCode(publicApp, syncScope)
		tests := []struct {
			name   string
			body   map[string]any
			status int
		}{
			{"unknown user code", map[string]any{"user_code": "ZZZZZZZZZ", "userPrincipalName": adminUPN}, 404},
			{"unknown user", map[string]any{"user_code": uc, "userPrincipalName": "ghost@" + testVanity}, 404},
			{"no user", map[string]any{"user_code": uc}, 400},
			{"unknown field", map[string]any{"user_code": uc, "userPrincipalName": adminUPN, "password": "x"}, 400},
			{"approved", map[string]any{"user_code": uc, "userPrincipalName": adminUPN}, 204},
			{"approved twice", map[string]any{"user_code": uc, "userPrincipalName": adminUPN}, 400},
		}
		for _, tt := range tests {
			res := h.approve(tt.body)
			if res.status != tt.status {
				t.Errorf("%s: status %d, want %d: %s", tt.name, res.status, tt.status, res.raw)
			}
		}
	})
}

func TestRefreshTokenGrant(t *testing.T) {
	h, adminUPN, _ := delegatedHarness(t)
	first := h.signIn(adminUPN, syncScope+oidcScopes)
	rt1 := first.body["refresh_token"].(string)
	refresh := func(client, rt string, extra url.Values) response {
		form := url.Values{"grant_type": {"refresh_token"}, "client_id": {client}, "refresh_token": {rt},
			"scope": {syncScope + oidcScopes}}
		for k, v := range extra {
			form[k] = v
		}
		return h.tokenRequest(testTenant, form)
	}
	second := refresh(publicApp, rt1, nil)
	h.mustStatus(second, http.StatusOK)
	rt2, _ := second.body["refresh_token"].(string)
	if rt2 == "" || rt2 == rt1 {
		t.Fatalf("refresh token not rotated: %s", second.raw)
	}
	tok, err := jose.Parse(second.body["access_token"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if tok.ClaimString("scp") != "OnPremDirectorySynchronization.ReadWrite.All" || tok.ClaimString("upn") != adminUPN {
		t.Errorf("refreshed claims %v", tok.Claims)
	}

	tests := []struct {
		name     string
		client   string
		rt       func() string
		extra    url.Values
		advance  time.Duration
		wantErr  string
		wantCode float64
		doc      string
	}{
		{"redeemed token reused", publicApp, func() string { return rt1 }, nil, 0, "invalid_grant", 70000, docRefreshTokens},
		{"unknown token", publicApp, func() string { return "garbage" }, nil, 0, "invalid_grant", 70000, docErrorCodes},
		{"token of another client", confidentialApp, func() string { return rt2 }, url.Values{"client_secret": {testSecret}}, 0, "invalid_grant", 70000, docErrorCodes},
		{"scope never consented", publicApp, func() string { return rt2 }, url.Values{"scope": {"https://graph.microsoft.com/User.Read.All offline_access"}}, 0, "invalid_grant", 65001, docErrorCodes},
		{"inactive for 90 days", publicApp, func() string {
			res := refresh(publicApp, h.signIn(adminUPN, syncScope+oidcScopes).body["refresh_token"].(string), nil)
			h.mustStatus(res, http.StatusOK)
			return res.body["refresh_token"].(string)
		}, nil, 91 * 24 * time.Hour, "invalid_grant", 700082, docRefreshTokens},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := tt.rt()
			h.clock.Advance(tt.advance)
			res := refresh(tt.client, rt, tt.extra)
			if res.status != http.StatusBadRequest {
				t.Fatalf("status %d: %s", res.status, res.raw)
			}
			checkTokenError(t, res, tt.wantErr, tt.wantCode)
		})
	}
}

func TestDelegatedSyncFeatures(t *testing.T) {
	const path = "/v1.0/directory/onPremisesSynchronization/" + testTenant
	for _, appOnly := range []bool{true, false} {
		h, adminUPN, plainUPN := delegatedHarness(t, func(c *Config) { c.AppOnlySyncFeatures = appOnly })
		adminTok := h.signIn(adminUPN, syncScope+oidcScopes).body["access_token"].(string)
		plainTok := h.signIn(plainUPN, syncScope+oidcScopes).body["access_token"].(string)
		userReadTok := h.signIn(adminUPN, "User.Read"+oidcScopes).body["access_token"].(string)
		wantApp := http.StatusForbidden
		if appOnly {
			wantApp = http.StatusOK
		}
		tests := []struct {
			name   string
			token  string
			method string
			want   int
			doc    string
		}{
			{"Global Administrator reads", adminTok, http.MethodGet, 200, docSyncGet},
			{"Global Administrator writes", adminTok, http.MethodPatch, 204, docSyncGet},
			{"user without the role", plainTok, http.MethodGet, 403, docSyncGet},
			{"admin without the scope", userReadTok, http.MethodGet, 403, docSyncGet},
			{"app-only", h.token(adminApp), http.MethodGet, wantApp, docSyncGet},
		}
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s, appOnlySyncFeatures=%v", tt.name, appOnly), func(t *testing.T) {
				var body io.Reader
				if tt.method == http.MethodPatch {
					raw, err := json.Marshal(map[string]any{"features": h.srv.Snapshot().Sync.Features})
					if err != nil {
						t.Fatal(err)
					}
					body = bytes.NewReader(raw)
				}
				res := h.send(tt.method, path, tt.token, body, map[string]string{"Content-Type": "application/json"})
				if res.status != tt.want {
					t.Fatalf("appOnlySyncFeatures=%v: status %d, want %d: %s", appOnly, res.status, tt.want, res.raw)
				}
				if tt.want == http.StatusForbidden && res.errorCode() != codeAuthorizationDenied {
					t.Errorf("code %q", res.errorCode())
				}
			})
		}
	}
}
