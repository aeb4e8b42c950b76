package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

var (
	// SyncFeatureWrites counts writes of a tenant's synchronization flags
	// by result ("ok" or the failure class).
	SyncFeatureWrites = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "entramatch_syncfeatures_writes_total",
		Help: "Writes of tenant directory synchronization flags by result.",
	}, []string{"result"})
	// MatchingWindowsOpen reports, per TenantSyncFeatures, how many matching
	// windows are open: a soft or hard match block lifted longer than
	// planned is worth an alert.
	MatchingWindowsOpen = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "entramatch_matching_windows_open",
		Help: "Matching windows currently open, by TenantSyncFeatures.",
	}, []string{"name"})
)

func init() {
	ctrlmetrics.Registry.MustRegister(SyncFeatureWrites, MatchingWindowsOpen)
}
