package identity

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"strings"

	"github.com/entramatch/entra-match-operator/internal/emulator/jose"
)

// Workload identity federation follows
// https://learn.microsoft.com/en-us/entra/workload-id/workload-identity-federation
// and the federatedIdentityCredential resource
// (https://learn.microsoft.com/en-us/graph/api/resources/federatedidentitycredential):
// an app trusts tokens of an external issuer whose iss, sub and aud match
// one of its federated credentials exactly (case-sensitive). Entra fetches
// the issuer's keys from its OpenID discovery document; the emulator cannot
// reach any issuer, so the keys are configured with the credential.

// DefaultFederatedAudience is the audience Microsoft recommends (and the
// portal fills in) for federated identity credentials.
const DefaultFederatedAudience = "api://AzureADTokenExchange"

// FederatedCredential is a federated identity credential of an app.
type FederatedCredential struct {
	// Issuer is the external issuer's URL, compared exactly with the
	// assertion's iss claim, e.g. a cluster's service account issuer.
	Issuer string `json:"issuer"`
	// Subject is compared exactly with the assertion's sub claim, e.g.
	// "system:serviceaccount:NAMESPACE:NAME".
	Subject string `json:"subject"`
	// Audiences accepted in the aud claim; empty means
	// DefaultFederatedAudience.
	Audiences []string `json:"audiences,omitempty"`
	// JWKS is the issuer's JSON Web Key Set (RSA keys).
	JWKS []byte `json:"jwks,omitempty"`
	// PublicKeysPEM holds the issuer's RSA public keys or certificates in
	// PEM; either this or JWKS (or both) must be set.
	PublicKeysPEM []byte `json:"publicKeysPem,omitempty"`
}

type federatedCred struct {
	issuer    string
	subject   string
	audiences []string
	keys      []issuerKey
}

type issuerKey struct {
	kid string // empty: the key matches any kid
	pub *rsa.PublicKey
}

func newFederatedCred(fc FederatedCredential) (federatedCred, error) {
	if fc.Issuer == "" || fc.Subject == "" {
		return federatedCred{}, errors.New("issuer and subject are required")
	}
	c := federatedCred{issuer: fc.Issuer, subject: fc.Subject, audiences: fc.Audiences}
	if len(c.audiences) == 0 {
		c.audiences = []string{DefaultFederatedAudience}
	}
	if len(fc.JWKS) > 0 {
		keys, err := parseJWKS(fc.JWKS)
		if err != nil {
			return federatedCred{}, err
		}
		c.keys = append(c.keys, keys...)
	}
	if len(fc.PublicKeysPEM) > 0 {
		keys, err := parsePublicKeysPEM(fc.PublicKeysPEM)
		if err != nil {
			return federatedCred{}, err
		}
		c.keys = append(c.keys, keys...)
	}
	if len(c.keys) == 0 {
		return federatedCred{}, errors.New("no issuer key: set JWKS or PublicKeysPEM")
	}
	return c, nil
}

// ParseFederatedKeys reads an issuer key file for FederatedCredential: a
// JWKS document when it starts with '{', PEM otherwise.
func ParseFederatedKeys(data []byte) (FederatedCredential, error) {
	trimmed := strings.TrimSpace(string(data))
	if strings.HasPrefix(trimmed, "{") {
		if _, err := parseJWKS(data); err != nil {
			return FederatedCredential{}, err
		}
		return FederatedCredential{JWKS: data}, nil
	}
	if _, err := parsePublicKeysPEM(data); err != nil {
		return FederatedCredential{}, err
	}
	return FederatedCredential{PublicKeysPEM: data}, nil
}

func parseJWKS(data []byte) ([]issuerKey, error) {
	var set struct {
		Keys []struct {
			Kty string `json:"kty"`
			Kid string `json:"kid"`
			N   string `json:"n"`
			E   string `json:"e"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("parsing JWKS: %w", err)
	}
	var out []issuerKey
	for i, k := range set.Keys {
		if k.Kty != "RSA" {
			continue
		}
		n, errN := base64.RawURLEncoding.DecodeString(strings.TrimRight(k.N, "="))
		e, errE := base64.RawURLEncoding.DecodeString(strings.TrimRight(k.E, "="))
		if errN != nil || errE != nil || len(n) == 0 || len(e) == 0 || len(e) > 4 {
			return nil, fmt.Errorf("parsing JWKS: key %d has an invalid modulus or exponent", i)
		}
		exp := int(new(big.Int).SetBytes(e).Int64())
		out = append(out, issuerKey{kid: k.Kid, pub: &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: exp}})
	}
	if len(out) == 0 {
		return nil, errors.New("parsing JWKS: no RSA key")
	}
	return out, nil
}

func parsePublicKeysPEM(data []byte) ([]issuerKey, error) {
	var out []issuerKey
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		var pub any
		var err error
		switch block.Type {
		case "CERTIFICATE":
			var cert *x509.Certificate
			if cert, err = x509.ParseCertificate(block.Bytes); err == nil {
				pub = cert.PublicKey
			}
		case "PUBLIC KEY":
			pub, err = x509.ParsePKIXPublicKey(block.Bytes)
		case "RSA PUBLIC KEY":
			pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("parsing %s: %w", block.Type, err)
		}
		rsaPub, ok := pub.(*rsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("%s is not an RSA key", block.Type)
		}
		out = append(out, issuerKey{pub: rsaPub})
	}
	if len(out) == 0 {
		return nil, errors.New("no PEM public key or certificate found")
	}
	return out, nil
}

// workloadIdentityDoc is appended to federation errors, as Entra does.
const workloadIdentityDoc = " Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation"

// isFederatedAssertion tells a federated token from a certificate-signed
// client assertion: the latter is issued by the app itself (iss = client id)
// and names its certificate by thumbprint, which issuers' tokens do not.
func isFederatedAssertion(tok *jose.Token, app *appReg) bool {
	if tok.HeaderString("x5t") != "" || tok.HeaderString("x5t#S256") != "" {
		return false
	}
	return !strings.EqualFold(tok.ClaimString("iss"), app.clientID)
}

// checkFederated validates an external token presented as client assertion
// against the app's federated credentials. Errors and messages follow what
// Entra returns (AADSTS70021 when the app trusts nothing; AADSTS700211,
// 700213 and 700212 naming the issuer, subject or audience that matched no
// record), as quoted in
// https://github.com/Azure/azure-workload-identity/blob/main/docs/book/src/troubleshooting.md
// and the reference error codes page.
func (s *Platform) checkFederated(tok *jose.Token, app *appReg) *tokenError {
	iss, sub, auds := tok.ClaimString("iss"), tok.ClaimString("sub"), tok.ClaimStrings("aud")
	if len(app.federated) == 0 {
		return &tokenError{http.StatusBadRequest, "invalid_request", 70021,
			fmt.Sprintf("No matching federated identity record found for presented assertion. Assertion Issuer: '%s'. Assertion Subject: '%s'. Assertion Audience: '%s'.",
				iss, sub, strings.Join(auds, ","))}
	}
	var byIssuer, bySubject []federatedCred
	for _, fc := range app.federated {
		if fc.issuer == iss {
			byIssuer = append(byIssuer, fc)
		}
	}
	if len(byIssuer) == 0 {
		return &tokenError{http.StatusBadRequest, "invalid_client", 700211,
			fmt.Sprintf("No matching federated identity record found for presented assertion issuer '%s'.%s", iss, workloadIdentityDoc)}
	}
	for _, fc := range byIssuer {
		if fc.subject == sub {
			bySubject = append(bySubject, fc)
		}
	}
	if len(bySubject) == 0 {
		return &tokenError{http.StatusBadRequest, "invalid_client", 700213,
			fmt.Sprintf("No matching federated identity record found for presented assertion subject '%s'.%s", sub, workloadIdentityDoc)}
	}
	var match *federatedCred
	for i, fc := range bySubject {
		if slices.ContainsFunc(auds, func(a string) bool { return slices.Contains(fc.audiences, a) }) {
			match = &bySubject[i]
			break
		}
	}
	if match == nil {
		return &tokenError{http.StatusBadRequest, "invalid_client", 700212,
			fmt.Sprintf("No matching federated identity record found for presented assertion audience '%s'.%s", strings.Join(auds, ","), workloadIdentityDoc)}
	}
	if tok.Alg() != jose.RS256 && tok.Alg() != jose.PS256 {
		return &tokenError{http.StatusUnauthorized, "invalid_client", 700027,
			"Client assertion failed signature validation. The signature algorithm " + tok.Alg() + " is not supported."}
	}
	if !match.verifies(tok) {
		return &tokenError{http.StatusUnauthorized, "invalid_client", 700027,
			fmt.Sprintf("Client assertion failed signature validation. [Reason - The key was not found or the signature did not verify, issuer '%s']", iss)}
	}
	// Federated assertions are refused with 400, certificate ones with 401.
	return assertionLifetimeError(tok, s.clock().UTC(), http.StatusBadRequest, "")
}

func (fc federatedCred) verifies(tok *jose.Token) bool {
	kid := tok.HeaderString("kid")
	for _, k := range fc.keys {
		if kid != "" && k.kid != "" && k.kid != kid {
			continue
		}
		if tok.Verify(k.pub) == nil {
			return true
		}
	}
	return false
}
