package fakead

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// bind checks a simple bind and returns the key of the bound account ("" for
// an anonymous bind). AD accepts a DN, a UPN (explicit, or the implicit
// sAMAccountName@domain) and DOMAIN\sAMAccountName.
func (s *store) bind(name, password string) (string, *ldapError) {
	if password == "" {
		// An unauthenticated bind (RFC 4513 section 5.1.2): anonymous.
		return "", nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	e := s.resolveAccount(name)
	if e == nil || !e.checkPassword(password) {
		return "", errInvalidCredentials("52e")
	}
	if e.intValue("userAccountControl")&uacAccountDisable != 0 {
		return "", errInvalidCredentials("533")
	}
	return e.key, nil
}

func (s *store) resolveAccount(name string) *entry {
	if !utf8.ValidString(name) || name == "" {
		return nil
	}
	isUser := func(e *entry) bool { return e != nil && e.hasClass("user") }
	bySAM := func(sam string) *entry {
		for _, e := range s.entries {
			if isUser(e) && strings.EqualFold(e.first("sAMAccountName"), sam) {
				return e
			}
		}
		return nil
	}
	if domain, sam, ok := strings.Cut(name, `\`); ok {
		if strings.EqualFold(domain, s.cfg.NetBIOSName) || strings.EqualFold(domain, s.cfg.Domain) {
			return bySAM(sam)
		}
		return nil
	}
	if strings.Contains(name, "=") {
		key, err := normDN(name)
		if err != nil {
			return nil
		}
		if e := s.entries[key]; isUser(e) {
			return e
		}
		return nil
	}
	if at := strings.LastIndexByte(name, '@'); at > 0 {
		for _, e := range s.entries {
			if isUser(e) && strings.EqualFold(e.first("userPrincipalName"), name) {
				return e
			}
		}
		if strings.EqualFold(name[at+1:], s.cfg.Domain) {
			return bySAM(name[:at])
		}
	}
	return nil
}

// setPassword sets the bind password of the entry with key k.
func (s *store) setPassword(k, password string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[k]
	if !ok {
		return fmt.Errorf("fakead: no object %s", k)
	}
	if !e.hasClass("user") {
		return fmt.Errorf("fakead: %s is not a user", e.dn)
	}
	c := e.clone()
	if err := c.setPassword(password); err != nil {
		return fmt.Errorf("fakead: setting password: %w", err)
	}
	c.setString("pwdLastSet", strconv.FormatInt(fileTime(s.now()), 10))
	s.entries[k] = c
	s.version++
	return nil
}
