package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
)

// secretScan collects, over the whole run, every secret value (the data of
// every Secret in the test namespace, every credential the emulators
// issue, the projected token) and everything a person or a log collector
// sees (the manager's log, every Event, every status of the four kinds),
// so that the last test can check that no secret ever showed up.
type secretScan struct {
	mu      sync.Mutex
	needles map[string]string // value -> where it came from
	seen    bytes.Buffer      // Events and statuses, one JSON document per line
	logs    bytes.Buffer
}

func newSecretScan() *secretScan { return &secretScan{needles: map[string]string{}} }

// minSecret: shorter values would match ordinary text by chance.
const minSecret = 8

func (s *secretScan) secret(v, origin string) {
	v = strings.TrimSpace(v)
	if len(v) < minSecret {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.needles[v]; !ok {
		s.needles[v] = origin
	}
}

// Write receives the manager's log.
func (s *secretScan) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logs.Write(p)
}

func (s *secretScan) saw(what string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(&s.seen, "%s %s\n", what, b)
}

// watch follows Secrets (for their values), Events and the four kinds
// until ctx ends, re-watching when the API server closes a watch.
func (s *secretScan) watch(ctx context.Context, c client.WithWatch) {
	follow := func(list client.ObjectList, opts []client.ListOption, handle func(runtime any)) {
		go func() {
			for ctx.Err() == nil {
				wi, err := c.Watch(ctx, list, opts...)
				if err != nil {
					time.Sleep(200 * time.Millisecond)
					continue
				}
				for ev := range wi.ResultChan() {
					if ev.Type == watch.Added || ev.Type == watch.Modified {
						handle(ev.Object)
					}
				}
				wi.Stop()
			}
		}()
	}
	follow(&corev1.SecretList{}, []client.ListOption{client.InNamespace(ns)}, func(o any) {
		sec, ok := o.(*corev1.Secret)
		if !ok {
			return
		}
		for k, v := range sec.Data {
			s.secret(string(v), "Secret "+sec.Namespace+"/"+sec.Name+" key "+k)
		}
	})
	follow(&eventsv1.EventList{}, nil, func(o any) {
		if e, ok := o.(*eventsv1.Event); ok {
			s.saw("Event "+e.Regarding.Kind+"/"+e.Regarding.Name, map[string]string{"reason": e.Reason, "note": e.Note, "action": e.Action})
		}
	})
	status := func(o any) {
		switch v := o.(type) {
		case *identityv1alpha1.UserMatch:
			s.saw("UserMatch/"+v.Name, v.Status)
		case *identityv1alpha1.EntraTenant:
			s.saw("EntraTenant/"+v.Name, v.Status)
		case *identityv1alpha1.ActiveDirectory:
			s.saw("ActiveDirectory/"+v.Name, v.Status)
		case *identityv1alpha1.TenantSyncFeatures:
			s.saw("TenantSyncFeatures/"+v.Name, v.Status)
		}
	}
	follow(&identityv1alpha1.UserMatchList{}, nil, status)
	follow(&identityv1alpha1.EntraTenantList{}, nil, status)
	follow(&identityv1alpha1.ActiveDirectoryList{}, nil, status)
	follow(&identityv1alpha1.TenantSyncFeaturesList{}, nil, status)
}

// TestZZNoSecretLeaks runs last (its file sorts last): across the whole
// run, no Secret value and no token the emulators issued appears in the
// manager's log, in an Event, or in the status of any resource.
func TestZZNoSecretLeaks(t *testing.T) {
	w := env(t)
	if raw, err := os.ReadFile(w.tokenFile); err == nil {
		w.scan.secret(string(raw), "the projected workload identity token")
	}
	time.Sleep(2 * time.Second) // let the watches deliver the last updates
	s := w.scan
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.needles) < 3 || s.logs.Len() == 0 || s.seen.Len() == 0 {
		t.Fatalf("the scan saw too little to mean anything: %d secrets, %d log bytes, %d status/Event bytes",
			len(s.needles), s.logs.Len(), s.seen.Len())
	}
	logs, seen := s.logs.String(), s.seen.String()
	for v, origin := range s.needles {
		for name, hay := range map[string]string{"the manager's log": logs, "an Event or a status": seen} {
			if i := strings.Index(hay, v); i >= 0 {
				start := strings.LastIndexByte(hay[:i], '\n') + 1
				line := hay[start:min(len(hay), i+len(v)+80)]
				t.Errorf("%s appears in %s: %.300s", origin, name, strings.ReplaceAll(line, v, "<"+origin+">"))
			}
		}
	}
	t.Logf("scanned %d secrets against %d log bytes and %d bytes of Events and statuses", len(s.needles), len(logs), len(seen))
}
