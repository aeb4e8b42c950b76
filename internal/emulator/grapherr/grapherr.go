// Package grapherr holds GraphError, the error every emulator surface
// answers a failed Graph request with, the error codes Graph returns for
// directory objects, and the errors it gives for them. The tenant state
// reports uniqueness violations in these terms too, so the package sits
// below all of them; Write renders one through package odataerr.
package grapherr

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/entramatch/entra-match-operator/internal/emulator/odataerr"
)

// GraphError is an error that a Graph route answers with. Handlers return
// it; the router renders it in Graph's OData error shape.
type GraphError struct {
	Status  int
	Code    string
	Message string
	Details []odataerr.Detail
}

func (e *GraphError) Error() string {
	return fmt.Sprintf("graph %d %s: %s", e.Status, e.Code, e.Message)
}

// New returns the GraphError with status, code, message and details.
func New(status int, code, message string, details ...odataerr.Detail) *GraphError {
	return &GraphError{Status: status, Code: code, Message: message, Details: details}
}

// Graph error codes the emulator uses. They are the codes Graph itself
// returns for directory objects.
const (
	CodeBadRequest          = "Request_BadRequest"
	CodeBadRequestPlain     = "BadRequest"
	CodeUnsupportedQuery    = "Request_UnsupportedQuery"
	CodeNotFound            = "Request_ResourceNotFound"
	CodeAuthorizationDenied = "Authorization_RequestDenied"
	CodeInvalidToken        = "InvalidAuthenticationToken"
	CodeObjectConflict      = "ObjectConflict"
	CodeEntityTooLarge      = "Request_EntityTooLarge"
	CodeMethodNotAllowed    = "Request_BadRequest"
	CodeInternal            = "UnknownError"
	// CodeSyncStateNotFound: a delta token Graph no longer holds (the code
	// table of https://learn.microsoft.com/en-us/graph/errors).
	CodeSyncStateNotFound = "syncStateNotFound"
)

// BadRequest is a 400 Request_BadRequest with a formatted message.
func BadRequest(format string, args ...any) *GraphError {
	return New(http.StatusBadRequest, CodeBadRequest, fmt.Sprintf(format, args...))
}

// NotFound is Graph's 404 for a directory object id that names nothing.
func NotFound(id string) *GraphError {
	return New(http.StatusNotFound, CodeNotFound,
		fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", id))
}

// Forbidden is Graph's 403 for a caller without the privileges a request
// needs.
func Forbidden() *GraphError {
	return New(http.StatusForbidden, CodeAuthorizationDenied, "Insufficient privileges to complete the operation.")
}

// InvalidObjectID is the 400 for an id that is not a GUID.
func InvalidObjectID(id string) *GraphError {
	return BadRequest("Invalid object identifier '%s'.", id)
}

// InvalidValue is the 400 for a property value Graph would not store.
func InvalidValue(property, resource string) *GraphError {
	return BadRequest("Invalid value specified for property '%s' of resource '%s'.", property, resource)
}

// NoSuchProperty is the 400 for a property name the type does not have.
func NoSuchProperty(property, typeName string) *GraphError {
	return BadRequest("Property '%s' does not exist on type '%s'.", property, typeName)
}

// Conflict is the uniqueness violation Graph reports, with the offending
// property and the conflicting object named in details.
func Conflict(property, conflictingID, conflictingType string) *GraphError {
	msg := fmt.Sprintf("Another object with the same value for property %s already exists.", property)
	return New(http.StatusBadRequest, CodeBadRequest, msg,
		odataerr.Detail{Code: CodeObjectConflict, Message: msg, Target: property},
		odataerr.Detail{Code: "ConflictingObjects", Message: msg + " Conflicting object: " + conflictingType + " " + conflictingID + ".", Target: conflictingID},
	)
}

// Write writes err in Graph's error shape through package odataerr, the
// one error writer every emulator component uses. Errors that are not a
// *GraphError become a 500, with no internal detail leaked to the client.
func Write(w http.ResponseWriter, r *http.Request, err error) {
	var ge *GraphError
	if !errors.As(err, &ge) {
		ge = New(http.StatusInternalServerError, CodeInternal, "An internal server error occurred while processing the request.")
	}
	if ge.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`)
	}
	odataerr.Write(w, r, ge.Status, ge.Code, ge.Message, ge.Details...)
}
