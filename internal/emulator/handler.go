package emulator

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/entramatch/entra-match-operator/internal/emulator/batch"
	"github.com/entramatch/entra-match-operator/internal/emulator/identity"
	"github.com/entramatch/entra-match-operator/internal/emulator/odataerr"
)

func chain(h http.Handler, mws []func(http.Handler) http.Handler) http.Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}

// buildHandler assembles the pipeline. Around everything: request ids,
// the emulator clock for error dates, and panic recovery. Then, by path:
//
//   - /v1.0/...: fault rules, authentication, throttling, the configured
//     Graph middlewares, routing. POST /v1.0/$batch is authenticated as a
//     whole and each item is replayed through that same chain, so items
//     meet faults, authentication and throttling one by one, as on Graph.
//   - /_emulator/...: the loopback-only admin API (never faulted).
//   - anything else with three or more segments: fault rules, then the
//     identity platform endpoints.
func (s *Server) buildHandler(cfg Config) http.Handler {
	mws := append([]func(http.Handler) http.Handler{s.throttleMiddleware}, cfg.GraphMiddleware...)
	routes := chain(http.HandlerFunc(s.routeGraph), mws)
	authed := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		caller, gerr := s.identity.Authenticate(r)
		if gerr != nil {
			WriteGraphError(w, r, gerr)
			return
		}
		routes.ServeHTTP(w, r.WithContext(identity.WithCaller(r.Context(), caller)))
	})
	graphItem := s.faults.Middleware(authed)
	batches := batch.HandlerWithOptions(graphItem, "/v1.0", batch.Options{Shuffle: !s.batchInOrder})
	envelope := s.faults.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, gerr := s.identity.Authenticate(r); gerr != nil {
			WriteGraphError(w, r, gerr)
			return
		}
		batches.ServeHTTP(w, r)
	}))
	platform := s.faults.Middleware(chain(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		segs, _ := splitPath(r.URL.EscapedPath())
		s.identity.Serve(w, r, segs)
	}), cfg.IdentityMiddleware))
	admin := s.adminHandler(cfg.AdminHandlers)

	root := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		segs, err := splitPath(r.URL.EscapedPath())
		if err != nil || len(segs) == 0 {
			http.NotFound(w, r)
			return
		}
		switch {
		case strings.EqualFold(segs[0], "v1.0") && r.URL.Path == batchPath:
			envelope.ServeHTTP(w, r)
		case strings.EqualFold(segs[0], "v1.0"):
			graphItem.ServeHTTP(w, r)
		case segs[0] == "_emulator":
			admin.ServeHTTP(w, r)
		case len(segs) >= 3:
			platform.ServeHTTP(w, r)
		default:
			http.NotFound(w, r)
		}
	})
	return s.outer(root)
}

// batchPath is where Graph serves JSON batching.
const batchPath = "/v1.0/$batch"

// outer sets Graph's correlation headers on every response, logs each
// request, and turns a panic into a Graph 500 instead of a dropped
// connection.
func (s *Server) outer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		reqID := uuid.NewString()
		clientReqID := r.Header.Get("client-request-id")
		if clientReqID == "" {
			clientReqID = reqID
		}
		w.Header().Set("request-id", reqID)
		w.Header().Set("client-request-id", clientReqID)
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		r = r.WithContext(odataerr.WithClock(r.Context(), s.clock))
		defer func() {
			if p := recover(); p != nil {
				if err, ok := p.(error); ok && errors.Is(err, http.ErrAbortHandler) {
					// A deliberate abort (a fault rule dropping the connection
					// where it cannot be hijacked): let net/http reset it.
					panic(p)
				}
				s.log.Error("Request panicked", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(p))
				if !rec.wrote {
					WriteGraphError(rec, r, errors.New("panic"))
				}
			}
			s.log.Debug("Request served", "method", r.Method, "path", r.URL.Path, "status", rec.status,
				"requestId", reqID, "duration", time.Since(start))
		}()
		next.ServeHTTP(rec, r)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wrote {
		s.status = code
		s.wrote = true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// splitPath splits an escaped path into unescaped segments, so an id
// containing an encoded '/' stays one segment.
func splitPath(escaped string) ([]string, error) {
	var out []string
	for _, raw := range strings.Split(strings.Trim(escaped, "/"), "/") {
		if raw == "" {
			continue
		}
		seg, err := url.PathUnescape(raw)
		if err != nil {
			return nil, fmt.Errorf("bad path segment %q: %w", raw, err)
		}
		out = append(out, seg)
	}
	return out, nil
}

func isLoopback(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
