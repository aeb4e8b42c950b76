package emulator

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// docExtensionAttributes is the page onPremisesExtensionAttributes follows.
const docExtensionAttributes = "https://learn.microsoft.com/en-us/graph/api/resources/onpremisesextensionattributes"

// TestExtensionAttributes: "Returns 15 custom extension attribute
// properties. Each attribute can store up to 1024 characters. ... For a
// cloud-only user (where onPremisesSyncEnabled is false or null), these
// properties can be set during creation or update. If a cloud-only user was
// previously synced from on-premises Active Directory, these properties
// can't be managed via the Microsoft Graph API." (docExtensionAttributes);
// like the other onPremises* properties it comes back only when selected.
func TestExtensionAttributes(t *testing.T) {
	h := newHarness(t)
	id := h.createUser("ext", map[string]any{"onPremisesExtensionAttributes": map[string]any{"extensionAttribute3": "E-1003"}})
	attrs := func() map[string]any {
		t.Helper()
		res := h.graph(adminApp, http.MethodGet, "/users/"+id+"?$select=id,onPremisesExtensionAttributes", nil)
		h.mustStatus(res, http.StatusOK)
		m, ok := res.body["onPremisesExtensionAttributes"].(map[string]any)
		if !ok {
			t.Fatalf("no onPremisesExtensionAttributes object: %s", res.raw)
		}
		return m
	}

	m := attrs()
	if len(m) != 15 {
		t.Errorf("%d attributes, want all 15 (null where unset): %v", len(m), m)
	}
	for i := 1; i <= 15; i++ {
		k := "extensionAttribute" + itoa(i)
		v, present := m[k]
		switch {
		case !present:
			t.Errorf("%s missing", k)
		case i == 3 && v != "E-1003":
			t.Errorf("%s = %v, want the value set at creation", k, v)
		case i != 3 && v != nil:
			t.Errorf("%s = %v, want null", k, v)
		}
	}
	res := h.graph(adminApp, http.MethodGet, "/users/"+id, nil)
	h.mustStatus(res, http.StatusOK)
	if _, ok := res.body["onPremisesExtensionAttributes"]; ok {
		t.Errorf("returned without $select: %s", res.raw)
	}

	// An update names some attributes: the others keep their values; null clears one.
	h.mustStatus(h.graph(adminApp, http.MethodPatch, "/users/"+id,
		map[string]any{"onPremisesExtensionAttributes": map[string]any{"extensionAttribute15": "x"}}), http.StatusNoContent)
	if m := attrs(); m["extensionAttribute3"] != "E-1003" || m["extensionAttribute15"] != "x" {
		t.Errorf("after a partial update: %v", m)
	}
	h.mustStatus(h.graph(adminApp, http.MethodPatch, "/users/"+id,
		map[string]any{"onPremisesExtensionAttributes": map[string]any{"extensionAttribute3": nil}}), http.StatusNoContent)
	if m := attrs(); m["extensionAttribute3"] != nil || m["extensionAttribute15"] != "x" {
		t.Errorf("after clearing extensionAttribute3: %v", m)
	}

	// 1024 characters are allowed, 1025 are not; only the fifteen names exist.
	h.mustStatus(h.graph(adminApp, http.MethodPatch, "/users/"+id,
		map[string]any{"onPremisesExtensionAttributes": map[string]any{"extensionAttribute1": strings.Repeat("é", 1024)}}), http.StatusNoContent)
	for _, tc := range []struct {
		name string
		body any
		msg  string
	}{
		{"1025 characters", map[string]any{"extensionAttribute1": strings.Repeat("a", 1025)}, "Invalid value specified for property 'extensionAttribute1'"},
		{"a number", map[string]any{"extensionAttribute2": 7}, "Invalid value specified for property 'extensionAttribute2'"},
		{"extensionAttribute16", map[string]any{"extensionAttribute16": "x"}, "Property 'extensionAttribute16' does not exist"},
		{"wrong case", map[string]any{"ExtensionAttribute1": "x"}, "Property 'ExtensionAttribute1' does not exist"},
		{"not an object", "x", "Invalid value specified for property 'onPremisesExtensionAttributes'"},
	} {
		res := h.graph(adminApp, http.MethodPatch, "/users/"+id, map[string]any{"onPremisesExtensionAttributes": tc.body})
		if res.status != http.StatusBadRequest || !strings.Contains(res.errorMessage(), tc.msg) {
			t.Errorf("%s: %d %s, want 400 %q", tc.name, res.status, res.raw, tc.msg)
		}
	}
	if m := attrs(); m["extensionAttribute15"] != "x" || m["extensionAttribute2"] != nil {
		t.Errorf("a refused update changed the user: %v", m)
	}

	// A synced user, and one synced once (onPremisesSyncEnabled false), are
	// refused, and keep their values.
	snap := h.srv.Snapshot()
	synced := User{ID: "f0000000-0000-4000-8000-000000000001", UserPrincipalName: "synced@" + testVanity, MailNickname: "synced",
		AccountEnabled: ptr(true), UserType: "Member", OnPremisesImmutableID: ptr("BpazOkLGm0iEtljAONPvOQ=="), OnPremisesSyncEnabled: ptr(true)}
	synced.OnPremisesExtensionAttributes[0] = "from AD"
	once := synced
	once.ID, once.UserPrincipalName, once.MailNickname = "f0000000-0000-4000-8000-000000000002", "once@"+testVanity, "once"
	once.OnPremisesImmutableID, once.OnPremisesSyncEnabled = ptr("3PNdoRZES0GLfV+9y1dDwQ=="), ptr(false)
	snap.Users = append(snap.Users, synced, once)
	if err := h.srv.Replace(snap); err != nil {
		t.Fatal(err)
	}
	for _, u := range []User{synced, once} {
		res := h.graph(adminApp, http.MethodPatch, "/users/"+u.ID,
			map[string]any{"onPremisesExtensionAttributes": map[string]any{"extensionAttribute1": "changed"}})
		if res.status != http.StatusBadRequest || !strings.Contains(res.errorMessage(), "on-premises mastered") {
			t.Errorf("%s: %d %s, want 400 (%s)", u.UserPrincipalName, res.status, res.raw, docExtensionAttributes)
		}
		res = h.graph(adminApp, http.MethodGet, "/users/"+u.ID+"?$select=onPremisesExtensionAttributes", nil)
		if m, _ := res.body["onPremisesExtensionAttributes"].(map[string]any); m["extensionAttribute1"] != "from AD" {
			t.Errorf("%s: %s", u.UserPrincipalName, res.raw)
		}
	}

	// A snapshot keeps them.
	again := h.srv.Snapshot()
	i := slices.IndexFunc(again.Users, func(u User) bool { return u.ID == id })
	if i < 0 {
		t.Fatalf("user %s missing from the snapshot", id)
	}
	if e := again.Users[i].OnPremisesExtensionAttributes; e[14] != "x" || e[2] != "" {
		t.Errorf("snapshot: %v", e)
	}
}
