package admission_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
)

const (
	tenantGUID = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
	clientGUID = "6731de76-14a6-49ae-97bc-6eba6914391e"
	testCA     = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"

	// The Graph page that documents the sync feature flags and their limits.
	featuresDoc = "https://learn.microsoft.com/en-us/graph/api/resources/onpremisesdirectorysynchronizationfeature"
)

func ptrTo[T any](v T) *T { return &v }

func secretKey(name, key string) v1.SecretKeyReference {
	return v1.SecretKeyReference{Name: name, Namespace: "entra-match-system", Key: key}
}

func validTenant() *v1.EntraTenant {
	return &v1.EntraTenant{
		ObjectMeta: metav1.ObjectMeta{Name: "tenant"},
		Spec: v1.EntraTenantSpec{
			TenantID: tenantGUID,
			Credentials: v1.TenantCredentials{
				ClientSecret: &v1.ClientSecretCredential{ClientID: clientGUID, SecretRef: secretKey("app", "client-secret")},
			},
		},
	}
}

func validDirectory() *v1.ActiveDirectory {
	return &v1.ActiveDirectory{
		ObjectMeta: metav1.ObjectMeta{Name: "directory"},
		Spec: v1.ActiveDirectorySpec{
			URLs:   []string{"ldaps://dc1.corp.example.com:636"},
			BaseDN: "DC=corp,DC=example,DC=com",
			Bind: v1.LDAPBind{
				DN:                "CN=svc,OU=Service,DC=corp,DC=example,DC=com",
				PasswordSecretRef: secretKey("bind", "password"),
			},
		},
	}
}

func validUserMatch() *v1.UserMatch {
	return &v1.UserMatch{
		ObjectMeta: metav1.ObjectMeta{Name: "user"},
		Spec: v1.UserMatchSpec{
			TenantRef:    v1.TenantReference{Name: "tenant"},
			DirectoryRef: v1.DirectoryReference{Name: "directory"},
			ADUser:       v1.ADUserSelector{SAMAccountName: "jdoe"},
		},
	}
}

func validSyncFeatures() *v1.TenantSyncFeatures {
	return &v1.TenantSyncFeatures{
		ObjectMeta: metav1.ObjectMeta{Name: "features"},
		Spec: v1.TenantSyncFeaturesSpec{
			TenantRef: v1.TenantReference{Name: "tenant"},
			Features: &v1.SyncFeatureFlags{
				BlockSoftMatchEnabled:                           ptrTo(true),
				BlockCloudObjectTakeoverThroughHardMatchEnabled: ptrTo(true),
			},
		},
	}
}

func window(name string, feature v1.WindowFeature, value bool) v1.MatchingWindow {
	return v1.MatchingWindow{Name: name, Feature: feature, Value: value, Duration: &metav1.Duration{Duration: time.Hour}}
}

// tenant, directory, userMatch and syncFeatures return a valid object changed
// by edit, so each case states only what makes it different.
func tenant(edit func(*v1.EntraTenantSpec)) client.Object {
	o := validTenant()
	edit(&o.Spec)
	return o
}

func directory(edit func(*v1.ActiveDirectorySpec)) client.Object {
	o := validDirectory()
	edit(&o.Spec)
	return o
}

func userMatch(edit func(*v1.UserMatchSpec)) client.Object {
	o := validUserMatch()
	edit(&o.Spec)
	return o
}

func validAlignment() *v1.SignInNameAlignment {
	return &v1.SignInNameAlignment{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1.GroupVersion.String(), Kind: "SignInNameAlignment"},
		ObjectMeta: metav1.ObjectMeta{GenerateName: "staff-"},
		Spec: v1.SignInNameAlignmentSpec{TenantRef: v1.TenantReference{Name: "contoso"}, DirectoryRef: v1.DirectoryReference{Name: "corp"},
			TargetSuffix: "contoso.com", ADSuffixes: []string{"contoso.local"}, CloudSuffixes: []string{"contoso.onmicrosoft.com"}},
	}
}

func alignmentOf(edit func(*v1.SignInNameAlignmentSpec)) client.Object {
	o := validAlignment()
	edit(&o.Spec)
	return o
}

func syncFeatures(edit func(*v1.TenantSyncFeaturesSpec)) client.Object {
	o := validSyncFeatures()
	edit(&o.Spec)
	return o
}

// TestValidObjectsAccepted guards the other tables: a rejection there is only
// meaningful if the unchanged base and the allowed variants are accepted.
func TestValidObjectsAccepted(t *testing.T) {
	tests := []struct {
		name string
		obj  client.Object
	}{
		{"tenant base", validTenant()},
		{"alignment base", validAlignment()},
		{"alignment cloud names only, scoped", alignmentOf(func(s *v1.SignInNameAlignmentSpec) {
			s.ADSuffixes = nil
			s.Scope = &v1.UserScope{BaseDN: "OU=Staff,DC=contoso,DC=local", Filter: "(department=Sales)"}
		})},
		{"tenant custom cloud", tenant(func(s *v1.EntraTenantSpec) {
			s.Cloud = v1.CloudCustom
			s.Custom = &v1.CustomCloud{GraphURL: "https://127.0.0.1:8443", AuthorityURL: "https://127.0.0.1:8444", CABundle: testCA}
		})},
		{"tenant client certificate with tls keys", tenant(func(s *v1.EntraTenantSpec) {
			s.Credentials = v1.TenantCredentials{ClientCertificate: &v1.ClientCertificateCredential{
				ClientID: clientGUID, SecretRef: v1.CertificateSecretReference{Name: "app-cert", Namespace: "entra-match-system"},
			}}
		})},
		{"tenant workload identity", tenant(func(s *v1.EntraTenantSpec) {
			s.Credentials = v1.TenantCredentials{WorkloadIdentity: &v1.WorkloadIdentityCredential{ClientID: clientGUID}}
			s.Delegated = &v1.DelegatedCredentials{SecretRef: secretKey("refresh", "token")}
		})},
		{"directory base", validDirectory()},
		{"directory starttls with UPN bind", directory(func(s *v1.ActiveDirectorySpec) {
			s.URLs = []string{"ldap://dc1.corp.example.com", "ldap://dc2.corp.example.com:389"}
			s.Bind.DN = "svc@corp.example.com"
			s.TLS = &v1.LDAPTLS{Mode: v1.TLSModeStartTLS, CABundle: testCA, ServerName: "corp.example.com"}
		})},
		{"directory confirmed insecure", directory(func(s *v1.ActiveDirectorySpec) {
			s.URLs = []string{"ldap://127.0.0.1:389"}
			s.TLS = &v1.LDAPTLS{Mode: v1.TLSModeInsecure, Insecure: true}
		})},
		{"directory writes consistency guid", directory(func(s *v1.ActiveDirectorySpec) {
			s.AnchorAttribute = v1.AnchorConsistencyGUID
			s.WriteConsistencyGuid = true
		})},
		{"directory declares forest UPN suffixes", directory(func(s *v1.ActiveDirectorySpec) {
			s.ForestUPNSuffixes = &v1.ForestUPNSuffixes{Mode: v1.ModeEnforce, Suffixes: []string{"contoso.com", "Mail.Fabrikam.co.uk"}}
		})},
		{"user match base", validUserMatch()},
		{"user match by objectGUID to objectID", userMatch(func(s *v1.UserMatchSpec) {
			s.ADUser = v1.ADUserSelector{ObjectGUID: "3ab39606-c642-489b-84b6-58c038d3ef39"}
			s.CloudUser = &v1.CloudUserSelector{ObjectID: "a15df3dc-4416-414b-8b7d-5fbdcb5743c1"}
		})},
		{"user match with role hold", userMatch(func(s *v1.UserMatchSpec) {
			s.PrivilegedRoles = v1.PrivilegedRolesRemoveAndRestore
			s.MaxRoleHoldDuration = &metav1.Duration{Duration: 2 * time.Hour}
			s.Duplicates = v1.DuplicatesPurge
			s.DeletionPolicy = v1.UserDeletionClearImmutableID
			s.Mode = v1.ModeObserve
		})},
		{"sync features base", validSyncFeatures()},
		{"sync features with windows and deletion guard", syncFeatures(func(s *v1.TenantSyncFeaturesSpec) {
			s.Features.SoftMatchOnUpnEnabled = ptrTo(true)
			s.AccidentalDeletionPrevention = &v1.AccidentalDeletionPrevention{
				SynchronizationPreventionType: v1.PreventionEnabledForPercentage, AlertThreshold: ptrTo[int32](100),
			}
			s.MatchingWindows = []v1.MatchingWindow{
				window("hard", "blockCloudObjectTakeoverThroughHardMatchEnabled", false),
				{Name: "soft", Feature: "blockSoftMatchEnabled", Value: false, Until: &metav1.Time{Time: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}},
				window("upn", "softMatchOnUpnEnabled", true),
			}
			s.DeletionPolicy = v1.FeatureDeletionRestoreOriginal
		})},
		{"sync features deletion guard disabled", syncFeatures(func(s *v1.TenantSyncFeaturesSpec) {
			s.AccidentalDeletionPrevention = &v1.AccidentalDeletionPrevention{SynchronizationPreventionType: v1.PreventionDisabled}
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := k8sClient.Create(testContext(t), tt.obj, client.DryRunAll); err != nil {
				t.Fatalf("valid object rejected: %v", err)
			}
		})
	}
}

func TestInvalidObjectsRejected(t *testing.T) {
	tests := []struct {
		name string
		obj  client.Object
		want string // part of the error message a person would read
		doc  string // Microsoft page the rule follows, when it follows one
	}{
		// EntraTenant
		{
			name: "tenant ID is a domain name",
			obj:  tenant(func(s *v1.EntraTenantSpec) { s.TenantID = "contoso.onmicrosoft.com" }),
			want: "tenantID must be the tenant's directory ID, a GUID",
		},
		{
			name: "unknown cloud",
			obj:  tenant(func(s *v1.EntraTenantSpec) { s.Cloud = "Germany" }),
			want: `spec.cloud: Unsupported value: "Germany"`,
		},
		{
			name: "custom cloud without endpoints",
			obj:  tenant(func(s *v1.EntraTenantSpec) { s.Cloud = v1.CloudCustom }),
			want: "cloud Custom needs spec.custom with graphURL and authorityURL",
		},
		{
			name: "custom endpoints on the public cloud",
			obj: tenant(func(s *v1.EntraTenantSpec) {
				s.Custom = &v1.CustomCloud{GraphURL: "https://graph.example", AuthorityURL: "https://login.example"}
			}),
			want: "custom may only be set when cloud is Custom",
		},
		{
			name: "custom graph URL over http",
			obj: tenant(func(s *v1.EntraTenantSpec) {
				s.Cloud = v1.CloudCustom
				s.Custom = &v1.CustomCloud{GraphURL: "http://graph.example", AuthorityURL: "https://login.example"}
			}),
			want: "graphURL must be an https:// URL",
		},
		{
			name: "custom CA bundle is not PEM",
			obj: tenant(func(s *v1.EntraTenantSpec) {
				s.Cloud = v1.CloudCustom
				s.Custom = &v1.CustomCloud{GraphURL: "https://graph.example", AuthorityURL: "https://login.example", CABundle: "MIIB"}
			}),
			want: "caBundle must hold PEM-encoded certificates",
		},
		{
			name: "no credentials",
			obj:  tenant(func(s *v1.EntraTenantSpec) { s.Credentials = v1.TenantCredentials{} }),
			want: "credentials must set exactly one of clientSecret, clientCertificate, workloadIdentity",
		},
		{
			name: "two credentials",
			obj: tenant(func(s *v1.EntraTenantSpec) {
				s.Credentials.WorkloadIdentity = &v1.WorkloadIdentityCredential{ClientID: clientGUID}
			}),
			want: "credentials must set exactly one of clientSecret, clientCertificate, workloadIdentity",
		},
		{
			name: "delegated sign-in through an app name",
			obj: tenant(func(s *v1.EntraTenantSpec) {
				s.Delegated = &v1.DelegatedCredentials{ClientID: "entramatch-login",
					SecretRef: v1.SecretKeyReference{Namespace: "ops", Name: "admin-signin", Key: "tokenCache"}}
			}),
			want: "delegated.clientID must be the public client app's application (client) ID",
		},
		{
			name: "client ID is an app name",
			obj:  tenant(func(s *v1.EntraTenantSpec) { s.Credentials.ClientSecret.ClientID = "entra-match" }),
			want: "clientID must be the application (client) ID",
		},
		{
			name: "secret reference without namespace",
			obj:  tenant(func(s *v1.EntraTenantSpec) { s.Credentials.ClientSecret.SecretRef.Namespace = "" }),
			want: "spec.credentials.clientSecret.secretRef.namespace",
		},
		{
			name: "relative workload identity token file",
			obj: tenant(func(s *v1.EntraTenantSpec) {
				s.Credentials = v1.TenantCredentials{WorkloadIdentity: &v1.WorkloadIdentityCredential{ClientID: clientGUID, TokenFile: "token"}}
			}),
			want: "tokenFile must be an absolute path",
		},

		// ActiveDirectory
		{
			name: "no URLs",
			obj:  directory(func(s *v1.ActiveDirectorySpec) { s.URLs = []string{} }),
			want: "spec.urls in body should have at least 1 items",
		},
		{
			name: "URL with a non-LDAP scheme",
			obj:  directory(func(s *v1.ActiveDirectorySpec) { s.URLs = []string{"https://dc1.corp.example.com"} }),
			want: "every url must start with ldaps:// or ldap://",
		},
		{
			name: "plain LDAP URL with the default LDAPS mode",
			obj:  directory(func(s *v1.ActiveDirectorySpec) { s.URLs = []string{"ldap://dc1.corp.example.com"} }),
			want: "urls must all use ldaps:// when tls.mode is LDAPS",
		},
		{
			name: "LDAPS URL with StartTLS",
			obj: directory(func(s *v1.ActiveDirectorySpec) {
				s.TLS = &v1.LDAPTLS{Mode: v1.TLSModeStartTLS}
			}),
			want: "and ldap:// when tls.mode is StartTLS or Insecure",
		},
		{
			name: "mixed URL schemes",
			obj: directory(func(s *v1.ActiveDirectorySpec) {
				s.URLs = []string{"ldaps://dc1.corp.example.com", "ldap://dc2.corp.example.com"}
			}),
			want: "urls must all use ldaps:// when tls.mode is LDAPS",
		},
		{
			name: "insecure mode not confirmed",
			obj: directory(func(s *v1.ActiveDirectorySpec) {
				s.URLs = []string{"ldap://dc1.corp.example.com"}
				s.TLS = &v1.LDAPTLS{Mode: v1.TLSModeInsecure}
			}),
			want: "confirm it with tls.insecure: true",
		},
		{
			name: "insecure flag with LDAPS",
			obj:  directory(func(s *v1.ActiveDirectorySpec) { s.TLS = &v1.LDAPTLS{Mode: v1.TLSModeLDAPS, Insecure: true} }),
			want: "tls.insecure: true is only meaningful with tls.mode Insecure",
		},
		{
			name: "CA bundle with insecure mode",
			obj: directory(func(s *v1.ActiveDirectorySpec) {
				s.URLs = []string{"ldap://dc1.corp.example.com"}
				s.TLS = &v1.LDAPTLS{Mode: v1.TLSModeInsecure, Insecure: true, CABundle: testCA}
			}),
			want: "have no effect with tls.mode Insecure",
		},
		{
			name: "two CA sources",
			obj: directory(func(s *v1.ActiveDirectorySpec) {
				ca := secretKey("ca", "ca.crt")
				s.TLS = &v1.LDAPTLS{CABundle: testCA, CASecretRef: &ca}
			}),
			want: "set at most one of tls.caBundle and tls.caSecretRef",
		},
		{
			name: "unknown anchor attribute",
			obj:  directory(func(s *v1.ActiveDirectorySpec) { s.AnchorAttribute = "employeeID" }),
			want: `spec.anchorAttribute: Unsupported value: "employeeID"`,
		},
		{
			name: "consistency guid written while anchoring on objectGUID",
			obj: directory(func(s *v1.ActiveDirectorySpec) {
				s.AnchorAttribute = v1.AnchorObjectGUID
				s.WriteConsistencyGuid = true
			}),
			want: "writeConsistencyGuid needs anchorAttribute Auto or mS-DS-ConsistencyGuid",
		},
		{
			name: "forest UPN suffix that is not a DNS name",
			obj: directory(func(s *v1.ActiveDirectorySpec) {
				s.ForestUPNSuffixes = &v1.ForestUPNSuffixes{Suffixes: []string{"contoso"}}
			}),
			want: "every suffix must be a DNS name such as contoso.com",
		},
		{
			name: "forest UPN suffix .local",
			obj: directory(func(s *v1.ActiveDirectorySpec) {
				s.ForestUPNSuffixes = &v1.ForestUPNSuffixes{Suffixes: []string{"corp.local"}}
			}),
			want: "a .local or onmicrosoft.com suffix cannot match a verified mail domain",
		},
		{
			name: "forest UPN suffix onmicrosoft.com",
			obj: directory(func(s *v1.ActiveDirectorySpec) {
				s.ForestUPNSuffixes = &v1.ForestUPNSuffixes{Suffixes: []string{"contoso.onmicrosoft.com"}}
			}),
			want: "a .local or onmicrosoft.com suffix cannot match a verified mail domain",
		},
		{
			name: "forest UPN suffixes empty",
			obj: directory(func(s *v1.ActiveDirectorySpec) {
				s.ForestUPNSuffixes = &v1.ForestUPNSuffixes{Suffixes: []string{}}
			}),
			want: "spec.forestUPNSuffixes.suffixes",
		},
		{
			name: "bind account is a bare name",
			obj:  directory(func(s *v1.ActiveDirectorySpec) { s.Bind.DN = "svc-entramatch" }),
			want: "bind.dn must be a distinguished name",
		},
		{
			name: "base DN is a domain name",
			obj:  directory(func(s *v1.ActiveDirectorySpec) { s.BaseDN = "corp.example.com" }),
			want: "baseDN must be a distinguished name",
		},

		// UserMatch
		{
			name: "AD user not identified",
			obj:  userMatch(func(s *v1.UserMatchSpec) { s.ADUser = v1.ADUserSelector{} }),
			want: "adUser must set exactly one of sAMAccountName, userPrincipalName, distinguishedName, objectGUID, mail",
		},
		{
			name: "AD user identified twice",
			obj:  userMatch(func(s *v1.UserMatchSpec) { s.ADUser.Mail = "jane.doe@example.com" }),
			want: "adUser must set exactly one of sAMAccountName, userPrincipalName, distinguishedName, objectGUID, mail",
		},
		{
			name: "AD objectGUID in braces",
			obj: userMatch(func(s *v1.UserMatchSpec) {
				s.ADUser = v1.ADUserSelector{ObjectGUID: "{3ab39606-c642-489b-84b6-58c038d3ef39}"}
			}),
			want: "adUser.objectGUID must be a GUID",
		},
		{
			name: "sAMAccountName longer than AD allows",
			obj:  userMatch(func(s *v1.UserMatchSpec) { s.ADUser.SAMAccountName = "a-very-long-logon-name-x" }),
			want: "spec.adUser.sAMAccountName: Too long",
		},
		{
			name: "cloud user identified twice",
			obj: userMatch(func(s *v1.UserMatchSpec) {
				s.CloudUser = &v1.CloudUserSelector{UserPrincipalName: "jane@example.com", ObjectID: "a15df3dc-4416-414b-8b7d-5fbdcb5743c1"}
			}),
			want: "cloudUser may set at most one of userPrincipalName, objectID",
		},
		{
			name: "role hold without RemoveAndRestore",
			obj: userMatch(func(s *v1.UserMatchSpec) {
				s.MaxRoleHoldDuration = &metav1.Duration{Duration: time.Hour}
			}),
			want: "maxRoleHoldDuration is only used with privilegedRoles RemoveAndRestore",
		},
		{
			name: "zero role hold",
			obj: userMatch(func(s *v1.UserMatchSpec) {
				s.PrivilegedRoles = v1.PrivilegedRolesRemoveAndRestore
				s.MaxRoleHoldDuration = &metav1.Duration{}
			}),
			want: "maxRoleHoldDuration must be positive",
		},
		{
			name: "unknown mode",
			obj:  userMatch(func(s *v1.UserMatchSpec) { s.Mode = "DryRun" }),
			want: `spec.mode: Unsupported value: "DryRun"`,
		},
		{
			name: "unknown duplicates policy",
			obj:  userMatch(func(s *v1.UserMatchSpec) { s.Duplicates = "Merge" }),
			want: `spec.duplicates: Unsupported value: "Merge"`,
		},

		// TenantSyncFeatures
		{
			name: "soft match on UPN turned off",
			obj:  syncFeatures(func(s *v1.TenantSyncFeaturesSpec) { s.Features.SoftMatchOnUpnEnabled = ptrTo(false) }),
			want: "softMatchOnUpnEnabled cannot be turned off once enabled in Microsoft Entra ID",
			doc:  featuresDoc,
		},
		{
			name: "UPN sync for managed users turned off",
			obj: syncFeatures(func(s *v1.TenantSyncFeaturesSpec) {
				s.Features.SynchronizeUpnForManagedUsersEnabled = ptrTo(false)
			}),
			want: "synchronizeUpnForManagedUsersEnabled cannot be turned off once enabled in Microsoft Entra ID",
			doc:  featuresDoc,
		},
		{
			name: "password writeback set",
			obj:  syncFeatures(func(s *v1.TenantSyncFeaturesSpec) { s.Features.PasswordWritebackEnabled = ptrTo(true) }),
			want: "passwordWritebackEnabled is not updatable",
			doc:  featuresDoc,
		},
		{
			name: "window with both until and duration",
			obj: syncFeatures(func(s *v1.TenantSyncFeaturesSpec) {
				w := window("w", "blockSoftMatchEnabled", false)
				w.Until = &metav1.Time{Time: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
				s.MatchingWindows = []v1.MatchingWindow{w}
			}),
			want: "a matching window must set exactly one of until and duration",
		},
		{
			name: "window without an end",
			obj: syncFeatures(func(s *v1.TenantSyncFeaturesSpec) {
				s.MatchingWindows = []v1.MatchingWindow{{Name: "w", Feature: "blockSoftMatchEnabled", Value: false}}
			}),
			want: "a matching window must set exactly one of until and duration",
		},
		{
			name: "window with negative duration",
			obj: syncFeatures(func(s *v1.TenantSyncFeaturesSpec) {
				w := window("w", "blockSoftMatchEnabled", false)
				w.Duration = &metav1.Duration{Duration: -time.Hour}
				s.MatchingWindows = []v1.MatchingWindow{w}
			}),
			want: "duration must be positive",
		},
		{
			name: "window on password writeback",
			obj: syncFeatures(func(s *v1.TenantSyncFeaturesSpec) {
				s.MatchingWindows = []v1.MatchingWindow{window("w", "passwordWritebackEnabled", true)}
			}),
			want: `Unsupported value: "passwordWritebackEnabled"`,
			doc:  featuresDoc,
		},
		{
			name: "window turning soft match on UPN off",
			obj: syncFeatures(func(s *v1.TenantSyncFeaturesSpec) {
				s.MatchingWindows = []v1.MatchingWindow{window("w", "softMatchOnUpnEnabled", false)}
			}),
			want: "cannot be turned off once enabled in Microsoft Entra ID; a window can only set them to true",
			doc:  featuresDoc,
		},
		{
			name: "two windows on one feature",
			obj: syncFeatures(func(s *v1.TenantSyncFeaturesSpec) {
				s.MatchingWindows = []v1.MatchingWindow{
					window("a", "blockSoftMatchEnabled", false),
					window("b", "blockSoftMatchEnabled", true),
				}
			}),
			want: "at most one matching window per feature",
		},
		{
			name: "two windows with one name",
			obj: syncFeatures(func(s *v1.TenantSyncFeaturesSpec) {
				s.MatchingWindows = []v1.MatchingWindow{
					window("a", "blockSoftMatchEnabled", false),
					window("a", "blockCloudObjectTakeoverThroughHardMatchEnabled", false),
				}
			}),
			want: "Duplicate value",
		},
		{
			name: "deletion guard without threshold",
			obj: syncFeatures(func(s *v1.TenantSyncFeaturesSpec) {
				s.AccidentalDeletionPrevention = &v1.AccidentalDeletionPrevention{SynchronizationPreventionType: v1.PreventionEnabledForCount}
			}),
			want: "alertThreshold is required when synchronizationPreventionType is enabledForCount or enabledForPercentage",
		},
		{
			name: "deletion guard above 100 percent",
			obj: syncFeatures(func(s *v1.TenantSyncFeaturesSpec) {
				s.AccidentalDeletionPrevention = &v1.AccidentalDeletionPrevention{
					SynchronizationPreventionType: v1.PreventionEnabledForPercentage, AlertThreshold: ptrTo[int32](150),
				}
			}),
			want: "cannot exceed 100",
		},
		{
			name: "unknown deletion policy",
			obj:  syncFeatures(func(s *v1.TenantSyncFeaturesSpec) { s.DeletionPolicy = "Revert" }),
			want: `spec.deletionPolicy: Unsupported value: "Revert"`,
		},

		// UserMatchSet
		{
			name: "set pairing rule with two kinds",
			obj: &v1.UserMatchSet{TypeMeta: metav1.TypeMeta{APIVersion: v1.GroupVersion.String(), Kind: "UserMatchSet"}, ObjectMeta: metav1.ObjectMeta{GenerateName: "set-"},
				Spec: v1.UserMatchSetSpec{TenantRef: v1.TenantReference{Name: "contoso"}, DirectoryRef: v1.DirectoryReference{Name: "corp"},
					Pairing: []v1.PairingRule{{SameUPN: &v1.SameUPNRule{}, Mail: &v1.MailRule{}}}}},
			want: "a pairing rule sets exactly one of sameUPN, upnSuffix, mail",
		},
		{
			name: "set without pairing rules",
			obj: &v1.UserMatchSet{TypeMeta: metav1.TypeMeta{APIVersion: v1.GroupVersion.String(), Kind: "UserMatchSet"}, ObjectMeta: metav1.ObjectMeta{GenerateName: "set-"},
				Spec: v1.UserMatchSetSpec{TenantRef: v1.TenantReference{Name: "contoso"}, DirectoryRef: v1.DirectoryReference{Name: "corp"}}},
			want: "set pairing rules (e.g. sameUPN: {}) or pairs",
		},

		// SyncPlan
		{
			name: "plan interval too short",
			obj: &v1.SyncPlan{TypeMeta: metav1.TypeMeta{APIVersion: v1.GroupVersion.String(), Kind: "SyncPlan"}, ObjectMeta: metav1.ObjectMeta{GenerateName: "plan-"},
				Spec: v1.SyncPlanSpec{TenantRef: v1.TenantReference{Name: "contoso"}, DirectoryRef: v1.DirectoryReference{Name: "corp"},
					Interval: &metav1.Duration{Duration: time.Minute}}},
			want: "interval must be between 5m and 168h",
		},
		{
			name: "plan base not a DN",
			obj: &v1.SyncPlan{TypeMeta: metav1.TypeMeta{APIVersion: v1.GroupVersion.String(), Kind: "SyncPlan"}, ObjectMeta: metav1.ObjectMeta{GenerateName: "plan-"},
				Spec: v1.SyncPlanSpec{TenantRef: v1.TenantReference{Name: "contoso"}, DirectoryRef: v1.DirectoryReference{Name: "corp"},
					Scope: &v1.PlanScope{BaseDNs: []string{"Staff"}}}},
			want: "every scope.baseDNs entry must be a DN",
		},
		{
			name: "plan unknown kind",
			obj: &v1.SyncPlan{TypeMeta: metav1.TypeMeta{APIVersion: v1.GroupVersion.String(), Kind: "SyncPlan"}, ObjectMeta: metav1.ObjectMeta{GenerateName: "plan-"},
				Spec: v1.SyncPlanSpec{TenantRef: v1.TenantReference{Name: "contoso"}, DirectoryRef: v1.DirectoryReference{Name: "corp"},
					Scope: &v1.PlanScope{Kinds: []v1.ObjectKind{"device"}}}},
			want: `Unsupported value: "device"`,
		},

		// SignInNameAlignment
		{
			name: "alignment moves nothing",
			obj:  alignmentOf(func(s *v1.SignInNameAlignmentSpec) { s.ADSuffixes, s.CloudSuffixes = nil, nil }),
			want: "set adSuffixes (AD logon names to move, e.g. contoso.local) or cloudSuffixes",
		},
		{
			name: "alignment target also a source",
			obj:  alignmentOf(func(s *v1.SignInNameAlignmentSpec) { s.CloudSuffixes = []string{"Contoso.com"} }),
			want: "targetSuffix must not also be listed in adSuffixes or cloudSuffixes",
		},
		{
			name: "alignment target with @",
			obj:  alignmentOf(func(s *v1.SignInNameAlignmentSpec) { s.TargetSuffix = "@contoso.com" }),
			want: "targetSuffix must be a domain name such as contoso.com, without @",
		},
		{
			name: "alignment filter without parentheses",
			obj:  alignmentOf(func(s *v1.SignInNameAlignmentSpec) { s.Scope = &v1.UserScope{Filter: "department=Sales"} }),
			want: "scope.filter must be an LDAP filter in parentheses",
		},
		{
			name: "alignment base not a DN",
			obj:  alignmentOf(func(s *v1.SignInNameAlignmentSpec) { s.Scope = &v1.UserScope{BaseDN: "Staff"} }),
			want: "scope.baseDN must be a DN such as OU=Staff,DC=contoso,DC=local",
		},
		{
			name: "alignment writes too fast",
			obj:  alignmentOf(func(s *v1.SignInNameAlignmentSpec) { s.WritesPerMinute = 1000 }),
			want: "spec.writesPerMinute: Invalid value",
		},
		{
			name: "alignment unknown deletion policy",
			obj:  alignmentOf(func(s *v1.SignInNameAlignmentSpec) { s.DeletionPolicy = "Revert" }),
			want: `spec.deletionPolicy: Unsupported value: "Revert"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := k8sClient.Create(testContext(t), tt.obj, client.DryRunAll)
			expectInvalid(t, err, tt.want, tt.doc)
		})
	}
}

func expectInvalid(t *testing.T, err error, want, doc string) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted; want a rejection containing %q (doc: %s)", want, doc)
	}
	if !apierrors.IsInvalid(err) {
		t.Fatalf("error is not Invalid (422): %v", err)
	}
	t.Logf("rejected as expected: %v", err)
	if !strings.Contains(err.Error(), want) {
		t.Errorf("rejection does not say %q:\n%v", want, err)
	}
}

func TestImmutableFields(t *testing.T) {
	tests := []struct {
		name   string
		create client.Object
		update func(client.Object)
		want   string
	}{
		{
			name:   "user match tenant",
			create: validUserMatch(),
			update: func(o client.Object) { o.(*v1.UserMatch).Spec.TenantRef.Name = "other" },
			want:   "tenantRef is immutable",
		},
		{
			name:   "user match directory",
			create: validUserMatch(),
			update: func(o client.Object) { o.(*v1.UserMatch).Spec.DirectoryRef.Name = "other" },
			want:   "directoryRef is immutable",
		},
		{
			name:   "user match AD user",
			create: validUserMatch(),
			update: func(o client.Object) { o.(*v1.UserMatch).Spec.ADUser.SAMAccountName = "jsmith" },
			want:   "adUser is immutable",
		},
		{
			name:   "user match cloud user added",
			create: validUserMatch(),
			update: func(o client.Object) {
				o.(*v1.UserMatch).Spec.CloudUser = &v1.CloudUserSelector{UserPrincipalName: "jane@example.com"}
			},
			want: "cloudUser is immutable",
		},
		{
			name: "user match cloud user changed",
			create: userMatch(func(s *v1.UserMatchSpec) {
				s.CloudUser = &v1.CloudUserSelector{UserPrincipalName: "jane@example.com"}
			}),
			update: func(o client.Object) { o.(*v1.UserMatch).Spec.CloudUser.UserPrincipalName = "john@example.com" },
			want:   "cloudUser is immutable",
		},
		{
			name: "user match cloud user removed",
			create: userMatch(func(s *v1.UserMatchSpec) {
				s.CloudUser = &v1.CloudUserSelector{UserPrincipalName: "jane@example.com"}
			}),
			update: func(o client.Object) { o.(*v1.UserMatch).Spec.CloudUser = nil },
			want:   "cloudUser is immutable",
		},
		{
			name:   "sync features tenant",
			create: validSyncFeatures(),
			update: func(o client.Object) { o.(*v1.TenantSyncFeatures).Spec.TenantRef.Name = "other" },
			want:   "tenantRef is immutable",
		},
		{
			name:   "user match role hold attempt lowered",
			create: userMatch(func(s *v1.UserMatchSpec) { s.RoleHoldAttempt = 2 }),
			update: func(o client.Object) { o.(*v1.UserMatch).Spec.RoleHoldAttempt = 1 },
			want:   "roleHoldAttempt can only be raised",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			obj := tt.create
			if err := k8sClient.Create(ctx, obj); err != nil {
				t.Fatalf("creating: %v", err)
			}
			deleteOnCleanup(t, obj)
			tt.update(obj)
			err := k8sClient.Update(ctx, obj, client.DryRunAll)
			expectInvalid(t, err, tt.want, "")
		})
	}
}

// TestMutableFieldsUpdate checks that the immutability rules do not freeze
// the fields meant to change.
func TestMutableFieldsUpdate(t *testing.T) {
	tests := []struct {
		name   string
		create client.Object
		update func(client.Object)
	}{
		{
			name:   "user match policies",
			create: validUserMatch(),
			update: func(o client.Object) {
				s := &o.(*v1.UserMatch).Spec
				s.Mode = v1.ModeObserve
				s.PrivilegedRoles = v1.PrivilegedRolesRemoveAndRestore
				s.MaxRoleHoldDuration = &metav1.Duration{Duration: time.Hour}
				s.Duplicates = v1.DuplicatesDelete
			},
		},
		{
			name:   "sync features window opened",
			create: validSyncFeatures(),
			update: func(o client.Object) {
				s := &o.(*v1.TenantSyncFeatures).Spec
				s.MatchingWindows = []v1.MatchingWindow{window("w", "blockSoftMatchEnabled", false)}
			},
		},
		{
			name:   "tenant credentials rotated to a certificate",
			create: validTenant(),
			update: func(o client.Object) {
				o.(*v1.EntraTenant).Spec.Credentials = v1.TenantCredentials{ClientCertificate: &v1.ClientCertificateCredential{
					ClientID: clientGUID, SecretRef: v1.CertificateSecretReference{Name: "app-cert", Namespace: "entra-match-system", Key: "bundle.pem"},
				}}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			obj := tt.create
			if err := k8sClient.Create(ctx, obj); err != nil {
				t.Fatalf("creating: %v", err)
			}
			deleteOnCleanup(t, obj)
			tt.update(obj)
			if err := k8sClient.Update(ctx, obj, client.DryRunAll); err != nil {
				t.Fatalf("update rejected: %v", err)
			}
		})
	}
}

// TestDefaults checks the defaults a minimal object gets, which controllers
// rely on instead of repeating them.
func TestDefaults(t *testing.T) {
	ctx := testContext(t)

	tn := validTenant()
	tn.Spec.Credentials = v1.TenantCredentials{WorkloadIdentity: &v1.WorkloadIdentityCredential{ClientID: clientGUID}}
	if err := k8sClient.Create(ctx, tn, client.DryRunAll); err != nil {
		t.Fatalf("creating tenant: %v", err)
	}
	wantTenant := v1.EntraTenantSpec{
		TenantID: tenantGUID,
		Cloud:    v1.CloudPublic,
		Credentials: v1.TenantCredentials{WorkloadIdentity: &v1.WorkloadIdentityCredential{
			ClientID: clientGUID, TokenFile: "/var/run/secrets/azure/tokens/azure-identity-token",
		}},
	}
	if diff := cmp.Diff(wantTenant, tn.Spec); diff != "" {
		t.Errorf("tenant defaults (-want +got):\n%s", diff)
	}

	dir := validDirectory()
	if err := k8sClient.Create(ctx, dir, client.DryRunAll); err != nil {
		t.Fatalf("creating directory: %v", err)
	}
	wantDir := validDirectory().Spec
	wantDir.TLS = &v1.LDAPTLS{Mode: v1.TLSModeLDAPS}
	wantDir.AnchorAttribute = v1.AnchorAuto
	if diff := cmp.Diff(wantDir, dir.Spec); diff != "" {
		t.Errorf("directory defaults (-want +got):\n%s", diff)
	}

	sa := validAlignment()
	if err := k8sClient.Create(ctx, sa, client.DryRunAll); err != nil {
		t.Fatalf("creating alignment: %v", err)
	}
	wantSA := validAlignment().Spec
	wantSA.Mode, wantSA.WritesPerMinute, wantSA.DeletionPolicy = v1.ModeObserve, 30, v1.AlignmentDeletionKeep
	if diff := cmp.Diff(wantSA, sa.Spec); diff != "" {
		t.Errorf("alignment defaults (-want +got):\n%s", diff)
	}

	um := validUserMatch()
	if err := k8sClient.Create(ctx, um, client.DryRunAll); err != nil {
		t.Fatalf("creating user match: %v", err)
	}
	wantUM := validUserMatch().Spec
	wantUM.Mode = v1.ModeEnforce
	wantUM.DeletionPolicy = v1.UserDeletionOrphan
	wantUM.PrivilegedRoles = v1.PrivilegedRolesRefuse
	wantUM.Duplicates = v1.DuplicatesReport
	if diff := cmp.Diff(wantUM, um.Spec); diff != "" {
		t.Errorf("user match defaults (-want +got):\n%s", diff)
	}

	sf := validSyncFeatures()
	if err := k8sClient.Create(ctx, sf, client.DryRunAll); err != nil {
		t.Fatalf("creating sync features: %v", err)
	}
	wantSF := validSyncFeatures().Spec
	wantSF.Mode = v1.ModeEnforce
	wantSF.DeletionPolicy = v1.FeatureDeletionLeave
	if diff := cmp.Diff(wantSF, sf.Spec); diff != "" {
		t.Errorf("sync features defaults (-want +got):\n%s", diff)
	}
}

// TestStatusTakesWhatSpecRefuses: the spec rules on feature flags must not
// stop the controller from reporting the tenant's real values, which may
// include softMatchOnUpnEnabled false and passwordWritebackEnabled.
func TestStatusTakesWhatSpecRefuses(t *testing.T) {
	ctx := testContext(t)
	sf := validSyncFeatures()
	if err := k8sClient.Create(ctx, sf); err != nil {
		t.Fatalf("creating: %v", err)
	}
	deleteOnCleanup(t, sf)

	now := metav1.NewTime(time.Now().Truncate(time.Second))
	observed := &v1.SyncFeatureFlags{
		SoftMatchOnUpnEnabled:                ptrTo(false),
		SynchronizeUpnForManagedUsersEnabled: ptrTo(false),
		PasswordWritebackEnabled:             ptrTo(false),
		BlockSoftMatchEnabled:                ptrTo(false),
	}
	sf.Status = v1.TenantSyncFeaturesStatus{
		ObservedGeneration: sf.Generation,
		Observed:           observed,
		Original:           observed.DeepCopy(),
		ObservedAccidentalDeletionPrevention: &v1.ObservedAccidentalDeletionPrevention{
			SynchronizationPreventionType: "unknownFutureValue", AlertThreshold: ptrTo[int32](0),
		},
		Differences: []v1.FeatureDifference{
			{Feature: v1.FeatureBlockSoftMatch, Desired: true, Actual: ptrTo(false)},
		},
		Windows: []v1.WindowStatus{
			{Name: "w", Feature: v1.FeatureBlockSoftMatch, Value: false, State: v1.WindowPending},
		},
		Conditions: []metav1.Condition{{
			Type: v1.ConditionReady, Status: metav1.ConditionFalse, Reason: v1.ReasonDrifted,
			Message: "blockSoftMatchEnabled is false, want true", LastTransitionTime: now,
		}},
	}
	want := sf.Status.DeepCopy()
	if err := k8sClient.Status().Update(ctx, sf); err != nil {
		t.Fatalf("status update rejected: %v", err)
	}
	got := &v1.TenantSyncFeatures{}
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(sf), got); err != nil {
		t.Fatalf("reading back: %v", err)
	}
	if diff := cmp.Diff(*want, got.Status); diff != "" {
		t.Errorf("status round trip (-want +got):\n%s", diff)
	}
}

// A UserMatchSet's scope can only change in Observe: in Enforce, a new
// scope would create UserMatches no one reviewed.
func TestUserMatchSetScopeChangesOnlyInObserve(t *testing.T) {
	ctx := testContext(t)
	set := &v1.UserMatchSet{TypeMeta: metav1.TypeMeta{APIVersion: v1.GroupVersion.String(), Kind: "UserMatchSet"}, ObjectMeta: metav1.ObjectMeta{Name: "scoped"},
		Spec: v1.UserMatchSetSpec{TenantRef: v1.TenantReference{Name: "contoso"}, DirectoryRef: v1.DirectoryReference{Name: "corp"},
			Pairing: []v1.PairingRule{{SameUPN: &v1.SameUPNRule{}}}, Mode: v1.ModeEnforce,
			Scope: &v1.UserScope{BaseDN: "OU=Wave1,DC=corp,DC=local"}}}
	if err := k8sClient.Create(ctx, set); err != nil {
		t.Fatal(err)
	}
	deleteOnCleanup(t, set)
	set.Spec.Scope.BaseDN = "OU=Wave2,DC=corp,DC=local"
	expectInvalid(t, k8sClient.Update(ctx, set), "scope can only change in Observe", "")
	set.Spec.Mode = v1.ModeObserve
	if err := k8sClient.Update(ctx, set); err != nil {
		t.Fatalf("in Observe the scope may change: %v", err)
	}
}
