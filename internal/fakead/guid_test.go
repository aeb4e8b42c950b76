package fakead

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseGUID(t *testing.T) {
	cases := []struct {
		doc         string
		text        string
		wantHex     string // objectGUID bytes as AD returns them
		immutableID string
	}{
		{docAnchor, "3ab39606-c642-489b-84b6-58c038d3ef39", "0696b33a42c69b4884b658c038d3ef39", "BpazOkLGm0iEtljAONPvOQ=="},
		{docAnchor, "a15df3dc-4416-414b-8b7d-5fbdcb5743c1", "dcf35da116444b418b7d5fbdcb5743c1", "3PNdoRZES0GLfV+9y1dDwQ=="},
		{docAnchor, "{A15DF3DC-4416-414B-8B7D-5FBDCB5743C1}", "dcf35da116444b418b7d5fbdcb5743c1", "3PNdoRZES0GLfV+9y1dDwQ=="},
	}
	for _, tc := range cases {
		t.Run(tc.text, func(t *testing.T) {
			g, err := ParseGUID(tc.text)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantHex, hex.EncodeToString(g[:])); diff != "" {
				t.Errorf("bytes mismatch (doc %s) (-want +got):\n%s", tc.doc, diff)
			}
			if got := base64.StdEncoding.EncodeToString(g[:]); got != tc.immutableID {
				t.Errorf("immutableId %s, want %s (doc %s)", got, tc.immutableID, tc.doc)
			}
			again, err := ParseGUID(g.String())
			if err != nil || again != g {
				t.Errorf("String() %q does not parse back to the same GUID", g.String())
			}
		})
	}
	if _, err := ParseGUID("not-a-guid"); err == nil {
		t.Error("ParseGUID accepted garbage")
	}
}

func TestNewGUID(t *testing.T) {
	a, err := NewGUID()
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewGUID()
	if err != nil {
		t.Fatal(err)
	}
	if a == b || a.IsZero() {
		t.Fatalf("NewGUID gave %s and %s", a, b)
	}
	// Version 4, RFC 4122 variant, as Windows generates them.
	if s := a.String(); s[14] != '4' || (s[19] != '8' && s[19] != '9' && s[19] != 'a' && s[19] != 'b') {
		t.Errorf("NewGUID %s is not a version 4 GUID", s)
	}
}

func TestGUIDJSON(t *testing.T) {
	type doc struct {
		G GUID  `json:"g,omitzero"`
		P *GUID `json:"p,omitempty"`
	}
	g := mustGUID("3ab39606-c642-489b-84b6-58c038d3ef39")
	out, err := json.Marshal(doc{G: g})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(`{"g":"3ab39606-c642-489b-84b6-58c038d3ef39"}`, string(out)); diff != "" {
		t.Errorf("marshal mismatch (-want +got):\n%s", diff)
	}
	var back doc
	if err := json.Unmarshal([]byte(`{"g":"3ab39606-c642-489b-84b6-58c038d3ef39","p":"a15df3dc-4416-414b-8b7d-5fbdcb5743c1"}`), &back); err != nil {
		t.Fatal(err)
	}
	if back.G != g || back.P == nil || *back.P != mustGUID("a15df3dc-4416-414b-8b7d-5fbdcb5743c1") {
		t.Errorf("unmarshal gave %+v", back)
	}
	if out, _ := json.Marshal(doc{}); string(out) != "{}" {
		t.Errorf("zero GUID marshals as %s, want it left out", out)
	}
	if err := json.Unmarshal([]byte(`{"g":"nope"}`), &back); err == nil {
		t.Error("unmarshal accepted an invalid GUID")
	}
}
