package emulator

import (
	"net/http"
	"strings"
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
	if err := s.require(r, permDeletedRead...); err != nil {
		return err
	}
	q, err := parseListQuery(r, 100, 999)
	if err != nil {
		return err
	}
	if err := q.requireCountSupported(); err != nil {
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
	if err := s.require(r, "Group.Read.All", "Group.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"); err != nil {
		return err
	}
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
	if err := s.require(r, permDeletedRead...); err != nil {
		return err
	}
	if !isGUID(id) {
		return errInvalidObjectID(id)
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
		return errNotFound(id)
	}
	out := renderUser(&cp, props)
	out["@odata.context"] = s.metadata(r, "directory/deletedItems/$entity")
	out["@odata.type"] = "#microsoft.graph.user"
	writeOData(w, http.StatusOK, out)
	return nil
}

func (s *Server) restoreDeletedItem(w http.ResponseWriter, r *http.Request, id string) error {
	if err := s.require(r, permDeletedRestore...); err != nil {
		return err
	}
	if !isGUID(id) {
		return errInvalidObjectID(id)
	}
	if r.ContentLength > 0 {
		if _, err := readJSONObject(w, r); err != nil {
			return err
		}
	}
	out, err := s.restoreUser(id)
	if err != nil {
		return err
	}
	out["@odata.context"] = s.metadata(r, "directoryObjects/$entity")
	out["@odata.type"] = "#microsoft.graph.user"
	writeOData(w, http.StatusOK, out)
	return nil
}

// restoreUser moves a deleted user back, under the write lock, and renders
// it; the response is written after the lock is released.
func (s *Server) restoreUser(id string) (map[string]any, error) {
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	st := s.store.st
	u, ok := st.deletedUsers[key(id)]
	if !ok {
		return nil, errNotFound(id)
	}
	restored := *u
	restored.DeletedDateTime = nil
	if err := st.checkUser(&restored, u.ID); err != nil {
		return nil, err
	}
	delete(st.deletedUsers, key(id))
	st.putUser(nil, &restored)
	return renderUser(&restored, mustDefaultUserProps()), nil
}

func (s *Server) purgeDeletedItem(w http.ResponseWriter, r *http.Request, id string) error {
	if err := s.require(r, permDeletedRestore...); err != nil {
		return err
	}
	if !isGUID(id) {
		return errInvalidObjectID(id)
	}
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	st := s.store.st
	u, ok := st.deletedUsers[key(id)]
	if !ok {
		return errNotFound(id)
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
