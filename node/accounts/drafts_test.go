package accounts

import (
	"context"
	"strings"
	"testing"

	"github.com/lyceum-oer/lyceum/node/api"
)

func TestDraftsAreTheirAccountsAlone(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.MustAccount(t, "ada", api.RoleAdmin)
	f.MustAccount(t, "bob", "")
	fields := map[string][]string{"title": {"Fractions"}, "subjects": {"0541", "0533"}, "kept_cid": {"bafkqaaa"}}
	d, err := f.SaveDraft(ctx, "bob", 0, "Fractions", fields)
	if err != nil || d.ID == 0 {
		t.Fatalf("save: %+v (%v)", d, err)
	}
	f.reopen(t) // a saved draft is durable
	got, err := f.Draft(ctx, "bob", d.ID)
	if err != nil || got.Title != "Fractions" || strings.Join(got.Fields["subjects"], ",") != "0541,0533" {
		t.Fatalf("draft %+v (%v)", got, err)
	}

	// Nobody else — an admin neither — lists, opens, changes or deletes it.
	if list, err := f.Drafts(ctx, "ada"); err != nil || len(list) != 0 {
		t.Fatalf("ada lists %+v (%v)", list, err)
	}
	_, err = f.Draft(ctx, "ada", d.ID)
	wantKind(t, err, api.KindNotFound)
	_, err = f.SaveDraft(ctx, "ada", d.ID, "Mine now", fields)
	wantKind(t, err, api.KindNotFound)
	wantKind(t, f.DeleteDraft(ctx, "ada", d.ID), api.KindNotFound)

	// Saved again, it is the same draft, changed.
	if _, err := f.SaveDraft(ctx, "bob", d.ID, "Fractions, part 2", map[string][]string{"title": {"Fractions, part 2"}}); err != nil {
		t.Fatal(err)
	}
	list, err := f.Drafts(ctx, "bob")
	if err != nil || len(list) != 1 || list[0].Title != "Fractions, part 2" || len(list[0].Fields["subjects"]) != 0 {
		t.Fatalf("bob's drafts %+v (%v)", list, err)
	}
	if err := f.DeleteDraft(ctx, "bob", d.ID); err != nil {
		t.Fatal(err)
	}
	_, err = f.Draft(ctx, "bob", d.ID)
	wantKind(t, err, api.KindNotFound)
}

func TestDraftsAreBounded(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.MustAccount(t, "bob", "")
	_, err := f.SaveDraft(ctx, "bob", 0, "big", map[string][]string{"summary": {strings.Repeat("x", MaxDraftBytes)}})
	wantKind(t, err, api.KindInvalid)
	_, err = f.SaveDraft(ctx, "bob", 0, "bad", map[string][]string{"title": {"\xff"}})
	wantKind(t, err, api.KindInvalid)
	_, err = f.SaveDraft(ctx, "nobody", 0, "x", nil)
	wantKind(t, err, api.KindNotFound)
	for i := range MaxDrafts {
		if _, err := f.SaveDraft(ctx, "bob", 0, "d", map[string][]string{"n": {strings.Repeat("x", i)}}); err != nil {
			t.Fatalf("draft %d: %v", i, err)
		}
	}
	_, err = f.SaveDraft(ctx, "bob", 0, "one too many", nil)
	wantKind(t, err, api.KindConflict)
}
