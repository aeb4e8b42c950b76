package demo

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/emulator"
)

// Report is what the demo saw, row by row, and how it compares with the
// story.
type Report struct {
	Rows   []Row
	Tenant TenantReport
}

// Row is one on-premises object of the story after the sync cycle.
type Row struct {
	// Object is the AD object's sAMAccountName.
	Object string
	// Kind is user or group.
	Kind string
	// Sync is the emulated sync's outcome for the object.
	Sync string
	// SyncError is the export error code reported with it, if any.
	SyncError string
	// Cloud names the cloud object the AD object is now joined to.
	Cloud string
	// UserMatch is the name of the object's UserMatch, if it has one.
	UserMatch string
	// Blocked says the UserMatch was blocked before the sync.
	Blocked bool
	// Settled is the UserMatch's Blocked reason, or its Matched reason when
	// nothing blocked it, before the sync; Ready its Ready reason after the
	// sync; Warning its UPNSuffixMismatch reason.
	Settled, Ready, Warning string
	// Why says in a few words what happened; Details carries the messages
	// behind it, as the operator and the sync wrote them.
	Why     string
	Details []string
	// Problems are the differences from the story's expectations.
	Problems []string
}

// TenantReport is the tenant's sync flags after the run.
type TenantReport struct {
	// Flags are the tenant's flags as the emulator holds them, by Graph name.
	Flags map[string]bool
	// Want are the values the story's TenantSyncFeatures asks for now (its
	// open matching windows applied).
	Want map[string]bool
	// Features is the TenantSyncFeatures as last read; its status is empty
	// when no controller reported on it.
	Features *identityv1alpha1.TenantSyncFeatures
	Problems []string
}

// OK reports whether every outcome is the one the story expects.
func (r Report) OK() bool { return len(r.Problems()) == 0 }

// Problems lists every difference from the story, prefixed by its object.
func (r Report) Problems() []string {
	var out []string
	for _, row := range r.Rows {
		for _, p := range row.Problems {
			out = append(out, row.Object+": "+p)
		}
	}
	for _, p := range r.Tenant.Problems {
		out = append(out, "tenant: "+p)
	}
	return out
}

// Row returns the row of the AD object name, or nil.
func (r Report) Row(name string) *Row {
	for i := range r.Rows {
		if strings.EqualFold(r.Rows[i].Object, name) {
			return &r.Rows[i]
		}
	}
	return nil
}

// observations is everything one run read, for buildRows.
type observations struct {
	// exports and results are the sync's request and response, in order.
	exports []emulator.SyncObject
	results []emulator.SyncResult
	// before and after are the UserMatches, by name, before and after the sync.
	before, after map[string]identityv1alpha1.UserMatch
	// cloud is the tenant after the sync.
	cloud emulator.Snapshot
}

// buildRows turns a run's observations into the story's rows, in the
// order of the cast, and checks each against its expectations.
func buildRows(s Story, obs observations) []Row {
	rows := make([]Row, 0, len(s.Cast))
	for _, role := range s.Cast {
		row := Row{Object: role.AD}
		exp, res, found := findExport(obs, role.AD)
		if !found {
			row.Problems = append(row.Problems, "was not exported by the sync (not found in the directory's sync scope)")
			rows = append(rows, row)
			continue
		}
		row.Kind = exp.Type
		row.Sync = string(res.Outcome)
		if res.Error != nil {
			row.SyncError = res.Error.Code
		}
		row.Cloud = cloudName(obs.cloud, res.ObjectID)
		var before, after *identityv1alpha1.UserMatch
		if um := s.UserMatchFor(role.AD); um != nil {
			row.UserMatch = um.Name
			if b, ok := obs.before[um.Name]; ok {
				before = &b
				row.Blocked = meta.IsStatusConditionTrue(b.Status.Conditions, identityv1alpha1.ConditionBlocked)
				row.Settled = settledReason(b.Status.Conditions)
				row.Warning = warningReason(b.Status.Conditions)
			}
			if a, ok := obs.after[um.Name]; ok {
				after = &a
				row.Ready = conditionReason(a.Status.Conditions, identityv1alpha1.ConditionReady)
			}
		}
		row.Why = why(row, exp)
		row.Details = details(before, after, res, obs.cloud)
		row.Problems = check(role.Expect, row)
		rows = append(rows, row)
	}
	return rows
}

func findExport(obs observations, sam string) (emulator.SyncObject, emulator.SyncResult, bool) {
	for i, e := range obs.exports {
		if strings.EqualFold(e.OnPremisesSamAccountName, sam) && i < len(obs.results) {
			return e, obs.results[i], true
		}
	}
	return emulator.SyncObject{}, emulator.SyncResult{}, false
}

// check compares a row with what the story expects. The sync error and,
// for UserMatch rows, the warning are compared even when the story
// expects none, so that an unexpected one is reported.
func check(want Expect, row Row) []string {
	var out []string
	diff := func(what, want, got string) {
		if want != got {
			out = append(out, fmt.Sprintf("%s is %s, the story expects %s", what, orNone(got), orNone(want)))
		}
	}
	diff("sync outcome", want.Sync, row.Sync)
	diff("sync error", want.SyncError, row.SyncError)
	if row.UserMatch != "" {
		diff("UserMatch "+row.UserMatch+" before the sync", want.Settled, row.Settled)
		diff("UserMatch "+row.UserMatch+" UPN warning", want.Warning, row.Warning)
	}
	if want.Ready != "" {
		diff("UserMatch "+row.UserMatch+" Ready reason after the sync", want.Ready, row.Ready)
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// settledReason is the Blocked reason of a blocked UserMatch, else its
// Matched reason.
func settledReason(conds []metav1.Condition) string {
	if c := meta.FindStatusCondition(conds, identityv1alpha1.ConditionBlocked); c != nil && c.Status == metav1.ConditionTrue {
		return c.Reason
	}
	return conditionReason(conds, identityv1alpha1.ConditionMatched)
}

// warningReason is the reason of a true UPNSuffixMismatch, else "".
func warningReason(conds []metav1.Condition) string {
	if c := meta.FindStatusCondition(conds, identityv1alpha1.ConditionUPNSuffixMismatch); c != nil && c.Status == metav1.ConditionTrue {
		return c.Reason
	}
	return ""
}

func conditionReason(conds []metav1.Condition, typ string) string {
	if c := meta.FindStatusCondition(conds, typ); c != nil {
		return c.Reason
	}
	return ""
}

func conditionMessage(conds []metav1.Condition, typ string) string {
	if c := meta.FindStatusCondition(conds, typ); c != nil {
		return c.Message
	}
	return ""
}

// why says in a few words what happened to the object, from what was
// observed (never from the story's expectations). The UserMatch's final
// reason has its own column, so it is not repeated here.
func why(row Row, exp emulator.SyncObject) string {
	var parts []string
	if row.UserMatch != "" {
		if row.Blocked {
			parts = append(parts, "operator refused ("+row.Settled+")")
		} else {
			parts = append(parts, "UserMatch set the immutableId")
		}
		if row.Warning != "" {
			parts = append(parts, "UPN warning "+row.Warning)
		}
	}
	switch emulator.SyncOutcome(row.Sync) {
	case emulator.OutcomeSoftMatchSMTP:
		parts = append(parts, "primary SMTP "+primaryAddress(exp)+" matched")
	case emulator.OutcomeSoftMatchUPN:
		parts = append(parts, "UPN "+exp.UserPrincipalName+" matched")
	case emulator.OutcomeHardMatch:
		parts = append(parts, "sync hard-matched on it")
	case emulator.OutcomeCreated:
		switch {
		case row.SyncError != "":
			parts = append(parts, "sync created a quarantined duplicate")
		case exp.Type == "group" && primaryAddress(exp) == "":
			parts = append(parts, "no mail, cannot match: sync created another")
		default:
			parts = append(parts, "nothing matched: sync created it")
		}
	case emulator.OutcomeUpdated:
		parts = append(parts, "already synced")
	default:
		parts = append(parts, "sync failed")
	}
	return strings.Join(parts, "; ")
}

func primaryAddress(e emulator.SyncObject) string {
	for _, p := range e.ProxyAddresses {
		if strings.HasPrefix(p, "SMTP:") {
			return p[len("SMTP:"):]
		}
	}
	if len(e.ProxyAddresses) == 0 {
		return e.Mail
	}
	return ""
}

// details are the messages behind a row: the UserMatch's conditions before
// and after the sync, the sync's error, and what the tenant quarantined.
func details(before, after *identityv1alpha1.UserMatch, res emulator.SyncResult, cloud emulator.Snapshot) []string {
	var out []string
	add := func(prefix, msg string) {
		if msg != "" {
			out = append(out, prefix+msg)
		}
	}
	if before != nil {
		conds := before.Status.Conditions
		if meta.IsStatusConditionTrue(conds, identityv1alpha1.ConditionBlocked) {
			add("before the sync, Blocked: ", conditionMessage(conds, identityv1alpha1.ConditionBlocked))
		} else {
			add("before the sync: ", conditionMessage(conds, identityv1alpha1.ConditionReady))
		}
		if meta.IsStatusConditionTrue(conds, identityv1alpha1.ConditionUPNSuffixMismatch) {
			add("UPNSuffixMismatch: ", conditionMessage(conds, identityv1alpha1.ConditionUPNSuffixMismatch))
		}
	}
	if res.Error != nil {
		add("sync: "+res.Error.Code+": ", res.Error.Message)
	}
	for _, pe := range provisioningErrorsOf(cloud, res.ObjectID) {
		out = append(out, fmt.Sprintf("sync: quarantined %s value %s", pe.PropertyCausingError, pe.Value))
	}
	if after != nil {
		add("after the sync: ", conditionMessage(after.Status.Conditions, identityv1alpha1.ConditionReady))
	}
	return out
}

// cloudName names a cloud object for the table: a user by UPN, a group by
// display name and the start of its object ID (two groups may share a name).
func cloudName(s emulator.Snapshot, id string) string {
	if id == "" {
		return "-"
	}
	for _, u := range s.Users {
		if u.ID == id {
			return u.UserPrincipalName
		}
	}
	for _, g := range s.Groups {
		if g.ID == id {
			return fmt.Sprintf("%s (%s…)", g.DisplayName, shortID(id))
		}
	}
	return shortID(id) + "…"
}

func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

func provisioningErrorsOf(s emulator.Snapshot, id string) []emulator.ProvisioningError {
	for _, u := range s.Users {
		if u.ID == id {
			return u.OnPremisesProvisioningErrors
		}
	}
	for _, g := range s.Groups {
		if g.ID == id {
			return g.OnPremisesProvisioningErrors
		}
	}
	return nil
}

// tenantReport compares the tenant's flags with what the story's
// TenantSyncFeatures asks for at now. A TenantSyncFeatures that a
// controller has reported on must also be Ready.
func tenantReport(flags emulator.SyncFeatures, story *TenantSyncFeatures, tsf *identityv1alpha1.TenantSyncFeatures, now time.Time) TenantReport {
	r := TenantReport{Flags: flagMap(flags), Want: wantedFlags(story, tsf, now), Features: tsf}
	for _, name := range sortedKeys(r.Want) {
		got, ok := r.Flags[name]
		switch {
		case !ok:
			r.Problems = append(r.Problems, fmt.Sprintf("the tenant has no flag %s", name))
		case got != r.Want[name]:
			r.Problems = append(r.Problems, fmt.Sprintf("%s is %t, TenantSyncFeatures %s wants %t", name, got, syncFeaturesName, r.Want[name]))
		}
	}
	if reported(tsf) && !meta.IsStatusConditionTrue(tsf.Status.Conditions, identityv1alpha1.ConditionReady) {
		r.Problems = append(r.Problems, fmt.Sprintf("TenantSyncFeatures %s is not Ready:%s", tsf.Name, describeConditions(tsf.Status.Conditions)))
	}
	return r
}

// reported says whether a controller has written the current generation's status.
func reported(tsf *identityv1alpha1.TenantSyncFeatures) bool {
	return tsf != nil && tsf.Status.ObservedGeneration == tsf.Generation &&
		meta.FindStatusCondition(tsf.Status.Conditions, identityv1alpha1.ConditionReady) != nil
}

// flagMap reads the emulator's flags under their Graph names, which the
// emulator's JSON tags spell.
func flagMap(f emulator.SyncFeatures) map[string]bool {
	raw, err := json.Marshal(f)
	if err != nil {
		return nil
	}
	out := map[string]bool{}
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil
	}
	return out
}

// wantedFlags is the story's spec with its matching windows applied: a
// window overrides its flag while open. A window is open from when the
// controller says it started, or, with no controller, from when the object
// was created.
func wantedFlags(story *TenantSyncFeatures, tsf *identityv1alpha1.TenantSyncFeatures, now time.Time) map[string]bool {
	want := map[string]bool{}
	if story == nil {
		return want
	}
	for _, name := range identityv1alpha1.AllSyncFeatures() {
		if v := story.Features.Get(name); v != nil {
			want[string(name)] = *v
		}
	}
	for _, w := range story.MatchingWindows {
		if windowOpen(w, tsf, now) {
			want[string(w.Feature)] = w.Value
		}
	}
	return want
}

func windowOpen(w identityv1alpha1.MatchingWindow, tsf *identityv1alpha1.TenantSyncFeatures, now time.Time) bool {
	start := now
	if tsf != nil {
		start = tsf.CreationTimestamp.Time
		for _, ws := range tsf.Status.Windows {
			if ws.Name == w.Name && ws.ActiveSince != nil {
				start = ws.ActiveSince.Time
			}
		}
	}
	switch {
	case w.Until != nil:
		return now.Before(w.Until.Time)
	case w.Duration != nil:
		return now.Before(start.Add(w.Duration.Duration))
	}
	return false
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Print writes the table, the messages behind it, the tenant's flags and
// the verdict.
func (r Report) Print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "OBJECT\tKIND\tSYNC\tCLOUD OBJECT\tUSERMATCH\tWHY\tCHECK")
	for _, row := range r.Rows {
		sync := row.Sync
		if row.SyncError != "" {
			sync += " (" + row.SyncError + ")"
		}
		um := "-"
		if row.UserMatch != "" {
			um = row.UserMatch + ": " + orNone(row.Ready)
		}
		verdict := "ok"
		if len(row.Problems) > 0 {
			verdict = "UNEXPECTED"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", row.Object, orDash(row.Kind), orDash(sync), orDash(row.Cloud), um, row.Why, verdict)
	}
	_ = tw.Flush()

	fmt.Fprintln(w)
	fmt.Fprintln(w, "Why, in the words of the UserMatch conditions and the sync:")
	for _, row := range r.Rows {
		for _, d := range row.Details {
			fmt.Fprintf(w, "  %-12s %s\n", row.Object, d)
		}
	}

	fmt.Fprintln(w)
	r.Tenant.print(w)

	fmt.Fprintln(w)
	if problems := r.Problems(); len(problems) > 0 {
		fmt.Fprintf(w, "%d outcome(s) differ from the story:\n", len(problems))
		for _, p := range problems {
			fmt.Fprintln(w, "  - "+p)
		}
		return
	}
	fmt.Fprintf(w, "All %d objects and the tenant's flags ended as the story expects.\n", len(r.Rows))
}

func (t TenantReport) print(w io.Writer) {
	fmt.Fprintln(w, "Tenant sync flags, as the emulated tenant holds them:")
	for _, name := range sortedKeys(t.Want) {
		fmt.Fprintf(w, "  %-50s %-5t (wanted %t)\n", name, t.Flags[name], t.Want[name])
	}
	switch tsf := t.Features; {
	case tsf == nil:
		fmt.Fprintln(w, "  No TenantSyncFeatures in the story.")
	case reported(tsf):
		c := meta.FindStatusCondition(tsf.Status.Conditions, identityv1alpha1.ConditionReady)
		fmt.Fprintf(w, "  TenantSyncFeatures %s: Ready=%s (%s) %s\n", tsf.Name, c.Status, c.Reason, c.Message)
		for _, ws := range tsf.Status.Windows {
			until := ""
			if ws.ExpiresAt != nil {
				until = " until " + ws.ExpiresAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(w, "  matching window %s: %s=%t, %s%s\n", ws.Name, ws.Feature, ws.Value, ws.State, until)
		}
	default:
		// The hook for the TenantSyncFeatures controller: once the manager
		// runs one, its status is printed above instead of this line.
		fmt.Fprintf(w, "  TenantSyncFeatures %s is applied, but no controller has reported on it (this build of the manager\n"+
			"  does not reconcile TenantSyncFeatures, or has not got to it yet): the flags above are read from the emulator.\n", tsf.Name)
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
