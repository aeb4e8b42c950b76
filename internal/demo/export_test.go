package demo

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/entramatch/entra-match-operator/internal/emulator"
	"github.com/entramatch/entra-match-operator/internal/fakead"
)

func guidBytes(t *testing.T, s string) []byte {
	t.Helper()
	g, err := fakead.ParseGUID(s)
	if err != nil {
		t.Fatal(err)
	}
	return g[:]
}

func TestExportOf(t *testing.T) {
	// The example GUIDs and immutableIds are Microsoft's, as collected in
	// the project's reference notes (entra.md §2).
	const (
		guidA = "3ab39606-c642-489b-84b6-58c038d3ef39" // BpazOkLGm0iEtljAONPvOQ==
		guidB = "a15df3dc-4416-414b-8b7d-5fbdcb5743c1" // 3PNdoRZES0GLfV+9y1dDwQ==
	)
	const designConcepts = "learn.microsoft.com/entra/identity/hybrid/connect/plan-connect-design-concepts"
	cases := []struct {
		name    string
		doc     string
		entry   func(t *testing.T) adEntry
		want    emulator.SyncObject
		wantErr bool
	}{
		{
			name: "user anchored on objectGUID when mS-DS-ConsistencyGuid is empty",
			doc:  designConcepts,
			entry: func(t *testing.T) adEntry {
				return adEntry{DN: "CN=ada,OU=Staff,DC=contoso,DC=local", ObjectClass: []string{"top", "person", "organizationalPerson", "user"},
					ObjectGUID: guidBytes(t, guidA), SAMAccountName: "ada", UserPrincipalName: "ada@contoso.com",
					Mail: "ada@contoso.com", ProxyAddresses: []string{"SMTP:ada@contoso.com"}, DisplayName: "Ada"}
			},
			want: emulator.SyncObject{Type: "user", SourceAnchor: "BpazOkLGm0iEtljAONPvOQ==", UserPrincipalName: "ada@contoso.com",
				Mail: "ada@contoso.com", ProxyAddresses: []string{"SMTP:ada@contoso.com"}, DisplayName: "Ada",
				OnPremisesDistinguishedName: "CN=ada,OU=Staff,DC=contoso,DC=local", OnPremisesSamAccountName: "ada",
				OnPremisesObjectIdentifier: guidA},
		},
		{
			name: "user anchored on mS-DS-ConsistencyGuid when it is set",
			doc:  designConcepts,
			entry: func(t *testing.T) adEntry {
				return adEntry{DN: "CN=bo,DC=contoso,DC=local", ObjectClass: []string{"user"},
					ObjectGUID: guidBytes(t, guidA), ConsistencyGUID: guidBytes(t, guidB), SAMAccountName: "bo"}
			},
			want: emulator.SyncObject{Type: "user", SourceAnchor: "3PNdoRZES0GLfV+9y1dDwQ==", DisplayName: "bo",
				OnPremisesDistinguishedName: "CN=bo,DC=contoso,DC=local", OnPremisesSamAccountName: "bo",
				OnPremisesObjectIdentifier: guidA},
		},
		{
			name: "group anchored on objectGUID even with mS-DS-ConsistencyGuid set",
			doc:  designConcepts + " (mS-DS-ConsistencyGuid is the anchor of users only)",
			entry: func(t *testing.T) adEntry {
				return adEntry{DN: "CN=Sales,OU=Groups,DC=contoso,DC=local", ObjectClass: []string{"top", "group"},
					ObjectGUID: guidBytes(t, guidB), ConsistencyGUID: guidBytes(t, guidA), SAMAccountName: "Sales",
					UserPrincipalName: "ignored@contoso.com", Mail: "sales@contoso.com", ProxyAddresses: []string{"SMTP:sales@contoso.com"}}
			},
			want: emulator.SyncObject{Type: "group", SourceAnchor: "3PNdoRZES0GLfV+9y1dDwQ==", Mail: "sales@contoso.com",
				ProxyAddresses: []string{"SMTP:sales@contoso.com"}, DisplayName: "Sales",
				OnPremisesDistinguishedName: "CN=Sales,OU=Groups,DC=contoso,DC=local", OnPremisesSamAccountName: "Sales",
				OnPremisesObjectIdentifier: guidB},
		},
		{
			name: "a consistency GUID that is not 16 bytes is never used as an anchor",
			entry: func(t *testing.T) adEntry {
				return adEntry{DN: "CN=odd,DC=contoso,DC=local", ObjectClass: []string{"user"},
					ObjectGUID: guidBytes(t, guidA), ConsistencyGUID: []byte{1, 2, 3}}
			},
			wantErr: true,
		},
		{
			name: "objectGUID of the wrong length",
			entry: func(t *testing.T) adEntry {
				return adEntry{DN: "CN=bad,DC=contoso,DC=local", ObjectClass: []string{"user"}, ObjectGUID: []byte{1, 2}}
			},
			wantErr: true,
		},
		{
			name: "neither user nor group",
			entry: func(t *testing.T) adEntry {
				return adEntry{DN: "CN=c,DC=contoso,DC=local", ObjectClass: []string{"contact"}, ObjectGUID: guidBytes(t, guidA)}
			},
			wantErr: true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := exportOf(tc.entry(t))
			if tc.wantErr {
				if err == nil {
					t.Fatalf("exportOf accepted it: %+v", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("export (-want +got):\n%s", d)
			}
		})
	}
}

func TestSortExportsPutsUsersFirst(t *testing.T) {
	objs := []emulator.SyncObject{
		{Type: "group", OnPremisesSamAccountName: "Sales"},
		{Type: "user", OnPremisesSamAccountName: "bob"},
		{Type: "group", OnPremisesSamAccountName: "Engineering"},
		{Type: "user", OnPremisesSamAccountName: "Alice"},
	}
	sortExports(objs)
	var got []string
	for _, o := range objs {
		got = append(got, o.OnPremisesSamAccountName)
	}
	if d := cmp.Diff([]string{"Alice", "bob", "Engineering", "Sales"}, got); d != "" {
		t.Errorf("order (-want +got):\n%s", d)
	}
}
