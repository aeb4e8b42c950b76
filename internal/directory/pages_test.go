package directory

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/entramatch/entra-match-operator/internal/fakead"
)

// scopeSize spans three pages of pageSize.
const scopeSize = 2*pageSize + 234

// pagedDirectory is the embedded directory (it enforces the paged results
// control and AD's page size cap) holding scopeSize users named p0000...
func pagedDirectory(t *testing.T) *Client {
	t.Helper()
	const pass = "Pages-Passw0rd!"
	ad, err := fakead.New(fakead.Config{Domain: "pages.example.com", AdminPassword: pass})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ad.Close)
	for i := range scopeSize {
		sam := fmt.Sprintf("p%04d", i)
		if _, _, err := ad.AddUser(fakead.User{SAMAccountName: sam, UserPrincipalName: sam + "@pages.example.com"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := ad.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	c, err := Dial(context.Background(), Config{URLs: []string{ad.URL()}, BindDN: ad.AdminDN(), Password: pass, CAPEM: ad.CAPEM()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

const pagedFilter = "(sAMAccountName=p*)"

func requireEachOnce(t *testing.T, what string, sams []string) {
	t.Helper()
	seen := map[string]int{}
	for _, s := range sams {
		seen[s]++
	}
	for i := range scopeSize {
		if sam := fmt.Sprintf("p%04d", i); seen[sam] != 1 {
			t.Fatalf("%s: %s returned %d times, want once (%d returned in all)", what, sam, seen[sam], len(sams))
		}
	}
	if len(sams) != scopeSize {
		t.Fatalf("%s: %d returned, want %d", what, len(sams), scopeSize)
	}
}

// A scope larger than a page is read whole, each page converted before the
// next is asked for.
func TestScopeReadPageByPage(t *testing.T) {
	c := pagedDirectory(t)
	ctx := context.Background()

	users, err := c.UsersInScope(ctx, "", pagedFilter)
	if err != nil {
		t.Fatal(err)
	}
	sams := make([]string, len(users))
	for i, u := range users {
		sams[i] = u.SAMAccountName
	}
	requireEachOnce(t, "UsersInScope", sams)

	objects, err := c.ObjectsInScope(ctx, "", pagedFilter)
	if err != nil {
		t.Fatal(err)
	}
	sams = sams[:0]
	for _, o := range objects {
		if o.Kind != KindUser {
			t.Fatalf("%s is a %v, want a user", o.DN, o.Kind)
		}
		sams = append(sams, o.SAMAccountName)
	}
	requireEachOnce(t, "ObjectsInScope", sams)

	base, err := c.SearchBase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int
	err = c.do(ctx, "pages", func(conn *ldap.Conn) error {
		sizes = sizes[:0]
		return searchPages(conn, userSearch(base, pagedFilter), func(es []*ldap.Entry) error {
			sizes = append(sizes, len(es))
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(sizes) != fmt.Sprint([]int{pageSize, pageSize, 234}) {
		t.Errorf("pages of %v entries, want %d, %d, 234", sizes, pageSize, pageSize)
	}

	// A page that fails stops the search; the connection serves the next.
	stop := errors.New("stop here")
	pages := 0
	err = c.do(ctx, "pages", func(conn *ldap.Conn) error {
		return searchPages(conn, userSearch(base, pagedFilter), func([]*ldap.Entry) error { pages++; return stop })
	})
	if !errors.Is(err, stop) || pages != 1 {
		t.Errorf("err %v after %d pages, want %v after 1", err, pages, stop)
	}
	if users, err := c.UsersInScope(ctx, "", pagedFilter); err != nil || len(users) != scopeSize {
		t.Errorf("after a stopped search: %d users, %v", len(users), err)
	}
}

// A connection lost in the middle of a scope is redialled and the scope
// read again from the start: what the first attempt converted is dropped,
// not returned twice.
func TestScopeReadAgainAfterConnectionLoss(t *testing.T) {
	c := pagedDirectory(t)
	ctx := context.Background()
	base, err := c.SearchBase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	converted := 0
	sams, err := searchEach(c, ctx, "scope", userSearch(base, pagedFilter), func(e *ldap.Entry) (string, error) {
		converted++
		if converted == 10 {
			// do holds the lock on this goroutine; the next page's
			// search finds the connection closed.
			c.conn.Close()
		}
		return e.GetAttributeValue("sAMAccountName"), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if converted <= scopeSize {
		t.Fatalf("%d entries converted: the connection loss did not make the search run again", converted)
	}
	requireEachOnce(t, "after a redial", sams)
}
