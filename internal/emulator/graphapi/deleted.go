package graphapi

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/entramatch/entra-match-operator/internal/emulator/grapherr"
	"github.com/entramatch/entra-match-operator/internal/emulator/identity"
	"github.com/entramatch/entra-match-operator/internal/emulator/tenant"
)

// Deleted items follow https://learn.microsoft.com/en-us/graph/api/directory-deleteditems-list
// (the type cast is required), directory-deleteditems-get,
// directory-deleteditems-restore and directory-deleteditems-delete.

var deletedUserDefaults = append(mustDefaultUserProps(), "deletedDateTime")

// ListDeletedUsers serves GET /directory/deletedItems/microsoft.graph.user.
func (s *API) ListDeletedUsers(w http.ResponseWriter, r *http.Request) error {
	q, err := parseListQuery(r, 100, 999)
	if err != nil {
		return err
	}
	props := deletedUserDefaults
	if q.selected != nil {
		if props, err = resolveUserSelect(q.selected); err != nil {
			return err
		}
	}
	match, err := userFilter.matcher(q)
	if err != nil {
		return err
	}
	var hits []*tenant.User
	s.store.Read(func(st *tenant.State) {
		for u := range st.DeletedUsers() {
			if match(u) {
				cp := *u
				hits = append(hits, &cp)
			}
		}
	})
	return s.writeUserPage(w, r, q, props, hits, "directory/deletedItems/microsoft.graph.user")
}

// ListDeletedGroups serves GET /directory/deletedItems/microsoft.graph.group.
func (s *API) ListDeletedGroups(w http.ResponseWriter, r *http.Request) error {
	var values []map[string]any
	s.store.Read(func(st *tenant.State) {
		groups := slices.SortedFunc(st.DeletedGroups(), func(a, b *tenant.Group) int { return strings.Compare(key(a.ID), key(b.ID)) })
		values = make([]map[string]any, 0, len(groups))
		for _, g := range groups {
			values = append(values, map[string]any{
				"id": g.ID, "displayName": g.DisplayName, "mail": strPtrVal(g.Mail), "mailEnabled": g.MailEnabled,
				"securityEnabled": g.SecurityEnabled, "deletedDateTime": timeVal(g.DeletedDateTime),
			})
		}
	})
	writeOData(w, http.StatusOK, map[string]any{"@odata.context": s.metadata(r, "directory/deletedItems/microsoft.graph.group"), "value": values})
	return nil
}

// GetDeletedItem serves GET /directory/deletedItems/{id}.
func (s *API) GetDeletedItem(w http.ResponseWriter, r *http.Request, id string) error {
	if !tenant.IsGUID(id) {
		return grapherr.InvalidObjectID(id)
	}
	q, err := parseListQuery(r, 1, 1)
	if err != nil {
		return err
	}
	props := deletedUserDefaults
	if q.selected != nil {
		if props, err = resolveUserSelect(q.selected); err != nil {
			return err
		}
	}
	var cp tenant.User
	var ok bool
	s.store.Read(func(st *tenant.State) {
		if u := st.DeletedUser(id); u != nil {
			cp, ok = *u, true
		}
	})
	if !ok {
		return grapherr.NotFound(id)
	}
	out := renderUser(&cp, props)
	out["@odata.context"] = s.metadata(r, "directory/deletedItems/$entity")
	out["@odata.type"] = "#microsoft.graph.user"
	writeOData(w, http.StatusOK, out)
	return nil
}

// RestoreDeletedItem serves POST /directory/deletedItems/{id}/restore.
func (s *API) RestoreDeletedItem(w http.ResponseWriter, r *http.Request, id string) error {
	if !tenant.IsGUID(id) {
		return grapherr.InvalidObjectID(id)
	}
	body, err := readOptionalJSONObject(w, r)
	if err != nil {
		return err
	}
	opts, err := decodeRestoreOptions(body)
	if err != nil {
		return err
	}
	caller, _ := identity.CallerFrom(r.Context())
	out, err := s.restoreUser(id, caller, opts)
	if err != nil {
		return err
	}
	out["@odata.context"] = s.metadata(r, "directoryObjects/$entity")
	out["@odata.type"] = "#microsoft.graph.user"
	writeOData(w, http.StatusOK, out)
	return nil
}

// restoreOptions are the restore action's parameters for users
// (directory-deleteditems-restore, microsoft-graph-docs-contrib
// api-reference/v1.0/api/directory-deleteditems-restore.md, "Request body"):
// newUserPrincipalName, "The new userPrincipalName to add to the restored
// user", and autoReconcileProxyConflict, "whether Microsoft Entra ID should
// remove any conflicting proxy addresses while restoring a soft-deleted user
// whose one or more proxy addresses are currently used for an active user
// ... The default value for this parameter is false."
type restoreOptions struct {
	newUPN        *string
	autoReconcile bool
}

func decodeRestoreOptions(body map[string]json.RawMessage) (restoreOptions, error) {
	var o restoreOptions
	for k, v := range body {
		switch k {
		case "newUserPrincipalName":
			var upn *string
			if err := json.Unmarshal(v, &upn); err != nil || (upn != nil && strings.TrimSpace(*upn) == "") {
				return o, grapherr.InvalidValue("newUserPrincipalName", "User")
			}
			o.newUPN = upn
		case "autoReconcileProxyConflict":
			var b *bool
			if err := json.Unmarshal(v, &b); err != nil {
				return o, grapherr.InvalidValue("autoReconcileProxyConflict", "restore")
			}
			o.autoReconcile = b != nil && *b
		default:
			if strings.HasPrefix(k, "@") {
				continue
			}
			return o, grapherr.BadRequest("The parameter '%s' in the request payload is not a valid parameter for the operation 'restore'.", k)
		}
	}
	return o, nil
}

// restoreUser moves a deleted user back, under the write lock, and renders
// it; the response is written after the lock is released. Without
// autoReconcileProxyConflict a proxy address an active object took
// meanwhile, and without newUserPrincipalName a taken UPN, refuse the
// restore with Graph's conflict error.
func (s *API) restoreUser(id string, caller identity.Caller, opts restoreOptions) (map[string]any, error) {
	var out map[string]any
	err := s.store.Write(func(st *tenant.State) error {
		u := st.DeletedUser(id)
		if u == nil {
			return grapherr.NotFound(id)
		}
		// "Delete or restore users" is a sensitive action.
		if err := s.checkSensitive(st, caller, u.ID); err != nil {
			return err
		}
		restored := *u
		restored.DeletedDateTime = nil
		if opts.newUPN != nil {
			restored.UserPrincipalName = *opts.newUPN
		}
		if opts.autoReconcile {
			var kept []string
			for _, p := range restored.ProxyAddresses {
				if other, taken := st.IDByProxy(p); taken && !strings.EqualFold(other, u.ID) {
					continue
				}
				kept = append(kept, p)
			}
			restored.ProxyAddresses = kept
		}
		if err := st.CheckUser(&restored, u.ID); err != nil {
			return err
		}
		st.RemoveDeletedUser(id)
		st.PutUser(nil, &restored)
		out = renderUser(&restored, mustDefaultUserProps())
		return nil
	})
	return out, err
}

// PurgeDeletedItem serves DELETE /directory/deletedItems/{id}: the user is deleted for good.
func (s *API) PurgeDeletedItem(w http.ResponseWriter, r *http.Request, id string) error {
	if !tenant.IsGUID(id) {
		return grapherr.InvalidObjectID(id)
	}
	caller, _ := identity.CallerFrom(r.Context())
	return s.store.Write(func(st *tenant.State) error {
		u := st.DeletedUser(id)
		if u == nil {
			return grapherr.NotFound(id)
		}
		// The permanent-delete page's role note repeats the restore one
		// (directory-deleteditems-delete); the emulator guards it like a delete.
		if err := s.checkSensitive(st, caller, u.ID); err != nil {
			return err
		}
		st.PurgeUser(u)
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}
