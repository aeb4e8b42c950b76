package graph

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"

	"github.com/entramatch/entra-match-operator/internal/cloud"
)

const (
	docErrors       = "https://learn.microsoft.com/graph/errors"
	docThrottling   = "https://learn.microsoft.com/graph/throttling"
	docUserUpdate   = "https://learn.microsoft.com/graph/api/user-update"
	docAdvanced     = "https://learn.microsoft.com/graph/aad-advanced-queries"
	docADSyncTools  = "https://learn.microsoft.com/entra/identity/hybrid/connect/reference-connect-adsynctools"
	docTokenErrors  = "https://learn.microsoft.com/entra/identity-platform/reference-error-codes"
	onPremMastered  = "Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration."
	immutableIDDupe = "Another object with the same value for property onPremisesImmutableId already exists."
)

func TestClassOf(t *testing.T) {
	tests := []struct {
		name    string
		doc     string
		status  int
		code    string
		message string
		details []string
		want    cloud.Class
	}{
		{"not found", docErrors, 404, "Request_ResourceNotFound", "Resource 'x' does not exist", nil, cloud.ClassNotFound},
		{"not found code on 400", docErrors, 400, "Request_ResourceNotFound", "", nil, cloud.ClassNotFound},
		// PIM's error table (governanceRoleAssignmentRequest, "Error codes"):
		// removing an assignment that does not exist is a 400, and means the
		// role is already gone.
		{"PIM: role assignment does not exist", "https://learn.microsoft.com/graph/api/governanceroleassignmentrequest-post?view=graph-rest-beta", 400,
			"RoleAssignmentDoesNotExist", "The Role assignment does not exist.", nil, cloud.ClassNotFound},
		{"object conflict top-level", docUserUpdate, 400, "ObjectConflict", immutableIDDupe, nil, cloud.ClassConflict},
		{"object conflict in details", docADSyncTools, 400, "Request_BadRequest", immutableIDDupe, []string{"ObjectConflict", "ConflictingObjects"}, cloud.ClassConflict},
		{"on-premises mastered", docUserUpdate, 400, "Request_BadRequest", onPremMastered, nil, cloud.ClassOnPremMastered},
		{"forbidden", docErrors, 403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.", nil, cloud.ClassPermission},
		{"unauthorized", docErrors, 401, "InvalidAuthenticationToken", "Access token is empty.", nil, cloud.ClassUnauthenticated},
		{"throttled", docThrottling, 429, "TooManyRequests", "Too many requests", nil, cloud.ClassThrottled},
		{"unsupported query", docAdvanced, 400, "Request_UnsupportedQuery", "Unsupported or invalid query filter clause specified for property 'onPremisesImmutableId'", nil, cloud.ClassUnsupportedQuery},
		{"other bad request", docErrors, 400, "Request_BadRequest", "Property 'x' does not exist", nil, cloud.ClassInvalid},
		{"http conflict", docErrors, 409, "Conflict", "", nil, cloud.ClassConflict},
		{"server error", docErrors, 500, "generalException", "", nil, cloud.ClassTransient},
		{"service unavailable", docErrors, 503, "serviceNotAvailable", "", nil, cloud.ClassTransient},
		{"gateway timeout", docErrors, 504, "", "", nil, cloud.ClassTransient},
		{"request timeout", docErrors, 408, "", "", nil, cloud.ClassTransient},
		{"case-insensitive code", docErrors, 400, "objectconflict", "", nil, cloud.ClassConflict},
		// An expired delta token is a 400 syncStateNotFound (errors, code
		// table; delta-query-overview, "Token duration"), a resync request a
		// 410 (delta-query-overview, "Synchronization reset").
		{"expired delta token", docErrors, 400, "syncStateNotFound", "The sync state generation is not found.", nil, cloud.ClassDeltaExpired},
		{"resync required", docErrors, 400, "resyncRequired", "", nil, cloud.ClassDeltaExpired},
		{"delta reset", docDeltaOverview, 410, "", "", nil, cloud.ClassDeltaExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := classOf(tt.status, tt.code, tt.message, tt.details); got != tt.want {
				t.Errorf("classOf(%d, %q) = %s, want %s (doc: %s)", tt.status, tt.code, got, tt.want, tt.doc)
			}
		})
	}
}

func TestConflictingObjectID(t *testing.T) {
	tests := []struct {
		name, target, message, want string
	}{
		{"target as documented", "User_0A1B2C3D-1111-2222-3333-444455556666", immutableIDDupe, "0a1b2c3d-1111-2222-3333-444455556666"},
		{"id in message", "", "Conflicting object: 0a1b2c3d-1111-2222-3333-444455556666", "0a1b2c3d-1111-2222-3333-444455556666"},
		{"none", "onPremisesImmutableId", immutableIDDupe, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := conflictingObjectID(tt.target, tt.message); got != tt.want {
				t.Errorf("got %q, want %q (doc: %s)", got, tt.want, docADSyncTools)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"7", 7 * time.Second, true},
		{"0", 0, true},
		{"1.5", 1500 * time.Millisecond, true},
		{now.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second, true},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0, true},
		{"", 0, false},
		{"soon", 0, false},
		{"-3", 0, false},
		{"NaN", 0, false},
		{"1e300", maxRetryAfter, true},
		{"+Inf", maxRetryAfter, true},
		{now.Add(48 * time.Hour).Format(http.TimeFormat), maxRetryAfter, true},
		// A wait of hours is capped at ten minutes.
		{"86400", 10 * time.Minute, true},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v (doc: %s)", tt.in, got, ok, tt.want, tt.wantOK, docThrottling)
		}
	}
}

// A Graph error without an "error" object must not panic anywhere.
func TestClassifyODataErrorWithoutBody(t *testing.T) {
	e := odataerrors.NewODataError()
	e.SetStatusCode(502)
	err := classify(context.Background(), "GetUser", e)
	if got := cloud.ClassOf(err); got != cloud.ClassTransient {
		t.Fatalf("class = %s, want Transient", got)
	}
	_ = err.Error()
	var ce *cloud.Error
	if !errors.As(err, &ce) || ce.Err == nil {
		t.Fatalf("want a cloud.Error with an underlying error, got %#v", err)
	}
	_ = ce.Err.Error()
}

func TestClassifyOverHTTP(t *testing.T) {
	conflictID := "0a1b2c3d-1111-2222-3333-444455556666"
	tests := []struct {
		name     string
		doc      string
		respond  func(w http.ResponseWriter)
		want     cloud.Error
		attempts int
	}{
		{
			name: "not found",
			doc:  docErrors,
			respond: func(w http.ResponseWriter) {
				graphError(w, 404, "Request_ResourceNotFound", "Resource 'u' does not exist.")
			},
			want:     cloud.Error{Class: cloud.ClassNotFound, Status: 404, Code: "Request_ResourceNotFound", Message: "Resource 'u' does not exist.", RequestID: "inner-Request_ResourceNotFound"},
			attempts: 1,
		},
		{
			name: "object conflict with conflicting object",
			doc:  docADSyncTools,
			respond: func(w http.ResponseWriter) {
				graphError(w, 400, "Request_BadRequest", immutableIDDupe,
					detail{Code: "ObjectConflict", Message: immutableIDDupe, Target: "onPremisesImmutableId"},
					detail{Code: "ConflictingObjects", Message: immutableIDDupe, Target: "User_" + conflictID})
			},
			want:     cloud.Error{Class: cloud.ClassConflict, Status: 400, Code: "Request_BadRequest", Message: immutableIDDupe, RequestID: "inner-Request_BadRequest", ConflictingObjectID: conflictID},
			attempts: 1,
		},
		{
			name:     "on-premises mastered",
			doc:      docUserUpdate,
			respond:  func(w http.ResponseWriter) { graphError(w, 400, "Request_BadRequest", onPremMastered) },
			want:     cloud.Error{Class: cloud.ClassOnPremMastered, Status: 400, Code: "Request_BadRequest", Message: onPremMastered, RequestID: "inner-Request_BadRequest"},
			attempts: 1,
		},
		{
			name: "permission",
			doc:  docErrors,
			respond: func(w http.ResponseWriter) {
				graphError(w, 403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
			},
			want:     cloud.Error{Class: cloud.ClassPermission, Status: 403, Code: "Authorization_RequestDenied", Message: "Insufficient privileges to complete the operation.", RequestID: "inner-Authorization_RequestDenied"},
			attempts: 1,
		},
		{
			name: "throttled is not retried and keeps Retry-After",
			doc:  docThrottling,
			respond: func(w http.ResponseWriter) {
				w.Header().Set("Retry-After", "7")
				graphError(w, 429, "TooManyRequests", "Too many requests.")
			},
			want:     cloud.Error{Class: cloud.ClassThrottled, Status: 429, Code: "TooManyRequests", Message: "Too many requests.", RequestID: "inner-TooManyRequests", RetryAfter: 7 * time.Second},
			attempts: 1,
		},
		{
			name: "unsupported query",
			doc:  docAdvanced,
			respond: func(w http.ResponseWriter) {
				graphError(w, 400, "Request_UnsupportedQuery", "Unsupported Query.")
			},
			want:     cloud.Error{Class: cloud.ClassUnsupportedQuery, Status: 400, Code: "Request_UnsupportedQuery", Message: "Unsupported Query.", RequestID: "inner-Request_UnsupportedQuery"},
			attempts: 1,
		},
		{
			name: "invalid",
			doc:  docUserUpdate,
			respond: func(w http.ResponseWriter) {
				graphError(w, 400, "Request_BadRequest", "Invalid value specified for property.")
			},
			want:     cloud.Error{Class: cloud.ClassInvalid, Status: 400, Code: "Request_BadRequest", Message: "Invalid value specified for property.", RequestID: "inner-Request_BadRequest"},
			attempts: 1,
		},
		{
			name: "service unavailable is retried twice on GET",
			doc:  docErrors,
			respond: func(w http.ResponseWriter) {
				w.Header().Set("Retry-After", "0")
				graphError(w, 503, "serviceNotAvailable", "Service unavailable.")
			},
			want:     cloud.Error{Class: cloud.ClassTransient, Status: 503, Code: "serviceNotAvailable", Message: "Service unavailable.", RequestID: "inner-serviceNotAvailable"},
			attempts: 1 + maxTransientRetries,
		},
		{
			name: "long Retry-After on 503 goes back to the caller",
			doc:  docThrottling,
			respond: func(w http.ResponseWriter) {
				w.Header().Set("Retry-After", "60")
				graphError(w, 503, "serviceNotAvailable", "Service unavailable.")
			},
			want:     cloud.Error{Class: cloud.ClassTransient, Status: 503, Code: "serviceNotAvailable", Message: "Service unavailable.", RequestID: "inner-serviceNotAvailable", RetryAfter: time.Minute},
			attempts: 1,
		},
		{
			name: "non-JSON 502 from a proxy",
			doc:  docErrors,
			respond: func(w http.ResponseWriter) {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(502)
				_, _ = w.Write([]byte("<html>bad gateway</html>"))
			},
			want:     cloud.Error{Class: cloud.ClassTransient, Status: 502},
			attempts: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hits atomic.Int32
			f := newFakeCloud(t, func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				tt.respond(w)
			})
			_, err := f.client(nil).GetUser(context.Background(), "u@contoso.com")
			var got *cloud.Error
			if !errors.As(err, &got) {
				t.Fatalf("want *cloud.Error, got %T %v", err, err)
			}
			want := tt.want
			want.Op = "GetUser"
			opts := []cmp.Option{cmpopts.IgnoreFields(cloud.Error{}, "Err")}
			if tt.want.Message == "" {
				opts = append(opts, cmpopts.IgnoreFields(cloud.Error{}, "Message", "Code", "RequestID"))
			}
			if diff := cmp.Diff(&want, got, opts...); diff != "" {
				t.Errorf("error mismatch (-want +got), doc %s:\n%s", tt.doc, diff)
			}
			if int(hits.Load()) != tt.attempts {
				t.Errorf("Graph saw %d attempts, want %d", hits.Load(), tt.attempts)
			}
			if !errors.Is(err, &cloud.Error{Class: tt.want.Class}) {
				t.Errorf("errors.Is(err, class %s) = false", tt.want.Class)
			}
		})
	}
}

// A POST that got a 503 may have been applied at the gateway: it is not retried.
func TestPostIsNotRetried(t *testing.T) {
	var hits atomic.Int32
	f := newFakeCloud(t, func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Retry-After", "0")
		graphError(w, 503, "serviceNotAvailable", "Service unavailable.")
	})
	_, err := f.client(nil).CreateRoleAssignment(context.Background(), cloud.RoleAssignment{PrincipalID: "p", RoleDefinitionID: "r", DirectoryScopeID: "/"})
	if cloud.ClassOf(err) != cloud.ClassTransient {
		t.Fatalf("class = %s, want Transient (err %v)", cloud.ClassOf(err), err)
	}
	if hits.Load() != 1 {
		t.Errorf("POST attempted %d times, want 1", hits.Load())
	}
}

func TestTokenFailures(t *testing.T) {
	t.Run("wrong secret", func(t *testing.T) {
		f := newFakeCloud(t, func(w http.ResponseWriter, r *http.Request) { t.Error("Graph must not be called without a token") })
		cfg := f.config()
		cfg.Credential.ClientSecret = "wrong"
		c, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.GetUser(context.Background(), "u@contoso.com")
		var ce *cloud.Error
		if !errors.As(err, &ce) {
			t.Fatalf("want *cloud.Error, got %v", err)
		}
		want := &cloud.Error{Class: cloud.ClassUnauthenticated, Status: 401, Code: "invalid_client", Message: "AADSTS7000215: Invalid client secret provided.", Op: "GetUser"}
		if diff := cmp.Diff(want, ce, cmpopts.IgnoreFields(cloud.Error{}, "Err", "RequestID")); diff != "" {
			t.Errorf("mismatch (-want +got), doc %s:\n%s", docTokenErrors, diff)
		}
		if strings.Contains(ce.Error(), "wrong") || strings.Contains(ce.Message, fakeSecret) {
			t.Errorf("error text leaks the secret: %q", ce.Error())
		}
	})
	t.Run("token endpoint unreachable", func(t *testing.T) {
		f := newFakeCloud(t, func(w http.ResponseWriter, r *http.Request) {})
		cfg := f.config()
		cfg.Endpoints.AuthorityURL = "https://127.0.0.1:1" // nothing listens on port 1
		c, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.GetUser(context.Background(), "u@contoso.com")
		if got := cloud.ClassOf(err); got != cloud.ClassTransient {
			t.Errorf("class = %s, want Transient: an unreachable token endpoint is not a bad credential (err %v)", got, err)
		}
	})
}

// A Graph URL pointing somewhere else (a portal page, a missing /v1.0)
// answers with HTML or plain text: that is a wrong endpoint for a person to
// fix, whatever its status, never a missing tenant or user.
func TestNonGraphAnswerIsWrongEndpoint(t *testing.T) {
	for _, c := range []struct {
		status int
		ctype  string
		body   string
	}{
		{404, "text/html; charset=utf-8", "<html><body>Not Found</body></html>"},
		{200, "text/plain", "hello"},
		{400, "", "bad"},
	} {
		f := newFakeCloud(t, func(w http.ResponseWriter, r *http.Request) {
			if c.ctype != "" {
				w.Header().Set("Content-Type", c.ctype)
			}
			w.WriteHeader(c.status)
			_, _ = w.Write([]byte(c.body))
		})
		_, err := f.client(nil).Organization(context.Background())
		if cloud.ClassOf(err) != cloud.ClassWrongEndpoint || !strings.Contains(err.Error(), "check the Graph URL") {
			t.Errorf("%d %q: %v, want WrongEndpoint", c.status, c.ctype, err)
		}
	}
	// Graph's own JSON errors keep their class.
	f := newFakeCloud(t, func(w http.ResponseWriter, r *http.Request) {
		graphError(w, 404, "Request_ResourceNotFound", "Resource not found.")
	})
	if _, err := f.client(nil).Organization(context.Background()); cloud.ClassOf(err) != cloud.ClassNotFound {
		t.Errorf("a Graph 404 = %v, want NotFound", err)
	}
}
