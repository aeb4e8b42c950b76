package graph

import (
	"context"
	"errors"
	"net/url"
	"strings"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/entramatch/entra-match-operator/internal/cloud"
)

// userProperties are always selected: Graph returns the onPremises*
// properties only when they are named in $select.
func userProperties() []string {
	return []string{
		"id", "userPrincipalName", "displayName", "mail", "proxyAddresses",
		"onPremisesImmutableId", "onPremisesSyncEnabled", "onPremisesLastSyncDateTime",
		"onPremisesDistinguishedName", "onPremisesUserPrincipalName", "onPremisesProvisioningErrors", "employeeId",
	}
}

// userSelect returns the $select list. onPremisesObjectIdentifier is
// documented on the beta user resource and may be refused by v1.0; it is
// asked for until Graph refuses it once, then left out for this Client (and
// User.OnPremisesObjectIdentifier stays empty).
func (c *Client) userSelect(extra ...string) []string {
	sel := append(userProperties(), extra...)
	if !c.noObjectIdentifier.Load() {
		sel = append(sel, propObjectIdentifier)
	}
	return sel
}

// withUserSelect runs get with the $select list, and once more without
// onPremisesObjectIdentifier if Graph refused that property.
func (c *Client) withUserSelect(get func(sel []string) error, extra ...string) error {
	err := get(c.userSelect(extra...))
	if err == nil || c.noObjectIdentifier.Load() || !refusesObjectIdentifier(err) {
		return err
	}
	c.noObjectIdentifier.Store(true)
	return get(c.userSelect(extra...))
}

func refusesObjectIdentifier(err error) bool {
	var ce *cloud.Error
	if !errors.As(classify(context.Background(), "", err), &ce) || ce.Class != cloud.ClassInvalid {
		return false
	}
	return strings.Contains(strings.ToLower(ce.Message), strings.ToLower(propObjectIdentifier))
}

// GetUser reads a user by object id or UPN.
func (c *Client) GetUser(ctx context.Context, idOrUPN string) (cloud.User, error) {
	const op = "GetUser"
	if idOrUPN == "" {
		return cloud.User{}, invalid(op, "user id or UPN is required")
	}
	ctx = withCall(ctx, op)
	var u models.Userable
	err := c.withUserSelect(func(sel []string) error {
		var err error
		u, err = c.svc.Users().ByUserId(idOrUPN).Get(ctx, &users.UserItemRequestBuilderGetRequestConfiguration{
			QueryParameters: &users.UserItemRequestBuilderGetQueryParameters{Select: sel},
		})
		return err
	})
	if err != nil {
		return cloud.User{}, classify(ctx, op, err)
	}
	return toUser(u), nil
}

// UsersByImmutableID lists the users carrying immutableID. Filtering on
// onPremisesImmutableId is an advanced query: Graph requires
// ConsistencyLevel: eventual and $count=true, and answers from an eventually
// consistent index.
func (c *Client) UsersByImmutableID(ctx context.Context, immutableID string) ([]cloud.User, error) {
	const op = "UsersByImmutableID"
	if immutableID == "" {
		return nil, invalid(op, "immutable id is required")
	}
	ctx = withCall(ctx, op)
	filter := "onPremisesImmutableId eq " + quote(immutableID)
	headers := func() *abs.RequestHeaders {
		h := abs.NewRequestHeaders()
		h.Add("ConsistencyLevel", "eventual")
		return h
	}
	var out []cloud.User
	err := c.withUserSelect(func(sel []string) error {
		first, err := c.svc.Users().Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
			Headers: headers(),
			QueryParameters: &users.UsersRequestBuilderGetQueryParameters{
				Filter: &filter, Count: ptr(true), Select: sel,
			},
		})
		out, err = collectAs(c, first, err, func(link string) (models.UserCollectionResponseable, error) {
			return c.svc.Users().WithUrl(link).Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{Headers: headers()})
		}, toUser)
		return err
	})
	if err != nil {
		return nil, classify(ctx, op, err)
	}
	return out, nil
}

// ListUsers reads every user of the tenant with the onPremises* properties,
// 999 to a page (Graph's maximum), so that a resync of many UserMatches costs
// a few pages instead of one read per user.
func (c *Client) ListUsers(ctx context.Context, extra ...string) ([]cloud.User, error) {
	const op = "ListUsers"
	ctx = withCall(ctx, op)
	var out []cloud.User
	err := c.withUserSelect(func(sel []string) error {
		first, err := c.svc.Users().Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
			QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Select: sel, Top: ptr(int32(999))},
		})
		out, err = collectAs(c, first, err, func(link string) (models.UserCollectionResponseable, error) {
			return c.svc.Users().WithUrl(link).Get(ctx, nil)
		}, toUser)
		return err
	}, extra...)
	if err != nil {
		return nil, classify(ctx, op, err)
	}
	return out, nil
}

// SetImmutableID PATCHes onPremisesImmutableId alone; nil sends JSON null,
// which clears it.
func (c *Client) SetImmutableID(ctx context.Context, userID string, immutableID *string) error {
	const op = "SetImmutableID"
	if userID == "" {
		return invalid(op, "user id is required")
	}
	ctx = withCall(ctx, op)
	body := map[string]*string{"onPremisesImmutableId": immutableID}
	err := c.sendJSON(ctx, abs.PATCH, "{+baseurl}/users/{user%2Did}", map[string]string{"user%2Did": userID}, body)
	return classify(ctx, op, err)
}

// SetUserPrincipalName PATCHes userPrincipalName alone. Graph refuses it
// for a synced user (on-premises mastered) and, on a user holding a
// directory role, for an app without a role that may act on that user
// (userPrincipalName is a sensitive property).
func (c *Client) SetUserPrincipalName(ctx context.Context, userID, upn string) error {
	const op = "SetUserPrincipalName"
	if userID == "" || !strings.Contains(upn, "@") {
		return invalid(op, "a user id and a name@domain are required")
	}
	ctx = withCall(ctx, op)
	body := map[string]string{"userPrincipalName": upn}
	err := c.sendJSON(ctx, abs.PATCH, "{+baseurl}/users/{user%2Did}", map[string]string{"user%2Did": userID}, body)
	return classify(ctx, op, err)
}

// DeleteUser soft-deletes a user; it stays restorable in deleted items for 30 days.
func (c *Client) DeleteUser(ctx context.Context, userID string) error {
	const op = "DeleteUser"
	if userID == "" {
		return invalid(op, "user id is required")
	}
	ctx = withCall(ctx, op)
	return classify(ctx, op, c.svc.Users().ByUserId(userID).Delete(ctx, nil))
}

// DeletedUsers lists soft-deleted users. Graph requires the user cast on
// /directory/deletedItems; the SDK spells it with the short "graph.user"
// alias, so the documented microsoft.graph.user form is requested directly.
func (c *Client) DeletedUsers(ctx context.Context) ([]cloud.DeletedUser, error) {
	const op = "DeletedUsers"
	ctx = withCall(ctx, op)
	rb := c.svc.Directory().DeletedItems().GraphUser()
	var out []cloud.DeletedUser
	err := c.withUserSelect(func(sel []string) error {
		q := url.Values{"$select": {strings.Join(sel, ",")}}
		first, err := rb.WithUrl(c.graphURL.String()+"/directory/deletedItems/microsoft.graph.user?"+q.Encode()).Get(ctx, nil)
		out, err = collectAs(c, first, err, func(link string) (models.UserCollectionResponseable, error) {
			return rb.WithUrl(link).Get(ctx, nil)
		}, toDeletedUser)
		return err
	}, "deletedDateTime")
	if err != nil {
		return nil, classify(ctx, op, err)
	}
	return out, nil
}

// PurgeDeletedItem permanently deletes an object from deleted items. It
// cannot be undone.
func (c *Client) PurgeDeletedItem(ctx context.Context, id string) error {
	const op = "PurgeDeletedItem"
	if id == "" {
		return invalid(op, "deleted item id is required")
	}
	ctx = withCall(ctx, op)
	return classify(ctx, op, c.svc.Directory().DeletedItems().ByDirectoryObjectId(id).Delete(ctx, nil))
}
