package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/planreport"
)

// annotationReplan asks the SyncPlan controller for a plan now: any change
// of an annotation starts a pass.
const annotationReplan = "identity.entramatch.io/replan-requested"

func init() {
	register(command{
		name:    "plan",
		summary: "print a SyncPlan's per-object report (what the next sync will do), optionally planning again first",
		run:     runPlan,
	})
}

// planLine is one object of the report; -o json and yaml print a list of
// them, -o html a page of them.
type planLine = planreport.Line

var reportHeader = []string{"object", "kind", "outcome", "code", "cloudObject", "problems", "message", "afterAlignment"}

func runPlan(ctx context.Context, e *env, args []string) error {
	fs := e.newFlagSet("plan", "SYNCPLAN [-o table|csv|json|yaml|html] [--refresh] [--attention] [flags]")
	output := fs.String("o", "table", "output format: table, csv, json, yaml or html (one self-contained page: a chart of the outcomes and a table to filter)")
	refresh := fs.Bool("refresh", false, "ask the operator for a new plan and wait for it")
	attention := fs.Bool("attention", false, "only the objects that need a person (refused, not matched as hoped, quarantined values, broken rules)")
	wait := fs.Duration("timeout", 5*time.Minute, "how long --refresh waits")
	connect := kubeFlags(fs)
	// The name may come before or after the flags (kubectl style): parse
	// again after each positional argument.
	var names []string
	for rest := args; ; {
		if help, err := parseFlags(fs, rest); help || err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		names, rest = append(names, fs.Arg(0)), fs.Args()[1:]
	}
	if len(names) != 1 {
		return usagef("name one SyncPlan")
	}
	switch *output {
	case "table", "csv", "json", "yaml", "html":
	default:
		return usagef("-o must be table, csv, json, yaml or html, not %q", *output)
	}
	c, err := connect()
	if err != nil {
		return err
	}
	name := names[0]
	if *refresh {
		if err := replan(ctx, c, name, *wait); err != nil {
			return err
		}
	}
	lines, planned, err := readReport(ctx, c, name)
	if err != nil {
		return err
	}
	if *attention {
		kept := lines[:0]
		for _, l := range lines {
			if l.Outcome == "Refused" || l.Code != "" && l.Code != "UPNNotVerified" && l.Code != "AnchorHidden" || len(l.Problems) > 0 || l.AfterAlignment != "" || strings.Contains(l.Message, "quarantined") || strings.Contains(l.Message, "dropped") {
				kept = append(kept, l)
			}
		}
		lines = kept
	}
	switch *output {
	case "json", "yaml":
		return writeStructured(e.stdout, *output, planreport.WithPages(lines))
	case "html":
		return planreport.WriteHTML(e.stdout, planreport.Report{Title: name, Planned: planned, Lines: lines})
	case "csv":
		return writeCSV(e.stdout, lines)
	}
	return printPlanTable(e.stdout, lines)
}

// replan sets the annotation and waits until the plan is newer than the
// request and Ready again.
func replan(ctx context.Context, c client.Client, name string, wait time.Duration) error {
	var sp identityv1alpha1.SyncPlan
	if err := c.Get(ctx, types.NamespacedName{Name: name}, &sp); err != nil {
		return fmt.Errorf("SyncPlan %s: %w", name, err)
	}
	asked := time.Now().UTC().Truncate(time.Second)
	patch := client.MergeFrom(sp.DeepCopy())
	if sp.Annotations == nil {
		sp.Annotations = map[string]string{}
	}
	sp.Annotations[annotationReplan] = asked.Format(time.RFC3339)
	if err := c.Patch(ctx, &sp, patch); err != nil {
		return fmt.Errorf("asking for a new plan: %w", err)
	}
	deadline := time.Now().Add(wait)
	for {
		if err := c.Get(ctx, types.NamespacedName{Name: name}, &sp); err != nil {
			return err
		}
		ready := meta.FindStatusCondition(sp.Status.Conditions, identityv1alpha1.ConditionReady)
		if t := sp.Status.LastPlanTime; t != nil && !t.Time.Before(asked) && ready != nil {
			if ready.Reason != identityv1alpha1.ReasonPlanned {
				return fmt.Errorf("the new plan failed: %s: %s", ready.Reason, ready.Message)
			}
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no new plan within %s (Ready: %v)", wait, ready)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// readReport reads the ConfigMaps the SyncPlan's status names, in order.
func readReport(ctx context.Context, c client.Client, name string) ([]planLine, time.Time, error) {
	var sp identityv1alpha1.SyncPlan
	if err := c.Get(ctx, types.NamespacedName{Name: name}, &sp); err != nil {
		return nil, time.Time{}, fmt.Errorf("SyncPlan %s: %w", name, err)
	}
	var planned time.Time
	if sp.Status.LastPlanTime != nil {
		planned = sp.Status.LastPlanTime.Time
	}
	if len(sp.Status.Report) == 0 {
		return nil, planned, fmt.Errorf("SyncPlan %s has no report yet (Ready: %v)", name, meta.FindStatusCondition(sp.Status.Conditions, identityv1alpha1.ConditionReady))
	}
	var out []planLine
	for _, ref := range sp.Status.Report {
		ns, n, ok := strings.Cut(ref, "/")
		if !ok {
			return nil, planned, fmt.Errorf("status.report entry %q is not namespace/name", ref)
		}
		var cm corev1.ConfigMap
		if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: n}, &cm); err != nil {
			return nil, planned, fmt.Errorf("report %s: %w", ref, err)
		}
		rows, err := csv.NewReader(strings.NewReader(cm.Data["report.csv"])).ReadAll()
		if err != nil {
			return nil, planned, fmt.Errorf("report %s: %w", ref, err)
		}
		for i, row := range rows {
			// Reports written before the afterAlignment column have seven.
			if i == 0 || len(row) < len(reportHeader)-1 {
				continue
			}
			l := planLine{Object: row[0], Kind: row[1], Outcome: row[2], Code: row[3], CloudObject: row[4], Message: row[6]}
			if len(row) >= len(reportHeader) {
				l.AfterAlignment = row[7]
			}
			if row[5] != "" {
				l.Problems = strings.Fields(row[5])
			}
			out = append(out, l)
		}
	}
	return out, planned, nil
}

func writeCSV(w io.Writer, lines []planLine) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(reportHeader); err != nil {
		return err
	}
	for _, l := range lines {
		if err := cw.Write([]string{l.Object, l.Kind, l.Outcome, l.Code, l.CloudObject, strings.Join(l.Problems, " "), l.Message, l.AfterAlignment}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func printPlanTable(w io.Writer, lines []planLine) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "OBJECT\tKIND\tOUTCOME\tCODE\tCLOUD OBJECT\tPROBLEMS\tAFTER ALIGNMENT")
	for _, l := range lines {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", l.Object, l.Kind, l.Outcome, l.Code, l.CloudObject, strings.Join(l.Problems, ","), l.AfterAlignment)
	}
	return tw.Flush()
}
