package match

import (
	"strings"
	"time"
)

// Claimant is a UserMatch as the claim rule sees it.
type Claimant struct {
	UID      string
	Name     string
	Created  time.Time
	Deleting bool
	// Directory names the ActiveDirectory; ADUser is the spec's selector
	// (any comparable rendering) and ADDN the DN it resolved to, if known.
	Directory string
	ADUser    string
	ADDN      string
	// CloudID is the cloud user it resolved to, if known.
	CloudID string
}

// older orders claimants: the earlier creation wins, then the name.
func older(a, b Claimant) bool {
	if !a.Created.Equal(b.Created) {
		return a.Created.Before(b.Created)
	}
	return a.Name < b.Name
}

// ClaimedBy names the oldest other UserMatch that targets the same AD user
// (same directory and selector, or the same resolved DN) or the same cloud
// user as me, when me is not the oldest; "" when me may act. A UserMatch
// being deleted claims nothing.
func ClaimedBy(me Claimant, others []Claimant) string {
	var winner *Claimant
	for i := range others {
		o := &others[i]
		if o.UID == me.UID || o.Deleting || !older(*o, me) {
			continue
		}
		sameAD := o.Directory == me.Directory &&
			(o.ADUser == me.ADUser || (o.ADDN != "" && strings.EqualFold(o.ADDN, me.ADDN)))
		sameCloud := o.CloudID != "" && strings.EqualFold(o.CloudID, me.CloudID)
		if (sameAD || sameCloud) && (winner == nil || older(*o, *winner)) {
			winner = o
		}
	}
	if winner == nil {
		return ""
	}
	return winner.Name
}
