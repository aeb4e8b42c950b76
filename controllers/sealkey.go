package controllers

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/entramatch/entra-match-operator/internal/seal"
)

// SealKeySecret is the Secret, in the manager's namespace, that holds the
// key sealing recorded roles; SealKeyField is its key.
const (
	SealKeySecret = "entra-match-operator-seal"
	SealKeyField  = "key"
)

// +kubebuilder:rbac:groups="",namespace=system,resources=secrets,verbs=create

// LoadSealKey reads the seal key from its Secret in namespace, creating the
// Secret with a fresh key on first start. Only the manager (and whoever may
// read Secrets in its namespace) can read it, so only the manager can seal.
func LoadSealKey(ctx context.Context, c client.Client, namespace string) ([]byte, error) {
	key := types.NamespacedName{Namespace: namespace, Name: SealKeySecret}
	for range 3 {
		var s corev1.Secret
		err := c.Get(ctx, key, &s)
		if err == nil {
			if v := s.Data[SealKeyField]; len(v) >= seal.KeySize {
				return v, nil
			}
			return nil, fmt.Errorf("the Secret %s/%s holds no seal key of %d bytes under %q: delete it to have a new one made "+
				"(roles recorded under the old key then cannot be restored by the operator)", namespace, SealKeySecret, seal.KeySize, SealKeyField)
		}
		if !apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("reading Secret %s/%s: %w", namespace, SealKeySecret, err)
		}
		k, err := seal.NewKey()
		if err != nil {
			return nil, err
		}
		err = c.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: SealKeySecret,
				Labels: map[string]string{"app.kubernetes.io/name": "entra-match-operator"}},
			Type: corev1.SecretTypeOpaque,
			Data: map[string][]byte{SealKeyField: k},
		})
		if err == nil {
			return k, nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return nil, fmt.Errorf("creating Secret %s/%s: %w", namespace, SealKeySecret, err)
		}
		// Another replica made it first: read theirs.
	}
	return nil, fmt.Errorf("could not read or create the seal key in Secret %s/%s", namespace, SealKeySecret)
}
