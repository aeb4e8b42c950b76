package dirsync

import (
	"iter"
	"strings"
	"time"

	"github.com/entramatch/entra-match-operator/internal/emulator/syncrules"
	"github.com/entramatch/entra-match-operator/internal/emulator/tenant"
)

// Duplicate attribute resiliency keeps a colliding UPN or SMTP proxy address
// out of the object it was exported for and records it in
// onPremisesProvisioningErrors. Releasing it again follows
// how-to-connect-syncservice-duplicate-attribute-resiliency
// (MicrosoftDocs/entra-docs docs/identity/hybrid/connect/how-to-connect-syncservice-duplicate-attribute-resiliency.md):
// "A background timer task has been enabled in Microsoft Entra ID that runs
// every hour to look for duplicate attribute conflicts that have been
// resolved, and automatically removes the attributes in question from
// quarantine", and "the timer task sweeps through the tenant on the
// service-side to automatically add the attribute in question to the proper
// object once the conflict is resolved". The emulator has no background
// goroutine: the task runs on the emulator clock, at the first Graph request,
// sync run or snapshot once an interval has passed since its last run, or at
// once through Service.ReleaseQuarantined.

// defaultQuarantineRelease is the documented period of the timer task.
const defaultQuarantineRelease = time.Hour

// releaseEvery is the configured period of the timer task; 0 never runs it
// on its own.
func releaseEvery(o SyncOptions) time.Duration {
	switch {
	case o.QuarantineReleaseInterval < 0:
		return 0
	case o.QuarantineReleaseInterval == 0:
		return defaultQuarantineRelease
	}
	return o.QuarantineReleaseInterval
}

// releaseDue reports whether the timer task is due at now and, if so,
// records that it runs. The store lock need not be held.
func (s *Service) releaseDue(now time.Time) bool {
	every := releaseEvery(s.opts)
	if every == 0 {
		return false
	}
	s.releaseMu.Lock()
	defer s.releaseMu.Unlock()
	if now.Sub(s.lastRelease) < every {
		return false
	}
	s.lastRelease = now
	return true
}

// ReleaseIfDue runs the timer task when it is due. The caller must not
// hold the store lock.
func (s *Service) ReleaseIfDue() {
	now := s.clock()
	if !s.releaseDue(now) {
		return
	}
	s.release(now)
}

// ReleaseQuarantined runs the duplicate attribute resiliency timer task now,
// whatever its schedule: every quarantined UPN or proxy address whose
// conflict is gone is given back to its object and its provisioning error is
// cleared. It returns how many values were released.
func (s *Service) ReleaseQuarantined() int {
	now := s.clock()
	s.releaseMu.Lock()
	s.lastRelease = now
	s.releaseMu.Unlock()
	return s.release(now)
}

// release runs the timer task's sweep at now under the store's write lock
// and returns how many values it released.
func (s *Service) release(now time.Time) int {
	var released int
	_ = s.store.Write(func(st *tenant.State) error { // the sweep cannot fail
		released = releaseQuarantined(st, now.UTC().Truncate(time.Second))
		return nil
	})
	return released
}

// releaseQuarantined gives quarantined values back to the live objects that
// lost them, where no other live object holds them any more. The store's
// write lock must be held.
func releaseQuarantined(st *tenant.State, now time.Time) int {
	released := 0
	dir := storeDirectory{st: st, now: now}
	for _, id := range sortedIDs(st.Users(), func(u *tenant.User) string { return u.ID }) {
		old := st.User(id)
		if len(old.OnPremisesProvisioningErrors) == 0 {
			continue
		}
		u := *old
		u.ProxyAddresses = append([]string(nil), old.ProxyAddresses...)
		var keep []tenant.ProvisioningError
		for _, pe := range old.OnPremisesProvisioningErrors {
			if releaseUserValue(st, dir, &u, pe) {
				released++
				continue
			}
			keep = append(keep, pe)
		}
		u.OnPremisesProvisioningErrors = keep
		if err := st.CheckUser(&u, u.ID); err != nil {
			continue // a value the directory would not take stays quarantined
		}
		st.PutUser(old, &u)
	}
	for _, id := range sortedIDs(st.Groups(), func(g *tenant.Group) string { return g.ID }) {
		g := st.Group(id)
		released += releaseObject(st, dir, g.ID, &g.ProxyAddresses, &g.Mail, &g.OnPremisesProvisioningErrors)
	}
	for _, id := range sortedIDs(st.Contacts(), func(c *tenant.Contact) string { return c.ID }) {
		c := st.Contact(id)
		released += releaseObject(st, dir, c.ID, &c.ProxyAddresses, &c.Mail, &c.OnPremisesProvisioningErrors)
	}
	return released
}

// releaseObject gives a group or contact back the quarantined proxy
// addresses nothing else holds any more, re-indexing it, and returns how
// many came back.
func releaseObject(st *tenant.State, dir storeDirectory, id string, proxies *[]string, mail **string, errs *[]tenant.ProvisioningError) int {
	next, nextMail, keep, n := releaseProxies(dir, id, *proxies, *mail, *errs)
	if n == 0 || st.CheckProxies(next, id) != nil {
		return 0
	}
	st.UnindexObject(*proxies, *mail, nil, id)
	*proxies, *mail, *errs = next, nextMail, keep
	st.IndexObject(*proxies, *mail, nil, id)
	return n
}

// releaseUserValue puts one quarantined value back on u if nothing else
// holds it, and reports whether it did (or found it already there).
func releaseUserValue(st *tenant.State, dir storeDirectory, u *tenant.User, pe tenant.ProvisioningError) bool {
	switch pe.PropertyCausingError {
	case syncrules.PropertyUserPrincipalName:
		if strings.EqualFold(u.UserPrincipalName, pe.Value) {
			return true
		}
		if heldByOther(dir.ByUPN(pe.Value), u.ID) {
			return false
		}
		if _, ok := st.Domain(tenant.UPNDomain(pe.Value)); !ok {
			return false
		}
		u.UserPrincipalName = pe.Value
		return true
	case syncrules.PropertyProxyAddresses:
		proxies, mail, ok := releaseProxy(dir, u.ID, u.ProxyAddresses, u.Mail, pe.Value)
		if ok {
			u.ProxyAddresses, u.Mail = proxies, mail
		}
		return ok
	}
	return false
}

// releaseProxies puts back every quarantined proxy address of a group or
// contact whose conflict is gone; n counts them.
func releaseProxies(dir storeDirectory, id string, proxies []string, mail *string, errs []tenant.ProvisioningError) ([]string, *string, []tenant.ProvisioningError, int) {
	proxies = append([]string(nil), proxies...)
	var keep []tenant.ProvisioningError
	n := 0
	for _, pe := range errs {
		if pe.PropertyCausingError == syncrules.PropertyProxyAddresses {
			if p, m, ok := releaseProxy(dir, id, proxies, mail, pe.Value); ok {
				proxies, mail = p, m
				n++
				continue
			}
		}
		keep = append(keep, pe)
	}
	return proxies, mail, keep, n
}

// releaseProxy adds the quarantined proxy address value back unless another
// live object holds its address (as a proxy address or as mail, as the sync
// service's uniqueness check counts it). A released primary address becomes
// the object's mail when it has none.
func releaseProxy(dir storeDirectory, id string, proxies []string, mail *string, value string) ([]string, *string, bool) {
	for _, p := range proxies {
		if strings.EqualFold(p, value) {
			return proxies, mail, true
		}
	}
	if len(value) > 5 && strings.EqualFold(value[:5], "smtp:") && heldByOther(dir.ByProxyAddress(value[5:]), id) {
		return proxies, mail, false
	}
	if strings.HasPrefix(value, "SMTP:") && primaryOf(proxies) != "" {
		// The object got another primary address meanwhile: one primary only.
		value = "smtp:" + value[5:]
	}
	out := append(append([]string(nil), proxies...), value)
	if strings.HasPrefix(value, "SMTP:") && mail == nil {
		addr := value[5:]
		mail = &addr
	}
	return out, mail, true
}

// heldByOther reports whether a live object other than id is among objs.
func heldByOther(objs []syncrules.CloudObject, id string) bool {
	for _, o := range objs {
		if !o.Deleted && !strings.EqualFold(o.ID, id) {
			return true
		}
	}
	return false
}

// sortedIDs lists the ids of objs in the order of their lower-case form,
// so that a sweep over the tenant goes the same way every time.
func sortedIDs[T any](objs iter.Seq[*T], id func(*T) string) []string {
	keys := map[string]bool{}
	for o := range objs {
		keys[key(id(o))] = true
	}
	return sortedKeys(keys)
}
