package emulator

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The load tests run 20 concurrent clients over HTTPS against a tenant of
// 10,000 users with the mix an operator produces: reads of one user by UPN
// with $select, advanced-query lookups by onPremisesImmutableId, and PATCHes
// of onPremisesImmutableId. Throttling is off (the library default), so the
// figures measure the emulator itself.
const (
	loadUsers   = 10000
	loadClients = 20
	// The first half of the users is only read; the second half is split
	// among the clients, each PATCHing only its own users.
	loadReadOnly = loadUsers / 2
)

type loadTenant struct {
	srv    *Server
	client *http.Client
	token  string
}

func loadAnchor(i int) string { return fmt.Sprintf("TG9hZA%06d==", i) }

func newLoadTenant(tb testing.TB) *loadTenant {
	tb.Helper()
	snap := Snapshot{
		Domains: []Domain{{ID: testVanity, AuthenticationType: "Managed", IsVerified: true, IsDefault: true}},
		Sync:    DefaultSyncState(),
	}
	for i := 0; i < loadUsers; i++ {
		snap.Users = append(snap.Users, User{
			ID: fmt.Sprintf("10ad0000-0000-4000-8000-%012d", i), UserPrincipalName: fmt.Sprintf("load%d@%s", i, testVanity),
			DisplayName: "Load", MailNickname: fmt.Sprintf("load%d", i), OnPremisesImmutableID: ptr(loadAnchor(i)),
			AccountEnabled: ptr(true), UserType: "Member",
		})
	}
	srv, err := New(Config{
		TenantID: testTenant, InitialDomain: testDomain, State: &snap,
		Apps: []App{{ClientID: adminApp, Secret: testSecret, Permissions: []string{"User.ReadWrite.All"}}},
	})
	if err != nil {
		tb.Fatal(err)
	}
	if err := srv.Start("127.0.0.1:0", tb.TempDir()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = srv.Close() })
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(srv.CACertPEM())
	tr := &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		MaxIdleConnsPerHost: loadClients,
	}
	tb.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {adminApp}, "client_secret": {testSecret},
		"scope": {"https://graph.microsoft.com/.default"}}
	res, err := client.PostForm(srv.URL()+"/"+testTenant+"/oauth2/v2.0/token", form)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		tb.Fatalf("token: %v", err)
	}
	return &loadTenant{srv: srv, client: client, token: tok.AccessToken}
}

type loadFigures struct {
	requests  int
	elapsed   time.Duration
	p50, p99  time.Duration
	heapInuse uint64
}

func (f loadFigures) perSecond() float64 { return float64(f.requests) / f.elapsed.Seconds() }

func (f loadFigures) String() string {
	return fmt.Sprintf("%d requests in %v: %.0f req/s, p50 %v, p99 %v, heap in use after load %.1f MiB",
		f.requests, f.elapsed.Round(time.Millisecond), f.perSecond(), f.p50, f.p99, float64(f.heapInuse)/(1<<20))
}

// run sends perClient requests from each of loadClients goroutines and
// checks every answer. It returns the figures and the anchor each PATCHed
// user must end with.
func (lt *loadTenant) run(perClient int) (loadFigures, map[int]string, error) {
	type outcome struct {
		latencies []time.Duration
		final     map[int]string
		err       error
	}
	outcomes := make([]outcome, loadClients)
	var wg sync.WaitGroup
	start := time.Now()
	for c := 0; c < loadClients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			o := &outcomes[c]
			o.final = map[int]string{}
			o.latencies = make([]time.Duration, 0, perClient)
			for n := 0; n < perClient && o.err == nil; n++ {
				t0 := time.Now()
				o.err = lt.step(c, n, o.final)
				o.latencies = append(o.latencies, time.Since(t0))
			}
		}(c)
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	final := map[int]string{}
	for _, o := range outcomes {
		if o.err != nil {
			return loadFigures{}, nil, o.err
		}
		all = append(all, o.latencies...)
		for k, v := range o.final {
			final[k] = v
		}
	}
	slices.Sort(all)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return loadFigures{
		requests: len(all), elapsed: elapsed,
		p50: all[len(all)/2], p99: all[len(all)*99/100],
		heapInuse: ms.HeapInuse,
	}, final, nil
}

// step is request n of client c: 60 % GET by UPN, 25 % advanced query,
// 15 % PATCH.
func (lt *loadTenant) step(c, n int, final map[int]string) error {
	read := (c*7919 + n*104729) % loadReadOnly
	switch n % 20 {
	case 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11:
		var u map[string]any
		path := fmt.Sprintf("/v1.0/users/load%d@%s?$select=id,onPremisesImmutableId,onPremisesSyncEnabled", read, testVanity)
		if err := lt.do(http.MethodGet, path, "", nil, http.StatusOK, &u); err != nil {
			return err
		}
		if u["onPremisesImmutableId"] != loadAnchor(read) {
			return fmt.Errorf("GET load%d: immutableId %v", read, u["onPremisesImmutableId"])
		}
	case 12, 13, 14, 15, 16:
		var page struct {
			Count int              `json:"@odata.count"`
			Value []map[string]any `json:"value"`
		}
		q := url.Values{"$filter": {"onPremisesImmutableId eq '" + loadAnchor(read) + "'"}, "$count": {"true"}, "$select": {"id"}}
		if err := lt.do(http.MethodGet, "/v1.0/users?"+q.Encode(), "", map[string]string{"ConsistencyLevel": "eventual"}, http.StatusOK, &page); err != nil {
			return err
		}
		if page.Count != 1 || len(page.Value) != 1 {
			return fmt.Errorf("advanced query for %s found %d", loadAnchor(read), page.Count)
		}
	default:
		// Client c owns users loadReadOnly+c, +c+20, ...
		owned := (loadUsers - loadReadOnly) / loadClients
		idx := loadReadOnly + c + loadClients*(n%owned)
		anchor := fmt.Sprintf("UGF0Y2g%02dx%05d", c, n)
		id := fmt.Sprintf("10ad0000-0000-4000-8000-%012d", idx)
		if err := lt.do(http.MethodPatch, "/v1.0/users/"+id, `{"onPremisesImmutableId":"`+anchor+`"}`, nil, http.StatusNoContent, nil); err != nil {
			return err
		}
		final[idx] = anchor
	}
	return nil
}

func (lt *loadTenant) do(method, path, body string, headers map[string]string, want int, out any) error {
	req, err := http.NewRequest(method, lt.srv.URL()+path, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+lt.token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := lt.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != want {
		return fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, raw)
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

// checkFinal verifies that every PATCHed user holds the last anchor its
// client wrote: no write was lost or interleaved.
func (lt *loadTenant) checkFinal(final map[int]string) error {
	snap := lt.srv.Snapshot()
	byID := map[string]string{}
	for _, u := range snap.Users {
		if u.OnPremisesImmutableID != nil {
			byID[u.ID] = *u.OnPremisesImmutableID
		}
	}
	for idx, want := range final {
		id := fmt.Sprintf("10ad0000-0000-4000-8000-%012d", idx)
		if byID[id] != want {
			return fmt.Errorf("user %d ends with anchor %q, want %q", idx, byID[id], want)
		}
	}
	return nil
}

// TestLoad prints the figures (go test -run TestLoad -v) and checks that
// every answer under load is right.
func TestLoad(t *testing.T) {
	lt := newLoadTenant(t)
	figures, final, err := lt.run(250)
	if err != nil {
		t.Fatal(err)
	}
	if err := lt.checkFinal(final); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d clients, %d users: %v", loadClients, loadUsers, figures)
}

// BenchmarkConcurrentClients reports requests/s, p99 latency and heap in
// use for the same mix; b.N is the total number of requests.
func BenchmarkConcurrentClients(b *testing.B) {
	lt := newLoadTenant(b)
	perClient := max(1, b.N/loadClients)
	b.ResetTimer()
	figures, final, err := lt.run(perClient)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	if err := lt.checkFinal(final); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(figures.perSecond(), "req/s")
	b.ReportMetric(float64(figures.p99.Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(figures.heapInuse)/(1<<20), "heap-MiB")
}
