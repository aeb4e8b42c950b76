package syncrules

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestPlanDeletions(t *testing.T) {
	synced := func(id, anchor string) CloudObject {
		return CloudObject{ID: id, Type: User, OnPremisesImmutableID: anchor, OnPremisesSyncEnabled: Synced(true)}
	}
	cloud := []CloudObject{
		synced("u3", "c"), synced("u1", "a"), synced("u2", "b"), synced("u4", "d"),
		{ID: "cloud-only", Type: User},
		{ID: "out-of-scope", Type: User, OnPremisesImmutableID: "e", OnPremisesSyncEnabled: Synced(false)},
		{ID: "deleted", Type: User, OnPremisesImmutableID: "f", OnPremisesSyncEnabled: Synced(true), Deleted: true},
	}
	exp := func(anchors ...string) []Export {
		var out []Export
		for _, a := range anchors {
			out = append(out, Export{Type: User, SourceAnchor: a})
		}
		return out
	}
	tests := []struct {
		name     string
		doc      string
		exported []Export
		p        DeletionPrevention
		want     DeletionPlan
		wantErr  bool
	}{
		{name: "nothing missing", doc: docDeletes, exported: exp("a", "b", "c", "d"), want: DeletionPlan{}},
		{name: "missing anchors deleted, sorted; cloud-only and unsynced untouched", doc: docTshoot + "#invalidhardmatch",
			exported: exp("b"), want: DeletionPlan{Delete: []string{"u1", "u3", "u4"}}},
		{name: "anchors are case-sensitive", doc: docExisting, exported: exp("A", "b", "c", "d"),
			want: DeletionPlan{Delete: []string{"u1"}}},
		{name: "count threshold reached but not exceeded", doc: docDeletes, exported: exp("a", "b"),
			p: DeletionPrevention{Type: PreventionForCount, Threshold: 2}, want: DeletionPlan{Delete: []string{"u3", "u4"}}},
		{name: "count threshold exceeded blocks all", doc: docDeletes, exported: exp("a"),
			p:    DeletionPrevention{Type: PreventionForCount, Threshold: 2},
			want: DeletionPlan{Delete: []string{"u2", "u3", "u4"}, Blocked: true, Reason: "3 deletions exceed the threshold of 2 objects"}},
		{name: "percentage threshold exceeded", doc: docDeletes, exported: exp("a", "b"),
			p: DeletionPrevention{Type: PreventionForPercentage, Threshold: 40},
			want: DeletionPlan{Delete: []string{"u3", "u4"}, Blocked: true,
				Reason: "2 of 4 synced objects (50.0%) exceed the threshold of 40%"}},
		{name: "percentage threshold not exceeded", doc: docDeletes, exported: exp("a", "b"),
			p: DeletionPrevention{Type: PreventionForPercentage, Threshold: 50}, want: DeletionPlan{Delete: []string{"u3", "u4"}}},
		{name: "disabled never blocks", doc: docDeletes, exported: nil,
			p: DeletionPrevention{Type: PreventionDisabled, Threshold: 0}, want: DeletionPlan{Delete: []string{"u1", "u2", "u3", "u4"}}},
		{name: "unknown type rejected", doc: docDeletes, p: DeletionPrevention{Type: "sometimes"}, wantErr: true},
		{name: "negative threshold rejected", doc: docDeletes, p: DeletionPrevention{Type: PreventionForCount, Threshold: -1}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PlanDeletions(cloud, tt.exported, tt.p)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("PlanDeletions mismatch (-want +got), per %s:\n%s", tt.doc, diff)
			}
		})
	}
}

func TestStaticDirectoryLookups(t *testing.T) {
	d := StaticDirectory{
		Initial:  initial,
		Verified: []string{"Contoso.com"},
		Objects: []CloudObject{
			{ID: "a", UserPrincipalName: "A@contoso.com", ProxyAddresses: []string{"smtp:sec@contoso.com", "SMTP:prim@contoso.com"}, OnPremisesImmutableID: "X"},
			{ID: "b", Mail: "mailonly@contoso.com"},
		},
	}
	ids := func(objs []CloudObject) []string {
		var out []string
		for _, o := range objs {
			out = append(out, o.ID)
		}
		return out
	}
	tests := []struct {
		name string
		got  []string
		want []string
	}{
		{"immutable id exact", ids(d.ByImmutableID("X")), []string{"a"}},
		{"immutable id case-sensitive", ids(d.ByImmutableID("x")), nil},
		{"empty never matches", ids(d.ByUPN("")), nil},
		{"upn case-insensitive", ids(d.ByUPN("a@CONTOSO.com")), []string{"a"}},
		{"primary is the SMTP: value", ids(d.ByPrimarySMTP("PRIM@contoso.com")), []string{"a"}},
		{"secondary is not primary", ids(d.ByPrimarySMTP("sec@contoso.com")), nil},
		{"mail is primary without proxies", ids(d.ByPrimarySMTP("mailonly@contoso.com")), []string{"b"}},
		{"proxy lookup sees secondaries", ids(d.ByProxyAddress("SEC@contoso.com")), []string{"a"}},
		{"proxy lookup sees mail", ids(d.ByProxyAddress("mailonly@contoso.com")), []string{"b"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, tt.got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
	for dom, want := range map[string]bool{"contoso.com": true, initial: true, "CONTOSO.ONMICROSOFT.COM": true, "contoso.local": false, "": false} {
		if got := d.VerifiedDomain(dom); got != want {
			t.Errorf("VerifiedDomain(%q) = %v, want %v", dom, got, want)
		}
	}
}
