package graph

import (
	"context"

	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/entramatch/entra-match-operator/internal/cloud"
)

// Organization reads the tenant's organization object.
func (c *Client) Organization(ctx context.Context) (cloud.Organization, error) {
	const op = "Organization"
	ctx = withCall(ctx, op)
	// No $select: the default property set has id and displayName, and some
	// directory endpoints do not honour $select.
	resp, err := c.svc.Organization().Get(ctx, nil)
	if err != nil {
		return cloud.Organization{}, classify(ctx, op, err)
	}
	if resp == nil || len(resp.GetValue()) == 0 || resp.GetValue()[0] == nil {
		return cloud.Organization{}, &cloud.Error{Class: cloud.ClassNotFound, Op: op, Message: "Graph returned no organization"}
	}
	o := resp.GetValue()[0]
	return cloud.Organization{ID: deref(o.GetId()), DisplayName: deref(o.GetDisplayName())}, nil
}

// Domains lists the tenant's domains; IsVerified tells which UPN suffixes can match.
func (c *Client) Domains(ctx context.Context) ([]cloud.Domain, error) {
	const op = "Domains"
	ctx = withCall(ctx, op)
	first, err := c.svc.Domains().Get(ctx, nil)
	found, err := collect(c, first, err, func(link string) (models.DomainCollectionResponseable, error) {
		return c.svc.Domains().WithUrl(link).Get(ctx, nil)
	})
	if err != nil {
		return nil, classify(ctx, op, err)
	}
	out := make([]cloud.Domain, 0, len(found))
	for _, d := range found {
		if d != nil {
			out = append(out, toDomain(d))
		}
	}
	return out, nil
}
