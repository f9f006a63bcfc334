package logsync

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/sqlitedb"
)

// Blocklist is the set of actors whose activities the node drops, on
// gossip, in backfill and in deliveries: the blocked table of lyceum.db,
// owned state, kept in memory too (every gossip message asks whether its
// actor is blocked, and a read transaction on SQLite per message was 5 %
// of the simulator's CPU). It works offline too.
type Blocklist struct {
	db  *sqlitedb.DB
	set atomic.Pointer[map[string]struct{}]
	mu  sync.Mutex // orders writers
}

// OpenBlocklist reads the block list of db, creating its table.
func OpenBlocklist(ctx context.Context, db *sqlitedb.DB) (*Blocklist, error) {
	if _, err := db.SQL().ExecContext(ctx, `CREATE TABLE IF NOT EXISTS blocked (did TEXT PRIMARY KEY, reason TEXT NOT NULL DEFAULT '')`); err != nil {
		return nil, fmt.Errorf("create the block list: %w", err)
	}
	b := &Blocklist{db: db}
	return b, b.load(ctx)
}

// Has reports whether did is blocked.
func (b *Blocklist) Has(did string) bool {
	_, ok := (*b.set.Load())[did]
	return ok
}

// Block makes the node drop everything from an actor from now on.
func (b *Blocklist) Block(ctx context.Context, req api.BlockRequest) error {
	if _, err := activity.PublicKeyFromDID(req.Actor); err != nil {
		return api.Invalidf("%s is not a did:key", api.Quote(req.Actor))
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, err := b.db.Exec(ctx, `INSERT OR REPLACE INTO blocked (did, reason) VALUES (?, ?)`, req.Actor, req.Reason); err != nil {
		return fmt.Errorf("block %s: %w", req.Actor, err)
	}
	return b.load(ctx)
}

func (b *Blocklist) load(ctx context.Context) error {
	dids, err := b.db.Strings(ctx, `SELECT did FROM blocked`)
	if err != nil {
		return fmt.Errorf("read blocked actors: %w", err)
	}
	m := make(map[string]struct{}, len(dids))
	for _, d := range dids {
		m[d] = struct{}{}
	}
	b.set.Store(&m)
	return nil
}
