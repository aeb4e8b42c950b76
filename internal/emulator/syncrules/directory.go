package syncrules

import "strings"

// StaticDirectory is a slice-backed Directory: enough for tests and for a small emulator store
// that rebuilds it per sync run. Lookups are linear; the emulator's tenants are small.
type StaticDirectory struct {
	Objects []CloudObject
	// Verified lists the verified domain names (case-insensitive). A UPN suffix that is a
	// sub-domain of a verified domain is not automatically verified here: list it.
	Verified []string
	Initial  string
}

var _ Directory = StaticDirectory{}

// ByImmutableID implements Directory.
func (d StaticDirectory) ByImmutableID(anchor string) []CloudObject {
	return d.filter(func(o CloudObject) bool { return anchor != "" && o.OnPremisesImmutableID == anchor })
}

// ByPrimarySMTP implements Directory: the "SMTP:" proxy address, or mail when the object has
// no primary proxy address.
func (d StaticDirectory) ByPrimarySMTP(addr string) []CloudObject {
	return d.filter(func(o CloudObject) bool { return addr != "" && strings.EqualFold(cloudPrimary(o), addr) })
}

// ByUPN implements Directory.
func (d StaticDirectory) ByUPN(upn string) []CloudObject {
	return d.filter(func(o CloudObject) bool { return upn != "" && strings.EqualFold(o.UserPrincipalName, upn) })
}

// ByProxyAddress implements Directory: any SMTP proxy address, or mail.
func (d StaticDirectory) ByProxyAddress(addr string) []CloudObject {
	return d.filter(func(o CloudObject) bool {
		if addr == "" {
			return false
		}
		if strings.EqualFold(o.Mail, addr) {
			return true
		}
		for _, p := range o.ProxyAddresses {
			if a, ok := smtpAddress(p); ok && strings.EqualFold(a, addr) {
				return true
			}
		}
		return false
	})
}

// VerifiedDomain implements Directory. The initial domain is always verified.
func (d StaticDirectory) VerifiedDomain(suffix string) bool {
	if suffix != "" && strings.EqualFold(suffix, d.Initial) {
		return true
	}
	for _, v := range d.Verified {
		if strings.EqualFold(v, suffix) {
			return true
		}
	}
	return false
}

// InitialDomain implements Directory.
func (d StaticDirectory) InitialDomain() string { return d.Initial }

func (d StaticDirectory) filter(keep func(CloudObject) bool) []CloudObject {
	var out []CloudObject
	for _, o := range d.Objects {
		if keep(o) {
			out = append(out, o)
		}
	}
	return out
}

func cloudPrimary(o CloudObject) string {
	for _, p := range o.ProxyAddresses {
		if strings.HasPrefix(p, "SMTP:") {
			return p[len("SMTP:"):]
		}
	}
	return o.Mail
}
