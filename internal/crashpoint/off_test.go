//go:build !crashpoints

package crashpoint

import "testing"

// A production build ignores the crash test's variable: no environment
// setting can make the manager exit between two writes.
func TestHitIsInertWithoutTheBuildTag(t *testing.T) {
	t.Setenv("ENTRAMATCH_CRASH_AT", "roles-recorded")
	Hit("roles-recorded")
}
