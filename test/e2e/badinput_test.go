package e2e_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/emulator"
	"github.com/entramatch/entra-match-operator/internal/testenv/samba"
)

// Hostile and broken input that admission lets through: each case names
// the condition reason a person sees, and checks that nothing was written
// (the cloud user's immutableId and roles, and its AD twin, unchanged).
// Every field of a resource is untrusted: Secret references, endpoints,
// CAs, token files, selectors, forged status, conflicting claims, and
// servers that are unreachable or not what they claim to be.
func TestBadInput(t *testing.T) {
	w := env(t)
	otherCA := pemOfNewCA(t)
	htmlServer := httptest.NewTLSServer(http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) {
		rw.Header().Set("Content-Type", "text/html")
		rw.WriteHeader(http.StatusNotFound)
		_, _ = rw.Write([]byte("<html><body>portal</body></html>"))
	}))
	t.Cleanup(htmlServer.Close)
	htmlCA := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: htmlServer.Certificate().Raw}))
	closed := closedPort(t)
	tokenDir := filepath.Dir(w.tokenFile)
	apiServerToken := filepath.Join(tokenDir, "api-server-token")
	if err := os.WriteFile(apiServerToken, []byte(fakeJWT("https://kubernetes.default.svc")), 0o600); err != nil {
		t.Fatal(err)
	}

	secretRef := func(ns, name, key string) identityv1alpha1.SecretKeyReference {
		return identityv1alpha1.SecretKeyReference{Namespace: ns, Name: name, Key: key}
	}
	tenant := func(mut func(*identityv1alpha1.EntraTenantSpec)) func(string) client.Object {
		return func(name string) client.Object {
			et := w.tenant(name, "entra-app")
			mut(&et.Spec)
			return et
		}
	}
	directory := func(mut func(*identityv1alpha1.ActiveDirectorySpec)) func(string) client.Object {
		return func(name string) client.Object {
			ad := w.directory(name, "ad-bind")
			mut(&ad.Spec)
			return ad
		}
	}
	custom := func(graph, authority, ca string) func(*identityv1alpha1.EntraTenantSpec) {
		return func(s *identityv1alpha1.EntraTenantSpec) {
			s.Custom = &identityv1alpha1.CustomCloud{GraphURL: graph, AuthorityURL: authority, CABundle: ca}
		}
	}
	emCA := string(w.em.CACertPEM())

	// Kinds that refer to others: the case names the EntraTenant or
	// ActiveDirectory it creates, and the resource to watch.
	type badCase struct {
		name   string
		kind   string // EntraTenant, ActiveDirectory, UserMatch, TenantSyncFeatures
		cond   string // condition to read; Ready when empty
		reason string
		// object builds the resource named name (EntraTenant, ActiveDirectory
		// or TenantSyncFeatures cases).
		object func(name string) client.Object
		// userMatch sets up a UserMatch case: it gets the case's twin and
		// edits the spec; extra runs after the UserMatch exists.
		cloud     func(*emulator.User)
		before    func(t *testing.T, tw twin)
		userMatch func(s *identityv1alpha1.UserMatchSpec, tw twin)
		after     func(t *testing.T, name string, tw twin)
		// unchanged lists what must be as it was: "immutableId", "roles".
		keepRoles int
	}
	cases := []badCase{
		// EntraTenant: Secrets, endpoints, CAs, token files.
		{name: "tenant secret in kube-system", kind: "EntraTenant", reason: identityv1alpha1.ReasonSecretNotAllowed,
			object: tenant(func(s *identityv1alpha1.EntraTenantSpec) {
				s.Credentials.ClientSecret.SecretRef = secretRef("kube-system", "admin", "token")
			})},
		{name: "tenant secret in default", kind: "EntraTenant", reason: identityv1alpha1.ReasonSecretNotAllowed,
			object: tenant(func(s *identityv1alpha1.EntraTenantSpec) {
				s.Credentials.ClientSecret.SecretRef = secretRef("default", "entra-app", "clientSecret")
			})},
		{name: "tenant secret missing", kind: "EntraTenant", reason: identityv1alpha1.ReasonSecretNotFound,
			object: tenant(func(s *identityv1alpha1.EntraTenantSpec) {
				s.Credentials.ClientSecret.SecretRef = secretRef(ns, "no-such-secret", "x")
			})},
		{name: "tenant secret key missing", kind: "EntraTenant", reason: identityv1alpha1.ReasonSecretNotFound,
			object: tenant(func(s *identityv1alpha1.EntraTenantSpec) {
				s.Credentials.ClientSecret.SecretRef = secretRef(ns, "entra-app", "nope")
			})},
		{name: "certificate secret in another namespace", kind: "EntraTenant", reason: identityv1alpha1.ReasonSecretNotAllowed,
			object: tenant(func(s *identityv1alpha1.EntraTenantSpec) {
				s.Credentials.ClientSecret = nil
				s.Credentials.ClientCertificate = &identityv1alpha1.ClientCertificateCredential{ClientID: clientID,
					SecretRef: identityv1alpha1.CertificateSecretReference{Namespace: "kube-system", Name: "tls"}}
			})},
		{name: "graph URL names the beta version", kind: "EntraTenant", reason: identityv1alpha1.ReasonWrongEndpoint,
			object: tenant(custom(w.em.URL()+"/beta", w.em.URL(), emCA))},
		{name: "graph URL names another version", kind: "EntraTenant", reason: identityv1alpha1.ReasonWrongEndpoint,
			object: tenant(custom(w.em.URL()+"/v2.0", w.em.URL(), emCA))},
		{name: "foreign graph host with Microsoft's authority", kind: "EntraTenant", reason: identityv1alpha1.ReasonWrongEndpoint,
			object: tenant(custom("https://graph.attacker.example", "https://login.microsoftonline.com", ""))},
		// The authority issues tokens only for the hosts it serves: asked for
		// a token for another Graph host, it refuses (AADSTS500011), so no
		// token ever reaches that host.
		{name: "graph host the authority does not serve (a web page)", kind: "EntraTenant", reason: identityv1alpha1.ReasonInvalidCredentials,
			object: tenant(func(s *identityv1alpha1.EntraTenantSpec) {
				s.Custom = &identityv1alpha1.CustomCloud{GraphURL: htmlServer.URL, AuthorityURL: w.em.URL(), CABundle: emCA + htmlCA}
			})},
		{name: "graph host the authority does not serve (closed port)", kind: "EntraTenant", reason: identityv1alpha1.ReasonInvalidCredentials,
			object: tenant(custom("https://"+closed, w.em.URL(), emCA))},
		{name: "authority unreachable", kind: "EntraTenant", reason: identityv1alpha1.ReasonUnreachable,
			object: tenant(custom(w.em.URL(), "https://"+closed, emCA))},
		{name: "CA that does not sign the endpoints", kind: "EntraTenant", reason: identityv1alpha1.ReasonUnreachable,
			object: tenant(custom(w.em.URL(), w.em.URL(), otherCA))},
		{name: "token file is the service account's", kind: "EntraTenant", reason: identityv1alpha1.ReasonSecretNotAllowed,
			object: tenant(func(s *identityv1alpha1.EntraTenantSpec) {
				s.Credentials.ClientSecret = nil
				s.Credentials.WorkloadIdentity = &identityv1alpha1.WorkloadIdentityCredential{ClientID: wiClientID,
					TokenFile: "/var/run/secrets/kubernetes.io/serviceaccount/token"}
			})},
		{name: "token file outside the allowed directories", kind: "EntraTenant", reason: identityv1alpha1.ReasonSecretNotAllowed,
			object: tenant(func(s *identityv1alpha1.EntraTenantSpec) {
				s.Credentials.ClientSecret = nil
				s.Credentials.WorkloadIdentity = &identityv1alpha1.WorkloadIdentityCredential{ClientID: wiClientID, TokenFile: "/etc/hostname"}
			})},
		{name: "token file for the API server, not for federation", kind: "EntraTenant", reason: identityv1alpha1.ReasonSecretNotAllowed,
			object: tenant(func(s *identityv1alpha1.EntraTenantSpec) {
				s.Credentials.ClientSecret = nil
				s.Credentials.WorkloadIdentity = &identityv1alpha1.WorkloadIdentityCredential{ClientID: wiClientID, TokenFile: apiServerToken}
			})},
		{name: "delegated sign-in in another namespace", kind: "EntraTenant", cond: identityv1alpha1.ConditionDelegatedSignIn,
			reason: identityv1alpha1.ReasonSecretNotAllowed,
			object: tenant(func(s *identityv1alpha1.EntraTenantSpec) {
				s.Delegated = &identityv1alpha1.DelegatedCredentials{SecretRef: secretRef("kube-system", "signin", "tokenCache")}
			})},

		// ActiveDirectory.
		{name: "bind secret in another namespace", kind: "ActiveDirectory", reason: identityv1alpha1.ReasonSecretNotAllowed,
			object: directory(func(s *identityv1alpha1.ActiveDirectorySpec) {
				s.Bind.PasswordSecretRef = secretRef("kube-system", "ad", "password")
			})},
		{name: "CA secret in another namespace", kind: "ActiveDirectory", reason: identityv1alpha1.ReasonSecretNotAllowed,
			object: directory(func(s *identityv1alpha1.ActiveDirectorySpec) {
				s.TLS.CABundle = ""
				s.TLS.CASecretRef = &identityv1alpha1.SecretKeyReference{Namespace: "default", Name: "ca", Key: "ca.crt"}
			})},
		{name: "LDAP server unreachable", kind: "ActiveDirectory", reason: identityv1alpha1.ReasonUnreachable,
			object: directory(func(s *identityv1alpha1.ActiveDirectorySpec) { s.URLs = []string{"ldaps://" + closed} })},
		{name: "wrong bind password", kind: "ActiveDirectory", reason: identityv1alpha1.ReasonInvalidCredentials,
			object: directory(func(s *identityv1alpha1.ActiveDirectorySpec) {
				s.Bind.PasswordSecretRef = secretRef(ns, "wrong-bind", "password")
			})},
		{name: "CA that does not sign the DC", kind: "ActiveDirectory", reason: identityv1alpha1.ReasonTLSError,
			object: directory(func(s *identityv1alpha1.ActiveDirectorySpec) { s.TLS.CABundle = otherCA })},

		// UserMatch: references, selectors, conflicts, forged status.
		{name: "tenant does not exist", kind: "UserMatch", reason: identityv1alpha1.ReasonTenantNotReady,
			userMatch: func(s *identityv1alpha1.UserMatchSpec, _ twin) { s.TenantRef.Name = "no-such-tenant" }},
		{name: "directory does not exist", kind: "UserMatch", reason: identityv1alpha1.ReasonDirectoryNotReady,
			userMatch: func(s *identityv1alpha1.UserMatchSpec, _ twin) { s.DirectoryRef.Name = "no-such-directory" }},
		{name: "tenant whose Secret is not allowed", kind: "UserMatch", reason: identityv1alpha1.ReasonSecretNotAllowed,
			before: func(t *testing.T, tw twin) {
				et := w.tenant("hostile-"+strings.ToLower(tw.sam), "entra-app")
				et.Spec.Credentials.ClientSecret.SecretRef = secretRef("kube-system", "admin", "token")
				w.create(t, et)
			},
			userMatch: func(s *identityv1alpha1.UserMatchSpec, tw twin) {
				s.TenantRef.Name = "hostile-" + strings.ToLower(tw.sam)
			}},
		{name: "AD user does not exist", kind: "UserMatch", reason: identityv1alpha1.ReasonADUserNotFound,
			userMatch: func(s *identityv1alpha1.UserMatchSpec, _ twin) {
				s.ADUser = identityv1alpha1.ADUserSelector{SAMAccountName: "nosuchuser"}
			}},
		{name: "LDAP wildcard in the UPN", kind: "UserMatch", reason: identityv1alpha1.ReasonADUserNotFound,
			userMatch: func(s *identityv1alpha1.UserMatchSpec, tw twin) {
				s.ADUser = identityv1alpha1.ADUserSelector{UserPrincipalName: "*@" + w.dc.DNSDomain}
			}},
		{name: "cloud user does not exist", kind: "UserMatch", reason: identityv1alpha1.ReasonCloudUserNotFound,
			userMatch: func(s *identityv1alpha1.UserMatchSpec, _ twin) {
				s.CloudUser = &identityv1alpha1.CloudUserSelector{UserPrincipalName: "nobody-" + uuid.NewString()[:8] + "@" + w.dc.DNSDomain}
			}},
		{name: "privileged role, policy Refuse", kind: "UserMatch", reason: identityv1alpha1.ReasonPrivilegedRole, keepRoles: 1,
			before: func(t *testing.T, tw twin) { w.addRole(t, tw.cloudID, roleGlobalAdmin, false) }},
		{name: "PIM-eligible privileged role, policy Refuse", kind: "UserMatch", reason: identityv1alpha1.ReasonPrivilegedRole, keepRoles: 1,
			before: func(t *testing.T, tw twin) { w.addRole(t, tw.cloudID, roleGlobalAdmin, true) }},
		{name: "custom role counts as privileged", kind: "UserMatch", reason: identityv1alpha1.ReasonPrivilegedRole, keepRoles: 1,
			before: func(t *testing.T, tw twin) {
				def := uuid.NewString()
				if err := w.em.Update(func(s *emulator.Snapshot) error {
					s.RoleDefinitions = append(s.RoleDefinitions, emulator.RoleDefinition{ID: def, TemplateID: def,
						DisplayName: "Custom Helpdesk " + def[:6], IsEnabled: true})
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				w.addRole(t, tw.cloudID, def, false)
			}},
		{name: "synced with another anchor", kind: "UserMatch", reason: identityv1alpha1.ReasonSyncedFromOtherAnchor,
			cloud: func(u *emulator.User) {
				u.OnPremisesImmutableID = ptr("c3luY2VkLWVsc2V3aGVyZQ==")
				u.OnPremisesSyncEnabled = ptr(true)
			}},
		{name: "anchor held by another cloud user", kind: "UserMatch", reason: identityv1alpha1.ReasonImmutableIDConflict,
			before: func(t *testing.T, tw twin) {
				upn := "holder-" + strings.ToLower(tw.sam) + "@" + w.dc.DNSDomain
				if _, err := w.em.AddUser(emulator.User{UserPrincipalName: upn, DisplayName: "holder", MailNickname: "holder" + tw.sam,
					OnPremisesImmutableID: ptr(tw.anchor.ImmutableID())}); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "duplicates Purge on an unproven holder", kind: "UserMatch", reason: identityv1alpha1.ReasonImmutableIDConflict,
			before: func(t *testing.T, tw twin) {
				upn := "joined-" + strings.ToLower(tw.sam) + "@" + w.dc.DNSDomain
				if _, err := w.em.AddUser(emulator.User{UserPrincipalName: upn, DisplayName: "joined", MailNickname: "joined" + tw.sam,
					OnPremisesImmutableID: ptr(tw.anchor.ImmutableID()), OnPremisesSyncEnabled: ptr(true)}); err != nil {
					t.Fatal(err)
				}
			},
			userMatch: func(s *identityv1alpha1.UserMatchSpec, _ twin) { s.Duplicates = identityv1alpha1.DuplicatesPurge },
			after: func(t *testing.T, _ string, tw twin) {
				for _, u := range w.em.Snapshot().Users {
					if u.UserPrincipalName == "joined-"+strings.ToLower(tw.sam)+"@"+w.dc.DNSDomain {
						return
					}
				}
				t.Error("an account joined to the AD user, not proven a duplicate, was deleted")
			}},
		{name: "second UserMatch for the same cloud user", kind: "UserMatch", reason: identityv1alpha1.ReasonDuplicateClaim,
			before: func(t *testing.T, tw twin) {
				first := w.newTwin(t, "first", nil)
				w.userMatch(t, first.sam, func(s *identityv1alpha1.UserMatchSpec) {
					s.ADUser.SAMAccountName = first.sam
					s.CloudUser = &identityv1alpha1.CloudUserSelector{ObjectID: tw.cloudID}
				})
				w.waitUM(t, first.sam, "first writes", func(um *identityv1alpha1.UserMatch) bool {
					return cond(um, identityv1alpha1.ConditionMatched, T, "")
				})
				// The first one keeps its claim but, in Observe, does not
				// set the value back once it is cleared (a change outside
				// the operator wakes it at once): any write now is the
				// second UserMatch's.
				var um identityv1alpha1.UserMatch
				if err := w.k8s.Get(ctxFor(t), types.NamespacedName{Name: first.sam}, &um); err != nil {
					t.Fatal(err)
				}
				um.Spec.Mode = identityv1alpha1.ModeObserve
				if err := w.k8s.Update(ctxFor(t), &um); err != nil {
					t.Fatal(err)
				}
				w.waitUM(t, first.sam, "first observes", func(um *identityv1alpha1.UserMatch) bool {
					return um.Status.ObservedGeneration == um.Generation
				})
				w.setCloud(t, tw.cloudID, func(u *emulator.User) { u.OnPremisesImmutableID = nil })
			},
			userMatch: func(s *identityv1alpha1.UserMatchSpec, tw twin) {
				s.CloudUser = &identityv1alpha1.CloudUserSelector{ObjectID: tw.cloudID}
			}},
		{name: "forged recorded Global Administrator", kind: "UserMatch", cond: identityv1alpha1.ConditionRolesRemoved,
			reason: identityv1alpha1.ReasonRoleRecordInvalid,
			userMatch: func(s *identityv1alpha1.UserMatchSpec, _ twin) {
				s.PrivilegedRoles = identityv1alpha1.PrivilegedRolesRemoveAndRestore
				s.Mode = identityv1alpha1.ModeObserve
			},
			after: func(t *testing.T, name string, tw twin) { forgeRecord(t, w, name, tw, "/") }},
		{name: "forged recorded role without a scope", kind: "UserMatch", cond: identityv1alpha1.ConditionRolesRemoved,
			reason: identityv1alpha1.ReasonRoleRecordInvalid,
			userMatch: func(s *identityv1alpha1.UserMatchSpec, _ twin) {
				s.PrivilegedRoles = identityv1alpha1.PrivilegedRolesRemoveAndRestore
				s.Mode = identityv1alpha1.ModeObserve
			},
			after: func(t *testing.T, name string, tw twin) { forgeRecord(t, w, name, tw, "") }},

		// TenantSyncFeatures.
		{name: "sync features for a missing tenant", kind: "TenantSyncFeatures", reason: identityv1alpha1.ReasonTenantNotReady,
			object: func(name string) client.Object {
				return &identityv1alpha1.TenantSyncFeatures{ObjectMeta: metav1.ObjectMeta{Name: name},
					Spec: identityv1alpha1.TenantSyncFeaturesSpec{TenantRef: identityv1alpha1.TenantReference{Name: "no-such-tenant"},
						Features: specFlags(map[identityv1alpha1.SyncFeature]bool{identityv1alpha1.FeatureBlockSoftMatch: true})}}
			}},
	}
	wi := func(tokenFile string) func(*identityv1alpha1.EntraTenantSpec) {
		return func(s *identityv1alpha1.EntraTenantSpec) {
			s.Credentials.ClientSecret = nil
			s.Credentials.WorkloadIdentity = &identityv1alpha1.WorkloadIdentityCredential{ClientID: wiClientID, TokenFile: tokenFile}
		}
	}
	blockedBy := func(reason string, keep int, before func(*testing.T, twin), um func(*identityv1alpha1.UserMatchSpec, twin)) badCase {
		return badCase{kind: "UserMatch", reason: reason, keepRoles: keep, before: before, userMatch: um}
	}
	named := func(n string, c badCase) badCase { c.name = n; return c }
	cases = append(cases,
		// More EntraTenant credentials and endpoints.
		badCase{name: "certificate secret missing", kind: "EntraTenant", reason: identityv1alpha1.ReasonSecretNotFound,
			object: tenant(func(s *identityv1alpha1.EntraTenantSpec) {
				s.Credentials.ClientSecret = nil
				s.Credentials.ClientCertificate = &identityv1alpha1.ClientCertificateCredential{ClientID: clientID,
					SecretRef: identityv1alpha1.CertificateSecretReference{Namespace: ns, Name: "no-such-tls"}}
			})},
		badCase{name: "certificate secret without a key", kind: "EntraTenant", reason: identityv1alpha1.ReasonSecretNotFound,
			object: tenant(func(s *identityv1alpha1.EntraTenantSpec) {
				s.Credentials.ClientSecret = nil
				s.Credentials.ClientCertificate = &identityv1alpha1.ClientCertificateCredential{ClientID: clientID,
					SecretRef: identityv1alpha1.CertificateSecretReference{Namespace: ns, Name: "half-tls"}}
			})},
		badCase{name: "token file missing in the allowed directory", kind: "EntraTenant", reason: identityv1alpha1.ReasonSecretNotFound,
			object: tenant(wi(filepath.Join(tokenDir, "no-such-token")))},
		badCase{name: "token file climbing out of the allowed directory", kind: "EntraTenant", reason: identityv1alpha1.ReasonSecretNotAllowed,
			object: tenant(wi(filepath.Join(tokenDir, "..", "..", "etc", "hostname")))},
		badCase{name: "wrong client secret", kind: "EntraTenant", reason: identityv1alpha1.ReasonInvalidCredentials,
			object: tenant(func(s *identityv1alpha1.EntraTenantSpec) {
				s.Credentials.ClientSecret.SecretRef = secretRef(ns, "wrong-app", "clientSecret")
			})},
		badCase{name: "unknown client id", kind: "EntraTenant", reason: identityv1alpha1.ReasonInvalidCredentials,
			object: tenant(func(s *identityv1alpha1.EntraTenantSpec) { s.Credentials.ClientSecret.ClientID = uuid.NewString() })},
		badCase{name: "unknown tenant id", kind: "EntraTenant", reason: identityv1alpha1.ReasonInvalidCredentials,
			object: tenant(func(s *identityv1alpha1.EntraTenantSpec) { s.TenantID = uuid.NewString() })},
		badCase{name: "delegated sign-in Secret missing", kind: "EntraTenant", cond: identityv1alpha1.ConditionDelegatedSignIn,
			reason: identityv1alpha1.ReasonSignInRequired,
			object: tenant(func(s *identityv1alpha1.EntraTenantSpec) {
				s.Delegated = &identityv1alpha1.DelegatedCredentials{SecretRef: secretRef(ns, "no-such-signin", "tokenCache")}
			})},

		// More ActiveDirectory.
		badCase{name: "bind secret missing", kind: "ActiveDirectory", reason: identityv1alpha1.ReasonSecretNotFound,
			object: directory(func(s *identityv1alpha1.ActiveDirectorySpec) {
				s.Bind.PasswordSecretRef = secretRef(ns, "no-such-bind", "password")
			})},
		badCase{name: "bind secret key missing", kind: "ActiveDirectory", reason: identityv1alpha1.ReasonSecretNotFound,
			object: directory(func(s *identityv1alpha1.ActiveDirectorySpec) {
				s.Bind.PasswordSecretRef = secretRef(ns, "ad-bind", "nope")
			})},
		badCase{name: "CA secret missing", kind: "ActiveDirectory", reason: identityv1alpha1.ReasonSecretNotFound,
			object: directory(func(s *identityv1alpha1.ActiveDirectorySpec) {
				s.TLS.CABundle = ""
				s.TLS.CASecretRef = &identityv1alpha1.SecretKeyReference{Namespace: ns, Name: "no-such-ca", Key: "ca.crt"}
			})},
		badCase{name: "wrong bind DN", kind: "ActiveDirectory", reason: identityv1alpha1.ReasonInvalidCredentials,
			object: directory(func(s *identityv1alpha1.ActiveDirectorySpec) { s.Bind.DN = "CN=Nobody,CN=Users," + w.dc.BaseDN })},
		badCase{name: "LDAP host that does not resolve", kind: "ActiveDirectory", reason: identityv1alpha1.ReasonUnreachable,
			object: directory(func(s *identityv1alpha1.ActiveDirectorySpec) { s.URLs = []string{"ldaps://no-such-host.invalid"} })},
		badCase{name: "every LDAP URL closed", kind: "ActiveDirectory", reason: identityv1alpha1.ReasonUnreachable,
			object: directory(func(s *identityv1alpha1.ActiveDirectorySpec) {
				s.URLs = []string{"ldaps://" + closed, "ldaps://" + closedPort(t)}
			})},

		// More UserMatch selectors and blocks.
		named("LDAP filter injection in mail", blockedBy(identityv1alpha1.ReasonADUserNotFound, 0, nil, func(s *identityv1alpha1.UserMatchSpec, _ twin) {
			s.ADUser = identityv1alpha1.ADUserSelector{Mail: "*)(objectClass=*@" + w.dc.DNSDomain}
		})),
		named("AD user by a DN that does not exist", blockedBy(identityv1alpha1.ReasonADUserNotFound, 0, nil, func(s *identityv1alpha1.UserMatchSpec, _ twin) {
			s.ADUser = identityv1alpha1.ADUserSelector{DistinguishedName: "CN=Nobody,CN=Users," + w.dc.BaseDN}
		})),
		named("AD user by an objectGUID that does not exist", blockedBy(identityv1alpha1.ReasonADUserNotFound, 0, nil, func(s *identityv1alpha1.UserMatchSpec, _ twin) {
			s.ADUser = identityv1alpha1.ADUserSelector{ObjectGUID: uuid.NewString()}
		})),
		named("AD user by a UPN that does not exist", blockedBy(identityv1alpha1.ReasonADUserNotFound, 0, nil, func(s *identityv1alpha1.UserMatchSpec, _ twin) {
			s.ADUser = identityv1alpha1.ADUserSelector{UserPrincipalName: "nobody@" + w.dc.DNSDomain}
		})),
		named("cloud user by an object id that does not exist", blockedBy(identityv1alpha1.ReasonCloudUserNotFound, 0, nil, func(s *identityv1alpha1.UserMatchSpec, _ twin) {
			s.CloudUser = &identityv1alpha1.CloudUserSelector{ObjectID: uuid.NewString()}
		})),
		named("User Administrator counts as privileged", blockedBy(identityv1alpha1.ReasonPrivilegedRole, 1, func(t *testing.T, tw twin) {
			w.addRole(t, tw.cloudID, "fe930be7-5e62-47db-91af-98c3a49a38b1", false)
		}, nil)),
		named("Observe mode still refuses a privileged user", blockedBy(identityv1alpha1.ReasonPrivilegedRole, 1, func(t *testing.T, tw twin) {
			w.addRole(t, tw.cloudID, roleGlobalAdmin, false)
		}, func(s *identityv1alpha1.UserMatchSpec, _ twin) { s.Mode = identityv1alpha1.ModeObserve })),
		named("RemoveAndRestore removes nothing when another obstacle stands", blockedBy(identityv1alpha1.ReasonImmutableIDConflict, 1, func(t *testing.T, tw twin) {
			w.addRole(t, tw.cloudID, roleGlobalAdmin, false)
			if _, err := w.em.AddUser(emulator.User{UserPrincipalName: "obstacle-" + strings.ToLower(tw.sam) + "@" + w.dc.DNSDomain,
				DisplayName: "obstacle", MailNickname: "obstacle" + tw.sam, OnPremisesImmutableID: ptr(tw.anchor.ImmutableID())}); err != nil {
				t.Fatal(err)
			}
		}, func(s *identityv1alpha1.UserMatchSpec, _ twin) {
			s.PrivilegedRoles = identityv1alpha1.PrivilegedRolesRemoveAndRestore
		})),
		named("duplicates Delete with the match refused deletes nothing", blockedBy(identityv1alpha1.ReasonPrivilegedRole, 1, func(t *testing.T, tw twin) {
			w.addRole(t, tw.cloudID, roleGlobalAdmin, false)
		}, func(s *identityv1alpha1.UserMatchSpec, _ twin) { s.Duplicates = identityv1alpha1.DuplicatesDelete })),

		// More TenantSyncFeatures.
		badCase{name: "sync features through a tenant whose Secret is not allowed", kind: "TenantSyncFeatures", reason: identityv1alpha1.ReasonSecretNotAllowed,
			object: func(name string) client.Object {
				et := w.tenant(name+"-t", "entra-app")
				et.Spec.Credentials.ClientSecret.SecretRef = secretRef("kube-system", "admin", "token")
				w.create(t, et)
				return &identityv1alpha1.TenantSyncFeatures{ObjectMeta: metav1.ObjectMeta{Name: name},
					Spec: identityv1alpha1.TenantSyncFeaturesSpec{TenantRef: identityv1alpha1.TenantReference{Name: name + "-t"},
						Features: specFlags(map[identityv1alpha1.SyncFeature]bool{identityv1alpha1.FeatureBlockSoftMatch: true})}}
			}},
		badCase{name: "sync features through a tenant with a wrong secret", kind: "TenantSyncFeatures", reason: identityv1alpha1.ReasonInvalidCredentials,
			object: func(name string) client.Object {
				et := w.tenant(name+"-t", "wrong-app")
				w.create(t, et)
				return &identityv1alpha1.TenantSyncFeatures{ObjectMeta: metav1.ObjectMeta{Name: name},
					Spec: identityv1alpha1.TenantSyncFeaturesSpec{TenantRef: identityv1alpha1.TenantReference{Name: name + "-t"},
						Features: specFlags(map[identityv1alpha1.SyncFeature]bool{identityv1alpha1.FeatureBlockSoftMatch: true})}}
			}},
	)
	for _, sec := range []*corev1.Secret{
		newSecret("wrong-bind", map[string]string{"password": "Wrong-Passw0rd!"}),
		newSecret("wrong-app", map[string]string{"clientSecret": "not-the-client-secret"}),
		newSecret("half-tls", map[string]string{"tls.crt": otherCA}),
	} {
		if err := w.k8s.Create(ctxFor(t), sec); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = w.k8s.Delete(ctxFor(t), newSecret(sec.Name, nil)) })
	}

	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			name := strings.ToLower(samba.UniqueName(t, "bad")) + "-" + string(rune('a'+i%26))
			condType := c.cond
			if condType == "" {
				condType = identityv1alpha1.ConditionReady
			}
			if c.kind != "UserMatch" {
				obj := c.object(name)
				w.create(t, obj)
				eventually(t, func() (bool, string) {
					err := w.k8s.Get(ctxFor(t), types.NamespacedName{Name: name}, obj)
					conds := conditionsOf(obj)
					got := meta.FindStatusCondition(conds, condType)
					return err == nil && got != nil && got.Status == metav1.ConditionFalse && got.Reason == c.reason,
						c.kind + " " + name + ": " + condType + " never became False/" + c.reason + ":" + describeStatus(conds)
				})
				return
			}
			tw := w.newTwin(t, "bad", c.cloud)
			if c.before != nil {
				c.before(t, tw)
			}
			beforeRoles := w.roleCountAll(tw.cloudID)
			beforeID := immutableID(w.cloud(t, tw.cloudID))
			w.userMatch(t, tw.sam, func(s *identityv1alpha1.UserMatchSpec) {
				s.ADUser.SAMAccountName = tw.sam
				if c.userMatch != nil {
					c.userMatch(s, tw)
				}
			})
			umName := strings.ToLower(tw.sam)
			if c.after != nil && c.cond == identityv1alpha1.ConditionRolesRemoved {
				c.after(t, umName, tw)
			}
			w.waitUM(t, tw.sam, condType+" "+c.reason, func(um *identityv1alpha1.UserMatch) bool {
				return cond(um, condType, F, c.reason)
			})
			if c.after != nil && c.cond != identityv1alpha1.ConditionRolesRemoved {
				c.after(t, umName, tw)
			}
			if got := immutableID(w.cloud(t, tw.cloudID)); got != beforeID {
				t.Errorf("immutableId of the cloud user changed from %q to %q", beforeID, got)
			}
			if got := w.roleCountAll(tw.cloudID); got != beforeRoles || got != c.keepRoles {
				t.Errorf("the cloud user holds %d roles, had %d, want %d kept", got, beforeRoles, c.keepRoles)
			}
		})
	}
}

// forgeRecord writes into a UserMatch's status what an attacker with
// status access would: a Global Administrator role to "restore", with a
// made-up seal.
func forgeRecord(t *testing.T, w *world, name string, tw twin, scope string) {
	t.Helper()
	eventually(t, func() (bool, string) {
		var um identityv1alpha1.UserMatch
		if err := w.k8s.Get(ctxFor(t), types.NamespacedName{Name: name}, &um); err != nil || um.Status.ObservedGeneration == 0 {
			return false, "the UserMatch was not reconciled yet"
		}
		base := um.DeepCopy()
		um.Status.Cloud = &identityv1alpha1.CloudUserStatus{ObjectID: tw.cloudID, UserPrincipalName: tw.upn}
		um.Status.RecordedRoles = []identityv1alpha1.RecordedRole{{Kind: identityv1alpha1.RoleKindAssignment,
			RoleDefinitionID: roleGlobalAdmin, RoleName: "Global Administrator", DirectoryScopeID: scope, ID: "forged"}}
		um.Status.RecordedRolesSeal = "v1:" + base64.RawStdEncoding.EncodeToString([]byte("forged-forged-forged-forged-xx"))
		err := w.k8s.Status().Patch(ctxFor(t), &um, client.MergeFrom(base))
		return err == nil, "patching the status failed"
	})
}

func (w *world) roleCountAll(principal string) int {
	s := w.em.Snapshot()
	n := 0
	for _, a := range s.RoleAssignments {
		if a.PrincipalID == principal {
			n++
		}
	}
	for _, e := range s.RoleEligibilities {
		if e.PrincipalID == principal {
			n++
		}
	}
	return n
}

func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// pemOfNewCA is a CA that signed nothing the test talks to.
func pemOfNewCA(t *testing.T) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	defer srv.Close()
	if _, err := x509.ParseCertificate(srv.Certificate().Raw); err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
}

func fakeJWT(aud string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256"}`)) + "." + enc([]byte(`{"aud":["`+aud+`"]}`)) + ".c2ln"
}

func newSecret(name string, data map[string]string) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, StringData: data}
}
