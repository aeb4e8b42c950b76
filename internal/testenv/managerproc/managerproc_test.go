package managerproc

import (
	"os"
	"testing"
	"time"
)

func TestStatCPU(t *testing.T) {
	// proc(5): pid (comm) state ppid pgrp session tty_nr tpgid flags
	// minflt cminflt majflt cmajflt utime stime ...
	line := "4242 (my (odd) cmd) S 1 4242 4242 0 -1 4194304 900 0 3 0 250 125 0 0 20 0 12 0 777 0 0\n"
	if got, want := statCPU(line), 3750*time.Millisecond; got != want {
		t.Fatalf("statCPU = %s, want %s", got, want)
	}
	if got := statCPU("garbage"); got != 0 {
		t.Fatalf("statCPU(garbage) = %s", got)
	}
	// This process's own line parses, and a busy loop shows in it.
	self := func() time.Duration {
		b, err := os.ReadFile("/proc/self/stat")
		if err != nil {
			t.Fatal(err)
		}
		return statCPU(string(b))
	}
	before := self()
	for end := time.Now().Add(300 * time.Millisecond); time.Now().Before(end); {
	}
	if used := self() - before; used < 100*time.Millisecond {
		t.Fatalf("300 ms of spinning read as %s of CPU", used)
	}
}
