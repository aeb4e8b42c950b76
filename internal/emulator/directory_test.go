package emulator

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
)

func allFeatures(f SyncFeatures) map[string]any {
	raw, _ := json.Marshal(f)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return m
}

func TestSyncFeatures(t *testing.T) {
	h := newHarness(t)
	path := "/directory/onPremisesSynchronization/" + testTenant

	list := h.graph(readerApp, http.MethodGet, "/directory/onPremisesSynchronization", nil)
	h.mustStatus(list, 200)
	vals := list.body["value"].([]any)
	if len(vals) != 1 || vals[0].(map[string]any)["id"] != testTenant {
		t.Fatalf("collection %v", list.body)
	}
	got := h.graph(readerApp, http.MethodGet, path, nil)
	h.mustStatus(got, 200)
	features := got.body["features"].(map[string]any)
	if len(features) != 20 {
		t.Errorf("want all 20 documented flags, got %d: %v", len(features), features)
	}

	full := allFeatures(DefaultSyncState().Features)
	withBlock := allFeatures(DefaultSyncState().Features)
	withBlock["blockSoftMatchEnabled"] = true
	withBlock["blockCloudObjectTakeoverThroughHardMatchEnabled"] = true

	tests := []struct {
		name    string
		app     string
		body    any
		status  int
		message string
		doc     string
	}{
		{"reader cannot patch", readerApp, map[string]any{"features": full}, 403, "", docSync},
		{"read-modify-write of the whole object", adminApp, map[string]any{"features": withBlock}, 204, "", docSync},
		{"turning softMatchOnUpn off", adminApp, map[string]any{"features": func() map[string]any {
			m := allFeatures(DefaultSyncState().Features)
			m["softMatchOnUpnEnabled"] = false
			return m
		}()}, 400, "Property 'softMatchOnUpnEnabled' cannot be disabled once it has been enabled.", "https://learn.microsoft.com/en-us/graph/api/resources/onpremisesdirectorysynchronizationfeature"},
		{"partial features keep the omitted flags, softMatchOnUpn included", adminApp, map[string]any{"features": map[string]any{"blockSoftMatchEnabled": true}}, 204,
			"", docSync},
		{"turning synchronizeUpnForManagedUsers off", adminApp, map[string]any{"features": map[string]any{"synchronizeUpnForManagedUsersEnabled": false}}, 400,
			"Property 'synchronizeUpnForManagedUsersEnabled' cannot be disabled once it has been enabled.", docSyncServiceFeatures},
		{"passwordWriteback is not updatable", adminApp, map[string]any{"features": func() map[string]any {
			m := allFeatures(DefaultSyncState().Features)
			m["passwordWritebackEnabled"] = true
			return m
		}()}, 400, "Property 'passwordWritebackEnabled' is not in use and cannot be updated.", "https://learn.microsoft.com/en-us/graph/api/resources/onpremisesdirectorysynchronizationfeature"},
		{"unknown flag", adminApp, map[string]any{"features": map[string]any{"madeUpEnabled": true}}, 400,
			"Property 'madeUpEnabled' does not exist on type 'microsoft.graph.onPremisesDirectorySynchronizationFeature'.", docSync},
		{"flag of wrong type", adminApp, map[string]any{"features": map[string]any{"blockSoftMatchEnabled": "yes"}}, 400, "", docSync},
		{"accidental deletion threshold", adminApp, map[string]any{"configuration": map[string]any{
			"accidentalDeletionPrevention": map[string]any{"synchronizationPreventionType": "enabledForPercentage", "alertThreshold": 10}}}, 204, "", docSync},
		{"bad prevention type", adminApp, map[string]any{"configuration": map[string]any{
			"accidentalDeletionPrevention": map[string]any{"synchronizationPreventionType": "sometimes"}}}, 400, "", docSync},
		{"wrong id", adminApp, map[string]any{"features": full}, 404, "", docSync},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := path
			if tt.name == "wrong id" {
				p = "/directory/onPremisesSynchronization/" + uuid.NewString()
			}
			res := h.graph(tt.app, http.MethodPatch, p, tt.body)
			if res.status != tt.status {
				t.Fatalf("status %d, want %d: %s", res.status, tt.status, res.raw)
			}
			if tt.message != "" && res.errorMessage() != tt.message {
				t.Errorf("message %q, want %q", res.errorMessage(), tt.message)
			}
		})
	}
	after := h.srv.Snapshot().Sync
	want := DefaultSyncState()
	want.Features.BlockSoftMatchEnabled = true
	want.Features.BlockCloudObjectTakeoverThroughHardMatchEnabled = true
	want.Configuration.AccidentalDeletionPrevention = AccidentalDeletionPrevention{SynchronizationPreventionType: "enabledForPercentage", AlertThreshold: 10}
	if d := cmp.Diff(want, after); d != "" {
		t.Errorf("state after patches (-want +got):\n%s", d)
	}
}

// Pages the features PATCH rules follow.
const docSyncServiceFeatures = "https://learn.microsoft.com/entra/identity/hybrid/connect/how-to-connect-syncservice-features"

// TestDefaultSyncState follows how-to-connect-syncservice-features: soft
// match on UPN and synchronizeUpnForManagedUsers are "on by default for
// newly created Microsoft Entra directories".
func TestDefaultSyncState(t *testing.T) {
	f := DefaultSyncState().Features
	if !f.SoftMatchOnUpnEnabled || !f.SynchronizeUpnForManagedUsersEnabled {
		t.Errorf("default features %+v", f)
	}
}

func TestSyncFeaturesAppOnlyToggle(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.AppOnlySyncFeatures = false })
	res := h.graph(adminApp, http.MethodGet, "/directory/onPremisesSynchronization", nil)
	if res.status != 403 || res.errorCode() != codeAuthorizationDenied || !strings.Contains(res.errorMessage(), "delegated") {
		t.Fatalf("app-only access with AppOnlySyncFeatures=false: %d %s", res.status, res.raw)
	}
}

func TestRoles(t *testing.T) {
	h := newHarness(t)
	user := h.createUser("roleholder", nil)

	defs := h.graph(readerApp, http.MethodGet, "/roleManagement/directory/roleDefinitions", nil)
	h.mustStatus(defs, 200)
	found := map[string]bool{}
	for _, v := range defs.body["value"].([]any) {
		d := v.(map[string]any)
		found[d["displayName"].(string)] = true
		if _, ok := d["isPrivileged"]; ok {
			t.Errorf("%s: v1.0 role definition carries the beta property isPrivileged", d["displayName"])
		}
	}
	for _, name := range []string{"Global Administrator", "Privileged Role Administrator", "User Administrator",
		"Helpdesk Administrator", "Global Reader", "Directory Readers", "Exchange Administrator"} {
		if !found[name] {
			t.Errorf("built-in role %s missing", name)
		}
	}
	h.mustStatus(h.graph(readerApp, http.MethodGet, "/roleManagement/directory/roleDefinitions/"+RoleGlobalAdministrator, nil), 200)

	assign := map[string]any{"@odata.type": "#microsoft.graph.unifiedRoleAssignment", "principalId": user,
		"roleDefinitionId": RoleUserAdministrator, "directoryScopeId": "/"}
	created := h.graph(adminApp, http.MethodPost, "/roleManagement/directory/roleAssignments", assign)
	h.mustStatus(created, 201)
	assignmentID := created.body["id"].(string)

	tests := []struct {
		name   string
		app    string
		method string
		path   string
		body   any
		status int
		doc    string
	}{
		{"duplicate assignment", adminApp, "POST", "/roleManagement/directory/roleAssignments", assign, 400, docRoles},
		{"reader cannot assign", readerApp, "POST", "/roleManagement/directory/roleAssignments", assign, 403, docRoles},
		{"unknown principal", adminApp, "POST", "/roleManagement/directory/roleAssignments",
			map[string]any{"principalId": uuid.NewString(), "roleDefinitionId": RoleUserAdministrator, "directoryScopeId": "/"}, 404, docRoles},
		{"principal not a GUID", adminApp, "POST", "/roleManagement/directory/roleAssignments",
			map[string]any{"principalId": "bob", "roleDefinitionId": RoleUserAdministrator, "directoryScopeId": "/"}, 400, docRoles},
		{"missing scope", adminApp, "POST", "/roleManagement/directory/roleAssignments",
			map[string]any{"principalId": user, "roleDefinitionId": RoleHelpdeskAdministrator}, 400, docRoles},
		{"expand unsupported navigation", readerApp, "GET", "/roleManagement/directory/roleAssignments?$expand=principal", nil, 400,
			"https://learn.microsoft.com/en-us/graph/api/rbacapplication-list-roleassignments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := h.graph(tt.app, tt.method, tt.path, tt.body)
			if res.status != tt.status {
				t.Fatalf("status %d, want %d: %s", res.status, tt.status, res.raw)
			}
		})
	}

	list := h.graph(readerApp, http.MethodGet, "/roleManagement/directory/roleAssignments?"+escapeQuery("$filter=principalId eq '"+user+"'&$expand=roleDefinition"), nil)
	h.mustStatus(list, 200)
	vals := list.body["value"].([]any)
	if len(vals) != 1 {
		t.Fatalf("assignments %v", vals)
	}
	rd := vals[0].(map[string]any)["roleDefinition"].(map[string]any)
	if _, beta := rd["isPrivileged"]; rd["displayName"] != "User Administrator" || beta {
		t.Errorf("expanded role definition %v", rd)
	}
	h.mustStatus(h.graph(adminApp, http.MethodDelete, "/roleManagement/directory/roleAssignments/"+assignmentID, nil), 204)
	h.mustStatus(h.graph(adminApp, http.MethodDelete, "/roleManagement/directory/roleAssignments/"+assignmentID, nil), 404)

	// PIM eligibility: adminAssign makes the instance appear, adminRemove removes it.
	req := func(action string) map[string]any {
		return map[string]any{"action": action, "principalId": user, "roleDefinitionId": RoleGlobalAdministrator,
			"directoryScopeId": "/", "justification": "test",
			"scheduleInfo": map[string]any{"startDateTime": "2025-01-01T00:00:00Z", "expiration": map[string]any{"type": "noExpiration"}}}
	}
	instances := func() []any {
		res := h.graph(readerApp, http.MethodGet, "/roleManagement/directory/roleEligibilityScheduleInstances?"+escapeQuery("$filter=principalId eq '"+user+"'"), nil)
		h.mustStatus(res, 200)
		return res.body["value"].([]any)
	}
	res := h.graph(adminApp, http.MethodPost, "/roleManagement/directory/roleEligibilityScheduleRequests", req("adminAssign"))
	h.mustStatus(res, 201)
	if res.body["status"] != "Provisioned" {
		t.Errorf("assign status %v", res.body["status"])
	}
	if got := instances(); len(got) != 1 || got[0].(map[string]any)["roleDefinitionId"] != RoleGlobalAdministrator {
		t.Errorf("instances after adminAssign %v", got)
	}
	h.mustStatus(h.graph(adminApp, http.MethodPost, "/roleManagement/directory/roleEligibilityScheduleRequests", req("adminAssign")), 400)
	res = h.graph(adminApp, http.MethodPost, "/roleManagement/directory/roleEligibilityScheduleRequests", req("adminRemove"))
	h.mustStatus(res, 201)
	if res.body["status"] != "Revoked" {
		t.Errorf("remove status %v", res.body["status"])
	}
	if got := instances(); len(got) != 0 {
		t.Errorf("instances after adminRemove %v", got)
	}
	gone := h.graph(adminApp, http.MethodPost, "/roleManagement/directory/roleEligibilityScheduleRequests", req("adminRemove"))
	if gone.status != 400 || gone.errorCode() != "RoleAssignmentDoesNotExist" {
		t.Errorf("adminRemove of a removed eligibility: %d %s", gone.status, gone.raw)
	}
	h.mustStatus(h.graph(adminApp, http.MethodPost, "/roleManagement/directory/roleEligibilityScheduleRequests", req("selfActivate")), 400)
}

func TestAdminState(t *testing.T) {
	h := newHarness(t)
	h.createUser("dumped", nil)
	res := h.send(http.MethodGet, "/_emulator/state", "", nil, nil)
	h.mustStatus(res, 200)
	users := res.body["users"].([]any)
	if len(users) != 1 || users[0].(map[string]any)["userPrincipalName"] != "dumped@contoso.com" {
		t.Fatalf("dumped users %v", users)
	}
	snap := h.srv.Snapshot()
	snap.Users[0].DisplayName = "Replaced"
	raw, _ := json.Marshal(snap)
	h.mustStatus(h.send(http.MethodPut, "/_emulator/state", "", strings.NewReader(string(raw)), nil), 204)
	if got := h.srv.Snapshot().Users[0].DisplayName; got != "Replaced" {
		t.Errorf("after PUT: %s", got)
	}
	// An invalid snapshot is refused and leaves the state alone.
	snap.Users = append(snap.Users, snap.Users[0])
	raw, _ = json.Marshal(snap)
	h.mustStatus(h.send(http.MethodPut, "/_emulator/state", "", strings.NewReader(string(raw)), nil), 400)
	if n := len(h.srv.Snapshot().Users); n != 1 {
		t.Errorf("invalid PUT changed the state: %d users", n)
	}
	// Non-loopback callers are refused.
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/_emulator/state", nil)
	req.RemoteAddr = "10.1.2.3:4567"
	h.srv.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden {
		t.Errorf("remote admin call: %d", rec.Code)
	}
}

func TestMiddlewareHooks(t *testing.T) {
	var seen atomic.Value
	h := newHarness(t, func(c *Config) {
		c.GraphMiddleware = []func(http.Handler) http.Handler{
			func(next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if c, ok := CallerFrom(r.Context()); ok {
						seen.Store(c.AppID)
					}
					if r.URL.Query().Get("boom") != "" {
						panic("injected")
					}
					next.ServeHTTP(w, r)
				})
			},
		}
		c.AdminHandlers = map[string]http.Handler{"faults": http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusTeapot)
		})}
	})
	h.mustStatus(h.graph(readerApp, http.MethodGet, "/users", nil), 200)
	if seen.Load() != readerApp {
		t.Errorf("middleware saw caller %v", seen.Load())
	}
	res := h.graph(readerApp, http.MethodGet, "/users?boom=1", nil)
	if res.status != 500 || res.errorCode() != codeInternal {
		t.Errorf("panic: %d %s", res.status, res.raw)
	}
	h.mustStatus(h.send(http.MethodPost, "/_emulator/faults", "", nil, nil), http.StatusTeapot)
}

// TestConcurrentClients runs 20 clients against a tenant of 10,000 users:
// reads stay consistent and racing creates of one UPN let exactly one win.
func TestConcurrentClients(t *testing.T) {
	h := newHarness(t)
	snap := h.srv.Snapshot()
	for i := 0; i < 10000; i++ {
		snap.Users = append(snap.Users, User{ID: uuid.NewString(), UserPrincipalName: "bulk" + itoa(i) + "@contoso.com",
			DisplayName: "Bulk", MailNickname: "bulk" + itoa(i), OnPremisesImmutableID: ptr("anchor" + itoa(i))})
	}
	if err := h.srv.Replace(snap); err != nil {
		t.Fatal(err)
	}
	if n := h.srv.UserCount(); n != 10000 {
		t.Fatalf("UserCount = %d", n)
	}
	tokAdmin, tokReader := h.token(adminApp), h.token(readerApp)
	var wg sync.WaitGroup
	var wins, conflicts atomic.Int32
	errs := make(chan string, 100)
	for c := 0; c < 20; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				n := c*10 + i
				res := h.send(http.MethodGet, "/v1.0/users?"+escapeQuery("$filter=onPremisesImmutableId eq 'anchor"+itoa(n)+"'&$count=true"), tokReader, nil,
					map[string]string{"ConsistencyLevel": "eventual"})
				if res.status != 200 || res.body["@odata.count"] != float64(1) {
					errs <- "filter " + itoa(n) + ": " + string(res.raw)
				}
			}
			body := `{"accountEnabled":true,"displayName":"Race","mailNickname":"race","userPrincipalName":"race@contoso.com","passwordProfile":{"password":"x1!Aaaaa"}}`
			res := h.send(http.MethodPost, "/v1.0/users", tokAdmin, strings.NewReader(body), map[string]string{"Content-Type": "application/json"})
			switch res.status {
			case 201:
				wins.Add(1)
			case 400:
				conflicts.Add(1)
			default:
				errs <- "create: " + string(res.raw)
			}
		}(c)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if wins.Load() != 1 || conflicts.Load() != 19 {
		t.Errorf("racing creates: %d won, %d conflicted; want 1 and 19", wins.Load(), conflicts.Load())
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
