package emulator_test

// These tests drive the emulator with the real msgraph-sdk-go and
// azidentity clients over HTTPS, the way the operator does. They live in
// one package so the SDK is compiled once.

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/google/go-cmp/cmp"
	abstractions "github.com/microsoft/kiota-abstractions-go"
	kiotaauth "github.com/microsoft/kiota-authentication-azure-go"
	khttp "github.com/microsoft/kiota-http-go"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/microsoftgraph/msgraph-sdk-go/rolemanagement"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/entramatch/entra-match-operator/internal/emulator"
)

const (
	sdkTenant    = "9c2d7e61-8a4b-4f1e-b3c5-6d7e8f901234"
	sdkDomain    = "fabrikam.onmicrosoft.com"
	sdkVanity    = "fabrikam.com"
	sdkAdmin     = "a1a1a1a1-0000-4000-8000-000000000001"
	sdkReader    = "a1a1a1a1-0000-4000-8000-000000000002"
	sdkNoPerm    = "a1a1a1a1-0000-4000-8000-000000000003"
	sdkCertApp   = "a1a1a1a1-0000-4000-8000-000000000004"
	sdkSecret    = "sdk~secret"
	graphDefault = "https://graph.microsoft.com/.default"
)

type sdkEnv struct {
	srv       *emulator.Server
	transport *http.Transport
	cert      *x509.Certificate
	certKey   *rsa.PrivateKey
}

func selfSigned(t *testing.T) (*x509.Certificate, *rsa.PrivateKey, []byte) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "operator"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func newSDKEnv(t *testing.T, opts ...func(*emulator.Config)) *sdkEnv {
	t.Helper()
	cert, key, certPEM := selfSigned(t)
	cfg := emulator.Config{
		TenantID:      sdkTenant,
		InitialDomain: sdkDomain,
		Apps: []emulator.App{
			{ClientID: sdkAdmin, Secret: sdkSecret, Permissions: []string{"User.ReadWrite.All", "Domain.Read.All", "Organization.Read.All",
				"OnPremDirectorySynchronization.ReadWrite.All", "RoleManagement.ReadWrite.Directory"}},
			{ClientID: sdkReader, Secret: sdkSecret, Permissions: []string{"User.Read.All"}},
			{ClientID: sdkNoPerm, Secret: sdkSecret},
			{ClientID: sdkCertApp, CertificatePEM: certPEM, Permissions: []string{"User.Read.All"}},
		},
		State: &emulator.Snapshot{
			Domains: []emulator.Domain{{ID: sdkVanity, AuthenticationType: "Managed", IsVerified: true, IsDefault: true}},
			Sync:    emulator.DefaultSyncState(),
		},
		AppOnlySyncFeatures: true,
	}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := emulator.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start("127.0.0.1:0", t.TempDir()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(srv.CACertPEM()) {
		t.Fatal("bad CA")
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	t.Cleanup(tr.CloseIdleConnections)
	return &sdkEnv{srv: srv, transport: tr, cert: cert, certKey: key}
}

func (e *sdkEnv) clientOptions() azcore.ClientOptions {
	return azcore.ClientOptions{
		Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: e.srv.URL() + "/"},
		Transport: &http.Client{Transport: e.transport, Timeout: 30 * time.Second},
		Retry:     policy.RetryOptions{MaxRetries: -1},
	}
}

func (e *sdkEnv) secretCredential(t *testing.T, clientID, secret string) azcore.TokenCredential {
	t.Helper()
	cred, err := azidentity.NewClientSecretCredential(sdkTenant, clientID, secret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions: e.clientOptions(), DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	return cred
}

func (e *sdkEnv) certCredential(t *testing.T, clientID string, cert *x509.Certificate, key *rsa.PrivateKey) azcore.TokenCredential {
	t.Helper()
	cred, err := azidentity.NewClientCertificateCredential(sdkTenant, clientID, []*x509.Certificate{cert}, key,
		&azidentity.ClientCertificateCredentialOptions{ClientOptions: e.clientOptions(), DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	return cred
}

// graph builds a Graph client the way the operator must: own HTTP client
// (trusting the emulator CA) with the SDK's middleware, base URL set before
// the client is created, and the host without port as the allowed host.
func (e *sdkEnv) graph(t *testing.T, cred azcore.TokenCredential, allowedHost string) (*msgraphsdk.GraphServiceClient, *msgraphsdk.GraphRequestAdapter) {
	t.Helper()
	return e.graphVia(t, cred, allowedHost, e.transport)
}

// graphVia is graph over a given parent transport (below the SDK's
// middleware, so it sees every retry).
func (e *sdkEnv) graphVia(t *testing.T, cred azcore.TokenCredential, allowedHost string, parent http.RoundTripper) (*msgraphsdk.GraphServiceClient, *msgraphsdk.GraphRequestAdapter) {
	t.Helper()
	auth, err := kiotaauth.NewAzureIdentityAuthenticationProviderWithScopesAndValidHosts(cred, []string{graphDefault}, []string{allowedHost})
	if err != nil {
		t.Fatal(err)
	}
	opts := msgraphsdk.GetDefaultClientOptions()
	httpClient := &http.Client{
		Transport: khttp.NewCustomTransportWithParentTransport(parent, msgraphcore.GetDefaultMiddlewaresWithOptions(&opts)...),
		Timeout:   30 * time.Second,
	}
	adapter, err := msgraphsdk.NewGraphRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(auth, nil, nil, httpClient)
	if err != nil {
		t.Fatal(err)
	}
	adapter.SetBaseUrl(e.srv.URL() + "/v1.0")
	return msgraphsdk.NewGraphServiceClient(adapter), adapter
}

func odataError(t *testing.T, err error) (int, string, string) {
	t.Helper()
	var oe *odataerrors.ODataError
	if !errors.As(err, &oe) {
		t.Fatalf("want *odataerrors.ODataError, got %T: %v", err, err)
	}
	main := oe.GetErrorEscaped()
	if main == nil {
		return oe.ResponseStatusCode, "", ""
	}
	return oe.ResponseStatusCode, deref(main.GetCode()), deref(main.GetMessage())
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func ptr[T any](v T) *T { return &v }

func newUser(nick string) models.Userable {
	u := models.NewUser()
	u.SetAccountEnabled(ptr(true))
	u.SetDisplayName(ptr(nick))
	u.SetMailNickname(ptr(nick))
	u.SetUserPrincipalName(ptr(nick + "@" + sdkVanity))
	pp := models.NewPasswordProfile()
	pp.SetPassword(ptr("Xy!2" + nick + "Q9"))
	pp.SetForceChangePasswordNextSignIn(ptr(true))
	u.SetPasswordProfile(pp)
	return u
}

func TestSDKUsers(t *testing.T) {
	env := newSDKEnv(t)
	ctx := context.Background()
	client, adapter := env.graph(t, env.secretCredential(t, sdkAdmin, sdkSecret), "127.0.0.1")

	// doc: https://learn.microsoft.com/en-us/graph/api/user-post-users
	created, err := client.Users().Post(ctx, newUser("ada"), nil)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	id := deref(created.GetId())
	if created.GetOnPremisesImmutableId() != nil {
		t.Error("the default property set must not carry onPremisesImmutableId")
	}
	_, err = client.Users().Post(ctx, newUser("ada"), nil)
	if status, code, msg := odataError(t, err); status != 400 || code != "Request_BadRequest" || !strings.Contains(msg, "userPrincipalName") {
		t.Errorf("duplicate create: %d %s %s", status, code, msg)
	}

	// doc: https://learn.microsoft.com/en-us/graph/api/user-update
	patch := models.NewUser()
	patch.SetOnPremisesImmutableId(ptr("BpazOkLGm0iEtljAONPvOQ=="))
	if _, err := client.Users().ByUserId(id).Patch(ctx, patch, nil); err != nil {
		t.Fatalf("patch immutableId: %v", err)
	}
	// doc: https://learn.microsoft.com/en-us/graph/api/resources/user (on-premises properties need $select)
	plain, err := client.Users().ByUserId(id).Get(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if plain.GetOnPremisesImmutableId() != nil {
		t.Error("onPremisesImmutableId returned without $select")
	}
	sel, err := client.Users().ByUserId("ada@"+sdkVanity).Get(ctx, &users.UserItemRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UserItemRequestBuilderGetQueryParameters{Select: []string{"id", "onPremisesImmutableId", "onPremisesSyncEnabled"}}})
	if err != nil {
		t.Fatal(err)
	}
	if deref(sel.GetOnPremisesImmutableId()) != "BpazOkLGm0iEtljAONPvOQ==" || sel.GetOnPremisesSyncEnabled() != nil {
		t.Errorf("selected: immutableId=%v syncEnabled=%v", deref(sel.GetOnPremisesImmutableId()), sel.GetOnPremisesSyncEnabled())
	}

	other, err := client.Users().Post(ctx, newUser("grace"), nil)
	if err != nil {
		t.Fatal(err)
	}
	patchTests := []struct {
		name   string
		value  string
		status int
		code   string
		doc    string
	}{
		{"conflicting anchor", "BpazOkLGm0iEtljAONPvOQ==", 400, "Request_BadRequest", "https://learn.microsoft.com/en-us/graph/api/user-update"},
		{"forbidden character", "a_b", 400, "Request_BadRequest", "https://learn.microsoft.com/en-us/graph/api/resources/user"},
	}
	for _, tt := range patchTests {
		t.Run(tt.name, func(t *testing.T) {
			p := models.NewUser()
			p.SetOnPremisesImmutableId(ptr(tt.value))
			_, err := client.Users().ByUserId(deref(other.GetId())).Patch(ctx, p, nil)
			if status, code, _ := odataError(t, err); status != tt.status || code != tt.code {
				t.Errorf("got %d %s", status, code)
			}
		})
	}
	// A nil value is sent as JSON null and clears the anchor.
	clearAnchor := models.NewUser()
	clearAnchor.SetOnPremisesImmutableId(ptr("DDDDDDDDDDDDDDDDDDDDDD=="))
	if _, err := client.Users().ByUserId(deref(other.GetId())).Patch(ctx, clearAnchor, nil); err != nil {
		t.Fatal(err)
	}
	clearAnchor = models.NewUser()
	clearAnchor.SetOnPremisesImmutableId(nil)
	if _, err := client.Users().ByUserId(deref(other.GetId())).Patch(ctx, clearAnchor, nil); err != nil {
		t.Fatalf("clear anchor: %v", err)
	}
	cleared, err := client.Users().ByUserId(deref(other.GetId())).Get(ctx, &users.UserItemRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UserItemRequestBuilderGetQueryParameters{Select: []string{"onPremisesImmutableId"}}})
	if err != nil || cleared.GetOnPremisesImmutableId() != nil {
		t.Errorf("after clearing: %v %v", err, deref(cleared.GetOnPremisesImmutableId()))
	}

	var oe *odataerrors.ODataError
	p := models.NewUser()
	p.SetOnPremisesImmutableId(ptr("BpazOkLGm0iEtljAONPvOQ=="))
	_, err = client.Users().ByUserId(deref(other.GetId())).Patch(ctx, p, nil)
	if errors.As(err, &oe) {
		details := oe.GetErrorEscaped().GetDetails()
		if len(details) < 2 || deref(details[0].GetCode()) != "ObjectConflict" || deref(details[1].GetTarget()) != id {
			t.Errorf("conflict details do not name %s", id)
		}
		if oe.GetErrorEscaped().GetInnerError() == nil || deref(oe.GetErrorEscaped().GetInnerError().GetRequestId()) == "" {
			t.Error("innerError.request-id missing")
		}
	}

	// Advanced query: doc: https://learn.microsoft.com/en-us/graph/aad-advanced-queries
	filter := "onPremisesImmutableId eq 'BpazOkLGm0iEtljAONPvOQ=='"
	_, err = client.Users().Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Filter: &filter}})
	if status, code, _ := odataError(t, err); status != 400 || code != "Request_UnsupportedQuery" {
		t.Errorf("plain query on immutableId: %d %s", status, code)
	}
	headers := abstractions.NewRequestHeaders()
	headers.Add("ConsistencyLevel", "eventual")
	found, err := client.Users().Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
		Headers:         headers,
		QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Filter: &filter, Count: ptr(true), Select: []string{"id", "onPremisesImmutableId"}}})
	if err != nil {
		t.Fatalf("advanced query: %v", err)
	}
	if deref(found.GetOdataCount()) != 1 || len(found.GetValue()) != 1 || deref(found.GetValue()[0].GetId()) != id {
		t.Errorf("advanced query found %d", len(found.GetValue()))
	}
	proxyFilter := "proxyAddresses/any(p:p eq 'smtp:nobody@fabrikam.com')"
	none, err := client.Users().Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Filter: &proxyFilter}})
	if err != nil || len(none.GetValue()) != 0 {
		t.Errorf("proxy filter: %v %v", err, none)
	}

	// Paging with the SDK's page iterator. doc: https://learn.microsoft.com/en-us/graph/sdks/paging
	for i := 0; i < 5; i++ {
		if _, err := client.Users().Post(ctx, newUser(fmt.Sprintf("pager%d", i)), nil); err != nil {
			t.Fatal(err)
		}
	}
	first, err := client.Users().Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Top: ptr(int32(2))}})
	if err != nil {
		t.Fatal(err)
	}
	it, err := msgraphcore.NewPageIterator[models.Userable](first, adapter, models.CreateUserCollectionResponseFromDiscriminatorValue)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	if err := it.Iterate(ctx, func(u models.Userable) bool {
		seen[deref(u.GetId())] = true
		return true
	}); err != nil {
		t.Fatalf("iterate: %v", err)
	}
	if len(seen) != 7 {
		t.Errorf("page iterator saw %d users, want 7", len(seen))
	}

	// Delete, deleted items, restore, permanent delete.
	// doc: https://learn.microsoft.com/en-us/graph/api/directory-deleteditems-list
	if err := client.Users().ByUserId(id).Delete(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Users().ByUserId(id).Get(ctx, nil); err == nil {
		t.Fatal("deleted user still readable")
	} else if status, code, _ := odataError(t, err); status != 404 || code != "Request_ResourceNotFound" {
		t.Errorf("get deleted: %d %s", status, code)
	}
	deleted, err := client.Directory().DeletedItems().GraphUser().Get(ctx, nil)
	if err != nil {
		t.Fatalf("deleted items: %v", err)
	}
	if len(deleted.GetValue()) != 1 || deref(deleted.GetValue()[0].GetId()) != id {
		t.Errorf("deleted items %d", len(deleted.GetValue()))
	}
	if _, err := client.Directory().DeletedItems().ByDirectoryObjectId(id).Restore().Post(ctx, nil); err != nil {
		t.Fatalf("restore: %v", err)
	}
	if _, err := client.Users().ByUserId(id).Get(ctx, nil); err != nil {
		t.Fatalf("restored user: %v", err)
	}
	if err := client.Users().ByUserId(id).Delete(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := client.Directory().DeletedItems().ByDirectoryObjectId(id).Delete(ctx, nil); err != nil {
		t.Fatalf("permanent delete: %v", err)
	}
	if _, err := client.Directory().DeletedItems().ByDirectoryObjectId(id).Get(ctx, nil); err == nil {
		t.Error("permanently deleted item still listed")
	}
}

func TestSDKDirectory(t *testing.T) {
	env := newSDKEnv(t)
	ctx := context.Background()
	client, _ := env.graph(t, env.secretCredential(t, sdkAdmin, sdkSecret), "127.0.0.1")

	// doc: https://learn.microsoft.com/en-us/graph/api/domain-list
	domains, err := client.Domains().Get(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	verified := map[string]string{}
	for _, d := range domains.GetValue() {
		if deref(d.GetIsVerified()) {
			verified[deref(d.GetId())] = deref(d.GetAuthenticationType())
		}
	}
	if verified[sdkDomain] != "Managed" || verified[sdkVanity] != "Managed" {
		t.Errorf("verified domains %v", verified)
	}
	// doc: https://learn.microsoft.com/en-us/graph/api/organization-list
	org, err := client.Organization().Get(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(org.GetValue()) != 1 || deref(org.GetValue()[0].GetId()) != sdkTenant {
		t.Errorf("organization %v", org.GetValue())
	}
}

func syncFeatures(t *testing.T, client *msgraphsdk.GraphServiceClient) models.OnPremisesDirectorySynchronizationable {
	t.Helper()
	list, err := client.Directory().OnPremisesSynchronization().Get(context.Background(), nil)
	if err != nil {
		t.Fatalf("get sync: %v", err)
	}
	if len(list.GetValue()) != 1 || deref(list.GetValue()[0].GetId()) != sdkTenant {
		t.Fatalf("sync collection: %d entries", len(list.GetValue()))
	}
	return list.GetValue()[0]
}

// copyFeatures builds a fresh features object with every flag set, the
// pattern Microsoft's examples use (read the whole object, send it back).
func copyFeatures(f models.OnPremisesDirectorySynchronizationFeatureable) models.OnPremisesDirectorySynchronizationFeatureable {
	n := models.NewOnPremisesDirectorySynchronizationFeature()
	n.SetBlockCloudObjectTakeoverThroughHardMatchEnabled(f.GetBlockCloudObjectTakeoverThroughHardMatchEnabled())
	n.SetBlockSoftMatchEnabled(f.GetBlockSoftMatchEnabled())
	n.SetBypassDirSyncOverridesEnabled(f.GetBypassDirSyncOverridesEnabled())
	n.SetCloudPasswordPolicyForPasswordSyncedUsersEnabled(f.GetCloudPasswordPolicyForPasswordSyncedUsersEnabled())
	n.SetConcurrentCredentialUpdateEnabled(f.GetConcurrentCredentialUpdateEnabled())
	n.SetConcurrentOrgIdProvisioningEnabled(f.GetConcurrentOrgIdProvisioningEnabled())
	n.SetDeviceWritebackEnabled(f.GetDeviceWritebackEnabled())
	n.SetDirectoryExtensionsEnabled(f.GetDirectoryExtensionsEnabled())
	n.SetFopeConflictResolutionEnabled(f.GetFopeConflictResolutionEnabled())
	n.SetGroupWriteBackEnabled(f.GetGroupWriteBackEnabled())
	n.SetPasswordSyncEnabled(f.GetPasswordSyncEnabled())
	n.SetPasswordWritebackEnabled(f.GetPasswordWritebackEnabled())
	n.SetQuarantineUponProxyAddressesConflictEnabled(f.GetQuarantineUponProxyAddressesConflictEnabled())
	n.SetQuarantineUponUpnConflictEnabled(f.GetQuarantineUponUpnConflictEnabled())
	n.SetSoftMatchOnUpnEnabled(f.GetSoftMatchOnUpnEnabled())
	n.SetSynchronizeUpnForManagedUsersEnabled(f.GetSynchronizeUpnForManagedUsersEnabled())
	n.SetUnifiedGroupWritebackEnabled(f.GetUnifiedGroupWritebackEnabled())
	n.SetUserForcePasswordChangeOnLogonEnabled(f.GetUserForcePasswordChangeOnLogonEnabled())
	n.SetUserWritebackEnabled(f.GetUserWritebackEnabled())
	if v, ok := f.GetAdditionalData()["allowOnPremUpdateOfOnPremisesObjectIdentifierEnabled"]; ok {
		n.SetAdditionalData(map[string]any{"allowOnPremUpdateOfOnPremisesObjectIdentifierEnabled": v})
	}
	return n
}

// TestSDKSyncFeatures follows
// https://learn.microsoft.com/en-us/graph/api/onpremisesdirectorysynchronization-update:
// a partial features object, as the page's own example sends, keeps the
// omitted flags; the read-modify-write pattern works too.
func TestSDKSyncFeatures(t *testing.T) {
	env := newSDKEnv(t)
	ctx := context.Background()
	client, _ := env.graph(t, env.secretCredential(t, sdkAdmin, sdkSecret), "127.0.0.1")
	item := client.Directory().OnPremisesSynchronization().ByOnPremisesDirectorySynchronizationId(sdkTenant)

	// A features object with only the flag to change: the others keep
	// their values.
	partial := models.NewOnPremisesDirectorySynchronizationFeature()
	partial.SetBlockSoftMatchEnabled(ptr(true))
	body := models.NewOnPremisesDirectorySynchronization()
	body.SetFeatures(partial)
	if _, err := item.Patch(ctx, body, nil); err != nil {
		t.Fatalf("partial features object: %v", err)
	}
	if f := syncFeatures(t, client).GetFeatures(); !deref(f.GetBlockSoftMatchEnabled()) || !deref(f.GetSoftMatchOnUpnEnabled()) ||
		!deref(f.GetSynchronizeUpnForManagedUsersEnabled()) || !deref(f.GetQuarantineUponUpnConflictEnabled()) {
		t.Errorf("after a partial patch: blockSoft=%v softUpn=%v syncUpn=%v quarantineUpn=%v", deref(f.GetBlockSoftMatchEnabled()),
			deref(f.GetSoftMatchOnUpnEnabled()), deref(f.GetSynchronizeUpnForManagedUsersEnabled()), deref(f.GetQuarantineUponUpnConflictEnabled()))
	}
	var err error

	// Re-using the fetched features object works: the SDK serializes a
	// nested object it was given whole (only top-level properties are
	// filtered by the backing store).
	cur := syncFeatures(t, client)
	cur.GetFeatures().SetPasswordSyncEnabled(ptr(true))
	body = models.NewOnPremisesDirectorySynchronization()
	body.SetFeatures(cur.GetFeatures())
	if _, err := item.Patch(ctx, body, nil); err != nil {
		t.Fatalf("re-used features object: %v", err)
	}

	// Read-modify-write with a complete object succeeds and keeps the rest.
	cur = syncFeatures(t, client)
	full := copyFeatures(cur.GetFeatures())
	full.SetBlockSoftMatchEnabled(ptr(true))
	full.SetBlockCloudObjectTakeoverThroughHardMatchEnabled(ptr(true))
	body = models.NewOnPremisesDirectorySynchronization()
	body.SetFeatures(full)
	if _, err := item.Patch(ctx, body, nil); err != nil {
		t.Fatalf("full patch: %v", err)
	}
	after := syncFeatures(t, client).GetFeatures()
	if !deref(after.GetBlockSoftMatchEnabled()) || !deref(after.GetBlockCloudObjectTakeoverThroughHardMatchEnabled()) ||
		!deref(after.GetSoftMatchOnUpnEnabled()) || !deref(after.GetQuarantineUponUpnConflictEnabled()) || !deref(after.GetPasswordSyncEnabled()) {
		t.Errorf("after full patch: blockSoft=%v blockHard=%v softUpn=%v quarantineUpn=%v",
			deref(after.GetBlockSoftMatchEnabled()), deref(after.GetBlockCloudObjectTakeoverThroughHardMatchEnabled()),
			deref(after.GetSoftMatchOnUpnEnabled()), deref(after.GetQuarantineUponUpnConflictEnabled()))
	}

	// Irreversible flag: switching synchronizeUpnForManagedUsers on works, off fails.
	on := copyFeatures(after)
	on.SetSynchronizeUpnForManagedUsersEnabled(ptr(true))
	body = models.NewOnPremisesDirectorySynchronization()
	body.SetFeatures(on)
	if _, err := item.Patch(ctx, body, nil); err != nil {
		t.Fatalf("enable synchronizeUpnForManagedUsers: %v", err)
	}
	off := copyFeatures(syncFeatures(t, client).GetFeatures())
	off.SetSynchronizeUpnForManagedUsersEnabled(ptr(false))
	body = models.NewOnPremisesDirectorySynchronization()
	body.SetFeatures(off)
	_, err = item.Patch(ctx, body, nil)
	if status, _, msg := odataError(t, err); status != 400 || !strings.Contains(msg, "synchronizeUpnForManagedUsersEnabled") {
		t.Errorf("disable synchronizeUpnForManagedUsers: %d %s", status, msg)
	}
}

// hasIsPrivileged reports whether a role definition carried
// isPrivileged, which the v1.0 SDK model does not know: it would land in
// the additional data.
func hasIsPrivileged(d models.UnifiedRoleDefinitionable) bool {
	_, ok := d.GetAdditionalData()["isPrivileged"]
	return ok
}

func TestSDKRoles(t *testing.T) {
	env := newSDKEnv(t)
	ctx := context.Background()
	client, _ := env.graph(t, env.secretCredential(t, sdkAdmin, sdkSecret), "127.0.0.1")
	u, err := client.Users().Post(ctx, newUser("boss"), nil)
	if err != nil {
		t.Fatal(err)
	}
	uid := deref(u.GetId())

	// doc: https://learn.microsoft.com/en-us/graph/api/rbacapplication-list-roledefinitions
	defs, err := client.RoleManagement().Directory().RoleDefinitions().Get(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	// doc: https://learn.microsoft.com/en-us/graph/api/resources/unifiedroledefinition?view=graph-rest-1.0 (no isPrivileged)
	for _, d := range defs.GetValue() {
		if hasIsPrivileged(d) {
			t.Errorf("%s carries the beta property isPrivileged", deref(d.GetDisplayName()))
		}
	}

	// doc: https://learn.microsoft.com/en-us/graph/api/rbacapplication-post-roleassignments
	ra := models.NewUnifiedRoleAssignment()
	ra.SetPrincipalId(&uid)
	ra.SetRoleDefinitionId(ptr(emulator.RoleGlobalAdministrator))
	ra.SetDirectoryScopeId(ptr("/"))
	created, err := client.RoleManagement().Directory().RoleAssignments().Post(ctx, ra, nil)
	if err != nil {
		t.Fatalf("assign: %v", err)
	}
	filter := "principalId eq '" + uid + "'"
	list, err := client.RoleManagement().Directory().RoleAssignments().Get(ctx, &rolemanagement.DirectoryRoleAssignmentsRequestBuilderGetRequestConfiguration{
		QueryParameters: &rolemanagement.DirectoryRoleAssignmentsRequestBuilderGetQueryParameters{Filter: &filter, Expand: []string{"roleDefinition"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.GetValue()) != 1 || list.GetValue()[0].GetRoleDefinition() == nil ||
		deref(list.GetValue()[0].GetRoleDefinition().GetDisplayName()) != "Global Administrator" ||
		hasIsPrivileged(list.GetValue()[0].GetRoleDefinition()) {
		t.Fatalf("assignments with expanded definition: %d", len(list.GetValue()))
	}
	// doc: https://learn.microsoft.com/en-us/entra/identity/role-based-access-control/privileged-roles-permissions#who-can-perform-sensitive-actions
	// The sensitive-property rule holds for the SDK too: application
	// permissions alone (RoleManagement.ReadWrite.Directory included) may
	// not change the anchor of a Global Administrator; the app's service
	// principal needs Privileged Authentication Administrator.
	p := models.NewUser()
	p.SetOnPremisesImmutableId(ptr("CCCCCCCCCCCCCCCCCCCCCC=="))
	_, err = client.Users().ByUserId(uid).Patch(ctx, p, nil)
	if status, code, _ := odataError(t, err); status != 403 || code != "Authorization_RequestDenied" {
		t.Errorf("anchor change without a directory role: %d %s", status, code)
	}
	sp, _ := env.srv.ServicePrincipalID(sdkAdmin)
	paa := models.NewUnifiedRoleAssignment()
	paa.SetPrincipalId(&sp)
	paa.SetRoleDefinitionId(ptr(emulator.RolePrivilegedAuthenticationAdministrator))
	paa.SetDirectoryScopeId(ptr("/"))
	if _, err := client.RoleManagement().Directory().RoleAssignments().Post(ctx, paa, nil); err != nil {
		t.Fatalf("assign Privileged Authentication Administrator to the app: %v", err)
	}
	if _, err := client.Users().ByUserId(uid).Patch(ctx, p, nil); err != nil {
		t.Errorf("anchor change as Privileged Authentication Administrator: %v", err)
	}
	if err := client.RoleManagement().Directory().RoleAssignments().ByUnifiedRoleAssignmentId(deref(created.GetId())).Delete(ctx, nil); err != nil {
		t.Fatalf("unassign: %v", err)
	}

	// doc: https://learn.microsoft.com/en-us/graph/api/rbacapplication-post-roleeligibilityschedulerequests
	req := func(action models.UnifiedRoleScheduleRequestActions) models.UnifiedRoleEligibilityScheduleRequestable {
		r := models.NewUnifiedRoleEligibilityScheduleRequest()
		r.SetAction(&action)
		r.SetPrincipalId(&uid)
		r.SetRoleDefinitionId(ptr(emulator.RolePrivilegedRoleAdministrator))
		r.SetDirectoryScopeId(ptr("/"))
		r.SetJustification(ptr("test"))
		si := models.NewRequestSchedule()
		si.SetStartDateTime(ptr(time.Now().UTC()))
		exp := models.NewExpirationPattern()
		et := models.NOEXPIRATION_EXPIRATIONPATTERNTYPE
		exp.SetTypeEscaped(&et)
		si.SetExpiration(exp)
		r.SetScheduleInfo(si)
		return r
	}
	instances := func() int {
		res, err := client.RoleManagement().Directory().RoleEligibilityScheduleInstances().Get(ctx,
			&rolemanagement.DirectoryRoleEligibilityScheduleInstancesRequestBuilderGetRequestConfiguration{
				QueryParameters: &rolemanagement.DirectoryRoleEligibilityScheduleInstancesRequestBuilderGetQueryParameters{Filter: &filter}})
		if err != nil {
			t.Fatal(err)
		}
		return len(res.GetValue())
	}
	if _, err := client.RoleManagement().Directory().RoleEligibilityScheduleRequests().Post(ctx, req(models.ADMINASSIGN_UNIFIEDROLESCHEDULEREQUESTACTIONS), nil); err != nil {
		t.Fatalf("adminAssign: %v", err)
	}
	if n := instances(); n != 1 {
		t.Errorf("instances after adminAssign: %d", n)
	}
	if _, err := client.RoleManagement().Directory().RoleEligibilityScheduleRequests().Post(ctx, req(models.ADMINREMOVE_UNIFIEDROLESCHEDULEREQUESTACTIONS), nil); err != nil {
		t.Fatalf("adminRemove: %v", err)
	}
	if n := instances(); n != 0 {
		t.Errorf("instances after adminRemove: %d", n)
	}
}

// TestSDKAuth covers both credential types, token endpoint errors as
// azidentity reports them, the missing-token trap, and 403.
func TestSDKAuth(t *testing.T) {
	env := newSDKEnv(t)
	ctx := context.Background()
	scopes := policy.TokenRequestOptions{Scopes: []string{graphDefault}}
	otherCert, otherKey, _ := selfSigned(t)

	credTests := []struct {
		name    string
		cred    azcore.TokenCredential
		wantErr string // AADSTS code in the message; "" = success
		doc     string
	}{
		{"client secret", env.secretCredential(t, sdkAdmin, sdkSecret), "", "https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow"},
		{"client certificate", env.certCredential(t, sdkCertApp, env.cert, env.certKey), "", "https://learn.microsoft.com/en-us/entra/identity-platform/certificate-credentials"},
		{"wrong secret", env.secretCredential(t, sdkAdmin, "wrong"), "AADSTS7000215", "https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes"},
		{"unknown app", env.secretCredential(t, "b2b2b2b2-0000-4000-8000-000000000009", sdkSecret), "AADSTS700016", "https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes"},
		{"unregistered certificate", env.certCredential(t, sdkCertApp, otherCert, otherKey), "AADSTS700027", "https://learn.microsoft.com/en-us/entra/identity-platform/certificate-credentials"},
	}
	for _, tt := range credTests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := tt.cred.GetToken(ctx, scopes)
			if tt.wantErr == "" {
				if err != nil || tok.Token == "" {
					t.Fatalf("GetToken: %v", err)
				}
				return
			}
			var afe *azidentity.AuthenticationFailedError
			if !errors.As(err, &afe) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("want AuthenticationFailedError with %s, got %T %v", tt.wantErr, err, err)
			}
		})
	}

	// The certificate credential works end to end.
	certClient, _ := env.graph(t, env.certCredential(t, sdkCertApp, env.cert, env.certKey), "127.0.0.1")
	if _, err := certClient.Users().Get(ctx, nil); err != nil {
		t.Errorf("list users with certificate credential: %v", err)
	}

	// infra.md's trap: host:port in the allowed hosts sends no token; the
	// emulator must answer 401, never succeed.
	trap, _ := env.graph(t, env.secretCredential(t, sdkAdmin, sdkSecret), strings.TrimPrefix(env.srv.URL(), "https://"))
	_, err := trap.Users().Get(ctx, nil)
	if status, code, _ := odataError(t, err); status != 401 || code != "InvalidAuthenticationToken" {
		t.Errorf("request without token: %d %s", status, code)
	}

	// An app without permissions gets 403 Authorization_RequestDenied.
	noPerm, _ := env.graph(t, env.secretCredential(t, sdkNoPerm, sdkSecret), "127.0.0.1")
	_, err = noPerm.Users().Get(ctx, nil)
	if status, code, msg := odataError(t, err); status != 403 || code != "Authorization_RequestDenied" || msg != "Insufficient privileges to complete the operation." {
		t.Errorf("no permission: %d %s %s", status, code, msg)
	}
	reader, _ := env.graph(t, env.secretCredential(t, sdkReader, sdkSecret), "127.0.0.1")
	_, err = reader.Users().Post(ctx, newUser("nope"), nil)
	if status, code, _ := odataError(t, err); status != 403 || code != "Authorization_RequestDenied" {
		t.Errorf("reader writing: %d %s", status, code)
	}
}

// statusCounter counts the responses with a given status that reach the
// SDK's middleware (its retry handler included).
type statusCounter struct {
	next   http.RoundTripper
	status int
	n      atomic.Int64
}

func (c *statusCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(r)
	if err == nil && resp.StatusCode == c.status {
		c.n.Add(1)
	}
	return resp, err
}

// TestSDKThrottling drives the throttle with the SDK: a 429 arrives as an
// ODataError with Retry-After, and the SDK's retry handler, honouring
// Retry-After, gets through once the bucket refills. Time scale 100 makes
// the small-tenant bucket 35 RU per 100 ms, so this takes about a second.
// doc: https://learn.microsoft.com/en-us/graph/throttling-limits#identity-and-access-service-limits
// doc: https://learn.microsoft.com/en-us/graph/throttling#best-practices-to-handle-throttling
func TestSDKThrottling(t *testing.T) {
	env := newSDKEnv(t, func(c *emulator.Config) { c.Throttle, c.TimeScale = emulator.ThrottleSmall, 100 })
	ctx := context.Background()
	counter := &statusCounter{next: env.transport, status: http.StatusTooManyRequests}
	client, _ := env.graphVia(t, env.secretCredential(t, sdkAdmin, sdkSecret), "127.0.0.1", counter)

	noRetry := &khttp.RetryHandlerOptions{ShouldRetry: func(time.Duration, int, *http.Request, *http.Response) bool { return false }}
	var throttled error
	for i := 0; i < 5000 && throttled == nil; i++ {
		_, throttled = client.Users().Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{Options: []abstractions.RequestOption{noRetry}})
	}
	status, code, _ := odataError(t, throttled)
	if status != http.StatusTooManyRequests || code != "TooManyRequests" {
		t.Fatalf("throttled call: %d %s", status, code)
	}
	var oe *odataerrors.ODataError
	errors.As(throttled, &oe)
	if ra := oe.GetResponseHeaders().Get("Retry-After"); len(ra) != 1 || ra[0] != "1" {
		t.Errorf("Retry-After %v", ra)
	}
	if scope := oe.GetResponseHeaders().Get("x-ms-throttle-scope"); len(scope) != 1 || !strings.HasPrefix(scope[0], "Tenant_Application/ReadWrite/"+sdkAdmin) {
		t.Errorf("x-ms-throttle-scope %v", scope)
	}

	// With the SDK's default retry handler every call succeeds; at least one
	// was answered 429 first and retried after Retry-After.
	before := counter.n.Load()
	start := time.Now()
	for i := 0; i < 5000 && counter.n.Load() == before; i++ {
		if _, err := client.Users().Get(ctx, nil); err != nil {
			t.Fatalf("call %d with retries: %v", i, err)
		}
	}
	if counter.n.Load() == before {
		t.Fatal("never throttled while retrying")
	}
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Errorf("the retry did not wait for Retry-After (%v)", d)
	}
}

// TestSDKBatch sends a JSON batch through msgraph-sdk-go-core's batch
// support: items depend on each other, one fails on its own.
// doc: https://learn.microsoft.com/en-us/graph/json-batching
// doc: https://learn.microsoft.com/en-us/graph/sdks/batch-requests?tabs=go
func TestSDKBatch(t *testing.T) {
	env := newSDKEnv(t)
	ctx := context.Background()
	client, adapter := env.graph(t, env.secretCredential(t, sdkAdmin, sdkSecret), "127.0.0.1")
	created, err := client.Users().Post(ctx, newUser("batcher"), nil)
	if err != nil {
		t.Fatal(err)
	}
	id := deref(created.GetId())

	batch := msgraphcore.NewBatchRequest(adapter)
	patch := models.NewUser()
	patch.SetOnPremisesImmutableId(ptr("QmF0Y2hlcg=="))
	patchInfo, err := client.Users().ByUserId(id).ToPatchRequestInformation(ctx, patch, nil)
	if err != nil {
		t.Fatal(err)
	}
	patchStep, err := batch.AddBatchRequestStep(*patchInfo)
	if err != nil {
		t.Fatal(err)
	}
	getInfo, err := client.Users().ByUserId(id).ToGetRequestInformation(ctx, &users.UserItemRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UserItemRequestBuilderGetQueryParameters{Select: []string{"id", "onPremisesImmutableId"}}})
	if err != nil {
		t.Fatal(err)
	}
	getStep, err := batch.AddBatchRequestStep(*getInfo)
	if err != nil {
		t.Fatal(err)
	}
	getStep.DependsOnItem(patchStep)
	missingInfo, err := client.Users().ByUserId("00000000-0000-4000-8000-0000000000ff").ToGetRequestInformation(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	missingStep, err := batch.AddBatchRequestStep(*missingInfo)
	if err != nil {
		t.Fatal(err)
	}

	resp, err := batch.Send(ctx, adapter)
	if err != nil {
		t.Fatalf("batch: %v", err)
	}
	want := map[string]int32{deref(patchStep.GetId()): 204, deref(getStep.GetId()): 200, deref(missingStep.GetId()): 404}
	if diff := cmp.Diff(want, resp.GetStatusCodes()); diff != "" {
		t.Errorf("item statuses (-want +got):\n%s", diff)
	}
	got, err := msgraphcore.GetBatchResponseById[models.Userable](resp, deref(getStep.GetId()), models.CreateUserFromDiscriminatorValue)
	if err != nil {
		t.Fatalf("reading the GET item: %v", err)
	}
	if deref(got.GetOnPremisesImmutableId()) != "QmF0Y2hlcg==" {
		t.Errorf("the GET item did not see the PATCH it depends on: %v", deref(got.GetOnPremisesImmutableId()))
	}
}
