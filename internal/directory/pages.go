package directory

import (
	"context"
	"slices"

	"github.com/go-ldap/ldap/v3"
)

// searchPages runs req as a paged search and hands each page's entries to
// page before the next page is asked for. go-ldap's entries keep their
// whole reply reachable (an attribute's ByteValues point into the packet),
// so holding every entry of a large scope until the end, as
// SearchWithPaging does, keeps every reply of the scope alive at once: for
// 10,000 users about 20 MB, where converting page by page keeps one page.
//
// When page fails, the server is told to drop the rest of the search.
func searchPages(conn *ldap.Conn, req *ldap.SearchRequest, page func([]*ldap.Entry) error) error {
	paging := ldap.NewControlPaging(pageSize)
	r := *req
	// A copy of the controls: the caller's request may be run again (a
	// redial repeats the whole search) and must not collect cookies.
	r.Controls = append(slices.Clip(req.Controls), paging)
	for {
		res, err := conn.Search(&r)
		if err != nil {
			return err
		}
		next, _ := ldap.FindControl(res.Controls, ldap.ControlTypePaging).(*ldap.ControlPaging)
		more := next != nil && len(next.Cookie) > 0
		if more {
			paging.SetCookie(next.Cookie)
		}
		if err := page(res.Entries); err != nil {
			if more {
				paging.PagingSize = 0
				_, _ = conn.Search(&r)
			}
			return err
		}
		if !more {
			return nil
		}
	}
}

// rawEntry keeps an entry as it came, for searches of a bounded size
// whose entries are read whole.
func rawEntry(e *ldap.Entry) (*ldap.Entry, error) { return e, nil }

// searchEach runs a paged search for op on the bound connection and
// converts every entry as its page arrives. A redial runs the search again
// from the start, so what was converted before is dropped first. An error
// from convert stops the search and is returned as it is.
func searchEach[T any](c *Client, ctx context.Context, op string, req *ldap.SearchRequest, convert func(*ldap.Entry) (T, error)) ([]T, error) {
	var out []T
	var convErr error
	err := c.do(ctx, op, func(conn *ldap.Conn) error {
		out, convErr = out[:0], nil
		return searchPages(conn, req, func(entries []*ldap.Entry) error {
			for _, e := range entries {
				v, err := convert(e)
				if err != nil {
					convErr = err
					return err
				}
				out = append(out, v)
			}
			return nil
		})
	})
	if convErr != nil {
		return nil, convErr
	}
	return out, err
}
