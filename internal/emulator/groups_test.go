package emulator

import (
	"net/http"
	"strings"
	"testing"
)

// GET /groups and /contacts, as group-list and orgcontact-list describe
// them: the permissions, $select, paging, and no source anchor ever.
func TestListGroupsAndContacts(t *testing.T) {
	h := newHarness(t, withApp(App{ClientID: paaApp, Secret: testSecret, Permissions: []string{"Group.Read.All", "OrgContact.Read.All"}}))
	anchor := "QW5jaG9y"
	if err := h.srv.Update(func(s *Snapshot) error {
		for i, n := range []string{"g1", "g2", "g3"} {
			mail, a := n+"@"+testVanity, anchor
			s.Groups = append(s.Groups, Group{ID: "0000000" + string(rune('1'+i)) + "-0000-4000-8000-000000000000", DisplayName: n,
				Mail: &mail, MailEnabled: true, MailNickname: n, ProxyAddresses: []string{"SMTP:" + mail}, OnPremisesImmutableID: &a})
			anchor += "x"
		}
		s.Groups = append(s.Groups, Group{ID: "00000009-0000-4000-8000-000000000000", DisplayName: "sec", SecurityEnabled: true, MailNickname: "sec"})
		mail := "vendor@fabrikam.com"
		s.Contacts = append(s.Contacts, Contact{ID: "0000000c-0000-4000-8000-000000000000", DisplayName: "Vendor", Mail: &mail,
			ProxyAddresses: []string{"SMTP:" + mail}})
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	// Permissions: User.Read.All reads neither.
	for _, p := range []string{"/groups", "/contacts"} {
		h.mustStatus(h.graph(readerApp, http.MethodGet, p, nil), http.StatusForbidden)
	}

	seen := map[string]bool{}
	path := "/groups?" + escapeQuery("$top=2&$select=id,mailEnabled,proxyAddresses")
	for pages := 0; path != ""; pages++ {
		if pages > 3 {
			t.Fatal("paging does not end")
		}
		res := h.graph(paaApp, http.MethodGet, path, nil)
		h.mustStatus(res, http.StatusOK)
		for _, v := range res.body["value"].([]any) {
			m := v.(map[string]any)
			if len(m) != 3 {
				t.Errorf("$select gives %v", m)
			}
			seen[m["id"].(string)] = true
		}
		next, _ := res.body["@odata.nextLink"].(string)
		path = strings.TrimPrefix(next, h.srv.URL()+"/v1.0")
	}
	if len(seen) != 4 {
		t.Errorf("groups seen: %v", seen)
	}

	res := h.graph(paaApp, http.MethodGet, "/groups", nil)
	h.mustStatus(res, http.StatusOK)
	if strings.Contains(string(res.raw), "QW5jaG9y") || strings.Contains(strings.ToLower(string(res.raw)), "immutableid") {
		t.Errorf("a group's source anchor is exposed: %s", res.raw)
	}
	h.mustStatus(h.graph(paaApp, http.MethodGet, "/groups?"+escapeQuery("$select=onPremisesImmutableId"), nil), http.StatusBadRequest)

	res = h.graph(paaApp, http.MethodGet, "/contacts?"+escapeQuery("$select=id,mail,proxyAddresses"), nil)
	h.mustStatus(res, http.StatusOK)
	if v := res.body["value"].([]any); len(v) != 1 || v[0].(map[string]any)["mail"] != "vendor@fabrikam.com" {
		t.Errorf("contacts: %s", res.raw)
	}
}
