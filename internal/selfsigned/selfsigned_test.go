package selfsigned

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"testing"
	"time"
)

// A client trusting CAPEM completes a TLS handshake with the server
// certificate for each of its hosts, and for no other name.
func TestHandshake(t *testing.T) {
	a, err := New("test", []string{"127.0.0.1", "localhost"}, time.Now(), Lifetimes{CA: time.Hour, Server: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tls.X509KeyPair(append(append([]byte(nil), a.CertPEM...), a.CAPEM...), a.KeyPEM); err != nil {
		t.Fatalf("PEM key pair: %v", err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{a.Pair}, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	block, _ := pem.Decode(a.CAPEM)
	ca, err := x509.ParseCertificate(block.Bytes)
	if err != nil || !ca.IsCA {
		t.Fatalf("CA certificate: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	for name, wantOK := range map[string]bool{"127.0.0.1": true, "localhost": true, "example.com": false} {
		c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: pool, ServerName: name, MinVersion: tls.VersionTLS12})
		if (err == nil) != wantOK {
			t.Errorf("handshake as %s: err = %v, want success %t", name, err, wantOK)
		}
		if c != nil {
			c.Close()
		}
	}
	if _, err := New("test", nil, time.Now(), Lifetimes{}); err == nil {
		t.Error("no hosts must be refused")
	}
}
