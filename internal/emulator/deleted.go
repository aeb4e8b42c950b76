package emulator

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/entramatch/entra-match-operator/internal/emulator/grapherr"
)

// Deleted items follow https://learn.microsoft.com/en-us/graph/api/directory-deleteditems-list
// (the type cast is required), directory-deleteditems-get,
// directory-deleteditems-restore and directory-deleteditems-delete.

var (
	permDeletedRead    = []string{"User.Read.All", "User.ReadWrite.All", "User.DeleteRestore.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	permDeletedRestore = []string{"User.DeleteRestore.All", "User.ReadWrite.All", "Directory.ReadWrite.All"}
)

var deletedUserDefaults = append(mustDefaultUserProps(), "deletedDateTime")

func (s *Server) listDeletedUsers(w http.ResponseWriter, r *http.Request) error {
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
	s.store.mu.RLock()
	var hits []*User
	for _, u := range s.store.st.deletedUsers {
		if match(u) {
			cp := *u
			hits = append(hits, &cp)
		}
	}
	s.store.mu.RUnlock()
	return s.writeUserPage(w, r, q, props, hits, "directory/deletedItems/microsoft.graph.user")
}

func (s *Server) listDeletedGroups(w http.ResponseWriter, r *http.Request) error {
	s.store.mu.RLock()
	values := make([]map[string]any, 0, len(s.store.st.deletedGroups))
	for _, g := range sortedValues(s.store.st.deletedGroups, func(g *Group) string { return g.ID }) {
		values = append(values, map[string]any{
			"id": g.ID, "displayName": g.DisplayName, "mail": strPtrVal(g.Mail), "mailEnabled": g.MailEnabled,
			"securityEnabled": g.SecurityEnabled, "deletedDateTime": timeVal(g.DeletedDateTime),
		})
	}
	s.store.mu.RUnlock()
	writeOData(w, http.StatusOK, map[string]any{"@odata.context": s.metadata(r, "directory/deletedItems/microsoft.graph.group"), "value": values})
	return nil
}

func (s *Server) getDeletedItem(w http.ResponseWriter, r *http.Request, id string) error {
	if !isGUID(id) {
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
	s.store.mu.RLock()
	u, ok := s.store.st.deletedUsers[key(id)]
	var cp User
	if ok {
		cp = *u
	}
	s.store.mu.RUnlock()
	if !ok {
		return grapherr.NotFound(id)
	}
	out := renderUser(&cp, props)
	out["@odata.context"] = s.metadata(r, "directory/deletedItems/$entity")
	out["@odata.type"] = "#microsoft.graph.user"
	writeOData(w, http.StatusOK, out)
	return nil
}

func (s *Server) restoreDeletedItem(w http.ResponseWriter, r *http.Request, id string) error {
	if !isGUID(id) {
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
	caller, _ := CallerFrom(r.Context())
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
func (s *Server) restoreUser(id string, caller Caller, opts restoreOptions) (map[string]any, error) {
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	st := s.store.st
	u, ok := st.deletedUsers[key(id)]
	if !ok {
		return nil, grapherr.NotFound(id)
	}
	// "Delete or restore users" is a sensitive action.
	if err := s.checkSensitive(st, caller, u.ID); err != nil {
		return nil, err
	}
	restored := *u
	restored.DeletedDateTime = nil
	if opts.newUPN != nil {
		restored.UserPrincipalName = *opts.newUPN
	}
	if opts.autoReconcile {
		var kept []string
		for _, p := range restored.ProxyAddresses {
			if other, taken := st.proxy[key(p)]; taken && !strings.EqualFold(other, u.ID) {
				continue
			}
			kept = append(kept, p)
		}
		restored.ProxyAddresses = kept
	}
	if err := st.checkUser(&restored, u.ID); err != nil {
		return nil, err
	}
	delete(st.deletedUsers, key(id))
	st.putUser(nil, &restored)
	return renderUser(&restored, mustDefaultUserProps()), nil
}

func (s *Server) purgeDeletedItem(w http.ResponseWriter, r *http.Request, id string) error {
	if !isGUID(id) {
		return grapherr.InvalidObjectID(id)
	}
	caller, _ := CallerFrom(r.Context())
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	st := s.store.st
	u, ok := st.deletedUsers[key(id)]
	if !ok {
		return grapherr.NotFound(id)
	}
	// The permanent-delete page's role note repeats the restore one
	// (directory-deleteditems-delete); the emulator guards it like a delete.
	if err := s.checkSensitive(st, caller, u.ID); err != nil {
		return err
	}
	if u.OnPremisesImmutableID != nil && strings.EqualFold(st.immutable[*u.OnPremisesImmutableID], u.ID) {
		delete(st.immutable, *u.OnPremisesImmutableID)
	}
	delete(st.deletedUsers, key(id))
	// A permanently deleted principal loses its roles.
	for k, a := range st.assignments {
		if strings.EqualFold(a.PrincipalID, id) {
			delete(st.assignments, k)
		}
	}
	for k, e := range st.eligibilities {
		if strings.EqualFold(e.PrincipalID, id) {
			delete(st.eligibilities, k)
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
