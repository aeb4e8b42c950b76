// Package crashpoint lets the crash test stop the manager between two writes
// of a multi-step workflow, the way a node failure or an OOM kill would.
//
// Each point is named; when the environment variable ENTRAMATCH_CRASH_AT
// names it, the process exits at once (no deferred functions, no status
// update), on the Nth time the point is reached when the value is NAME#N.
// Unset, as it always is outside that test, a point costs one map lookup.
//
// Points are compiled in only with the build tag crashpoints (the crash
// test builds the manager that way); in every other build Hit does nothing,
// so no environment variable can stop a production manager.
package crashpoint

// ExitCode is the status a crash point exits with, so the test can tell a
// planned crash from a real one.
const ExitCode = 86
