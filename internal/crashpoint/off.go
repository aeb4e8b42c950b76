//go:build !crashpoints

package crashpoint

// Hit does nothing: crash points are compiled in only with the build tag
// crashpoints.
func Hit(string) {}
