package v1alpha1

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// jsonNames lists the JSON names of SyncFeatureFlags' fields, so the feature
// constants are checked against the wire names rather than against a copy.
func jsonNames(t *testing.T) []SyncFeature {
	t.Helper()
	typ := reflect.TypeFor[SyncFeatureFlags]()
	names := make([]SyncFeature, 0, typ.NumField())
	for i := range typ.NumField() {
		tag := typ.Field(i).Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name == "" {
			t.Fatalf("field %s has no json name", typ.Field(i).Name)
		}
		names = append(names, SyncFeature(name))
	}
	return names
}

// TestAllSyncFeaturesMatchesJSONNames keeps the constants, the list and the
// struct in step: a flag added to one but not the others fails here.
func TestAllSyncFeaturesMatchesJSONNames(t *testing.T) {
	if diff := cmp.Diff(jsonNames(t), AllSyncFeatures()); diff != "" {
		t.Errorf("AllSyncFeatures() differs from the json names of SyncFeatureFlags (-json +list):\n%s", diff)
	}
}

func TestGetSetEachFeature(t *testing.T) {
	for _, name := range AllSyncFeatures() {
		t.Run(string(name), func(t *testing.T) {
			var flags SyncFeatureFlags
			if got := flags.Get(name); got != nil {
				t.Fatalf("Get on empty flags = %v, want nil", *got)
			}
			value := true
			if !flags.Set(name, &value) {
				t.Fatalf("Set(%q) = false, want true", name)
			}
			value = false // Set must have copied the value.

			raw, err := json.Marshal(&flags)
			if err != nil {
				t.Fatalf("marshal: %v", err)
			}
			want := `{"` + string(name) + `":true}`
			if string(raw) != want {
				t.Errorf("after Set, flags marshal to %s, want %s", raw, want)
			}
			got := flags.Get(name)
			if got == nil || !*got {
				t.Fatalf("Get after Set = %v, want true", got)
			}
			*got = false // Get must return a copy.
			if again := flags.Get(name); again == nil || !*again {
				t.Errorf("changing Get's result changed the flags")
			}
			if !flags.Set(name, nil) {
				t.Fatalf("Set(%q, nil) = false, want true", name)
			}
			if got := flags.Get(name); got != nil {
				t.Errorf("Get after Set(nil) = %v, want nil", *got)
			}
		})
	}
}

func TestUnknownFeature(t *testing.T) {
	var flags SyncFeatureFlags
	value := true
	if flags.Set("noSuchFlagEnabled", &value) {
		t.Errorf("Set of an unknown flag reported true")
	}
	if diff := cmp.Diff(SyncFeatureFlags{}, flags); diff != "" {
		t.Errorf("Set of an unknown flag changed the flags (-want +got):\n%s", diff)
	}
	if got := flags.Get("noSuchFlagEnabled"); got != nil {
		t.Errorf("Get of an unknown flag = %v, want nil", *got)
	}
	var nilFlags *SyncFeatureFlags
	if got := nilFlags.Get(FeatureBlockSoftMatch); got != nil {
		t.Errorf("Get on nil flags = %v, want nil", *got)
	}
}

// TestFeatureRules follows Microsoft's description of each flag.
func TestFeatureRules(t *testing.T) {
	const (
		graphDoc = "https://learn.microsoft.com/en-us/graph/api/resources/onpremisesdirectorysynchronizationfeature"
		msolDoc  = "https://learn.microsoft.com/en-us/powershell/module/msonline/set-msoldirsyncfeature"
	)
	tests := []struct {
		feature   SyncFeature
		oneWay    bool
		updatable bool
		doc       string
	}{
		{feature: FeatureSoftMatchOnUpn, oneWay: true, updatable: true, doc: msolDoc},
		{feature: FeatureSynchronizeUpnForManagedUsers, oneWay: true, updatable: true, doc: msolDoc},
		{feature: FeaturePasswordWriteback, oneWay: false, updatable: false, doc: graphDoc},
		{feature: FeatureBlockSoftMatch, oneWay: false, updatable: true, doc: msolDoc},
		{feature: FeatureBlockCloudObjectTakeoverThroughHardMatch, oneWay: false, updatable: true, doc: msolDoc},
		{feature: FeaturePasswordSync, oneWay: false, updatable: true, doc: graphDoc},
	}
	for _, tt := range tests {
		t.Run(string(tt.feature), func(t *testing.T) {
			if got := OneWayFeature(tt.feature); got != tt.oneWay {
				t.Errorf("OneWayFeature = %v, want %v (doc: %s)", got, tt.oneWay, tt.doc)
			}
			if got := UpdatableFeature(tt.feature); got != tt.updatable {
				t.Errorf("UpdatableFeature = %v, want %v (doc: %s)", got, tt.updatable, tt.doc)
			}
		})
	}
}
