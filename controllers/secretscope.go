package controllers

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
)

// The four kinds are cluster-scoped, so whoever may create one may name
// any Secret in the cluster, and the manager would read it and hand its
// value to an endpoint the same person chose. Secrets are therefore read
// only from the namespaces the manager's administrator allows (by default
// the manager's own), whatever a resource names.

// secretScope is a Reader that refuses Secrets outside the allowed
// namespaces before any request reaches the API server. It also says which
// token files workload identity may read: the manager's own service
// account token sits on the same disk, and must never be sent anywhere.
type secretScope struct {
	client.Reader
	allowed   []string
	tokenDirs []string
}

func newSecretScope(r client.Reader, allowed, tokenDirs []string) secretScope {
	return secretScope{Reader: r, allowed: allowed, tokenDirs: tokenDirs}
}

// federatedAudience is the audience of a projected token meant for
// workload identity federation (Microsoft Entra Workload ID's documented
// default); the manager's own service account token is for the API server.
const federatedAudience = "api://AzureADTokenExchange"

// tokenFilePolicy is implemented by the Reader the controllers get; a
// Reader without it allows no token file.
type tokenFilePolicy interface {
	checkTokenFile(path string) error
}

// checkTokenFile allows a workload identity token file only inside the
// allowed directories, never the service account mount, and only when it
// holds a token for federation.
func (s secretScope) checkTokenFile(path string) error {
	refuse := func(why string) error {
		return &secretError{reason: identityv1alpha1.ReasonSecretNotAllowed, msg: fmt.Sprintf(
			"workload identity token file %s is not allowed: %s", path, why)}
	}
	clean := filepath.Clean(path)
	if !filepath.IsAbs(clean) {
		return refuse("the path must be absolute")
	}
	if resolved, err := filepath.EvalSymlinks(clean); err == nil {
		clean = resolved
	}
	if strings.HasPrefix(clean, "/var/run/secrets/kubernetes.io/") || strings.HasPrefix(clean, "/run/secrets/kubernetes.io/") {
		return refuse("it is the manager's own service account token")
	}
	inside := false
	for _, d := range s.tokenDirs {
		if rel, err := filepath.Rel(filepath.Clean(d), clean); err == nil && rel != "." && !strings.HasPrefix(rel, "..") {
			inside = true
			break
		}
	}
	if !inside {
		return refuse("it is outside the directories the manager allows for projected federation tokens (" +
			strings.Join(s.tokenDirs, ", ") + "; the manager's --token-file-dirs)")
	}
	raw, err := os.ReadFile(clean)
	if err != nil {
		return &secretError{msg: fmt.Sprintf("workload identity token file %s is not readable: %v", path, err)}
	}
	if !hasAudience(strings.TrimSpace(string(raw)), federatedAudience) {
		return refuse("it does not hold a token for audience " + federatedAudience + " (a projected service account token for workload identity federation)")
	}
	return nil
}

// hasAudience reads the aud claim of a JWT without verifying it: the token
// is only being classified here; Entra verifies it.
func hasAudience(jwt, want string) bool {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return false
	}
	var claims struct {
		Aud any `json:"aud"`
	}
	if json.Unmarshal(payload, &claims) != nil {
		return false
	}
	switch a := claims.Aud.(type) {
	case string:
		return a == want
	case []any:
		for _, v := range a {
			if v == want {
				return true
			}
		}
	}
	return false
}

func (s secretScope) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	switch obj.(type) {
	case *corev1.Secret:
		if err := s.check(key.Namespace, key.Name); err != nil {
			return err
		}
	case *corev1.ConfigMap:
		// A ConfigMap a resource names (a UserMatchSet's pairs) is read
		// under the same rule: only where the operator reads Secrets.
		if !slices.Contains(s.allowed, key.Namespace) {
			return &secretError{reason: identityv1alpha1.ReasonSecretNotAllowed, msg: fmt.Sprintf(
				"ConfigMap %s/%s is in a namespace the operator does not read from; move it to %s (the manager's --secret-namespaces)",
				key.Namespace, key.Name, strings.Join(s.allowed, " or "))}
		}
	}
	return s.Reader.Get(ctx, key, obj, opts...)
}

func (s secretScope) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	if _, ok := list.(*corev1.SecretList); ok {
		return &secretError{reason: identityv1alpha1.ReasonSecretNotAllowed, msg: "listing Secrets is not allowed"}
	}
	return s.Reader.List(ctx, list, opts...)
}

func (s secretScope) check(namespace, name string) error {
	if slices.Contains(s.allowed, namespace) {
		return nil
	}
	return &secretError{reason: identityv1alpha1.ReasonSecretNotAllowed, msg: fmt.Sprintf(
		"Secret %s/%s is in a namespace the operator does not read Secrets from; move it to %s "+
			"(the manager's --secret-namespaces)", namespace, name, strings.Join(s.allowed, " or "))}
}
