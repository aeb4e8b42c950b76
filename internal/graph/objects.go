package graph

import (
	"context"

	"github.com/microsoftgraph/msgraph-sdk-go/contacts"
	"github.com/microsoftgraph/msgraph-sdk-go/groups"
	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/entramatch/entra-match-operator/internal/cloud"
)

// ListGroups reads every group, 999 to a page (group-list), with the
// properties a sync plan needs.
func (c *Client) ListGroups(ctx context.Context) ([]cloud.Group, error) {
	const op = "ListGroups"
	ctx = withCall(ctx, op)
	sel := []string{"id", "displayName", "mail", "mailEnabled", "proxyAddresses", "onPremisesSyncEnabled", "onPremisesSamAccountName"}
	first, err := c.svc.Groups().Get(ctx, &groups.GroupsRequestBuilderGetRequestConfiguration{
		QueryParameters: &groups.GroupsRequestBuilderGetQueryParameters{Select: sel, Top: ptr(int32(999))},
	})
	out, err := collectAs(c, first, err, func(link string) (models.GroupCollectionResponseable, error) {
		return c.svc.Groups().WithUrl(link).Get(ctx, nil)
	}, func(g models.Groupable) cloud.Group {
		return cloud.Group{ID: deref(g.GetId()), DisplayName: deref(g.GetDisplayName()), Mail: deref(g.GetMail()),
			MailEnabled: g.GetMailEnabled() != nil && *g.GetMailEnabled(), ProxyAddresses: g.GetProxyAddresses(),
			OnPremisesSyncEnabled: g.GetOnPremisesSyncEnabled(), OnPremisesSamAccountName: deref(g.GetOnPremisesSamAccountName())}
	})
	if err != nil {
		return nil, classify(ctx, op, err)
	}
	return out, nil
}

// ListContacts reads every organizational contact, 999 to a page
// (orgcontact-list).
func (c *Client) ListContacts(ctx context.Context) ([]cloud.Contact, error) {
	const op = "ListContacts"
	ctx = withCall(ctx, op)
	sel := []string{"id", "displayName", "mail", "proxyAddresses", "onPremisesSyncEnabled"}
	first, err := c.svc.Contacts().Get(ctx, &contacts.ContactsRequestBuilderGetRequestConfiguration{
		QueryParameters: &contacts.ContactsRequestBuilderGetQueryParameters{Select: sel, Top: ptr(int32(999))},
	})
	out, err := collectAs(c, first, err, func(link string) (models.OrgContactCollectionResponseable, error) {
		return c.svc.Contacts().WithUrl(link).Get(ctx, nil)
	}, func(o models.OrgContactable) cloud.Contact {
		return cloud.Contact{ID: deref(o.GetId()), DisplayName: deref(o.GetDisplayName()), Mail: deref(o.GetMail()),
			ProxyAddresses: o.GetProxyAddresses(), OnPremisesSyncEnabled: o.GetOnPremisesSyncEnabled()}
	})
	if err != nil {
		return nil, classify(ctx, op, err)
	}
	return out, nil
}
