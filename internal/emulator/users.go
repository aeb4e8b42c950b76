package emulator

import (
	"iter"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/entramatch/entra-match-operator/internal/emulator/grapherr"
	"github.com/entramatch/entra-match-operator/internal/emulator/identity"
	"github.com/entramatch/entra-match-operator/internal/emulator/odata"
	"github.com/entramatch/entra-match-operator/internal/emulator/tenant"
)

// Routes under /users follow
// https://learn.microsoft.com/en-us/graph/api/user-list,
// https://learn.microsoft.com/en-us/graph/api/user-get,
// https://learn.microsoft.com/en-us/graph/api/user-post-users,
// https://learn.microsoft.com/en-us/graph/api/user-update and
// https://learn.microsoft.com/en-us/graph/api/user-delete.

var (
	permUserRead   = []string{"User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	permUserWrite  = []string{"User.ReadWrite.All", "Directory.ReadWrite.All"}
	permUserDelete = []string{"User.ReadWrite.All", "Directory.ReadWrite.All"}
)

func str(s string) []string { return []string{s} }

func strPtr(p *string) ([]string, bool) {
	if p == nil {
		return nil, true
	}
	return []string{*p}, false
}

func boolPtr(p *bool) ([]string, bool) {
	if p == nil {
		return nil, true
	}
	if *p {
		return str("true"), false
	}
	return str("false"), false
}

// userFilter lists the user properties the emulator can filter on and
// whether eq on them needs an advanced query, per the property notes in
// the user resource page and the tables in
// https://learn.microsoft.com/en-us/graph/aad-advanced-queries.
var userFilter = func() filterSchema[User] {
	known := make([]string, 0, len(userProps)+len(otherUserProps))
	for _, p := range userProps {
		known = append(known, p.name)
	}
	known = append(known, otherUserProps...)
	return newSchema[User]("microsoft.graph.user", "User", known,
		filterField[User]{name: "id", get: func(u *User) ([]string, bool) { return str(u.ID), false }},
		filterField[User]{name: "userPrincipalName", get: func(u *User) ([]string, bool) { return str(u.UserPrincipalName), false }},
		filterField[User]{name: "displayName", get: func(u *User) ([]string, bool) { return str(u.DisplayName), false }},
		filterField[User]{name: "mailNickname", get: func(u *User) ([]string, bool) { return str(u.MailNickname), false }},
		filterField[User]{name: "mail", get: func(u *User) ([]string, bool) { return strPtr(u.Mail) }},
		filterField[User]{name: "givenName", get: func(u *User) ([]string, bool) { return strPtr(u.GivenName) }},
		filterField[User]{name: "surname", get: func(u *User) ([]string, bool) { return strPtr(u.Surname) }},
		filterField[User]{name: "employeeId", get: func(u *User) ([]string, bool) { return strPtr(u.EmployeeID) }},
		filterField[User]{name: "userType", get: func(u *User) ([]string, bool) { return str(u.UserType), u.UserType == "" }},
		filterField[User]{name: "accountEnabled", kind: fieldBool, get: func(u *User) ([]string, bool) { return boolPtr(u.AccountEnabled) }},
		filterField[User]{name: "proxyAddresses", kind: fieldStringCollection, get: func(u *User) ([]string, bool) { return u.ProxyAddresses, false }},
		filterField[User]{name: "onPremisesImmutableId", eqAdvanced: true, caseSensitive: true,
			get: func(u *User) ([]string, bool) { return strPtr(u.OnPremisesImmutableID) }},
		filterField[User]{name: "onPremisesSamAccountName", eqAdvanced: true,
			get: func(u *User) ([]string, bool) { return strPtr(u.OnPremisesSamAccountName) }},
		// eq on onPremisesSyncEnabled works by default; eq null, like every
		// null comparison, is advanced (filter-directory-objects table of
		// aad-advanced-queries).
		filterField[User]{name: "onPremisesSyncEnabled", kind: fieldBool,
			get: func(u *User) ([]string, bool) { return boolPtr(u.OnPremisesSyncEnabled) }},
	)
}()

func (s *Server) metadata(r *http.Request, fragment string) string {
	return identity.BaseURL(r) + "/v1.0/$metadata#" + fragment
}

func selectFragment(sel []string) string {
	if sel == nil {
		return ""
	}
	return "(" + strings.Join(sel, ",") + ")"
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) error {
	q, err := parseListQuery(r, 100, 999)
	if err != nil {
		return err
	}
	props, err := resolveUserSelect(q.selected)
	if err != nil {
		return err
	}
	match, err := userFilter.matcher(q)
	if err != nil {
		return err
	}
	var hits []*User
	s.store.Read(func(st *tenant.State) {
		candidates, indexed := indexedUsers(st, q.filter)
		if !indexed {
			candidates = st.Users()
		}
		for u := range candidates {
			if match(u) {
				cp := *u
				hits = append(hits, &cp)
			}
		}
	})
	return s.writeUserPage(w, r, q, props, hits, "users")
}

func (s *Server) writeUserPage(w http.ResponseWriter, r *http.Request, q listQuery, props []string, hits []*User, context string) error {
	total := len(hits)
	items, next := page(r, identity.BaseURL(r), q, hits, func(u *User) string { return u.ID })
	values := make([]map[string]any, 0, len(items))
	for _, u := range items {
		values = append(values, renderUser(u, props))
	}
	body := map[string]any{
		"@odata.context": s.metadata(r, context+selectFragment(q.selected)),
		"value":          values,
	}
	if q.countOnPage() {
		body["@odata.count"] = total
	}
	if next != "" {
		body["@odata.nextLink"] = next
	}
	writeOData(w, http.StatusOK, body)
	return nil
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request, idOrUPN string) error {
	q, err := parseListQuery(r, 1, 1)
	if err != nil {
		return err
	}
	props, err := resolveUserSelect(q.selected)
	if err != nil {
		return err
	}
	var u *User
	var cp User
	s.store.Read(func(st *tenant.State) {
		u = st.LookupUser(idOrUPN)
		if u != nil {
			cp = *u
		}
	})
	if u == nil {
		return grapherr.NotFound(idOrUPN)
	}
	body := renderUser(&cp, props)
	body["@odata.context"] = s.metadata(r, "users"+selectFragment(q.selected)+"/$entity")
	writeOData(w, http.StatusOK, body)
	return nil
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) error {
	body, err := readJSONObject(w, r)
	if err != nil {
		return err
	}
	change, err := decodeUserChange(body)
	if err != nil {
		return err
	}
	for _, p := range userProps {
		if p.created && !change.has(p.name) {
			return invalidUserValue(p.name)
		}
	}
	now := s.clock().UTC().Truncate(time.Second)
	u := &User{ID: uuid.NewString(), UserType: "Member", CreatedDateTime: &now}
	if err := change.apply(u); err != nil {
		return err
	}
	out, err := s.storeNewUser(u)
	if err != nil {
		return err
	}
	out["@odata.context"] = s.metadata(r, "users/$entity")
	w.Header().Set("Location", identity.BaseURL(r)+"/v1.0/users/"+u.ID)
	writeOData(w, http.StatusCreated, out)
	return nil
}

// storeNewUser stores a new user and renders it, under the write lock; the
// caller writes the response after the lock is released.
func (s *Server) storeNewUser(u *User) (map[string]any, error) {
	var out map[string]any
	err := s.store.Write(func(st *tenant.State) error {
		if err := st.CheckUser(u, ""); err != nil {
			return err
		}
		if d, _ := st.Domain(tenant.UPNDomain(u.UserPrincipalName)); d.AuthenticationType == "Federated" && u.OnPremisesImmutableID == nil {
			return grapherr.BadRequest("Property 'onPremisesImmutableId' is required for a user whose userPrincipalName is in the federated domain '%s'.", d.ID)
		}
		st.PutUser(nil, u)
		out = renderUser(u, mustDefaultUserProps())
		return nil
	})
	return out, err
}

func mustDefaultUserProps() []string {
	props, _ := resolveUserSelect(nil)
	return props
}

func (s *Server) updateUser(w http.ResponseWriter, r *http.Request, idOrUPN string) error {
	body, err := readJSONObject(w, r)
	if err != nil {
		return err
	}
	change, err := decodeUserChange(body)
	if err != nil {
		return err
	}
	caller, _ := CallerFrom(r.Context())
	return s.store.Write(func(st *tenant.State) error {
		old := st.LookupUser(idOrUPN)
		if old == nil {
			return grapherr.NotFound(idOrUPN)
		}
		if old.OnPremisesSyncEnabled != nil && *old.OnPremisesSyncEnabled && !change.onlyCloudWritable() {
			return grapherr.BadRequest("Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration.")
		}
		if change.sensitive() {
			// A sensitive property is refused by who may set it, whether or not
			// the value would change (see sensitive.go).
			if err := s.checkSensitive(st, caller, old.ID); err != nil {
				return err
			}
		}
		u := *old
		u.ProxyAddresses = append([]string(nil), old.ProxyAddresses...)
		if err := change.apply(&u); err != nil {
			return err
		}
		if err := st.CheckUser(&u, old.ID); err != nil {
			return err
		}
		st.PutUser(old, &u)
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request, idOrUPN string) error {
	caller, _ := CallerFrom(r.Context())
	return s.store.Write(func(st *tenant.State) error {
		u := st.LookupUser(idOrUPN)
		if u == nil {
			return grapherr.NotFound(idOrUPN)
		}
		// "Delete or restore users" is a sensitive action.
		if err := s.checkSensitive(st, caller, u.ID); err != nil {
			return err
		}
		st.SoftDeleteUser(u, s.clock().UTC().Truncate(time.Second))
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

// indexedUsers narrows a filter that is one equality on an indexed property
// (id, userPrincipalName, onPremisesImmutableId, an SMTP proxy address) to
// the users the index names, so the common lookups do not scan the tenant.
// The caller still applies the compiled predicate, which decides; ok is
// false when the filter needs a scan. The store lock must be held.
func indexedUsers(st *tenant.State, expr odata.Expr) (iter.Seq[*User], bool) {
	var id string
	switch e := expr.(type) {
	case odata.Compare:
		if e.Op != "eq" || e.Value.Kind != odata.KindString {
			return nil, false
		}
		switch {
		case strings.EqualFold(e.Property, "id"):
			id = e.Value.Str
		case strings.EqualFold(e.Property, "userPrincipalName"):
			id, _ = st.IDByUPN(e.Value.Str)
		case strings.EqualFold(e.Property, "onPremisesImmutableId"):
			id, _ = st.IDByAnchor(e.Value.Str)
		default:
			return nil, false
		}
	case odata.Any:
		if e.Op != "eq" || e.Value.Kind != odata.KindString || !strings.EqualFold(e.Collection, "proxyAddresses") {
			return nil, false
		}
		id, _ = st.IDByProxy(e.Value.Str)
	default:
		return nil, false
	}
	var out []*User
	if u := st.User(id); u != nil {
		out = append(out, u)
	}
	return slices.Values(out), true
}
