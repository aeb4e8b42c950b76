package graphapi

import (
	"net/http"
	"slices"
	"strings"

	"github.com/entramatch/entra-match-operator/internal/emulator/grapherr"
	"github.com/entramatch/entra-match-operator/internal/emulator/identity"
	"github.com/entramatch/entra-match-operator/internal/emulator/tenant"
)

// Groups and organizational contacts are listed as
// https://learn.microsoft.com/en-us/graph/api/group-list and
// https://learn.microsoft.com/en-us/graph/api/orgcontact-list describe:
// $select, $top (at most 999) and paging by @odata.nextLink. $filter is not
// played here and is refused, so a client relying on it notices. Graph
// never exposes a group's or contact's source anchor.

// property is one selectable property of a listed object.
type property[T any] struct {
	name string
	// def: returned without $select.
	def bool
	get func(*T) any
}

var groupProperties = []property[tenant.Group]{
	{"id", true, func(g *tenant.Group) any { return g.ID }},
	{"displayName", true, func(g *tenant.Group) any { return g.DisplayName }},
	{"mail", true, func(g *tenant.Group) any { return strPtrVal(g.Mail) }},
	{"mailEnabled", true, func(g *tenant.Group) any { return g.MailEnabled }},
	{"mailNickname", true, func(g *tenant.Group) any { return g.MailNickname }},
	{"securityEnabled", true, func(g *tenant.Group) any { return g.SecurityEnabled }},
	{"groupTypes", true, func(g *tenant.Group) any { return listVal(g.GroupTypes) }},
	{"proxyAddresses", true, func(g *tenant.Group) any { return listVal(g.ProxyAddresses) }},
	{"createdDateTime", true, func(g *tenant.Group) any { return timeVal(g.CreatedDateTime) }},
	{"onPremisesSyncEnabled", true, func(g *tenant.Group) any { return boolPtrVal(g.OnPremisesSyncEnabled) }},
	{"onPremisesLastSyncDateTime", true, func(g *tenant.Group) any { return timeVal(g.OnPremisesLastSyncDateTime) }},
	{"onPremisesSamAccountName", false, func(g *tenant.Group) any { return strPtrVal(g.OnPremisesSamAccountName) }},
	{"onPremisesSecurityIdentifier", true, func(g *tenant.Group) any { return strPtrVal(g.OnPremisesSecurityIdentifier) }},
	{"onPremisesDomainName", false, func(g *tenant.Group) any { return strPtrVal(g.OnPremisesDomainName) }},
	{"onPremisesProvisioningErrors", true, func(g *tenant.Group) any { return provisioningErrorsVal(g.OnPremisesProvisioningErrors) }},
}

var contactProperties = []property[tenant.Contact]{
	{"id", true, func(c *tenant.Contact) any { return c.ID }},
	{"displayName", true, func(c *tenant.Contact) any { return c.DisplayName }},
	{"givenName", true, func(c *tenant.Contact) any { return strPtrVal(c.GivenName) }},
	{"surname", true, func(c *tenant.Contact) any { return strPtrVal(c.Surname) }},
	{"mail", true, func(c *tenant.Contact) any { return strPtrVal(c.Mail) }},
	{"mailNickname", true, func(c *tenant.Contact) any { return c.MailNickname }},
	{"proxyAddresses", true, func(c *tenant.Contact) any { return listVal(c.ProxyAddresses) }},
	{"onPremisesSyncEnabled", true, func(c *tenant.Contact) any { return boolPtrVal(c.OnPremisesSyncEnabled) }},
	{"onPremisesLastSyncDateTime", true, func(c *tenant.Contact) any { return timeVal(c.OnPremisesLastSyncDateTime) }},
	{"onPremisesProvisioningErrors", true, func(c *tenant.Contact) any { return provisioningErrorsVal(c.OnPremisesProvisioningErrors) }},
}

func provisioningErrorsVal(pe []tenant.ProvisioningError) any {
	out := make([]map[string]any, 0, len(pe))
	for _, e := range pe {
		out = append(out, map[string]any{"category": e.Category, "propertyCausingError": e.PropertyCausingError, "value": e.Value,
			"occurredDateTime": timeVal(e.OccurredDateTime)})
	}
	return out
}

// ListGroups serves GET /groups.
func (s *API) ListGroups(w http.ResponseWriter, r *http.Request) error {
	return listObjects(s, w, r, "groups", "group", groupProperties, func(st *tenant.State) []*tenant.Group {
		return slices.Collect(st.Groups())
	}, func(g *tenant.Group) string { return g.ID })
}

// ListContacts serves GET /contacts.
func (s *API) ListContacts(w http.ResponseWriter, r *http.Request) error {
	return listObjects(s, w, r, "contacts", "orgContact", contactProperties, func(st *tenant.State) []*tenant.Contact {
		return slices.Collect(st.Contacts())
	}, func(c *tenant.Contact) string { return c.ID })
}

func listObjects[T any](s *API, w http.ResponseWriter, r *http.Request, collection, typeName string, props []property[T],
	all func(*tenant.State) []*T, id func(*T) string) error {
	q, err := parseListQuery(r, 100, 999)
	if err != nil {
		return err
	}
	if q.filter != nil || len(q.expand) > 0 {
		return grapherr.New(http.StatusBadRequest, grapherr.CodeBadRequestPlain, "The emulator does not play $filter or $expand on /"+collection+".")
	}
	chosen := make([]property[T], 0, len(props))
	if q.selected == nil {
		for _, p := range props {
			if p.def {
				chosen = append(chosen, p)
			}
		}
	} else {
		for _, name := range q.selected {
			i := slices.IndexFunc(props, func(p property[T]) bool { return strings.EqualFold(p.name, name) })
			if i < 0 {
				return grapherr.NoSuchProperty(name, "microsoft.graph."+typeName)
			}
			chosen = append(chosen, props[i])
		}
		if !slices.ContainsFunc(chosen, func(p property[T]) bool { return p.name == "id" }) {
			chosen = append(chosen, props[0])
		}
	}
	var hits []*T
	s.store.Read(func(st *tenant.State) {
		for _, o := range all(st) {
			cp := *o
			hits = append(hits, &cp)
		}
	})
	slices.SortFunc(hits, func(a, b *T) int { return strings.Compare(key(id(a)), key(id(b))) })
	items, next := page(r, identity.BaseURL(r), q, hits, id)
	values := make([]map[string]any, 0, len(items))
	for _, o := range items {
		v := make(map[string]any, len(chosen))
		for _, p := range chosen {
			v[p.name] = p.get(o)
		}
		values = append(values, v)
	}
	body := map[string]any{"@odata.context": s.metadata(r, collection+selectFragment(q.selected)), "value": values}
	if q.countOnPage() {
		body["@odata.count"] = len(hits)
	}
	if next != "" {
		body["@odata.nextLink"] = next
	}
	writeOData(w, http.StatusOK, body)
	return nil
}
