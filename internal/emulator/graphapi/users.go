package graphapi

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
var userFilter = func() filterSchema[tenant.User] {
	known := make([]string, 0, len(userProps)+len(otherUserProps))
	for _, p := range userProps {
		known = append(known, p.name)
	}
	known = append(known, otherUserProps...)
	return newSchema[tenant.User]("microsoft.graph.user", "User", known,
		filterField[tenant.User]{name: "id", get: func(u *tenant.User) ([]string, bool) { return str(u.ID), false }},
		filterField[tenant.User]{name: "userPrincipalName", get: func(u *tenant.User) ([]string, bool) { return str(u.UserPrincipalName), false }},
		filterField[tenant.User]{name: "displayName", get: func(u *tenant.User) ([]string, bool) { return str(u.DisplayName), false }},
		filterField[tenant.User]{name: "mailNickname", get: func(u *tenant.User) ([]string, bool) { return str(u.MailNickname), false }},
		filterField[tenant.User]{name: "mail", get: func(u *tenant.User) ([]string, bool) { return strPtr(u.Mail) }},
		filterField[tenant.User]{name: "givenName", get: func(u *tenant.User) ([]string, bool) { return strPtr(u.GivenName) }},
		filterField[tenant.User]{name: "surname", get: func(u *tenant.User) ([]string, bool) { return strPtr(u.Surname) }},
		filterField[tenant.User]{name: "employeeId", get: func(u *tenant.User) ([]string, bool) { return strPtr(u.EmployeeID) }},
		filterField[tenant.User]{name: "userType", get: func(u *tenant.User) ([]string, bool) { return str(u.UserType), u.UserType == "" }},
		filterField[tenant.User]{name: "accountEnabled", kind: fieldBool, get: func(u *tenant.User) ([]string, bool) { return boolPtr(u.AccountEnabled) }},
		filterField[tenant.User]{name: "proxyAddresses", kind: fieldStringCollection, get: func(u *tenant.User) ([]string, bool) { return u.ProxyAddresses, false }},
		filterField[tenant.User]{name: "onPremisesImmutableId", eqAdvanced: true, caseSensitive: true,
			get: func(u *tenant.User) ([]string, bool) { return strPtr(u.OnPremisesImmutableID) }},
		filterField[tenant.User]{name: "onPremisesSamAccountName", eqAdvanced: true,
			get: func(u *tenant.User) ([]string, bool) { return strPtr(u.OnPremisesSamAccountName) }},
		// eq on onPremisesSyncEnabled works by default; eq null, like every
		// null comparison, is advanced (filter-directory-objects table of
		// aad-advanced-queries).
		filterField[tenant.User]{name: "onPremisesSyncEnabled", kind: fieldBool,
			get: func(u *tenant.User) ([]string, bool) { return boolPtr(u.OnPremisesSyncEnabled) }},
	)
}()

func (s *API) metadata(r *http.Request, fragment string) string {
	return identity.BaseURL(r) + "/v1.0/$metadata#" + fragment
}

func selectFragment(sel []string) string {
	if sel == nil {
		return ""
	}
	return "(" + strings.Join(sel, ",") + ")"
}

// ListUsers serves GET /users.
func (s *API) ListUsers(w http.ResponseWriter, r *http.Request) error {
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
	var hits []*tenant.User
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

func (s *API) writeUserPage(w http.ResponseWriter, r *http.Request, q listQuery, props []string, hits []*tenant.User, context string) error {
	total := len(hits)
	items, next := page(r, identity.BaseURL(r), q, hits, func(u *tenant.User) string { return u.ID })
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

// GetUser serves GET /users/{id | userPrincipalName}.
func (s *API) GetUser(w http.ResponseWriter, r *http.Request, idOrUPN string) error {
	q, err := parseListQuery(r, 1, 1)
	if err != nil {
		return err
	}
	props, err := resolveUserSelect(q.selected)
	if err != nil {
		return err
	}
	var u *tenant.User
	var cp tenant.User
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

// CreateUser serves POST /users.
func (s *API) CreateUser(w http.ResponseWriter, r *http.Request) error {
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
	u := &tenant.User{ID: uuid.NewString(), UserType: "Member", CreatedDateTime: &now}
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
func (s *API) storeNewUser(u *tenant.User) (map[string]any, error) {
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

// UpdateUser serves PATCH /users/{id | userPrincipalName}.
func (s *API) UpdateUser(w http.ResponseWriter, r *http.Request, idOrUPN string) error {
	body, err := readJSONObject(w, r)
	if err != nil {
		return err
	}
	change, err := decodeUserChange(body)
	if err != nil {
		return err
	}
	caller, _ := identity.CallerFrom(r.Context())
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
		// Moving a user from a managed into a federated domain needs its
		// immutable ID, as creating one there does (Set-MsolUserPrincipalName:
		// "required if moving the user from a standard to a federated
		// identity domain").
		if d, _ := st.Domain(tenant.UPNDomain(u.UserPrincipalName)); d.AuthenticationType == "Federated" && u.OnPremisesImmutableID == nil &&
			!strings.EqualFold(tenant.UPNDomain(old.UserPrincipalName), d.ID) {
			return grapherr.BadRequest("Property 'onPremisesImmutableId' is required for a user whose userPrincipalName is in the federated domain '%s'.", d.ID)
		}
		st.PutUser(old, &u)
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

// DeleteUser serves DELETE /users/{id | userPrincipalName}: the user is soft-deleted.
func (s *API) DeleteUser(w http.ResponseWriter, r *http.Request, idOrUPN string) error {
	caller, _ := identity.CallerFrom(r.Context())
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
func indexedUsers(st *tenant.State, expr odata.Expr) (iter.Seq[*tenant.User], bool) {
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
	var out []*tenant.User
	if u := st.User(id); u != nil {
		out = append(out, u)
	}
	return slices.Values(out), true
}
