// Package metrics defines the operator's Prometheus metrics, registered with
// controller-runtime's registry so that the manager's /metrics endpoint
// serves them next to the controller metrics.
package metrics

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

var (
	// GraphRequests counts Graph and token calls by operation and HTTP status.
	GraphRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "entramatch_graph_requests_total",
		Help: "Microsoft Graph requests by operation and HTTP status code (0 = no response).",
	}, []string{"operation", "status"})
	// GraphLatency observes Graph call latency by operation.
	GraphLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "entramatch_graph_request_duration_seconds",
		Help:    "Microsoft Graph request latency by operation.",
		Buckets: prometheus.ExponentialBuckets(0.005, 2, 12),
	}, []string{"operation"})
	// LDAPRequests counts calls to Active Directory by operation and outcome;
	// a FindUsers call is one paged search per 100 lookups.
	LDAPRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "entramatch_ldap_requests_total",
		Help: "Calls to Active Directory by operation (FindUser, FindUsers, ...) and outcome.",
	}, []string{"operation", "outcome"})
	// LDAPLookups counts the user lookups those calls carried.
	LDAPLookups = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "entramatch_ldap_lookups_total",
		Help: "User lookups sent to Active Directory (many per FindUsers call).",
	})
	// DriftCorrections counts values the operator set back after someone changed them.
	DriftCorrections = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "entramatch_drift_corrections_total",
		Help: "Values set back by the operator after a change outside it, by kind and what drifted.",
	}, []string{"kind", "field"})
	// ImmutableIDWrites counts onPremisesImmutableId writes by result.
	ImmutableIDWrites = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "entramatch_immutableid_writes_total",
		Help: "onPremisesImmutableId writes by result.",
	}, []string{"result"})
	// EventsDropped counts Events the manager gave up on.
	EventsDropped = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "entramatch_events_dropped_total",
		Help: "Events not recorded, by reason: QueueFull (the API server fell 1,000 Events behind) or CreateFailed.",
	}, []string{"reason"})
)

func init() {
	ctrlmetrics.Registry.MustRegister(GraphRequests, GraphLatency, LDAPRequests, LDAPLookups, DriftCorrections, ImmutableIDWrites, EventsDropped)
}

// GraphObserver records Graph calls; it satisfies the Graph client's observer hook.
type GraphObserver struct{}

// ObserveRequest records one call.
func (GraphObserver) ObserveRequest(op string, status int, d time.Duration) {
	GraphRequests.WithLabelValues(op, strconv.Itoa(status)).Inc()
	GraphLatency.WithLabelValues(op).Observe(d.Seconds())
}
