package fakead

import (
	"errors"
	"fmt"
	"strings"
)

// Config describes the domain the fake serves.
type Config struct {
	// Domain is the DNS name of the domain, e.g. corp.example.test.
	// Required. It is also the implicit UPN suffix: every user can bind as
	// sAMAccountName@Domain, as in AD.
	Domain string `json:"domain"`
	// BaseDN is the domain's naming context; DC=corp,DC=example,DC=test
	// for the Domain above when empty.
	BaseDN string `json:"baseDN,omitempty"`
	// NetBIOSName is the pre-Windows 2000 domain name used in DOMAIN\user
	// binds; the first label of Domain in upper case when empty.
	NetBIOSName string `json:"netBIOSName,omitempty"`
	// HostName is the DC's DNS name, reported as dnsHostName and put in the
	// certificate next to 127.0.0.1, ::1 and localhost; dc1.<Domain> when
	// empty.
	HostName string `json:"hostName,omitempty"`
	// AdminPassword is the password of CN=Administrator,CN=Users,<BaseDN>.
	// Required.
	AdminPassword string `json:"-"`
	// UPNSuffixes are the alternative UPN suffixes of the forest
	// (uPNSuffixes on CN=Partitions).
	UPNSuffixes []string `json:"upnSuffixes,omitempty"`
	// MaxPageSize caps entries per search response, like AD's MaxPageSize
	// policy: a search without the paged results control that finds more
	// gets this many and sizeLimitExceeded. 1000 (AD's default) when zero.
	MaxPageSize int `json:"maxPageSize,omitempty"`
}

const defaultMaxPageSize = 1000

func (c Config) withDefaults() (Config, error) {
	c.Domain = strings.ToLower(strings.Trim(strings.TrimSpace(c.Domain), "."))
	if c.Domain == "" || !strings.Contains(c.Domain, ".") {
		return c, fmt.Errorf("fakead: Domain %q must be a DNS name with at least two labels", c.Domain)
	}
	if c.AdminPassword == "" {
		return c, errors.New("fakead: AdminPassword is required")
	}
	if c.BaseDN == "" {
		c.BaseDN = domainToDN(c.Domain)
	}
	base, err := parseDN(c.BaseDN)
	if err != nil {
		return c, fmt.Errorf("fakead: BaseDN: %w", err)
	}
	for _, rdn := range base.rdns {
		if len(rdn) != 1 || !strings.EqualFold(rdn[0].typ, "dc") {
			return c, fmt.Errorf("fakead: BaseDN %q must consist of DC= parts only", c.BaseDN)
		}
	}
	if c.NetBIOSName == "" {
		label, _, _ := strings.Cut(c.Domain, ".")
		c.NetBIOSName = label
	}
	c.NetBIOSName = strings.ToUpper(c.NetBIOSName)
	if len(c.NetBIOSName) > 15 {
		return c, fmt.Errorf("fakead: NetBIOSName %q is longer than 15 characters", c.NetBIOSName)
	}
	if c.HostName == "" {
		c.HostName = "dc1." + c.Domain
	}
	if c.MaxPageSize < 0 {
		return c, fmt.Errorf("fakead: negative MaxPageSize")
	}
	if c.MaxPageSize == 0 {
		c.MaxPageSize = defaultMaxPageSize
	}
	c.UPNSuffixes = append([]string(nil), c.UPNSuffixes...)
	return c, nil
}
