package emulator

import (
	"net/http"

	"github.com/entramatch/entra-match-operator/internal/emulator/grapherr"
	"github.com/entramatch/entra-match-operator/internal/emulator/odataerr"
)

// ErrorDetail is one entry of a Graph error's "details" array.
type ErrorDetail = odataerr.Detail

// GraphError is an error that a Graph route answers with. Handlers return
// it; the router renders it in Graph's OData error shape.
type GraphError = grapherr.GraphError

// WriteGraphError writes err in Graph's error shape through package
// odataerr, the one error writer every emulator component uses. Errors that
// are not a *GraphError become a 500, with no internal detail leaked to the
// client.
func WriteGraphError(w http.ResponseWriter, r *http.Request, err error) {
	grapherr.Write(w, r, err)
}
