package tenantaccess

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/entramatch/entra-match-operator/api/v1alpha1"
	"github.com/entramatch/entra-match-operator/internal/cloud"
	"github.com/entramatch/entra-match-operator/internal/metrics"
)

// Operations of the token cache, as they appear in errors.
const (
	OpLoadTokenCache  = "LoadTokenCache"
	OpStoreTokenCache = "StoreTokenCache"
)

// SecretRefusal is implemented by the errors a Secret reader returns when
// the operator may not read a Secret at all (outside the namespaces it
// reads from): a person must act, as for an RBAC refusal.
type SecretRefusal interface {
	error
	SecretRefused()
}

// SecretTokenCache keeps a delegated sign-in's token cache in one key of a
// Secret (the format entramatch login writes, see Login). Writes are conditional on the version read: when a person signs
// in again (entramatch login rewrites the Secret) while the operator
// refreshes, the person's new sign-in wins.
type SecretTokenCache struct {
	reader client.Reader // uncached: a re-login must be seen at once
	writer client.Client
	ref    identityv1alpha1.SecretKeyReference
	now    func() time.Time

	mu sync.Mutex
	// loaded is the Secret as last read; its resourceVersion guards writes.
	loaded *corev1.Secret
	// pending is a rotated cache whose write failed: the refresh token it
	// holds is the only one still redeemable, so it is served from memory
	// and written again until that succeeds.
	pending []byte
}

var _ cloud.TokenCache = (*SecretTokenCache)(nil)

// NewSecretTokenCache returns the token cache kept in ref. reader must be
// uncached, so that a new sign-in is seen at once.
func NewSecretTokenCache(reader client.Reader, writer client.Client, ref identityv1alpha1.SecretKeyReference, now func() time.Time) *SecretTokenCache {
	return &SecretTokenCache{reader: reader, writer: writer, ref: ref, now: now}
}

func (c *SecretTokenCache) name() string { return c.ref.Namespace + "/" + c.ref.Name }

// Load returns the stored cache, or the pending one while the Secret has
// not changed since it was read.
func (c *SecretTokenCache) Load(ctx context.Context) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var s corev1.Secret
	if err := c.reader.Get(ctx, types.NamespacedName{Namespace: c.ref.Namespace, Name: c.ref.Name}, &s); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, c.noSignIn(fmt.Sprintf("Secret %s with the delegated sign-in does not exist", c.name()))
		}
		return nil, c.apiError(OpLoadTokenCache, "reading", err)
	}
	if c.pending != nil {
		if c.loaded != nil && s.ResourceVersion == c.loaded.ResourceVersion {
			c.loaded = &s
			data := c.pending
			if c.write(ctx, data) == nil {
				c.pending = nil
			}
			return append([]byte(nil), data...), nil
		}
		// Someone wrote the Secret since: their sign-in replaces ours.
		c.pending = nil
	}
	c.loaded = &s
	data := s.Data[c.ref.Key]
	if len(data) == 0 {
		return nil, c.noSignIn(fmt.Sprintf("Secret %s has no key %q with a delegated sign-in", c.name(), c.ref.Key))
	}
	return append([]byte(nil), data...), nil
}

// storeAttempts bounds the retries of a write that conflicted only with a
// change of the Secret's metadata (a label or annotation).
const storeAttempts = 3

// Store writes a rotated cache back to the Secret it was loaded from.
func (c *SecretTokenCache) Store(ctx context.Context, data []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.loaded == nil {
		return &cloud.Error{Class: cloud.ClassTransient, Op: OpStoreTokenCache, Message: "token cache stored before it was loaded"}
	}
	if bytes.Equal(c.loaded.Data[c.ref.Key], data) {
		return nil
	}
	var err error
	for range storeAttempts {
		if err = c.write(ctx, data); !apierrors.IsConflict(err) {
			break
		}
		var now corev1.Secret
		if gerr := c.reader.Get(ctx, types.NamespacedName{Namespace: c.ref.Namespace, Name: c.ref.Name}, &now); gerr != nil ||
			!bytes.Equal(now.Data[c.ref.Key], c.loaded.Data[c.ref.Key]) {
			// A new sign-in (or a deleted Secret): it wins over the
			// rotation of the old one.
			c.pending = nil
			metrics.SignInWrites.WithLabelValues("replaced").Inc()
			return cloud.ErrSignInReplaced
		}
		c.loaded = &now
	}
	if err == nil {
		c.pending = nil
		metrics.SignInWrites.WithLabelValues("ok").Inc()
		return nil
	}
	metrics.SignInWrites.WithLabelValues("failed").Inc()
	c.pending = append([]byte(nil), data...)
	return c.apiError(OpStoreTokenCache, "writing the rotated refresh token to (kept in memory, retried on the next call)", err)
}

// write updates the key, conditional on the version last read; callers
// hold mu.
func (c *SecretTokenCache) write(ctx context.Context, data []byte) error {
	s := c.loaded.DeepCopy()
	if s.Data == nil {
		s.Data = map[string][]byte{}
	}
	s.Data[c.ref.Key] = append([]byte(nil), data...)
	if s.Annotations == nil {
		s.Annotations = map[string]string{}
	}
	s.Annotations[AnnotationTokenRefreshed] = c.now().UTC().Format(time.RFC3339)
	if err := c.writer.Update(ctx, s); err != nil {
		return err
	}
	c.loaded = s
	metrics.SignInLastRefresh.WithLabelValues(c.name()).Set(float64(c.now().Unix()))
	return nil
}

func (c *SecretTokenCache) noSignIn(msg string) error {
	return &cloud.Error{Class: cloud.ClassUnauthenticated, Code: cloud.CodeNoSignIn, Op: OpLoadTokenCache, Message: msg}
}

// apiError classifies a failed Secret call: RBAC refusals need a person
// (Permission), anything else is retried (Transient).
func (c *SecretTokenCache) apiError(op, doing string, err error) error {
	class := cloud.ClassTransient
	var refused SecretRefusal
	if apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err) || errors.As(err, &refused) {
		class = cloud.ClassPermission
	}
	return &cloud.Error{Class: class, Op: op, Message: fmt.Sprintf("%s Secret %s: %v", doing, c.name(), err), Err: err}
}
