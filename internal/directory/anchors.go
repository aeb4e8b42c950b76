package directory

import (
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

// ParseAnchorMode returns the canonical spelling of an anchor attribute
// mode, accepting any letter case.
func ParseAnchorMode(s string) (string, error) {
	for _, m := range []string{AnchorAuto, AnchorObjectGUID, AnchorConsistencyGUID} {
		if strings.EqualFold(s, m) {
			return m, nil
		}
	}
	return "", fmt.Errorf("unknown anchor attribute %q: want %s, %s or %s", s, AnchorAuto, AnchorObjectGUID, AnchorConsistencyGUID)
}

// SourceAnchor returns the anchor that Entra's sync would export for u
// under mode (AnchorObjectGUID, AnchorConsistencyGUID or AnchorAuto; case
// is ignored).
func SourceAnchor(u User, mode string) (anchor.Anchor, error) {
	var none anchor.Anchor
	mode, err := ParseAnchorMode(mode)
	if err != nil {
		return none, err
	}
	switch mode {
	case AnchorObjectGUID:
		if u.ObjectGUID.IsZero() {
			return none, fmt.Errorf("%s has no objectGUID: %w", u.DN, ErrAnchorMissing)
		}
		return u.ObjectGUID, nil
	default: // AnchorConsistencyGUID, AnchorAuto
		if u.InvalidConsistencyGUID != nil {
			// Auto must not fall back to objectGUID here: the sync engine
			// would not either, and guessing would stamp the wrong anchor.
			return none, fmt.Errorf("%s: mS-DS-ConsistencyGuid holds %d bytes, not a 16-byte GUID: %w", u.DN, len(u.InvalidConsistencyGUID), ErrAnchorMalformed)
		}
		if u.ConsistencyGUID != nil && !u.ConsistencyGUID.IsZero() {
			return *u.ConsistencyGUID, nil
		}
		if mode == AnchorAuto {
			return SourceAnchor(u, AnchorObjectGUID)
		}
		return none, fmt.Errorf("%s has no mS-DS-ConsistencyGuid: %w", u.DN, ErrAnchorMissing)
	}
}
