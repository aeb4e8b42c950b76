package controllers

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// countingReader serves Secrets whose value is the number of GETs so far,
// so that a test sees whether an answer came from a new GET.
type countingReader struct {
	client.Reader
	gets atomic.Int32
}

func (c *countingReader) Get(_ context.Context, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	n := c.gets.Add(1)
	if key.Name == "missing" {
		return apierrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, key.Name)
	}
	s, ok := obj.(*corev1.Secret)
	if !ok {
		return nil
	}
	*s = corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}, Data: map[string][]byte{"v": {byte(n)}}}
	return nil
}

func TestRecentSecrets(t *testing.T) {
	inner := &countingReader{}
	now := time.Unix(1000, 0)
	r := newRecentSecrets(inner, 2*time.Second, func() time.Time { return now })
	ctx := context.Background()
	read := func(name string) (byte, error) {
		t.Helper()
		var s corev1.Secret
		if err := r.Get(ctx, client.ObjectKey{Namespace: "ops", Name: name}, &s); err != nil {
			return 0, err
		}
		return s.Data["v"][0], nil
	}
	if v, _ := read("app"); v != 1 {
		t.Fatalf("first read: GET %d", v)
	}
	now = now.Add(time.Second)
	if v, _ := read("app"); v != 1 || inner.gets.Load() != 1 {
		t.Fatalf("a read 1 s later made a GET (value %d, %d GETs)", v, inner.gets.Load())
	}
	if v, _ := read("bind"); v != 2 {
		t.Fatalf("another Secret was answered from the first: %d", v)
	}
	now = now.Add(2 * time.Second)
	if v, _ := read("app"); v != 3 {
		t.Fatalf("a read after the reuse time did not GET again: %d", v)
	}
	if len(r.got) != 1 {
		t.Errorf("expired Secrets are still held: %d", len(r.got))
	}

	// Errors are not remembered.
	for range 2 {
		var s corev1.Secret
		if err := r.Get(ctx, client.ObjectKey{Namespace: "ops", Name: "missing"}, &s); !apierrors.IsNotFound(err) {
			t.Fatalf("missing Secret: %v", err)
		}
	}
	if inner.gets.Load() != 5 {
		t.Errorf("%d GETs, want 5: a failed read must not be reused", inner.gets.Load())
	}

	// What a caller does to its copy does not reach the next reader.
	var s corev1.Secret
	_ = r.Get(ctx, client.ObjectKey{Namespace: "ops", Name: "app"}, &s)
	s.Data["v"][0] = 99
	if v, _ := read("app"); v != 3 {
		t.Errorf("a caller's change leaked into the reused Secret: %d", v)
	}
}

// Concurrent readers of one Secret share one GET.
func TestRecentSecretsConcurrentReadersShareAGet(t *testing.T) {
	inner := &countingReader{}
	r := newRecentSecrets(inner, time.Minute, nil)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			var s corev1.Secret
			if err := r.Get(context.Background(), client.ObjectKey{Namespace: "ops", Name: "app"}, &s); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := inner.gets.Load(); n > 2 {
		t.Errorf("16 concurrent reads made %d GETs", n)
	}
}
