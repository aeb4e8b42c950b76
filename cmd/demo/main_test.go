package main

import (
	"bytes"
	"strings"
	"testing"
)

// The demo itself is tested end to end in internal/demo; this covers the
// command line only, which must refuse mistakes before starting anything.
func TestRunRefusesBadArguments(t *testing.T) {
	cases := []struct {
		name string
		args []string
		code int
		err  string // in stderr
	}{
		{"unknown flag", []string{"--onse"}, 2, "flag provided but not defined: -onse"},
		{"stray argument", []string{"--once", "now"}, 2, "unexpected arguments [now]"},
		{"bad duration", []string{"--sync-interval", "soon"}, 2, "invalid value \"soon\""},
		{"help", []string{"-h"}, 0, "-once"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(tc.args, &stdout, &stderr); code != tc.code {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, tc.code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.err) {
				t.Errorf("stderr lacks %q:\n%s", tc.err, stderr.String())
			}
			if stdout.Len() != 0 {
				t.Errorf("something was started or printed on stdout:\n%s", stdout.String())
			}
		})
	}
}
