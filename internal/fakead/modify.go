package fakead

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/jimlambrt/gldap"
)

// Modify operations (RFC 4511 section 4.6, RFC 4525).
const (
	modAdd       = 0
	modDelete    = 1
	modReplace   = 2
	modIncrement = 3
)

// change is one modification of a Modify request.
type change struct {
	op     int64
	attr   string
	values [][]byte
}

// modifyResult is what applying a Modify request decided.
type modifyResult struct {
	entry *entry
	// password is the new bind password when unicodePwd was written.
	password *string
}

// applyChanges applies changes to a copy of e, all or nothing, with AD's
// rules: adding a value that is there, or any value to a single-valued
// attribute that has one, fails with attributeOrValueExists; deleting a
// value or an attribute that is absent fails with noSuchAttribute. These
// rules make guarded writes atomic: "add" to an empty single-valued
// attribute succeeds only while it is empty, and "delete old value, add
// new value" succeeds only while the old value is there. permissive is the
// LDAP_SERVER_PERMISSIVE_MODIFY control, which turns adding a present value
// and deleting an absent one into no-ops.
func applyChanges(sch *schema, e *entry, changes []change, permissive bool) (modifyResult, *ldapError) {
	out := e.clone()
	var res modifyResult
	for _, c := range changes {
		def, ok := sch.lookup(c.attr)
		if !ok {
			return res, errUndefinedType(c.attr)
		}
		switch def.usage {
		case systemAttr:
			return res, errConstraint(def.name, "system-only attribute")
		case rdnAttr:
			return res, errNotOnRDN(def.name)
		case backlinkAttr:
			return res, errUnwilling("backlink " + def.name + " is maintained by the directory")
		case passwordAttr:
			pw, err := passwordChange(out, c)
			if err != nil {
				return res, err
			}
			if pw != nil {
				res.password = pw
			}
			continue
		}
		if strings.EqualFold(def.name, "objectClass") {
			return res, &ldapError{code: gldap.ResultObjectClassModsProhibited,
				diag: "0000209A: SvcErr: DSID-031A1254, problem 5003 (WILL_NOT_PERFORM), data 0: objectClass cannot change"}
		}
		for _, v := range c.values {
			if err := checkSyntax(def, v); err != nil {
				return res, err
			}
		}
		current := out.values(def.name)
		switch c.op {
		case modAdd:
			if len(c.values) == 0 {
				return res, errConstraint(def.name, "add without values")
			}
			next := append([][]byte(nil), current...)
			for _, v := range c.values {
				if containsValue(def, next, v) {
					if permissive {
						continue
					}
					return res, errValueExists(def.name)
				}
				if def.single && len(next) > 0 {
					return res, errValueExists(def.name)
				}
				next = append(next, v)
			}
			out.set(def.name, next...)
		case modDelete:
			if len(c.values) == 0 {
				if len(current) == 0 && !permissive {
					return res, errNoSuchAttribute(def.name)
				}
				out.set(def.name)
				continue
			}
			next := append([][]byte(nil), current...)
			for _, v := range c.values {
				i := indexValue(def, next, v)
				if i < 0 {
					if permissive {
						continue
					}
					return res, errNoSuchAttribute(def.name)
				}
				next = append(next[:i], next[i+1:]...)
			}
			out.set(def.name, next...)
		case modReplace:
			if def.single && len(c.values) > 1 {
				return res, errConstraint(def.name, "more than one value for a single-valued attribute")
			}
			for i, v := range c.values {
				if containsValue(def, c.values[:i], v) {
					return res, errValueExists(def.name)
				}
			}
			out.set(def.name, c.values...)
		case modIncrement:
			return res, errUnwilling("modify-increment is not supported")
		default:
			return res, errProtocol(fmt.Sprintf("unknown modify operation %d", c.op))
		}
	}
	res.entry = out
	return res, nil
}

// passwordChange handles unicodePwd: replace (an administrator's reset)
// or add sets it; delete must name the current password (a user's own
// change sends delete old + add new).
func passwordChange(e *entry, c change) (*string, *ldapError) {
	switch c.op {
	case modReplace, modAdd:
		if len(c.values) != 1 {
			return nil, errConstraint("unicodePwd", "exactly one value expected")
		}
		pw, err := decodeUnicodePwd(c.values[0])
		if err != nil {
			return nil, errUnwilling("unicodePwd: " + err.Error())
		}
		return &pw, nil
	case modDelete:
		if len(c.values) != 1 {
			return nil, errConstraint("unicodePwd", "exactly one value expected")
		}
		pw, err := decodeUnicodePwd(c.values[0])
		if err != nil || !e.checkPassword(pw) {
			return nil, errConstraint("unicodePwd", "the old password does not match")
		}
		return nil, nil
	}
	return nil, errUnwilling("unicodePwd cannot be changed this way")
}

// decodeUnicodePwd reads AD's password encoding: the password in double
// quotes, in UTF-16LE.
func decodeUnicodePwd(b []byte) (string, error) {
	if len(b)%2 != 0 {
		return "", fmt.Errorf("odd length, not UTF-16LE")
	}
	units := make([]uint16, len(b)/2)
	for i := range units {
		units[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	s := string(utf16.Decode(units))
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return "", fmt.Errorf("the password must be enclosed in double quotes")
	}
	return s[1 : len(s)-1], nil
}

// checkSyntax refuses values that do not fit def's syntax, as AD does with
// invalidAttributeSyntax.
func checkSyntax(def attrDef, v []byte) *ldapError {
	switch def.syntax {
	case synString:
		if !utf8.Valid(v) {
			return errSyntax(def.name, "not UTF-8")
		}
		if len(v) == 0 {
			return errSyntax(def.name, "empty string")
		}
	case synDN:
		if _, err := normDN(string(v)); err != nil || len(v) == 0 {
			return errSyntax(def.name, "not a DN")
		}
	case synInteger:
		if _, err := strconv.ParseInt(string(v), 10, 64); err != nil {
			return errSyntax(def.name, "not an integer")
		}
	case synTime:
		if _, err := parseGeneralizedTime(string(v)); err != nil {
			return errSyntax(def.name, "not a generalized time")
		}
	}
	return nil
}

func containsValue(def attrDef, values [][]byte, v []byte) bool {
	return indexValue(def, values, v) >= 0
}

// indexValue finds v in values with def's equality rule: case is ignored
// for strings, so "SMTP:a@b" and "smtp:a@b" are the same proxy address,
// as in AD.
func indexValue(def attrDef, values [][]byte, v []byte) int {
	for i, have := range values {
		if valuesEqual(def, have, v) {
			return i
		}
	}
	return -1
}

func valuesEqual(def attrDef, a, b []byte) bool {
	switch def.syntax {
	case synString:
		return strings.EqualFold(string(a), string(b))
	case synDN:
		ka, errA := normDN(string(a))
		kb, errB := normDN(string(b))
		return errA == nil && errB == nil && ka == kb
	case synInteger:
		na, errA := strconv.ParseInt(string(a), 10, 64)
		nb, errB := strconv.ParseInt(string(b), 10, 64)
		return errA == nil && errB == nil && na == nb
	}
	return bytes.Equal(a, b)
}
