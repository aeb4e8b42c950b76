package emulator

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/entramatch/entra-match-operator/internal/emulator/jose"
	"github.com/entramatch/entra-match-operator/internal/emulator/tenant"
)

const (
	docUser         = "https://learn.microsoft.com/en-us/graph/api/resources/user"
	docUserGet      = "https://learn.microsoft.com/en-us/graph/api/user-get"
	docUserList     = "https://learn.microsoft.com/en-us/graph/api/user-list"
	docUserPost     = "https://learn.microsoft.com/en-us/graph/api/user-post-users"
	docUserUpdate   = "https://learn.microsoft.com/en-us/graph/api/user-update"
	docAdvanced     = "https://learn.microsoft.com/en-us/graph/aad-advanced-queries"
	docPaging       = "https://learn.microsoft.com/en-us/graph/paging"
	docErrors       = "https://learn.microsoft.com/en-us/graph/errors"
	docAuth         = "https://learn.microsoft.com/en-us/graph/auth-v2-service"
	docSensitive    = "https://learn.microsoft.com/en-us/entra/identity/role-based-access-control/privileged-roles-permissions#who-can-perform-sensitive-actions"
	docDeletedItems = "https://learn.microsoft.com/en-us/graph/api/directory-deleteditems-list"
	docSync         = "https://learn.microsoft.com/en-us/graph/api/onpremisesdirectorysynchronization-update"
	docRoles        = "https://learn.microsoft.com/en-us/graph/api/rbacapplication-post-roleassignments"
	docEligibility  = "https://learn.microsoft.com/en-us/graph/api/rbacapplication-post-roleeligibilityschedulerequests"
)

func TestGraphAuthentication(t *testing.T) {
	h := newHarness(t)
	other := newTestCert(t)
	kid, _ := h.signingKey()
	forged, err := jose.Sign(jose.RS256, other.key, map[string]any{"kid": kid},
		map[string]any{"aud": graphResourceURI, "tid": testTenant, "exp": time.Now().Add(time.Hour).Unix(), "roles": []string{"User.Read.All"}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		header string
		status int
		code   string
		doc    string
	}{
		{"no Authorization header", "", 401, codeInvalidToken, docAuth},
		{"not a bearer token", "Basic Zm9vOmJhcg==", 401, codeInvalidToken, docAuth},
		{"garbage token", "Bearer abc", 401, codeInvalidToken, docAuth},
		{"token signed by another key", "Bearer " + forged, 401, codeInvalidToken, docAuth},
		{"app without User.Read.All", "Bearer " + h.token(noPermApp), 403, codeAuthorizationDenied, docUserList},
		{"valid token", "Bearer " + h.token(readerApp), 200, "", docUserList},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := map[string]string{"client-request-id": "c0ffee00-0000-4000-8000-000000000001"}
			if tt.header != "" {
				hdr["Authorization"] = tt.header
			}
			res := h.send(http.MethodGet, "/v1.0/users", "", nil, hdr)
			if res.status != tt.status || res.errorCode() != tt.code {
				t.Fatalf("got %d %q, want %d %q: %s", res.status, res.errorCode(), tt.status, tt.code, res.raw)
			}
			if res.header.Get("request-id") == "" || res.header.Get("client-request-id") != hdr["client-request-id"] {
				t.Errorf("correlation headers %v", res.header)
			}
			if tt.code != "" {
				inner := res.body["error"].(map[string]any)["innerError"].(map[string]any)
				if inner["request-id"] != res.header.Get("request-id") || inner["client-request-id"] != hdr["client-request-id"] || inner["date"] == "" {
					t.Errorf("innerError %v", inner)
				}
			}
			if tt.status == 403 && res.errorMessage() != "Insufficient privileges to complete the operation." {
				t.Errorf("403 message %q", res.errorMessage())
			}
		})
	}
	// A token outlives neither its exp nor the clock skew.
	tok := h.token(readerApp)
	h.clock.Advance(66 * time.Minute)
	res := h.send(http.MethodGet, "/v1.0/users", tok, nil, nil)
	if res.status != 401 || res.errorCode() != codeInvalidToken {
		t.Fatalf("expired token: %d %s", res.status, res.raw)
	}
}

func TestCreateUser(t *testing.T) {
	h := newHarness(t)
	valid := func(mod func(map[string]any)) map[string]any {
		b := map[string]any{
			"accountEnabled": true, "displayName": "Adele Vance", "mailNickname": "adele",
			"userPrincipalName": "adele@contoso.com", "passwordProfile": map[string]any{"password": "xWwvJ]6NMw+bWH-d"},
		}
		if mod != nil {
			mod(b)
		}
		return b
	}
	tests := []struct {
		name    string
		body    any
		status  int
		message string
		doc     string
	}{
		{"created", valid(nil), 201, "", docUserPost},
		{"duplicate UPN", valid(func(b map[string]any) { b["mailNickname"] = "adele2" }), 400, "Another object with the same value for property userPrincipalName already exists.", docUserPost},
		{"UPN domain not in tenant", valid(func(b map[string]any) { b["userPrincipalName"] = "x@fabrikam.com" }), 400,
			"The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization.", docUserPost},
		{"missing passwordProfile", valid(func(b map[string]any) { delete(b, "passwordProfile"); b["userPrincipalName"] = "p@contoso.com" }), 400,
			"Invalid value specified for property 'passwordProfile' of resource 'User'.", docUserPost},
		{"missing mailNickname", valid(func(b map[string]any) { delete(b, "mailNickname"); b["userPrincipalName"] = "m@contoso.com" }), 400,
			"Invalid value specified for property 'mailNickname' of resource 'User'.", docUserPost},
		{"wrong type", valid(func(b map[string]any) { b["accountEnabled"] = "yes"; b["userPrincipalName"] = "t@contoso.com" }), 400,
			"Invalid value specified for property 'accountEnabled' of resource 'User'.", docUserPost},
		{"unknown property", valid(func(b map[string]any) { b["favouriteColour"] = "red" }), 400,
			"Property 'favouriteColour' does not exist on type 'microsoft.graph.user'.", docUser},
		{"read-only property", valid(func(b map[string]any) { b["proxyAddresses"] = []string{"SMTP:a@contoso.com"} }), 400,
			"Property 'proxyAddresses' is read-only and cannot be set.", docUser},
		{"malformed JSON", `{"displayName":`, 400, errUnreadableJSON, docErrors},
		{"not an object", `[1,2]`, 400, errUnreadableJSON, docErrors},
		{"empty body", ``, 400, "Empty Payload. JSON content expected.", docErrors},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := h.graph(adminApp, http.MethodPost, "/users", tt.body)
			if res.status != tt.status {
				t.Fatalf("status %d, want %d: %s", res.status, tt.status, res.raw)
			}
			if tt.message != "" && res.errorMessage() != tt.message {
				t.Errorf("message %q, want %q", res.errorMessage(), tt.message)
			}
			if tt.status == 201 {
				if _, has := res.body["onPremisesImmutableId"]; has {
					t.Error("default property set must not include onPremisesImmutableId")
				}
				if res.body["userPrincipalName"] != "adele@contoso.com" || !tenant.IsGUID(res.body["id"].(string)) {
					t.Errorf("created user %v", res.body)
				}
			}
		})
	}
	// The conflict names the conflicting object in details.
	res := h.graph(adminApp, http.MethodPost, "/users", valid(func(b map[string]any) { b["mailNickname"] = "adele3" }))
	details := res.body["error"].(map[string]any)["details"].([]any)
	if len(details) != 2 || details[0].(map[string]any)["code"] != codeObjectConflict || details[0].(map[string]any)["target"] != "userPrincipalName" {
		t.Errorf("details %v", details)
	}
	// An oversized body is refused before it is parsed.
	big := `{"displayName":"` + strings.Repeat("a", maxBodyBytes) + `"}`
	if res := h.graph(adminApp, http.MethodPost, "/users", big); res.status != http.StatusRequestEntityTooLarge || res.errorCode() != codeEntityTooLarge {
		t.Errorf("oversized body: %d %s", res.status, res.raw[:min(len(res.raw), 200)])
	}
	// Writing needs User.ReadWrite.All.
	if res := h.graph(readerApp, http.MethodPost, "/users", valid(nil)); res.status != 403 {
		t.Errorf("reader created a user: %d", res.status)
	}
}

func TestGetUserSelect(t *testing.T) {
	h := newHarness(t)
	u, err := h.srv.AddUser(User{UserPrincipalName: "Synced@contoso.com", DisplayName: "Synced", MailNickname: "synced",
		OnPremisesImmutableID: ptr("BpazOkLGm0iEtljAONPvOQ=="), OnPremisesSyncEnabled: ptr(true),
		OnPremisesSamAccountName: ptr("synced")})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		path   string
		status int
		want   map[string]any
		doc    string
	}{
		{"default set by id", "/users/" + u.ID, 200, map[string]any{
			"id": u.ID, "userPrincipalName": "Synced@contoso.com", "displayName": "Synced", "businessPhones": []any{},
			"givenName": nil, "jobTitle": nil, "mail": nil, "mobilePhone": nil, "officeLocation": nil,
			"preferredLanguage": nil, "surname": nil}, docUserGet},
		{"by UPN, case-insensitive, with $select", "/users/synced@CONTOSO.com?$select=onPremisesImmutableId,onPremisesSyncEnabled,onPremisesSamAccountName,proxyAddresses", 200,
			map[string]any{"onPremisesImmutableId": "BpazOkLGm0iEtljAONPvOQ==", "onPremisesSyncEnabled": true,
				"onPremisesSamAccountName": "synced", "proxyAddresses": []any{}}, docUser},
		{"unmodelled property reads as null", "/users/" + u.ID + "?$select=city", 200, map[string]any{"city": nil}, docUser},
		{"unknown $select property", "/users/" + u.ID + "?$select=nope", 400, nil, docUser},
		{"unknown user", "/users/" + uuid.NewString(), 404, nil, docUserGet},
		{"unknown UPN", "/users/nobody@contoso.com", 404, nil, docUserGet},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := h.graph(readerApp, http.MethodGet, tt.path, nil)
			if res.status != tt.status {
				t.Fatalf("status %d, want %d: %s", res.status, tt.status, res.raw)
			}
			if tt.want == nil {
				return
			}
			delete(res.body, "@odata.context")
			if d := cmp.Diff(tt.want, res.body); d != "" {
				t.Errorf("body mismatch (-want +got):\n%s", d)
			}
		})
	}
}

func TestListUsersFilter(t *testing.T) {
	h := newHarness(t)
	alice := h.createUser("alice", map[string]any{"mail": "alice@contoso.com"})
	bob := h.createUser("bob", nil)
	carol, err := h.srv.AddUser(User{UserPrincipalName: "carol@contoso.com", DisplayName: "Carol", MailNickname: "carol",
		OnPremisesImmutableID: ptr("3PNdoRZES0GLfV+9y1dDwQ=="), ProxyAddresses: []string{"SMTP:carol@contoso.com", "smtp:c@contoso.com"}})
	if err != nil {
		t.Fatal(err)
	}
	advanced := []string{"ConsistencyLevel", "eventual"}
	tests := []struct {
		name    string
		query   string
		headers []string
		status  int
		code    string
		wantIDs []string
		count   float64
		doc     string
	}{
		{"upn eq", "$filter=userPrincipalName eq 'BOB@contoso.com'", nil, 200, "", []string{bob}, -1, docUserList},
		{"mail eq", "$filter=mail eq 'alice@contoso.com'", nil, 200, "", []string{alice}, -1, docUserList},
		{"secondary proxy address", "$filter=proxyAddresses/any(p:p eq 'smtp:c@contoso.com')", nil, 200, "", []string{carol.ID}, -1, docUser},
		{"primary proxy from mail", "$filter=proxyAddresses/any(x:x eq 'SMTP:alice@contoso.com')", nil, 200, "", []string{alice}, -1, docUser},
		{"immutableId without advanced query", "$filter=onPremisesImmutableId eq '3PNdoRZES0GLfV+9y1dDwQ=='", nil, 400, codeUnsupportedQuery, nil, -1, docAdvanced},
		{"immutableId with header but no $count", "$filter=onPremisesImmutableId eq '3PNdoRZES0GLfV+9y1dDwQ=='", advanced, 400, codeUnsupportedQuery, nil, -1, docAdvanced},
		{"immutableId as advanced query", "$filter=onPremisesImmutableId eq '3PNdoRZES0GLfV+9y1dDwQ=='&$count=true", advanced, 200, "", []string{carol.ID}, 1, docAdvanced},
		{"immutableId is case-sensitive", "$filter=onPremisesImmutableId eq '3pndorzes0glfv+9y1dDwQ=='&$count=true", advanced, 200, "", nil, 0, docAdvanced},
		{"and combination", "$filter=onPremisesImmutableId eq '3PNdoRZES0GLfV+9y1dDwQ==' and userPrincipalName eq 'carol@contoso.com'&$count=true", advanced, 200, "", []string{carol.ID}, 1, docAdvanced},
		{"ne needs advanced", "$filter=displayName ne 'x'", nil, 400, codeUnsupportedQuery, nil, -1, docAdvanced},
		{"$count without ConsistencyLevel is silently ignored", "$count=true&$filter=userPrincipalName eq 'bob@contoso.com'", nil, 200, "", []string{bob}, -1, docAdvanced},
		{"onPremisesSyncEnabled eq works by default", "$filter=onPremisesSyncEnabled eq true", nil, 200, "", nil, -1, docAdvanced},
		{"onPremisesSyncEnabled eq null needs advanced", "$filter=onPremisesSyncEnabled eq null", nil, 400, codeUnsupportedQuery, nil, -1, docAdvanced},
		{"syntax error", "$filter=userPrincipalName eq 'x", nil, 400, codeBadRequestPlain, nil, -1, docErrors},
		{"unknown property", "$filter=shoeSize eq '9'", nil, 400, codeBadRequestPlain, nil, -1, docUserList},
		{"type mismatch", "$filter=accountEnabled eq 'yes'", nil, 400, codeBadRequestPlain, nil, -1, docUserList},
		{"unsupported option", "$orderby=displayName", nil, 400, codeBadRequestPlain, nil, -1, docUserList},
		{"$top too large", "$top=1000", nil, 400, codeBadRequest, nil, -1, docPaging},
		{"$top zero", "$top=0", nil, 400, codeBadRequest, nil, -1, docPaging},
		{"bad skip token", "$skiptoken=garbage", nil, 400, codeBadRequest, nil, -1, docPaging},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := h.graph(readerApp, http.MethodGet, "/users?"+escapeQuery(tt.query), nil, tt.headers...)
			if res.status != tt.status || res.errorCode() != tt.code {
				t.Fatalf("got %d %q, want %d %q: %s", res.status, res.errorCode(), tt.status, tt.code, res.raw)
			}
			if tt.status != 200 {
				return
			}
			var ids []string
			for _, v := range res.body["value"].([]any) {
				ids = append(ids, v.(map[string]any)["id"].(string))
			}
			if d := cmp.Diff(tt.wantIDs, ids); d != "" {
				t.Errorf("ids (-want +got):\n%s", d)
			}
			if tt.count >= 0 && res.body["@odata.count"] != tt.count {
				t.Errorf("@odata.count = %v, want %v", res.body["@odata.count"], tt.count)
			}
			if _, present := res.body["@odata.count"]; tt.count < 0 && present {
				t.Errorf("@odata.count = %v, want none", res.body["@odata.count"])
			}
		})
	}
}

// escapeQuery encodes a readable query string the way a client would.
func escapeQuery(q string) string {
	var parts []string
	for _, kv := range strings.Split(q, "&") {
		k, v, _ := strings.Cut(kv, "=")
		parts = append(parts, url.QueryEscape(k)+"="+url.QueryEscape(v))
	}
	return strings.Join(parts, "&")
}

func TestPaging(t *testing.T) {
	h := newHarness(t)
	want := map[string]bool{}
	for i := 0; i < 7; i++ {
		want[h.createUser(fmt.Sprintf("user%d", i), nil)] = true
	}
	got := map[string]bool{}
	next := h.srv.URL() + "/v1.0/users?" + escapeQuery("$top=3&$select=id,displayName")
	pages := 0
	for next != "" {
		pages++
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		path := strings.TrimPrefix(next, h.srv.URL())
		res := h.send(http.MethodGet, path, h.token(readerApp), nil, nil)
		h.mustStatus(res, 200)
		for _, v := range res.body["value"].([]any) {
			m := v.(map[string]any)
			if len(m) != 2 {
				t.Errorf("$select not kept across pages: %v", m)
			}
			id := m["id"].(string)
			if got[id] {
				t.Errorf("user %s served twice", id)
			}
			got[id] = true
		}
		next, _ = res.body["@odata.nextLink"].(string)
		if next != "" && !strings.Contains(next, "$skiptoken=") {
			t.Errorf("next link without skip token: %s", next)
		}
	}
	if pages != 3 {
		t.Errorf("pages = %d, want 3", pages)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("users (-want +got):\n%s", d)
	}
}

func TestUpdateUser(t *testing.T) {
	h := newHarness(t, withApp(App{ClientID: paaApp, Secret: testSecret, Permissions: []string{"User.ReadWrite.All"},
		DirectoryRoles: []string{RolePrivilegedAuthenticationAdministrator}}))
	target := h.createUser("target", nil)
	holder, err := h.srv.AddUser(User{UserPrincipalName: "holder@contoso.com", DisplayName: "Holder", MailNickname: "holder",
		OnPremisesImmutableID: ptr("BpazOkLGm0iEtljAONPvOQ==")})
	if err != nil {
		t.Fatal(err)
	}
	synced, err := h.srv.AddUser(User{UserPrincipalName: "synced@contoso.com", DisplayName: "Synced", MailNickname: "synced",
		OnPremisesImmutableID: ptr("3PNdoRZES0GLfV+9y1dDwQ=="), OnPremisesSyncEnabled: ptr(true)})
	if err != nil {
		t.Fatal(err)
	}
	admin := h.createUser("admin", nil)
	if err := h.srv.Update(func(s *Snapshot) error {
		s.RoleAssignments = append(s.RoleAssignments, RoleAssignment{ID: "ga-admin", PrincipalID: admin,
			RoleDefinitionID: RoleGlobalAdministrator, DirectoryScopeID: "/"})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		app     string
		user    string
		body    any
		status  int
		message string
		doc     string
	}{
		{"set immutableId", adminApp, target, map[string]any{"onPremisesImmutableId": "AAAAAAAAAAAAAAAAAAAAAA=="}, 204, "", docUserUpdate},
		{"SDK-style body with @odata.type", adminApp, target, map[string]any{"@odata.type": "#microsoft.graph.user", "jobTitle": "Engineer"}, 204, "", docUserUpdate},
		{"immutableId taken", adminApp, target, map[string]any{"onPremisesImmutableId": "BpazOkLGm0iEtljAONPvOQ=="}, 400,
			"Another object with the same value for property onPremisesImmutableId already exists.", docUserUpdate},
		{"on-premises mastered user", adminApp, synced.ID, map[string]any{"onPremisesImmutableId": "BBBBBBBBBBBBBBBBBBBBBB=="}, 400,
			"Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration.", docUserUpdate},
		{"usageLocation on synced user is cloud-owned", adminApp, synced.ID, map[string]any{"usageLocation": "NL"}, 204, "", docUserUpdate},
		{"dollar sign", adminApp, target, map[string]any{"onPremisesImmutableId": "abc$def"}, 400,
			"Invalid value specified for property 'onPremisesImmutableId' of resource 'User'.", docUser},
		{"underscore", adminApp, target, map[string]any{"onPremisesImmutableId": "abc_def"}, 400,
			"Invalid value specified for property 'onPremisesImmutableId' of resource 'User'.", docUser},
		{"60 characters", adminApp, target, map[string]any{"onPremisesImmutableId": strings.Repeat("A", 60)}, 400,
			"Invalid value specified for property 'onPremisesImmutableId' of resource 'User'.", docUser},
		{"wrong type", adminApp, target, map[string]any{"onPremisesImmutableId": 42}, 400,
			"Invalid value specified for property 'onPremisesImmutableId' of resource 'User'.", docUserUpdate},
		{"onPremisesSyncEnabled is read-only", adminApp, target, map[string]any{"onPremisesSyncEnabled": true}, 400,
			"Property 'onPremisesSyncEnabled' is read-only and cannot be set.", docUser},
		{"id is read-only", adminApp, target, map[string]any{"id": uuid.NewString()}, 400,
			"Property 'id' is read-only and cannot be set.", docUser},
		{"unknown property", adminApp, target, map[string]any{"x": 1}, 400,
			"Property 'x' does not exist on type 'microsoft.graph.user'.", docUserUpdate},
		{"wrong @odata.type", adminApp, target, map[string]any{"@odata.type": "#microsoft.graph.group"}, 400, "", docUserUpdate},
		{"privileged user, app without a directory role", userOnlyApp, admin, map[string]any{"onPremisesImmutableId": "CCCCCCCCCCCCCCCCCCCCCC=="}, 403,
			"Insufficient privileges to complete the operation.", docSensitive},
		{"privileged user, RoleManagement.ReadWrite.Directory is no directory role", adminApp, admin, map[string]any{"onPremisesImmutableId": "CCCCCCCCCCCCCCCCCCCCCC=="}, 403,
			"Insufficient privileges to complete the operation.", docSensitive},
		{"privileged user, other property", userOnlyApp, admin, map[string]any{"jobTitle": "Boss"}, 204, "", docSensitive},
		{"privileged user, app holding Privileged Authentication Administrator", paaApp, admin, map[string]any{"onPremisesImmutableId": "CCCCCCCCCCCCCCCCCCCCCC=="}, 204, "", docSensitive},
		{"unknown user", adminApp, uuid.NewString(), map[string]any{"jobTitle": "x"}, 404, "", docUserUpdate},
		{"reader cannot write", readerApp, target, map[string]any{"jobTitle": "x"}, 403, "", docUserUpdate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := h.graph(tt.app, http.MethodPatch, "/users/"+tt.user, tt.body)
			if res.status != tt.status {
				t.Fatalf("status %d, want %d: %s", res.status, tt.status, res.raw)
			}
			if tt.message != "" && res.errorMessage() != tt.message {
				t.Errorf("message %q, want %q", res.errorMessage(), tt.message)
			}
		})
	}
	res := h.graph(adminApp, http.MethodPatch, "/users/"+target, map[string]any{"onPremisesImmutableId": "BpazOkLGm0iEtljAONPvOQ=="})
	details := res.body["error"].(map[string]any)["details"].([]any)
	if got := details[1].(map[string]any)["target"]; got != holder.ID {
		t.Errorf("conflict details name %v, want %s", got, holder.ID)
	}
	// JSON null clears the anchor, and the value becomes free again.
	h.mustStatus(h.graph(adminApp, http.MethodPatch, "/users/"+holder.ID, `{"onPremisesImmutableId":null}`), 204)
	got := h.graph(readerApp, http.MethodGet, "/users/"+holder.ID+"?$select=onPremisesImmutableId", nil)
	if v, ok := got.body["onPremisesImmutableId"]; !ok || v != nil {
		t.Errorf("after null: %v", got.body)
	}
	h.mustStatus(h.graph(adminApp, http.MethodPatch, "/users/"+target, map[string]any{"onPremisesImmutableId": "BpazOkLGm0iEtljAONPvOQ=="}), 204)
}

func TestDeleteRestorePurge(t *testing.T) {
	h := newHarness(t)
	id := h.createUser("gone", map[string]any{"onPremisesImmutableId": "ZZZZZZZZZZZZZZZZZZZZZZ=="})
	h.mustStatus(h.graph(adminApp, http.MethodDelete, "/users/"+id, nil), 204)
	h.mustStatus(h.graph(readerApp, http.MethodGet, "/users/"+id, nil), 404)

	// The soft-deleted user still holds its anchor.
	other := h.createUser("other", nil)
	res := h.graph(adminApp, http.MethodPatch, "/users/"+other, map[string]any{"onPremisesImmutableId": "ZZZZZZZZZZZZZZZZZZZZZZ=="})
	if res.status != 400 || !strings.Contains(res.errorMessage(), "onPremisesImmutableId") {
		t.Errorf("anchor of a soft-deleted user was reusable: %d %s", res.status, res.raw)
	}

	tests := []struct {
		name   string
		method string
		path   string
		status int
		doc    string
	}{
		{"cast is required", "GET", "/directory/deletedItems", 400, docDeletedItems},
		{"list deleted users", "GET", "/directory/deletedItems/microsoft.graph.user", 200, docDeletedItems},
		{"get deleted item", "GET", "/directory/deletedItems/" + id, 200, "https://learn.microsoft.com/en-us/graph/api/directory-deleteditems-get"},
		{"bad id", "GET", "/directory/deletedItems/not-a-guid", 400, "https://learn.microsoft.com/en-us/graph/api/directory-deleteditems-get"},
		{"restore", "POST", "/directory/deletedItems/" + id + "/restore", 200, "https://learn.microsoft.com/en-us/graph/api/directory-deleteditems-restore"},
		{"restored user is back", "GET", "/users/" + id, 200, docUserGet},
		{"delete again", "DELETE", "/users/" + id, 204, "https://learn.microsoft.com/en-us/graph/api/user-delete"},
		{"purge", "DELETE", "/directory/deletedItems/" + id, 204, "https://learn.microsoft.com/en-us/graph/api/directory-deleteditems-delete"},
		{"purged item is gone", "GET", "/directory/deletedItems/" + id, 404, "https://learn.microsoft.com/en-us/graph/api/directory-deleteditems-get"},
		{"purge bad id", "DELETE", "/directory/deletedItems/xyz", 400, "https://learn.microsoft.com/en-us/graph/api/directory-deleteditems-delete"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := h.graph(adminApp, tt.method, tt.path, nil)
			if res.status != tt.status {
				t.Fatalf("status %d, want %d: %s", res.status, tt.status, res.raw)
			}
			if tt.name == "list deleted users" {
				vals := res.body["value"].([]any)
				if len(vals) != 1 || vals[0].(map[string]any)["deletedDateTime"] == nil {
					t.Errorf("deleted users %v", vals)
				}
			}
		})
	}
	// After the purge the anchor is free.
	h.mustStatus(h.graph(adminApp, http.MethodPatch, "/users/"+other, map[string]any{"onPremisesImmutableId": "ZZZZZZZZZZZZZZZZZZZZZZ=="}), 204)
}

func TestDomainsAndOrganization(t *testing.T) {
	h := newHarness(t)
	res := h.graph(adminApp, http.MethodGet, "/domains", nil)
	h.mustStatus(res, 200)
	byID := map[string]map[string]any{}
	for _, v := range res.body["value"].([]any) {
		d := v.(map[string]any)
		byID[d["id"].(string)] = d
	}
	if d := byID[testDomain]; d == nil || d["isInitial"] != true || d["isVerified"] != true || d["authenticationType"] != "Managed" {
		t.Errorf("initial domain %v", d)
	}
	if d := byID[testVanity]; d == nil || d["isInitial"] != false || d["isDefault"] != true {
		t.Errorf("vanity domain %v", d)
	}
	h.mustStatus(h.graph(adminApp, http.MethodGet, "/domains/"+testVanity, nil), 200)
	h.mustStatus(h.graph(adminApp, http.MethodGet, "/domains/fabrikam.com", nil), 404)
	h.mustStatus(h.graph(noPermApp, http.MethodGet, "/domains", nil), 403)

	org := h.graph(adminApp, http.MethodGet, "/organization", nil)
	h.mustStatus(org, 200)
	vals := org.body["value"].([]any)
	if len(vals) != 1 || vals[0].(map[string]any)["id"] != testTenant {
		t.Errorf("organization %v", vals)
	}
	h.mustStatus(h.graph(adminApp, http.MethodGet, "/organization/"+testTenant, nil), 200)
	h.mustStatus(h.graph(adminApp, http.MethodPost, "/organization", map[string]any{}), 405)
	h.mustStatus(h.graph(adminApp, http.MethodGet, "/nonsense", nil), 400)
}

func TestRoutingIsCaseInsensitive(t *testing.T) {
	h := newHarness(t)
	h.mustStatus(h.graph(adminApp, http.MethodGet, "/Users?$top=1", nil), 200)
	h.mustStatus(h.graph(adminApp, http.MethodGet, "/roleManagement/Directory/RoleDefinitions", nil), 200)
}

// A cloud-only user cannot be renamed into a federated domain without an
// immutable ID (Set-MsolUserPrincipalName's -ImmutableId: "required if
// moving the user from a standard to a federated identity domain"); one
// that has it can, and renames within the federated domain are free.
func TestRenameIntoFederatedDomain(t *testing.T) {
	h := newHarness(t)
	if err := h.srv.Update(func(s *Snapshot) error {
		s.Domains = append(s.Domains, Domain{ID: "fed.example", AuthenticationType: "Federated", IsVerified: true})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	id := h.createUser("mover", nil)
	res := h.graph(adminApp, http.MethodPatch, "/users/"+id, map[string]any{"userPrincipalName": "mover@fed.example"})
	h.mustStatus(res, http.StatusBadRequest)
	if !strings.Contains(res.errorMessage(), "onPremisesImmutableId") {
		t.Errorf("message %q", res.errorMessage())
	}
	h.mustStatus(h.graph(adminApp, http.MethodPatch, "/users/"+id, map[string]any{"onPremisesImmutableId": "TW92ZXI="}), http.StatusNoContent)
	h.mustStatus(h.graph(adminApp, http.MethodPatch, "/users/"+id, map[string]any{"userPrincipalName": "mover@fed.example"}), http.StatusNoContent)
	h.mustStatus(h.graph(adminApp, http.MethodPatch, "/users/"+id, map[string]any{"userPrincipalName": "mover2@fed.example"}), http.StatusNoContent)
}
