package main

import (
	"context"
	"strings"

	"github.com/entramatch/entra-match-operator/internal/anchor"
)

func init() {
	register(command{
		name:    "immutableid",
		summary: "print every form of an anchor given as GUID, immutableId, hex, connector DN or LDAP escape",
		run:     runImmutableID,
	})
}

type immutableIDOutput struct {
	Input string `json:"input"`
	Form  string `json:"form"`
	AnchorForms
	Note string `json:"note,omitempty"`
}

func runImmutableID(_ context.Context, e *env, args []string) error {
	fs := e.newFlagSet("immutableid", "[-o text|json|yaml] VALUE")
	output := fs.String("o", "text", "output format: text, json or yaml")
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if err := checkOutput(*output); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("want exactly one VALUE, got %d", fs.NArg())
	}
	out, err := describe(fs.Arg(0))
	if err != nil {
		return err
	}
	if *output != "text" {
		return writeStructured(e.stdout, *output, out)
	}
	rows := append([][2]string{{"input form", out.Form}}, out.rows("")...)
	if out.Note != "" {
		rows = append(rows, [2]string{"note", out.Note})
	}
	return writeRows(e.stdout, rows)
}

// describe reads value in whatever notation it is and returns all forms.
func describe(value string) (immutableIDOutput, error) {
	a, form, err := anchor.ParseForm(value)
	if err != nil {
		return immutableIDOutput{}, err
	}
	out := immutableIDOutput{Input: value, Form: string(form), AnchorForms: formsOf(a)}
	if form == anchor.FormHex {
		// 32 hex digits might be a GUID typed without dashes, whose bytes
		// are ordered differently: show what that reading would give.
		h := strings.ToLower(strings.TrimSpace(value))
		if len(h) == 32 {
			if g, err := anchor.FromGUID(h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]); err == nil {
				out.Note = "read as raw bytes in AD order; if this is a GUID written without dashes, its immutableId is " + g.ImmutableID()
			}
		}
	}
	return out, nil
}
