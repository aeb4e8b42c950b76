// Package boundaries holds the test that keeps the operator and the Entra
// emulator apart: they share only the wire format, so that the emulator can
// catch the operator's misreadings of Graph instead of repeating them, and
// msgraph-sdk-go stays confined to the Graph client package, without its root
// package.
package boundaries

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/entramatch/entra-match-operator/"

// operator lists the packages (by directory) that make up the manager.
var operator = []string{"api", "controllers", "cmd/manager", "cmd/entramatch", "internal/alignment", "internal/anchor", "internal/cloud", "internal/pairing", "internal/syncplan",
	"internal/crashpoint", "internal/directory", "internal/graph", "internal/match", "internal/metrics", "internal/metricsauth",
	"internal/privileged", "internal/seal", "internal/syncfeatures", "internal/tenantaccess"}

// emulatorSide lists the emulator's packages.
var emulatorSide = []string{"internal/emulator", "cmd/entra-emulator"}

// shared are leaf packages both sides may use (certificates for tests and
// the demo): they know nothing of Graph.
var shared = []string{"internal/selfsigned"}

func TestOperatorAndEmulatorShareOnlyTheWireFormat(t *testing.T) {
	root := filepath.Join("..", "..")
	checked := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); name == "bin" || name == ".git" || name == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		dir := filepath.ToSlash(filepath.Dir(rel))
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			checked++
			switch {
			case within(dir, operator) && strings.HasPrefix(p, module) && within(strings.TrimPrefix(p, module), emulatorSide):
				t.Errorf("%s imports the emulator (%s): the operator may share only the wire format with it", rel, p)
			case within(dir, emulatorSide) && strings.HasPrefix(p, module) &&
				!within(strings.TrimPrefix(p, module), emulatorSide) && !within(strings.TrimPrefix(p, module), shared):
				t.Errorf("%s imports operator package %s: the emulator must not repeat the operator's reading of Graph", rel, p)
			case p == "github.com/microsoftgraph/msgraph-sdk-go":
				t.Errorf("%s imports msgraph-sdk-go's root package, which links the request builders of every Graph resource (78 MB of executable, much of it resident in the manager's memory): build the few builders needed from their own packages", rel)
			case strings.HasPrefix(p, "github.com/microsoftgraph/") && !within(dir, []string{"internal/graph"}):
				t.Errorf("%s imports %s: msgraph-sdk-go is confined to internal/graph", rel, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 100 {
		t.Fatalf("checked only %d imports: is the walk rooted at the repository?", checked)
	}
}

func within(dir string, roots []string) bool {
	for _, r := range roots {
		if dir == r || strings.HasPrefix(dir, r+"/") {
			return true
		}
	}
	return false
}

// The manager's executable stays small because the linker can drop the
// exported methods nothing calls (most of msgraph-sdk-go's request
// builders). One package calling methods by name through reflection, as
// text/template does, makes it keep them all: k8s.io/apiserver brought it
// in through its authentication stack, and with it the executable was 149 MB
// instead of 86 MB.
func TestManagerLinksNoMethodCallsByName(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/entramatch/entra-match-operator/cmd/manager").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 100 {
		t.Fatalf("go list named only %d packages", len(deps))
	}
	for _, p := range deps {
		if p == "text/template" || p == "html/template" || strings.HasPrefix(p, "k8s.io/apiserver/") {
			t.Errorf("the manager links %s: see the comment above for the cost, and `go mod why %s` for the importer", p, p)
		}
	}
}
