package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// docImmutableID: GUID to immutableId, the conversion the manual procedure shows with
// [system.convert]::ToBase64String($guid.tobytearray()).
const docImmutableID = "https://learn.microsoft.com/en-us/entra/identity/hybrid/connect/plan-connect-design-concepts"

func execute(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), "entramatch", args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestImmutableIDText(t *testing.T) {
	want := `input form:    guid
GUID:          3ab39606-c642-489b-84b6-58c038d3ef39
immutableId:   BpazOkLGm0iEtljAONPvOQ==
hex:           0696B33A42C69B4884B658C038D3EF39
connector DN:  CN={4270617A4F6B4C476D306945746C6A414F4E50764F513D3D}
LDAP filter:   (objectGUID=\06\96\b3\3a\42\c6\9b\48\84\b6\58\c0\38\d3\ef\39)
`
	code, out, errOut := execute(t, "", "immutableid", "3ab39606-c642-489b-84b6-58c038d3ef39")
	if code != 0 {
		t.Fatalf("exit %d, stderr %s", code, errOut)
	}
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("output (-want +got), see %s:\n%s", docImmutableID, diff)
	}
}

func TestImmutableIDEveryInputGivesTheSameAnchor(t *testing.T) {
	cases := []struct {
		in, form string
	}{
		{"a15df3dc-4416-414b-8b7d-5fbdcb5743c1", "guid"},
		{"{A15DF3DC-4416-414B-8B7D-5FBDCB5743C1}", "guid"},
		{"3PNdoRZES0GLfV+9y1dDwQ==", "immutableId"},
		{"DC F3 5D A1 16 44 4B 41 8B 7D 5F BD CB 57 43 C1", "hex"},
		{"CN={33504E646F525A455330474C66562B397931644477513D3D}", "connectorDN"},
		{`\dc\f3\5d\a1\16\44\4b\41\8b\7d\5f\bd\cb\57\43\c1`, "ldapEscape"},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			code, out, errOut := execute(t, "", "immutableid", "-o", "json", tc.in)
			if code != 0 {
				t.Fatalf("exit %d, stderr %s", code, errOut)
			}
			var got immutableIDOutput
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, out)
			}
			want := immutableIDOutput{Input: tc.in, Form: tc.form, AnchorForms: AnchorForms{
				GUID:        "a15df3dc-4416-414b-8b7d-5fbdcb5743c1",
				ImmutableID: "3PNdoRZES0GLfV+9y1dDwQ==",
				Hex:         "DCF35DA116444B418B7D5FBDCB5743C1",
				ConnectorDN: "CN={33504E646F525A455330474C66562B397931644477513D3D}",
				LDAPFilter:  `(objectGUID=\dc\f3\5d\a1\16\44\4b\41\8b\7d\5f\bd\cb\57\43\c1)`,
			}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("JSON (-want +got), see %s:\n%s", docImmutableID, diff)
			}
		})
	}
}

func TestImmutableIDWarnsAboutUndashedGUIDs(t *testing.T) {
	code, out, _ := execute(t, "", "immutableid", "3ab39606c642489b84b658c038d3ef39")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(out, "input form:    hex") || !strings.Contains(out, "its immutableId is BpazOkLGm0iEtljAONPvOQ==") {
		t.Errorf("the note about GUIDs without dashes is missing:\n%s", out)
	}
}

func TestExitCodes(t *testing.T) {
	cases := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"no command", nil, 2, "Commands:"},
		{"help", []string{"help"}, 0, "immutableid"},
		{"unknown command", []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{"immutableid without value", []string{"immutableid"}, 2, "want exactly one VALUE"},
		{"immutableid with two values", []string{"immutableid", "a", "b"}, 2, "want exactly one VALUE"},
		{"immutableid -h", []string{"immutableid", "-h"}, 0, "Usage: entramatch immutableid"},
		{"immutableid bad format", []string{"immutableid", "-o", "xml", "x"}, 2, "-o must be text, json or yaml"},
		{"immutableid unknown flag", []string{"immutableid", "--nope", "x"}, 2, "flag provided but not defined"},
		{"immutableid garbage", []string{"immutableid", "alice"}, 1, "invalid anchor"},
		{"anchor without lookup", []string{"anchor", "--url", "ldaps://dc", "--bind-dn", "x", "--password-file", "f"}, 2, "give one of"},
		{"anchor with two lookups", []string{"anchor", "--sam", "a", "--upn", "b"}, 2, "exactly one of"},
		{"anchor without connection flags", []string{"anchor", "--sam", "a"}, 2, "are required"},
		{"anchor with a bad mode", []string{"anchor", "--sam", "a", "--url", "ldaps://dc", "--bind-dn", "x", "--password-file", "f", "--anchor-attribute", "cn"}, 2, "unknown anchor attribute"},
		{"anchor with a missing password file", []string{"anchor", "--sam", "a", "--url", "ldaps://dc", "--bind-dn", "x", "--password-file", "/nonexistent/pw"}, 1, "reading the password"},
		{"anchor with plain LDAP", []string{"anchor", "--sam", "a", "--url", "ldap://127.0.0.1:1", "--bind-dn", "x", "--password-file", "-"}, 1, "in clear"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := execute(t, "secret\n", tc.args...)
			if code != tc.wantCode {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tc.wantCode, errOut)
			}
			if !strings.Contains(errOut, tc.wantErr) {
				t.Errorf("stderr lacks %q:\n%s", tc.wantErr, errOut)
			}
			if strings.Contains(errOut, "secret") {
				t.Errorf("stderr shows the password:\n%s", errOut)
			}
		})
	}
}

func TestProgramName(t *testing.T) {
	cases := map[string]string{
		"/usr/local/bin/kubectl-entramatch": "kubectl entramatch",
		"./entramatch":                      "entramatch",
		"kubectl-":                          "kubectl-",
	}
	for in, want := range cases {
		if got := programName(in); got != want {
			t.Errorf("programName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestReadSecret(t *testing.T) {
	for in, want := range map[string]string{"pw\n": "pw", "pw\r\n": "pw", "pw": "pw", " pw \n": " pw "} {
		got, err := readSecret("-", strings.NewReader(in))
		if err != nil || got != want {
			t.Errorf("readSecret(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := readSecret("-", strings.NewReader("\n")); err == nil {
		t.Error("an empty password was accepted")
	}
}
