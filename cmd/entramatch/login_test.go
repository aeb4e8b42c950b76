package main

import (
	"strings"
	"testing"
)

func TestLoginUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"login"}, "--tenant is required"},
		{[]string{"login", "--tenant", "contoso", "--secret", "nonamespace"}, "--secret must be NAMESPACE/NAME"},
		{[]string{"login", "--tenant", "contoso", "extra"}, "unexpected arguments"},
	} {
		code, _, errOut := execute(t, "", tc.args...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%q: exit %d, stderr %q, want 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
}

// approver plays the person at the verification page: it reads the code
// from the instructions the command prints and approves it.
