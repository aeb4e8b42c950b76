package demo

import (
	"context"
	"encoding/csv"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/emulator"
)

// planName is the demo's SyncPlan.
const planName = "first-sync"

// syncPlan asks what the sync will do to the objects in the sync scope, as
// a person would before the first sync. The demo exports users and groups.
func syncPlan(baseDN string, scope []string) *identityv1alpha1.SyncPlan {
	bases := make([]string, 0, len(scope))
	for _, ou := range scope {
		bases = append(bases, ou+","+baseDN)
	}
	return &identityv1alpha1.SyncPlan{ObjectMeta: metav1.ObjectMeta{Name: planName},
		Spec: identityv1alpha1.SyncPlanSpec{TenantRef: identityv1alpha1.TenantReference{Name: tenantName},
			DirectoryRef: identityv1alpha1.DirectoryReference{Name: directoryName},
			Scope:        &identityv1alpha1.PlanScope{BaseDNs: bases, Kinds: []identityv1alpha1.ObjectKind{identityv1alpha1.ObjectUser, identityv1alpha1.ObjectGroup}}}}
}

// waitPlanned waits for the plan and reads its report, by DN.
func waitPlanned(ctx context.Context, c client.Client, timeout time.Duration) (*identityv1alpha1.SyncPlan, map[string][]string, error) {
	var sp identityv1alpha1.SyncPlan
	err := poll(ctx, timeout, func(ctx context.Context) (bool, error) {
		if err := c.Get(ctx, types.NamespacedName{Name: planName}, &sp); err != nil {
			return false, err
		}
		r := meta.FindStatusCondition(sp.Status.Conditions, identityv1alpha1.ConditionReady)
		return r != nil && r.Reason == identityv1alpha1.ReasonPlanned && sp.Status.ObservedGeneration == sp.Generation, nil
	}, func() error {
		return fmt.Errorf("SyncPlan %s was not computed in %s:%s", planName, timeout, describeConditions(sp.Status.Conditions))
	})
	if err != nil {
		return nil, nil, err
	}
	rows := map[string][]string{}
	for _, ref := range sp.Status.Report {
		ns, n, _ := strings.Cut(ref, "/")
		var cm corev1.ConfigMap
		if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: n}, &cm); err != nil {
			return nil, nil, fmt.Errorf("reading the plan's report %s: %w", ref, err)
		}
		lines, err := csv.NewReader(strings.NewReader(cm.Data["report.csv"])).ReadAll()
		if err != nil {
			return nil, nil, fmt.Errorf("reading the plan's report %s: %w", ref, err)
		}
		for _, l := range lines[1:] {
			rows[strings.ToLower(l[0])] = l
		}
	}
	return &sp, rows, nil
}

// planOutcome names a sync result as the plan does.
func planOutcome(r emulator.SyncResult) string {
	switch r.Outcome {
	case emulator.OutcomeSoftMatchSMTP:
		return "SoftMatchSMTP"
	case emulator.OutcomeSoftMatchUPN:
		return "SoftMatchUPN"
	case emulator.OutcomeError:
		return "Refused"
	}
	return string(r.Outcome)
}

// comparePlan lists the objects the sync treated otherwise than planned.
func comparePlan(planned map[string][]string, exports []emulator.SyncObject, results []emulator.SyncResult) []string {
	var out []string
	for i, r := range results {
		dn := exports[i].OnPremisesDistinguishedName
		row := planned[strings.ToLower(dn)]
		switch {
		case row == nil:
			out = append(out, fmt.Sprintf("%s was exported but is not in the plan", dn))
		case row[2] != planOutcome(r) || row[4] != "" && row[4] != r.ObjectID:
			out = append(out, fmt.Sprintf("%s: the plan said %s %s, the sync did %s %s", dn, row[2], row[4], planOutcome(r), r.ObjectID))
		}
	}
	return out
}

func (p progress) plan(sp *identityv1alpha1.SyncPlan) {
	st := sp.Status
	p.detail("%d objects: %d will match, %d will be created, %d refused; %d break an attribute rule", st.Objects, st.Matched, st.Created, st.Refused, st.Problems)
	for _, e := range st.Attention {
		cn, _, _ := strings.Cut(e.Object, ",")
		p.detail("  %-14s %s %s: %s", strings.TrimPrefix(cn, "CN="), e.Outcome, e.Code, e.Message)
	}
}
