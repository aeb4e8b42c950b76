package fakead

import (
	"encoding/binary"
	"testing"
	"unicode/utf16"

	"github.com/google/go-cmp/cmp"
	"github.com/jimlambrt/gldap"
)

// unicodePwd encodes a password as AD wants it: quoted, UTF-16LE.
func unicodePwd(p string) []byte {
	units := utf16.Encode([]rune(`"` + p + `"`))
	b := make([]byte, 2*len(units))
	for i, u := range units {
		binary.LittleEndian.PutUint16(b[2*i:], u)
	}
	return b
}

func TestApplyChanges(t *testing.T) {
	sch := newSchema()
	guidA := mustGUID("3ab39606-c642-489b-84b6-58c038d3ef39")
	guidB := mustGUID("a15df3dc-4416-414b-8b7d-5fbdcb5743c1")
	base := func() *entry {
		e := &entry{dn: "CN=u,CN=Users," + testBase, attrs: map[string][][]byte{}}
		e.setString("objectClass", "top", "person", "organizationalPerson", "user")
		e.setString("mail", "a@contoso.com")
		e.setString("proxyAddresses", "SMTP:a@contoso.com", "smtp:b@contoso.com")
		e.setString("userAccountControl", "512")
		return e
	}
	withGUID := func() *entry {
		e := base()
		e.set("mS-DS-ConsistencyGuid", guidA[:])
		return e
	}
	add := func(attr string, v ...[]byte) change { return change{op: modAdd, attr: attr, values: v} }
	del := func(attr string, v ...[]byte) change { return change{op: modDelete, attr: attr, values: v} }
	rep := func(attr string, v ...[]byte) change { return change{op: modReplace, attr: attr, values: v} }
	b := func(s string) []byte { return []byte(s) }

	cases := []struct {
		name       string
		doc        string
		start      func() *entry
		changes    []change
		permissive bool
		wantCode   int                 // 0: success
		want       map[string][][]byte // attributes to compare after success
	}{
		{name: "add to an empty single-valued attribute", start: base,
			changes: []change{add("mS-DS-ConsistencyGuid", guidA[:])},
			want:    map[string][][]byte{"mS-DS-ConsistencyGuid": {guidA[:]}}},
		{name: "add to a single-valued attribute that has a value", doc: docADTSModify, start: withGUID,
			changes:  []change{add("mS-DS-ConsistencyGuid", guidB[:])},
			wantCode: gldap.ResultAttributeOrValueExists},
		{name: "add the value already there", doc: docADTSModify, start: withGUID,
			changes:  []change{add("mS-DS-ConsistencyGuid", guidA[:])},
			wantCode: gldap.ResultAttributeOrValueExists},
		{name: "permissive add of the value already there", doc: docADTSModify, start: withGUID, permissive: true,
			changes: []change{add("mS-DS-ConsistencyGuid", guidA[:])},
			want:    map[string][][]byte{"mS-DS-ConsistencyGuid": {guidA[:]}}},
		{name: "permissive add of another value to a single-valued attribute", doc: docADTSModify, start: withGUID, permissive: true,
			changes:  []change{add("mS-DS-ConsistencyGuid", guidB[:])},
			wantCode: gldap.ResultAttributeOrValueExists},
		{name: "delete an absent value", doc: docADTSModify, start: base,
			changes:  []change{del("mS-DS-ConsistencyGuid", guidA[:])},
			wantCode: gldap.ResultNoSuchAttribute},
		{name: "delete an absent attribute", doc: docADTSModify, start: base,
			changes:  []change{del("mS-DS-ConsistencyGuid")},
			wantCode: gldap.ResultNoSuchAttribute},
		{name: "permissive delete of an absent attribute", doc: docADTSModify, start: base, permissive: true,
			changes: []change{del("mS-DS-ConsistencyGuid")},
			want:    map[string][][]byte{"mS-DS-ConsistencyGuid": nil}},
		{name: "compare and swap fails as a whole when the old value differs", doc: docADTSModify, start: withGUID,
			changes:  []change{del("mS-DS-ConsistencyGuid", guidB[:]), add("mS-DS-ConsistencyGuid", guidB[:])},
			wantCode: gldap.ResultNoSuchAttribute},
		{name: "compare and swap with the right old value", start: withGUID,
			changes: []change{del("mS-DS-ConsistencyGuid", guidA[:]), add("mS-DS-ConsistencyGuid", guidB[:])},
			want:    map[string][][]byte{"mS-DS-ConsistencyGuid": {guidB[:]}}},
		{name: "binary values compare byte for byte", start: withGUID,
			changes:  []change{del("mS-DS-ConsistencyGuid", append(guidA[:15:15], guidA[15]^0x20))},
			wantCode: gldap.ResultNoSuchAttribute},
		{name: "delete a whole attribute", start: withGUID,
			changes: []change{del("mS-DS-ConsistencyGuid")},
			want:    map[string][][]byte{"mS-DS-ConsistencyGuid": nil}},
		{name: "proxy addresses differing in case are the same value", start: base,
			changes:  []change{add("proxyAddresses", b("smtp:A@CONTOSO.COM"))},
			wantCode: gldap.ResultAttributeOrValueExists},
		{name: "delete a proxy address ignoring case", start: base,
			changes: []change{del("proxyAddresses", b("SMTP:B@contoso.com"))},
			want:    map[string][][]byte{"proxyAddresses": {b("SMTP:a@contoso.com")}}},
		{name: "add to a multi-valued attribute", start: base,
			changes: []change{add("proxyAddresses", b("smtp:c@contoso.com"))},
			want:    map[string][][]byte{"proxyAddresses": {b("SMTP:a@contoso.com"), b("smtp:b@contoso.com"), b("smtp:c@contoso.com")}}},
		{name: "all or nothing", start: base,
			changes:  []change{rep("mail", b("new@contoso.com")), add("proxyAddresses", b("SMTP:a@contoso.com"))},
			wantCode: gldap.ResultAttributeOrValueExists},
		{name: "replace a single-valued attribute with two values", start: base,
			changes:  []change{rep("mail", b("x@contoso.com"), b("y@contoso.com"))},
			wantCode: gldap.ResultConstraintViolation},
		{name: "replace with no values removes", start: base,
			changes: []change{rep("mail")},
			want:    map[string][][]byte{"mail": nil}},
		{name: "replace an absent attribute with no values", start: base,
			changes: []change{rep("mS-DS-ConsistencyGuid")},
			want:    map[string][][]byte{"mS-DS-ConsistencyGuid": nil}},
		{name: "unknown attribute", start: base,
			changes:  []change{rep("noSuchAttribute", b("x"))},
			wantCode: gldap.ResultUndefinedAttributeType},
		{name: "objectGUID is system-only", start: base,
			changes:  []change{rep("objectGUID", guidB[:])},
			wantCode: gldap.ResultConstraintViolation},
		{name: "cn needs a rename", start: base,
			changes:  []change{rep("cn", b("other"))},
			wantCode: gldap.ResultNotAllowedOnRDN},
		{name: "memberOf is a backlink", start: base,
			changes:  []change{add("memberOf", b("CN=Sales,CN=Users,"+testBase))},
			wantCode: gldap.ResultUnwillingToPerform},
		{name: "objectClass cannot change", start: base,
			changes:  []change{add("objectClass", b("contact"))},
			wantCode: gldap.ResultObjectClassModsProhibited},
		{name: "integer syntax", start: base,
			changes:  []change{rep("userAccountControl", b("enabled"))},
			wantCode: gldap.ResultInvalidAttributeSyntax},
		{name: "DN syntax", start: base,
			changes:  []change{rep("manager", b("not a dn"))},
			wantCode: gldap.ResultInvalidAttributeSyntax},
		{name: "increment is not offered", start: base,
			changes:  []change{{op: modIncrement, attr: "userAccountControl", values: [][]byte{b("1")}}},
			wantCode: gldap.ResultUnwillingToPerform},
		{name: "unknown operation", start: base,
			changes:  []change{{op: 7, attr: "mail", values: [][]byte{b("x@y")}}},
			wantCode: gldap.ResultProtocolError},
		{name: "attribute names ignore case", start: base,
			changes: []change{rep("MAIL", b("m@contoso.com"))},
			want:    map[string][][]byte{"mail": {b("m@contoso.com")}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			start := tc.start()
			before := start.clone()
			res, lerr := applyChanges(sch, start, tc.changes, tc.permissive)
			if diff := cmp.Diff(before.attrs, start.attrs); diff != "" {
				t.Fatalf("applyChanges changed its input (-before +after):\n%s", diff)
			}
			if tc.wantCode != 0 {
				if lerr == nil {
					t.Fatalf("succeeded, want result %d (doc %s)", tc.wantCode, tc.doc)
				}
				if lerr.code != tc.wantCode {
					t.Fatalf("result %d (%s), want %d (doc %s)", lerr.code, lerr.diag, tc.wantCode, tc.doc)
				}
				return
			}
			if lerr != nil {
				t.Fatalf("failed: %v", lerr)
			}
			got := map[string][][]byte{}
			for attr := range tc.want {
				got[attr] = res.entry.values(attr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("attributes mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestApplyChangesPassword(t *testing.T) {
	sch := newSchema()
	e := &entry{attrs: map[string][][]byte{}}
	if err := e.setPassword("old-Passw0rd"); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		changes  []change
		wantPW   string
		wantCode int
	}{
		{"administrator reset", []change{{op: modReplace, attr: "unicodePwd", values: [][]byte{unicodePwd("new-Passw0rd")}}}, "new-Passw0rd", 0},
		{"user change with the old password", []change{
			{op: modDelete, attr: "unicodePwd", values: [][]byte{unicodePwd("old-Passw0rd")}},
			{op: modAdd, attr: "unicodePwd", values: [][]byte{unicodePwd("new-Passw0rd")}},
		}, "new-Passw0rd", 0},
		{"user change with a wrong old password", []change{
			{op: modDelete, attr: "unicodePwd", values: [][]byte{unicodePwd("wrong")}},
			{op: modAdd, attr: "unicodePwd", values: [][]byte{unicodePwd("new-Passw0rd")}},
		}, "", gldap.ResultConstraintViolation},
		{"not quoted", []change{{op: modReplace, attr: "unicodePwd", values: [][]byte{[]byte("p\x00w\x00")}}}, "", gldap.ResultUnwillingToPerform},
		{"odd length", []change{{op: modReplace, attr: "unicodePwd", values: [][]byte{[]byte("abc")}}}, "", gldap.ResultUnwillingToPerform},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, lerr := applyChanges(sch, e, tc.changes, false)
			if tc.wantCode != 0 {
				if lerr == nil || lerr.code != tc.wantCode {
					t.Fatalf("got %v, want result %d", lerr, tc.wantCode)
				}
				return
			}
			if lerr != nil {
				t.Fatal(lerr)
			}
			if res.password == nil || *res.password != tc.wantPW {
				t.Fatalf("password change not recognised")
			}
		})
	}
}
