// Command entramatch is the operator's command-line companion: it converts
// source anchors between their notations and reads a user's anchors from
// Active Directory. Installed as kubectl-entramatch it runs as
// `kubectl entramatch`.
package main

import (
	"context"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, programName(os.Args[0]), os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// programName is how usage texts name the program: as a kubectl plugin
// (kubectl-entramatch) people type `kubectl entramatch`.
func programName(arg0 string) string {
	base := filepath.Base(arg0)
	if name, ok := strings.CutPrefix(base, "kubectl-"); ok && name != "" {
		return "kubectl " + name
	}
	return base
}
