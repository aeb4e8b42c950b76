package directory

import (
	"context"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"github.com/entramatch/entra-match-operator/internal/anchor"
)

// ObjectKind is the kind of an object sync exports.
type ObjectKind string

// The kinds of exported objects.
const (
	KindUser    ObjectKind = "user"
	KindGroup   ObjectKind = "group"
	KindContact ObjectKind = "contact"
)

// Object is an AD object as a sync plan reads it: a user (with everything
// User holds), a group or a contact.
type Object struct {
	User
	Kind         ObjectKind
	MailNickname string
}

// MailEnabled says whether a group has an address: only such groups can
// be soft-matched.
func (o Object) MailEnabled() bool {
	if o.Mail != "" {
		return true
	}
	for _, p := range o.ProxyAddresses {
		if len(p) > 5 && strings.EqualFold(p[:5], "smtp:") {
			return true
		}
	}
	return false
}

var objectAttributes = append([]string{"objectClass", "mailNickname"}, userAttributes...)

// ObjectsInScope returns the users, groups and contacts under base (the
// search base when empty) that match filter, as sync would export them:
// critical system objects (the built-in administrator, Domain Admins,
// krbtgt, ...) are left out, as Entra Connect's default rules do.
func (c *Client) ObjectsInScope(ctx context.Context, base, filter string) ([]Object, error) {
	op := "search objects in scope"
	base, f, err := c.scope(ctx, op, base,
		"(&(|(&(objectCategory=person)(objectClass=user))(objectClass=group)(objectClass=contact))(!(isCriticalSystemObject=TRUE))", filter)
	if err != nil {
		return nil, err
	}
	out, err := searchEach(c, ctx, op, ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		f, objectAttributes, nil), func(e *ldap.Entry) (Object, error) {
		u, err := userFromEntry(e)
		if err != nil {
			return Object{}, &Error{Op: op, Class: ErrAnchorMalformed, Err: err}
		}
		return Object{User: u, Kind: kindOf(e.GetEqualFoldAttributeValues("objectClass")), MailNickname: e.GetEqualFoldAttributeValue("mailNickname")}, nil
	})
	if err = baseMissing(base, err); err != nil {
		return nil, err
	}
	return out, nil
}

func kindOf(classes []string) ObjectKind {
	k := KindUser
	for _, c := range classes {
		switch strings.ToLower(c) {
		case "group":
			return KindGroup
		case "contact":
			k = KindContact
		}
	}
	return k
}

// ExportAnchor is the source anchor sync exports for o: for users, as
// SourceAnchor chooses with mode; for groups and contacts always objectGUID
// (Entra Connect uses mS-DS-ConsistencyGuid for users only).
func ExportAnchor(o Object, mode string) (anchor.Anchor, error) {
	if o.Kind != KindUser {
		return o.ObjectGUID, nil
	}
	return SourceAnchor(o.User, mode)
}
