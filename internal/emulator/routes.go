package emulator

import (
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/entramatch/entra-match-operator/internal/emulator/grapherr"
	"github.com/entramatch/entra-match-operator/internal/emulator/identity"
)

// route is one Graph v1.0 endpoint the emulator serves, with the
// permissions Microsoft's page for it lists (any one of them suffices,
// application or delegated). The table below is the only place a route
// and its permission are declared: dispatch checks the permission before
// the handler runs, and docs/emulator.md's permission table is generated
// from it (TestPermissionTableIsDocumented).
type route struct {
	method string
	// path follows /v1.0: segments match case-insensitively, "{id}" is a
	// parameter, and "a|b" lists spellings of one literal segment.
	path  string
	perms []string
	// authorize replaces the plain permission check where the resource
	// has more rules; it is given perms.
	authorize func(s *Server, r *http.Request, perms []string) error
	// pim: the route belongs to PIM, which needs Entra ID P2.
	pim   bool
	serve func(s *Server, w http.ResponseWriter, r *http.Request, p []string) error
	// doc is the Microsoft page that lists the route's permissions.
	doc string
}

var routes = []route{
	{method: http.MethodGet, path: "users", perms: permUserRead, doc: "user-list",
		serve: func(s *Server, w http.ResponseWriter, r *http.Request, _ []string) error {
			return s.graph.ListUsers(w, r)
		}},
	{method: http.MethodPost, path: "users", perms: permUserWrite, doc: "user-post-users",
		serve: func(s *Server, w http.ResponseWriter, r *http.Request, _ []string) error {
			return s.graph.CreateUser(w, r)
		}},
	// delta is the documented shortcut of microsoft.graph.delta, the fully
	// qualified name SDKs use (delta-query-overview); msgraph-sdk-go calls
	// the function with its parentheses.
	{method: http.MethodGet, path: "users/delta|microsoft.graph.delta|delta()|microsoft.graph.delta()", perms: permUserDelta, doc: "user-delta",
		serve: func(s *Server, w http.ResponseWriter, r *http.Request, _ []string) error {
			return s.graph.UsersDelta(w, r)
		}},
	{method: http.MethodGet, path: "users/{id}", perms: permUserRead, doc: "user-get",
		serve: func(s *Server, w http.ResponseWriter, r *http.Request, p []string) error {
			return s.graph.GetUser(w, r, p[0])
		}},
	{method: http.MethodPatch, path: "users/{id}", perms: permUserWrite, doc: "user-update",
		serve: func(s *Server, w http.ResponseWriter, r *http.Request, p []string) error {
			return s.graph.UpdateUser(w, r, p[0])
		}},
	{method: http.MethodDelete, path: "users/{id}", perms: permUserDelete, doc: "user-delete",
		serve: func(s *Server, w http.ResponseWriter, r *http.Request, p []string) error {
			return s.graph.DeleteUser(w, r, p[0])
		}},

	{method: http.MethodGet, path: "groups", perms: permGroupRead, doc: "group-list",
		serve: func(s *Server, w http.ResponseWriter, r *http.Request, _ []string) error {
			return s.graph.ListGroups(w, r)
		}},
	{method: http.MethodGet, path: "contacts", perms: permContactRead, doc: "orgcontact-list",
		serve: func(s *Server, w http.ResponseWriter, r *http.Request, _ []string) error {
			return s.graph.ListContacts(w, r)
		}},

	{method: http.MethodGet, path: "domains", perms: permDomainRead, doc: "domain-list",
		serve: func(s *Server, w http.ResponseWriter, r *http.Request, _ []string) error {
			return s.graph.ListDomains(w, r)
		}},
	{method: http.MethodGet, path: "domains/{id}", perms: permDomainRead, doc: "domain-get",
		serve: func(s *Server, w http.ResponseWriter, r *http.Request, p []string) error {
			return s.graph.GetDomain(w, r, p[0])
		}},
	{method: http.MethodGet, path: "organization", perms: permOrgRead, doc: "organization-list",
		serve: func(s *Server, w http.ResponseWriter, r *http.Request, _ []string) error {
			return s.graph.ListOrganization(w, r)
		}},
	{method: http.MethodGet, path: "organization/{id}", perms: permOrgRead, doc: "organization-get",
		serve: func(s *Server, w http.ResponseWriter, r *http.Request, p []string) error {
			return s.graph.GetOrganization(w, r, p[0])
		}},

	{method: http.MethodGet, path: "directory/onPremisesSynchronization", perms: permSyncRead, authorize: (*Server).authorizeSync,
		doc: "onpremisesdirectorysynchronization-list",
		serve: func(s *Server, w http.ResponseWriter, r *http.Request, _ []string) error {
			return s.graph.ListSync(w, r)
		}},
	{method: http.MethodGet, path: "directory/onPremisesSynchronization/{id}", perms: permSyncRead, authorize: (*Server).authorizeSync,
		doc: "onpremisesdirectorysynchronization-get",
		serve: func(s *Server, w http.ResponseWriter, r *http.Request, p []string) error {
			return s.graph.GetSync(w, r, p[0])
		}},
	{method: http.MethodPatch, path: "directory/onPremisesSynchronization/{id}", perms: permSyncWrite, authorize: (*Server).authorizeSync,
		doc: "onpremisesdirectorysynchronization-update",
		serve: func(s *Server, w http.ResponseWriter, r *http.Request, p []string) error {
			return s.graph.PatchSync(w, r, p[0])
		}},

	// Graph answers 400 on the collection itself, whatever the method:
	// it needs a type cast.
	{path: "directory/deletedItems",
		serve: func(*Server, http.ResponseWriter, *http.Request, []string) error {
			return grapherr.BadRequest("A type cast is required on directory/deletedItems, for example directory/deletedItems/microsoft.graph.user.")
		}},
	{method: http.MethodGet, path: "directory/deletedItems/microsoft.graph.user|graph.user", perms: permDeletedRead, doc: "directory-deleteditems-list",
		serve: func(s *Server, w http.ResponseWriter, r *http.Request, _ []string) error {
			return s.graph.ListDeletedUsers(w, r)
		}},
	{method: http.MethodGet, path: "directory/deletedItems/microsoft.graph.group|graph.group", perms: permDeletedGroupRead, doc: "directory-deleteditems-list",
		serve: func(s *Server, w http.ResponseWriter, r *http.Request, _ []string) error {
			return s.graph.ListDeletedGroups(w, r)
		}},
	{method: http.MethodGet, path: "directory/deletedItems/{id}", perms: permDeletedRead, doc: "directory-deleteditems-get",
		serve: func(s *Server, w http.ResponseWriter, r *http.Request, p []string) error {
			return s.graph.GetDeletedItem(w, r, p[0])
		}},
	{method: http.MethodDelete, path: "directory/deletedItems/{id}", perms: permDeletedRestore, doc: "directory-deleteditems-delete",
		serve: func(s *Server, w http.ResponseWriter, r *http.Request, p []string) error {
			return s.graph.PurgeDeletedItem(w, r, p[0])
		}},
	{method: http.MethodPost, path: "directory/deletedItems/{id}/restore|microsoft.graph.restore|graph.restore", perms: permDeletedRestore,
		doc: "directory-deleteditems-restore",
		serve: func(s *Server, w http.ResponseWriter, r *http.Request, p []string) error {
			return s.graph.RestoreDeletedItem(w, r, p[0])
		}},

	{method: http.MethodGet, path: "roleManagement/directory/roleDefinitions", perms: permRoleRead, doc: "rbacapplication-list-roledefinitions",
		serve: func(s *Server, w http.ResponseWriter, r *http.Request, _ []string) error {
			return s.graph.ListRoleDefinitions(w, r)
		}},
	{method: http.MethodGet, path: "roleManagement/directory/roleDefinitions/{id}", perms: permRoleRead, doc: "unifiedroledefinition-get",
		serve: func(s *Server, w http.ResponseWriter, r *http.Request, p []string) error {
			return s.graph.GetRoleDefinition(w, r, p[0])
		}},
	{method: http.MethodGet, path: "roleManagement/directory/roleAssignments", perms: permRoleRead, doc: "rbacapplication-list-roleassignments",
		serve: func(s *Server, w http.ResponseWriter, r *http.Request, _ []string) error {
			return s.graph.ListRoleAssignments(w, r)
		}},
	{method: http.MethodPost, path: "roleManagement/directory/roleAssignments", perms: permRoleWrite, doc: "rbacapplication-post-roleassignments",
		serve: func(s *Server, w http.ResponseWriter, r *http.Request, _ []string) error {
			return s.graph.CreateRoleAssignment(w, r)
		}},
	{method: http.MethodGet, path: "roleManagement/directory/roleAssignments/{id}", perms: permRoleRead, doc: "unifiedroleassignment-get",
		serve: func(s *Server, w http.ResponseWriter, r *http.Request, p []string) error {
			return s.graph.GetRoleAssignment(w, r, p[0])
		}},
	{method: http.MethodDelete, path: "roleManagement/directory/roleAssignments/{id}", perms: permRoleWrite, doc: "unifiedroleassignment-delete",
		serve: func(s *Server, w http.ResponseWriter, r *http.Request, p []string) error {
			return s.graph.DeleteRoleAssignment(w, r, p[0])
		}},
	{method: http.MethodGet, path: "roleManagement/directory/roleEligibilityScheduleInstances", perms: permEligibilityRead, pim: true,
		doc: "rbacapplication-list-roleeligibilityscheduleinstances",
		serve: func(s *Server, w http.ResponseWriter, r *http.Request, _ []string) error {
			return s.graph.ListEligibilityInstances(w, r)
		}},
	{method: http.MethodGet, path: "roleManagement/directory/roleEligibilityScheduleInstances/{id}", perms: permEligibilityRead, pim: true,
		doc: "unifiedroleeligibilityscheduleinstance-get",
		serve: func(s *Server, w http.ResponseWriter, r *http.Request, p []string) error {
			return s.graph.GetEligibilityInstance(w, r, p[0])
		}},
	{method: http.MethodPost, path: "roleManagement/directory/roleEligibilityScheduleRequests", perms: permEligibilityWrite, pim: true,
		doc: "rbacapplication-post-roleeligibilityschedulerequests",
		serve: func(s *Server, w http.ResponseWriter, r *http.Request, _ []string) error {
			return s.graph.CreateEligibilityRequest(w, r)
		}},
	{method: http.MethodGet, path: "roleManagement/directory/roleAssignmentScheduleInstances", perms: permAssignmentScheduleRead, pim: true,
		doc: "rbacapplication-list-roleassignmentscheduleinstances",
		serve: func(s *Server, w http.ResponseWriter, r *http.Request, _ []string) error {
			return s.graph.ListAssignmentInstances(w, r)
		}},
	{method: http.MethodGet, path: "roleManagement/directory/roleAssignmentScheduleInstances/{id}", perms: permAssignmentScheduleRead, pim: true,
		doc: "unifiedroleassignmentscheduleinstance-get",
		serve: func(s *Server, w http.ResponseWriter, r *http.Request, p []string) error {
			return s.graph.GetAssignmentInstance(w, r, p[0])
		}},
	{method: http.MethodPost, path: "roleManagement/directory/roleAssignmentScheduleRequests", perms: permAssignmentScheduleWrite, pim: true,
		doc: "rbacapplication-post-roleassignmentschedulerequests",
		serve: func(s *Server, w http.ResponseWriter, r *http.Request, _ []string) error {
			return s.graph.CreateAssignmentScheduleRequest(w, r)
		}},
}

// The permissions each route's Microsoft page lists (any one of them
// suffices).
var (
	permUserRead   = []string{"User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	permUserWrite  = []string{"User.ReadWrite.All", "Directory.ReadWrite.All"}
	permUserDelete = []string{"User.ReadWrite.All", "Directory.ReadWrite.All"}
	// permUserDelta: User.Read.All is the least privileged; the page's
	// AgentIdUser.* permissions are not known to the emulator.
	permUserDelta = []string{"User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}

	permGroupRead   = []string{"GroupMember.Read.All", "Group.Read.All", "Group.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	permContactRead = []string{"OrgContact.Read.All", "Directory.Read.All", "Directory.ReadWrite.All"}

	permDomainRead = []string{"Domain.Read.All", "Domain.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	permOrgRead    = []string{"Organization.Read.All", "Organization.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All", "User.Read.All"}

	permSyncRead  = []string{"OnPremDirectorySynchronization.Read.All", "OnPremDirectorySynchronization.ReadWrite.All"}
	permSyncWrite = []string{"OnPremDirectorySynchronization.ReadWrite.All"}

	permDeletedRead    = []string{"User.Read.All", "User.ReadWrite.All", "User.DeleteRestore.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	permDeletedRestore = []string{"User.DeleteRestore.All", "User.ReadWrite.All", "Directory.ReadWrite.All"}
	// permDeletedGroupRead lists deleted groups.
	permDeletedGroupRead = []string{"Group.Read.All", "Group.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}

	permRoleRead = []string{"RoleManagement.Read.Directory", "RoleManagement.Read.All", "RoleManagement.ReadWrite.Directory",
		"Directory.Read.All", "Directory.ReadWrite.All"}
	permRoleWrite        = []string{"RoleManagement.ReadWrite.Directory"}
	permEligibilityRead  = []string{"RoleEligibilitySchedule.Read.Directory", "RoleEligibilitySchedule.ReadWrite.Directory", "RoleManagement.Read.Directory", "RoleManagement.Read.All", "RoleManagement.ReadWrite.Directory"}
	permEligibilityWrite = []string{"RoleEligibilitySchedule.ReadWrite.Directory", "RoleManagement.ReadWrite.Directory"}
	// Assignment schedules are read and written with their own permission
	// family; the eligibility ones do not grant them.
	permAssignmentScheduleRead = []string{"RoleAssignmentSchedule.Read.Directory", "RoleAssignmentSchedule.ReadWrite.Directory",
		"RoleManagement.Read.Directory", "RoleManagement.Read.All", "RoleManagement.ReadWrite.Directory"}
	permAssignmentScheduleWrite = []string{"RoleAssignmentSchedule.ReadWrite.Directory", "RoleManagement.ReadWrite.Directory"}
)

// authorizeSync is the permission check of the onPremisesSynchronization
// routes, which Graph's resource handlers know.
func (s *Server) authorizeSync(r *http.Request, perms []string) error {
	return s.graph.AuthorizeSync(r, perms)
}

// segment is one compiled path segment: a parameter, or the spellings of a
// literal.
type segment struct {
	param     bool
	spellings []string
}

type compiledRoute struct {
	route
	segs []segment
}

var compiledRoutes = func() []compiledRoute {
	out := make([]compiledRoute, 0, len(routes))
	for _, r := range routes {
		c := compiledRoute{route: r}
		for _, p := range strings.Split(r.path, "/") {
			if p == "{id}" {
				c.segs = append(c.segs, segment{param: true})
				continue
			}
			c.segs = append(c.segs, segment{spellings: strings.Split(strings.ToLower(p), "|")})
		}
		out = append(out, c)
	}
	// A literal segment wins over a parameter in the same place
	// (deletedItems/microsoft.graph.user over deletedItems/{id}).
	sort.SliceStable(out, func(i, j int) bool { return literalRank(out[i].segs) > literalRank(out[j].segs) })
	return out
}()

func literalRank(segs []segment) int {
	n := 0
	for i, s := range segs {
		if !s.param {
			n |= 1 << (len(segs) - 1 - i)
		}
	}
	return n
}

// match reports whether the route's path matches the first len(segs)
// request segments exactly (full) or as a prefix, and the parameters.
func (c compiledRoute) match(lower []string, segs []string) (params []string, full bool, ok bool) {
	if len(lower) > len(c.segs) {
		return nil, false, false
	}
	for i, l := range lower {
		s := c.segs[i]
		if s.param {
			params = append(params, segs[i])
			continue
		}
		found := false
		for _, sp := range s.spellings {
			if sp == l {
				found = true
				break
			}
		}
		if !found {
			return nil, false, false
		}
	}
	return params, len(lower) == len(c.segs), true
}

// dispatch finds the route of a /v1.0 request (segs without "v1.0"),
// checks its permission and serves it. A path no route has is a 400 naming
// the first segment Graph could not resolve; a known path with another
// method is a 405.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request, segs []string) error {
	if len(segs) == 0 {
		return errSegment("v1.0")
	}
	lower := make([]string, len(segs))
	for i, seg := range segs {
		lower[i] = strings.ToLower(seg)
	}
	if s.noPIM && len(lower) >= 3 && lower[0] == "rolemanagement" && lower[1] == "directory" && strings.Contains(lower[2], "schedule") {
		return errNoPIM()
	}
	var pathMatch *compiledRoute
	for i := range compiledRoutes {
		c := &compiledRoutes[i]
		params, full, ok := c.match(lower, segs)
		if !ok || !full {
			continue
		}
		if pathMatch == nil {
			pathMatch = c
		}
		if c.path != pathMatch.path {
			continue
		}
		if c.method != "" && c.method != r.Method {
			continue
		}
		return s.serveRoute(w, r, c, params)
	}
	if pathMatch != nil {
		return errMethod()
	}
	return errSegment(segs[s.resolvedPrefix(lower, segs)])
}

// resolvedPrefix is how many leading segments some route knows: the next
// one (or the last, when the path stops short of every route) is the one
// Graph names in its error.
func (s *Server) resolvedPrefix(lower, segs []string) int {
	best := 0
	for k := len(lower); k > 0 && best == 0; k-- {
		for _, c := range compiledRoutes {
			if _, _, ok := c.match(lower[:k], segs[:k]); ok {
				best = k
				break
			}
		}
	}
	if best >= len(segs) {
		return len(segs) - 1
	}
	return best
}

func (s *Server) serveRoute(w http.ResponseWriter, r *http.Request, c *compiledRoute, params []string) error {
	if c.pim && s.noPIM {
		return errNoPIM()
	}
	switch {
	case c.authorize != nil:
		if err := c.authorize(s, r, c.perms); err != nil {
			return err
		}
	case c.perms != nil:
		if err := identity.Require(r, c.perms...); err != nil {
			return err
		}
	}
	return c.serve(s, w, r, params)
}

// PermissionTable renders the route table as docs/emulator.md shows it.
func PermissionTable() string {
	var b strings.Builder
	b.WriteString("| Method | Route (after `/v1.0/`) | Permissions (any of) | Microsoft page |\n")
	b.WriteString("| --- | --- | --- | --- |\n")
	for _, r := range routes {
		if r.perms == nil {
			continue
		}
		path := strings.NewReplacer("|", " or ").Replace(r.path)
		extra := ""
		if r.authorize != nil {
			extra = " (delegated: the user must also be a Global Administrator)"
		}
		fmt.Fprintf(&b, "| %s | `%s` | %s%s | [%s](https://learn.microsoft.com/en-us/graph/api/%s) |\n",
			r.method, path, strings.Join(r.perms, ", "), extra, r.doc, r.doc)
	}
	return b.String()
}

// errNoPIM: the PIM collections need Microsoft Entra ID P2 (or ID
// Governance); without it Graph answers 400 on every one of them.
func errNoPIM() error {
	return grapherr.New(http.StatusBadRequest, "AadPremiumLicenseRequired",
		"The tenant needs to have Microsoft Entra ID P2 or Microsoft Entra ID Governance license.")
}
