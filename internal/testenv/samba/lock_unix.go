//go:build unix

package samba

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// lockMachine takes an exclusive lock on path, waiting up to wait for a
// test binary that holds it. The kernel drops the lock if the process dies,
// so a crashed test run cannot wedge the next one.
func lockMachine(path string, wait time.Duration) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the DC lock %s: %w", path, err)
	}
	deadline := time.Now().Add(wait)
	announced := false
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("another test binary has held the samba DC (lock %s) for more than %s", path, wait)
		}
		if !announced {
			fmt.Fprintf(os.Stderr, "samba: waiting for another test binary to release the DC (lock %s)\n", path)
			announced = true
		}
		time.Sleep(250 * time.Millisecond)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
