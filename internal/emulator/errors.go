package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// ErrorDetail is one entry of a Graph error's "details" array.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message,omitempty"`
	Target  string `json:"target,omitempty"`
}

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

type innerError struct {
	Date            string `json:"date"`
	RequestID       string `json:"request-id"`
	ClientRequestID string `json:"client-request-id"`
}

type errorBody struct {
	Error struct {
		Code       string        `json:"code"`
		Message    string        `json:"message"`
		InnerError innerError    `json:"innerError"`
		Details    []ErrorDetail `json:"details,omitempty"`
	} `json:"error"`
}

// WriteGraphError writes err in Graph's error shape. Errors that are not a
// *GraphError become a 500, with no internal detail leaked to the client.
// Middlewares added through Config (throttling, fault injection) use it so
// every error the emulator emits has the same shape.
func WriteGraphError(w http.ResponseWriter, now time.Time, err error) {
	var ge *GraphError
	if !errors.As(err, &ge) {
		ge = newGraphError(http.StatusInternalServerError, codeInternal, "An internal server error occurred while processing the request.")
	}
	var body errorBody
	body.Error.Code = ge.Code
	body.Error.Message = ge.Message
	body.Error.Details = ge.Details
	body.Error.InnerError = innerError{
		Date:            now.UTC().Format("2006-01-02T15:04:05"),
		RequestID:       w.Header().Get("request-id"),
		ClientRequestID: w.Header().Get("client-request-id"),
	}
	w.Header().Set("Content-Type", "application/json")
	if ge.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`)
	}
	w.WriteHeader(ge.Status)
	_ = json.NewEncoder(w).Encode(body)
}
