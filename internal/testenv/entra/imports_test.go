package entra

import (
	"os/exec"
	"strings"
	"testing"
)

// Controller tests import this package; it must not drag msgraph-sdk-go (or
// kiota) into their build, which would cost minutes of compilation.
func TestNoGraphSDKDependency(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go tool is needed to list dependencies: %v", err)
	}
	out, err := exec.Command(goTool, "list", "-deps",
		"github.com/entramatch/entra-match-operator/internal/testenv/entra",
		"github.com/entramatch/entra-match-operator/internal/graph/graphconfig").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.Contains(dep, "msgraph-sdk-go") || strings.Contains(dep, "microsoft/kiota") {
			t.Errorf("depends on %s", dep)
		}
	}
}
