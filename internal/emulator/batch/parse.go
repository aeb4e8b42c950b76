// Package batch serves Microsoft Graph JSON batching (POST /$batch) in front of the emulated
// Graph handler, as documented in https://learn.microsoft.com/graph/json-batching: up to 20
// requests, unique ids (not case-sensitive), dependsOn ordering with 424 Failed Dependency, and
// every item executed through the inner handler so authentication, throttling and errors apply
// per item.
package batch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// MaxRequests is Graph's limit on requests in one batch.
const MaxRequests = 20

// Request is one item of a batch request body.
type Request struct {
	ID        string            `json:"id"`
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers,omitempty"`
	Body      json.RawMessage   `json:"body,omitempty"`
	DependsOn []string          `json:"dependsOn,omitempty"`
}

// Response is one item of a batch response body.
type Response struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    json.RawMessage   `json:"body,omitempty"`
}

type requestBody struct {
	Requests *[]Request `json:"requests"`
}

type responseBody struct {
	Responses []Response `json:"responses"`
}

// Parse decodes and validates a batch request body. Every error it returns is the caller's
// fault and maps to 400 Bad Request.
func Parse(data []byte) ([]Request, error) {
	var body requestBody
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&body); err != nil {
		return nil, fmt.Errorf("invalid batch payload: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("invalid batch payload: trailing data after the JSON object")
	}
	if body.Requests == nil {
		return nil, fmt.Errorf("invalid batch payload: the requests property is required")
	}
	reqs := *body.Requests
	switch {
	case len(reqs) == 0:
		return nil, fmt.Errorf("invalid batch payload: the batch contains no requests")
	case len(reqs) > MaxRequests:
		return nil, fmt.Errorf("the batch contains %d requests; at most %d are allowed", len(reqs), MaxRequests)
	}
	ids := make(map[string]bool, len(reqs))
	for i, r := range reqs {
		if r.ID == "" {
			return nil, fmt.Errorf("request %d has no id", i)
		}
		key := strings.ToLower(r.ID)
		if ids[key] {
			return nil, fmt.Errorf("request id %q is not unique in the batch", r.ID)
		}
		ids[key] = true
		if !validMethod(r.Method) {
			return nil, fmt.Errorf("request id %q has an invalid method %q", r.ID, r.Method)
		}
		if err := checkURL(r.URL); err != nil {
			return nil, fmt.Errorf("request id %q: %w", r.ID, err)
		}
		if len(r.Body) > 0 && !bytes.Equal(bytes.TrimSpace(r.Body), []byte("null")) && header(r.Headers, "Content-Type") == "" {
			return nil, fmt.Errorf("request id %q has a body but no Content-Type header", r.ID)
		}
	}
	for _, r := range reqs {
		for _, d := range r.DependsOn {
			if !ids[strings.ToLower(d)] {
				return nil, fmt.Errorf("request id %q depends on unknown request id %q", r.ID, d)
			}
			if strings.EqualFold(d, r.ID) {
				return nil, fmt.Errorf("request id %q depends on itself", r.ID)
			}
		}
	}
	if err := checkDependencyPattern(reqs); err != nil {
		return nil, err
	}
	if _, err := Order(reqs); err != nil {
		return nil, err
	}
	return reqs, nil
}

// checkDependencyPattern applies Graph's documented limit on dependsOn (known issues, JSON
// batching, "Request dependencies are limited", microsoft-graph-docs-contrib
// concepts/includes/known-issues/json-batching.md): "requests can only depend on a single other
// request, and must follow one of these three patterns: Parallel - no individual request states
// a dependency ... Serial - all individual requests depend on the previous individual request.
// Same - all individual requests that state a dependency in the dependsOn property, state the
// same dependency." A batch outside them is refused whole with 400, so a client that relies on
// richer graphs finds out here rather than in a tenant.
func checkDependencyPattern(reqs []Request) error {
	var deps int
	same := ""
	sameOK := true
	for _, r := range reqs {
		switch len(r.DependsOn) {
		case 0:
			continue
		case 1:
		default:
			return fmt.Errorf("request id %q depends on %d requests; a request can only depend on a single other request", r.ID, len(r.DependsOn))
		}
		deps++
		d := strings.ToLower(r.DependsOn[0])
		if same == "" {
			same = d
		}
		sameOK = sameOK && d == same
	}
	if deps == 0 || sameOK {
		return nil // parallel, or the same dependency for every dependent request
	}
	serial := len(reqs[0].DependsOn) == 0
	for i := 1; serial && i < len(reqs); i++ {
		serial = len(reqs[i].DependsOn) == 1 && strings.EqualFold(reqs[i].DependsOn[0], reqs[i-1].ID)
	}
	if !serial {
		return fmt.Errorf("the dependsOn of the batch is neither parallel, serial (each request on the previous one) nor the same dependency for every dependent request")
	}
	return nil
}

// Order returns the indexes of reqs in an execution order that honours dependsOn: each
// request after all the requests it depends on, and otherwise in the order given.
func Order(reqs []Request) ([]int, error) {
	index := make(map[string]int, len(reqs))
	for i, r := range reqs {
		index[strings.ToLower(r.ID)] = i
	}
	const (
		unvisited = iota
		visiting
		done
	)
	state := make([]int, len(reqs))
	order := make([]int, 0, len(reqs))
	var visit func(i int) error
	visit = func(i int) error {
		switch state[i] {
		case done:
			return nil
		case visiting:
			return fmt.Errorf("the dependsOn of request id %q forms a cycle", reqs[i].ID)
		}
		state[i] = visiting
		for _, d := range reqs[i].DependsOn {
			j, ok := index[strings.ToLower(d)]
			if !ok {
				return fmt.Errorf("request id %q depends on unknown request id %q", reqs[i].ID, d)
			}
			if err := visit(j); err != nil {
				return err
			}
		}
		state[i] = done
		order = append(order, i)
		return nil
	}
	for i := range reqs {
		if err := visit(i); err != nil {
			return nil, err
		}
	}
	return order, nil
}

func validMethod(m string) bool {
	switch m {
	case "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD":
		return true
	}
	return false
}

// checkURL accepts the relative form Graph documents ("/users/{id}" or "users?$top=1").
func checkURL(raw string) error {
	if strings.TrimSpace(raw) == "" {
		return fmt.Errorf("url is required")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("invalid url %q: %w", raw, err)
	}
	if u.Scheme != "" || u.Host != "" || strings.HasPrefix(raw, "//") {
		return fmt.Errorf("url %q must be relative to the service root", raw)
	}
	if strings.Contains(strings.ToLower(u.Path), "$batch") {
		return fmt.Errorf("a batch cannot contain another batch")
	}
	return nil
}

// header looks a header up case-insensitively, as HTTP header names are.
func header(h map[string]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}
