// Package faults injects scripted failures in front of the emulated Graph: Graph-shaped error
// statuses (429 with Retry-After, 500, 503, 504, ...), dropped connections and added latency,
// chosen by method and path prefix, at a rate or on every Nth request, optionally a limited
// number of times. Rules are replaced as a whole through PUT /_emulator/faults.
package faults

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/entramatch/entra-match-operator/internal/emulator/odataerr"
)

// AdminPathPrefix is never subject to faults, so a test can always repair what it broke.
const AdminPathPrefix = "/_emulator/"

// maxLatency bounds a rule's added latency.
const maxLatency = 10 * time.Minute

// Rule is one scripted fault. A request matches when its method and path match; a matching
// request triggers the rule every Every-th time, or with probability Rate, or always when both
// are zero. A triggered rule adds its latency and then, if it has a Status or Reset, ends the
// request; otherwise the next rules and the handler run. MaxCount (0 = unlimited) caps how
// often the rule triggers.
type Rule struct {
	Method     string  `json:"method,omitempty"`
	PathPrefix string  `json:"pathPrefix,omitempty"`
	Rate       float64 `json:"rate,omitempty"`
	Every      int     `json:"every,omitempty"`
	MaxCount   int     `json:"maxCount,omitempty"`

	Status int `json:"status,omitempty"`
	// Code and Message override the error body; defaults follow Graph's codes.
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
	// RetryAfterSeconds sets Retry-After; a 429 always carries one (default 1).
	RetryAfterSeconds int  `json:"retryAfterSeconds,omitempty"`
	Reset             bool `json:"reset,omitempty"`
	LatencyMs         int  `json:"latencyMs,omitempty"`
}

// Validate reports the first problem with r.
func (r Rule) Validate() error {
	switch r.Method {
	case "", http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodHead:
	default:
		return fmt.Errorf("method %q is not one of GET, POST, PUT, PATCH, DELETE, HEAD", r.Method)
	}
	if r.PathPrefix != "" && !strings.HasPrefix(r.PathPrefix, "/") {
		return fmt.Errorf("pathPrefix %q must start with /", r.PathPrefix)
	}
	if r.Rate < 0 || r.Rate > 1 || math.IsNaN(r.Rate) {
		return fmt.Errorf("rate %v must be between 0 and 1", r.Rate)
	}
	if r.Every < 0 || r.MaxCount < 0 || r.RetryAfterSeconds < 0 || r.LatencyMs < 0 {
		return errors.New("every, maxCount, retryAfterSeconds and latencyMs cannot be negative")
	}
	if r.Every > 0 && r.Rate > 0 {
		return errors.New("set either rate or every, not both")
	}
	if time.Duration(r.LatencyMs)*time.Millisecond > maxLatency {
		return fmt.Errorf("latencyMs %d exceeds %v", r.LatencyMs, maxLatency)
	}
	if r.Status != 0 && (r.Status < 400 || r.Status > 599) {
		return fmt.Errorf("status %d must be an error status (400-599)", r.Status)
	}
	if r.Status != 0 && r.Reset {
		return errors.New("set either status or reset, not both")
	}
	if r.Status == 0 && (r.Code != "" || r.Message != "" || r.RetryAfterSeconds != 0) {
		return errors.New("code, message and retryAfterSeconds need a status")
	}
	if r.Status == 0 && !r.Reset && r.LatencyMs == 0 {
		return errors.New("the rule does nothing: set status, reset or latencyMs")
	}
	return nil
}

// Option configures an Injector.
type Option func(*Injector)

// WithRand sets the source of numbers in [0,1) used for Rate; tests make it deterministic.
func WithRand(f func() float64) Option { return func(i *Injector) { i.rand = f } }

// WithSleep replaces the latency wait; it must return early when ctx ends.
func WithSleep(f func(ctx context.Context, d time.Duration)) Option {
	return func(i *Injector) { i.sleep = f }
}

// Injector holds the active rules. It is safe for concurrent use.
type Injector struct {
	rand  func() float64
	sleep func(context.Context, time.Duration)

	mu      sync.Mutex
	rules   []Rule
	matched []int // matching requests seen per rule
	fired   []int // triggers per rule
}

// New returns an Injector without rules.
func New(opts ...Option) *Injector {
	i := &Injector{rand: rand.Float64, sleep: sleepCtx}
	for _, o := range opts {
		o(i)
	}
	return i
}

// Set validates and installs rules, replacing the previous ones and their counters.
func (i *Injector) Set(rules []Rule) error {
	for n, r := range rules {
		if err := r.Validate(); err != nil {
			return fmt.Errorf("rule %d: %w", n, err)
		}
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	i.rules = append([]Rule(nil), rules...)
	i.matched = make([]int, len(rules))
	i.fired = make([]int, len(rules))
	return nil
}

// State is the admin view: the rules and how often each has triggered.
type State struct {
	Rules []Rule `json:"rules"`
	Fired []int  `json:"fired"`
}

// State returns a copy of the current rules and counters.
func (i *Injector) State() State {
	i.mu.Lock()
	defer i.mu.Unlock()
	return State{Rules: append([]Rule{}, i.rules...), Fired: append([]int{}, i.fired...)}
}

// plan is what one request gets.
type plan struct {
	latency  time.Duration
	terminal *Rule
}

func (i *Injector) plan(r *http.Request) plan {
	i.mu.Lock()
	defer i.mu.Unlock()
	var p plan
	for n := range i.rules {
		rule := &i.rules[n]
		if (rule.Method != "" && rule.Method != r.Method) || !strings.HasPrefix(r.URL.Path, rule.PathPrefix) {
			continue
		}
		if rule.MaxCount > 0 && i.fired[n] >= rule.MaxCount {
			continue
		}
		i.matched[n]++
		switch {
		case rule.Every > 0:
			if i.matched[n]%rule.Every != 0 {
				continue
			}
		case rule.Rate > 0:
			if i.rand() >= rule.Rate {
				continue
			}
		}
		i.fired[n]++
		p.latency += time.Duration(rule.LatencyMs) * time.Millisecond
		if rule.Status != 0 || rule.Reset {
			c := *rule
			p.terminal = &c
			break
		}
	}
	return p
}

// Middleware applies the rules in front of next.
func (i *Injector) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, AdminPathPrefix) {
			next.ServeHTTP(w, r)
			return
		}
		p := i.plan(r)
		if p.latency > 0 {
			i.sleep(r.Context(), p.latency)
			if r.Context().Err() != nil {
				return // the client gave up while we waited
			}
		}
		switch {
		case p.terminal == nil:
			next.ServeHTTP(w, r)
		case p.terminal.Reset:
			reset(w)
		default:
			writeFault(w, r, *p.terminal)
		}
	})
}

func writeFault(w http.ResponseWriter, r *http.Request, rule Rule) {
	retry := rule.RetryAfterSeconds
	if retry == 0 && rule.Status == http.StatusTooManyRequests {
		retry = 1
	}
	if retry > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(retry))
	}
	code, msg := rule.Code, rule.Message
	if code == "" {
		code = defaultCode(rule.Status)
	}
	if msg == "" {
		msg = "fault injected by the emulator: " + http.StatusText(rule.Status)
	}
	odataerr.Write(w, r, rule.Status, code, msg)
}

// defaultCode picks the error code Graph uses for a status
// (https://learn.microsoft.com/graph/errors), else the status text without spaces.
func defaultCode(status int) string {
	switch status {
	case http.StatusTooManyRequests:
		return odataerr.CodeTooManyRequests
	case http.StatusInternalServerError:
		return "generalException"
	case http.StatusServiceUnavailable:
		return "serviceNotAvailable"
	case http.StatusBadRequest:
		return odataerr.CodeBadRequest
	}
	if t := http.StatusText(status); t != "" {
		return strings.ReplaceAll(t, " ", "")
	}
	return "generalException"
}

// reset drops the connection without a response. On TCP the close is abortive (RST), so the
// client sees "connection reset by peer"; where the connection cannot be taken over (HTTP/2, a
// $batch item) the handler aborts, which the server turns into a reset of the stream or
// connection.
func reset(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if nc, ok := conn.(interface{ NetConn() net.Conn }); ok { // *tls.Conn
		conn = nc.NetConn()
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// maxAdminBody bounds the rules document.
const maxAdminBody = 1 << 20

// Handler serves the admin endpoint: GET returns the State, PUT {"rules":[...]} replaces the
// rules (400 with a Graph-shaped body naming the bad rule), DELETE removes them all.
func (i *Injector) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet:
			writeJSON(w, i.State())
		case http.MethodPut:
			var doc struct {
				Rules *[]Rule `json:"rules"`
			}
			dec := json.NewDecoder(io.LimitReader(r.Body, maxAdminBody))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&doc); err != nil {
				odataerr.Write(w, r, http.StatusBadRequest, odataerr.CodeBadRequest, "invalid fault rules: "+err.Error())
				return
			}
			if doc.Rules == nil {
				odataerr.Write(w, r, http.StatusBadRequest, odataerr.CodeBadRequest, "invalid fault rules: the rules property is required")
				return
			}
			if err := i.Set(*doc.Rules); err != nil {
				odataerr.Write(w, r, http.StatusBadRequest, odataerr.CodeBadRequest, err.Error())
				return
			}
			writeJSON(w, i.State())
		case http.MethodDelete:
			_ = i.Set(nil)
			w.WriteHeader(http.StatusNoContent)
		default:
			w.Header().Set("Allow", "GET, PUT, DELETE")
			odataerr.Write(w, r, http.StatusMethodNotAllowed, "Request_BadRequest", "use GET, PUT or DELETE")
		}
	})
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}
