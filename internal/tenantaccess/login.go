package tenantaccess

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/cloud"
)

// Annotations a sign-in Secret carries, so that a person can tell whose
// sign-in it holds without reading the token cache.
const (
	AnnotationSignedInUser = "identity.entramatch.io/signed-in-user"
	AnnotationSignedInAt   = "identity.entramatch.io/signed-in-at"
	AnnotationClientID     = "identity.entramatch.io/client-id"
	AnnotationTenant       = "identity.entramatch.io/entratenant"
	// AnnotationTokenRefreshed is set by the operator each time it writes
	// back a rotated refresh token: the sign-in is alive.
	AnnotationTokenRefreshed = "identity.entramatch.io/token-refreshed-at"
)

// DeviceCodeFunc runs a device code sign-in against the tenant conn
// describes (conn.Delegated.ClientID is the public client); show receives
// the instructions for the person. It returns the serialized token cache and
// the signed-in user.
type DeviceCodeFunc func(ctx context.Context, conn cloud.Connection, show func(message, userCode string)) (cache []byte, user string, err error)

// LoginOptions say where a sign-in goes. Empty fields default to the
// EntraTenant's spec.delegated.
type LoginOptions struct {
	Tenant    string               // EntraTenant name (cluster-scoped)
	Secret    types.NamespacedName // where to store the sign-in
	Key       string
	ClientID  string
	Configure bool // set spec.delegated on the EntraTenant to this Secret
	Now       func() time.Time
}

// LoginResult says what was stored.
type LoginResult struct {
	User   string
	Secret types.NamespacedName
	Key    string
	// Configured is true when spec.delegated of the EntraTenant was set or
	// changed; Unused is true when it points elsewhere and was left alone.
	Configured, Unused bool
}

// Login signs a person in for an EntraTenant and stores the token cache in a
// Secret, creating it or replacing only its key and annotations.
func Login(ctx context.Context, c client.Client, opts LoginOptions, signIn DeviceCodeFunc, out io.Writer) (LoginResult, error) {
	var t identityv1alpha1.EntraTenant
	if err := c.Get(ctx, types.NamespacedName{Name: opts.Tenant}, &t); err != nil {
		if apierrors.IsNotFound(err) {
			return LoginResult{}, fmt.Errorf("EntraTenant %q does not exist", opts.Tenant)
		}
		return LoginResult{}, fmt.Errorf("reading EntraTenant %q: %w", opts.Tenant, err)
	}
	ref, err := target(&t, opts)
	if err != nil {
		return LoginResult{}, err
	}
	name := types.NamespacedName{Namespace: ref.Namespace, Name: ref.Name}
	// Refuse an unusable Secret before the person goes through the sign-in.
	if err := checkSecret(ctx, c, name); err != nil {
		return LoginResult{}, err
	}
	conn := Endpoints(&t)
	clientID := opts.ClientID
	if clientID == "" {
		clientID = PublicClientID(&t)
	}
	conn.Delegated = &cloud.DelegatedAccess{ClientID: clientID}
	cache, user, err := signIn(ctx, conn, func(msg, _ string) { fmt.Fprintln(out, msg) })
	if err != nil {
		return LoginResult{}, err
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	notes := map[string]string{
		AnnotationSignedInUser: user,
		AnnotationSignedInAt:   now().UTC().Format(time.RFC3339),
		AnnotationClientID:     clientID,
		AnnotationTenant:       t.Name,
	}
	// The operator may be writing a rotated token of the old sign-in at the
	// same moment; the new sign-in must win, so a conflict is retried.
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		return storeSecret(ctx, c, name, ref.Key, cache, notes)
	}); err != nil {
		return LoginResult{}, err
	}
	res := LoginResult{User: user, Secret: name, Key: ref.Key}
	want := identityv1alpha1.DelegatedCredentials{SecretRef: ref, ClientID: opts.ClientID}
	if d := t.Spec.Delegated; d != nil && opts.ClientID == "" {
		want.ClientID = d.ClientID
	}
	switch d := t.Spec.Delegated; {
	case d != nil && *d == want:
	case opts.Configure:
		base := t.DeepCopy()
		t.Spec.Delegated = &want
		if err := c.Patch(ctx, &t, client.MergeFrom(base)); err != nil {
			return res, fmt.Errorf("the sign-in is stored in Secret %s, but setting spec.delegated of EntraTenant %s failed: %w", name, t.Name, err)
		}
		res.Configured = true
	default:
		res.Unused = true
	}
	return res, nil
}

// target is where the sign-in goes: the options, else spec.delegated.
func target(t *identityv1alpha1.EntraTenant, opts LoginOptions) (identityv1alpha1.SecretKeyReference, error) {
	var ref identityv1alpha1.SecretKeyReference
	if d := t.Spec.Delegated; d != nil {
		ref = d.SecretRef
	}
	if opts.Secret.Name != "" {
		ref.Namespace, ref.Name = opts.Secret.Namespace, opts.Secret.Name
	}
	if opts.Key != "" {
		ref.Key = opts.Key
	}
	if ref.Key == "" {
		ref.Key = DefaultKey
	}
	if ref.Name == "" || ref.Namespace == "" {
		return ref, fmt.Errorf("EntraTenant %s has no spec.delegated.secretRef: name the Secret to store the sign-in in (NAMESPACE/NAME)", t.Name)
	}
	return ref, nil
}

// storeSecret writes the token cache into key, keeping the Secret's other
// keys, labels and annotations.
func storeSecret(ctx context.Context, c client.Client, name types.NamespacedName, key string, data []byte, notes map[string]string) error {
	var s corev1.Secret
	err := c.Get(ctx, name, &s)
	switch {
	case apierrors.IsNotFound(err):
		s = corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: name.Namespace, Name: name.Name, Annotations: notes,
				Labels: map[string]string{"app.kubernetes.io/managed-by": "entramatch-login"}},
			Type: corev1.SecretTypeOpaque,
			Data: map[string][]byte{key: data},
		}
		if err := c.Create(ctx, &s); err != nil {
			return fmt.Errorf("creating Secret %s: %w", name, err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("reading Secret %s: %w", name, err)
	}
	if err := checkType(&s, name); err != nil {
		return err
	}
	if s.Data == nil {
		s.Data = map[string][]byte{}
	}
	s.Data[key] = data
	if s.Annotations == nil {
		s.Annotations = map[string]string{}
	}
	for k, v := range notes {
		s.Annotations[k] = v
	}
	if err := c.Update(ctx, &s); err != nil {
		return fmt.Errorf("updating Secret %s: %w", name, err)
	}
	return nil
}

// checkSecret refuses an existing Secret that cannot hold a sign-in; a
// missing one is created later.
func checkSecret(ctx context.Context, c client.Client, name types.NamespacedName) error {
	var s corev1.Secret
	err := c.Get(ctx, name, &s)
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return fmt.Errorf("reading Secret %s: %w", name, err)
	}
	return checkType(&s, name)
}

func checkType(s *corev1.Secret, name types.NamespacedName) error {
	if s.Type != corev1.SecretTypeOpaque && s.Type != "" {
		return errors.New("Secret " + name.String() + " has type " + string(s.Type) + "; a sign-in needs an Opaque Secret")
	}
	return nil
}
