package demo

import (
	_ "embed"
	"errors"
	"fmt"
	"strings"

	"sigs.k8s.io/yaml"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/emulator"
	"github.com/entramatch/entra-match-operator/internal/fakead"
)

//go:embed story.yaml
var storyYAML []byte

// Story is the demo's seed data: the tenant, the directory, what the
// operator is asked to do, and what must happen to each object. It lives in
// story.yaml so that a person can read it before running the demo.
type Story struct {
	Tenant    Tenant    `json:"tenant"`
	Directory Directory `json:"directory"`
	Operator  Operator  `json:"operator"`
	Cast      []Role    `json:"cast"`
}

// Tenant is the Entra tenant the emulator plays.
type Tenant struct {
	TenantID      string   `json:"tenantID"`
	InitialDomain string   `json:"initialDomain"`
	ClientID      string   `json:"clientID"`
	Permissions   []string `json:"permissions"`
	// State is the tenant's content, in Graph's JSON names.
	State emulator.Snapshot `json:"state"`
}

// Directory is the embedded AD-like directory and its content.
type Directory struct {
	Domain string `json:"domain"`
	// SyncScope are the OUs (relative to the base DN) that the emulated
	// Entra Connect exports, like its OU filtering.
	SyncScope []string `json:"syncScope"`
	fakead.Seed
}

// Operator is what a person applies: UserMatches and the tenant's flags.
type Operator struct {
	UserMatches        []UserMatch         `json:"userMatches"`
	TenantSyncFeatures *TenantSyncFeatures `json:"tenantSyncFeatures,omitempty"`
}

// UserMatch is one UserMatch of the story; the tenant and directory
// references are filled in by the demo.
type UserMatch struct {
	Name      string                              `json:"name"`
	ADUser    identityv1alpha1.ADUserSelector     `json:"adUser"`
	CloudUser *identityv1alpha1.CloudUserSelector `json:"cloudUser,omitempty"`
}

// TenantSyncFeatures is the spec of the tenant's TenantSyncFeatures without
// its tenant reference.
type TenantSyncFeatures struct {
	Features        *identityv1alpha1.SyncFeatureFlags `json:"features,omitempty"`
	MatchingWindows []identityv1alpha1.MatchingWindow  `json:"matchingWindows,omitempty"`
}

// Role is one on-premises object of the story and what must happen to it.
type Role struct {
	// AD is the sAMAccountName of the user or group.
	AD     string `json:"ad"`
	Story  string `json:"story"`
	Expect Expect `json:"expect"`
}

// Expect is the outcome a Role must reach; empty fields are not checked.
type Expect struct {
	// Sync is the emulated sync's outcome (HardMatch, SoftMatchSmtp, ...).
	Sync string `json:"sync"`
	// SyncError is the export error code reported with the outcome.
	SyncError string `json:"syncError,omitempty"`
	// Settled is the UserMatch's Blocked reason, or its Matched reason when
	// it is not blocked, before the sync.
	Settled string `json:"settled,omitempty"`
	// Ready is the UserMatch's Ready reason after the sync.
	Ready string `json:"ready,omitempty"`
	// Warning is the UserMatch's UPNSuffixMismatch reason.
	Warning string `json:"warning,omitempty"`
}

// DefaultStory returns the story embedded in the binary.
func DefaultStory() (Story, error) { return ParseStory(storyYAML) }

// ParseStory reads and checks a story. Unknown fields are errors, so that a
// misspelt key does not silently drop part of the demo.
func ParseStory(data []byte) (Story, error) {
	var s Story
	if err := yaml.UnmarshalStrict(data, &s); err != nil {
		return Story{}, fmt.Errorf("parsing the demo story: %w", err)
	}
	if err := s.Validate(); err != nil {
		return Story{}, err
	}
	return s, nil
}

// Validate checks that the parts of the story refer to each other: every
// role is an object in the sync scope, every object in scope has a role,
// every UserMatch names a user of the story by sAMAccountName, and only
// roles with a UserMatch expect UserMatch states.
func (s Story) Validate() error {
	var errs []error
	if s.Tenant.TenantID == "" || s.Tenant.InitialDomain == "" || s.Tenant.ClientID == "" {
		errs = append(errs, errors.New("tenant: tenantID, initialDomain and clientID are required"))
	}
	if s.Directory.Domain == "" {
		errs = append(errs, errors.New("directory: domain is required"))
	}
	if len(s.Directory.SyncScope) == 0 {
		errs = append(errs, errors.New("directory: syncScope names no OU"))
	}
	inScope := map[string]bool{}
	for _, name := range s.Directory.objectsInScope() {
		inScope[strings.ToLower(name)] = true
	}
	roles := map[string]bool{}
	for _, r := range s.Cast {
		key := strings.ToLower(r.AD)
		switch {
		case roles[key]:
			errs = append(errs, fmt.Errorf("cast: %s appears twice", r.AD))
		case !inScope[key]:
			errs = append(errs, fmt.Errorf("cast: %s is not a user or group in the directory's sync scope", r.AD))
		}
		roles[key] = true
		if r.Expect.Sync == "" {
			errs = append(errs, fmt.Errorf("cast: %s: expect.sync is required", r.AD))
		}
		um := s.UserMatchFor(r.AD)
		if um == nil && (r.Expect.Settled != "" || r.Expect.Ready != "" || r.Expect.Warning != "") {
			errs = append(errs, fmt.Errorf("cast: %s expects UserMatch states but no UserMatch names it", r.AD))
		}
		if um != nil && r.Expect.Settled == "" {
			errs = append(errs, fmt.Errorf("cast: %s has UserMatch %s but no expect.settled", r.AD, um.Name))
		}
	}
	for name := range inScope {
		if !roles[name] {
			errs = append(errs, fmt.Errorf("cast: %s is in the sync scope but has no role", name))
		}
	}
	names := map[string]bool{}
	for _, um := range s.Operator.UserMatches {
		if names[um.Name] {
			errs = append(errs, fmt.Errorf("operator: UserMatch %s appears twice", um.Name))
		}
		names[um.Name] = true
		if um.ADUser.SAMAccountName == "" {
			errs = append(errs, fmt.Errorf("operator: UserMatch %s must name its AD user by sAMAccountName in the demo story", um.Name))
		} else if !roles[strings.ToLower(um.ADUser.SAMAccountName)] {
			errs = append(errs, fmt.Errorf("operator: UserMatch %s names %s, who has no role in the cast", um.Name, um.ADUser.SAMAccountName))
		}
	}
	return errors.Join(errs...)
}

// UserMatchFor returns the story's UserMatch for the AD user sam, or nil.
func (s Story) UserMatchFor(sam string) *UserMatch {
	for i := range s.Operator.UserMatches {
		if strings.EqualFold(s.Operator.UserMatches[i].ADUser.SAMAccountName, sam) {
			return &s.Operator.UserMatches[i]
		}
	}
	return nil
}

// objectsInScope names (by sAMAccountName) the users and groups whose
// parent is one of the sync scope's OUs.
func (d Directory) objectsInScope() []string {
	in := func(parent string) bool {
		for _, s := range d.SyncScope {
			if strings.EqualFold(strings.ReplaceAll(parent, " ", ""), strings.ReplaceAll(s, " ", "")) {
				return true
			}
		}
		return false
	}
	var out []string
	for _, u := range d.Users {
		if in(u.Parent) {
			out = append(out, firstNonEmpty(u.SAMAccountName, u.CN))
		}
	}
	for _, g := range d.Groups {
		if in(g.Parent) {
			out = append(out, firstNonEmpty(g.SAMAccountName, g.CN))
		}
	}
	return out
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
