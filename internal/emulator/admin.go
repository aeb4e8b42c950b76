package emulator

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/entramatch/entra-match-operator/internal/emulator/grapherr"
	"github.com/entramatch/entra-match-operator/internal/emulator/odataerr"
)

// adminHandler serves /_emulator/: the built-in state, sync, faults and devicecode
// endpoints and any handlers mounted through Config.AdminHandlers. Only loopback callers are
// served: the admin API replaces the whole tenant without authentication.
func (s *Server) adminHandler(extra map[string]http.Handler) http.Handler {
	handlers := map[string]http.Handler{
		"state":               http.HandlerFunc(s.serveState),
		"sync":                http.HandlerFunc(s.serveSync),
		"faults":              s.faults.Handler(),
		"release-quarantined": http.HandlerFunc(s.serveReleaseQuarantined),
	}
	// Built-ins served at their exact path only; devicecode has subpaths.
	exact := map[string]bool{"state": true, "sync": true, "faults": true, "release-quarantined": true}
	handlers["devicecode"] = http.HandlerFunc(s.identity.ServeDeviceCodeAdmin)
	// A configured handler may replace a built-in one of the same name.
	for name, h := range extra {
		handlers[strings.Trim(name, "/")] = h
	}
	mux := http.NewServeMux()
	for name, h := range handlers {
		mux.Handle("/_emulator/"+name, h)
		if !exact[name] {
			mux.Handle("/_emulator/"+name+"/", h)
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isLoopback(r.RemoteAddr) {
			odataerr.Write(w, r, http.StatusForbidden, grapherr.CodeAuthorizationDenied, "The emulator admin API serves loopback callers only.")
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func (s *Server) serveState(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		writeJSON(w, http.StatusOK, s.Snapshot())
	case http.MethodPut:
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 256<<20))
		dec.DisallowUnknownFields()
		var snap Snapshot
		if err := dec.Decode(&snap); err != nil {
			odataerr.Write(w, r, http.StatusBadRequest, grapherr.CodeBadRequestPlain, "decoding snapshot: "+err.Error())
			return
		}
		if err := s.Replace(snap); err != nil {
			odataerr.Write(w, r, http.StatusBadRequest, grapherr.CodeBadRequestPlain, err.Error())
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		w.Header().Set("Allow", "GET, PUT")
		odataerr.Write(w, r, http.StatusMethodNotAllowed, grapherr.CodeMethodNotAllowed, "Use GET or PUT on the state.")
	}
}

// maxSyncBody bounds a sync request; an export of 100,000 objects fits.
const maxSyncBody = 256 << 20

// serveSync is POST /_emulator/sync.
func (s *Server) serveSync(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		odataerr.Write(w, r, http.StatusMethodNotAllowed, grapherr.CodeMethodNotAllowed, "Use POST to run a sync.")
		return
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxSyncBody))
	dec.DisallowUnknownFields()
	var req SyncRequest
	if err := dec.Decode(&req); err != nil {
		odataerr.Write(w, r, http.StatusBadRequest, grapherr.CodeBadRequestPlain, "invalid sync request: "+err.Error())
		return
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		odataerr.Write(w, r, http.StatusBadRequest, grapherr.CodeBadRequestPlain, "invalid sync request: trailing data after the JSON object")
		return
	}
	resp, err := s.Sync(req)
	if err != nil {
		WriteGraphError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// serveReleaseQuarantined is POST /_emulator/release-quarantined.
func (s *Server) serveReleaseQuarantined(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		WriteGraphError(w, r, errMethod())
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"released": s.ReleaseQuarantined()})
}

// writeJSON writes the admin API's plain JSON answers.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
