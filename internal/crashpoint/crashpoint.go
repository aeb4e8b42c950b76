//go:build crashpoints

package crashpoint

import (
	"os"
	"strconv"
	"strings"
	"sync"
)

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
