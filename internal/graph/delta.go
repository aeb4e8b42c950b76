package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	abs "github.com/microsoft/kiota-abstractions-go"
	absser "github.com/microsoft/kiota-abstractions-go/serialization"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/entramatch/entra-match-operator/internal/cloud"
)

// Delta query on users follows https://learn.microsoft.com/graph/api/user-delta
// and https://learn.microsoft.com/graph/delta-query-overview.
//
// Pages are read as raw JSON: an updated user may carry only the properties
// that changed, and one set to null must clear the known value. The SDK
// models cannot tell those apart: their deserialisers skip a JSON null, so
// it looks like an absent property. Which properties an entry carried comes
// from the JSON; their values from the SDK model, as for every other read.

// UsersDelta runs one round of delta query on users: every user when
// deltaLink is "", else what changed since the round that returned it.
func (c *Client) UsersDelta(ctx context.Context, deltaLink string) ([]cloud.UserChange, string, error) {
	const op = "UsersDelta"
	ctx = withCall(ctx, op)
	var changes []cloud.UserChange
	var next string
	var err error
	if deltaLink != "" {
		if err := c.checkNextLink(deltaLink); err != nil {
			return nil, "", invalid(op, "the deltaLink is not on the Graph endpoint")
		}
		changes, next, err = c.deltaRound(ctx, c.svc.Users().Delta().WithUrl(deltaLink), nil)
	} else {
		// Query options go in the first request only; the state tokens
		// carry them (user-delta, "Query parameters").
		err = c.withUserSelect(func(sel []string) error {
			var err error
			changes, next, err = c.deltaRound(ctx, c.svc.Users().Delta(), sel)
			return err
		})
	}
	if err != nil {
		return nil, "", classify(ctx, op, err)
	}
	return changes, next, nil
}

// deltaPage is the envelope of one delta response.
type deltaPage struct {
	Value     []json.RawMessage `json:"value"`
	NextLink  string            `json:"@odata.nextLink"`
	DeltaLink string            `json:"@odata.deltaLink"`
}

// deltaRound follows nextLinks from the first request to the deltaLink.
func (c *Client) deltaRound(ctx context.Context, rb *users.DeltaRequestBuilder, sel []string) ([]cloud.UserChange, string, error) {
	cfg := &users.DeltaRequestBuilderGetRequestConfiguration{Headers: preferMinimal()}
	if sel != nil {
		cfg.QueryParameters = &users.DeltaRequestBuilderGetQueryParameters{Select: sel}
	}
	var out []cloud.UserChange
	seen := map[string]bool{}
	for i := 0; ; i++ {
		p, err := c.deltaPage(ctx, rb, cfg)
		if err != nil {
			return nil, "", err
		}
		for _, raw := range p.Value {
			ch, err := toUserChange(raw)
			if err != nil {
				return nil, "", err
			}
			out = append(out, ch)
		}
		// Every page ends with one of the two links (delta-query-overview).
		switch {
		case p.DeltaLink != "":
			return out, p.DeltaLink, nil
		case p.NextLink == "":
			return nil, "", &cloud.Error{Class: cloud.ClassTransient, Message: "a delta page carried neither @odata.nextLink nor @odata.deltaLink"}
		case seen[p.NextLink] || i+1 >= maxPages:
			return nil, "", &cloud.Error{Class: cloud.ClassTransient, Message: "paging did not end: @odata.nextLink repeats or exceeds the page limit"}
		}
		if err := c.checkNextLink(p.NextLink); err != nil {
			return nil, "", err
		}
		seen[p.NextLink] = true
		rb = c.svc.Users().Delta().WithUrl(p.NextLink)
		cfg = &users.DeltaRequestBuilderGetRequestConfiguration{Headers: preferMinimal()}
	}
}

// preferMinimal asks for the changed properties only on deltaLink
// requests (user-delta, "Request headers"); UserChange.Present then says
// what changed, and a server that sends more is merged just the same.
func preferMinimal() *abs.RequestHeaders {
	h := abs.NewRequestHeaders()
	h.Add("Prefer", "return=minimal")
	return h
}

func (c *Client) deltaPage(ctx context.Context, rb *users.DeltaRequestBuilder, cfg *users.DeltaRequestBuilderGetRequestConfiguration) (deltaPage, error) {
	var p deltaPage
	ri, err := rb.ToGetRequestInformation(ctx, cfg)
	if err != nil {
		return p, err
	}
	res, err := c.adapter.SendPrimitive(ctx, ri, "[]byte", abs.ErrorMappings{"XXX": odataerrors.CreateODataErrorFromDiscriminatorValue})
	if err != nil {
		return p, err
	}
	body, _ := res.([]byte)
	if len(body) == 0 {
		return p, errors.New("empty delta page")
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return p, fmt.Errorf("decoding delta page: %w", err)
	}
	return p, nil
}

// toUserChange reads one entry: a removal is its id and @removed; any other
// entry is a user carrying some properties. Annotations (keys with "@") are
// not properties.
func toUserChange(raw json.RawMessage) (cloud.UserChange, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return cloud.UserChange{}, fmt.Errorf("decoding delta entry: %w", err)
	}
	var id string
	if err := json.Unmarshal(fields[cloud.PropID], &id); err != nil || id == "" {
		return cloud.UserChange{}, errors.New("a delta entry has no id")
	}
	ch := cloud.UserChange{Present: map[string]bool{cloud.PropID: true}}
	if rem, ok := fields["@removed"]; ok {
		var r struct {
			Reason string `json:"reason"`
		}
		_ = json.Unmarshal(rem, &r) // a reason Graph adds later is a plain removal
		ch.User.ID = id
		ch.Removed = true
		// "deleted": gone for good; "changed": restorable from deleted
		// items (delta-query-overview).
		ch.Permanent = strings.EqualFold(r.Reason, "deleted")
		return ch, nil
	}
	for k := range fields {
		if !strings.Contains(k, "@") {
			ch.Present[k] = true
		}
	}
	parsed, err := absser.DeserializeFromJson(raw, models.CreateUserFromDiscriminatorValue)
	if err != nil {
		return cloud.UserChange{}, fmt.Errorf("decoding delta entry %s: %w", id, err)
	}
	u, _ := parsed.(models.Userable)
	ch.User = toUser(u)
	ch.User.ID = id
	return ch, nil
}
