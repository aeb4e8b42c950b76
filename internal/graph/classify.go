package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"

	"github.com/entramatch/entra-match-operator/internal/cloud"
)

// Graph error codes the classification relies on. Codes are compared
// case-insensitively: Graph is not consistent about their case.
const (
	codeObjectConflict     = "ObjectConflict"
	codeConflictingObjects = "ConflictingObjects"
	codeUnsupportedQuery   = "Request_UnsupportedQuery"
	codeResourceNotFound   = "Request_ResourceNotFound"
	codeNotFound           = "ResourceNotFound"
	codeItemNotFound       = "itemNotFound"
	codeInvalidToken       = "InvalidAuthenticationToken"
	codeRequestDenied      = "Authorization_RequestDenied"
	codeTooManyRequests    = "TooManyRequests"
	// codeRoleAssignmentDoesNotExist is PIM's 400 for an adminRemove of an
	// assignment or eligibility that is not there (the PIM error table of
	// governanceRoleAssignmentRequest): the role is already gone.
	codeRoleAssignmentDoesNotExist = "RoleAssignmentDoesNotExist"
	// A delta token Graph no longer honours: syncStateNotFound once it has
	// expired, resyncRequired when the app must reset its sync state (the
	// code table of https://learn.microsoft.com/graph/errors).
	codeSyncStateNotFound = "syncStateNotFound"
	codeResyncRequired    = "resyncRequired"
)

// onPremMasteredText is how Graph words the refusal to write a property of a
// synced user ("Unable to update the specified properties for on-premises
// mastered Directory Sync objects or objects currently undergoing migration.").
// Graph gives it no code of its own, so the message is the only signal.
const onPremMasteredText = "on-premises mastered"

// graphFailure is what classification needs from any failed call.
type graphFailure struct {
	status      int
	code        string
	message     string
	detailCodes []string
	conflictID  string
	requestID   string
	retryAfter  time.Duration
}

// classify turns any error from the SDK, azidentity or the network into a
// *cloud.Error. It is the only place that looks at Graph codes and statuses.
func classify(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	var ce *cloud.Error
	if errors.As(err, &ce) {
		if ce.Op == "" {
			ce.Op = op
		}
		return ce
	}
	c := callFrom(ctx)

	var authErr *azidentity.AuthenticationFailedError
	if errors.As(err, &authErr) {
		return classifyTokenFailure(op, c, authErr)
	}

	if out := wrongEndpoint(op, c, err); out != nil {
		return out
	}

	var odataErr *odataerrors.ODataError
	if errors.As(err, &odataErr) {
		f := fromODataError(odataErr)
		out := f.toError(op)
		// ODataError.Error() dereferences the main error; keep it only when present.
		if odataErr.GetErrorEscaped() != nil {
			out.Err = err
		} else {
			out.Err = fmt.Errorf("graph status %d without an error body", f.status)
		}
		return out
	}
	var apiErr *abs.ApiError
	if errors.As(err, &apiErr) {
		f := graphFailure{status: apiErr.ResponseStatusCode, message: apiErr.Message}
		f.fillFromHeaders(apiErr.ResponseHeaders)
		out := f.toError(op)
		out.Err = err
		return out
	}

	if isNetworkError(err) {
		return &cloud.Error{Class: cloud.ClassTransient, Op: op, Message: err.Error(), Err: err}
	}
	// The SDK failed without a typed error (for example an error body that is
	// not JSON): fall back on the last response the transport saw.
	if status, header := c.last(); status >= 400 {
		f := graphFailure{status: status, requestID: header.Get("request-id")}
		f.retryAfter, _ = parseRetryAfter(header.Get("Retry-After"), time.Now())
		out := f.toError(op)
		out.Message = err.Error()
		out.Err = err
		return out
	}
	// Unknown failures are treated as transient: the reconciler backs off and
	// retries instead of giving up on something that may be a hiccup.
	return &cloud.Error{Class: cloud.ClassTransient, Op: op, Message: err.Error(), Err: err}
}

// wrongEndpoint recognises an answer that is not Microsoft Graph's: Graph
// answers every request, failed or not, with OData JSON (or nothing, 204).
// A web page or plain text means the base URL points somewhere else (a
// missing or extra /v1.0, a portal address), which a person must fix; it
// is not a missing tenant or user. Throttling and server errors keep their
// own class: gateways in front of Graph answer those in their own format.
func wrongEndpoint(op string, c *call, err error) *cloud.Error {
	status, header := c.last()
	if status == 0 || header == nil || status == http.StatusTooManyRequests || status >= 500 || isNetworkError(err) {
		return nil
	}
	ct := strings.ToLower(header.Get("Content-Type"))
	if ct == "" && status == http.StatusNoContent || strings.Contains(ct, "json") {
		return nil
	}
	if ct == "" {
		ct = "no content type"
	}
	return &cloud.Error{Class: cloud.ClassWrongEndpoint, Op: op, Status: status, Err: err,
		Message: fmt.Sprintf("the Graph endpoint answered %d with %s, not Microsoft Graph's JSON: check the Graph URL", status, ct)}
}

func fromODataError(e *odataerrors.ODataError) graphFailure {
	f := graphFailure{status: e.GetStatusCode()}
	f.fillFromHeaders(e.GetResponseHeaders())
	main := e.GetErrorEscaped()
	if main == nil {
		return f
	}
	f.code = deref(main.GetCode())
	f.message = deref(main.GetMessage())
	if inner := main.GetInnerError(); inner != nil {
		if id := deref(inner.GetRequestId()); id != "" {
			f.requestID = id
		}
	}
	for _, d := range main.GetDetails() {
		if d == nil {
			continue
		}
		code := deref(d.GetCode())
		f.detailCodes = append(f.detailCodes, code)
		if strings.EqualFold(code, codeConflictingObjects) && f.conflictID == "" {
			f.conflictID = conflictingObjectID(deref(d.GetTarget()), deref(d.GetMessage()))
		}
	}
	return f
}

func (f *graphFailure) fillFromHeaders(h *abs.ResponseHeaders) {
	if h == nil {
		return
	}
	if v := h.Get("request-id"); len(v) > 0 {
		f.requestID = v[0]
	}
	if v := h.Get("Retry-After"); len(v) > 0 {
		f.retryAfter, _ = parseRetryAfter(v[0], time.Now())
	}
}

func (f graphFailure) toError(op string) *cloud.Error {
	e := &cloud.Error{
		Class:     classOf(f.status, f.code, f.message, f.detailCodes),
		Status:    f.status,
		Code:      f.code,
		Message:   f.message,
		RequestID: f.requestID,
		Op:        op,
	}
	if e.Class == cloud.ClassConflict {
		e.ConflictingObjectID = f.conflictID
	}
	if e.Class == cloud.ClassThrottled || e.Class == cloud.ClassTransient {
		e.RetryAfter = f.retryAfter
	}
	return e
}

// classOf decides the class of a Graph failure. The order matters: the
// specific Graph codes win over the generic HTTP status they come with.
func classOf(status int, code, message string, detailCodes []string) cloud.Class {
	is := func(want string) bool {
		if strings.EqualFold(code, want) {
			return true
		}
		for _, d := range detailCodes {
			if strings.EqualFold(d, want) {
				return true
			}
		}
		return false
	}
	switch {
	case is(codeObjectConflict):
		return cloud.ClassConflict
	case strings.Contains(strings.ToLower(message), onPremMasteredText):
		return cloud.ClassOnPremMastered
	case is(codeUnsupportedQuery):
		return cloud.ClassUnsupportedQuery
	// 410 is how delta asks for a full resync (delta-query-overview,
	// "Synchronization reset"); no other call the client makes answers it.
	case is(codeSyncStateNotFound) || is(codeResyncRequired) || status == http.StatusGone:
		return cloud.ClassDeltaExpired
	case status == http.StatusTooManyRequests || is(codeTooManyRequests):
		return cloud.ClassThrottled
	case status == http.StatusUnauthorized || is(codeInvalidToken):
		return cloud.ClassUnauthenticated
	case status == http.StatusForbidden || is(codeRequestDenied):
		return cloud.ClassPermission
	case status == http.StatusNotFound || is(codeResourceNotFound) || is(codeNotFound) || is(codeItemNotFound) ||
		is(codeRoleAssignmentDoesNotExist):
		return cloud.ClassNotFound
	case status == http.StatusConflict:
		return cloud.ClassConflict
	case status == http.StatusRequestTimeout || status >= 500:
		return cloud.ClassTransient
	case status >= 400:
		return cloud.ClassInvalid
	}
	return cloud.ClassTransient
}

var guidPattern = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)

// conflictingObjectID extracts the object id from a ConflictingObjects
// detail, whose target reads "User_<object id>" in the shape Microsoft
// documents for ADSyncTools (reference-connect-adsynctools); the message is
// searched as well in case the id is carried there.
func conflictingObjectID(target, message string) string {
	if id := guidPattern.FindString(target); id != "" {
		return strings.ToLower(id)
	}
	return strings.ToLower(guidPattern.FindString(message))
}

// classifyTokenFailure maps a failed token request. The token endpoint's own
// status decides: throttling and server errors are not a credential problem.
func classifyTokenFailure(op string, c *call, e *azidentity.AuthenticationFailedError) *cloud.Error {
	out := &cloud.Error{Class: cloud.ClassUnauthenticated, Op: op, Err: e}
	resp := e.RawResponse
	if resp == nil {
		if netErr := c.tokenNetworkError(); netErr != nil {
			out.Class = cloud.ClassTransient
			out.Message = "token endpoint unreachable: " + netErr.Error()
			return out
		}
		out.Message = "token request failed"
		return out
	}
	body, _ := runtime.Payload(resp)
	return tokenFailure(op, resp, body, e)
}

// tokenFailure classifies an error answer of the token endpoint: its
// status decides, since throttling and server errors are not a credential
// problem.
func tokenFailure(op string, resp *http.Response, body []byte, err error) *cloud.Error {
	out := &cloud.Error{Class: cloud.ClassUnauthenticated, Op: op, Status: resp.StatusCode,
		RequestID: resp.Header.Get("x-ms-request-id"), Err: err}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		out.Class = cloud.ClassThrottled
		out.RetryAfter, _ = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	case resp.StatusCode >= 500:
		out.Class = cloud.ClassTransient
	}
	out.Code, out.Message = tokenErrorText(resp.StatusCode, body)
	return out
}

// tokenErrorText reads the identity platform's error body
// ({"error":"invalid_client","error_description":"AADSTS7000215: ..."}).
// Only the first sentence block of the description is kept: the rest is
// trace and correlation ids. The body never contains the client's secret.
func tokenErrorText(status int, body []byte) (code, message string) {
	fallback := fmt.Sprintf("token endpoint returned %d", status)
	var te struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if len(body) == 0 || json.Unmarshal(body, &te) != nil || te.Error == "" {
		return "", fallback
	}
	desc, _, _ := strings.Cut(te.Description, "\n")
	desc, _, _ = strings.Cut(desc, " Trace ID:")
	return te.Error, strings.TrimSpace(desc)
}

func isNetworkError(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return true
	}
	var netErr net.Error
	return errors.As(err, &netErr)
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
