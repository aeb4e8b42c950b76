package graph

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/entramatch/entra-match-operator/internal/cloud"
)

// explainRefusal adds to a ClassPermission error what the token held, so
// that the reconciler can say which permission, scope or role is missing
// instead of listing every possibility. Other errors pass unchanged.
func (c *Client) explainRefusal(ctx context.Context, err error) error {
	var ce *cloud.Error
	if !errors.As(err, &ce) || ce.Class != cloud.ClassPermission || c.cred == nil {
		return err
	}
	if h, ok := c.cred.(interface{ heldToken() string }); ok {
		// A delegated token must not be renewed just to be described:
		// that would redeem and rotate the refresh token once more.
		ce.Access = accessOf(h.heldToken())
		return err
	}
	// The token was just used, so azidentity answers from its cache
	// without a call to the identity platform.
	tok, terr := c.cred.GetToken(ctx, tokenOptions(c.scope))
	if terr == nil {
		ce.Access = accessOf(tok.Token)
	}
	return err
}

func tokenOptions(scope string) policy.TokenRequestOptions {
	return policy.TokenRequestOptions{Scopes: []string{scope}}
}

// accessOf reads the claims that describe what a Graph access token allows.
// Microsoft asks clients not to depend on access token contents, so this is
// used only to explain a refusal; nil when the token is not a readable JWT.
func accessOf(token string) *cloud.Access {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil
	}
	var claims struct {
		Roles []string `json:"roles"`
		Scp   string   `json:"scp"`
		UPN   string   `json:"upn"`
		// Guests carry no upn; unique_name names them in v1 tokens,
		// preferred_username in v2 ones.
		UniqueName        string   `json:"unique_name"`
		PreferredUsername string   `json:"preferred_username"`
		IDTyp             string   `json:"idtyp"`
		Wids              []string `json:"wids"`
	}
	if json.Unmarshal(payload, &claims) != nil {
		return nil
	}
	if claims.Scp != "" || claims.IDTyp == "user" {
		user := claims.UPN
		for _, alt := range []string{claims.UniqueName, claims.PreferredUsername} {
			if user == "" {
				user = alt
			}
		}
		return &cloud.Access{Delegated: true, Permissions: strings.Fields(claims.Scp), User: user, DirectoryRoles: claims.Wids}
	}
	return &cloud.Access{Permissions: claims.Roles}
}
