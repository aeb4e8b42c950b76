package emulator

import (
	"fmt"
	"net/http"
	"strings"
)

// routeGraph dispatches an authenticated /v1.0 request. Literal path
// segments match case-insensitively, as Graph's do, and type casts may use
// the short "graph." namespace alias that msgraph-sdk-go sends.
func (s *Server) routeGraph(w http.ResponseWriter, r *http.Request) {
	segs, err := splitPath(r.URL.EscapedPath())
	if err != nil {
		WriteGraphError(w, r, errBadRequest("The request URI is not valid: %v", err))
		return
	}
	// The service's own timer tasks run whatever the client does; the
	// emulator catches up with them before answering.
	s.releaseIfDue()
	if err := s.dispatch(w, r, segs[1:]); err != nil {
		WriteGraphError(w, r, err)
	}
}

func errMethod() error {
	return newGraphError(http.StatusMethodNotAllowed, codeMethodNotAllowed, "Specified HTTP method is not allowed for the request target.")
}

func errSegment(seg string) error {
	return newGraphError(http.StatusBadRequest, codeBadRequestPlain, fmt.Sprintf("Resource not found for the segment '%s'.", seg))
}

func (s *Server) dispatch(w http.ResponseWriter, r *http.Request, segs []string) error {
	if len(segs) == 0 {
		return errSegment("v1.0")
	}
	lower := make([]string, len(segs))
	for i, seg := range segs {
		lower[i] = strings.ToLower(seg)
	}
	m := r.Method
	switch lower[0] {
	case "users":
		switch {
		case len(segs) == 1 && m == http.MethodGet:
			return s.listUsers(w, r)
		case len(segs) == 1 && m == http.MethodPost:
			return s.createUser(w, r)
		case len(segs) == 1:
			return errMethod()
		case len(segs) == 2 && m == http.MethodGet:
			return s.getUser(w, r, segs[1])
		case len(segs) == 2 && m == http.MethodPatch:
			return s.updateUser(w, r, segs[1])
		case len(segs) == 2 && m == http.MethodDelete:
			return s.deleteUser(w, r, segs[1])
		case len(segs) == 2:
			return errMethod()
		}
		return errSegment(segs[2])
	case "domains":
		switch {
		case len(segs) == 1 && m == http.MethodGet:
			return s.listDomains(w, r)
		case len(segs) == 2 && m == http.MethodGet:
			return s.getDomain(w, r, segs[1])
		case len(segs) <= 2:
			return errMethod()
		}
		return errSegment(segs[2])
	case "organization":
		switch {
		case len(segs) == 1 && m == http.MethodGet:
			return s.listOrganization(w, r)
		case len(segs) == 2 && m == http.MethodGet:
			return s.getOrganization(w, r, segs[1])
		case len(segs) <= 2:
			return errMethod()
		}
		return errSegment(segs[2])
	case "directory":
		return s.dispatchDirectory(w, r, segs, lower)
	case "rolemanagement":
		return s.dispatchRoles(w, r, segs, lower)
	}
	return errSegment(segs[0])
}

func (s *Server) dispatchDirectory(w http.ResponseWriter, r *http.Request, segs, lower []string) error {
	m := r.Method
	if len(segs) < 2 {
		return errSegment("directory")
	}
	switch lower[1] {
	case "onpremisessynchronization":
		switch {
		case len(segs) == 2 && m == http.MethodGet:
			return s.listSync(w, r)
		case len(segs) == 3 && m == http.MethodGet:
			return s.getSync(w, r, segs[2])
		case len(segs) == 3 && m == http.MethodPatch:
			return s.patchSync(w, r, segs[2])
		case len(segs) <= 3:
			return errMethod()
		}
		return errSegment(segs[3])
	case "deleteditems":
		switch {
		case len(segs) == 2:
			return errBadRequest("A type cast is required on directory/deletedItems, for example directory/deletedItems/microsoft.graph.user.")
		case len(segs) == 3 && (lower[2] == "microsoft.graph.user" || lower[2] == "graph.user"):
			if m != http.MethodGet {
				return errMethod()
			}
			return s.listDeletedUsers(w, r)
		case len(segs) == 3 && (lower[2] == "microsoft.graph.group" || lower[2] == "graph.group"):
			if m != http.MethodGet {
				return errMethod()
			}
			return s.listDeletedGroups(w, r)
		case len(segs) == 3 && m == http.MethodGet:
			return s.getDeletedItem(w, r, segs[2])
		case len(segs) == 3 && m == http.MethodDelete:
			return s.purgeDeletedItem(w, r, segs[2])
		case len(segs) == 3:
			return errMethod()
		case len(segs) == 4 && (lower[3] == "restore" || lower[3] == "microsoft.graph.restore" || lower[3] == "graph.restore"):
			if m != http.MethodPost {
				return errMethod()
			}
			return s.restoreDeletedItem(w, r, segs[2])
		}
		return errSegment(segs[len(segs)-1])
	}
	return errSegment(segs[1])
}

func (s *Server) dispatchRoles(w http.ResponseWriter, r *http.Request, segs, lower []string) error {
	m := r.Method
	if len(segs) < 3 || lower[1] != "directory" {
		if len(segs) < 2 {
			return errSegment("roleManagement")
		}
		return errSegment(segs[1])
	}
	rest, restLower := segs[2:], lower[2:]
	if s.noPIM && strings.Contains(restLower[0], "schedule") {
		// The PIM collections need Microsoft Entra ID P2 (or ID
		// Governance); without it Graph answers 400 on every one of them.
		return newGraphError(http.StatusBadRequest, "AadPremiumLicenseRequired",
			"The tenant needs to have Microsoft Entra ID P2 or Microsoft Entra ID Governance license.")
	}
	switch restLower[0] {
	case "roledefinitions":
		switch {
		case len(rest) == 1 && m == http.MethodGet:
			return s.listRoleDefinitions(w, r)
		case len(rest) == 2 && m == http.MethodGet:
			return s.getRoleDefinition(w, r, rest[1])
		case len(rest) <= 2:
			return errMethod()
		}
	case "roleassignments":
		switch {
		case len(rest) == 1 && m == http.MethodGet:
			return s.listAssignments(w, r, roleAssignmentsView)
		case len(rest) == 1 && m == http.MethodPost:
			return s.createRoleAssignment(w, r)
		case len(rest) == 2 && m == http.MethodGet:
			return s.getAssignment(w, r, rest[1], roleAssignmentsView)
		case len(rest) == 2 && m == http.MethodDelete:
			return s.deleteRoleAssignment(w, r, rest[1])
		case len(rest) <= 2:
			return errMethod()
		}
	case "roleeligibilityscheduleinstances":
		switch {
		case len(rest) == 1 && m == http.MethodGet:
			return s.listEligibilityInstances(w, r)
		case len(rest) == 2 && m == http.MethodGet:
			return s.getEligibilityInstance(w, r, rest[1])
		case len(rest) <= 2:
			return errMethod()
		}
	case "roleeligibilityschedulerequests":
		switch {
		case len(rest) == 1 && m == http.MethodPost:
			return s.createEligibilityRequest(w, r)
		case len(rest) == 1:
			return errMethod()
		}
	case "roleassignmentscheduleinstances":
		switch {
		case len(rest) == 1 && m == http.MethodGet:
			return s.listAssignments(w, r, assignmentInstancesView)
		case len(rest) == 2 && m == http.MethodGet:
			return s.getAssignment(w, r, rest[1], assignmentInstancesView)
		case len(rest) <= 2:
			return errMethod()
		}
	case "roleassignmentschedulerequests":
		switch {
		case len(rest) == 1 && m == http.MethodPost:
			return s.createAssignmentScheduleRequest(w, r)
		case len(rest) == 1:
			return errMethod()
		}
	default:
		return errSegment(rest[0])
	}
	return errSegment(rest[len(rest)-1])
}
