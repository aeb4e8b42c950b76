package controllers

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/entramatch/entra-match-operator/internal/directory"
)

// A directory whose server accepts connections and never answers must not
// hold up the others: dials happen outside the factory's lock.
func TestSlowDirectoryDoesNotBlockOthers(t *testing.T) {
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, never answered
		}
	}()
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()

	f := NewCachingDirectoryFactory()
	defer f.Close()
	cfg := func(addr string) directory.Config {
		return directory.Config{URLs: []string{"ldaps://" + addr}, BaseDN: "DC=corp,DC=example", BindDN: "CN=a,DC=corp,DC=example", Password: "p"}
	}
	slowCtx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	started := make(chan struct{})
	go func() {
		close(started)
		_, _ = f.Directory(slowCtx, cfg(silent.Addr().String()))
	}()
	<-started
	time.Sleep(200 * time.Millisecond) // the slow dial is under way
	begin := time.Now()
	if _, err := f.Directory(context.Background(), cfg(closedAddr)); err == nil {
		t.Fatal("dialing a closed port succeeded")
	}
	if d := time.Since(begin); d > 2*time.Second {
		t.Errorf("another directory waited %v behind a slow dial", d)
	}
}
