package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// A command is one subcommand. Each lives in its own file and registers
// itself from init, so adding one touches no other file.
type command struct {
	name    string
	summary string
	// run executes the command; a *usageError makes the caller print the
	// command's usage and exit 2.
	run func(ctx context.Context, env *env, args []string) error
}

// env is what a command may touch: its streams and its name for messages.
type env struct {
	prog   string // e.g. "entramatch" or "kubectl entramatch"
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// registry is filled by init functions only, before main runs, and read
// afterwards; it is never changed while the program runs.
var registry = map[string]command{}

func register(c command) {
	if _, dup := registry[c.name]; dup {
		panic("entramatch: command " + c.name + " registered twice")
	}
	registry[c.name] = c
}

type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// newFlagSet returns a flag set that reports errors to the caller instead
// of exiting, with a usage text naming the command as the user typed it.
func (e *env) newFlagSet(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(e.prog+" "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: %s %s %s\n\nFlags:\n", e.prog, name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args; -h prints usage and counts as success.
func parseFlags(fs *flag.FlagSet, args []string) (help bool, err error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return true, nil
		}
		return false, &usageError{err.Error()}
	}
	return false, nil
}

// run dispatches to a subcommand and returns the process exit code.
func run(ctx context.Context, prog string, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{prog: prog, stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		e.usage()
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := registry[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "%s: unknown command %q\n\n", prog, args[0])
		e.usage()
		return 2
	}
	if err := c.run(ctx, e, args[1:]); err != nil {
		var u *usageError
		if errors.As(err, &u) {
			fmt.Fprintf(stderr, "%s %s: %v (see %s %s -h)\n", prog, c.name, err, prog, c.name)
			return 2
		}
		fmt.Fprintf(stderr, "%s %s: %v\n", prog, c.name, err)
		return 1
	}
	return 0
}

func (e *env) usage() {
	names := make([]string, 0, len(registry))
	for name := range registry {
		names = append(names, name)
	}
	sort.Strings(names)
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: %s COMMAND [flags]\n\nCommands:\n", e.prog)
	for _, name := range names {
		fmt.Fprintf(&b, "  %-12s %s\n", name, registry[name].summary)
	}
	fmt.Fprintf(&b, "\nRun '%s COMMAND -h' for a command's flags.\n", e.prog)
	fmt.Fprint(e.stderr, b.String())
}
