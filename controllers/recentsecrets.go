package controllers

import (
	"context"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// secretReuse is how long one GET of a Secret answers the UserMatch
// reconciles that read it again: every reconcile reads its tenant's and its
// directory's credentials, which for thousands of UserMatches a minute
// made those GETs a large part of the API server's work. A rotated
// credential is still seen within this time.
const secretReuse = 2 * time.Second

// recentSecrets is a Reader that answers a Secret read again within ttl
// from the last GET of it, and makes one GET for concurrent readers of the
// same Secret. Anything else, and reads with options, go to the Reader.
// It is for readers that never write Secrets: a Secret this manager writes
// (a delegated sign-in's token cache) must always be read fresh.
type recentSecrets struct {
	client.Reader
	ttl time.Duration
	now func() time.Time

	group singleflight.Group
	mu    sync.Mutex
	got   map[client.ObjectKey]recentSecret
}

type recentSecret struct {
	at     time.Time
	secret *corev1.Secret
}

func newRecentSecrets(r client.Reader, ttl time.Duration, now func() time.Time) *recentSecrets {
	if now == nil {
		now = time.Now
	}
	return &recentSecrets{Reader: r, ttl: ttl, now: now, got: map[client.ObjectKey]recentSecret{}}
}

func (r *recentSecrets) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	out, ok := obj.(*corev1.Secret)
	if !ok || len(opts) > 0 {
		return r.Reader.Get(ctx, key, obj, opts...)
	}
	r.mu.Lock()
	e, ok := r.got[key]
	r.mu.Unlock()
	if ok && r.now().Sub(e.at) < r.ttl {
		e.secret.DeepCopyInto(out)
		return nil
	}
	v, err, _ := r.group.Do(key.String(), func() (any, error) {
		var s corev1.Secret
		if err := r.Reader.Get(ctx, key, &s); err != nil {
			return nil, err
		}
		r.remember(key, &s)
		return &s, nil
	})
	if err != nil {
		return err
	}
	v.(*corev1.Secret).DeepCopyInto(out)
	return nil
}

// remember keeps s and forgets what has expired, so that the map holds
// only the Secrets read in the last ttl.
func (r *recentSecrets) remember(key client.ObjectKey, s *corev1.Secret) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	for k, e := range r.got {
		if now.Sub(e.at) >= r.ttl {
			delete(r.got, k)
		}
	}
	r.got[key] = recentSecret{at: now, secret: s}
}
