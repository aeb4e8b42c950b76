package fakead

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// User is a user account to create.
type User struct {
	// CN names the object (CN=<CN>,<Parent>); SAMAccountName when empty.
	CN string `json:"cn,omitempty"`
	// Parent is the container or OU: a full DN, or one relative to the
	// base DN ("OU=Sales"). CN=Users,<base> when empty.
	Parent string `json:"parent,omitempty"`
	// SAMAccountName is the pre-Windows 2000 logon name; CN when empty.
	SAMAccountName    string   `json:"sAMAccountName,omitempty"`
	UserPrincipalName string   `json:"userPrincipalName,omitempty"`
	Mail              string   `json:"mail,omitempty"`
	ProxyAddresses    []string `json:"proxyAddresses,omitempty"`
	DisplayName       string   `json:"displayName,omitempty"`
	GivenName         string   `json:"givenName,omitempty"`
	Surname           string   `json:"sn,omitempty"`
	// Password lets the user bind; without one, binds as the user fail.
	Password string `json:"password,omitempty"`
	// Disabled sets ACCOUNTDISABLE in userAccountControl.
	Disabled bool `json:"disabled,omitempty"`
	// AdminCount is 1 for accounts that AdminSDHolder protects.
	AdminCount int `json:"adminCount,omitempty"`
	// ObjectGUID is assigned at random when zero.
	ObjectGUID GUID `json:"objectGUID,omitzero"`
	// ConsistencyGUID is mS-DS-ConsistencyGuid; empty when nil.
	ConsistencyGUID *GUID `json:"consistencyGuid,omitempty"`
	// Attributes sets further attributes by LDAP name (telephoneNumber,
	// extensionAttribute1, ...).
	Attributes map[string][]string `json:"attributes,omitempty"`
}

// Group is a group to create.
type Group struct {
	// CN names the object; SAMAccountName when empty.
	CN             string   `json:"cn,omitempty"`
	Parent         string   `json:"parent,omitempty"`
	SAMAccountName string   `json:"sAMAccountName,omitempty"`
	Mail           string   `json:"mail,omitempty"`
	ProxyAddresses []string `json:"proxyAddresses,omitempty"`
	DisplayName    string   `json:"displayName,omitempty"`
	Description    string   `json:"description,omitempty"`
	// GroupType is AD's groupType; 0 means a global security group
	// (-2147483646). A global distribution group, the usual mail-enabled
	// kind, is 2.
	GroupType int32 `json:"groupType,omitempty"`
	// Members are DNs, or sAMAccountNames of objects created before.
	Members    []string            `json:"members,omitempty"`
	ObjectGUID GUID                `json:"objectGUID,omitzero"`
	Attributes map[string][]string `json:"attributes,omitempty"`
}

// Contact is a mail contact to create.
type Contact struct {
	// CN names the object. Required.
	CN             string              `json:"cn"`
	Parent         string              `json:"parent,omitempty"`
	Mail           string              `json:"mail,omitempty"`
	ProxyAddresses []string            `json:"proxyAddresses,omitempty"`
	DisplayName    string              `json:"displayName,omitempty"`
	GivenName      string              `json:"givenName,omitempty"`
	Surname        string              `json:"sn,omitempty"`
	ObjectGUID     GUID                `json:"objectGUID,omitzero"`
	Attributes     map[string][]string `json:"attributes,omitempty"`
}

// BaseDN returns the domain's naming context.
func (s *Server) BaseDN() string { return s.store.cfg.BaseDN }

// Domain returns the domain's DNS name.
func (s *Server) Domain() string { return s.store.cfg.Domain }

// UsersDN returns CN=Users,<base>.
func (s *Server) UsersDN() string { return "CN=Users," + s.store.cfg.BaseDN }

// AdminDN returns the DN of the built-in Administrator.
func (s *Server) AdminDN() string { return "CN=Administrator," + s.UsersDN() }

// AdminUPN returns Administrator@<domain>, the implicit UPN AD accepts
// for binding as Administrator.
func (s *Server) AdminUPN() string { return "Administrator@" + s.store.cfg.Domain }

// DomainAdminsDN returns the DN of Domain Admins, whose members (nested
// included) may write over LDAP.
func (s *Server) DomainAdminsDN() string { return "CN=Domain Admins," + s.UsersDN() }

// AddUser creates a user and returns its DN and objectGUID.
func (s *Server) AddUser(u User) (string, GUID, error) {
	if u.CN == "" {
		u.CN = u.SAMAccountName
	}
	if u.SAMAccountName == "" {
		u.SAMAccountName = u.CN
	}
	if u.CN == "" {
		return "", GUID{}, errors.New("fakead: a user needs a CN or a sAMAccountName")
	}
	uac := uacNormalAccount
	if u.Disabled {
		uac |= uacAccountDisable
	}
	attrs := map[string][]string{
		"sAMAccountName":     {u.SAMAccountName},
		"userPrincipalName":  {u.UserPrincipalName},
		"mail":               {u.Mail},
		"proxyAddresses":     u.ProxyAddresses,
		"displayName":        {u.DisplayName},
		"givenName":          {u.GivenName},
		"sn":                 {u.Surname},
		"userAccountControl": {strconv.Itoa(uac)},
	}
	if u.AdminCount != 0 {
		attrs["adminCount"] = []string{strconv.Itoa(u.AdminCount)}
	}
	if u.ConsistencyGUID != nil {
		attrs["mS-DS-ConsistencyGuid"] = []string{string(u.ConsistencyGUID[:])}
	}
	dn, guid, err := s.createObject("user", u.CN, u.Parent, attrs, u.Attributes, u.ObjectGUID)
	if err != nil {
		return "", GUID{}, fmt.Errorf("fakead: adding user %s: %w", u.CN, err)
	}
	if u.Password != "" {
		if err := s.SetPassword(dn, u.Password); err != nil {
			return "", GUID{}, err
		}
	}
	return dn, guid, nil
}

// AddGroup creates a group and returns its DN and objectGUID.
func (s *Server) AddGroup(g Group) (string, GUID, error) {
	if g.CN == "" {
		g.CN = g.SAMAccountName
	}
	if g.SAMAccountName == "" {
		g.SAMAccountName = g.CN
	}
	if g.CN == "" {
		return "", GUID{}, errors.New("fakead: a group needs a CN or a sAMAccountName")
	}
	groupType := int64(g.GroupType)
	if groupType == 0 {
		groupType = groupTypeGlobalSecurity
	}
	members := make([]string, 0, len(g.Members))
	for _, m := range g.Members {
		dn, err := s.memberDN(m)
		if err != nil {
			return "", GUID{}, fmt.Errorf("fakead: adding group %s: %w", g.CN, err)
		}
		members = append(members, dn)
	}
	attrs := map[string][]string{
		"sAMAccountName": {g.SAMAccountName},
		"mail":           {g.Mail},
		"proxyAddresses": g.ProxyAddresses,
		"displayName":    {g.DisplayName},
		"description":    {g.Description},
		"groupType":      {strconv.FormatInt(groupType, 10)},
		"member":         members,
	}
	dn, guid, err := s.createObject("group", g.CN, g.Parent, attrs, g.Attributes, g.ObjectGUID)
	if err != nil {
		return "", GUID{}, fmt.Errorf("fakead: adding group %s: %w", g.CN, err)
	}
	return dn, guid, nil
}

// AddContact creates a contact and returns its DN and objectGUID.
func (s *Server) AddContact(c Contact) (string, GUID, error) {
	if c.CN == "" {
		return "", GUID{}, errors.New("fakead: a contact needs a CN")
	}
	attrs := map[string][]string{
		"mail":           {c.Mail},
		"proxyAddresses": c.ProxyAddresses,
		"displayName":    {c.DisplayName},
		"givenName":      {c.GivenName},
		"sn":             {c.Surname},
	}
	dn, guid, err := s.createObject("contact", c.CN, c.Parent, attrs, c.Attributes, c.ObjectGUID)
	if err != nil {
		return "", GUID{}, fmt.Errorf("fakead: adding contact %s: %w", c.CN, err)
	}
	return dn, guid, nil
}

// AddOU creates an organizational unit under parent (the base DN when
// empty; a relative parent is taken below the base DN) and returns its DN.
func (s *Server) AddOU(name, parent string) (string, error) {
	if parent == "" {
		parent = s.store.cfg.BaseDN
	}
	p, err := s.resolveParent(parent)
	if err != nil {
		return "", err
	}
	e, err := s.store.create("OU="+ldap.EscapeDN(name)+","+p, "organizationalUnit", nil, addOptions{})
	if err != nil {
		return "", fmt.Errorf("fakead: adding OU %s: %w", name, err)
	}
	return e.dn, nil
}

func (s *Server) createObject(cls, cn, parent string, attrs, extra map[string][]string, guid GUID) (string, GUID, error) {
	p, err := s.resolveParent(parent)
	if err != nil {
		return "", GUID{}, err
	}
	for k, v := range extra {
		for known := range attrs {
			if strings.EqualFold(known, k) {
				return "", GUID{}, fmt.Errorf("attribute %s is set twice", k)
			}
		}
		attrs[k] = v
	}
	e, err := s.store.create("CN="+ldap.EscapeDN(cn)+","+p, cls, attrs, addOptions{guid: guid})
	if err != nil {
		return "", GUID{}, err
	}
	var g GUID
	copy(g[:], e.first("objectGUID"))
	return e.dn, g, nil
}

// resolveParent returns parent as a DN under the base DN: CN=Users when
// empty, and below the base when it does not already end with it.
func (s *Server) resolveParent(parent string) (string, error) {
	if strings.TrimSpace(parent) == "" {
		return s.UsersDN(), nil
	}
	k, err := normDN(parent)
	if err != nil {
		return "", fmt.Errorf("fakead: parent: %w", err)
	}
	if isUnder(k, s.store.baseKey) {
		return parent, nil
	}
	return parent + "," + s.store.cfg.BaseDN, nil
}

// memberDN resolves a group member given as a DN or a sAMAccountName.
func (s *Server) memberDN(m string) (string, error) {
	if strings.Contains(m, "=") {
		if _, err := normDN(m); err != nil {
			return "", err
		}
		return m, nil
	}
	s.store.mu.RLock()
	defer s.store.mu.RUnlock()
	for _, e := range s.store.entries {
		if strings.EqualFold(e.first("sAMAccountName"), m) {
			return e.dn, nil
		}
	}
	return "", fmt.Errorf("no object with sAMAccountName %q", m)
}

// AddToGroup adds member (a DN or a sAMAccountName) to the group groupDN.
func (s *Server) AddToGroup(groupDN, member string) error {
	dn, err := s.memberDN(member)
	if err != nil {
		return fmt.Errorf("fakead: adding %s to %s: %w", member, groupDN, err)
	}
	return s.modify(groupDN, change{op: modAdd, attr: "member", values: [][]byte{[]byte(dn)}})
}

// SetUPNSuffixes replaces the forest's alternative UPN suffixes.
func (s *Server) SetUPNSuffixes(suffixes ...string) error {
	return s.modify("CN=Partitions,CN=Configuration,"+s.store.cfg.BaseDN,
		change{op: modReplace, attr: "uPNSuffixes", values: toBytes(suffixes)})
}

// SetPassword sets the bind password of the user dn.
func (s *Server) SetPassword(dn, password string) error {
	k, err := normDN(dn)
	if err != nil {
		return fmt.Errorf("fakead: %w", err)
	}
	return s.store.setPassword(k, password)
}

// SetAttribute replaces the values of attribute name on dn (no values
// clears it), with the checks an LDAP Modify gets. Raw bytes allow odd
// values, such as a mS-DS-ConsistencyGuid that is not 16 bytes long.
func (s *Server) SetAttribute(dn, name string, values ...[]byte) error {
	return s.modify(dn, change{op: modReplace, attr: name, values: values})
}

// Attribute returns the values of attribute name on dn (memberOf
// included), or an error when dn does not exist.
func (s *Server) Attribute(dn, name string) ([][]byte, error) {
	k, err := normDN(dn)
	if err != nil {
		return nil, fmt.Errorf("fakead: %w", err)
	}
	s.store.mu.RLock()
	defer s.store.mu.RUnlock()
	e, ok := s.store.entries[k]
	if !ok {
		return nil, fmt.Errorf("fakead: no object %s", dn)
	}
	def, ok := s.store.schema.lookup(name)
	if !ok {
		return nil, fmt.Errorf("fakead: unknown attribute %s", name)
	}
	vals := s.store.evaluator().values(e, def)
	out := make([][]byte, len(vals))
	for i, v := range vals {
		out[i] = append([]byte(nil), v...)
	}
	return out, nil
}

// Remove deletes the leaf object dn.
func (s *Server) Remove(dn string) error {
	if err := s.store.remove(systemPrincipal, dn); err != nil {
		return fmt.Errorf("fakead: removing %s: %w", dn, err)
	}
	return nil
}

func (s *Server) modify(dn string, c change) error {
	if err := s.store.modify(systemPrincipal, dn, []change{c}, false); err != nil {
		return fmt.Errorf("fakead: changing %s of %s: %w", c.attr, dn, err)
	}
	return nil
}
