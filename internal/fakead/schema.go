package fakead

import (
	"fmt"
	"strings"
)

// syntax decides how values of an attribute are compared, which is what
// makes a filter behave like AD's: strings ignore case, binary values
// (GUIDs, SIDs) compare byte by byte, DNs by their normalized form and
// integers by value.
type syntax int

const (
	synString syntax = iota
	synBinary
	synDN
	synInteger
	synTime
)

// usage says who may write an attribute and whether it is stored.
type usage int

const (
	// userAttr can be set on Add and changed by Modify.
	userAttr usage = iota
	// systemAttr is kept by the directory itself (objectGUID, whenCreated);
	// clients can read it but never write it.
	systemAttr
	// rdnAttr holds the object's name; changing it needs a rename, which
	// this directory does not offer.
	rdnAttr
	// passwordAttr is write-only: it sets the bind password and is never
	// returned, like unicodePwd in AD.
	passwordAttr
	// backlinkAttr is computed from other objects (memberOf from member).
	backlinkAttr
)

type attrDef struct {
	// name is the lDAPDisplayName, the spelling AD returns.
	name   string
	syntax syntax
	single bool
	usage  usage
}

// schema is the small slice of the AD schema this directory knows. Names
// outside it are refused on writes with undefinedAttributeType, as AD does
// for names its schema lacks.
type schema struct {
	attrs map[string]attrDef // key: lower-case name
}

func newSchema() *schema {
	s := &schema{attrs: map[string]attrDef{}}
	add := func(syn syntax, single bool, use usage, names ...string) {
		for _, n := range names {
			s.attrs[strings.ToLower(n)] = attrDef{name: n, syntax: syn, single: single, usage: use}
		}
	}
	add(synString, false, userAttr, "objectClass", "proxyAddresses", "uPNSuffixes", "servicePrincipalName",
		"otherTelephone", "otherMobile", "url", "description", "otherMailbox", "altSecurityIdentities",
		"msDS-SPNSuffixes")
	add(synString, true, userAttr, "sAMAccountName", "userPrincipalName", "mail", "displayName", "givenName", "sn",
		"initials", "telephoneNumber", "mobile", "title", "department", "company", "employeeID",
		"employeeNumber", "employeeType", "physicalDeliveryOfficeName", "streetAddress", "l", "st",
		"postalCode", "c", "co", "info", "wWWHomePage", "mailNickname", "targetAddress", "comment",
		"dnsRoot", "nETBIOSName", "dnsHostName", "homeDirectory", "homeDrive", "scriptPath", "ou", "dc",
		"msDS-PhoneticDisplayName", "preferredLanguage", "isCriticalSystemObject", "showInAdvancedViewOnly")
	for i := 1; i <= 15; i++ {
		add(synString, true, userAttr, fmt.Sprintf("extensionAttribute%d", i))
	}
	for i := 1; i <= 20; i++ {
		add(synString, true, userAttr, fmt.Sprintf("msDS-cloudExtensionAttribute%d", i))
	}
	add(synBinary, true, userAttr, "mS-DS-ConsistencyGuid", "thumbnailPhoto", "msExchMailboxGuid")
	add(synBinary, false, userAttr, "userCertificate", "jpegPhoto")
	add(synBinary, true, systemAttr, "objectGUID", "objectSid")
	add(synDN, false, userAttr, "member")
	add(synDN, true, userAttr, "manager", "managedBy", "nCName", "defaultObjectCategory")
	add(synDN, true, systemAttr, "distinguishedName", "objectCategory")
	add(synDN, false, backlinkAttr, "memberOf")
	add(synInteger, true, userAttr, "userAccountControl", "adminCount", "groupType", "systemFlags",
		"countryCode", "accountExpires", "msDS-SupportedEncryptionTypes")
	add(synInteger, true, systemAttr, "sAMAccountType", "instanceType", "primaryGroupID", "uSNCreated",
		"uSNChanged", "pwdLastSet", "badPwdCount", "logonCount", "lastLogonTimestamp")
	add(synTime, true, systemAttr, "whenCreated", "whenChanged")
	add(synString, true, rdnAttr, "cn", "name")
	add(synString, true, passwordAttr, "unicodePwd", "userPassword")
	return s
}

func (s *schema) lookup(name string) (attrDef, bool) {
	d, ok := s.attrs[strings.ToLower(name)]
	return d, ok
}

// class is a structural object class an entry can be created with.
type class struct {
	name string
	// chain is the objectClass value AD stores: the class and all its
	// superclasses, most general first.
	chain []string
	// category is the RDN value of defaultObjectCategory: AD stores
	// CN=<category>,CN=Schema,CN=Configuration,<forest> in objectCategory.
	category string
	// rdn is the naming attribute (cn, ou or dc).
	rdn string
}

var classes = map[string]class{
	"user":               {"user", []string{"top", "person", "organizationalPerson", "user"}, "Person", "cn"},
	"contact":            {"contact", []string{"top", "person", "organizationalPerson", "contact"}, "Person", "cn"},
	"group":              {"group", []string{"top", "group"}, "Group", "cn"},
	"organizationalunit": {"organizationalUnit", []string{"top", "organizationalUnit"}, "Organizational-Unit", "ou"},
	"container":          {"container", []string{"top", "container"}, "Container", "cn"},
	"domaindns":          {"domainDNS", []string{"top", "domain", "domainDNS"}, "Domain-DNS", "dc"},
	"configuration":      {"configuration", []string{"top", "configuration"}, "Configuration", "cn"},
	"crossrefcontainer":  {"crossRefContainer", []string{"top", "crossRefContainer"}, "Cross-Ref-Container", "cn"},
	"crossref":           {"crossRef", []string{"top", "crossRef"}, "Cross-Ref", "cn"},
	"dmd":                {"dMD", []string{"top", "dMD"}, "DMD", "cn"},
}

// categoryAliases maps the class names a filter may use for objectCategory
// to the category they stand for: AD replaces (objectCategory=user) by the
// user class's defaultObjectCategory, which is Person, so it also finds
// contacts. Abstract and auxiliary classes that have a category are added.
var categoryAliases = func() map[string]string {
	m := map[string]string{
		"person":               "Person",
		"organizationalperson": "Person",
		"computer":             "Computer",
	}
	for k, c := range classes {
		m[k] = c.category
	}
	return m
}()

// structuralClass picks the most specific known class among the values a
// client sent for objectClass.
func structuralClass(values []string) (class, bool) {
	var found class
	ok := false
	for _, v := range values {
		c, known := classes[strings.ToLower(v)]
		if !known {
			continue
		}
		if !ok || len(c.chain) > len(found.chain) {
			found, ok = c, true
		}
	}
	return found, ok
}
