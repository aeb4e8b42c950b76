package emulator_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/entramatch/entra-match-operator/internal/emulator"
)

// msgraph-sdk-go's users delta request builder (GET /users/delta(), the
// function call form) runs a round against the emulator, follows the
// deltaLink with WithUrl, and reads @removed from the additional data
// (https://learn.microsoft.com/en-us/graph/delta-query-users).
func TestSDKUsersDelta(t *testing.T) {
	env := newSDKEnv(t)
	ctx := context.Background()
	var ids []string
	for i := 0; i < 120; i++ {
		u, err := env.srv.AddUser(emulator.User{UserPrincipalName: fmt.Sprintf("d%03d@%s", i, sdkVanity), DisplayName: fmt.Sprintf("D %d", i),
			MailNickname: fmt.Sprintf("d%03d", i), AccountEnabled: ptr(true), OnPremisesImmutableID: ptr(fmt.Sprintf("dAnchor%03d", i))})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	reader, _ := env.graph(t, env.secretCredential(t, sdkReader, sdkSecret), "127.0.0.1")
	admin, _ := env.graph(t, env.secretCredential(t, sdkAdmin, sdkSecret), "127.0.0.1")

	round := func(first func() (users.DeltaGetResponseable, error)) ([]models.Userable, string) {
		t.Helper()
		var all []models.Userable
		page, err := first()
		for {
			if err != nil {
				t.Fatalf("delta page: %v", err)
			}
			all = append(all, page.GetValue()...)
			if link := deref(page.GetOdataDeltaLink()); link != "" {
				return all, link
			}
			page, err = reader.Users().Delta().WithUrl(deref(page.GetOdataNextLink())).GetAsDeltaGetResponse(ctx, nil)
		}
	}
	all, link := round(func() (users.DeltaGetResponseable, error) {
		return reader.Users().Delta().GetAsDeltaGetResponse(ctx, &users.DeltaRequestBuilderGetRequestConfiguration{
			QueryParameters: &users.DeltaRequestBuilderGetQueryParameters{Select: []string{"id", "onPremisesImmutableId"}}})
	})
	if len(all) != 120 || deref(all[0].GetOnPremisesImmutableId()) == "" || all[0].GetDisplayName() != nil {
		t.Fatalf("initial round: %d users, first %v/%v", len(all), deref(all[0].GetOnPremisesImmutableId()), all[0].GetDisplayName())
	}

	patch := models.NewUser()
	patch.SetOnPremisesImmutableId(ptr("dMoved000"))
	if _, err := admin.Users().ByUserId(ids[0]).Patch(ctx, patch, nil); err != nil {
		t.Fatal(err)
	}
	if err := admin.Users().ByUserId(ids[1]).Delete(ctx, nil); err != nil {
		t.Fatal(err)
	}
	changes, _ := round(func() (users.DeltaGetResponseable, error) {
		return reader.Users().Delta().WithUrl(link).GetAsDeltaGetResponse(ctx, nil)
	})
	got := map[string]models.Userable{}
	for _, u := range changes {
		got[deref(u.GetId())] = u
	}
	if len(got) != 2 || deref(got[ids[0]].GetOnPremisesImmutableId()) != "dMoved000" {
		t.Fatalf("changes: %d, immutable id %v", len(got), got[ids[0]])
	}
	// The SDK does not model @removed; it lands in the additional data.
	if _, ok := got[ids[1]].GetAdditionalData()["@removed"]; !ok {
		t.Errorf("removed user lacks @removed: %v", got[ids[1]].GetAdditionalData())
	}

	// An expired or unknown token is a 400 syncStateNotFound (graph errors, code table).
	_, err := reader.Users().Delta().WithUrl(env.srv.URL()+"/v1.0/users/delta?$deltatoken=unknown").GetAsDeltaGetResponse(ctx, nil)
	if status, code, _ := odataError(t, err); status != http.StatusBadRequest || code != "syncStateNotFound" {
		t.Errorf("unknown token: %d %s", status, code)
	}
}
