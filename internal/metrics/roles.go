package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

var (
	// RolesHeld is, per UserMatch, how many privileged roles the operator
	// has removed and not yet given back: anything above zero for longer
	// than a sync cycle or two is worth a look.
	RolesHeld = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "entramatch_privileged_roles_held",
		Help: "Privileged roles removed for a match and not yet restored, by UserMatch.",
	}, []string{"usermatch"})
)

func init() {
	ctrlmetrics.Registry.MustRegister(RolesHeld)
}
