package gateway

import (
	"context"
	"slices"
	"testing"

	"github.com/lyceum-oer/lyceum/node/api"
)

// An account's token keeps its own drafts only: another's is not found,
// never forbidden; the operator names the account; the fields come back
// as the web app's publish form reads them.
func TestDraftsAreTheAccountsOwn(t *testing.T) {
	tn := mustStartNode(t)
	ctx := context.Background()
	alice, _ := tn.mustAccount(t, "alice", api.RoleMember)
	bob, _ := tn.mustAccount(t, "bob", api.RoleMember)

	req := api.DraftRequest{PublishRequest: api.PublishRequest{
		Title: "Fractions", Summary: "Ten exercises.", License: "CC-BY-SA-4.0", Language: "fr", Subjects: []string{"0541", "053"},
		Keywords: []string{"fractions", "maths"}, Level: "1", Type: "assessment", FileCID: "bafkreih2kgoipvq3zgupul5d32gtpsgtz6k4qp6r3kmq2qtthmxya7f74i",
		Filename: "fractions.pdf", Creators: []api.Creator{{Name: "Ana Silva", Role: "author"}},
	}, Key: "k1"}
	d, err := alice.SaveDraft(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	got, err := alice.Draft(ctx, "", d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if back := got.Request(); back.Title != "Fractions" || back.Key != "k1" || !slices.Equal(back.Keywords, req.Keywords) ||
		!slices.Equal(back.Subjects, req.Subjects) || back.FileCID != req.FileCID || back.Filename != "fractions.pdf" ||
		len(back.Creators) != 1 || back.Creators[0].Name != "Ana Silva" || got.Fields["kept_cid"][0] != req.FileCID {
		t.Errorf("the draft reads back as %+v (fields %v)", back, got.Fields)
	}

	_, err = bob.Draft(ctx, "", d.ID)
	wantKind(t, err, api.KindNotFound)
	err = bob.DeleteDraft(ctx, "", d.ID)
	wantKind(t, err, api.KindNotFound)
	_, err = bob.Drafts(ctx, "alice")
	wantKind(t, err, api.KindForbidden)
	req.As = "alice"
	_, err = bob.SaveDraft(ctx, req)
	wantKind(t, err, api.KindForbidden)
	if ds, err := bob.Drafts(ctx, ""); err != nil || len(ds) != 0 {
		t.Fatalf("bob's drafts: %v, %v", ds, err)
	}

	// The operator names the account, and must.
	_, err = tn.client.Drafts(ctx, "")
	wantKind(t, err, api.KindInvalid)
	_, err = tn.client.SaveDraft(ctx, api.DraftRequest{PublishRequest: api.PublishRequest{Title: "x"}})
	wantKind(t, err, api.KindInvalid)
	_, err = tn.client.SaveDraft(ctx, api.DraftRequest{PublishRequest: api.PublishRequest{As: "nobody", Title: "x"}})
	wantKind(t, err, api.KindNotFound)
	if ds, err := tn.client.Drafts(ctx, "alice"); err != nil || len(ds) != 1 || ds[0].ID != d.ID {
		t.Fatalf("alice's drafts for the operator: %v, %v", ds, err)
	}
	if err := alice.DeleteDraft(ctx, "alice", d.ID); err != nil {
		t.Fatal(err)
	}
	_, err = tn.client.Draft(ctx, "alice", d.ID)
	wantKind(t, err, api.KindNotFound)
}
