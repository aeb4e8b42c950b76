package emulator

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/entramatch/entra-match-operator/internal/emulator/odataerr"
)

// ErrorDetail is one entry of a Graph error's "details" array.
type ErrorDetail = odataerr.Detail

// GraphError is an error that a Graph route answers with. Handlers return
// it; the router renders it in Graph's OData error shape.
type GraphError struct {
	Status  int
	Code    string
	Message string
	Details []ErrorDetail
}

func (e *GraphError) Error() string {
	return fmt.Sprintf("graph %d %s: %s", e.Status, e.Code, e.Message)
}

func newGraphError(status int, code, message string, details ...ErrorDetail) *GraphError {
	return &GraphError{Status: status, Code: code, Message: message, Details: details}
}

// Graph error codes the emulator uses. They are the codes Graph itself
// returns for directory objects.
const (
	codeBadRequest          = "Request_BadRequest"
	codeBadRequestPlain     = "BadRequest"
	codeUnsupportedQuery    = "Request_UnsupportedQuery"
	codeNotFound            = "Request_ResourceNotFound"
	codeAuthorizationDenied = "Authorization_RequestDenied"
	codeInvalidToken        = "InvalidAuthenticationToken"
	codeObjectConflict      = "ObjectConflict"
	codeEntityTooLarge      = "Request_EntityTooLarge"
	codeMethodNotAllowed    = "Request_BadRequest"
	codeInternal            = "UnknownError"
)

func errBadRequest(format string, args ...any) *GraphError {
	return newGraphError(http.StatusBadRequest, codeBadRequest, fmt.Sprintf(format, args...))
}

func errNotFound(id string) *GraphError {
	return newGraphError(http.StatusNotFound, codeNotFound,
		fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", id))
}

func errForbidden() *GraphError {
	return newGraphError(http.StatusForbidden, codeAuthorizationDenied, "Insufficient privileges to complete the operation.")
}

func errInvalidObjectID(id string) *GraphError {
	return errBadRequest("Invalid object identifier '%s'.", id)
}

func errInvalidValue(property, resource string) *GraphError {
	return errBadRequest("Invalid value specified for property '%s' of resource '%s'.", property, resource)
}

func errNoSuchProperty(property, typeName string) *GraphError {
	return errBadRequest("Property '%s' does not exist on type '%s'.", property, typeName)
}

// errConflict is the uniqueness violation Graph reports, with the offending
// property and the conflicting object named in details.
func errConflict(property, conflictingID, conflictingType string) *GraphError {
	msg := fmt.Sprintf("Another object with the same value for property %s already exists.", property)
	return newGraphError(http.StatusBadRequest, codeBadRequest, msg,
		ErrorDetail{Code: codeObjectConflict, Message: msg, Target: property},
		ErrorDetail{Code: "ConflictingObjects", Message: msg + " Conflicting object: " + conflictingType + " " + conflictingID + ".", Target: conflictingID},
	)
}

// WriteGraphError writes err in Graph's error shape through package
// odataerr, the one error writer every emulator component uses. Errors that
// are not a *GraphError become a 500, with no internal detail leaked to the
// client.
func WriteGraphError(w http.ResponseWriter, r *http.Request, err error) {
	var ge *GraphError
	if !errors.As(err, &ge) {
		ge = newGraphError(http.StatusInternalServerError, codeInternal, "An internal server error occurred while processing the request.")
	}
	if ge.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`)
	}
	odataerr.Write(w, r, ge.Status, ge.Code, ge.Message, ge.Details...)
}
