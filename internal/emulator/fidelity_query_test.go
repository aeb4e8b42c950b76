package emulator

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// docPagingDirectory is the paging page's note on directory resources.
const docPagingDirectory = "https://learn.microsoft.com/en-us/graph/paging"

// TestAdvancedQueryPaging follows paging (microsoft-graph-docs-contrib
// concepts/paging.md): "any additional request headers such as the
// ConsistencyLevel header are not included by default in subsequent page
// requests. If those headers need to be sent on subsequent requests, you
// must set them explicitly", and "the @odata.count property will be present
// only in the first page of the paged data"; and aad-advanced-queries: an
// advanced-only query without the header fails, a bare $count=true is
// silently ignored.
func TestAdvancedQueryPaging(t *testing.T) {
	h := newHarness(t)
	for i := range 5 {
		h.createUser(fmt.Sprintf("synced%d", i), map[string]any{"onPremisesImmutableId": fmt.Sprintf("U3luY2Vk%d", i)})
	}
	eventual := map[string]string{"ConsistencyLevel": "eventual"}
	first := func(query string, headers map[string]string) response {
		t.Helper()
		res := h.send(http.MethodGet, "/v1.0/users?"+escapeQuery(query), h.token(readerApp), nil, headers)
		h.mustStatus(res, 200)
		return res
	}
	next := func(res response, headers map[string]string) response {
		t.Helper()
		link, _ := res.body["@odata.nextLink"].(string)
		if link == "" {
			t.Fatalf("no next link: %s", res.raw)
		}
		return h.send(http.MethodGet, strings.TrimPrefix(link, h.srv.URL()), h.token(readerApp), nil, headers)
	}
	advanced := "$filter=onPremisesImmutableId ne 'x'&$count=true&$top=2"
	tests := []struct {
		name  string
		doc   string
		query string
		first map[string]string
		next  map[string]string
		// want on the second page
		status int
		code   string
		count  bool
	}{
		{"header resent: the next page is served, without @odata.count", docPagingDirectory, advanced, eventual, eventual, 200, "", false},
		{"header not resent: the advanced query fails on the next page", docPagingDirectory, advanced, eventual, nil, 400, codeUnsupportedQuery, false},
		{"a default query pages on without the header", docPagingDirectory, "$filter=userType eq 'Member'&$count=true&$top=2", eventual, nil, 200, "", false},
		{"a null comparison is advanced on every page", docAdvanced, "$filter=onPremisesSyncEnabled eq null&$count=true&$top=2", eventual, nil, 400, codeUnsupportedQuery, false},
		{"plain paging ignores a bare $count=true", docAdvanced, "$count=true&$top=2", nil, nil, 200, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page1 := first(tt.query, tt.first)
			_, counted := page1.body["@odata.count"]
			if counted != (tt.first != nil) {
				t.Errorf("first page @odata.count present=%v, want %v: %s", counted, tt.first != nil, page1.raw)
			}
			page2 := next(page1, tt.next)
			if page2.status != tt.status || page2.errorCode() != tt.code {
				t.Fatalf("next page: %d %q, want %d %q: %s", page2.status, page2.errorCode(), tt.status, tt.code, page2.raw)
			}
			if _, ok := page2.body["@odata.count"]; ok != tt.count {
				t.Errorf("next page @odata.count present=%v", ok)
			}
		})
	}
}

// TestRestoreParameters follows directory-deleteditems-restore
// (microsoft-graph-docs-contrib api-reference/v1.0/api/directory-deleteditems-restore.md,
// request body): newUserPrincipalName gives the restored user a new UPN,
// autoReconcileProxyConflict (default false) drops proxy addresses an
// active user took meanwhile.
func TestRestoreParameters(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		status  int
		upn     string
		proxies int
	}{
		{"no body: the taken UPN refuses the restore", "", 400, "", 0},
		{"newUserPrincipalName, but the proxy address is taken", `{"newUserPrincipalName":"back@contoso.com"}`, 400, "", 0},
		{"autoReconcileProxyConflict alone: the UPN is still taken", `{"autoReconcileProxyConflict":true}`, 400, "", 0},
		{"both", `{"newUserPrincipalName":"back@contoso.com","autoReconcileProxyConflict":true}`, 200, "back@contoso.com", 1},
		{"autoReconcileProxyConflict false", `{"newUserPrincipalName":"back@contoso.com","autoReconcileProxyConflict":false}`, 400, "", 0},
		{"newUserPrincipalName outside the tenant's domains", `{"newUserPrincipalName":"back@fabrikam.com","autoReconcileProxyConflict":true}`, 400, "", 0},
		{"unknown parameter", `{"newUpn":"back@contoso.com"}`, 400, "", 0},
		{"wrong type", `{"autoReconcileProxyConflict":"yes"}`, 400, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// doc: docDeletedRestore
			h := newHarness(t)
			id := h.createUser("twin", map[string]any{"mail": "twin@contoso.com"})
			if err := h.srv.Update(func(s *Snapshot) error {
				for i := range s.Users {
					if s.Users[i].ID == id {
						s.Users[i].ProxyAddresses = append(s.Users[i].ProxyAddresses, "smtp:twin.keep@contoso.com")
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			h.mustStatus(h.graph(adminApp, http.MethodDelete, "/users/"+id, nil), 204)
			// Another user takes the UPN and the primary address.
			h.createUser("twin", map[string]any{"mail": "twin@contoso.com"})
			var body any
			if tt.body != "" {
				body = tt.body
			}
			res := h.graph(adminApp, http.MethodPost, "/directory/deletedItems/"+id+"/restore", body)
			if res.status != tt.status {
				t.Fatalf("status %d, want %d: %s", res.status, tt.status, res.raw)
			}
			if tt.status != 200 {
				return
			}
			got := selectUser(h, id, "userPrincipalName,proxyAddresses")
			if got["userPrincipalName"] != tt.upn || len(got["proxyAddresses"].([]any)) != tt.proxies {
				t.Errorf("restored user %v", got)
			}
		})
	}
}
