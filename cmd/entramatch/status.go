package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
)

func init() {
	register(command{
		name:    "status",
		summary: "summarise a tenant's EntraTenant, TenantSyncFeatures, ActiveDirectories and UserMatches",
		run:     runStatus,
	})
}

// statusReport is what `status` prints; -o json and -o yaml print it as is.
type statusReport struct {
	Tenant    string           `json:"tenant"`
	Resources []resourceStatus `json:"resources"`
	// UserMatches counts the tenant's UserMatches by Ready reason.
	UserMatches userMatchSummary `json:"userMatches"`
}

type resourceStatus struct {
	Kind    string `json:"kind"`
	Name    string `json:"name"`
	Ready   string `json:"ready"`
	Reason  string `json:"reason,omitempty"`
	Stalled bool   `json:"stalled,omitempty"`
	Message string `json:"message,omitempty"`
}

type userMatchSummary struct {
	Total    int            `json:"total"`
	Ready    int            `json:"ready"`
	Stalled  int            `json:"stalled"`
	ByReason map[string]int `json:"byReason"`
}

func runStatus(ctx context.Context, e *env, args []string) error {
	fs := e.newFlagSet("status", "--tenant ENTRATENANT [-o table|json|yaml] [flags]")
	tenant := fs.String("tenant", "", "name of the EntraTenant (required)")
	output := fs.String("o", "table", "output format: table, json or yaml")
	all := fs.Bool("all", false, "list every UserMatch, not only those that are not Ready")
	connect := kubeFlags(fs)
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}
	if *tenant == "" {
		return usagef("--tenant is required")
	}
	if *output != "table" && *output != "json" && *output != "yaml" {
		return usagef("-o must be table, json or yaml, not %q", *output)
	}
	c, err := connect()
	if err != nil {
		return err
	}
	rep, err := collectStatus(ctx, c, *tenant, *all || *output != "table")
	if err != nil {
		return err
	}
	if *output != "table" {
		return writeStructured(e.stdout, *output, rep)
	}
	return printStatusTable(e.stdout, rep)
}

// collectStatus reads the tenant, what refers to it, and the directories
// its UserMatches use. allUserMatches lists every UserMatch; otherwise only
// those that are not Ready (the counts cover all of them).
func collectStatus(ctx context.Context, c client.Client, tenantName string, allUserMatches bool) (statusReport, error) {
	rep := statusReport{Tenant: tenantName, UserMatches: userMatchSummary{ByReason: map[string]int{}}}
	var t identityv1alpha1.EntraTenant
	if err := c.Get(ctx, types.NamespacedName{Name: tenantName}, &t); err != nil {
		return rep, fmt.Errorf("EntraTenant %s: %w", tenantName, err)
	}
	rep.Resources = append(rep.Resources, summarize("EntraTenant", t.Name, t.Status.Conditions))

	var features identityv1alpha1.TenantSyncFeaturesList
	if err := c.List(ctx, &features); err != nil {
		return rep, fmt.Errorf("listing TenantSyncFeatures: %w", err)
	}
	for _, f := range features.Items {
		if f.Spec.TenantRef.Name == tenantName {
			rep.Resources = append(rep.Resources, summarize("TenantSyncFeatures", f.Name, f.Status.Conditions))
		}
	}

	var ums identityv1alpha1.UserMatchList
	if err := c.List(ctx, &ums); err != nil {
		return rep, fmt.Errorf("listing UserMatches: %w", err)
	}
	directories := map[string]bool{}
	var matches []resourceStatus
	for _, um := range ums.Items {
		if um.Spec.TenantRef.Name != tenantName {
			continue
		}
		directories[um.Spec.DirectoryRef.Name] = true
		s := summarize("UserMatch", um.Name, um.Status.Conditions)
		rep.UserMatches.Total++
		rep.UserMatches.ByReason[reasonOrNone(s.Reason)]++
		if s.Ready == string(metav1.ConditionTrue) {
			rep.UserMatches.Ready++
		}
		if s.Stalled {
			rep.UserMatches.Stalled++
		}
		if allUserMatches || s.Ready != string(metav1.ConditionTrue) {
			matches = append(matches, s)
		}
	}
	names := make([]string, 0, len(directories))
	for n := range directories {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		var ad identityv1alpha1.ActiveDirectory
		if err := c.Get(ctx, types.NamespacedName{Name: n}, &ad); err != nil {
			rep.Resources = append(rep.Resources, resourceStatus{Kind: "ActiveDirectory", Name: n, Ready: "Unknown", Message: err.Error()})
			continue
		}
		rep.Resources = append(rep.Resources, summarize("ActiveDirectory", ad.Name, ad.Status.Conditions))
	}
	sort.Slice(matches, func(i, j int) bool { return matches[i].Name < matches[j].Name })
	rep.Resources = append(rep.Resources, matches...)
	return rep, nil
}

func summarize(kind, name string, conds []metav1.Condition) resourceStatus {
	s := resourceStatus{Kind: kind, Name: name, Ready: string(metav1.ConditionUnknown)}
	if c := meta.FindStatusCondition(conds, identityv1alpha1.ConditionReady); c != nil {
		s.Ready, s.Reason, s.Message = string(c.Status), c.Reason, c.Message
	}
	if c := meta.FindStatusCondition(conds, identityv1alpha1.ConditionStalled); c != nil && c.Status == metav1.ConditionTrue {
		// What a person must fix says more than Ready.
		s.Stalled, s.Reason, s.Message = true, c.Reason, c.Message
	}
	return s
}

func reasonOrNone(r string) string {
	if r == "" {
		return "NoStatus"
	}
	return r
}

func printStatusTable(w io.Writer, rep statusReport) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tNAME\tREADY\tSTALLED\tREASON\tMESSAGE")
	for _, r := range rep.Resources {
		stalled := ""
		if r.Stalled {
			stalled = "True"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Kind, r.Name, r.Ready, stalled, r.Reason, oneLine(r.Message, 100))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	reasons := make([]string, 0, len(rep.UserMatches.ByReason))
	for r, n := range rep.UserMatches.ByReason {
		reasons = append(reasons, fmt.Sprintf("%s %d", r, n))
	}
	sort.Strings(reasons)
	_, err := fmt.Fprintf(w, "\nUserMatches: %d, Ready %d, Stalled %d (%s)\n", rep.UserMatches.Total, rep.UserMatches.Ready,
		rep.UserMatches.Stalled, strings.Join(reasons, ", "))
	return err
}

// oneLine keeps a message on one table row.
func oneLine(s string, n int) string {
	r := []rune(strings.Join(strings.Fields(s), " "))
	if len(r) <= n {
		return string(r)
	}
	return string(r[:n-1]) + "…"
}
