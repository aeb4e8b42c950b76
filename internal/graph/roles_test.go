package graph

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/entramatch/entra-match-operator/internal/cloud"
)

const (
	docRoleAssignments   = "https://learn.microsoft.com/graph/api/rbacapplication-list-roleassignments"
	docEligibilityCreate = "https://learn.microsoft.com/graph/api/rbacapplication-post-roleeligibilityschedulerequests"
	globalAdminTemplate  = "62e90394-69f5-4237-9190-012177145e10"
)

func TestRoleAssignmentsExpandRoleDefinition(t *testing.T) {
	f := newFakeCloud(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"value": []any{map[string]any{
			"id": "ra1", "principalId": "p1", "roleDefinitionId": globalAdminTemplate, "directoryScopeId": "/",
			"roleDefinition": map[string]any{"id": globalAdminTemplate, "displayName": "Global Administrator", "isBuiltIn": true, "templateId": globalAdminTemplate},
		}}})
	})
	got, err := f.client(nil).RoleAssignments(context.Background(), "p1")
	if err != nil {
		t.Fatal(err)
	}
	want := []cloud.RoleAssignment{{
		ID: "ra1", PrincipalID: "p1", RoleDefinitionID: globalAdminTemplate, DirectoryScopeID: "/",
		Role: cloud.RoleDefinition{ID: globalAdminTemplate, DisplayName: "Global Administrator", IsBuiltIn: true, TemplateID: globalAdminTemplate},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	q, _ := url.ParseQuery(f.recorded()[0].Query)
	if q.Get("$filter") != "principalId eq 'p1'" || q.Get("$expand") != "roleDefinition" {
		t.Errorf("query = %v (doc: %s)", q, docRoleAssignments)
	}
}

func TestEligibilityRequests(t *testing.T) {
	tests := []struct {
		name       string
		call       func(*Client) error
		wantAction string
		wantSched  bool
	}{
		{"assign", func(c *Client) error {
			return c.AssignEligibility(context.Background(), cloud.RoleEligibility{PrincipalID: "p1", RoleDefinitionID: globalAdminTemplate, DirectoryScopeID: "/"}, "restore after match")
		}, "adminAssign", true},
		{"remove", func(c *Client) error {
			return c.RemoveEligibility(context.Background(), cloud.RoleEligibility{PrincipalID: "p1", RoleDefinitionID: globalAdminTemplate, DirectoryScopeID: "/"}, "")
		}, "adminRemove", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeCloud(t, func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, 201, map[string]any{"id": "req1", "status": "Provisioned"})
			})
			before := time.Now().Add(-time.Second)
			if err := tt.call(f.client(nil)); err != nil {
				t.Fatal(err)
			}
			r := f.recorded()[0]
			if r.Method != http.MethodPost || r.Path != "/roleManagement/directory/roleEligibilityScheduleRequests" {
				t.Fatalf("request = %s %s", r.Method, r.Path)
			}
			var body struct {
				Action           string `json:"action"`
				PrincipalID      string `json:"principalId"`
				RoleDefinitionID string `json:"roleDefinitionId"`
				DirectoryScopeID string `json:"directoryScopeId"`
				Justification    string `json:"justification"`
				ScheduleInfo     *struct {
					StartDateTime time.Time `json:"startDateTime"`
					Expiration    struct {
						Type string `json:"type"`
					} `json:"expiration"`
				} `json:"scheduleInfo"`
			}
			if err := json.Unmarshal(r.Body, &body); err != nil {
				t.Fatalf("body %s: %v", r.Body, err)
			}
			if body.Action != tt.wantAction || body.PrincipalID != "p1" || body.RoleDefinitionID != globalAdminTemplate ||
				body.DirectoryScopeID != "/" || body.Justification == "" {
				t.Errorf("body = %s (doc: %s)", r.Body, docEligibilityCreate)
			}
			if (body.ScheduleInfo != nil) != tt.wantSched {
				t.Fatalf("scheduleInfo present = %v, want %v: %s", body.ScheduleInfo != nil, tt.wantSched, r.Body)
			}
			if tt.wantSched && (body.ScheduleInfo.Expiration.Type != "noExpiration" || body.ScheduleInfo.StartDateTime.Before(before)) {
				t.Errorf("schedule = %+v, want noExpiration starting now", body.ScheduleInfo)
			}
		})
	}
}

func TestObserverSeesEveryAttempt(t *testing.T) {
	f := newFakeCloud(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1.0/organization":
			writeJSON(w, 200, map[string]any{"value": []any{map[string]any{"id": fakeTenant, "displayName": "Contoso"}}})
		default:
			graphError(w, 404, "Request_ResourceNotFound", "nope")
		}
	})
	obs := &recordingObserver{}
	c := f.client(obs)
	org, err := c.Organization(context.Background())
	if err != nil || org.DisplayName != "Contoso" {
		t.Fatalf("Organization = %+v, %v", org, err)
	}
	if _, err := c.GetUser(context.Background(), "missing"); cloud.ClassOf(err) != cloud.ClassNotFound {
		t.Fatalf("GetUser err = %v", err)
	}
	got := obs.all()
	var graphCalls []observation
	tokenCalls := 0
	for _, o := range got {
		if o.Op == OpAcquireToken {
			tokenCalls++
			continue
		}
		graphCalls = append(graphCalls, o)
	}
	if tokenCalls == 0 {
		t.Errorf("no token request observed: %+v", got)
	}
	want := []observation{{"Organization", 200}, {"GetUser", 404}}
	if diff := cmp.Diff(want, graphCalls); diff != "" {
		t.Errorf("observed Graph calls (-want +got):\n%s", diff)
	}
	// The token must have been attached: kiota's allowed host is the bare hostname.
	for _, r := range f.recorded() {
		if r.Header.Get("Authorization") != "Bearer "+fakeToken {
			t.Errorf("%s %s sent without the bearer token", r.Method, r.Path)
		}
	}
}

// A server that ignores $expand still yields the role definition (built-in
// and template id, which decide privilege), read once per definition.
func TestRoleDefinitionFetchedWhenNotExpanded(t *testing.T) {
	f := newFakeCloud(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1.0/roleManagement/directory/roleEligibilityScheduleInstances":
			writeJSON(w, 200, map[string]any{"value": []any{
				map[string]any{"id": "e1", "principalId": "p1", "roleDefinitionId": globalAdminTemplate, "directoryScopeId": "/"},
				map[string]any{"id": "e2", "principalId": "p1", "roleDefinitionId": globalAdminTemplate, "directoryScopeId": "/au"},
			}})
		case "/v1.0/roleManagement/directory/roleDefinitions/" + globalAdminTemplate:
			writeJSON(w, 200, map[string]any{"id": globalAdminTemplate, "displayName": "Global Administrator", "isBuiltIn": true, "templateId": globalAdminTemplate})
		default:
			graphError(w, 404, "Request_ResourceNotFound", r.URL.Path)
		}
	})
	got, err := f.client(nil).RoleEligibilities(context.Background(), "p1")
	if err != nil {
		t.Fatal(err)
	}
	role := cloud.RoleDefinition{ID: globalAdminTemplate, DisplayName: "Global Administrator", IsBuiltIn: true, TemplateID: globalAdminTemplate}
	want := []cloud.RoleEligibility{
		{ID: "e1", PrincipalID: "p1", RoleDefinitionID: globalAdminTemplate, DirectoryScopeID: "/", Role: role},
		{ID: "e2", PrincipalID: "p1", RoleDefinitionID: globalAdminTemplate, DirectoryScopeID: "/au", Role: role},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if n := len(f.recorded()); n != 2 {
		t.Errorf("Graph saw %d requests, want 2 (list + one role definition)", n)
	}
}
