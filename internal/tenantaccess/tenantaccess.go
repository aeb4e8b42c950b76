// Package tenantaccess turns an EntraTenant into what a Graph client needs
// to reach it, and stores a person's delegated sign-in where the operator
// reads it. The operator's controllers and `entramatch login` share it, so
// both reach the same endpoints with the same public client.
package tenantaccess

import (
	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/cloud"
)

// DefaultKey is the Secret key of a sign-in when none is named.
const DefaultKey = "tokenCache"

// Endpoints is the tenant and cloud part of a connection, without a
// credential.
func Endpoints(t *identityv1alpha1.EntraTenant) cloud.Connection {
	c := cloud.Connection{TenantID: t.Spec.TenantID, Cloud: string(t.Spec.Cloud)}
	if c.Cloud == "" {
		c.Cloud = string(identityv1alpha1.CloudPublic)
	}
	if cu := t.Spec.Custom; cu != nil {
		c.GraphURL, c.AuthorityURL, c.CAPEM = cu.GraphURL, cu.AuthorityURL, []byte(cu.CABundle)
	}
	return c
}

// PublicClientID is the app a person signs in through for the tenant:
// spec.delegated.clientID, else the client ID of spec.credentials.
func PublicClientID(t *identityv1alpha1.EntraTenant) string {
	if d := t.Spec.Delegated; d != nil && d.ClientID != "" {
		return d.ClientID
	}
	return t.Spec.Credentials.ClientID()
}
