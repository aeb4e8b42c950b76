package graph_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/uuid"

	"github.com/entramatch/entra-match-operator/internal/cloud"
	"github.com/entramatch/entra-match-operator/internal/emulator"
	"github.com/entramatch/entra-match-operator/internal/privileged"
	"github.com/entramatch/entra-match-operator/internal/testenv/entra"
)

// The tenant-wide reads behind the controllers' shared views: every user in
// pages of 999 (Graph's maximum $top for users), and every role assignment
// and eligibility with its definition.
func TestEmulatorTenantWideReads(t *testing.T) {
	const n = 1200
	state := emulator.Snapshot{Sync: emulator.DefaultSyncState()}
	var admin string
	for i := 0; i < n; i++ {
		id := uuid.NewString()
		if i == 7 {
			admin = id
		}
		state.Users = append(state.Users, emulator.User{
			ID: id, UserPrincipalName: fmt.Sprintf("u%04d@contoso.com", i), DisplayName: "U",
			MailNickname: fmt.Sprintf("u%04d", i), AccountEnabled: bp(true),
			OnPremisesImmutableID: sp(fmt.Sprintf("anchor%04d", i)),
		})
	}
	state.Users[3].OnPremisesSamAccountName = sp("jdoe")
	state.Users[3].OnPremisesExtensionAttributes[6] = "HR-42"
	state.RoleAssignments = []emulator.RoleAssignment{{ID: "a1", PrincipalID: admin, RoleDefinitionID: emulator.RoleGlobalAdministrator, DirectoryScopeID: "/"}}
	state.RoleEligibilities = []emulator.RoleEligibility{{ID: "e1", PrincipalID: admin, RoleDefinitionID: emulator.RoleGlobalReader, DirectoryScopeID: "/"}}
	env := entra.Start(t, entra.WithState(state))
	obs := &opRecorder{}
	cfg := env.GraphConfig()
	cfg.Observer = obs
	c := newClient(t, cfg)
	ctx := context.Background()

	users, err := c.ListUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, u := range users {
		seen[u.OnPremisesImmutableID] = true
	}
	if len(users) != n || len(seen) != n {
		t.Errorf("ListUsers returned %d users with %d distinct immutableIds, want %d (onPremises* must be selected)", len(users), len(seen), n)
	}
	if pages := obs.count("ListUsers", 200); pages != 2 {
		t.Errorf("ListUsers took %d pages, want 2 with $top=999", pages)
	}
	// The pairing properties come only when asked for, and then through the
	// SDK's models (onPremisesExtensionAttributes is a complex value).
	byUPN := func(us []cloud.User) cloud.User {
		for _, u := range us {
			if u.UserPrincipalName == "u0003@contoso.com" {
				return u
			}
		}
		t.Fatal("u0003 not listed")
		return cloud.User{}
	}
	if u := byUPN(users); u.MailNickname != "" || u.OnPremisesSamAccountName != "" || u.ExtensionAttributes != nil {
		t.Errorf("pairing properties read without being selected: %+v", u)
	}
	var sel []string
	for _, p := range []string{cloud.PropMailNickname, cloud.PropOnPremisesSamAccountName, "extensionAttribute7"} {
		g, ok := cloud.PairingSelect(p)
		if !ok {
			t.Fatalf("PairingSelect(%s) refused", p)
		}
		sel = append(sel, g)
	}
	paired, err := c.ListUsers(ctx, sel...)
	if err != nil {
		t.Fatal(err)
	}
	var withAttrs int
	for _, u := range paired {
		if u.ExtensionAttributes != nil {
			withAttrs++
		}
	}
	if u := byUPN(paired); len(paired) != n || withAttrs != 1 || u.PairingValue(cloud.PropMailNickname) != "u0003" ||
		u.PairingValue(cloud.PropOnPremisesSamAccountName) != "jdoe" || u.PairingValue("extensionAttribute7") != "HR-42" ||
		u.PairingValue("extensionAttribute6") != "" {
		t.Errorf("with the pairing properties selected: %d users, %d with extension attributes, user 3 %+v", len(paired), withAttrs, u)
	}

	as, err := c.AllRoleAssignments(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 1 || as[0].PrincipalID != admin || !privileged.IsPrivileged(as[0].Role, as[0].RoleDefinitionID) || as[0].Role.DisplayName != "Global Administrator" {
		t.Errorf("AllRoleAssignments = %+v", as)
	}
	es, err := c.AllRoleEligibilities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || es[0].PrincipalID != admin || es[0].Role.DisplayName != "Global Reader" {
		t.Errorf("AllRoleEligibilities = %+v", es)
	}
}

// ListGroups and ListContacts read the whole tenant in pages of 999, with
// the addresses a sync plan needs (group-list, orgcontact-list).
func TestEmulatorGroupsAndContacts(t *testing.T) {
	const n = 1100
	state := emulator.Snapshot{Sync: emulator.DefaultSyncState()}
	for i := 0; i < n; i++ {
		mail := fmt.Sprintf("g%04d@contoso.com", i)
		state.Groups = append(state.Groups, emulator.Group{ID: uuid.NewString(), DisplayName: "G", MailNickname: fmt.Sprintf("g%04d", i),
			Mail: &mail, MailEnabled: true, ProxyAddresses: []string{"SMTP:" + mail}})
	}
	mail := "vendor@fabrikam.com"
	state.Contacts = []emulator.Contact{{ID: uuid.NewString(), DisplayName: "Vendor", Mail: &mail, ProxyAddresses: []string{"SMTP:" + mail}}}
	env := entra.Start(t, entra.WithState(state))
	obs := &opRecorder{}
	cfg := env.GraphConfig()
	cfg.Observer = obs
	c := newClient(t, cfg)
	groups, err := c.ListGroups(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != n || !groups[0].MailEnabled || len(groups[0].ProxyAddresses) != 1 || groups[0].Mail == "" {
		t.Fatalf("%d groups, first %+v", len(groups), groups[0])
	}
	if pages := obs.count("ListGroups", 200); pages != 2 {
		t.Errorf("ListGroups took %d pages, want 2 with $top=999", pages)
	}
	contacts, err := c.ListContacts(context.Background())
	if err != nil || len(contacts) != 1 || contacts[0].Mail != mail {
		t.Fatalf("contacts %+v, %v", contacts, err)
	}
}
