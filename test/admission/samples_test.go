package admission_test

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
)

// sampleFiles lists the sample manifests (every YAML file but the
// kustomization) in config/samples.
func sampleFiles(t *testing.T) []string {
	t.Helper()
	dir := filepath.Join(repoRoot, "config", "samples")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("reading %s: %v", dir, err)
	}
	var files []string
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".yaml") || e.Name() == "kustomization.yaml" {
			continue
		}
		files = append(files, filepath.Join(dir, e.Name()))
	}
	if len(files) == 0 {
		t.Fatalf("no samples in %s", dir)
	}
	return files
}

// TestSamplesAreAccepted applies every sample, with strict field validation so
// that a misspelled field fails instead of being silently pruned.
func TestSamplesAreAccepted(t *testing.T) {
	var kinds []string
	for _, path := range sampleFiles(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("reading sample: %v", err)
			}
			obj := &unstructured.Unstructured{}
			if err := yaml.Unmarshal(raw, &obj.Object); err != nil {
				t.Fatalf("parsing sample: %v", err)
			}
			kinds = append(kinds, obj.GetKind())

			// The typed form must hold every field too, or controllers
			// would never see what the sample sets.
			typed, err := k8sClient.Scheme().New(obj.GroupVersionKind())
			if err != nil {
				t.Fatalf("sample kind %s is not in the API: %v", obj.GroupVersionKind(), err)
			}
			if err := yaml.UnmarshalStrict(raw, typed); err != nil {
				t.Errorf("sample does not decode strictly into %T: %v", typed, err)
			}

			ctx := testContext(t)
			if err := k8sClient.Create(ctx, obj, client.FieldValidation("Strict")); err != nil {
				t.Fatalf("sample rejected: %v", err)
			}
			deleteOnCleanup(t, obj)

			// Before any operator has written, a GitOps tool reads the new
			// object as in progress (kstatus, as Flux uses it): the CRD
			// defaults status to observedGeneration 0.
			got := &unstructured.Unstructured{}
			got.SetGroupVersionKind(obj.GroupVersionKind())
			if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), got); err != nil {
				t.Fatal(err)
			}
			if og, found, _ := unstructured.NestedInt64(got.Object, "status", "observedGeneration"); !found || og != 0 {
				t.Errorf("status.observedGeneration of a new %s: %d (found %v), want 0", obj.GetKind(), og, found)
			}
			if res, err := status.Compute(got); err != nil || res.Status != status.InProgressStatus {
				t.Errorf("kstatus of a new %s: %v %v, want InProgress", obj.GetKind(), res, err)
			}
		})
	}

	// Each kind needs a sample, so that none goes untested here.
	// The scheme also registers meta types (ListOptions, ...) under the
	// group version; only the kinds declared in api/v1alpha1 count.
	apiPkg := reflect.TypeFor[identityv1alpha1.UserMatch]().PkgPath()
	var want []string
	for kind, typ := range k8sClient.Scheme().KnownTypes(identityv1alpha1.GroupVersion) {
		if typ.PkgPath() == apiPkg && !strings.HasSuffix(kind, "List") {
			want = append(want, kind)
		}
	}
	slices.Sort(want)
	slices.Sort(kinds)
	if diff := cmp.Diff(want, kinds); diff != "" {
		t.Errorf("one sample per kind expected (-kinds +samples):\n%s", diff)
	}
}

// TestKustomizationsListEveryFile keeps config/crd and config/samples
// kustomizations in step with the files next to them.
func TestKustomizationsListEveryFile(t *testing.T) {
	tests := []struct {
		kustomization string
		files         []string
	}{
		{
			kustomization: filepath.Join(repoRoot, "config", "crd", "kustomization.yaml"),
			files:         globRel(t, filepath.Join(repoRoot, "config", "crd"), "bases/*.yaml"),
		},
		{
			kustomization: filepath.Join(repoRoot, "config", "samples", "kustomization.yaml"),
			files:         baseNames(sampleFiles(t)),
		},
	}
	for _, tt := range tests {
		t.Run(tt.kustomization, func(t *testing.T) {
			raw, err := os.ReadFile(tt.kustomization)
			if err != nil {
				t.Fatalf("reading: %v", err)
			}
			var k struct {
				Resources []string `json:"resources"`
			}
			if err := yaml.Unmarshal(raw, &k); err != nil {
				t.Fatalf("parsing: %v", err)
			}
			got := slices.Sorted(slices.Values(k.Resources))
			want := slices.Sorted(slices.Values(tt.files))
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("resources differ from the files on disk (-files +resources):\n%s", diff)
			}
		})
	}
}

func globRel(t *testing.T, dir, pattern string) []string {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(dir, pattern))
	if err != nil {
		t.Fatalf("glob %s: %v", pattern, err)
	}
	rel := make([]string, 0, len(matches))
	for _, m := range matches {
		r, err := filepath.Rel(dir, m)
		if err != nil {
			t.Fatalf("rel %s: %v", m, err)
		}
		rel = append(rel, filepath.ToSlash(r))
	}
	return rel
}

func baseNames(paths []string) []string {
	names := make([]string, 0, len(paths))
	for _, p := range paths {
		names = append(names, filepath.Base(p))
	}
	return names
}
