package e2e_test

import (
	"context"
	"testing"
	"time"

	"github.com/entramatch/entra-match-operator/internal/directory"
	"github.com/entramatch/entra-match-operator/internal/emulator"
)

// syncCycle plays one Entra Connect export of the given AD users: they are
// read from Samba over LDAPS, their source anchor chosen as Entra Connect
// does, and handed to the emulated sync service. It returns the results.
func (w *world) syncCycle(t *testing.T, tws ...twin) []emulator.SyncResult {
	t.Helper()
	ctx := context.Background()
	d, err := directory.Dial(ctx, directory.Config{URLs: []string{w.dc.URL}, BaseDN: w.dc.BaseDN,
		BindDN: w.dc.BindDN, Password: w.dc.Password, CAPEM: w.dc.CAPEM})
	if err != nil {
		t.Fatalf("reading the export from Samba: %v", err)
	}
	defer d.Close()
	lookups := make([]directory.Lookup, 0, len(tws))
	for _, tw := range tws {
		lookups = append(lookups, directory.Lookup{By: directory.KeySAMAccountName, Value: tw.sam})
	}
	users, errs := d.FindUsers(ctx, lookups)
	if len(errs) > 0 {
		t.Fatalf("reading the export from Samba: %v", errs)
	}
	req := emulator.SyncRequest{}
	for _, l := range lookups {
		u := users[l]
		a, err := directory.SourceAnchor(u, directory.AnchorAuto)
		if err != nil {
			t.Fatal(err)
		}
		req.Objects = append(req.Objects, emulator.SyncObject{
			Type: "user", SourceAnchor: a.ImmutableID(), UserPrincipalName: u.UserPrincipalName,
			Mail: u.Mail, ProxyAddresses: u.ProxyAddresses, DisplayName: u.SAMAccountName,
			OnPremisesDistinguishedName: u.DN, OnPremisesSamAccountName: u.SAMAccountName,
			OnPremisesObjectIdentifier: u.ObjectGUID.GUID(),
		})
	}
	resp, err := w.em.Sync(req)
	if err != nil {
		t.Fatalf("emulated sync: %v", err)
	}
	return resp.Results
}

// addRole assigns (or makes eligible for) a directory role.
func (w *world) addRole(t *testing.T, principal, roleDefinitionID string, eligible bool) {
	t.Helper()
	err := w.em.Update(func(s *emulator.Snapshot) error {
		if eligible {
			s.RoleEligibilities = append(s.RoleEligibilities, emulator.RoleEligibility{
				ID: "elig-" + principal, PrincipalID: principal, RoleDefinitionID: roleDefinitionID, DirectoryScopeID: "/"})
		} else {
			s.RoleAssignments = append(s.RoleAssignments, emulator.RoleAssignment{
				ID: "asg-" + principal, PrincipalID: principal, RoleDefinitionID: roleDefinitionID, DirectoryScopeID: "/"})
		}
		return nil
	})
	if err != nil {
		t.Fatalf("adding role: %v", err)
	}
}

// addRoleUntil gives principal a time-bound role: an eligibility, or an
// active assignment, that ends at end.
func (w *world) addRoleUntil(t *testing.T, principal, roleDefinitionID string, eligible bool, end time.Time) {
	t.Helper()
	err := w.em.Update(func(s *emulator.Snapshot) error {
		if eligible {
			s.RoleEligibilities = append(s.RoleEligibilities, emulator.RoleEligibility{
				ID: "elig-" + principal, PrincipalID: principal, RoleDefinitionID: roleDefinitionID, DirectoryScopeID: "/", EndDateTime: &end})
		} else {
			s.RoleAssignments = append(s.RoleAssignments, emulator.RoleAssignment{
				ID: "asg-" + principal, PrincipalID: principal, RoleDefinitionID: roleDefinitionID, DirectoryScopeID: "/", EndDateTime: &end})
		}
		return nil
	})
	if err != nil {
		t.Fatalf("adding a time-bound role: %v", err)
	}
}
