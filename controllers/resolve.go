package controllers

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/cloud"
	"github.com/entramatch/entra-match-operator/internal/directory"
	"github.com/entramatch/entra-match-operator/internal/tenantaccess"
)

// directoryConfig turns an ActiveDirectory spec and its Secrets into a
// client configuration. This is the one place AD credentials are read.
func directoryConfig(ctx context.Context, r client.Reader, ad *identityv1alpha1.ActiveDirectory) (directory.Config, error) {
	pw, err := readSecretKey(ctx, r, ad.Spec.Bind.PasswordSecretRef)
	if err != nil {
		return directory.Config{}, err
	}
	cfg := directory.Config{
		URLs:     ad.Spec.URLs,
		BaseDN:   ad.Spec.BaseDN,
		BindDN:   ad.Spec.Bind.DN,
		Password: string(pw),
	}
	if t := ad.Spec.TLS; t != nil {
		cfg.StartTLS = t.Mode == identityv1alpha1.TLSModeStartTLS
		cfg.Plaintext = t.Mode == identityv1alpha1.TLSModeInsecure && t.Insecure
		cfg.ServerName = t.ServerName
		cfg.CAPEM = []byte(t.CABundle)
		if t.CASecretRef != nil {
			ca, err := readSecretKey(ctx, r, *t.CASecretRef)
			if err != nil {
				return directory.Config{}, err
			}
			cfg.CAPEM = ca
		}
	}
	return cfg, nil
}

// tenantConnection turns an EntraTenant spec and its Secrets into a Graph
// connection. This is the one place tenant credentials are read.
func tenantConnection(ctx context.Context, r client.Reader, t *identityv1alpha1.EntraTenant) (cloud.Connection, error) {
	c := tenantaccess.Endpoints(t)
	creds := t.Spec.Credentials
	switch {
	case creds.ClientSecret != nil:
		v, err := readSecretKey(ctx, r, creds.ClientSecret.SecretRef)
		if err != nil {
			return c, err
		}
		c.ClientID, c.ClientSecret = creds.ClientSecret.ClientID, string(v)
	case creds.ClientCertificate != nil:
		pem, err := readCertificate(ctx, r, creds.ClientCertificate.SecretRef)
		if err != nil {
			return c, err
		}
		c.ClientID, c.CertificatePEM = creds.ClientCertificate.ClientID, pem
	case creds.WorkloadIdentity != nil:
		c.ClientID, c.FederatedTokenFile = creds.WorkloadIdentity.ClientID, creds.WorkloadIdentity.TokenFile
		policy, ok := r.(tokenFilePolicy)
		if !ok {
			return c, &secretError{reason: identityv1alpha1.ReasonSecretNotAllowed, msg: "workload identity token files are not allowed here"}
		}
		if err := policy.checkTokenFile(c.FederatedTokenFile); err != nil {
			return c, err
		}
	default:
		return c, &secretError{msg: "spec.credentials sets no credential"}
	}
	return c, nil
}

// delegatedConnection is the tenant's connection through the administrator
// sign-in of spec.delegated; the token cache is read and written back in
// its Secret by the client as it refreshes.
func delegatedConnection(r client.Reader, w client.Client, now func() time.Time, t *identityv1alpha1.EntraTenant) cloud.Connection {
	d := t.Spec.Delegated
	c := tenantaccess.Endpoints(t)
	c.Delegated = &cloud.DelegatedAccess{
		ClientID: tenantaccess.PublicClientID(t),
		Cache:    tenantaccess.NewSecretTokenCache(r, w, d.SecretRef, now),
		CacheID:  d.SecretRef.Namespace + "/" + d.SecretRef.Name + "/" + d.SecretRef.Key,
	}
	return c
}

// readCertificate reads a certificate and key: one PEM bundle under Key, or
// the tls.crt and tls.key of a kubernetes.io/tls Secret.
func readCertificate(ctx context.Context, r client.Reader, ref identityv1alpha1.CertificateSecretReference) ([]byte, error) {
	if ref.Key != "" {
		return readSecretKey(ctx, r, identityv1alpha1.SecretKeyReference(ref))
	}
	var s corev1.Secret
	if err := r.Get(ctx, types.NamespacedName{Namespace: ref.Namespace, Name: ref.Name}, &s); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, &secretError{msg: fmt.Sprintf("Secret %s/%s not found", ref.Namespace, ref.Name)}
		}
		return nil, fmt.Errorf("reading Secret %s/%s: %w", ref.Namespace, ref.Name, err)
	}
	crt, key := s.Data[corev1.TLSCertKey], s.Data[corev1.TLSPrivateKeyKey]
	if len(crt) == 0 || len(key) == 0 {
		return nil, &secretError{msg: fmt.Sprintf("Secret %s/%s needs both %s and %s", ref.Namespace, ref.Name, corev1.TLSCertKey, corev1.TLSPrivateKeyKey)}
	}
	return append(append(append([]byte(nil), crt...), '\n'), key...), nil
}

// readReferences reads the EntraTenant and ActiveDirectory a resource
// names. A missing one is a classified failure (the resource waits for
// it), any other read error is returned as is.
func readReferences(ctx context.Context, c client.Reader, tenantName, directoryName string) (*identityv1alpha1.EntraTenant, *identityv1alpha1.ActiveDirectory, *outcome, error) {
	var tenant identityv1alpha1.EntraTenant
	if err := c.Get(ctx, types.NamespacedName{Name: tenantName}, &tenant); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil, &outcome{reason: identityv1alpha1.ReasonTenantNotReady, message: fmt.Sprintf("EntraTenant %q does not exist", tenantName)}, nil
		}
		return nil, nil, nil, err
	}
	var ad identityv1alpha1.ActiveDirectory
	if err := c.Get(ctx, types.NamespacedName{Name: directoryName}, &ad); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil, &outcome{reason: identityv1alpha1.ReasonDirectoryNotReady, message: fmt.Sprintf("ActiveDirectory %q does not exist", directoryName)}, nil
		}
		return nil, nil, nil, err
	}
	return &tenant, &ad, nil, nil
}

// observeReferences is the phase every kind that names a tenant and a
// directory starts with: a missing one ends the pass as a classified
// failure, so that the resource waits for it.
func observeReferences(ctx context.Context, c client.Reader, p *pass, resync time.Duration, tenantName, directoryName string,
	tenant **identityv1alpha1.EntraTenant, ad **identityv1alpha1.ActiveDirectory) (ctrl.Result, error) {
	t, d, missing, err := readReferences(ctx, c, tenantName, directoryName)
	switch {
	case err != nil:
		return ctrl.Result{}, err
	case missing != nil:
		return p.fail(*missing, resync)
	}
	*tenant, *ad = t, d
	return ctrl.Result{}, nil
}
