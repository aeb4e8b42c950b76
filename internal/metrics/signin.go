package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

var (
	// SignInWrites counts write-backs of a delegated sign-in's rotated
	// refresh token by result: "ok", "replaced" (a new sign-in was stored
	// meanwhile and wins) or "failed" (kept in memory, retried).
	SignInWrites = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "entramatch_signin_token_writes_total",
		Help: "Write-backs of rotated delegated refresh tokens to their Secret, by result.",
	}, []string{"result"})
	// SignInLastRefresh is when a sign-in's refresh token was last rotated
	// and stored, per Secret: refresh tokens expire after 90 days unused,
	// so an old value is worth an alert.
	SignInLastRefresh = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "entramatch_signin_last_refresh_timestamp_seconds",
		Help: "Unix time of the last stored refresh-token rotation, by sign-in Secret (namespace/name).",
	}, []string{"secret"})
)

func init() {
	ctrlmetrics.Registry.MustRegister(SignInWrites, SignInLastRefresh)
}
