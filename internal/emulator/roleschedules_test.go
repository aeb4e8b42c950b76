package emulator

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/entramatch/entra-match-operator/internal/emulator/graphapi"
)

// Time-bound directory-role assignments as PIM models them: requests that
// assign and remove, instances that show what is active, expiry by the
// emulator's clock.
// docPIMErrors is Microsoft's PIM error table (400 RoleAssignmentDoesNotExist).
const docPIMErrors = "https://learn.microsoft.com/en-us/graph/api/governanceroleassignmentrequest-post?view=graph-rest-beta#error-codes"

const (
	docAssignRequestPost    = "https://learn.microsoft.com/en-us/graph/api/rbacapplication-post-roleassignmentschedulerequests"
	docAssignInstancesList  = "https://learn.microsoft.com/en-us/graph/api/rbacapplication-list-roleassignmentscheduleinstances"
	docAssignInstanceGet    = "https://learn.microsoft.com/en-us/graph/api/unifiedroleassignmentscheduleinstance-get"
	docAssignInstance       = "https://learn.microsoft.com/en-us/graph/api/resources/unifiedroleassignmentscheduleinstance"
	docExpirationPattern    = "https://learn.microsoft.com/en-us/graph/api/resources/expirationpattern"
	docRoleAssignmentsList  = "https://learn.microsoft.com/en-us/graph/api/rbacapplication-list-roleassignments"
	docRoleAssignmentGet    = "https://learn.microsoft.com/en-us/graph/api/unifiedroleassignment-get"
	docEligibilityReqPost   = "https://learn.microsoft.com/en-us/graph/api/rbacapplication-post-roleeligibilityschedulerequests"
	pathAssignRequests      = "/roleManagement/directory/roleAssignmentScheduleRequests"
	pathAssignInstances     = "/roleManagement/directory/roleAssignmentScheduleInstances"
	pathRoleAssignments     = "/roleManagement/directory/roleAssignments"
	pathEligibilityRequests = "/roleManagement/directory/roleEligibilityScheduleRequests"
	pathEligibilityInstance = "/roleManagement/directory/roleEligibilityScheduleInstances"
)

const (
	pimWriterApp  = "77777777-7777-4777-8777-777777777771" // RoleAssignmentSchedule.ReadWrite.Directory
	pimReaderApp  = "77777777-7777-4777-8777-777777777772" // RoleAssignmentSchedule.Read.Directory
	eligWriterApp = "77777777-7777-4777-8777-777777777773" // RoleEligibilitySchedule.ReadWrite.Directory
)

func withPIMApps(c *Config) {
	c.Apps = append(c.Apps,
		App{ClientID: pimWriterApp, Secret: testSecret, Permissions: []string{"RoleAssignmentSchedule.ReadWrite.Directory"}},
		App{ClientID: pimReaderApp, Secret: testSecret, Permissions: []string{"RoleAssignmentSchedule.Read.Directory"}},
		App{ClientID: eligWriterApp, Secret: testSecret, Permissions: []string{"RoleEligibilitySchedule.ReadWrite.Directory"}})
}

func rfc(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func scheduleReq(action, principal, role string, schedule map[string]any) map[string]any {
	body := map[string]any{"action": action, "principalId": principal, "roleDefinitionId": role,
		"directoryScopeId": "/", "justification": "break-glass drill"}
	if schedule != nil {
		body["scheduleInfo"] = schedule
	}
	return body
}

func until(end time.Time) map[string]any {
	return map[string]any{"expiration": map[string]any{"type": "afterDateTime", "endDateTime": rfc(end)}}
}

// list GETs a collection that must answer 200 and returns its items.
func (h *harness) list(app, path string) []map[string]any {
	h.t.Helper()
	res := h.graph(app, http.MethodGet, path, nil)
	h.mustStatus(res, http.StatusOK)
	raw, _ := res.body["value"].([]any)
	out := make([]map[string]any, 0, len(raw))
	for _, v := range raw {
		out = append(out, v.(map[string]any))
	}
	return out
}

func ids(items []map[string]any) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, it["id"].(string))
	}
	return out
}

func withoutContext(body map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range body {
		if k != "@odata.context" {
			out[k] = v
		}
	}
	return out
}

func filterBy(path, filter string) string { return path + "?" + escapeQuery("$filter="+filter) }

func TestAssignmentScheduleLifecycle(t *testing.T) {
	h := newHarness(t, withPIMApps)
	user := h.createUser("pimuser", nil)
	start := h.clock.Now().UTC()
	end := start.Add(time.Hour)
	byUser := "principalId eq '" + user + "'"

	// doc: docAssignRequestPost — adminAssign with an afterDateTime
	// expiration makes a time-bound active assignment at once.
	res := h.graph(pimWriterApp, http.MethodPost, pathAssignRequests, scheduleReq("adminAssign", user, RoleUserAdministrator,
		map[string]any{"startDateTime": rfc(start), "expiration": map[string]any{"type": "afterDateTime", "endDateTime": rfc(end)}}))
	h.mustStatus(res, http.StatusCreated)
	timed, _ := res.body["targetScheduleId"].(string)
	if timed == "" {
		t.Fatalf("no targetScheduleId: %s", res.raw)
	}
	gotReq := map[string]any{}
	for _, k := range []string{"status", "action", "principalId", "roleDefinitionId", "directoryScopeId", "appScopeId",
		"justification", "createdDateTime", "completedDateTime", "scheduleInfo"} {
		gotReq[k] = res.body[k]
	}
	wantReq := map[string]any{"status": "Provisioned", "action": "adminAssign", "principalId": user,
		"roleDefinitionId": RoleUserAdministrator, "directoryScopeId": "/", "appScopeId": nil,
		"justification": "break-glass drill", "createdDateTime": rfc(start), "completedDateTime": rfc(start),
		"scheduleInfo": map[string]any{"startDateTime": rfc(start), "recurrence": nil,
			"expiration": map[string]any{"type": "afterDateTime", "endDateTime": rfc(end), "duration": nil}}}
	if diff := cmp.Diff(wantReq, gotReq); diff != "" {
		t.Errorf("adminAssign response (-want +got):\n%s", diff)
	}
	if ctx, _ := res.body["@odata.context"].(string); !strings.HasSuffix(ctx, "$metadata#roleManagement/directory/roleAssignmentScheduleRequests/$entity") {
		t.Errorf("@odata.context %q", ctx)
	}

	// doc: docAssignInstance — the instance carries the period and names
	// the role assignment it stands for.
	wantTimed := map[string]any{"id": graphapi.AssignmentInstanceID(timed), "principalId": user, "roleDefinitionId": RoleUserAdministrator,
		"directoryScopeId": "/", "appScopeId": nil, "startDateTime": rfc(start), "endDateTime": rfc(end),
		"assignmentType": "Assigned", "memberType": "Direct", "roleAssignmentOriginId": timed, "roleAssignmentScheduleId": timed}
	if diff := cmp.Diff([]map[string]any{wantTimed}, h.list(readerApp, filterBy(pathAssignInstances, byUser))); diff != "" {
		t.Errorf("instances after adminAssign (-want +got):\n%s", diff)
	}
	one := h.graph(pimReaderApp, http.MethodGet, pathAssignInstances+"/"+graphapi.AssignmentInstanceID(timed), nil)
	h.mustStatus(one, http.StatusOK)
	if diff := cmp.Diff(wantTimed, withoutContext(one.body)); diff != "" {
		t.Errorf("instance by id, %s (-want +got):\n%s", docAssignInstanceGet, diff)
	}

	// doc: docRoleAssignmentsList — it is an ordinary role assignment too,
	// still shaped as a unifiedRoleAssignment (no period on it).
	if got := ids(h.list(readerApp, filterBy(pathRoleAssignments, byUser))); !cmp.Equal(got, []string{timed}) {
		t.Errorf("roleAssignments after adminAssign: %v", got)
	}
	ra := h.graph(readerApp, http.MethodGet, pathRoleAssignments+"/"+timed, nil)
	h.mustStatus(ra, http.StatusOK)
	if _, has := ra.body["endDateTime"]; has {
		t.Errorf("unifiedRoleAssignment grew a period: %s", ra.raw)
	}
	var dumped *RoleAssignment
	for _, a := range h.srv.Snapshot().RoleAssignments {
		if a.ID == timed {
			dumped = &a
		}
	}
	if dumped == nil || dumped.EndDateTime == nil || !dumped.EndDateTime.Equal(end) || dumped.StartDateTime == nil || !dumped.StartDateTime.Equal(start) {
		t.Errorf("snapshot keeps the period: %+v", dumped)
	}

	// doc: docAssignInstance — a direct assignment also has an instance:
	// permanent (no end), its own id as origin and schedule.
	direct := h.graph(adminApp, http.MethodPost, pathRoleAssignments, map[string]any{
		"principalId": user, "roleDefinitionId": RoleHelpdeskAdministrator, "directoryScopeId": "/"})
	h.mustStatus(direct, http.StatusCreated)
	permanent := direct.body["id"].(string)
	wantPermanent := map[string]any{"id": graphapi.AssignmentInstanceID(permanent), "principalId": user, "roleDefinitionId": RoleHelpdeskAdministrator,
		"directoryScopeId": "/", "appScopeId": nil, "startDateTime": nil, "endDateTime": nil,
		"assignmentType": "Assigned", "memberType": "Direct", "roleAssignmentOriginId": permanent, "roleAssignmentScheduleId": permanent}
	got := h.list(readerApp, filterBy(pathAssignInstances, "roleAssignmentOriginId eq '"+permanent+"'"))
	if diff := cmp.Diff([]map[string]any{wantPermanent}, got); diff != "" {
		t.Errorf("instance of a direct assignment (-want +got):\n%s", diff)
	}

	// doc: docAssignInstancesList — $filter on the documented properties
	// and $expand=roleDefinition.
	exp := h.list(readerApp, pathAssignInstances+"?"+escapeQuery("$filter=roleDefinitionId eq '"+RoleHelpdeskAdministrator+
		"' and directoryScopeId eq '/' and principalId eq '"+user+"'&$expand=roleDefinition"))
	if len(exp) != 1 || exp[0]["roleDefinition"].(map[string]any)["displayName"] != "Helpdesk Administrator" {
		t.Errorf("filtered, expanded instances: %v", exp)
	}

	// The end instant itself is still inside the period; one second later
	// the assignment is gone from both collections.
	h.clock.Advance(time.Hour)
	if got := ids(h.list(readerApp, filterBy(pathAssignInstances, byUser))); len(got) != 2 {
		t.Errorf("instances at endDateTime: %v", got)
	}
	h.clock.Advance(time.Second)
	if got := ids(h.list(readerApp, filterBy(pathAssignInstances, byUser))); !cmp.Equal(got, []string{graphapi.AssignmentInstanceID(permanent)}) {
		t.Errorf("instances after expiry: %v, want only the one of %s", got, permanent)
	}
	if got := ids(h.list(readerApp, filterBy(pathRoleAssignments, byUser))); !cmp.Equal(got, []string{permanent}) {
		t.Errorf("roleAssignments after expiry: %v, want only %s", got, permanent)
	}
	for _, p := range []string{pathAssignInstances + "/" + graphapi.AssignmentInstanceID(timed), pathRoleAssignments + "/" + timed} {
		h.mustStatus(h.graph(readerApp, http.MethodGet, p, nil), http.StatusNotFound)
	}
	h.mustStatus(h.graph(adminApp, http.MethodDelete, pathRoleAssignments+"/"+timed, nil), http.StatusNotFound)
	gone := h.graph(pimWriterApp, http.MethodPost, pathAssignRequests, scheduleReq("adminRemove", user, RoleUserAdministrator, nil))
	// doc: docPIMErrors (400 RoleAssignmentDoesNotExist)
	if gone.status != http.StatusBadRequest || gone.errorCode() != "RoleAssignmentDoesNotExist" {
		t.Errorf("adminRemove of an expired assignment: %d %s", gone.status, gone.raw)
	}

	// An expired assignment does not block a new one; Graph's own example
	// spells the expiration type "NoExpiration".
	again := h.graph(pimWriterApp, http.MethodPost, pathAssignRequests, scheduleReq("adminAssign", user, RoleUserAdministrator,
		map[string]any{"expiration": map[string]any{"type": "NoExpiration"}}))
	h.mustStatus(again, http.StatusCreated)
	now := h.clock.Now()
	if si := again.body["scheduleInfo"].(map[string]any); si["startDateTime"] != rfc(now) ||
		si["expiration"].(map[string]any)["type"] != "noExpiration" {
		t.Errorf("scheduleInfo of a permanent request: %v", si)
	}
	renewed := h.graph(readerApp, http.MethodGet, pathAssignInstances+"/"+graphapi.AssignmentInstanceID(timed), nil)
	h.mustStatus(renewed, http.StatusOK)
	if renewed.body["startDateTime"] != rfc(now) || renewed.body["endDateTime"] != nil {
		t.Errorf("re-assigned instance: %s", renewed.raw)
	}

	// doc: docAssignRequestPost — adminRemove revokes the assignment,
	// whether it came from a request or was made directly.
	for _, c := range []struct{ role, id string }{{RoleUserAdministrator, timed}, {RoleHelpdeskAdministrator, permanent}} {
		rm := h.graph(pimWriterApp, http.MethodPost, pathAssignRequests, scheduleReq("adminRemove", user, c.role, nil))
		h.mustStatus(rm, http.StatusCreated)
		if rm.body["status"] != "Revoked" || rm.body["action"] != "adminRemove" || rm.body["targetScheduleId"] != c.id {
			t.Errorf("adminRemove %s: %s", c.role, rm.raw)
		}
		h.mustStatus(h.graph(readerApp, http.MethodGet, pathRoleAssignments+"/"+c.id, nil), http.StatusNotFound)
	}
	if got := h.list(readerApp, filterBy(pathAssignInstances, byUser)); len(got) != 0 {
		t.Errorf("instances after adminRemove: %v", got)
	}
	if got := h.list(readerApp, filterBy(pathRoleAssignments, byUser)); len(got) != 0 {
		t.Errorf("roleAssignments after adminRemove: %v", got)
	}
}

func TestAssignmentScheduleRequestErrors(t *testing.T) {
	h := newHarness(t, withPIMApps)
	user := h.createUser("pimerrors", nil)
	h.mustStatus(h.graph(adminApp, http.MethodPost, pathRoleAssignments, map[string]any{
		"principalId": user, "roleDefinitionId": RoleUserAdministrator, "directoryScopeId": "/"}), http.StatusCreated)
	now := h.clock.Now()
	with := func(body map[string]any, k string, v any) map[string]any {
		body[k] = v
		return body
	}

	tests := []struct {
		name   string
		app    string
		body   map[string]any
		status int
		code   string
		doc    string
	}{
		{"adminAssign over an active assignment", pimWriterApp,
			scheduleReq("adminAssign", user, RoleUserAdministrator, until(now.Add(time.Hour))), 400, "RoleAssignmentExists", docAssignRequestPost},
		{"end equal to start", pimWriterApp,
			scheduleReq("adminAssign", user, RoleGlobalAdministrator, map[string]any{"startDateTime": rfc(now),
				"expiration": map[string]any{"type": "afterDateTime", "endDateTime": rfc(now)}}), 400, codeBadRequest, docExpirationPattern},
		{"end before start", pimWriterApp,
			scheduleReq("adminAssign", user, RoleGlobalAdministrator, map[string]any{"startDateTime": rfc(now.Add(2 * time.Hour)),
				"expiration": map[string]any{"type": "afterDateTime", "endDateTime": rfc(now.Add(time.Hour))}}), 400, codeBadRequest, docExpirationPattern},
		{"afterDateTime without endDateTime", pimWriterApp,
			scheduleReq("adminAssign", user, RoleGlobalAdministrator, map[string]any{"expiration": map[string]any{"type": "afterDateTime"}}),
			400, codeBadRequest, docExpirationPattern},
		{"afterDuration in months", pimWriterApp,
			scheduleReq("adminAssign", user, RoleGlobalAdministrator, map[string]any{"expiration": map[string]any{"type": "afterDuration", "duration": "P1M"}}),
			400, codeBadRequest, docExpirationPattern},
		{"unknown expiration type", pimWriterApp,
			scheduleReq("adminAssign", user, RoleGlobalAdministrator, map[string]any{"expiration": map[string]any{"type": "afterLunch"}}),
			400, codeBadRequest, docExpirationPattern},
		{"adminRemove with nothing assigned", pimWriterApp,
			scheduleReq("adminRemove", user, RoleHelpdeskAdministrator, nil), 400, "RoleAssignmentDoesNotExist", docPIMErrors},
		{"unknown role definition", pimWriterApp,
			scheduleReq("adminAssign", user, "00000000-0000-4000-8000-00000000dead", nil), 404, codeNotFound, docAssignRequestPost},
		{"unknown principal", pimWriterApp,
			scheduleReq("adminAssign", "00000000-0000-4000-8000-0000000000aa", RoleGlobalAdministrator, nil), 404, codeNotFound, docAssignRequestPost},
		{"selfActivate is not emulated", pimWriterApp,
			scheduleReq("selfActivate", user, RoleGlobalAdministrator, nil), 400, codeBadRequest, docAssignRequestPost},
		{"missing action", pimWriterApp,
			with(scheduleReq("", user, RoleGlobalAdministrator, nil), "action", nil), 400, codeBadRequest, docAssignRequestPost},
		{"validation-only requests are refused, not carried out", pimWriterApp,
			with(scheduleReq("adminAssign", user, RoleGlobalAdministrator, nil), "isValidationOnly", true), 400, codeBadRequest, docAssignRequestPost},
		{"directory scope other than the tenant", pimWriterApp,
			with(scheduleReq("adminAssign", user, RoleGlobalAdministrator, nil), "directoryScopeId", "/administrativeUnits/x"), 400, codeBadRequest, docAssignRequestPost},
		{"eligibility request type on the assignment collection", pimWriterApp,
			with(scheduleReq("adminAssign", user, RoleGlobalAdministrator, nil), "@odata.type", "#microsoft.graph.unifiedRoleEligibilityScheduleRequest"),
			400, codeBadRequest, docAssignRequestPost},
		{"unknown property", pimWriterApp,
			with(scheduleReq("adminAssign", user, RoleGlobalAdministrator, nil), "expiresSoon", true), 400, codeBadRequest, docAssignRequestPost},
		{"read permission cannot request", readerApp,
			scheduleReq("adminAssign", user, RoleGlobalAdministrator, nil), 403, codeAuthorizationDenied, docAssignRequestPost},
		{"eligibility permission does not cover assignments", eligWriterApp,
			scheduleReq("adminAssign", user, RoleGlobalAdministrator, nil), 403, codeAuthorizationDenied, docAssignRequestPost},
		{"no role permission", noPermApp,
			scheduleReq("adminAssign", user, RoleGlobalAdministrator, nil), 403, codeAuthorizationDenied, docAssignRequestPost},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := h.graph(tt.app, http.MethodPost, pathAssignRequests, tt.body)
			if res.status != tt.status || res.errorCode() != tt.code {
				t.Fatalf("got %d %q, want %d %q (%s): %s", res.status, res.errorCode(), tt.status, tt.code, tt.doc, res.raw)
			}
			if e, _ := res.body["error"].(map[string]any); e["message"] == "" || e["innerError"] == nil {
				t.Errorf("not Graph's error shape: %s", res.raw)
			}
		})
	}
	// None of the refused requests changed anything.
	if got := h.list(readerApp, filterBy(pathAssignInstances, "principalId eq '"+user+"'")); len(got) != 1 ||
		got[0]["roleDefinitionId"] != RoleUserAdministrator || got[0]["endDateTime"] != nil {
		t.Errorf("instances after refused requests: %v", got)
	}
}

func TestAssignmentInstancesQueryAndPermissions(t *testing.T) {
	h := newHarness(t, withPIMApps)
	var users []string
	for _, nick := range []string{"pa", "pb", "pc"} {
		u := h.createUser(nick, nil)
		users = append(users, u)
		h.mustStatus(h.graph(pimWriterApp, http.MethodPost, pathAssignRequests,
			scheduleReq("adminAssign", u, RoleGlobalReader, until(h.clock.Now().Add(time.Hour)))), http.StatusCreated)
	}
	some := h.list(adminApp, pathAssignInstances)
	if len(some) != 3 {
		t.Fatalf("instances: %v", some)
	}

	reads := []struct {
		name   string
		app    string
		path   string
		status int
		code   string
		doc    string
	}{
		{"RoleManagement.Read.Directory", readerApp, pathAssignInstances, 200, "", docAssignInstancesList},
		{"RoleAssignmentSchedule.Read.Directory", pimReaderApp, pathAssignInstances, 200, "", docAssignInstancesList},
		{"RoleAssignmentSchedule.ReadWrite.Directory", pimWriterApp, pathAssignInstances, 200, "", docAssignInstancesList},
		{"RoleManagement.ReadWrite.Directory", adminApp, pathAssignInstances, 200, "", docAssignInstancesList},
		{"eligibility permission does not cover assignments", eligWriterApp, pathAssignInstances, 403, codeAuthorizationDenied, docAssignInstancesList},
		{"no role permission", noPermApp, pathAssignInstances, 403, codeAuthorizationDenied, docAssignInstancesList},
		{"no role permission, by id", noPermApp, pathAssignInstances + "/" + some[0]["id"].(string), 403, codeAuthorizationDenied, docAssignInstanceGet},
		{"unknown id", readerApp, pathAssignInstances + "/nope", 404, codeNotFound, docAssignInstanceGet},
		{"filter on a property without $filter support", readerApp,
			filterBy(pathAssignInstances, "startDateTime eq '2026-01-01T00:00:00Z'"), 400, codeUnsupportedQuery, docAssignInstance},
		{"filter on an unknown property", readerApp, filterBy(pathAssignInstances, "colour eq 'blue'"), 400, codeBadRequestPlain, docAssignInstance},
		{"filter on assignmentType", readerApp, filterBy(pathAssignInstances, "assignmentType eq 'Assigned'"), 200, "", docAssignInstance},
		{"expand other than roleDefinition", readerApp, pathAssignInstances + "?" + escapeQuery("$expand=principal"), 400, codeBadRequest, docAssignInstancesList},
		{"POST on the instances", readerApp, pathAssignInstances, 405, codeMethodNotAllowed, docAssignInstancesList},
	}
	for _, tt := range reads {
		t.Run(tt.name, func(t *testing.T) {
			method := http.MethodGet
			if strings.HasPrefix(tt.name, "POST") {
				method = http.MethodPost
			}
			res := h.graph(tt.app, method, tt.path, nil)
			if res.status != tt.status || (tt.code != "" && res.errorCode() != tt.code) {
				t.Fatalf("got %d %q, want %d %q (%s): %s", res.status, res.errorCode(), tt.status, tt.code, tt.doc, res.raw)
			}
		})
	}

	// Paging: $top and an @odata.nextLink that continues where the page
	// ended.
	first := h.graph(readerApp, http.MethodGet, pathAssignInstances+"?$top=2", nil)
	h.mustStatus(first, http.StatusOK)
	next, _ := first.body["@odata.nextLink"].(string)
	if len(first.body["value"].([]any)) != 2 || next == "" {
		t.Fatalf("first page: %s", first.raw)
	}
	u, err := url.Parse(next)
	if err != nil {
		t.Fatal(err)
	}
	second := h.list(readerApp, strings.TrimPrefix(u.Path, "/v1.0")+"?"+u.RawQuery)
	var seen []string
	for _, v := range first.body["value"].([]any) {
		seen = append(seen, v.(map[string]any)["id"].(string))
	}
	seen = append(seen, ids(second)...)
	if diff := cmp.Diff(ids(some), seen); diff != "" {
		t.Errorf("pages (-all +paged):\n%s", diff)
	}
	for _, u := range users {
		if got := h.list(readerApp, filterBy(pathAssignInstances, "principalId eq '"+u+"'")); len(got) != 1 {
			t.Errorf("filter by principal %s: %v", u, got)
		}
	}
}

// A seeded snapshot can carry time-bound assignments; expired ones are
// kept in the state but not shown.
func TestAssignmentPeriodFromSnapshot(t *testing.T) {
	h := newHarness(t)
	user := h.createUser("seeded", nil)
	now := h.clock.Now()
	var expired, current RoleAssignment
	for raw, into := range map[string]*RoleAssignment{
		`{"id":"ra-expired","principalId":"` + user + `","roleDefinitionId":"` + RoleGlobalAdministrator + `","directoryScopeId":"/",` +
			`"startDateTime":"` + rfc(now.Add(-48*time.Hour)) + `","endDateTime":"` + rfc(now.Add(-time.Minute)) + `"}`: &expired,
		`{"id":"ra-current","principalId":"` + user + `","roleDefinitionId":"` + RoleUserAdministrator + `","directoryScopeId":"/",` +
			`"endDateTime":"` + rfc(now.Add(time.Hour)) + `"}`: &current,
	} {
		if err := json.Unmarshal([]byte(raw), into); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.srv.Update(func(s *Snapshot) error {
		s.RoleAssignments = append(s.RoleAssignments, expired, current)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	got := h.list(readerApp, filterBy(pathAssignInstances, "principalId eq '"+user+"'"))
	if len(got) != 1 || got[0]["roleAssignmentOriginId"] != "ra-current" || got[0]["endDateTime"] != rfc(now.Add(time.Hour)) || got[0]["startDateTime"] != nil {
		t.Errorf("instances from a snapshot: %v", got)
	}
	if got := ids(h.list(readerApp, filterBy(pathRoleAssignments, "principalId eq '"+user+"'"))); !cmp.Equal(got, []string{"ra-current"}) {
		t.Errorf("roleAssignments from a snapshot: %v (%s)", got, docRoleAssignmentsList)
	}
	if res := h.graph(readerApp, http.MethodGet, pathRoleAssignments+"/ra-expired", nil); res.status != http.StatusNotFound {
		t.Errorf("expired assignment by id: %d, want 404 (%s)", res.status, docRoleAssignmentGet)
	}
	kept := 0
	for _, a := range h.srv.Snapshot().RoleAssignments {
		if a.ID == "ra-expired" || a.ID == "ra-current" {
			kept++
		}
	}
	if kept != 2 {
		t.Errorf("the dump keeps expired assignments too, got %d of 2", kept)
	}
	raw, _ := json.Marshal(RoleAssignment{ID: "x", PrincipalID: user, RoleDefinitionID: RoleGlobalAdministrator, DirectoryScopeID: "/"})
	if strings.Contains(string(raw), "DateTime") {
		t.Errorf("a permanent assignment serializes a period: %s", raw)
	}
}

// Eligibility and assignment requests share one implementation: the same
// schedule rules hold for both.
func TestScheduleRulesShared(t *testing.T) {
	h := newHarness(t, withPIMApps)
	user := h.createUser("shared", nil)
	start := h.clock.Now()
	for _, c := range []struct{ app, path string }{{adminApp, pathEligibilityRequests}, {pimWriterApp, pathAssignRequests}} {
		// doc: docExpirationPattern — Graph's own example uses "AfterDuration".
		res := h.graph(c.app, http.MethodPost, c.path, scheduleReq("adminAssign", user, RolePrivilegedRoleAdministrator,
			map[string]any{"expiration": map[string]any{"type": "AfterDuration", "duration": "PT2H30M"}}))
		h.mustStatus(res, http.StatusCreated)
		want := map[string]any{"startDateTime": rfc(start), "recurrence": nil,
			"expiration": map[string]any{"type": "afterDuration", "endDateTime": nil, "duration": "PT2H30M"}}
		if diff := cmp.Diff(want, res.body["scheduleInfo"]); diff != "" {
			t.Errorf("%s scheduleInfo (-want +got):\n%s", c.path, diff)
		}
		bad := h.graph(c.app, http.MethodPost, c.path, scheduleReq("adminAssign", user, RoleGlobalAdministrator, map[string]any{
			"startDateTime": rfc(start), "expiration": map[string]any{"type": "afterDateTime", "endDateTime": rfc(start.Add(-time.Second))}}))
		if bad.status != http.StatusBadRequest {
			t.Errorf("%s: end before start answered %d (%s)", c.path, bad.status, docEligibilityReqPost)
		}
	}
	wantEnd := rfc(start.Add(150 * time.Minute))
	elig := h.list(readerApp, filterBy(pathEligibilityInstance, "principalId eq '"+user+"'"))
	assign := h.list(readerApp, filterBy(pathAssignInstances, "principalId eq '"+user+"'"))
	if len(elig) != 1 || elig[0]["endDateTime"] != wantEnd || len(assign) != 1 || assign[0]["endDateTime"] != wantEnd {
		t.Fatalf("afterDuration end, want %s: eligibility %v, assignment %v", wantEnd, elig, assign)
	}
	// Both expire by the emulator's clock, and an expired schedule can be
	// assigned again.
	h.clock.Advance(3 * time.Hour)
	h.tokens = map[string]string{} // access tokens last an hour
	if got := h.list(readerApp, filterBy(pathEligibilityInstance, "principalId eq '"+user+"'")); len(got) != 0 {
		t.Errorf("eligibility after expiry: %v", got)
	}
	h.mustStatus(h.graph(readerApp, http.MethodGet, pathEligibilityInstance+"/"+elig[0]["id"].(string), nil), http.StatusNotFound)
	for _, c := range []struct{ app, path string }{{adminApp, pathEligibilityRequests}, {pimWriterApp, pathAssignRequests}} {
		h.mustStatus(h.graph(c.app, http.MethodPost, c.path, scheduleReq("adminAssign", user, RolePrivilegedRoleAdministrator, nil)), http.StatusCreated)
	}
}

// A tenant without Microsoft Entra ID P2 has no PIM: every schedule
// collection answers 400 AadPremiumLicenseRequired (Graph's answer, as seen
// on roleEligibilityScheduleInstances in github.com/maester365/maester
// issue 1421), while roleAssignments keeps working.
func TestNoPIMLicense(t *testing.T) {
	h := newHarness(t, withPIMApps, func(c *Config) { c.NoPIMLicense = true })
	user := h.createUser("nopim", nil)
	for _, req := range []struct{ method, path string }{
		{http.MethodGet, pathEligibilityInstance},
		{http.MethodGet, pathAssignInstances},
		{http.MethodPost, pathEligibilityRequests},
		{http.MethodPost, pathAssignRequests},
	} {
		var body any
		if req.method == http.MethodPost {
			body = scheduleReq("adminAssign", user, RoleUserAdministrator, nil)
		}
		res := h.graph(adminApp, req.method, req.path, body)
		h.mustStatus(res, http.StatusBadRequest)
		if code := res.errorCode(); code != "AadPremiumLicenseRequired" {
			t.Errorf("%s %s: code %q, want AadPremiumLicenseRequired", req.method, req.path, code)
		}
	}
	h.mustStatus(h.graph(adminApp, http.MethodGet, pathRoleAssignments, nil), http.StatusOK)
}
