//go:build !unit

// Excluded from make unit (-tags unit): it needs a Samba AD DC.

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/entramatch/entra-match-operator/internal/testenv/samba"
)

var sharedDC samba.Shared

func TestMain(m *testing.M) {
	code := m.Run()
	sharedDC.Stop()
	os.Exit(code)
}

func TestAnchorAgainstSamba(t *testing.T) {
	dc := sharedDC.Get(t)
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, dc.CAPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	pwFile := filepath.Join(dir, "password")
	if err := os.WriteFile(pwFile, []byte(dc.Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sam := samba.UniqueName(t, "cli")
	dn := dc.CreateUser(t, samba.User{Sam: sam, UPN: sam + "@" + dc.DNSDomain, Mail: sam + "@example.com"})
	guid := dc.GUIDString(t, sam)
	consistency := []byte{0xDC, 0xF3, 0x5D, 0xA1, 0x16, 0x44, 0x4B, 0x41, 0x8B, 0x7D, 0x5F, 0xBD, 0xCB, 0x57, 0x43, 0xC1}

	connect := []string{"anchor", "--url", dc.URL, "--bind-dn", dc.BindUPN, "--password-file", pwFile, "--ca-file", caFile}

	t.Run("text, objectGUID only", func(t *testing.T) {
		code, out, errOut := execute(t, "", append(connect, "--sam", sam)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		for _, want := range []string{"objectGUID GUID:", guid, "mS-DS-ConsistencyGuid:", "(empty)", "source anchor (Auto):", "onPremisesImmutableId:"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})

	dc.SetConsistencyGUID(t, dn, consistency)
	for _, tc := range []struct {
		mode, wantGUID string
	}{
		{"Auto", "a15df3dc-4416-414b-8b7d-5fbdcb5743c1"},
		{"mS-DS-ConsistencyGuid", "a15df3dc-4416-414b-8b7d-5fbdcb5743c1"},
		{"objectGUID", guid},
	} {
		t.Run("json, "+tc.mode, func(t *testing.T) {
			args := append(connect, "--upn", sam+"@"+dc.DNSDomain, "--anchor-attribute", tc.mode, "-o", "json")
			code, out, errOut := execute(t, "", args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			var got anchorOutput
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, out)
			}
			if got.ObjectGUID.GUID != guid {
				t.Errorf("objectGUID = %s, samba-tool prints %s", got.ObjectGUID.GUID, guid)
			}
			if got.SourceAnchor == nil || got.SourceAnchor.GUID != tc.wantGUID {
				t.Errorf("source anchor = %+v (%s), want %s", got.SourceAnchor, got.SourceAnchorError, tc.wantGUID)
			}
			if got.ConsistencyGUID == nil || got.ConsistencyGUID.ImmutableID != "3PNdoRZES0GLfV+9y1dDwQ==" {
				t.Errorf("mS-DS-ConsistencyGuid = %+v", got.ConsistencyGUID)
			}
		})
	}

	t.Run("password from stdin, lookup by GUID", func(t *testing.T) {
		args := []string{"anchor", "--url", dc.URL, "--bind-dn", dc.BindUPN, "--password-file", "-", "--ca-file", caFile, "--guid", guid}
		code, out, errOut := execute(t, dc.Password, args...)
		if code != 0 || !strings.Contains(out, dn) {
			t.Fatalf("exit %d, stdout %s, stderr %s", code, out, errOut)
		}
	})

	t.Run("unknown user", func(t *testing.T) {
		code, _, errOut := execute(t, "", append(connect, "--sam", samba.UniqueName(t, "none"))...)
		if code != 1 || !strings.Contains(errOut, "not found") {
			t.Fatalf("exit %d, stderr %s", code, errOut)
		}
	})

	t.Run("untrusted certificate", func(t *testing.T) {
		args := []string{"anchor", "--url", dc.URL, "--bind-dn", dc.BindUPN, "--password-file", pwFile, "--sam", sam}
		code, _, errOut := execute(t, "", args...)
		if code != 1 || !strings.Contains(errOut, "TLS") {
			t.Fatalf("exit %d, stderr %s", code, errOut)
		}
		if strings.Contains(errOut, dc.Password) {
			t.Errorf("stderr shows the password")
		}
	})
}
