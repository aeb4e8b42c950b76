package emulator

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	tableBegin = "<!-- permission-table:begin (generated from internal/emulator/routes.go; UPDATE_DOCS=1 go test ./internal/emulator -run PermissionTable) -->"
	tableEnd   = "<!-- permission-table:end -->"
)

// docs/emulator.md's permission table is the route table: generated from
// it, and checked here so that neither drifts from the other.
func TestPermissionTableIsDocumented(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "emulator.md")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	i, j := strings.Index(doc, tableBegin), strings.Index(doc, tableEnd)
	if i < 0 || j < i {
		t.Fatalf("docs/emulator.md lacks the markers %q ... %q", tableBegin, tableEnd)
	}
	want := doc[:i+len(tableBegin)] + "\n" + PermissionTable() + doc[j:]
	if os.Getenv("UPDATE_DOCS") == "1" {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if want != doc {
		t.Fatal("docs/emulator.md's permission table differs from the route table: run UPDATE_DOCS=1 go test ./internal/emulator -run PermissionTable")
	}
}

// Every route with a permission refuses an app that holds none, with
// Graph's 403, before the handler looks at anything else.
func TestEveryRouteChecksItsPermission(t *testing.T) {
	h := newHarness(t)
	for _, r := range routes {
		if r.perms == nil {
			continue
		}
		path := samplePath(r.path, testTenant)
		t.Run(r.method+" "+path, func(t *testing.T) {
			var body any
			if r.method == http.MethodPost || r.method == http.MethodPatch {
				body = map[string]any{}
			}
			res := h.graph(noPermApp, r.method, path, body)
			if res.status != http.StatusForbidden || res.errorCode() != codeAuthorizationDenied {
				t.Fatalf("%s %s without permissions: %d %s", r.method, path, res.status, res.raw)
			}
		})
	}
}

// samplePath is a request path for a route: the first spelling of each
// literal segment, and id for each parameter.
func samplePath(pattern, id string) string {
	var b strings.Builder
	for _, seg := range strings.Split(pattern, "/") {
		b.WriteString("/")
		if seg == "{id}" {
			b.WriteString(id)
			continue
		}
		b.WriteString(strings.Split(seg, "|")[0])
	}
	return b.String()
}

// Paths no route has name the first segment Graph could not resolve; a
// known path with another method is 405.
func TestUnknownPathsAndMethods(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		method, path string
		status       int
		msg          string
	}{
		{http.MethodGet, "/nothing", 400, "'nothing'"},
		{http.MethodGet, "/users/x/manager", 400, "'manager'"},
		{http.MethodGet, "/directory", 400, "'directory'"},
		{http.MethodGet, "/roleManagement/directory", 400, "'directory'"},
		{http.MethodGet, "/roleManagement/entitlement/roleDefinitions", 400, "'entitlement'"},
		{http.MethodPut, "/users", 405, ""},
		{http.MethodPost, "/directory/deletedItems/microsoft.graph.user", 405, ""},
		{http.MethodGet, "/directory/deletedItems", 400, "type cast"},
	}
	for _, tt := range tests {
		res := h.graph(adminApp, tt.method, tt.path, nil)
		if res.status != tt.status || !strings.Contains(res.errorMessage(), tt.msg) {
			t.Errorf("%s %s = %d %s, want %d with %q", tt.method, tt.path, res.status, res.raw, tt.status, tt.msg)
		}
	}
}
