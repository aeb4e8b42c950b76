package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"sigs.k8s.io/yaml"

	"github.com/entramatch/entra-match-operator/internal/anchor"
)

// AnchorForms is every notation of one anchor, as printed and as JSON.
type AnchorForms struct {
	GUID        string `json:"guid"`
	ImmutableID string `json:"immutableId"`
	Hex         string `json:"hex"`
	ConnectorDN string `json:"connectorDN"`
	LDAPFilter  string `json:"ldapFilter"`
}

func formsOf(a anchor.Anchor) AnchorForms {
	return AnchorForms{
		GUID:        a.GUID(),
		ImmutableID: a.ImmutableID(),
		Hex:         a.Hex(),
		ConnectorDN: a.ConnectorDN(),
		LDAPFilter:  "(objectGUID=" + a.LDAPFilterValue() + ")",
	}
}

// rows returns label/value pairs, each label prefixed.
func (f AnchorForms) rows(prefix string) [][2]string {
	return [][2]string{
		{prefix + "GUID", f.GUID},
		{prefix + "immutableId", f.ImmutableID},
		{prefix + "hex", f.Hex},
		{prefix + "connector DN", f.ConnectorDN},
		{prefix + "LDAP filter", f.LDAPFilter},
	}
}

func writeRows(w io.Writer, rows [][2]string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, r := range rows {
		fmt.Fprintf(tw, "%s:\t%s\n", r[0], r[1])
	}
	return tw.Flush()
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func checkOutput(format string) error {
	if format != "text" && format != "json" && format != "yaml" {
		return usagef("-o must be text, json or yaml, not %q", format)
	}
	return nil
}

// writeStructured prints v as -o json or -o yaml asks (kubectl's forms).
func writeStructured(w io.Writer, format string, v any) error {
	if format != "yaml" {
		return writeJSON(w, v)
	}
	b, err := yaml.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}
