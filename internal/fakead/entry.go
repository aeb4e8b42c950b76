package fakead

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// entry is one object. Entries are never changed in place once stored: a
// write builds a changed copy and swaps it in, so a search that holds an
// entry keeps a consistent view without further locking.
type entry struct {
	dn  string // as AD prints it
	key string // normalized, see parsedDN.key
	// attrs is keyed by the lower-case attribute name; the schema gives the
	// spelling to return.
	attrs map[string][][]byte
	// pwSalt and pwHash verify simple binds; both nil means binding as this
	// entry is impossible, as for an AD account without a password.
	pwSalt, pwHash []byte
	// critical marks objects AD refuses to delete (isCriticalSystemObject).
	critical bool
}

func (e *entry) clone() *entry {
	c := *e
	c.attrs = maps.Clone(e.attrs)
	return &c
}

func (e *entry) values(name string) [][]byte {
	return e.attrs[strings.ToLower(name)]
}

func (e *entry) first(name string) string {
	v := e.values(name)
	if len(v) == 0 {
		return ""
	}
	return string(v[0])
}

func (e *entry) intValue(name string) int64 {
	n, _ := strconv.ParseInt(e.first(name), 10, 64)
	return n
}

// set replaces the values of name; no values removes the attribute. The
// slice is copied so that callers can keep using theirs.
func (e *entry) set(name string, values ...[]byte) {
	k := strings.ToLower(name)
	if len(values) == 0 {
		delete(e.attrs, k)
		return
	}
	cp := make([][]byte, len(values))
	for i, v := range values {
		cp[i] = slices.Clone(v)
	}
	e.attrs[k] = cp
}

func (e *entry) setString(name string, values ...string) {
	b := make([][]byte, 0, len(values))
	for _, v := range values {
		if v != "" {
			b = append(b, []byte(v))
		}
	}
	e.set(name, b...)
}

func (e *entry) hasClass(name string) bool {
	for _, v := range e.values("objectClass") {
		if strings.EqualFold(string(v), name) {
			return true
		}
	}
	return false
}

func (e *entry) setPassword(pw string) error {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return err
	}
	e.pwSalt, e.pwHash = salt, hashPassword(salt, pw)
	return nil
}

func (e *entry) checkPassword(pw string) bool {
	if e.pwHash == nil {
		return false
	}
	return subtle.ConstantTimeCompare(hashPassword(e.pwSalt, pw), e.pwHash) == 1
}

// hashPassword keeps plain passwords out of memory dumps of the fake; it
// is not meant to resist offline guessing.
func hashPassword(salt []byte, pw string) []byte {
	h := sha256.New()
	h.Write(salt)
	h.Write([]byte(pw))
	return h.Sum(nil)
}
