package fakead

import (
	"errors"
	"fmt"

	"github.com/jimlambrt/gldap"
)

// ldapError is an LDAP result other than success, with a diagnostic
// message shaped like AD's (Win32 code, then a comment). Clients must
// switch on the result code; the DSIDs in the text are made up.
type ldapError struct {
	code    int
	diag    string
	matched string // matchedDN for noSuchObject
}

func (e *ldapError) Error() string {
	return fmt.Sprintf("LDAP result %d (%s): %s", e.code, gldap.ResultCodeMap[uint16(e.code)], e.diag)
}

// asLDAPError returns err as an *ldapError, wrapping other errors as
// result "other" so that every failure reaches the client as a result.
func asLDAPError(err error) *ldapError {
	var le *ldapError
	if errors.As(err, &le) {
		return le
	}
	return &ldapError{code: gldap.ResultOther, diag: err.Error()}
}

const adVersion = "v4563"

func errBindRequired() *ldapError {
	return &ldapError{code: gldap.ResultOperationsError,
		diag: "000004DC: LdapErr: DSID-0C090A5C, comment: In order to perform this operation a successful bind must be completed on the connection., data 0, " + adVersion}
}

// errInvalidCredentials carries AD's sub-code: 52e for a wrong name or
// password, 533 for a disabled account.
func errInvalidCredentials(data string) *ldapError {
	return &ldapError{code: gldap.ResultInvalidCredentials,
		diag: "80090308: LdapErr: DSID-0C09041C, comment: AcceptSecurityContext error, data " + data + ", " + adVersion}
}

func errStrongAuthRequired() *ldapError {
	return &ldapError{code: gldap.ResultStrongAuthRequired,
		diag: `00002028: LdapErr: DSID-0C090259, comment: The server requires binds to turn on integrity checking if SSL\TLS are not already active on the connection, data 0, ` + adVersion}
}

func errNoSuchObject(best string) *ldapError {
	return &ldapError{code: gldap.ResultNoSuchObject, matched: best,
		diag: fmt.Sprintf("0000208D: NameErr: DSID-03100241, problem 2001 (NO_OBJECT), data 0, best match of:\n\t'%s'\n", best)}
}

func errInvalidDN(dn string) *ldapError {
	return &ldapError{code: gldap.ResultInvalidDNSyntax,
		diag: fmt.Sprintf("00002081: NameErr: DSID-03050F42, problem 2003 (BAD_ATT_SYNTAX), data 0, best match of:\n\t'%s'\n", dn)}
}

func errInsufficientAccess() *ldapError {
	return &ldapError{code: gldap.ResultInsufficientAccessRights,
		diag: "00002098: SecErr: DSID-03150F94, problem 4003 (INSUFF_ACCESS_RIGHTS), data 0\n"}
}

func attrError(code int, win32, problem, attr string) *ldapError {
	return &ldapError{code: code,
		diag: fmt.Sprintf("%s: AtrErr: DSID-03151E6D, #1:\n\t0: %s: DSID-03151E6D, problem %s, data 0, Att (%s)\n", win32, win32, problem, attr)}
}

func errNoSuchAttribute(attr string) *ldapError {
	return attrError(gldap.ResultNoSuchAttribute, "00002085", "1001 (NO_ATTRIBUTE_OR_VAL)", attr)
}

func errValueExists(attr string) *ldapError {
	return attrError(gldap.ResultAttributeOrValueExists, "00002083", "1006 (ATT_OR_VALUE_EXISTS)", attr)
}

func errConstraint(attr, why string) *ldapError {
	return attrError(gldap.ResultConstraintViolation, "000020B5", "1005 (CONSTRAINT_ATT_TYPE) "+why, attr)
}

func errUndefinedType(attr string) *ldapError {
	return &ldapError{code: gldap.ResultUndefinedAttributeType,
		diag: fmt.Sprintf("00000057: LdapErr: DSID-0C090D8A, comment: Error in attribute conversion operation, data 0, %s (%s)", adVersion, attr)}
}

func errSyntax(attr, why string) *ldapError {
	return attrError(gldap.ResultInvalidAttributeSyntax, "00000057", "1007 (INVALID_ATT_SYNTAX) "+why, attr)
}

func errUnwilling(why string) *ldapError {
	return &ldapError{code: gldap.ResultUnwillingToPerform,
		diag: "0000209A: SvcErr: DSID-031A1236, problem 5003 (WILL_NOT_PERFORM), data 0: " + why}
}

func errNotOnRDN(attr string) *ldapError {
	return &ldapError{code: gldap.ResultNotAllowedOnRDN,
		diag: fmt.Sprintf("000020B1: UpdErr: DSID-030F1357, problem 6004 (CANT_ON_RDN), data 0 (%s)", attr)}
}

func errEntryExists() *ldapError {
	return &ldapError{code: gldap.ResultEntryAlreadyExists,
		diag: "00000524: UpdErr: DSID-031A11E2, problem 6005 (ENTRY_EXISTS), data 0\n"}
}

func errNotAllowedOnNonLeaf() *ldapError {
	return &ldapError{code: gldap.ResultNotAllowedOnNonLeaf,
		diag: "00002015: UpdErr: DSID-031A1262, problem 6003 (CANT_ON_NON_LEAF), data 0\n"}
}

func errObjectClass(why string) *ldapError {
	return &ldapError{code: gldap.ResultObjectClassViolation,
		diag: "0000207B: UpdErr: DSID-030F1358, problem 6002 (OBJ_CLASS_VIOLATION), data 0: " + why}
}

func errNamingViolation(why string) *ldapError {
	return &ldapError{code: gldap.ResultNamingViolation,
		diag: "00002099: NameErr: DSID-0305109C, problem 2005 (NAMING_VIOLATION), data 0: " + why}
}

func errCriticalExtension(oid string) *ldapError {
	return &ldapError{code: gldap.ResultUnavailableCriticalExtension,
		diag: "00002040: SvcErr: DSID-031401EB, problem 5010 (UNAVAIL_EXTENSION), data 0: " + oid}
}

func errProtocol(why string) *ldapError {
	return &ldapError{code: gldap.ResultProtocolError,
		diag: "00002024: LdapErr: DSID-0C0C0C5B, comment: " + why + ", data 0, " + adVersion}
}
