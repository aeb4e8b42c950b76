package alignment

import (
	"reflect"
	"testing"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
)

const (
	ad    = identityv1alpha1.SideActiveDirectory
	entra = identityv1alpha1.SideEntraID
)

// base is a tenant with contoso.com verified, a forest offering it, and
// soft matching on UPN allowed: the state in which alignment is useful.
func base() SignInInput {
	return SignInInput{
		TargetSuffix:   "contoso.com",
		ADSuffixes:     []string{"contoso.local"},
		CloudSuffixes:  []string{"contoso.onmicrosoft.com"},
		ForestOffered:  []string{"contoso.local", "contoso.com"},
		ForestUPNs:     map[string][]string{},
		Domains:        []Domain{{Name: "contoso.onmicrosoft.com", Verified: true}, {Name: "contoso.com", Verified: true}},
		SoftMatchOnUPN: true,
	}
}

func user(dn, upn string) ADUser {
	return ADUser{DN: dn, UPN: upn, Anchors: []string{"anchor-" + dn}}
}

func TestPlanSignInPerUser(t *testing.T) {
	jane := user("CN=Jane,DC=contoso,DC=local", "jane@contoso.local")
	cloudJane := CloudUser{ID: "id-jane", UPN: "jane@contoso.onmicrosoft.com"}
	for _, tc := range []struct {
		name    string
		edit    func(in *SignInInput)
		state   UserState
		reason  string
		renames []Rename
		soft    bool
	}{
		{name: "both sides move; cloud first", edit: func(in *SignInInput) { in.Cloud = []CloudUser{cloudJane} }, state: StatePending,
			renames: []Rename{{entra, "id-jane", "jane@contoso.onmicrosoft.com", "jane@contoso.com"}, {ad, jane.DN, "jane@contoso.local", "jane@contoso.com"}}, soft: true},
		{name: "no cloud user: AD only, sync creates a new user", state: StatePending,
			renames: []Rename{{ad, jane.DN, "jane@contoso.local", "jane@contoso.com"}}},
		{name: "cloud already on target", edit: func(in *SignInInput) {
			in.Cloud = []CloudUser{{ID: "id-jane", UPN: "jane@contoso.com"}}
		}, state: StatePending, renames: []Rename{{ad, jane.DN, "jane@contoso.local", "jane@contoso.com"}}, soft: true},
		{name: "paired by mail, renamed to the AD name", edit: func(in *SignInInput) {
			in.Users[0].Mail = "Jane.Doe@contoso.com"
			in.Cloud = []CloudUser{{ID: "id-jd", UPN: "jdoe@contoso.onmicrosoft.com", Mail: "jane.doe@contoso.com"}}
		}, state: StatePending, soft: true,
			renames: []Rename{{entra, "id-jd", "jdoe@contoso.onmicrosoft.com", "jane@contoso.com"}, {ad, jane.DN, "jane@contoso.local", "jane@contoso.com"}}},
		{name: "both aligned", edit: func(in *SignInInput) {
			in.Users[0].UPN = "jane@contoso.com"
			in.Cloud = []CloudUser{{ID: "id-jane", UPN: "jane@contoso.com"}}
		}, state: StateAligned, soft: true},
		{name: "suffix not listed", edit: func(in *SignInInput) { in.Users[0].UPN = "jane@fabrikam.local" }, state: StateUntouched},
		{name: "name taken in the forest", edit: func(in *SignInInput) {
			in.ForestUPNs["jane@contoso.com"] = []string{"CN=Other Jane,DC=contoso,DC=local"}
		}, state: StateRefused, reason: identityv1alpha1.ReasonNameTakenInForest},
		{name: "own name in the forest index is no conflict", edit: func(in *SignInInput) {
			in.ForestUPNs["jane@contoso.com"] = []string{"cn=jane,dc=contoso,dc=local"}
		}, state: StatePending, renames: []Rename{{ad, jane.DN, "jane@contoso.local", "jane@contoso.com"}}},
		{name: "name taken in the tenant by a user that does not pair", edit: func(in *SignInInput) {
			in.Users[0].Mail = "jane@contoso.com"
			in.Cloud = []CloudUser{{ID: "id-x", UPN: "jane@contoso.com", Mail: "someone@contoso.com", ProxyAddresses: []string{"SMTP:someone@contoso.com"}},
				{ID: "id-jd", UPN: "jd@contoso.onmicrosoft.com", Mail: "jane@contoso.com"}}
		}, state: StateRefused, reason: identityv1alpha1.ReasonNameTakenInTenant, soft: true}, // sync matches the mail twin anyway
		{name: "two candidates", edit: func(in *SignInInput) {
			in.Users[0].Mail = "jane@contoso.com"
			in.Cloud = []CloudUser{cloudJane, {ID: "id-2", UPN: "j2@contoso.onmicrosoft.com", Mail: "jane@contoso.com"}}
		}, state: StateRefused, reason: identityv1alpha1.ReasonAmbiguousCloudUser, soft: true}, // on the SMTP twin
		{name: "already synced", edit: func(in *SignInInput) {
			in.Cloud = []CloudUser{{ID: "id-s", UPN: "jane@contoso.onmicrosoft.com", ImmutableID: "anchor-" + jane.DN, Synced: true}}
		}, state: StateRefused, reason: identityv1alpha1.ReasonAlreadySynced},
		{name: "paired user synced from elsewhere", edit: func(in *SignInInput) {
			in.Cloud = []CloudUser{{ID: "id-s", UPN: "jane@contoso.onmicrosoft.com", ImmutableID: "other", Synced: true}}
		}, state: StateRefused, reason: identityv1alpha1.ReasonCloudUserSynced},
		{name: "paired user with roles", edit: func(in *SignInInput) {
			in.Cloud = []CloudUser{{ID: "id-jane", UPN: "jane@contoso.onmicrosoft.com", HasRoles: true}}
		}, state: StateRefused, reason: identityv1alpha1.ReasonCloudUserHasRoles},
		{name: "federated target", edit: func(in *SignInInput) {
			in.Domains[1].Federated = true
			in.Cloud = []CloudUser{cloudJane}
		}, state: StateRefused, reason: identityv1alpha1.ReasonFederatedTargetDomain},
		{name: "SMTP match predicted first", edit: func(in *SignInInput) {
			in.Users[0].ProxyAddresses = []string{"SMTP:jane@contoso.com", "smtp:j@contoso.com"}
			in.Cloud = []CloudUser{{ID: "id-jane", UPN: "jane@contoso.onmicrosoft.com", ProxyAddresses: []string{"SMTP:jane@contoso.com"}}}
		}, state: StatePending, soft: true,
			renames: []Rename{{entra, "id-jane", "jane@contoso.onmicrosoft.com", "jane@contoso.com"}, {ad, jane.DN, "jane@contoso.local", "jane@contoso.com"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := base()
			in.Users = []ADUser{jane}
			if tc.edit != nil {
				tc.edit(&in)
			}
			p := PlanSignIn(in)
			if p.Blocked != nil {
				t.Fatalf("blocked: %+v", p.Blocked)
			}
			u := p.Users[0]
			if u.State != tc.state {
				t.Fatalf("state %s, want %s (%+v)", u.State, tc.state, u)
			}
			if tc.reason != "" && (u.Refusal == nil || u.Refusal.Reason != tc.reason) {
				t.Fatalf("refusal %+v, want %s", u.Refusal, tc.reason)
			}
			if tc.reason == "" && u.Refusal != nil {
				t.Fatalf("unexpected refusal %+v", u.Refusal)
			}
			if !reflect.DeepEqual(u.Renames, tc.renames) {
				t.Fatalf("renames %+v, want %+v", u.Renames, tc.renames)
			}
			if u.SoftMatch != tc.soft {
				t.Fatalf("soft match %v, want %v (%s)", u.SoftMatch, tc.soft, u.Prediction)
			}
			if u.State == StateRefused && len(p.Renames()) > 0 {
				t.Fatalf("a refused user is renamed: %+v", p.Renames())
			}
		})
	}
}

func TestPlanSignInBlocks(t *testing.T) {
	for _, tc := range []struct {
		name   string
		edit   func(in *SignInInput)
		reason string
	}{
		{"target not a tenant domain", func(in *SignInInput) { in.TargetSuffix = "fabrikam.com" }, identityv1alpha1.ReasonTargetSuffixNotVerified},
		{"target unverified", func(in *SignInInput) { in.Domains[1].Verified = false }, identityv1alpha1.ReasonTargetSuffixNotVerified},
		{"forest does not offer it", func(in *SignInInput) { in.ForestOffered = []string{"contoso.local"} }, identityv1alpha1.ReasonTargetSuffixNotOffered},
		{"soft match blocked", func(in *SignInInput) { in.BlockSoftMatch = true }, identityv1alpha1.ReasonSoftMatchBlocked},
		{"UPN soft match off", func(in *SignInInput) { in.SoftMatchOnUPN = false }, identityv1alpha1.ReasonUPNSoftMatchDisabled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := base()
			in.Users = []ADUser{user("CN=Jane,DC=contoso,DC=local", "jane@contoso.local")}
			tc.edit(&in)
			p := PlanSignIn(in)
			if p.Blocked == nil || p.Blocked.Reason != tc.reason {
				t.Fatalf("blocked %+v, want %s", p.Blocked, tc.reason)
			}
			if len(p.Renames()) != 0 {
				t.Fatalf("a blocked plan writes: %+v", p.Renames())
			}
		})
	}
	// Cloud names alone do not need the forest to offer the suffix.
	in := base()
	in.ADSuffixes, in.ForestOffered = nil, nil
	in.Users = []ADUser{user("CN=Jane,DC=contoso,DC=local", "jane@contoso.com")}
	in.Cloud = []CloudUser{{ID: "id", UPN: "jane@contoso.onmicrosoft.com"}}
	if p := PlanSignIn(in); p.Blocked != nil || len(p.Renames()) != 1 {
		t.Fatalf("cloud-only alignment: %+v", p)
	}
}

func TestPlanSignInNeverGuessesAcrossUsers(t *testing.T) {
	in := base()
	in.ADSuffixes = []string{"contoso.local", "corp.local"}
	in.ForestOffered = append(in.ForestOffered, "corp.local")
	in.Users = []ADUser{
		user("CN=Jane A,DC=contoso,DC=local", "jane@contoso.local"),
		user("CN=Jane B,DC=contoso,DC=local", "jane@corp.local"),
		user("CN=Bob,DC=contoso,DC=local", "bob@contoso.local"),
		user("CN=Carol,DC=contoso,DC=local", "carol@contoso.local"),
		user("CN=Carl,DC=contoso,DC=local", "carl@contoso.local"),
	}
	in.Users[3].Mail, in.Users[4].Mail = "c@contoso.com", "c@contoso.com"
	in.Cloud = []CloudUser{{ID: "id-c", UPN: "c@contoso.onmicrosoft.com", Mail: "c@contoso.com"}}
	p := PlanSignIn(in)
	got := map[string]string{}
	for _, u := range p.Users {
		got[u.DN] = string(u.State)
		if u.Refusal != nil {
			got[u.DN] += "/" + u.Refusal.Reason
		}
	}
	want := map[string]string{
		"CN=Jane A,DC=contoso,DC=local": "Refused/NameCollisionInScope",
		"CN=Jane B,DC=contoso,DC=local": "Refused/NameCollisionInScope",
		"CN=Bob,DC=contoso,DC=local":    "Pending",
		"CN=Carol,DC=contoso,DC=local":  "Refused/AmbiguousCloudUser",
		"CN=Carl,DC=contoso,DC=local":   "Refused/AmbiguousCloudUser",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
	c := p.Counts()
	if c.InScope != 5 || c.Pending != 1 || c.Refused != 4 {
		t.Fatalf("counts %+v", c)
	}
}

func TestSettleRecordsAndUndo(t *testing.T) {
	world := map[string]string{"a": "a@contoso.com", "b": "b@contoso.local", "c": "someone-else@contoso.com", "d": "d@contoso.com"}
	cur := func(_ identityv1alpha1.NameSide, o string) (string, bool) { v, ok := world[o]; return v, ok }
	recs := []identityv1alpha1.NameChange{
		{Side: ad, Object: "a", From: "a@contoso.local", To: "a@contoso.com"},                // intent, written
		{Side: ad, Object: "b", From: "b@contoso.local", To: "b@contoso.com"},                // intent, not written
		{Side: ad, Object: "c", From: "c@contoso.local", To: "c@contoso.com", Applied: true}, // overwritten since
		{Side: entra, Object: "gone", From: "g@x", To: "g@contoso.com", Applied: true},
		{Side: entra, Object: "d", From: "d@contoso.onmicrosoft.com", To: "d@contoso.com", Applied: true},
	}
	got := SettleRecords(recs, cur)
	whys := []string{got[0].Why, got[1].Why, got[2].Why, got[3].Why, got[4].Why}
	if !reflect.DeepEqual(whys, []string{"", "not written", "changed since", "gone", ""}) || !got[0].Keep || !got[0].Record.Applied || !got[4].Keep {
		t.Fatalf("settled %+v", got)
	}
	undo := PlanUndo([]identityv1alpha1.NameChange{got[0].Record, got[4].Record})
	want := []Rename{{entra, "d", "d@contoso.com", "d@contoso.onmicrosoft.com"}, {ad, "a", "a@contoso.com", "a@contoso.local"}}
	if !reflect.DeepEqual(undo, want) {
		t.Fatalf("undo %+v", undo)
	}
}
