// Package admission_test checks, against a real kube-apiserver (envtest), that
// the generated CRDs accept the samples and reject invalid objects with the
// messages written in api/v1alpha1.
package admission_test

import (
	"context"
	"os"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/entramatch/entra-match-operator/internal/testenv/kube"
)

// repoRoot is relative to this package's directory, where go test runs.
const repoRoot = "../.."

// k8sClient talks to the envtest API server started by TestMain. It is set
// once before any test runs and only read afterwards.
var k8sClient client.Client

func TestMain(m *testing.M) {
	os.Exit(kube.RunTests(m, func(env *kube.Env) { k8sClient = env.Client }))
}

// testContext bounds every API call so that a hung server fails the test
// instead of the whole run timing out.
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// deleteOnCleanup removes obj when the test ends, so that tests do not see
// each other's objects.
func deleteOnCleanup(t *testing.T, obj client.Object) {
	t.Helper()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := k8sClient.Delete(ctx, obj); client.IgnoreNotFound(err) != nil {
			t.Errorf("deleting %s %s: %v", obj.GetObjectKind().GroupVersionKind().Kind, obj.GetName(), err)
		}
	})
}
