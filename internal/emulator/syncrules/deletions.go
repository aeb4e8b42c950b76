package syncrules

import (
	"fmt"
	"sort"
)

// PreventionType is onPremisesAccidentalDeletionPrevention.synchronizationPreventionType.
type PreventionType string

// Accidental deletion prevention types.
const (
	PreventionDisabled      PreventionType = "disabled"
	PreventionForCount      PreventionType = "enabledForCount"
	PreventionForPercentage PreventionType = "enabledForPercentage"
)

// DeletionPrevention is the tenant's accidentalDeletionPrevention configuration.
type DeletionPrevention struct {
	Type PreventionType
	// Threshold is a number of objects (enabledForCount) or a percentage of the synced
	// objects (enabledForPercentage).
	Threshold float64
}

// DeletionPlan lists the objects a full sync removes.
type DeletionPlan struct {
	// Delete holds the IDs of the cloud objects to soft-delete; the store also sets their
	// onPremisesSyncEnabled to false (tshoot-connect-sync-errors.md, InvalidHardMatch example).
	Delete []string
	// Blocked: the deletions exceed the prevention threshold and none may be applied.
	Blocked bool
	Reason  string
}

// PlanDeletions compares the objects currently synced from on-premises with the anchors of a
// full-sync export: a synced object whose anchor is absent went out of scope (or was deleted
// in AD) and is soft-deleted. Only live objects with onPremisesSyncEnabled true take part.
// Like Entra Connect's "prevent accidental deletes", the whole set is held back when it exceeds
// the threshold (how-to-connect-sync-feature-prevent-accidental-deletes.md).
func PlanDeletions(cloud []CloudObject, exported []Export, p DeletionPrevention) (DeletionPlan, error) {
	if p.Threshold < 0 {
		return DeletionPlan{}, fmt.Errorf("negative accidental deletion threshold %g", p.Threshold)
	}
	present := make(map[string]bool, len(exported))
	for _, e := range exported {
		present[e.SourceAnchor] = true
	}
	var synced int
	var plan DeletionPlan
	for _, o := range cloud {
		if o.Deleted || o.OnPremisesSyncEnabled == nil || !*o.OnPremisesSyncEnabled || o.OnPremisesImmutableID == "" {
			continue
		}
		synced++
		if !present[o.OnPremisesImmutableID] {
			plan.Delete = append(plan.Delete, o.ID)
		}
	}
	sort.Strings(plan.Delete)

	n := float64(len(plan.Delete))
	switch p.Type {
	case "", PreventionDisabled:
	case PreventionForCount:
		if n > p.Threshold {
			plan.Blocked = true
			plan.Reason = fmt.Sprintf("%d deletions exceed the threshold of %g objects", len(plan.Delete), p.Threshold)
		}
	case PreventionForPercentage:
		if synced > 0 && n*100/float64(synced) > p.Threshold {
			plan.Blocked = true
			plan.Reason = fmt.Sprintf("%d of %d synced objects (%.1f%%) exceed the threshold of %g%%",
				len(plan.Delete), synced, n*100/float64(synced), p.Threshold)
		}
	default:
		return DeletionPlan{}, fmt.Errorf("unknown synchronizationPreventionType %q", p.Type)
	}
	return plan, nil
}
