package demo

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/emulator"
)

func cond(typ string, status metav1.ConditionStatus, reason, msg string) metav1.Condition {
	return metav1.Condition{Type: typ, Status: status, Reason: reason, Message: msg}
}

func um(name string, conds ...metav1.Condition) identityv1alpha1.UserMatch {
	return identityv1alpha1.UserMatch{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: identityv1alpha1.UserMatchStatus{Conditions: conds}}
}

// A small story with one role of each kind the report distinguishes.
func reportStory() Story {
	return Story{
		Operator: Operator{UserMatches: []UserMatch{
			{Name: "carol", ADUser: identityv1alpha1.ADUserSelector{SAMAccountName: "carol"}},
			{Name: "grace", ADUser: identityv1alpha1.ADUserSelector{SAMAccountName: "grace"}},
		}},
		Cast: []Role{
			{AD: "alice", Expect: Expect{Sync: "SoftMatchSmtp"}},
			{AD: "carol", Expect: Expect{Settled: "ImmutableIDSet", Sync: "HardMatch", Ready: "SyncJoined"}},
			{AD: "grace", Expect: Expect{Settled: "PrivilegedRole", Sync: "Created", SyncError: "ExistingAdminRoleConflict", Ready: "ImmutableIDConflict"}},
			{AD: "Eng", Expect: Expect{Sync: "Created"}},
		},
	}
}

func reportObservations() observations {
	const T, F = metav1.ConditionTrue, metav1.ConditionFalse
	return observations{
		exports: []emulator.SyncObject{
			{Type: "user", OnPremisesSamAccountName: "alice", ProxyAddresses: []string{"smtp:a@contoso.com", "SMTP:alice@contoso.com"}},
			{Type: "user", OnPremisesSamAccountName: "carol"},
			{Type: "user", OnPremisesSamAccountName: "grace"},
			{Type: "group", OnPremisesSamAccountName: "Eng"},
		},
		results: []emulator.SyncResult{
			{Outcome: emulator.OutcomeSoftMatchSMTP, ObjectID: "u-alice"},
			{Outcome: emulator.OutcomeHardMatch, ObjectID: "u-carol"},
			{Outcome: emulator.OutcomeCreated, ObjectID: "u-dup", Error: &emulator.SyncError{Code: "ExistingAdminRoleConflict", Message: "holds an administrative role"}},
			{Outcome: emulator.OutcomeCreated, ObjectID: "0123456789abcdef"},
		},
		before: map[string]identityv1alpha1.UserMatch{
			"carol": um("carol", cond("Matched", T, "ImmutableIDSet", ""), cond("Blocked", F, "NotBlocked", ""),
				cond("Ready", F, "ImmutableIDSet", "waiting for sync"), cond("UPNSuffixMismatch", F, "UPNSuffixVerified", "")),
			"grace": um("grace", cond("Matched", F, "ImmutableIDMismatch", ""), cond("Blocked", T, "PrivilegedRole", "holds Global Administrator"),
				cond("Ready", F, "PrivilegedRole", "holds Global Administrator")),
		},
		after: map[string]identityv1alpha1.UserMatch{
			"carol": um("carol", cond("Ready", T, "SyncJoined", "joined")),
			"grace": um("grace", cond("Blocked", T, "ImmutableIDConflict", "used by grace+1234"), cond("Ready", F, "ImmutableIDConflict", "used by grace+1234")),
		},
		cloud: emulator.Snapshot{
			Users: []emulator.User{
				{ID: "u-alice", UserPrincipalName: "alice@contoso.com"},
				{ID: "u-carol", UserPrincipalName: "carol@contoso.com"},
				{ID: "u-dup", UserPrincipalName: "grace+1234@contoso.onmicrosoft.com", OnPremisesProvisioningErrors: []emulator.ProvisioningError{
					{Category: "PropertyConflict", PropertyCausingError: "UserPrincipalName", Value: "grace@contoso.com"}}},
			},
			Groups: []emulator.Group{{ID: "0123456789abcdef", DisplayName: "Eng"}},
		},
	}
}

func TestBuildRows(t *testing.T) {
	got := buildRows(reportStory(), reportObservations())
	want := []Row{
		{Object: "alice", Kind: "user", Sync: "SoftMatchSmtp", Cloud: "alice@contoso.com", Why: "primary SMTP alice@contoso.com matched"},
		{Object: "carol", Kind: "user", Sync: "HardMatch", Cloud: "carol@contoso.com", UserMatch: "carol",
			Settled: "ImmutableIDSet", Ready: "SyncJoined", Why: "UserMatch set the immutableId; sync hard-matched on it",
			Details: []string{"before the sync: waiting for sync", "after the sync: joined"}},
		{Object: "grace", Kind: "user", Sync: "Created", SyncError: "ExistingAdminRoleConflict", Cloud: "grace+1234@contoso.onmicrosoft.com",
			UserMatch: "grace", Blocked: true, Settled: "PrivilegedRole", Ready: "ImmutableIDConflict",
			Why: "operator refused (PrivilegedRole); sync created a quarantined duplicate",
			Details: []string{"before the sync, Blocked: holds Global Administrator", "sync: ExistingAdminRoleConflict: holds an administrative role",
				"sync: quarantined UserPrincipalName value grace@contoso.com", "after the sync: used by grace+1234"}},
		{Object: "Eng", Kind: "group", Sync: "Created", Cloud: "Eng (01234567…)", Why: "no mail, cannot match: sync created another"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("rows (-want +got):\n%s", d)
	}
}

func TestBuildRowsReportsEveryDifference(t *testing.T) {
	obs := reportObservations()
	obs.results[1] = emulator.SyncResult{Outcome: emulator.OutcomeError, Error: &emulator.SyncError{Code: "InvalidSoftMatch"}}
	obs.before["carol"] = um("carol", cond("Matched", metav1.ConditionTrue, "ImmutableIDSet", ""),
		cond("UPNSuffixMismatch", metav1.ConditionTrue, "UPNSuffixNotVerified", ""))
	obs.after["grace"] = um("grace", cond("Ready", metav1.ConditionFalse, "PrivilegedRole", ""))
	obs.exports = obs.exports[:3] // Eng was not exported
	obs.results = obs.results[:3]

	r := Report{Rows: buildRows(reportStory(), obs)}
	want := []string{
		"carol: sync outcome is Error, the story expects HardMatch",
		"carol: sync error is InvalidSoftMatch, the story expects none",
		"carol: UserMatch carol UPN warning is UPNSuffixNotVerified, the story expects none",
		"grace: UserMatch grace Ready reason after the sync is PrivilegedRole, the story expects ImmutableIDConflict",
		"Eng: was not exported by the sync (not found in the directory's sync scope)",
	}
	if d := cmp.Diff(want, r.Problems()); d != "" {
		t.Errorf("problems (-want +got):\n%s", d)
	}
	if r.OK() {
		t.Error("a report with problems says OK")
	}
}

func boolp(b bool) *bool { return &b }

func TestWantedFlags(t *testing.T) {
	start := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	story := &TenantSyncFeatures{
		Features: &identityv1alpha1.SyncFeatureFlags{BlockSoftMatchEnabled: boolp(true), BlockCloudObjectTakeoverThroughHardMatchEnabled: boolp(true)},
		MatchingWindows: []identityv1alpha1.MatchingWindow{{Name: "w", Feature: "blockCloudObjectTakeoverThroughHardMatchEnabled",
			Value: false, Duration: &metav1.Duration{Duration: time.Hour}}},
	}
	tsf := func(activeSince *time.Time) *identityv1alpha1.TenantSyncFeatures {
		o := &identityv1alpha1.TenantSyncFeatures{ObjectMeta: metav1.ObjectMeta{CreationTimestamp: metav1.NewTime(start)}}
		if activeSince != nil {
			o.Status.Windows = []identityv1alpha1.WindowStatus{{Name: "w", ActiveSince: &metav1.Time{Time: *activeSince}}}
		}
		return o
	}
	later := start.Add(30 * time.Minute)
	cases := []struct {
		name string
		tsf  *identityv1alpha1.TenantSyncFeatures
		now  time.Time
		want map[string]bool
	}{
		{"window open since creation", tsf(nil), start.Add(59 * time.Minute),
			map[string]bool{"blockSoftMatchEnabled": true, "blockCloudObjectTakeoverThroughHardMatchEnabled": false}},
		{"window closed an hour after creation", tsf(nil), start.Add(time.Hour),
			map[string]bool{"blockSoftMatchEnabled": true, "blockCloudObjectTakeoverThroughHardMatchEnabled": true}},
		{"the controller's activeSince counts, not creation", tsf(&later), start.Add(80 * time.Minute),
			map[string]bool{"blockSoftMatchEnabled": true, "blockCloudObjectTakeoverThroughHardMatchEnabled": false}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if d := cmp.Diff(tc.want, wantedFlags(story, tc.tsf, tc.now)); d != "" {
				t.Errorf("wanted flags (-want +got):\n%s", d)
			}
		})
	}
}

func TestTenantReport(t *testing.T) {
	now := time.Now()
	story := &TenantSyncFeatures{Features: &identityv1alpha1.SyncFeatureFlags{BlockSoftMatchEnabled: boolp(false)}}
	unreported := &identityv1alpha1.TenantSyncFeatures{ObjectMeta: metav1.ObjectMeta{Name: "contoso", Generation: 1}}
	notReady := unreported.DeepCopy()
	notReady.Status.ObservedGeneration = 1
	notReady.Status.Conditions = []metav1.Condition{cond("Ready", metav1.ConditionFalse, "MissingPermission", "")}
	ready := notReady.DeepCopy()
	ready.Status.Conditions = []metav1.Condition{cond("Ready", metav1.ConditionTrue, "InSync", "")}

	cases := []struct {
		name  string
		flags emulator.SyncFeatures
		tsf   *identityv1alpha1.TenantSyncFeatures
		want  int // number of problems
	}{
		{"flags as wanted, no controller", emulator.SyncFeatures{}, unreported, 0},
		{"flags as wanted, controller Ready", emulator.SyncFeatures{}, ready, 0},
		{"flag differs", emulator.SyncFeatures{BlockSoftMatchEnabled: true}, unreported, 1},
		{"controller reports not Ready", emulator.SyncFeatures{}, notReady, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := tenantReport(tc.flags, story, tc.tsf, now)
			if len(r.Problems) != tc.want {
				t.Errorf("problems = %q, want %d of them", r.Problems, tc.want)
			}
		})
	}
}

func TestPrintShowsEveryRowAndTheVerdict(t *testing.T) {
	r := Report{Rows: buildRows(reportStory(), reportObservations())}
	var out bytes.Buffer
	r.Print(&out)
	text := out.String()
	for _, want := range []string{"alice", "SoftMatchSmtp", "Created (ExistingAdminRoleConflict)", "grace: ImmutableIDConflict",
		"Eng (01234567…)", "All 4 objects"} {
		if !strings.Contains(text, want) {
			t.Errorf("the printed report lacks %q:\n%s", want, text)
		}
	}
}
