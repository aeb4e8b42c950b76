package emulator

import (
	"fmt"
	"net/http"

	"github.com/entramatch/entra-match-operator/internal/emulator/grapherr"
)

// routeGraph dispatches an authenticated /v1.0 request. Literal path
// segments match case-insensitively, as Graph's do, and type casts may use
// the short "graph." namespace alias that msgraph-sdk-go sends.
func (s *Server) routeGraph(w http.ResponseWriter, r *http.Request) {
	segs, err := splitPath(r.URL.EscapedPath())
	if err != nil {
		WriteGraphError(w, r, grapherr.BadRequest("The request URI is not valid: %v", err))
		return
	}
	// The service's own timer tasks run whatever the client does; the
	// emulator catches up with them before answering.
	s.releaseIfDue()
	if err := s.dispatch(w, r, segs[1:]); err != nil {
		WriteGraphError(w, r, err)
	}
}

func errMethod() error {
	return grapherr.New(http.StatusMethodNotAllowed, grapherr.CodeMethodNotAllowed, "Specified HTTP method is not allowed for the request target.")
}

func errSegment(seg string) error {
	return grapherr.New(http.StatusBadRequest, grapherr.CodeBadRequestPlain, fmt.Sprintf("Resource not found for the segment '%s'.", seg))
}
