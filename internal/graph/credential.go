package graph

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azcloud "github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// newCredential builds the azidentity credential for cred. Instance discovery
// stays on for Microsoft's own authorities and is turned off for any other
// (an emulator or a proxy cannot answer it).
func newCredential(cred Credential, ep resolved, httpClient *http.Client) (azcore.TokenCredential, error) {
	opts := azcore.ClientOptions{
		Cloud:     azcloud.Configuration{ActiveDirectoryAuthorityHost: ep.authorityURL},
		Transport: httpClient,
		// Keep tokens and secrets out of azcore's request logging.
		Logging: policy.LogOptions{IncludeBody: false},
		// A short inline retry for the token endpoint: the reconciler retries
		// with its own backoff, and a long wait here only holds a worker.
		Retry: policy.RetryOptions{MaxRetries: 2, RetryDelay: 500 * time.Millisecond, MaxRetryDelay: 2 * time.Second},
	}
	switch {
	case cred.Delegated != nil:
		return newDelegatedCredential(cred, ep, httpClient)
	case cred.ClientSecret != "":
		c, err := azidentity.NewClientSecretCredential(cred.TenantID, cred.ClientID, cred.ClientSecret,
			&azidentity.ClientSecretCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: ep.customAuth})
		if err != nil {
			return nil, fmt.Errorf("client secret credential: %w", err)
		}
		return c, nil
	case len(cred.CertificatePEM) > 0:
		certs, key, err := azidentity.ParseCertificates(cred.CertificatePEM, nil)
		if err != nil {
			// ParseCertificates' message names the PEM problem, never key bytes.
			return nil, fmt.Errorf("client certificate: %w", err)
		}
		c, err := azidentity.NewClientCertificateCredential(cred.TenantID, cred.ClientID, certs, key,
			&azidentity.ClientCertificateCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: ep.customAuth})
		if err != nil {
			return nil, fmt.Errorf("client certificate credential: %w", err)
		}
		return c, nil
	case cred.FederatedTokenFile != "":
		path := cred.FederatedTokenFile
		c, err := azidentity.NewClientAssertionCredential(cred.TenantID, cred.ClientID,
			func(context.Context) (string, error) { return readAssertion(path) },
			&azidentity.ClientAssertionCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: ep.customAuth})
		if err != nil {
			return nil, fmt.Errorf("client assertion credential: %w", err)
		}
		return c, nil
	}
	return nil, errors.New("credential: no secret, certificate, federated token file or delegated sign-in")
}

// readAssertion reads the projected token on every call: the kubelet
// rewrites the file before the token expires.
func readAssertion(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("reading federated token file: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("federated token file %s is empty", path)
	}
	return tok, nil
}
