package tenant

import "testing"

const testDomain = "contoso.onmicrosoft.com"

func ptr[T any](v T) *T { return &v }

func TestLoadStateRejectsInvalidSnapshots(t *testing.T) {
	id := "00000000-0000-4000-8000-000000000001"
	base := func() Snapshot {
		return Snapshot{Users: []User{{ID: id, UserPrincipalName: "a@" + testDomain}}}
	}
	tests := []struct {
		name string
		mod  func(*Snapshot)
	}{
		{"user id not a GUID", func(s *Snapshot) { s.Users[0].ID = "abc" }},
		{"duplicate id", func(s *Snapshot) { s.Users = append(s.Users, s.Users[0]) }},
		{"duplicate UPN", func(s *Snapshot) {
			s.Users = append(s.Users, User{ID: "00000000-0000-4000-8000-000000000002", UserPrincipalName: "A@" + testDomain})
		}},
		{"UPN outside tenant domains", func(s *Snapshot) { s.Users[0].UserPrincipalName = "a@fabrikam.com" }},
		{"duplicate anchor across active and deleted users", func(s *Snapshot) {
			s.Users[0].OnPremisesImmutableID = ptr("X")
			s.DeletedItems.Users = []User{{ID: "00000000-0000-4000-8000-000000000003", UserPrincipalName: "d@" + testDomain, OnPremisesImmutableID: ptr("X")}}
		}},
		{"proxy address shared by a user and a group", func(s *Snapshot) {
			s.Users[0].ProxyAddresses = []string{"SMTP:x@contoso.com"}
			s.Groups = []Group{{ID: "00000000-0000-4000-8000-000000000004", ProxyAddresses: []string{"smtp:X@contoso.com"}}}
		}},
		{"assignment to unknown role", func(s *Snapshot) {
			s.RoleAssignments = []RoleAssignment{{ID: "a", PrincipalID: id, RoleDefinitionID: "00000000-0000-4000-8000-00000000dead"}}
		}},
		{"bad prevention type", func(s *Snapshot) {
			s.Sync.Configuration.AccidentalDeletionPrevention.SynchronizationPreventionType = "maybe"
		}},
	}
	if _, err := Load(base(), testDomain); err != nil {
		t.Fatalf("base snapshot: %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := base()
			tt.mod(&s)
			if _, err := Load(s, testDomain); err == nil {
				t.Fatal("want error")
			}
		})
	}
}

func TestLoadStateDefaultsSync(t *testing.T) {
	st, err := Load(Snapshot{}, testDomain)
	if err != nil {
		t.Fatal(err)
	}
	if st.sync != DefaultSyncState() {
		t.Errorf("a snapshot without sync settings got %+v", st.sync)
	}
	explicit := Snapshot{Sync: SyncState{Configuration: SyncConfiguration{AccidentalDeletionPrevention: AccidentalDeletionPrevention{SynchronizationPreventionType: "disabled"}}}}
	if st, err = Load(explicit, testDomain); err != nil || st.sync.Features.SoftMatchOnUpnEnabled {
		t.Errorf("explicit settings were replaced: %+v %v", st.sync, err)
	}
}
