package directory

import (
	"context"
	"fmt"

	"github.com/go-ldap/ldap/v3"

	"github.com/entramatch/entra-match-operator/internal/anchor"
)

// SetConsistencyGUID writes a into the user's mS-DS-ConsistencyGuid only
// if the attribute is empty, as Entra Connect does. The guard is in the
// LDAP operation itself (an add to a single-valued attribute, which the
// server refuses when a value exists), so no race with another writer can
// overwrite a value. Writing the value already there succeeds; a different
// value gives ErrConsistencyGUIDSet.
func (c *Client) SetConsistencyGUID(ctx context.Context, dn string, a anchor.Anchor) error {
	op := "set mS-DS-ConsistencyGuid of " + dn
	if _, err := parseDN(dn); err != nil {
		return &Error{Op: op, Class: ErrInvalidLookup, Err: err}
	}
	if a.IsZero() {
		return &Error{Op: op, Class: ErrAnchorMissing, Err: fmt.Errorf("refusing to write the nil GUID")}
	}
	err := c.do(ctx, op, func(conn *ldap.Conn) error {
		req := ldap.NewModifyRequest(dn, nil)
		req.Add("mS-DS-ConsistencyGuid", []string{string(a[:])})
		return conn.Modify(req)
	})
	if err == nil || !ldap.IsErrorAnyOf(err, ldap.LDAPResultAttributeOrValueExists, ldap.LDAPResultConstraintViolation) {
		return err
	}
	// Already set: fine if it is our value (e.g. our own earlier write whose
	// reply was lost), a conflict otherwise.
	u, findErr := c.FindUser(ctx, Lookup{By: KeyDistinguishedName, Value: dn})
	if findErr != nil {
		return fmt.Errorf("%s: the attribute is already set, and reading it back failed: %w", op, findErr)
	}
	switch {
	case u.ConsistencyGUID != nil && *u.ConsistencyGUID == a:
		return nil
	case u.ConsistencyGUID != nil:
		return &Error{Op: op, Class: ErrConsistencyGUIDSet, Err: fmt.Errorf("it holds %s, not %s", u.ConsistencyGUID.GUID(), a.GUID())}
	default:
		return &Error{Op: op, Class: ErrConsistencyGUIDSet, Err: fmt.Errorf("it holds %d bytes that are not a GUID", len(u.InvalidConsistencyGUID))}
	}
}
