package fakead

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jimlambrt/gldap"
)

// store is the directory information tree and the rules for changing it.
// All methods are safe for concurrent use.
type store struct {
	cfg    Config
	schema *schema

	baseKey, configKey, schemaKey, partitionsKey string
	adminKey, domainAdminsKey                    string
	// ncKeys are the naming contexts, most specific first: a subtree search
	// never crosses from one into another, as in AD, where the
	// configuration partition below the domain DN is a separate NC.
	ncKeys []string

	mu      sync.RWMutex
	entries map[string]*entry
	// version counts writes to entries, so that the equality index knows
	// when it is stale.
	version int64
	indexes indexCache
	seq     map[string]int64 // creation order (uSNCreated) per key
	usn     int64
	sid     []byte // domain SID prefix S-1-5-21-x-y-z
	nextRID uint32
	now     func() time.Time
}

// systemPrincipal stands for the Go API: it may do anything, like a
// process running on the DC itself.
const systemPrincipal = "\x00system"

// Security-principal constants AD uses.
const (
	uacAccountDisable = 0x2
	uacNormalAccount  = 0x200
	// uacNewUserDefault is what AD sets when an Add names no
	// userAccountControl: NORMAL_ACCOUNT | PASSWD_NOTREQD | ACCOUNTDISABLE.
	uacNewUserDefault = 546

	samUserObject           = 805306368
	samGroupObject          = 268435456
	samNonSecurityGroup     = 268435457
	samAliasObject          = 536870912
	samNonSecurityAlias     = 536870913
	groupTypeGlobalSecurity = -2147483646
	groupTypeSecurityFlag   = -2147483648
	groupTypeDomainLocal    = 0x4
	ridAdministrator        = 500
	ridDomainAdmins         = 512
	ridDomainUsers          = 513
	accountNeverExpires     = "9223372036854775807"
)

func newStore(cfg Config) (*store, error) {
	s := &store{
		cfg:     cfg,
		schema:  newSchema(),
		entries: map[string]*entry{},
		seq:     map[string]int64{},
		nextRID: 1103,
		now:     time.Now,
	}
	s.sid = []byte{1, 4, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0}
	sub := make([]byte, 12)
	if _, err := rand.Read(sub); err != nil {
		return nil, fmt.Errorf("fakead: generating the domain SID: %w", err)
	}
	s.sid = append(s.sid, sub...)

	base := cfg.BaseDN
	config := "CN=Configuration," + base
	schemaDN := "CN=Schema," + config
	partitions := "CN=Partitions," + config
	var err error
	key := func(dn string) string {
		k, e := normDN(dn)
		if e != nil && err == nil {
			err = e
		}
		return k
	}
	s.baseKey, s.configKey, s.schemaKey, s.partitionsKey = key(base), key(config), key(schemaDN), key(partitions)
	s.ncKeys = []string{s.schemaKey, s.configKey, s.baseKey}
	if err != nil {
		return nil, fmt.Errorf("fakead: %w", err)
	}

	type seed struct {
		dn, class string
		attrs     map[string][]string
		critical  bool
	}
	users := "CN=Users," + base
	seeds := []seed{
		{base, "domainDNS", map[string][]string{"systemFlags": {"-1946157056"}}, true},
		{users, "container", map[string][]string{"description": {"Default container for upgraded user accounts"}}, true},
		{"CN=Computers," + base, "container", map[string][]string{"description": {"Default container for upgraded computer accounts"}}, true},
		{"OU=Domain Controllers," + base, "organizationalUnit", map[string][]string{"description": {"Default container for domain controllers"}}, true},
		{config, "configuration", nil, true},
		{schemaDN, "dMD", nil, true},
		{partitions, "crossRefContainer", map[string][]string{"uPNSuffixes": cfg.UPNSuffixes}, true},
		{"CN=" + cfg.NetBIOSName + "," + partitions, "crossRef", map[string][]string{
			"nCName": {base}, "dnsRoot": {cfg.Domain}, "nETBIOSName": {cfg.NetBIOSName}, "systemFlags": {"3"},
		}, true},
	}
	for _, sd := range seeds {
		if _, err := s.create(sd.dn, sd.class, sd.attrs, addOptions{critical: sd.critical}); err != nil {
			return nil, fmt.Errorf("fakead: creating %s: %w", sd.dn, err)
		}
	}
	admin, err := s.create("CN=Administrator,"+users, "user", map[string][]string{
		"sAMAccountName":     {"Administrator"},
		"userAccountControl": {strconv.Itoa(uacNormalAccount | 0x10000)},
		"adminCount":         {"1"},
		"description":        {"Built-in account for administering the computer/domain"},
	}, addOptions{rid: ridAdministrator, critical: true})
	if err != nil {
		return nil, fmt.Errorf("fakead: creating Administrator: %w", err)
	}
	s.adminKey = admin.key
	if err := s.setPassword(admin.key, cfg.AdminPassword); err != nil {
		return nil, err
	}
	if _, err := s.create("CN=Domain Users,"+users, "group", map[string][]string{
		"sAMAccountName": {"Domain Users"},
	}, addOptions{rid: ridDomainUsers, critical: true}); err != nil {
		return nil, fmt.Errorf("fakead: creating Domain Users: %w", err)
	}
	da, err := s.create("CN=Domain Admins,"+users, "group", map[string][]string{
		"sAMAccountName": {"Domain Admins"}, "adminCount": {"1"}, "member": {admin.dn},
	}, addOptions{rid: ridDomainAdmins, critical: true})
	if err != nil {
		return nil, fmt.Errorf("fakead: creating Domain Admins: %w", err)
	}
	s.domainAdminsKey = da.key
	return s, nil
}

// create is the Go API's Add: it builds an entry of class cls with attrs
// and stores it.
func (s *store) create(dn, cls string, attrs map[string][]string, opts addOptions) (*entry, error) {
	raw := []change{{op: modAdd, attr: "objectClass", values: [][]byte{[]byte(cls)}}}
	names := make([]string, 0, len(attrs))
	for n := range attrs {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		var vals [][]byte
		for _, v := range attrs[n] {
			if v != "" {
				vals = append(vals, []byte(v))
			}
		}
		if len(vals) > 0 {
			raw = append(raw, change{op: modAdd, attr: n, values: vals})
		}
	}
	e, err := s.add(systemPrincipal, dn, raw, opts)
	if err != nil {
		return nil, err
	}
	return e, nil
}

type addOptions struct {
	rid      uint32 // relative ID of a security principal; 0 takes the next
	critical bool
	guid     GUID // zero: random
}

// add creates an entry; attrs are the Add request's attributes (op is
// ignored). It returns the stored entry.
func (s *store) add(principal, dn string, attrs []change, opts addOptions) (*entry, *ldapError) {
	pdn, err := parseDN(dn)
	if err != nil || len(pdn.rdns) == 0 {
		return nil, errInvalidDN(dn)
	}
	key := pdn.key()

	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.mayWrite(principal) {
		return nil, s.denied(principal)
	}
	if _, exists := s.entries[key]; exists {
		return nil, errEntryExists()
	}
	e := &entry{key: key, attrs: map[string][][]byte{}, critical: opts.critical}
	if key == s.baseKey {
		e.dn = s.cfg.BaseDN
	} else {
		// AD keeps the parent's spelling and only takes the new RDN from
		// the request.
		parent, ok := s.entries[parentKey(key)]
		if !ok {
			return nil, errNoSuchObject(s.bestMatch(key))
		}
		e.dn = pdn.rdnString() + "," + parent.dn
	}

	var classValues []string
	var password *string
	for _, a := range attrs {
		def, ok := s.schema.lookup(a.attr)
		if !ok {
			return nil, errUndefinedType(a.attr)
		}
		if len(a.values) == 0 {
			return nil, errConstraint(def.name, "attribute without values")
		}
		switch def.usage {
		case systemAttr, backlinkAttr:
			return nil, errConstraint(def.name, "system-only attribute")
		case passwordAttr:
			if len(a.values) != 1 {
				return nil, errConstraint(def.name, "exactly one value expected")
			}
			pw, err := decodeUnicodePwd(a.values[0])
			if err != nil {
				return nil, errUnwilling("unicodePwd: " + err.Error())
			}
			password = &pw
			continue
		case rdnAttr:
			rdnValue := pdn.rdns[0][0].value
			if len(a.values) != 1 || !strings.EqualFold(string(a.values[0]), rdnValue) {
				return nil, errNamingViolation(def.name + " must equal the RDN value " + rdnValue)
			}
			continue
		}
		if def.single && len(a.values) > 1 {
			return nil, errConstraint(def.name, "more than one value for a single-valued attribute")
		}
		for i, v := range a.values {
			if err := checkSyntax(def, v); err != nil {
				return nil, err
			}
			if containsValue(def, a.values[:i], v) {
				return nil, errValueExists(def.name)
			}
		}
		if strings.EqualFold(def.name, "objectClass") {
			for _, v := range a.values {
				classValues = append(classValues, string(v))
			}
			continue
		}
		if e.values(def.name) != nil {
			return nil, errValueExists(def.name)
		}
		e.set(def.name, a.values...)
	}

	cls, ok := structuralClass(classValues)
	if !ok {
		return nil, errObjectClass("no known structural object class in " + strings.Join(classValues, ", "))
	}
	for _, v := range classValues {
		if !slices.ContainsFunc(cls.chain, func(c string) bool { return strings.EqualFold(c, v) }) {
			return nil, errObjectClass(v + " is not a superclass of " + cls.name)
		}
	}
	if rdnType := pdn.rdns[0][0].typ; len(pdn.rdns[0]) != 1 || !strings.EqualFold(rdnType, cls.rdn) {
		return nil, errNamingViolation(fmt.Sprintf("a %s is named by %s=, not %s=", cls.name, strings.ToUpper(cls.rdn), rdnType))
	}
	if password != nil && cls.name != "user" {
		return nil, errUndefinedType("unicodePwd")
	}
	if err := s.fillSystemAttributes(e, cls, pdn, opts); err != nil {
		return nil, err
	}
	if err := s.checkUnique(e, ""); err != nil {
		return nil, err
	}
	if password != nil {
		if err := e.setPassword(*password); err != nil {
			return nil, asLDAPError(err)
		}
		e.setString("pwdLastSet", strconv.FormatInt(fileTime(s.now()), 10))
	}
	s.entries[key] = e
	s.seq[key] = s.usn
	s.version++
	s.indexAdd(key, e)
	return e, nil
}

// fillSystemAttributes sets what AD sets on every new object of cls.
func (s *store) fillSystemAttributes(e *entry, cls class, pdn parsedDN, opts addOptions) *ldapError {
	rdnValue := pdn.rdns[0][0].value
	s.usn++
	now := formatGeneralizedTime(s.now())
	guid := opts.guid
	if guid.IsZero() {
		g, err := NewGUID()
		if err != nil {
			return asLDAPError(err)
		}
		guid = g
	}
	if s.guidInUse(guid) {
		return errEntryExists()
	}
	e.setString("objectClass", cls.chain...)
	e.setString(cls.rdn, rdnValue)
	e.setString("name", rdnValue)
	e.setString("distinguishedName", e.dn)
	e.setString("objectCategory", "CN="+cls.category+",CN=Schema,CN=Configuration,"+s.cfg.BaseDN)
	e.set("objectGUID", guid[:])
	e.setString("instanceType", "4")
	e.setString("whenCreated", now)
	e.setString("whenChanged", now)
	e.setString("uSNCreated", strconv.FormatInt(s.usn, 10))
	e.setString("uSNChanged", strconv.FormatInt(s.usn, 10))

	switch cls.name {
	case "user":
		if e.values("userAccountControl") == nil {
			e.setString("userAccountControl", strconv.Itoa(uacNewUserDefault))
		}
		if e.values("sAMAccountName") == nil {
			e.setString("sAMAccountName", generatedSAMAccountName())
		}
		e.setString("sAMAccountType", strconv.Itoa(samUserObject))
		e.setString("primaryGroupID", strconv.Itoa(ridDomainUsers))
		e.setString("pwdLastSet", "0")
		e.setString("badPwdCount", "0")
		e.setString("logonCount", "0")
		if e.values("accountExpires") == nil {
			e.setString("accountExpires", accountNeverExpires)
		}
		e.set("objectSid", s.allocSID(opts.rid))
	case "group":
		if e.values("groupType") == nil {
			e.setString("groupType", strconv.Itoa(groupTypeGlobalSecurity))
		}
		if e.values("sAMAccountName") == nil {
			e.setString("sAMAccountName", generatedSAMAccountName())
		}
		e.setString("sAMAccountType", strconv.Itoa(samAccountTypeOfGroup(e.intValue("groupType"))))
		e.set("objectSid", s.allocSID(opts.rid))
	}
	if opts.critical {
		e.setString("isCriticalSystemObject", "TRUE")
	}
	return nil
}

func samAccountTypeOfGroup(groupType int64) int {
	security := groupType&groupTypeSecurityFlag != 0
	local := groupType&groupTypeDomainLocal != 0
	switch {
	case security && local:
		return samAliasObject
	case security:
		return samGroupObject
	case local:
		return samNonSecurityAlias
	}
	return samNonSecurityGroup
}

func (s *store) allocSID(rid uint32) []byte {
	if rid == 0 {
		rid = s.nextRID
		s.nextRID++
	}
	sid := append([]byte(nil), s.sid...)
	sid[1] = 5 // sub-authority count: 21, three domain parts, the RID
	return binary.LittleEndian.AppendUint32(sid, rid)
}

func (s *store) guidInUse(g GUID) bool {
	_, ok := s.index().guids[string(g[:])]
	return ok
}

// generatedSAMAccountName mimics the name AD invents for an account created
// without one ($ plus random characters).
func generatedSAMAccountName() string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUV"
	b := make([]byte, 14)
	_, _ = rand.Read(b)
	out := []byte{'$'}
	for i, c := range b {
		if i == 6 {
			out = append(out, '-')
		}
		out = append(out, alphabet[c%32])
	}
	return string(out)
}

// fileTime is the Windows FILETIME AD uses for pwdLastSet: 100 ns since
// 1601-01-01.
func fileTime(t time.Time) int64 {
	const epochDiff = 116444736000000000
	return t.UnixNano()/100 + epochDiff
}

// checkUnique enforces what AD enforces: sAMAccountName unique in the
// domain (entryAlreadyExists) and userPrincipalName unique in the forest
// (constraintViolation). skip is the key of the entry being modified.
func (s *store) checkUnique(e *entry, skip string) *ldapError {
	sam, upn := e.first("sAMAccountName"), e.first("userPrincipalName")
	// Only the entries the index says may hold either value are compared;
	// all of them when a value is beyond the index (not ASCII).
	ix := s.index()
	var keys []string
	scan := false
	for attr, v := range map[string]string{"sAMAccountName": sam, "userPrincipalName": upn} {
		if v == "" {
			continue
		}
		held, ok := ix.holders(attr, v)
		scan = scan || !ok
		keys = append(keys, held...)
	}
	if scan {
		keys = slices.Collect(maps.Keys(s.entries))
	}
	for _, k := range keys {
		other, ok := s.entries[k]
		if !ok || k == skip || k == e.key {
			continue
		}
		if sam != "" && strings.EqualFold(other.first("sAMAccountName"), sam) {
			return errEntryExists()
		}
		if upn != "" && strings.EqualFold(other.first("userPrincipalName"), upn) {
			return &ldapError{code: gldap.ResultConstraintViolation, diag: "0000219D: AtrErr: DSID-0315260F, #1:\n\t0: 0000219D: DSID-0315260F, problem 1005 (CONSTRAINT_ATT_TYPE), data 0, Att 90290 (userPrincipalName)\n" +
				"UPN value provided for addition/modification is not unique forest-wide"}
		}
	}
	return nil
}

// bestMatch returns the DN of the closest existing ancestor of key.
func (s *store) bestMatch(key string) string {
	for k := key; k != ""; k = parentKey(k) {
		if e, ok := s.entries[k]; ok {
			return e.dn
		}
	}
	return ""
}

// modify applies a Modify request atomically.
func (s *store) modify(principal, dn string, changes []change, permissive bool) *ldapError {
	key, err := normDN(dn)
	if err != nil {
		return errInvalidDN(dn)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.mayWrite(principal) {
		return s.denied(principal)
	}
	e, ok := s.entries[key]
	if !ok {
		return errNoSuchObject(s.bestMatch(key))
	}
	res, lerr := applyChanges(s.schema, e, changes, permissive)
	if lerr != nil {
		return lerr
	}
	next := res.entry
	if res.password != nil {
		if !next.hasClass("user") {
			return errUndefinedType("unicodePwd")
		}
		if err := next.setPassword(*res.password); err != nil {
			return asLDAPError(err)
		}
		next.setString("pwdLastSet", strconv.FormatInt(fileTime(s.now()), 10))
	}
	if next.hasClass("group") {
		next.setString("sAMAccountType", strconv.Itoa(samAccountTypeOfGroup(next.intValue("groupType"))))
	}
	if err := s.checkUnique(next, key); err != nil {
		return err
	}
	s.usn++
	next.setString("uSNChanged", strconv.FormatInt(s.usn, 10))
	next.setString("whenChanged", formatGeneralizedTime(s.now()))
	s.entries[key] = next
	s.version++
	return nil
}

// remove deletes a leaf entry, as an LDAP Delete without the tree-delete
// control does.
func (s *store) remove(principal, dn string) *ldapError {
	key, err := normDN(dn)
	if err != nil {
		return errInvalidDN(dn)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.mayWrite(principal) {
		return s.denied(principal)
	}
	e, ok := s.entries[key]
	if !ok {
		return errNoSuchObject(s.bestMatch(key))
	}
	if e.critical {
		return errUnwilling("system-critical object")
	}
	for k := range s.entries {
		if parentKey(k) == key {
			return errNotAllowedOnNonLeaf()
		}
	}
	delete(s.entries, key)
	delete(s.seq, key)
	s.version++
	// Group memberships of the deleted object go too, as AD removes
	// forward links to a deleted object.
	for k, g := range s.entries {
		members := g.values("member")
		if len(members) == 0 {
			continue
		}
		kept := slices.DeleteFunc(slices.Clone(members), func(m []byte) bool {
			mk, err := normDN(string(m))
			return err == nil && mk == key
		})
		if len(kept) != len(members) {
			c := g.clone()
			c.set("member", kept...)
			s.entries[k] = c
		}
	}
	return nil
}

// mayWrite reports whether principal may change the directory: the Go API
// and members (directly or through nesting) of Domain Admins. Everyone
// else gets insufficientAccessRights, as a plain user writing another
// user's attributes does in AD.
func (s *store) mayWrite(principal string) bool {
	if principal == systemPrincipal {
		return true
	}
	e, ok := s.entries[principal]
	if !ok {
		return false
	}
	ev := s.evaluator()
	def, _ := s.schema.lookup("memberOf")
	return ev.inChain(e, def, s.domainAdminsKey)
}

func (s *store) denied(principal string) *ldapError {
	if principal == "" {
		return errBindRequired()
	}
	return errInsufficientAccess()
}

func (s *store) evaluator() *evaluator {
	return &evaluator{schema: s.schema, schemaKey: s.schemaKey, entries: s.entries}
}
