package directory

import (
	"errors"
	"fmt"
	"strings"

	"github.com/entramatch/entra-match-operator/internal/anchor"
)

// Anchor attribute modes for SourceAnchor.
const (
	AnchorObjectGUID      = "objectGUID"
	AnchorConsistencyGUID = "mS-DS-ConsistencyGuid"
	// AnchorAuto takes mS-DS-ConsistencyGuid when set, else objectGUID,
	// as Entra Connect (1.1.524 and later) and Cloud Sync do.
	AnchorAuto = "Auto"
)

// SourceAnchor returns the anchor that Entra's sync would export for u
// under mode (AnchorObjectGUID, AnchorConsistencyGUID or AnchorAuto; case
// is ignored).
func SourceAnchor(u User, mode string) (anchor.Anchor, error) {
	var none anchor.Anchor
	switch {
	case strings.EqualFold(mode, AnchorObjectGUID):
		if u.ObjectGUID.IsZero() {
			return none, fmt.Errorf("%s has no objectGUID: %w", u.DN, ErrAnchorMissing)
		}
		return u.ObjectGUID, nil
	case strings.EqualFold(mode, AnchorConsistencyGUID), strings.EqualFold(mode, AnchorAuto):
		if u.InvalidConsistencyGUID != nil {
			// Auto must not fall back to objectGUID here: the sync engine
			// would not either, and guessing would stamp the wrong anchor.
			return none, fmt.Errorf("%s: mS-DS-ConsistencyGuid holds %d bytes, not a 16-byte GUID: %w", u.DN, len(u.InvalidConsistencyGUID), ErrAnchorMalformed)
		}
		if u.ConsistencyGUID != nil && !u.ConsistencyGUID.IsZero() {
			return *u.ConsistencyGUID, nil
		}
		if strings.EqualFold(mode, AnchorAuto) {
			return SourceAnchor(u, AnchorObjectGUID)
		}
		return none, fmt.Errorf("%s has no mS-DS-ConsistencyGuid: %w", u.DN, ErrAnchorMissing)
	}
	return none, errors.New("unknown anchor attribute " + mode + ": want " + AnchorAuto + ", " + AnchorObjectGUID + " or " + AnchorConsistencyGUID)
}
