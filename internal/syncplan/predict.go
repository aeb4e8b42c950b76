// Package syncplan predicts what the next directory synchronization will do
// to every exported on-premises object against the tenant as it is now:
// hard match, soft match on primary SMTP or on userPrincipalName, update of
// an object already synced, a new object (with the values that collide
// quarantined), or a refusal. Pure: the caller reads AD and Graph, the
// package decides, table tests pin each rule to the page it follows.
//
// It is the operator's own reading of Microsoft's documentation and shares
// no code with the Entra emulator's sync engine; a differential test runs
// both over random populations, so that each catches the other's misreading.
//
// Pages (learn.microsoft.com/entra/identity/hybrid/connect/):
//   - how-to-connect-install-existing-tenant: the order (hard match, then
//     soft match on primary SMTP, then on userPrincipalName when
//     softMatchOnUpnEnabled), blockSoftMatchEnabled, admin roles blocking
//     soft match, groups and contacts matching on proxyAddresses only, the
//     2026 hard-match protections (privileged roles assigned or eligible,
//     onPremisesObjectIdentifier).
//   - how-to-connect-syncservice-duplicate-attribute-resiliency: a new
//     object whose UPN or proxy address collides is provisioned with that
//     value quarantined (UPN prefix+4 digits@initial domain, proxy dropped).
//   - tshoot-connect-sync-errors: InvalidHardMatch, ObjectTypeMismatch,
//     Existing Admin Role Conflict, AttributeUpdateNotAllowed.
//   - plan-connect-userprincipalname: a UPN on a suffix that is not a
//     verified domain is provisioned on the initial onmicrosoft.com domain,
//     from mailNickname when set, else the UPN's prefix.
package syncplan

import (
	"fmt"
	"strings"
)

// Kind is the type of a directory object.
type Kind string

// The kinds sync exports.
const (
	User    Kind = "user"
	Group   Kind = "group"
	Contact Kind = "contact"
)

// Export is one on-premises object as the sync client exports it.
type Export struct {
	Kind Kind
	// Anchor is the sourceAnchor (Base64 immutable ID), case-sensitive.
	Anchor            string
	UserPrincipalName string
	MailNickname      string
	Mail              string
	// ProxyAddresses as AD holds them: SMTP: primary, smtp: secondary.
	ProxyAddresses []string
	// MailEnabled: for groups, whether the group has mail.
	MailEnabled bool
	// ObjectIdentifier is what sync stamps into onPremisesObjectIdentifier.
	ObjectIdentifier string
	// SamAccountName is the group's sAMAccountName, which sync stamps into
	// onPremisesSamAccountName.
	SamAccountName string
}

// CloudObject is one object of the tenant, active or soft-deleted.
type CloudObject struct {
	ID                string
	Kind              Kind
	UserPrincipalName string
	Mail              string
	ProxyAddresses    []string
	ImmutableID       string
	// SyncEnabled: nil never synced, true synced, false removed from sync.
	SyncEnabled      *bool
	ObjectIdentifier string
	MailEnabled      bool
	Deleted          bool
	// AnchorHidden: Graph does not show this object's source anchor (a
	// group or a contact); when it is synced, it is recognized by its
	// onPremisesSamAccountName or its address instead.
	AnchorHidden   bool
	SamAccountName string
	// AdminAssigned/AdminEligible: any directory role, active or PIM
	// eligible; Privileged*: a role Microsoft marks privileged.
	AdminAssigned, AdminEligible           bool
	PrivilegedAssigned, PrivilegedEligible bool
}

// Flags are the tenant's synchronization features matching depends on.
type Flags struct {
	BlockSoftMatch              bool
	BlockTakeover               bool
	SoftMatchOnUPN              bool
	AllowObjectIdentifierUpdate bool
}

// Tenant is the cloud side of a plan.
type Tenant struct {
	Objects         []CloudObject
	VerifiedDomains []string
	InitialDomain   string
	Flags           Flags
}

// Outcome is what sync does with one export.
type Outcome string

// The outcomes.
const (
	HardMatch     Outcome = "HardMatch"
	SoftMatchSMTP Outcome = "SoftMatchSMTP"
	SoftMatchUPN  Outcome = "SoftMatchUPN"
	Updated       Outcome = "Updated"
	Created       Outcome = "Created"
	// Refused: the export fails and nothing is written.
	Refused Outcome = "Refused"
)

// Codes say why, as Entra reports them.
const (
	CodeInvalidHardMatch          = "InvalidHardMatch"
	CodeObjectTypeMismatch        = "ObjectTypeMismatch"
	CodeAttributeUpdateNotAllowed = "AttributeUpdateNotAllowed"
	CodeExistingAdminRoleConflict = "ExistingAdminRoleConflict"
	// CodeNotMailEnabled: a group without mail cannot be matched; a
	// second group is created.
	CodeNotMailEnabled = "NotMailEnabled"
	// CodeSoftMatchBlocked: blockSoftMatchEnabled kept a match from
	// happening.
	CodeSoftMatchBlocked = "SoftMatchBlocked"
	// CodeAnchorTaken: the address or name belongs to an object that
	// already carries another source anchor.
	CodeAnchorTaken = "AnchorTaken"
	// CodeAmbiguous: several objects have the primary SMTP address;
	// none is matched.
	CodeAmbiguous = "AmbiguousSoftMatch"
	// CodeAnchorHidden: Graph hides a group's or contact's source anchor;
	// a synced object with the export's sAMAccountName (groups) or primary
	// address is taken to be this one.
	CodeAnchorHidden = "AnchorHidden"
	// CodeUPNNotVerified: the UPN's suffix is not a verified domain; the
	// object is provisioned on the initial domain.
	CodeUPNNotVerified = "UPNNotVerified"
)

// Prediction is what sync will do with one export.
type Prediction struct {
	Outcome Outcome
	// Code says why, when there is a why (a refusal, a match that did
	// not happen).
	Code string
	// CloudID is the object matched or updated; empty otherwise.
	CloudID string
	// UserPrincipalName is the UPN a user ends with (before any
	// quarantine); QuarantinedUPN says it collides and is replaced.
	UserPrincipalName string
	QuarantinedUPN    bool
	// QuarantinedProxies are the proxy addresses dropped because another
	// object holds them.
	QuarantinedProxies []string
	// Reason says it in a sentence.
	Reason string
}

// Predict plays one sync cycle over the exports in order: what an earlier
// export creates or matches changes what a later one finds, as it does in
// the sync service.
func Predict(t Tenant, exports []Export) []Prediction {
	s := newState(t)
	out := make([]Prediction, 0, len(exports))
	for _, e := range exports {
		p := s.decide(e)
		s.apply(e, p)
		out = append(out, p)
	}
	return out
}

type state struct {
	t    Tenant
	objs []*CloudObject
	// byID finds the object a prediction names: looking through objs for
	// each export made a plan of n exports cost n*n.
	byID     map[string]*CloudObject
	byAnchor map[string][]*CloudObject
	verified map[string]bool
	next     int
	// Indexes of the active objects, kept as exports change them:
	// primary SMTP address, every address held (proxy or mail), and the
	// UPNs of users.
	byPrimary map[string][]*CloudObject
	byAddress map[string][]*CloudObject
	byUPN     map[string]*CloudObject
}

func newState(t Tenant) *state {
	s := &state{t: t, byID: make(map[string]*CloudObject, len(t.Objects)), byAnchor: map[string][]*CloudObject{}, verified: map[string]bool{},
		byPrimary: map[string][]*CloudObject{}, byAddress: map[string][]*CloudObject{}, byUPN: map[string]*CloudObject{}}
	for i := range t.Objects {
		o := t.Objects[i]
		o.ProxyAddresses = append([]string(nil), o.ProxyAddresses...)
		s.add(&o)
	}
	for _, d := range t.VerifiedDomains {
		s.verified[lower(d)] = true
	}
	return s
}

func (s *state) add(o *CloudObject) {
	s.objs = append(s.objs, o)
	if _, ok := s.byID[o.ID]; !ok {
		s.byID[o.ID] = o
	}
	if o.ImmutableID != "" {
		s.byAnchor[o.ImmutableID] = append(s.byAnchor[o.ImmutableID], o)
	}
	s.index(o)
}

// addresses are the lower-case addresses o holds: its SMTP proxy
// addresses and its mail.
func addresses(o *CloudObject) []string {
	var out []string
	if m := lower(o.Mail); m != "" {
		out = append(out, m)
	}
	for _, a := range o.ProxyAddresses {
		if v, ok := smtpAddress(a); ok && v != lower(o.Mail) {
			out = append(out, v)
		}
	}
	return out
}

func (s *state) index(o *CloudObject) {
	if o.Deleted {
		return
	}
	if p := cloudPrimary(o); p != "" {
		s.byPrimary[p] = append(s.byPrimary[p], o)
	}
	for _, a := range addresses(o) {
		s.byAddress[a] = append(s.byAddress[a], o)
	}
	if o.Kind == User && o.UserPrincipalName != "" {
		s.byUPN[lower(o.UserPrincipalName)] = o
	}
}

func (s *state) unindex(o *CloudObject) {
	drop := func(m map[string][]*CloudObject, k string) {
		list := m[k]
		for i, x := range list {
			if x == o {
				m[k] = append(list[:i:i], list[i+1:]...)
				break
			}
		}
		if len(m[k]) == 0 {
			delete(m, k)
		}
	}
	if p := cloudPrimary(o); p != "" {
		drop(s.byPrimary, p)
	}
	for _, a := range addresses(o) {
		drop(s.byAddress, a)
	}
	if o.Kind == User && s.byUPN[lower(o.UserPrincipalName)] == o {
		delete(s.byUPN, lower(o.UserPrincipalName))
	}
}

func (s *state) decide(e Export) Prediction {
	if p, ok := s.hardMatch(e); ok {
		return p
	}
	if c := s.hiddenAnchorHolder(e); c != nil {
		return Prediction{Outcome: Updated, Code: CodeAnchorHidden, CloudID: c.ID,
			Reason: "a synced object with the same name or address exists; Graph does not show its source anchor, so it is taken to be this object"}
	}
	if e.Kind == Group && !e.MailEnabled {
		// Security groups have no address to match on.
		return s.create(e, CodeNotMailEnabled, "a group without mail cannot be matched: sync creates a second group")
	}
	if s.t.Flags.BlockSoftMatch {
		why := ""
		if s.softCandidate(e) {
			why = CodeSoftMatchBlocked
		}
		return s.create(e, why, "blockSoftMatchEnabled is on: no soft match")
	}
	// The first way that finds a candidate decides: an object found on its
	// primary SMTP address that cannot be matched is not passed over for
	// another found on its UPN.
	if primary := exportPrimary(e); primary != "" {
		switch cands := s.activeWithPrimary(primary); {
		case len(cands) > 1:
			return s.create(e, CodeAmbiguous, fmt.Sprintf("%d objects have the primary SMTP address %s: none is matched", len(cands), primary))
		case len(cands) == 1:
			return s.soft(e, cands[0], SoftMatchSMTP, "primary SMTP address "+primary)
		}
	}
	if e.Kind == User && s.t.Flags.SoftMatchOnUPN && s.verified[suffix(e.UserPrincipalName)] {
		if c := s.activeUserWithUPN(e.UserPrincipalName); c != nil {
			return s.soft(e, c, SoftMatchUPN, "userPrincipalName "+e.UserPrincipalName)
		}
	}
	return s.create(e, "", "")
}

// hiddenAnchorHolder finds the synced group or contact that most likely
// carries the export's anchor, which Graph does not show: for a group the
// one with its sAMAccountName, else the one with its primary address.
func (s *state) hiddenAnchorHolder(e Export) *CloudObject {
	if e.Kind == User {
		return nil
	}
	synced := func(o *CloudObject) bool {
		return o.AnchorHidden && o.Kind == e.Kind && !o.Deleted && o.SyncEnabled != nil && *o.SyncEnabled
	}
	if e.SamAccountName != "" {
		for _, o := range s.objs {
			if synced(o) && strings.EqualFold(o.SamAccountName, e.SamAccountName) {
				return o
			}
		}
	}
	if p := exportPrimary(e); p != "" {
		for _, o := range s.byPrimary[p] {
			if synced(o) {
				return o
			}
		}
	}
	return nil
}

// soft decides a soft match on a found candidate.
func (s *state) soft(e Export, c *CloudObject, how Outcome, on string) Prediction {
	synced := c.SyncEnabled != nil && *c.SyncEnabled
	switch {
	case c.Kind != e.Kind:
		return Prediction{Outcome: Refused, Code: CodeObjectTypeMismatch, Reason: fmt.Sprintf("the %s belongs to a %s, not a %s", on, c.Kind, e.Kind)}
	case c.ImmutableID != "" || synced:
		return s.create(e, CodeAnchorTaken, fmt.Sprintf("the object with the %s already carries another source anchor: a new object is created, its colliding values quarantined", on))
	case c.Kind == User && (c.AdminAssigned || c.AdminEligible):
		return s.create(e, CodeExistingAdminRoleConflict, fmt.Sprintf("the user with the %s holds an admin role: Entra refuses the match and creates a new object, its colliding values quarantined", on))
	}
	return Prediction{Outcome: how, CloudID: c.ID, UserPrincipalName: c.UserPrincipalName, Reason: "soft match on the " + on}
}

// hardMatch: the anchor is on a cloud object already, active or deleted.
func (s *state) hardMatch(e Export) (Prediction, bool) {
	holders := s.byAnchor[e.Anchor]
	if len(holders) == 0 {
		return Prediction{}, false
	}
	c := holders[0]
	synced := c.SyncEnabled != nil && *c.SyncEnabled
	// The 2026 protections; allowOnPremUpdateOfOnPremisesObjectIdentifierEnabled
	// is their documented temporary bypass, as a whole.
	protected := !s.t.Flags.AllowObjectIdentifierUpdate
	privileged := c.Kind == User && (c.PrivilegedAssigned || c.PrivilegedEligible)
	remap := c.ObjectIdentifier != "" && !strings.EqualFold(c.ObjectIdentifier, e.ObjectIdentifier)
	refuse := func(code, why string) (Prediction, bool) {
		return Prediction{Outcome: Refused, Code: code, CloudID: c.ID, Reason: why}, true
	}
	switch {
	case c.Kind != e.Kind:
		return refuse(CodeObjectTypeMismatch, fmt.Sprintf("the source anchor is on a %s (%s), not a %s", c.Kind, c.ID, e.Kind))
	case protected && c.Deleted && privileged:
		// "soft-deleted and privileged: hard match blocked".
		return refuse(CodeInvalidHardMatch, "the deleted cloud user carrying the anchor is assigned or eligible for a privileged role")
	case synced && protected && remap && e.ObjectIdentifier != "":
		return refuse(CodeAttributeUpdateNotAllowed, "the synced object carrying the anchor belongs to another on-premises object (onPremisesObjectIdentifier differs)")
	case synced:
		return Prediction{Outcome: Updated, CloudID: c.ID, UserPrincipalName: c.UserPrincipalName, Reason: "already synced from this anchor"}, true
	case s.t.Flags.BlockTakeover:
		return refuse(CodeInvalidHardMatch, "blockCloudObjectTakeoverThroughHardMatchEnabled is on and the object carrying the anchor is cloud-managed")
	case protected && privileged:
		return refuse(CodeInvalidHardMatch, "the cloud user carrying the anchor is assigned or eligible for a privileged role")
	case protected && remap:
		return refuse(CodeAttributeUpdateNotAllowed, "the cloud object carrying the anchor already has another onPremisesObjectIdentifier")
	}
	return Prediction{Outcome: HardMatch, CloudID: c.ID, UserPrincipalName: c.UserPrincipalName, Reason: "hard match on the source anchor"}, true
}

// softCandidate says whether a soft match would have found an object.
func (s *state) softCandidate(e Export) bool {
	if p := exportPrimary(e); p != "" && len(s.activeWithPrimary(p)) > 0 {
		return true
	}
	return e.Kind == User && s.t.Flags.SoftMatchOnUPN && s.verified[suffix(e.UserPrincipalName)] && s.activeUserWithUPN(e.UserPrincipalName) != nil
}

// values are what sync writes to the object selfID (empty for a new
// object): the effective UPN, quarantined when another user holds it, and
// the proxy addresses no other object holds.
func (s *state) values(e Export, selfID string) (upn string, quarantined bool, kept, dropped []string) {
	if e.Kind == User {
		upn = e.UserPrincipalName
		if !s.verified[suffix(upn)] {
			upn = mailNickname(e) + "@" + s.t.InitialDomain
		}
		if o := s.activeUserWithUPN(upn); o != nil && o.ID != selfID {
			quarantined = true
		}
	}
	for _, a := range e.ProxyAddresses {
		if addr, ok := smtpAddress(a); ok && s.proxyHeld(addr, selfID) {
			dropped = append(dropped, a)
			continue
		}
		kept = append(kept, a)
	}
	return upn, quarantined, kept, dropped
}

// create provisions a new object, quarantining what collides.
func (s *state) create(e Export, code, reason string) Prediction {
	p := Prediction{Outcome: Created, Code: code, Reason: reason}
	p.UserPrincipalName, p.QuarantinedUPN, _, p.QuarantinedProxies = s.values(e, "")
	if e.Kind == User && !s.verified[suffix(e.UserPrincipalName)] && p.Code == "" {
		p.Code = CodeUPNNotVerified
	}
	if p.Reason == "" {
		p.Reason = "no object to match: sync creates a new one"
	}
	return p
}

// apply makes the tenant what the prediction says it becomes. A matched
// or updated object is on-premises mastered from now on: its names and
// addresses are overwritten with the exported ones.
func (s *state) apply(e Export, p Prediction) {
	on := true
	var o *CloudObject
	switch p.Outcome {
	case HardMatch, SoftMatchSMTP, SoftMatchUPN, Updated:
		if o = s.byID[p.CloudID]; o == nil {
			return
		}
		s.unindex(o)
		if o.ImmutableID != e.Anchor {
			o.ImmutableID = e.Anchor
			s.byAnchor[e.Anchor] = append(s.byAnchor[e.Anchor], o)
		}
		o.SyncEnabled, o.Deleted = &on, false
	case Created:
		s.next++
		o = &CloudObject{ID: fmt.Sprintf("new-%d", s.next), Kind: e.Kind, ImmutableID: e.Anchor, SyncEnabled: &on, MailEnabled: e.MailEnabled}
		s.objs = append(s.objs, o)
		if _, ok := s.byID[o.ID]; !ok {
			s.byID[o.ID] = o
		}
		s.byAnchor[e.Anchor] = append(s.byAnchor[e.Anchor], o)
	default:
		return
	}
	defer s.index(o)
	upn, quarantined, kept, _ := s.values(e, o.ID)
	if e.Kind == User {
		o.UserPrincipalName = upn
		if quarantined {
			o.UserPrincipalName = ""
		}
	}
	o.ProxyAddresses, o.Mail = kept, e.Mail
	if o.Mail == "" {
		o.Mail = primary(kept, "")
	}
	if e.ObjectIdentifier != "" {
		o.ObjectIdentifier = e.ObjectIdentifier
	}
}

func (s *state) activeWithPrimary(addr string) []*CloudObject { return s.byPrimary[addr] }

func (s *state) activeUserWithUPN(upn string) *CloudObject { return s.byUPN[lower(upn)] }

// proxyHeld: an active object other than selfID holds addr as any SMTP
// proxy address, or as mail (Graph's user resource: "changes to the mail
// property also update this collection to include the value as an SMTP
// address"); proxy addresses are unique across object types.
func (s *state) proxyHeld(addr, selfID string) bool {
	for _, o := range s.byAddress[addr] {
		if o.ID != selfID {
			return true
		}
	}
	return false
}

// mailNickname is what Entra sets MailNickName to at a first sync, the
// prefix of the MOERA: the on-premises mailNickName, else the prefix of
// the primary SMTP address, of mail, of the UPN, of a secondary smtp
// address (plan-connect-userprincipalname, "MailNickName attribute value
// calculation").
func mailNickname(e Export) string {
	if e.MailNickname != "" {
		return e.MailNickname
	}
	var secondary string
	for _, a := range e.ProxyAddresses {
		if addr, ok := smtpAddress(a); ok && !strings.HasPrefix(a, "SMTP:") && secondary == "" {
			secondary = addr
		}
	}
	for _, v := range []string{primary(e.ProxyAddresses, ""), e.Mail, e.UserPrincipalName, secondary} {
		if prefix, _, _ := strings.Cut(v, "@"); prefix != "" {
			return prefix
		}
	}
	return ""
}

// exportPrimary is the export's primary SMTP address: its SMTP: proxy
// address, or its mail when it has no proxy address at all.
func exportPrimary(e Export) string {
	return primary(e.ProxyAddresses, e.Mail)
}

func cloudPrimary(o *CloudObject) string { return CloudPrimarySMTP(o.ProxyAddresses, o.Mail) }

// CloudPrimarySMTP is a cloud object's primary SMTP address, lower-case:
// its SMTP: proxy address, else its mail.
func CloudPrimarySMTP(proxies []string, mail string) string {
	if p := primary(proxies, ""); p != "" {
		return p
	}
	return lower(mail)
}

// ExportPrimarySMTP is an on-premises object's primary SMTP address as
// sync reads it, lower-case: its SMTP: proxy address, or its mail when it
// has no proxy address at all.
func ExportPrimarySMTP(proxies []string, mail string) string { return primary(proxies, mail) }

func primary(proxies []string, mail string) string {
	for _, a := range proxies {
		if strings.HasPrefix(a, "SMTP:") {
			return lower(strings.TrimPrefix(a, "SMTP:"))
		}
	}
	if len(proxies) == 0 {
		return lower(mail)
	}
	return ""
}

func smtpAddress(a string) (string, bool) {
	if len(a) > 5 && strings.EqualFold(a[:5], "smtp:") {
		return lower(a[5:]), true
	}
	return "", false
}

func suffix(upn string) string {
	_, s, _ := strings.Cut(upn, "@")
	return lower(s)
}

func lower(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
