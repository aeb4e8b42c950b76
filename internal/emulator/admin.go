package emulator

import (
	"encoding/json"
	"net/http"
	"strings"
)

// adminHandler serves /_emulator/: the built-in state, sync and faults
// endpoints and any handlers mounted through Config.AdminHandlers. Only loopback callers are
// served: the admin API replaces the whole tenant without authentication.
func (s *Server) adminHandler(extra map[string]http.Handler) http.Handler {
	handlers := map[string]http.Handler{
		"state":  http.HandlerFunc(s.serveState),
		"sync":   http.HandlerFunc(s.serveSync),
		"faults": s.faults.Handler(),
	}
	// A configured handler may replace a built-in one of the same name.
	for name, h := range extra {
		handlers[strings.Trim(name, "/")] = h
	}
	mux := http.NewServeMux()
	for name, h := range handlers {
		mux.Handle("/_emulator/"+name, h)
		if name != "state" && name != "sync" && name != "faults" {
			mux.Handle("/_emulator/"+name+"/", h)
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isLoopback(r.RemoteAddr) {
			http.Error(w, "the emulator admin API serves loopback callers only", http.StatusForbidden)
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
			http.Error(w, "decoding snapshot: "+err.Error(), http.StatusBadRequest)
			return
		}
		if err := s.Replace(snap); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		w.Header().Set("Allow", "GET, PUT")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}
