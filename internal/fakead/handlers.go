package fakead

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"strings"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/jimlambrt/gldap"
)

// routes maps each LDAP operation to its handler.
func (l *listener) routes() (*gldap.Mux, error) {
	mux, err := gldap.NewMux()
	if err != nil {
		return nil, err
	}
	errs := []error{
		mux.Bind(l.guard(gldap.ApplicationBindResponse, l.handleBind)),
		mux.Search(l.guard(gldap.ApplicationSearchResultDone, l.handleSearch)),
		mux.Modify(l.guard(gldap.ApplicationModifyResponse, l.handleModify)),
		mux.Add(l.guard(gldap.ApplicationAddResponse, l.handleAdd)),
		mux.Delete(l.guard(gldap.ApplicationDelResponse, l.handleDelete)),
		mux.ExtendedOperation(l.guard(gldap.ApplicationExtendedResponse, l.handleStartTLS), gldap.ExtendedOperationStartTLS),
		mux.DefaultRoute(l.guard(gldap.ApplicationExtendedResponse, l.handleUnsupported)),
	}
	return mux, errors.Join(errs...)
}

// guard answers with "other" instead of letting a panic in a handler end
// the process: gldap runs handlers in goroutines without recovery.
func (l *listener) guard(appCode int, h gldap.HandlerFunc) gldap.HandlerFunc {
	return func(w *gldap.ResponseWriter, r *gldap.Request) {
		defer func() {
			if p := recover(); p != nil {
				_ = w.Write(r.NewResponse(gldap.WithApplicationCode(appCode), gldap.WithResponseCode(gldap.ResultOther),
					gldap.WithDiagnosticMessage(fmt.Sprintf("internal error: %v", p))))
			}
		}()
		h(w, r)
	}
}

func (l *listener) handleBind(w *gldap.ResponseWriter, r *gldap.Request) {
	resp := r.NewBindResponse(gldap.WithResponseCode(gldap.ResultSuccess))
	m, err := r.GetSimpleBindMessage()
	if err != nil {
		resp.SetResultCode(gldap.ResultAuthMethodNotSupported)
		_ = w.Write(resp)
		return
	}
	s := l.session(r.ConnectionID())
	l.mu.Lock()
	secure := s.tls
	// A bind starts over: whatever happens, the old identity is gone.
	s.principal = ""
	l.mu.Unlock()
	if !secure && (m.UserName != "" || m.Password != "") {
		setResult(resp.SetResultCode, resp.SetDiagnosticMessage, resp.SetMatchedDN, errStrongAuthRequired())
		_ = w.Write(resp)
		return
	}
	principal, lerr := l.srv.store.bind(m.UserName, string(m.Password))
	if lerr != nil {
		setResult(resp.SetResultCode, resp.SetDiagnosticMessage, resp.SetMatchedDN, lerr)
		_ = w.Write(resp)
		return
	}
	l.mu.Lock()
	s.principal = principal
	l.mu.Unlock()
	_ = w.Write(resp)
}

func setResult(code func(int), diag func(string), matched func(string), e *ldapError) {
	code(e.code)
	diag(e.diag)
	if e.matched != "" {
		matched(e.matched)
	}
}

func (l *listener) handleStartTLS(w *gldap.ResponseWriter, r *gldap.Request) {
	resp := r.NewExtendedResponse(gldap.WithResponseCode(gldap.ResultSuccess))
	resp.SetResponseName(gldap.ExtendedOperationStartTLS)
	s := l.session(r.ConnectionID())
	l.mu.Lock()
	already := s.tls
	l.mu.Unlock()
	if already {
		resp.SetResultCode(gldap.ResultOperationsError)
		resp.SetDiagnosticMessage("00000000: LdapErr: DSID-0C091257, comment: TLS or SSL already in effect, data 0, " + adVersion)
		_ = w.Write(resp)
		return
	}
	if err := w.Write(resp); err != nil {
		return
	}
	if err := r.StartTLS(l.srv.tls); err != nil {
		// The client sees the handshake fail; nothing more can be said on
		// a connection in an unknown state.
		return
	}
	l.mu.Lock()
	s.tls = true
	l.mu.Unlock()
}

func (l *listener) handleUnsupported(w *gldap.ResponseWriter, r *gldap.Request) {
	_ = w.Write(r.NewResponse(gldap.WithApplicationCode(gldap.ApplicationExtendedResponse),
		gldap.WithResponseCode(gldap.ResultProtocolError),
		gldap.WithDiagnosticMessage("0000203D: LdapErr: DSID-0C0C0A19, comment: Unknown extended request OID, data 0, "+adVersion)))
}

// checkControls refuses a critical control the server does not implement,
// as RFC 4511 section 4.1.11 requires, and reports which known ones are
// present.
func checkControls(controls []gldap.Control) (paging *gldap.ControlPaging, permissive bool, lerr *ldapError) {
	for _, c := range controls {
		switch ctl := c.(type) {
		case *gldap.ControlPaging:
			paging = ctl
		case *gldap.ControlString:
			switch ctl.ControlType {
			case oidPermissiveModify:
				permissive = true
			default:
				if ctl.Criticality {
					return nil, false, errCriticalExtension(ctl.ControlType)
				}
			}
		}
	}
	return paging, permissive, nil
}

func (l *listener) handleSearch(w *gldap.ResponseWriter, r *gldap.Request) {
	done := r.NewSearchDoneResponse(gldap.WithResponseCode(gldap.ResultSuccess))
	fail := func(e *ldapError) {
		setResult(done.SetResultCode, done.SetDiagnosticMessage, done.SetMatchedDN, e)
		_ = w.Write(done)
	}
	m, err := r.GetSearchMessage()
	if err != nil {
		fail(errProtocol("not a search request"))
		return
	}
	f, err := parseFilter(m.Filter)
	if err != nil {
		fail(errProtocol("invalid filter"))
		return
	}
	paging, _, lerr := checkControls(m.Controls)
	if lerr != nil {
		fail(lerr)
		return
	}
	sel := newAttrSelection(m.Attributes, m.TypesOnly)
	st := l.srv.store
	if strings.TrimSpace(m.BaseDN) == "" {
		// The root DSE is readable without binding; other searches from
		// the empty base would need the phantom-root control.
		if m.Scope == gldap.BaseObject {
			writeResults(w, r, st.rootDSE(f, sel))
		}
		_ = w.Write(done)
		return
	}
	principal := l.principal(r.ConnectionID())
	params := searchParams{baseDN: m.BaseDN, scope: int64(m.Scope), filter: f}

	if paging == nil {
		keys, lerr := st.find(principal, params)
		if lerr != nil {
			fail(lerr)
			return
		}
		limit := st.cfg.MaxPageSize
		if m.SizeLimit > 0 && m.SizeLimit < int64(limit) {
			limit = int(m.SizeLimit)
		}
		if len(keys) > limit {
			keys = keys[:limit]
			done.SetResultCode(gldap.ResultSizeLimitExceeded)
		}
		writeResults(w, r, st.read(keys, sel))
		_ = w.Write(done)
		return
	}

	fingerprint := strings.ToLower(m.BaseDN) + "\x00" + strconv.Itoa(int(m.Scope)) + "\x00" + f.String()
	var ps *pagedSearch
	if len(paging.Cookie) > 0 {
		ps = l.takePage(r.ConnectionID(), string(paging.Cookie))
		if ps == nil || ps.fingerprint != fingerprint {
			fail(errUnwilling("the paged results cookie is unknown or belongs to another search"))
			return
		}
		if paging.PagingSize == 0 {
			// RFC 2696: a zero size with a cookie abandons the search.
			done.SetControls(&gldap.ControlPaging{})
			_ = w.Write(done)
			return
		}
	} else {
		keys, lerr := st.find(principal, params)
		if lerr != nil {
			fail(lerr)
			return
		}
		ps = &pagedSearch{fingerprint: fingerprint, keys: keys, sel: sel}
		if m.SizeLimit > 0 && int64(len(keys)) > m.SizeLimit {
			ps.keys, ps.truncated = keys[:m.SizeLimit], true
		}
	}
	size := int(paging.PagingSize)
	if size <= 0 || size > st.cfg.MaxPageSize {
		size = st.cfg.MaxPageSize
	}
	end := min(ps.pos+size, len(ps.keys))
	page := ps.keys[ps.pos:end]
	ps.pos = end
	writeResults(w, r, st.read(page, ps.sel))

	resp := &gldap.ControlPaging{}
	switch {
	case ps.pos < len(ps.keys):
		cookie, err := l.putPage(r.ConnectionID(), ps)
		if err != nil {
			fail(asLDAPError(err))
			return
		}
		resp.Cookie = []byte(cookie)
	case ps.truncated:
		done.SetResultCode(gldap.ResultSizeLimitExceeded)
	}
	done.SetControls(resp)
	_ = w.Write(done)
}

func writeResults(w *gldap.ResponseWriter, r *gldap.Request, results []result) {
	for _, res := range results {
		e := r.NewSearchResponseEntry(res.dn)
		for _, a := range res.attrs {
			vals := make([]string, len(a.values))
			for i, v := range a.values {
				vals[i] = string(v)
			}
			e.AddAttribute(a.name, vals)
		}
		if err := w.Write(e); err != nil {
			return
		}
	}
}

func (l *listener) takePage(id int, cookie string) *pagedSearch {
	s := l.session(id)
	l.mu.Lock()
	defer l.mu.Unlock()
	ps, ok := s.pages[cookie]
	if !ok {
		return nil
	}
	delete(s.pages, cookie)
	for i, c := range s.order {
		if c == cookie {
			s.order = append(s.order[:i], s.order[i+1:]...)
			break
		}
	}
	return ps
}

func (l *listener) putPage(id int, ps *pagedSearch) (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("making a paged results cookie: %w", err)
	}
	cookie := string(b)
	s := l.session(id)
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(s.order) >= maxPagedSearchesPerConn {
		delete(s.pages, s.order[0])
		s.order = s.order[1:]
	}
	s.pages[cookie] = ps
	s.order = append(s.order, cookie)
	return cookie, nil
}

func (l *listener) handleModify(w *gldap.ResponseWriter, r *gldap.Request) {
	resp := r.NewModifyResponse(gldap.WithResponseCode(gldap.ResultSuccess))
	m, err := r.GetModifyMessage()
	if err != nil {
		resp.SetResultCode(gldap.ResultProtocolError)
		_ = w.Write(resp)
		return
	}
	_, permissive, lerr := checkControls(m.Controls)
	if lerr == nil {
		changes := make([]change, len(m.Changes))
		for i, c := range m.Changes {
			vals, err := modifyValues(c.Modification.Vals)
			if err != nil {
				lerr = errProtocol("malformed modify values")
				break
			}
			changes[i] = change{op: c.Operation, attr: c.Modification.Type, values: vals}
		}
		if lerr == nil {
			principal := l.principal(r.ConnectionID())
			lerr = l.srv.store.modify(principal, m.DN, changes, permissive)
		}
	}
	if lerr != nil {
		setResult(resp.SetResultCode, resp.SetDiagnosticMessage, resp.SetMatchedDN, lerr)
	}
	_ = w.Write(resp)
}

func (l *listener) handleAdd(w *gldap.ResponseWriter, r *gldap.Request) {
	m, err := r.GetAddMessage()
	var lerr *ldapError
	switch {
	case err != nil:
		lerr = errProtocol("not an add request")
	default:
		_, _, lerr = checkControls(m.Controls)
	}
	if lerr == nil {
		attrs := make([]change, len(m.Attributes))
		for i, a := range m.Attributes {
			attrs[i] = change{op: modAdd, attr: a.Type, values: toBytes(a.Vals)}
		}
		principal := l.principal(r.ConnectionID())
		_, lerr = l.srv.store.add(principal, m.DN, attrs, addOptions{})
	}
	_ = w.Write(resultResponse(r, gldap.ApplicationAddResponse, lerr))
}

func (l *listener) handleDelete(w *gldap.ResponseWriter, r *gldap.Request) {
	m, err := r.GetDeleteMessage()
	var lerr *ldapError
	switch {
	case err != nil:
		lerr = errProtocol("not a delete request")
	default:
		_, _, lerr = checkControls(m.Controls)
	}
	if lerr == nil {
		principal := l.principal(r.ConnectionID())
		lerr = l.srv.store.remove(principal, m.DN)
	}
	_ = w.Write(resultResponse(r, gldap.ApplicationDelResponse, lerr))
}

func resultResponse(r *gldap.Request, appCode int, lerr *ldapError) *gldap.GeneralResponse {
	if lerr == nil {
		return r.NewResponse(gldap.WithApplicationCode(appCode), gldap.WithResponseCode(gldap.ResultSuccess))
	}
	return r.NewResponse(gldap.WithApplicationCode(appCode), gldap.WithResponseCode(lerr.code),
		gldap.WithDiagnosticMessage(lerr.diag), gldap.WithMatchedDN(lerr.matched))
}

// modifyValues recovers the values of one modification. gldap v0.1.14
// hands over the content of the value SET rather than the values: the
// BER-encoded OCTET STRINGs one after the other (and "" for no values),
// so they are decoded here.
func modifyValues(sets []string) ([][]byte, error) {
	var out [][]byte
	for _, set := range sets {
		r := bytes.NewReader([]byte(set))
		for r.Len() > 0 {
			p, err := ber.ReadPacket(r)
			if err != nil {
				return nil, err
			}
			if p.ClassType != ber.ClassUniversal || p.TagType != ber.TypePrimitive || p.Tag != ber.TagOctetString {
				return nil, fmt.Errorf("modify value is not an OCTET STRING")
			}
			out = append(out, p.Data.Bytes())
		}
	}
	return out, nil
}

func toBytes(values []string) [][]byte {
	out := make([][]byte, len(values))
	for i, v := range values {
		out[i] = []byte(v)
	}
	return out
}
