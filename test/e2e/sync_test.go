package e2e_test

import (
	"testing"

	"github.com/entramatch/entra-match-operator/internal/emulator"
)

// syncCycle plays one Entra Connect export of the given AD users.
// TODO(emulator sync wiring): replace with POST /_emulator/sync of objects read from Samba.
func (w *world) syncCycle(t *testing.T, tws ...twin) {
	t.Helper()
	for _, tw := range tws {
		w.setCloud(t, tw.cloudID, func(u *emulator.User) {
			if u.OnPremisesImmutableID != nil && *u.OnPremisesImmutableID == tw.anchor.ImmutableID() {
				u.OnPremisesSyncEnabled = ptr(true)
				u.OnPremisesDistinguishedName = ptr(tw.dn)
			}
		})
	}
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
