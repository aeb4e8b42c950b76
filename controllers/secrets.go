package controllers

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
)

// secretError says which Secret or key is missing (reason SecretNotFound
// when reason is empty) or why it may not be read.
type secretError struct {
	reason string
	msg    string
}

func (e *secretError) outcome() outcome {
	if e.reason != "" {
		return outcome{reason: e.reason, message: e.msg}
	}
	return outcome{reason: identityv1alpha1.ReasonSecretNotFound, message: e.msg}
}

func (e *secretError) Error() string { return e.msg }

// SecretRefused marks every secretError as a refusal to the token cache
// (tenantaccess.SecretRefusal): a person must act.
func (e *secretError) SecretRefused() {}

// readSecretKey reads one key of a Secret with an uncached GET: the manager
// then needs only `get` on Secrets, not a cluster-wide watch of all of them,
// and a rotated value is seen on the next reconcile.
func readSecretKey(ctx context.Context, r client.Reader, ref identityv1alpha1.SecretKeyReference) ([]byte, error) {
	var s corev1.Secret
	if err := r.Get(ctx, types.NamespacedName{Namespace: ref.Namespace, Name: ref.Name}, &s); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, &secretError{msg: fmt.Sprintf("Secret %s/%s not found", ref.Namespace, ref.Name)}
		}
		return nil, fmt.Errorf("reading Secret %s/%s: %w", ref.Namespace, ref.Name, err)
	}
	v, ok := s.Data[ref.Key]
	if !ok || len(v) == 0 {
		return nil, &secretError{msg: fmt.Sprintf("Secret %s/%s has no key %q", ref.Namespace, ref.Name, ref.Key)}
	}
	return v, nil
}
