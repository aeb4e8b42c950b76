package fakead

import (
	"fmt"
	"os"

	"sigs.k8s.io/yaml"
)

// Seed is the content to load into a fresh directory, for the demo or a
// test. It reads from YAML or JSON, for example:
//
//	upnSuffixes: [contoso.com]
//	ous:
//	  - name: Staff
//	users:
//	  - sAMAccountName: alice
//	    parent: OU=Staff
//	    userPrincipalName: alice@contoso.com
//	    mail: alice@contoso.com
//	    proxyAddresses: ["SMTP:alice@contoso.com"]
//	    objectGUID: 3ab39606-c642-489b-84b6-58c038d3ef39
//	groups:
//	  - cn: Sales
//	    groupType: 2
//	    mail: sales@contoso.com
//	    members: [alice]
//	contacts:
//	  - cn: Partner
//	    mail: partner@fabrikam.com
type Seed struct {
	// UPNSuffixes replace the forest's alternative UPN suffixes when set.
	UPNSuffixes []string `json:"upnSuffixes,omitempty"`
	// OUs are created first, in order, so a parent must come before its
	// children.
	OUs      []OU      `json:"ous,omitempty"`
	Users    []User    `json:"users,omitempty"`
	Groups   []Group   `json:"groups,omitempty"`
	Contacts []Contact `json:"contacts,omitempty"`
}

// OU is an organizational unit of a Seed.
type OU struct {
	Name string `json:"name"`
	// Parent is a DN, full or relative to the base DN; the base DN when
	// empty.
	Parent string `json:"parent,omitempty"`
}

// ParseSeed reads a Seed from YAML or JSON. Unknown fields are errors, so
// that a misspelt attribute does not silently vanish from the demo.
func ParseSeed(data []byte) (Seed, error) {
	var s Seed
	if err := yaml.UnmarshalStrict(data, &s); err != nil {
		return Seed{}, fmt.Errorf("fakead: parsing seed: %w", err)
	}
	return s, nil
}

// ReadSeedFile reads a Seed from a YAML or JSON file.
func ReadSeedFile(path string) (Seed, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Seed{}, fmt.Errorf("fakead: reading seed: %w", err)
	}
	return ParseSeed(data)
}

// Load creates the seed's objects: suffixes, OUs, users, groups (whose
// members may name the users by sAMAccountName), then contacts. It stops
// at the first failure; objects created before it stay.
func (s *Server) Load(seed Seed) error {
	if seed.UPNSuffixes != nil {
		if err := s.SetUPNSuffixes(seed.UPNSuffixes...); err != nil {
			return err
		}
	}
	for _, ou := range seed.OUs {
		if _, err := s.AddOU(ou.Name, ou.Parent); err != nil {
			return err
		}
	}
	for _, u := range seed.Users {
		if _, _, err := s.AddUser(u); err != nil {
			return err
		}
	}
	for _, g := range seed.Groups {
		if _, _, err := s.AddGroup(g); err != nil {
			return err
		}
	}
	for _, c := range seed.Contacts {
		if _, _, err := s.AddContact(c); err != nil {
			return err
		}
	}
	return nil
}
