package e2e_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/anchor"
	"github.com/entramatch/entra-match-operator/internal/emulator"
	"github.com/entramatch/entra-match-operator/internal/testenv/samba"
)

const waitTimeout = 60 * time.Second

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// twin is an AD user and its cloud-only counterpart with the same UPN.
type twin struct {
	sam, upn, dn string
	anchor       anchor.Anchor // from samba-tool's GUID text: an independent check of the operator's conversion
	cloudID      string
}

func (w *world) newTwin(t *testing.T, prefix string, cloudMut func(*emulator.User)) twin {
	t.Helper()
	sam := samba.UniqueName(t, prefix)
	upn := sam + "@" + w.dc.DNSDomain
	dn := w.dc.CreateUser(t, samba.User{Sam: sam, UPN: upn, Mail: upn, ProxyAddresses: []string{"SMTP:" + upn}})
	a, err := anchor.FromGUID(w.dc.GUIDString(t, sam))
	if err != nil {
		t.Fatalf("parsing samba-tool GUID: %v", err)
	}
	u := emulator.User{UserPrincipalName: upn, DisplayName: sam, MailNickname: sam, Mail: &upn,
		ProxyAddresses: []string{"SMTP:" + upn}}
	if cloudMut != nil {
		cloudMut(&u)
	}
	stored, err := w.em.AddUser(u)
	if err != nil {
		t.Fatalf("adding cloud user: %v", err)
	}
	return twin{sam: sam, upn: upn, dn: dn, anchor: a, cloudID: stored.ID}
}

func (w *world) userMatch(t *testing.T, name string, mut func(*identityv1alpha1.UserMatchSpec)) *identityv1alpha1.UserMatch {
	t.Helper()
	um := &identityv1alpha1.UserMatch{
		ObjectMeta: metav1.ObjectMeta{Name: strings.ToLower(name)},
		Spec: identityv1alpha1.UserMatchSpec{
			TenantRef:    identityv1alpha1.TenantReference{Name: "contoso"},
			DirectoryRef: identityv1alpha1.DirectoryReference{Name: "corp"},
		},
	}
	if mut != nil {
		mut(&um.Spec)
	}
	w.create(t, um)
	return um
}

// create creates obj and deletes it when the test ends.
func (w *world) create(t *testing.T, obj client.Object) {
	t.Helper()
	if err := w.k8s.Create(ctxFor(t), obj); err != nil {
		t.Fatalf("creating %s: %v", obj.GetName(), err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = w.k8s.Delete(ctx, obj)
	})
}

// waitUM polls a UserMatch until ok says yes, failing with its status otherwise.
// eventually polls check until it says done, failing with its last
// explanation when waitTimeout runs out.
func eventually(t *testing.T, check func() (done bool, why string)) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		done, why := check()
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(why)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (w *world) waitUM(t *testing.T, name, what string, ok func(*identityv1alpha1.UserMatch) bool) *identityv1alpha1.UserMatch {
	t.Helper()
	var um identityv1alpha1.UserMatch
	eventually(t, func() (bool, string) {
		err := w.k8s.Get(ctxFor(t), types.NamespacedName{Name: name}, &um)
		return err == nil && ok(&um), fmt.Sprintf("UserMatch %s: timed out waiting for %s; err=%v status=%s", name, what, err, describeStatus(um.Status.Conditions))
	})
	return &um
}

func cond(um *identityv1alpha1.UserMatch, typ string, status metav1.ConditionStatus, reason string) bool {
	c := meta.FindStatusCondition(um.Status.Conditions, typ)
	return c != nil && c.Status == status && (reason == "" || c.Reason == reason) && c.ObservedGeneration == um.Generation
}

func describeStatus(conds []metav1.Condition) string {
	var b strings.Builder
	for _, c := range conds {
		fmt.Fprintf(&b, "\n  %s=%s %s: %s", c.Type, c.Status, c.Reason, c.Message)
	}
	return b.String()
}

// cloud reads a user from the emulator's state, bypassing Graph.
func (w *world) cloud(t *testing.T, id string) emulator.User {
	t.Helper()
	for _, u := range w.em.Snapshot().Users {
		if u.ID == id {
			return u
		}
	}
	t.Fatalf("cloud user %s not found in the emulator", id)
	return emulator.User{}
}

func immutableID(u emulator.User) string {
	if u.OnPremisesImmutableID == nil {
		return ""
	}
	return *u.OnPremisesImmutableID
}

// setCloud changes a cloud user behind the operator's back, as a person in
// the portal or with PowerShell would.
func (w *world) setCloud(t *testing.T, id string, fn func(*emulator.User)) {
	t.Helper()
	err := w.em.Update(func(s *emulator.Snapshot) error {
		for i := range s.Users {
			if s.Users[i].ID == id {
				fn(&s.Users[i])
				return nil
			}
		}
		return fmt.Errorf("no user %s", id)
	})
	if err != nil {
		t.Fatalf("updating cloud user: %v", err)
	}
}

// eventsFor lists the Events recorded for an object of a kind.
func (w *world) eventsFor(t *testing.T, kind, name string) []eventsv1.Event {
	t.Helper()
	var list eventsv1.EventList
	if err := w.k8s.List(ctxFor(t), &list); err != nil {
		t.Fatalf("listing events: %v", err)
	}
	var out []eventsv1.Event
	for _, e := range list.Items {
		if e.Regarding.Kind == kind && e.Regarding.Name == name {
			out = append(out, e)
		}
	}
	return out
}

func (w *world) waitEvent(t *testing.T, name, reason string) eventsv1.Event {
	t.Helper()
	return w.waitEventOf(t, "UserMatch", name, reason)
}

// waitEventOf waits for an Event with reason about an object of a kind.
func (w *world) waitEventOf(t *testing.T, kind, name, reason string) eventsv1.Event {
	t.Helper()
	var found eventsv1.Event
	eventually(t, func() (bool, string) {
		evs := w.eventsFor(t, kind, name)
		for _, e := range evs {
			if e.Reason == reason {
				found = e
				return true, ""
			}
		}
		return false, fmt.Sprintf("no Event %s for %s %s; have %v", reason, kind, name, evs)
	})
	return found
}

// waitGone waits until a UserMatch is deleted (its finalizer released).
func (w *world) waitGone(t *testing.T, name string) {
	t.Helper()
	eventually(t, func() (bool, string) {
		err := w.k8s.Get(ctxFor(t), types.NamespacedName{Name: name}, &identityv1alpha1.UserMatch{})
		return err != nil, fmt.Sprintf("UserMatch %s was not deleted: finalizer not released", name)
	})
}
