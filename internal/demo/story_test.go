package demo

import (
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// The story covers every situation of the soft- and hard-matching
// procedure the operator automates; this keeps an edit of story.yaml from quietly dropping one.
func TestDefaultStoryCoversTheSeed(t *testing.T) {
	s, err := DefaultStory()
	if err != nil {
		t.Fatalf("the embedded story is invalid: %v", err)
	}
	has := func(what string, ok func(Role) bool) {
		t.Helper()
		for _, r := range s.Cast {
			if ok(r) {
				return
			}
		}
		t.Errorf("the story has no role where %s", what)
	}
	hasUM := func(r Role) bool { return s.UserMatchFor(r.AD) != nil }
	has("a user soft-matches on SMTP without a UserMatch", func(r Role) bool { return r.Expect.Sync == "SoftMatchSmtp" && !hasUM(r) && isUser(s, r.AD) })
	has("a user soft-matches on UPN", func(r Role) bool { return r.Expect.Sync == "SoftMatchUpn" })
	has("a UserMatch leads to a hard match", func(r Role) bool { return hasUM(r) && r.Expect.Sync == "HardMatch" && r.Expect.Ready == "SyncJoined" })
	has("a .local UPN is flagged", func(r Role) bool { return r.Expect.Warning == "NonRoutableUPNSuffix" })
	has("a cloud admin is blocked", func(r Role) bool { return r.Expect.Settled == "PrivilegedRole" })
	has("a mail-enabled group soft-matches", func(r Role) bool { return !isUser(s, r.AD) && r.Expect.Sync == "SoftMatchSmtp" })
	has("a group without mail is created new", func(r Role) bool { return !isUser(s, r.AD) && r.Expect.Sync == "Created" })
	if s.Operator.TenantSyncFeatures == nil || s.Operator.TenantSyncFeatures.Features == nil {
		t.Error("the story declares no tenant flags")
	}
}

func isUser(s Story, sam string) bool {
	for _, u := range s.Directory.Users {
		if strings.EqualFold(u.SAMAccountName, sam) {
			return true
		}
	}
	return false
}

func TestValidateFindsBrokenReferences(t *testing.T) {
	cases := []struct {
		name string
		mut  func(*Story)
		want string // a name the error must mention
	}{
		{"role names an unknown object", func(s *Story) { s.Cast[0].AD = "nobody" }, "nobody"},
		{"object in scope without a role", func(s *Story) { s.Cast = s.Cast[1:] }, "alice"},
		{"role twice", func(s *Story) { s.Cast = append(s.Cast, s.Cast[0]) }, "alice"},
		{"role without expected sync outcome", func(s *Story) { s.Cast[0].Expect.Sync = "" }, "alice"},
		{"UserMatch states expected without a UserMatch", func(s *Story) { s.Cast[0].Expect.Ready = "SyncJoined" }, "alice"},
		{"UserMatch by another selector", func(s *Story) {
			s.Operator.UserMatches[0].ADUser.SAMAccountName = ""
			s.Operator.UserMatches[0].ADUser.UserPrincipalName = "carol@contoso.com"
		}, "carol"},
		{"UserMatch names a user outside the cast", func(s *Story) { s.Operator.UserMatches[0].ADUser.SAMAccountName = "mallory" }, "mallory"},
		{"UserMatch twice", func(s *Story) {
			s.Operator.UserMatches = append(s.Operator.UserMatches, s.Operator.UserMatches[0])
		}, "carol"},
		{"no sync scope", func(s *Story) { s.Directory.SyncScope = nil }, "syncScope"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := DefaultStory()
			if err != nil {
				t.Fatal(err)
			}
			tc.mut(&s)
			err = s.Validate()
			if err == nil {
				t.Fatal("Validate accepted a broken story")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("the error does not name %q: %v", tc.want, err)
			}
		})
	}
}

func TestParseStoryRefusesUnknownFields(t *testing.T) {
	var m map[string]any
	if err := yaml.Unmarshal(storyYAML, &m); err != nil {
		t.Fatal(err)
	}
	m["directory"].(map[string]any)["users"].([]any)[0].(map[string]any)["userPrincipleName"] = "typo@contoso.com"
	data, err := yaml.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseStory(data); err == nil || !strings.Contains(err.Error(), "userPrincipleName") {
		t.Errorf("a misspelt field was not refused by name: %v", err)
	}
}
