package graphapi

import (
	"errors"
	"net/http"
	"testing"

	"github.com/entramatch/entra-match-operator/internal/emulator/grapherr"
	"github.com/entramatch/entra-match-operator/internal/emulator/tenant"
)

// FuzzDecodeBody feeds arbitrary bytes through the request-body decoders
// of PATCH /users and PATCH onPremisesSynchronization: they must never
// panic, and every refusal must be a Graph 400.
func FuzzDecodeBody(f *testing.F) {
	for _, s := range []string{
		`{"onPremisesImmutableId":"BpazOkLGm0iEtljAONPvOQ=="}`,
		`{"onPremisesImmutableId":null}`,
		`{"@odata.type":"#microsoft.graph.user","mail":"a@b.c","businessPhones":["1"]}`,
		`{"passwordProfile":{"password":"x","forceChangePasswordNextSignIn":true}}`,
		`{"features":{"blockSoftMatchEnabled":true},"configuration":{"accidentalDeletionPrevention":{"alertThreshold":5}}}`,
		`{"accountEnabled":"yes"}`, `[]`, `null`, `{"a":1}{}`, `{"displayName":"\u0000"}`,
	} {
		f.Add([]byte(s))
	}
	check := func(t *testing.T, err error) {
		if err == nil {
			return
		}
		var ge *grapherr.GraphError
		if !errors.As(err, &ge) || ge.Status != http.StatusBadRequest {
			t.Fatalf("refusal is not a Graph 400: %#v", err)
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		obj, err := decodeJSONObject(body)
		check(t, err)
		if err != nil {
			return
		}
		change, err := decodeUserChange(obj)
		check(t, err)
		if err == nil {
			u := tenant.User{ID: "00000000-0000-4000-8000-000000000001", UserPrincipalName: "a@contoso.com"}
			check(t, change.apply(&u))
		}
		_, err = applySyncPatch(tenant.DefaultSyncState(), obj)
		check(t, err)
	})
}
