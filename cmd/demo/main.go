// Command demo runs the operator on an embedded default: a local control
// plane, an emulated Entra tenant and an embedded AD-like directory, all on
// loopback, then plays the story in internal/demo/story.yaml and prints what
// happened to each object. `make demo` runs it; `make demo DEMO_FLAGS=--once`
// stops after the table.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/entramatch/entra-match-operator/internal/demo"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o demo.Options
	var verbose bool
	fs.BoolVar(&o.Once, "once", false, "Print the table and exit: 0 when every outcome is the story's, 1 otherwise.")
	fs.StringVar(&o.WorkDir, "dir", "", "Directory for the kubeconfig and the emulator's certificates (default: a temporary one, removed on exit).")
	fs.DurationVar(&o.SyncInterval, "sync-interval", time.Minute, "How often an emulated sync cycle runs while the demo keeps running; 0 runs only the first.")
	fs.DurationVar(&o.ResyncPeriod, "resync-period", 2*time.Second, "The controllers' resync period.")
	fs.DurationVar(&o.Timeout, "timeout", 2*time.Minute, "How long to wait for the operator at each step.")
	fs.BoolVar(&verbose, "v", false, "Show the manager's logs on stderr.")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "demo: unexpected arguments %v\n", fs.Args())
		return 2
	}

	// The manager, client-go and envtest log through these; without a
	// logger controller-runtime complains on stderr after a while.
	log := logr.Discard()
	if verbose {
		log = zap.New(zap.UseDevMode(true), zap.WriteTo(stderr))
	}
	ctrl.SetLogger(log)
	klog.SetLogger(log)
	o.Logger = log
	o.Out = stdout

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		// A second Ctrl-C kills the process at once.
		stop()
	}()

	_, err := demo.Run(ctx, o)
	switch {
	case err == nil:
		return 0
	case ctx.Err() != nil && !errors.Is(err, demo.ErrUnexpected):
		fmt.Fprintln(stderr, "demo: interrupted")
		return 130
	case errors.Is(err, demo.ErrUnexpected):
		fmt.Fprintln(stderr, "demo: the outcomes above differ from the story")
		return 1
	default:
		fmt.Fprintf(stderr, "demo: %v\n", err)
		return 1
	}
}
