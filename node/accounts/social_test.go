package accounts_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/lyceum-oer/lyceum/node/accounts"
	"github.com/lyceum-oer/lyceum/node/actorlog"
	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/social"
	"github.com/lyceum-oer/lyceum/node/sqlitedb"
)

// The social room is the actor maker node.New wires in.
var (
	_ accounts.ActorMaker       = (*social.Service)(nil)
	_ accounts.LocalActorFinder = (*social.Service)(nil)
)

// With the real social room: an account's Person actor is in the log, a
// community's username is refused before any hashing, and accounts.db is
// a file apart from lyceum.db.
func TestAccountsOwnPersonActorsOfTheSocialRoom(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlitedb.Open(filepath.Join(dir, "lyceum.db"), sqlitedb.Options{ReadConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	views, err := social.OpenViews(db)
	if err != nil {
		t.Fatal(err)
	}
	log, err := actorlog.New(db, actorlog.WithApplier(views))
	if err != nil {
		t.Fatal(err)
	}
	soc := social.New(log, views, nil, nil, "12D3KooWEdQDJR6QSHPaLJjubQmT2wLSCdG7koruHTveU23kc3wK")
	if _, err := soc.CreateActor(ctx, api.CreateActorRequest{Username: "physics", Type: "Group"}); err != nil {
		t.Fatal(err)
	}

	accs, err := accounts.New(ctx, accounts.Config{Path: filepath.Join(dir, "accounts.db"), Password: accounts.Params{Time: 1, Memory: 64, Threads: 1}}, soc)
	if err != nil {
		t.Fatal(err)
	}
	defer accs.Close()
	a, err := accs.CreateAccount(ctx, api.CreateAccountRequest{Username: "ada", DisplayName: "Ada Lovelace", Password: "correct horse battery staple", Role: api.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	person, err := soc.LocalActorByName(ctx, "ada")
	if err != nil || person.DID != a.Actor || person.Type != "Person" || person.Name != "Ada Lovelace" {
		t.Fatalf("actor %+v (%v), account %+v", person, err, a)
	}
	_, err = accs.CreateAccount(ctx, api.CreateAccountRequest{Username: "physics", Password: "correct horse battery staple"})
	if api.KindOf(err) != api.KindConflict {
		t.Fatalf("an account took a community's username: %v", err)
	}
	var tables int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM sqlite_master WHERE name IN ('accounts', 'sessions', 'tokens')`).Scan(&tables); err != nil || tables != 0 {
		t.Fatalf("lyceum.db holds %d account tables (%v)", tables, err)
	}
}
