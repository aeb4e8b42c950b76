package anchor

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	// The byte order of GUID text versus the raw value.
	docToByteArray = "https://learn.microsoft.com/en-us/dotnet/api/system.guid.tobytearray"
	// immutableId = Base64 of the sourceAnchor bytes; connector DN form.
	docDesignConcepts = "https://learn.microsoft.com/en-us/entra/identity/hybrid/connect/plan-connect-design-concepts"
	// onPremisesImmutableId: '$' and '_' are refused.
	docGraphUser = "https://learn.microsoft.com/en-us/graph/api/resources/user"
)

type forms struct {
	GUID, ImmutableID, Hex, ConnectorDN, LDAPFilter string
}

func formsOf(a Anchor) forms {
	return forms{a.GUID(), a.ImmutableID(), a.Hex(), a.ConnectorDN(), a.LDAPFilterValue()}
}

// The examples of the project reference (entra.md §2), computed there by hand
// from the documented byte order.
var knownAnchors = []struct {
	name  string
	doc   string
	bytes []byte
	want  forms
}{
	{
		name:  "reference example 1",
		doc:   docToByteArray,
		bytes: []byte{0x06, 0x96, 0xB3, 0x3A, 0x42, 0xC6, 0x9B, 0x48, 0x84, 0xB6, 0x58, 0xC0, 0x38, 0xD3, 0xEF, 0x39},
		want: forms{
			GUID:        "3ab39606-c642-489b-84b6-58c038d3ef39",
			ImmutableID: "BpazOkLGm0iEtljAONPvOQ==",
			Hex:         "0696B33A42C69B4884B658C038D3EF39",
			ConnectorDN: "CN={4270617A4F6B4C476D306945746C6A414F4E50764F513D3D}",
			LDAPFilter:  `\06\96\b3\3a\42\c6\9b\48\84\b6\58\c0\38\d3\ef\39`,
		},
	},
	{
		name:  "reference example 2",
		doc:   docDesignConcepts,
		bytes: []byte{0xDC, 0xF3, 0x5D, 0xA1, 0x16, 0x44, 0x4B, 0x41, 0x8B, 0x7D, 0x5F, 0xBD, 0xCB, 0x57, 0x43, 0xC1},
		want: forms{
			GUID:        "a15df3dc-4416-414b-8b7d-5fbdcb5743c1",
			ImmutableID: "3PNdoRZES0GLfV+9y1dDwQ==",
			Hex:         "DCF35DA116444B418B7D5FBDCB5743C1",
			ConnectorDN: "CN={33504E646F525A455330474C66562B397931644477513D3D}",
			LDAPFilter:  `\dc\f3\5d\a1\16\44\4b\41\8b\7d\5f\bd\cb\57\43\c1`,
		},
	},
}

func TestFormsOfKnownAnchors(t *testing.T) {
	for _, tc := range knownAnchors {
		t.Run(tc.name, func(t *testing.T) {
			a, err := FromBytes(tc.bytes)
			if err != nil {
				t.Fatalf("FromBytes: %v", err)
			}
			if diff := cmp.Diff(tc.want, formsOf(a)); diff != "" {
				t.Errorf("forms (-want +got), see %s:\n%s", tc.doc, diff)
			}
			if diff := cmp.Diff(tc.bytes, a.Bytes()); diff != "" {
				t.Errorf("Bytes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseEveryFormOfKnownAnchors(t *testing.T) {
	for _, tc := range knownAnchors {
		inputs := []struct {
			in   string
			form Form
		}{
			{tc.want.GUID, FormGUID},
			{strings.ToUpper(tc.want.GUID), FormGUID},
			{"{" + tc.want.GUID + "}", FormGUID},
			{"  " + tc.want.GUID + "\n", FormGUID},
			{tc.want.ImmutableID, FormImmutableID},
			{strings.TrimRight(tc.want.ImmutableID, "="), FormImmutableID},
			{tc.want.Hex, FormHex},
			{strings.ToLower(tc.want.Hex), FormHex},
			{spaced(tc.want.Hex, " "), FormHex},
			{spaced(tc.want.Hex, "-"), FormHex},
			{spaced(tc.want.Hex, ":"), FormHex},
			{tc.want.ConnectorDN, FormConnectorDN},
			{"cn=" + tc.want.ConnectorDN[3:], FormConnectorDN},
			{tc.want.LDAPFilter, FormLDAPFilter},
			{strings.ToUpper(tc.want.LDAPFilter), FormLDAPFilter},
		}
		for _, in := range inputs {
			t.Run(tc.name+"/"+in.in, func(t *testing.T) {
				a, form, err := ParseForm(in.in)
				if err != nil {
					t.Fatalf("ParseForm(%q): %v", in.in, err)
				}
				if form != in.form {
					t.Errorf("form = %q, want %q", form, in.form)
				}
				if diff := cmp.Diff(tc.bytes, a.Bytes()); diff != "" {
					t.Errorf("bytes (-want +got), see %s:\n%s", tc.doc, diff)
				}
			})
		}
	}
}

// spaced writes hex two digits at a time with sep between bytes, as LDAP
// tools and PowerShell's BitConverter print octet strings.
func spaced(h, sep string) string {
	parts := make([]string, 0, len(h)/2)
	for i := 0; i < len(h); i += 2 {
		parts = append(parts, h[i:i+2])
	}
	return strings.Join(parts, sep)
}

func TestParseRejects(t *testing.T) {
	cases := []struct {
		name, in string
	}{
		{"empty", ""},
		{"blank", "   "},
		{"GUID without dashes is raw hex only when 32 digits; 31 digits is nothing", "3ab39606c642489b84b658c038d3ef3"},
		{"GUID with a non-hex digit", "3ab39606-c642-489b-84b6-58c038d3ef3g"},
		{"GUID with dashes in the wrong places", "3ab3960-6c642-489b-84b6-58c038d3ef39"},
		{"GUID with extra dashes", "3ab39606-c642-489b-84b6-58c03-8d3ef39"},
		{"GUID with one brace", "{3ab39606-c642-489b-84b6-58c038d3ef39"},
		{"immutableId of 15 bytes", "BpazOkLGm0iEtljAONPv"},
		{"immutableId of 17 bytes", "BpazOkLGm0iEtljAONPvOQE="},
		{"immutableId in URL-safe alphabet", "3PNdoRZES0GLfV-9y1dDwQ=="},
		{"immutableId with wrong padding", "BpazOkLGm0iEtljAONPvOQ="},
		{"immutableId with non-canonical trailing bits", "BpazOkLGm0iEtljAONPvOR=="},
		{"hex of 17 bytes", "0696B33A42C69B4884B658C038D3EF3901"},
		{"hex split into groups that are not bytes", "0696-B33A-42C6-9B48-84B6-58C0-38D3-EF39"},
		{"connector DN with odd hex", "CN={4270617A4F6B4C476D306945746C6A414F4E50764F513D3}"},
		{"connector DN of a short immutableId", "CN={4270617A}"},
		{"connector DN without closing brace", "CN={4270617A4F6B4C476D306945746C6A414F4E50764F513D3D"},
		{"escape missing a backslash", `\06\96\b3\3a\42\c6\9b\48\84\b6\58\c0\38\d3\ef 39`},
		{"escape with bad hex", `\06\96\b3\3a\42\c6\9b\48\84\b6\58\c0\38\d3\ef\3z`},
		{"escape too short", `\06\96`},
		{"filter injection", "*)(objectClass=*"},
		{"a user name", "alice"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, err := Parse(tc.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %s, want an error", tc.in, a)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("Parse(%q) error %v does not wrap ErrInvalid", tc.in, err)
			}
		})
	}
}

// A GUID written without dashes is read as raw bytes; this pins that choice
// (documented on ParseForm) so that it cannot change silently.
func TestParseGUIDWithoutDashesIsRawHex(t *testing.T) {
	a, form, err := ParseForm("3ab39606c642489b84b658c038d3ef39")
	if err != nil {
		t.Fatal(err)
	}
	if form != FormHex {
		t.Errorf("form = %q, want %q", form, FormHex)
	}
	if got, notWant := a.ImmutableID(), "BpazOkLGm0iEtljAONPvOQ=="; got == notWant {
		t.Errorf("undashed GUID text was byte-swapped like a GUID, got %s", got)
	}
	if got, want := a.GUID(), "0696b33a-42c6-9b48-84b6-58c038d3ef39"; got != want {
		t.Errorf("GUID() = %s, want %s", got, want)
	}
}

func TestFromBytesRejectsWrongLength(t *testing.T) {
	for _, n := range []int{0, 15, 17, 20} {
		if _, err := FromBytes(make([]byte, n)); !errors.Is(err, ErrInvalid) {
			t.Errorf("FromBytes(%d bytes) error = %v, want ErrInvalid", n, err)
		}
	}
}

func TestFromHexRefusesGUIDText(t *testing.T) {
	if _, err := FromHex("3ab39606-c642-489b-84b6-58c038d3ef39"); !errors.Is(err, ErrInvalid) {
		t.Errorf("FromHex(GUID text) error = %v, want ErrInvalid", err)
	}
}

func TestBytesIsACopy(t *testing.T) {
	a, _ := FromBytes(knownAnchors[0].bytes)
	b := a.Bytes()
	b[0] = 0xFF
	if a[0] != 0x06 {
		t.Errorf("changing the result of Bytes changed the anchor")
	}
}

func TestIsZero(t *testing.T) {
	if !(Anchor{}).IsZero() {
		t.Error("zero anchor: IsZero() = false")
	}
	a, _ := FromBytes(knownAnchors[0].bytes)
	if a.IsZero() {
		t.Error("real anchor: IsZero() = true")
	}
}

func TestValidateImmutableID(t *testing.T) {
	cases := []struct {
		name    string
		doc     string
		in      string
		wantErr bool
	}{
		{"GUID anchor", docDesignConcepts, "BpazOkLGm0iEtljAONPvOQ==", false},
		{"Base64 of 20 bytes set by another tool", docDesignConcepts, "AAECAwQFBgcICQoLDA0ODxAREhM=", false},
		{"employee number", docDesignConcepts, "E104233", false},
		{"59 characters", docDesignConcepts, strings.Repeat("a", 59), false},
		{"60 characters", docDesignConcepts, strings.Repeat("a", 60), true},
		{"empty", docGraphUser, "", true},
		{"dollar", docGraphUser, "abc$def", true},
		{"underscore", docGraphUser, "abc_def", true},
		{"inner space", docDesignConcepts, "Bpaz OkLGm0iEtljAONPvOQ==", true},
		{"trailing newline from a file", docDesignConcepts, "BpazOkLGm0iEtljAONPvOQ==\n", true},
		{"invalid UTF-8", docDesignConcepts, "abc\xff", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateImmutableID(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ValidateImmutableID(%q) = %v, wantErr %v (see %s)", tc.in, err, tc.wantErr, tc.doc)
			}
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
		})
	}
}

func TestIsGUIDImmutableID(t *testing.T) {
	cases := map[string]bool{
		"BpazOkLGm0iEtljAONPvOQ==":     true,
		"BpazOkLGm0iEtljAONPvOQ":       false, // valid anchor, but not what Entra stores
		"AAECAwQFBgcICQoLDA0ODxAREhM=": false,
		"E104233":                      false,
		"":                             false,
	}
	for in, want := range cases {
		if got := IsGUIDImmutableID(in); got != want {
			t.Errorf("IsGUIDImmutableID(%q) = %v, want %v", in, got, want)
		}
	}
}
