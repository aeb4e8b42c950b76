// Package crashpoint lets the crash test stop the manager between two writes
// of a multi-step workflow, the way a node failure or an OOM kill would.
//
// Each point is named; when the environment variable ENTRAMATCH_CRASH_AT
// names it, the process exits at once (no deferred functions, no status
// update), on the Nth time the point is reached when the value is NAME#N.
// Unset, as it always is outside that test, a point costs one map lookup.
package crashpoint

import (
	"os"
	"strconv"
	"strings"
	"sync"
)

// ExitCode is the status a crash point exits with, so the test can tell a
// planned crash from a real one.
const ExitCode = 86

var (
	once   sync.Once
	target string
	nth    = 1
	mu     sync.Mutex
	hits   = map[string]int{}
)

func load() {
	v := os.Getenv("ENTRAMATCH_CRASH_AT")
	name, count, found := strings.Cut(v, "#")
	target = name
	if found {
		if n, err := strconv.Atoi(count); err == nil && n > 0 {
			nth = n
		}
	}
}

// Hit exits the process if the crash test asked to stop at name.
func Hit(name string) {
	once.Do(load)
	if target == "" || target != name {
		return
	}
	mu.Lock()
	hits[name]++
	n := hits[name]
	mu.Unlock()
	if n == nth {
		os.Exit(ExitCode)
	}
}
