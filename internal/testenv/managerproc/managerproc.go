// Package managerproc builds the manager binary and runs it as its own
// process, as it runs in a cluster, for tests that measure it or kill it.
package managerproc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Build compiles ./cmd/manager of the repository at root into dir, with
// the given build tags (the crash test needs "crashpoints").
func Build(ctx context.Context, root, dir string, tags ...string) (string, error) {
	bin := filepath.Join(dir, "manager")
	args := []string{"build", "-o", bin}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	cmd := exec.CommandContext(ctx, "go", append(args, "./cmd/manager")...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building the manager: %w\n%s", err, out)
	}
	return bin, nil
}

// Proc is a running manager.
type Proc struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// Start runs bin with the kubeconfig, extra environment (NAME=value) and
// flags, appending its output to logPath.
func Start(bin, kubeconfig, logPath string, env []string, args ...string) (*Proc, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(append(os.Environ(), "KUBECONFIG="+kubeconfig), env...)
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	p := &Proc{cmd: cmd, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); logf.Close(); close(p.done) }()
	return p, nil
}

// Wait waits up to d for the process to exit and returns its exit code.
func (p *Proc) Wait(d time.Duration) (int, error) {
	select {
	case <-p.done:
		var ee *exec.ExitError
		if errors.As(p.err, &ee) {
			return ee.ExitCode(), nil
		}
		if p.err != nil {
			return -1, p.err
		}
		return 0, nil
	case <-time.After(d):
		return -1, fmt.Errorf("manager still running after %s", d)
	}
}

// Stop interrupts the process and kills it if it does not stop in time.
func (p *Proc) Stop() {
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// Kill ends the process at once (SIGKILL), as a node failure or an OOM kill
// would: nothing is released, no Lease handed over.
func (p *Proc) Kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// PeakRSS reads the process's high-water resident memory from /proc; it
// must be called while the process runs.
func (p *Proc) PeakRSS() int64 { return p.status("VmHWM:") }

// RSS reads the process's resident memory now.
func (p *Proc) RSS() int64 { return p.status("VmRSS:") }

// RSSAnon reads the anonymous part of RSS now: the heap, stacks and the
// runtime's own memory, without the pages of the executable (RssFile),
// which the kernel can drop and read again.
func (p *Proc) RSSAnon() int64 { return p.status("RssAnon:") }

// CPU reads the processor time the process has used so far (user and
// system, from /proc/<pid>/stat); zero once it has exited.
func (p *Proc) CPU() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	return statCPU(string(b))
}

// statCPU reads utime and stime off a /proc/<pid>/stat line. The fields
// are counted after the command name, which is in parentheses and may hold
// spaces and parentheses itself: state is the first, utime the 12th,
// stime the 13th.
func statCPU(stat string) time.Duration {
	i := strings.LastIndex(stat, ") ")
	if i < 0 {
		return 0
	}
	f := strings.Fields(stat[i+2:])
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	// Clock ticks: USER_HZ is 100 on every Linux architecture Go runs on.
	return time.Duration(utime+stime) * (time.Second / 100)
}

// status reads one of the kB figures of /proc/<pid>/status.
func (p *Proc) status(field string) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), field); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
