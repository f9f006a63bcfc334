package actorlog

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/sqlitedb"
)

// LocalActor is an actor of this node: the node holds its private key and
// signs for it.
type LocalActor struct {
	DID      string
	Username string
	Type     string // Person or Group
	Created  time.Time
}

const localCols = `did, username, type, created FROM local_actors`

func scanLocal(row interface{ Scan(...any) error }) (LocalActor, error) {
	var a LocalActor
	var created string
	if err := row.Scan(&a.DID, &a.Username, &a.Type, &created); err != nil {
		return a, err
	}
	a.Created, _ = time.Parse(time.RFC3339Nano, created)
	return a, nil
}

// Local returns the local actor did; a KindNotFound error when did is not
// one of the node's.
func (l *Log) Local(ctx context.Context, did string) (LocalActor, error) {
	a, err := scanLocal(l.db.QueryRow(ctx, `SELECT `+localCols+` WHERE did = ?`, did))
	if errors.Is(err, sql.ErrNoRows) {
		return a, api.NotFoundf("%s is not an actor of this node", did)
	}
	if err != nil {
		return a, fmt.Errorf("local actor %s: %w", did, err)
	}
	return a, nil
}

// IsLocal reports whether did is an actor of this node.
func (l *Log) IsLocal(ctx context.Context, did string) bool {
	_, err := l.Local(ctx, did)
	return err == nil
}

// LocalByName finds a local actor by username; a KindNotFound error when
// there is none.
func (l *Log) LocalByName(ctx context.Context, username string) (LocalActor, error) {
	a, err := scanLocal(l.db.QueryRow(ctx, `SELECT `+localCols+` WHERE username = ?`, username))
	if errors.Is(err, sql.ErrNoRows) {
		return a, api.NotFoundf("no local actor %s", api.Quote(username))
	}
	if err != nil {
		return a, fmt.Errorf("local actor %s: %w", username, err)
	}
	return a, nil
}

// Locals lists the local actors of a type ("" = of every type), by
// username, at most limit (0 = all).
func (l *Log) Locals(ctx context.Context, typ string, limit int) ([]LocalActor, error) {
	if limit <= 0 {
		limit = -1
	}
	rows, err := l.db.Query(ctx, `SELECT `+localCols+` WHERE ? = '' OR type = ? ORDER BY username LIMIT ?`, typ, typ, limit)
	if err != nil {
		return nil, fmt.Errorf("local actors: %w", err)
	}
	return sqlitedb.Scan(rows, func(rows *sql.Rows) (LocalActor, error) { return scanLocal(rows) })
}

// key returns the private key of a local actor.
func (l *Log) key(ctx context.Context, did string) (ed25519.PrivateKey, error) {
	var key []byte
	err := l.db.QueryRow(ctx, `SELECT key FROM local_actors WHERE did = ?`, did).Scan(&key)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, api.Invalidf("%s is not an actor of this node: only its origin can sign for it", did)
	}
	if err != nil {
		return nil, fmt.Errorf("key of %s: %w", did, err)
	}
	return ed25519.PrivateKey(key), nil
}
