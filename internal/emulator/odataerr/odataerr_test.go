package odataerr

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestWriteShapesGraphError(t *testing.T) {
	// doc: https://learn.microsoft.com/graph/errors (error resource type)
	tests := []struct {
		name     string
		clientID string
		details  []Detail
		want     Body
		wantHdr  string
	}{
		{
			name:     "echoes client-request-id",
			clientID: "c-1",
			want:     Body{Error: Error{Code: "BadRequest", Message: "bad", InnerError: Inner{ClientRequestID: "c-1"}}},
			wantHdr:  "c-1",
		},
		{
			name:    "details kept, no client id",
			details: []Detail{{Code: "x", Message: "y", Target: "z"}},
			want: Body{Error: Error{Code: "BadRequest", Message: "bad",
				Details: []Detail{{Code: "x", Message: "y", Target: "z"}}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/v1.0/users", nil)
			if tt.clientID != "" {
				r.Header.Set("client-request-id", tt.clientID)
			}
			rec := httptest.NewRecorder()
			Write(rec, r, http.StatusBadRequest, "BadRequest", "bad", tt.details...)
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("status = %d", rec.Code)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("content-type = %q", ct)
			}
			if got := rec.Header().Get("client-request-id"); got != tt.wantHdr {
				t.Errorf("client-request-id header = %q, want %q", got, tt.wantHdr)
			}
			var got Body
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatalf("body is not JSON: %v", err)
			}
			if !uuidV4.MatchString(got.Error.InnerError.RequestID) {
				t.Errorf("request-id %q is not a v4 UUID", got.Error.InnerError.RequestID)
			}
			if rec.Header().Get("request-id") != got.Error.InnerError.RequestID {
				t.Errorf("request-id header and body differ")
			}
			if _, err := time.Parse(dateLayout, got.Error.InnerError.Date); err != nil {
				t.Errorf("date %q: %v", got.Error.InnerError.Date, err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreFields(Inner{}, "Date", "RequestID")); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewUsesGivenClockInUTC(t *testing.T) {
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.FixedZone("x", 3600))
	b := New(nil, now, "c", "m")
	if b.Error.InnerError.Date != "2026-03-04T04:06:07" {
		t.Errorf("date = %q", b.Error.InnerError.Date)
	}
	if b.Error.InnerError.ClientRequestID != "" {
		t.Errorf("client id without request = %q", b.Error.InnerError.ClientRequestID)
	}
}

func TestRawJSONKeys(t *testing.T) {
	// The SDK's parser is case-sensitive on these keys.
	rec := httptest.NewRecorder()
	Write(rec, httptest.NewRequest(http.MethodGet, "/", nil), 500, "generalException", "boom")
	var raw map[string]map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	inner, ok := raw["error"]["innerError"].(map[string]any)
	if !ok {
		t.Fatalf("no innerError object in %s", rec.Body.String())
	}
	for _, k := range []string{"date", "request-id", "client-request-id"} {
		if _, ok := inner[k]; !ok {
			t.Errorf("innerError lacks %q", k)
		}
	}
	if _, ok := raw["error"]["details"]; ok {
		t.Errorf("empty details should be omitted")
	}
}

func TestWriteKeepsIDsAlreadyOnTheResponse(t *testing.T) {
	// The emulator stamps request-id and client-request-id before routing; an error written
	// later must name the same ids in its body.
	r := httptest.NewRequest(http.MethodGet, "/v1.0/users", nil)
	clock := func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }
	r = r.WithContext(WithClock(r.Context(), clock))
	rec := httptest.NewRecorder()
	rec.Header().Set("request-id", "rid-1")
	rec.Header().Set("client-request-id", "cid-1")
	Write(rec, r, http.StatusNotFound, "Request_ResourceNotFound", "gone")
	var got Body
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := Inner{Date: "2026-01-02T03:04:05", RequestID: "rid-1", ClientRequestID: "cid-1"}
	if diff := cmp.Diff(want, got.Error.InnerError); diff != "" {
		t.Errorf("innerError (-want +got):\n%s", diff)
	}
	if rec.Header().Get("request-id") != "rid-1" {
		t.Errorf("request-id header changed to %q", rec.Header().Get("request-id"))
	}
}
