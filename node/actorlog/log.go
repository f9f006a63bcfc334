package actorlog

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/sqlitedb"
)

// Entry is one verified activity of an actor's log with its CID and
// canonical bytes.
type Entry struct {
	Act  *activity.Activity
	CID  cid.Cid
	Data []byte
	// Cursor is the entry's place in the order the node stored entries (0
	// until stored): it only grows.
	Cursor int64
	// Local is true for an activity of one of the node's own actors.
	Local bool
}

// Applier keeps state derived from the log in step with it: Apply runs in
// the transaction that stores es (the entries not stored before, in the
// order given), so that the derived state never disagrees with the log.
// It must depend only on the set of entries applied, never on their
// arrival order, except that an entry comes after the lower entries of
// its actor that it refers to.
type Applier interface {
	Apply(ctx context.Context, tx *sqlitedb.Tx, es []Entry) error
	// Clear empties the derived state, for a rebuild.
	Clear(ctx context.Context, tx *sqlitedb.Tx) error
}

// BlockGetter reads a block by CID: the entries stored before log entries
// moved into lyceum.db are in the block store.
type BlockGetter interface {
	GetBlock(ctx context.Context, c cid.Cid) ([]byte, error)
}

// Log is the node's copy of actors' logs over one SQLite database.
type Log struct {
	db       *sqlitedb.DB
	blocks   BlockGetter // nil: no entries in the block store
	appliers []Applier
	heads    *logHeads
	recent   *recentEntries
	tails    *tails
	counts   storeCounts // metrics.go

	// appendMu orders appends of local actors (seq numbering); storeMu
	// orders stores, so that a rebuild sees none under way.
	appendMu sync.Mutex
	storeMu  sync.RWMutex
}

// Option configures New.
type Option func(*Log)

// WithApplier adds a keeper of derived state; each is applied in the
// order added.
func WithApplier(a Applier) Option { return func(l *Log) { l.appliers = append(l.appliers, a) } }

// WithBlocks reads the entries of old repos from the block store.
func WithBlocks(b BlockGetter) Option { return func(l *Log) { l.blocks = b } }

// RecentEntries is how many just-stored entries a Log keeps decoded for
// its tails; a tail further behind reads the database.
const RecentEntries = 8000

const schema = `
CREATE TABLE IF NOT EXISTS local_actors (
	did      TEXT PRIMARY KEY,
	username TEXT NOT NULL UNIQUE,
	type     TEXT NOT NULL,
	key      BLOB NOT NULL,
	created  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS log_entries (
	actor     TEXT NOT NULL,
	seq       INTEGER NOT NULL,
	cid       TEXT NOT NULL UNIQUE,
	type      TEXT NOT NULL,
	published TEXT NOT NULL,
	body      BLOB,
	PRIMARY KEY (actor, seq)
);
`

// New opens the log in db, creating its tables.
func New(db *sqlitedb.DB, opts ...Option) (*Log, error) {
	l := &Log{db: db, heads: newLogHeads(), recent: newRecentEntries(RecentEntries), tails: newTails()}
	for _, o := range opts {
		o(l)
	}
	if _, err := db.SQL().Exec(schema); err != nil {
		return nil, fmt.Errorf("create the log's tables: %w", err)
	}
	if err := addLogBodies(db.SQL()); err != nil {
		return nil, fmt.Errorf("upgrade the log: %w", err)
	}
	last, err := l.LastCursor(context.Background())
	if err != nil {
		return nil, err
	}
	l.tails.last.Store(last)
	return l, nil
}

// addLogBodies adds the body column to a log_entries table made before
// log entries were kept in SQLite; their bytes stay in the block store,
// where Get still finds them.
func addLogBodies(db *sql.DB) error {
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM pragma_table_info('log_entries') WHERE name = 'body'`).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	_, err := db.Exec(`ALTER TABLE log_entries ADD COLUMN body BLOB`)
	return err
}

// Append numbers, signs and stores a new activity of the local actor did:
// it fills in Actor, Seq and Prev, and Published and To (the public) when
// they are unset. It returns the entry once it is durable.
func (l *Log) Append(ctx context.Context, did string, a *activity.Activity) (Entry, error) {
	key, err := l.key(ctx, did)
	if err != nil {
		return Entry{}, err
	}
	return l.appendSigned(ctx, did, key, a, nil)
}

// CreateLocal makes a local actor: its key is stored in the transaction
// that stores its first entry, profile (an Update of itself), so that a
// failure leaves neither. A taken username is a KindConflict error.
func (l *Log) CreateLocal(ctx context.Context, key ed25519.PrivateKey, profile *activity.Actor) (Entry, error) {
	did := activity.DIDKey(key.Public().(ed25519.PublicKey))
	insert := func(tx *sqlitedb.Tx) error {
		var taken int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM local_actors WHERE username = ?`, profile.PreferredUsername).Scan(&taken); err != nil {
			return err
		}
		if taken > 0 {
			return api.Errorf(api.KindConflict, "%s@%s exists already", profile.PreferredUsername, profile.Node)
		}
		_, err := tx.Exec(ctx, `INSERT INTO local_actors (did, username, type, key, created) VALUES (?, ?, ?, ?, ?)`,
			did, profile.PreferredUsername, string(profile.Type), []byte(key), time.Now().UTC().Format(time.RFC3339Nano))
		return err
	}
	return l.appendSigned(ctx, did, key, &activity.Activity{Type: activity.TypeUpdate, Object: activity.Object{Actor: profile}}, insert)
}

func (l *Log) appendSigned(ctx context.Context, did string, key ed25519.PrivateKey, a *activity.Activity, before func(*sqlitedb.Tx) error) (Entry, error) {
	l.appendMu.Lock()
	defer l.appendMu.Unlock()
	head, headCID, err := l.Head(ctx, did)
	if err != nil {
		return Entry{}, err
	}
	now := time.Now().UTC()
	a.Actor, a.Seq, a.Prev = did, head+1, ""
	if head > 0 {
		a.Prev = headCID
	}
	if a.Published.IsZero() {
		a.Published = now
	}
	if len(a.To) == 0 {
		a.To = []string{activity.PublicAudience}
	}
	if err := activity.Sign(a, key, now); err != nil {
		return Entry{}, invalidActivity(err)
	}
	c, data, err := activity.Block(a)
	if err != nil {
		return Entry{}, api.Invalidf("%v", err)
	}
	stored, err := l.store(ctx, []Entry{{Act: a, CID: c, Data: data, Local: true}}, before)
	if err != nil {
		return Entry{}, err
	}
	if len(stored) == 0 {
		return Entry{}, fmt.Errorf("append %s: seq %d was stored meanwhile", did, a.Seq)
	}
	return stored[0], nil
}

// Store makes verified activities durable and applies them, in one
// transaction, in the order given; it returns those not stored before,
// with their cursors. Storing an entry twice changes nothing.
func (l *Log) Store(ctx context.Context, es []Entry) ([]Entry, error) {
	return l.store(ctx, es, nil)
}

func (l *Log) store(ctx context.Context, es []Entry, before func(*sqlitedb.Tx) error) ([]Entry, error) {
	if len(es) == 0 {
		return nil, nil
	}
	l.storeMu.RLock()
	defer l.storeMu.RUnlock()
	// A store is a few point writes and a commit; interrupting it only
	// wastes the work, and with a context that can end the SQLite driver
	// starts a watcher goroutine per statement: 9 % of the ingest loop's
	// time went to scheduling them (go tool trace -pprof=sched).
	ctx = context.WithoutCancel(ctx)
	stored := make([]Entry, 0, len(es))
	pending := l.heads.storing(es)
	err := l.db.Tx(ctx, func(tx *sqlitedb.Tx) error {
		if before != nil {
			if err := before(tx); err != nil {
				return err
			}
		}
		for _, e := range es {
			if len(e.Data) > activity.DefaultMaxSize {
				return fmt.Errorf("store %s: %d bytes, more than %d", e.CID, len(e.Data), activity.DefaultMaxSize)
			}
			res, err := tx.Exec(ctx, `INSERT OR IGNORE INTO log_entries (actor, seq, cid, type, published, body) VALUES (?, ?, ?, ?, ?, ?)`,
				e.Act.Actor, e.Act.Seq, e.CID.String(), string(e.Act.Type), e.Act.Published.UTC().Format(time.RFC3339Nano), e.Data)
			if err != nil {
				return fmt.Errorf("store %s: %w", e.CID, err)
			}
			if k, _ := res.RowsAffected(); k == 0 {
				continue // already stored
			}
			if e.Cursor, err = res.LastInsertId(); err != nil {
				return fmt.Errorf("store %s: %w", e.CID, err)
			}
			stored = append(stored, e)
		}
		for _, a := range l.appliers {
			if err := a.Apply(ctx, tx, stored); err != nil {
				return err
			}
		}
		return nil
	})
	l.heads.stored(pending, err == nil, stored)
	if err != nil {
		return nil, err
	}
	if len(stored) > 0 {
		l.counts.count(stored)
		l.recent.put(stored)
		l.tails.wake(stored[len(stored)-1].Cursor)
		l.recent.dropThrough(l.tails.read()) // none to keep without tails
	}
	return stored, nil
}

// Head is the highest seq stored for an actor and its CID (0, "" when
// none is).
func (l *Log) Head(ctx context.Context, did string) (uint64, string, error) {
	var seq uint64
	var c string
	err := l.db.QueryRow(ctx, `SELECT seq, cid FROM log_entries WHERE actor = ? ORDER BY seq DESC LIMIT 1`, did).Scan(&seq, &c)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", nil
	}
	if err != nil {
		return 0, "", fmt.Errorf("log head of %s: %w", did, err)
	}
	return seq, c, nil
}

// Contiguous is the largest k such that seqs 1..k of the actor are all
// stored: below it nothing is missing.
func (l *Log) Contiguous(ctx context.Context, did string) (uint64, error) {
	if k, ok := l.heads.contiguous(did); ok {
		return k, nil
	}
	epoch := l.heads.readStart()
	// Most logs have no gap: then the count of entries is the last seq.
	var count, last uint64
	if err := l.db.QueryRow(ctx, `SELECT count(*), coalesce(max(seq), 0) FROM log_entries WHERE actor = ?`, did).Scan(&count, &last); err != nil {
		return 0, err
	}
	if count == last {
		l.heads.learn(did, last, false, epoch)
		return last, nil
	}
	rows, err := l.db.Query(ctx, `SELECT seq FROM log_entries WHERE actor = ? ORDER BY seq`, did)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var k uint64
	for rows.Next() {
		var s uint64
		if err := rows.Scan(&s); err != nil {
			return 0, err
		}
		if s != k+1 {
			break
		}
		k = s
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	l.heads.learn(did, k, true, epoch)
	return k, nil
}

// Has reports whether an activity is stored, and whether another one
// holds its actor's seq (a fork). With read set it asks the read pool,
// which never waits for a store under way (the gossip validators).
func (l *Log) Has(ctx context.Context, a *activity.Activity, c cid.Cid, read bool) (have bool, fork bool, err error) {
	if l.heads.unstored(a.Actor, a.Seq) {
		return false, false, nil
	}
	const q = `SELECT cid FROM log_entries WHERE actor = ? AND seq = ?`
	var stored string
	if read {
		err = l.db.ReadRow(ctx, q, a.Actor, a.Seq).Scan(&stored)
	} else {
		err = l.db.QueryRow(ctx, q, a.Actor, a.Seq).Scan(&stored)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return false, false, nil
	}
	if err != nil {
		return false, false, err
	}
	return stored == c.String(), stored != c.String(), nil
}

// HasCID reports whether the activity c is stored.
func (l *Log) HasCID(ctx context.Context, c string) (bool, error) {
	n, err := l.db.Count(ctx, `SELECT count(*) FROM log_entries WHERE cid = ?`, c)
	return n > 0, err
}

// Get reads a stored activity by its CID; a KindNotFound error when it
// is not stored.
func (l *Log) Get(ctx context.Context, c cid.Cid) (Entry, error) {
	var body []byte
	var cursor int64
	var local bool
	err := l.db.QueryRow(ctx, `SELECT e.rowid, e.body, l.did IS NOT NULL FROM log_entries e
		LEFT JOIN local_actors l ON l.did = e.actor WHERE e.cid = ?`, c.String()).Scan(&cursor, &body, &local)
	if errors.Is(err, sql.ErrNoRows) {
		return Entry{}, api.NotFoundf("no activity %s stored here", c)
	}
	if err != nil {
		return Entry{}, fmt.Errorf("activity %s: %w", c, err)
	}
	if body == nil && l.blocks != nil {
		if body, err = l.blocks.GetBlock(ctx, c); err != nil {
			return Entry{}, fmt.Errorf("activity %s: %w", c, err)
		}
	}
	e, err := decodeStored(c, body)
	e.Cursor, e.Local = cursor, local
	return e, err
}

// decodeStored decodes an activity the node stored, verified, as c.
func decodeStored(c cid.Cid, data []byte) (Entry, error) {
	a, err := activity.Decode(data)
	if err != nil {
		return Entry{}, fmt.Errorf("activity %s: %w", c, err)
	}
	return Entry{Act: a, CID: c, Data: data}, nil
}

// LookupBlock serves the log entries kept in log_entries.body to the block
// store, and through it to bitswap, the gateway and CAR export.
func (l *Log) LookupBlock(ctx context.Context, c cid.Cid) ([]byte, bool, error) {
	if c.Prefix().Codec != activity.CodecJSON {
		return nil, false, nil // file blocks are never log entries
	}
	var body []byte
	err := l.db.QueryRow(ctx, `SELECT body FROM log_entries WHERE cid = ?`, c.String()).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && body == nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return body, true, nil
}

// Page returns the bytes of up to max entries of did's log below seq below
// (below 0: from the head down), newest first, at most maxBytes in all.
func (l *Log) Page(ctx context.Context, did string, below uint64, max, maxBytes int) ([][]byte, error) {
	if below == 0 {
		below = 1 << 62
	}
	rows, err := l.db.Query(ctx, `SELECT cid, body FROM log_entries WHERE actor = ? AND seq < ? ORDER BY seq DESC LIMIT ?`, did, below, max)
	if err != nil {
		return nil, fmt.Errorf("page of %s: %w", did, err)
	}
	type stored struct {
		cid  string
		body []byte
	}
	page, err := sqlitedb.Scan(rows, func(rows *sql.Rows) (stored, error) {
		var s stored
		return s, rows.Scan(&s.cid, &s.body)
	})
	if err != nil {
		return nil, fmt.Errorf("page of %s: %w", did, err)
	}
	var out [][]byte
	size := 0
	for _, s := range page {
		data := s.body
		if data == nil && l.blocks != nil {
			c, err := cid.Decode(s.cid)
			if err != nil {
				break
			}
			if data, err = l.blocks.GetBlock(ctx, c); err != nil {
				break
			}
		}
		if data == nil || size+len(data) > maxBytes {
			break
		}
		size += len(data)
		out = append(out, data)
	}
	return out, nil
}

// LastCursor is the cursor of the newest stored entry (0 if none).
func (l *Log) LastCursor(ctx context.Context) (int64, error) {
	var c sql.NullInt64
	if err := l.db.QueryRow(ctx, `SELECT max(rowid) FROM log_entries`).Scan(&c); err != nil {
		return 0, fmt.Errorf("last cursor: %w", err)
	}
	return c.Int64, nil
}

// After reads up to limit entries stored after cursor, in the order they
// were stored: from the entries just stored when it can, else from the
// read pool, which never waits for a store under way.
func (l *Log) After(ctx context.Context, cursor int64, limit int) ([]Entry, error) {
	if es := l.recent.run(cursor+1, limit); len(es) > 0 {
		return es, nil
	}
	rows, err := l.db.ReadQuery(ctx, `SELECT e.rowid, e.cid, e.body, l.did IS NOT NULL FROM log_entries e
		LEFT JOIN local_actors l ON l.did = e.actor WHERE e.rowid > ? ORDER BY e.rowid LIMIT ?`, cursor, limit)
	if err != nil {
		return nil, fmt.Errorf("read the log after %d: %w", cursor, err)
	}
	type row struct {
		cursor int64
		cid    string
		body   []byte
		local  bool
	}
	page, err := sqlitedb.Scan(rows, func(rows *sql.Rows) (row, error) {
		var r row
		return r, rows.Scan(&r.cursor, &r.cid, &r.body, &r.local)
	})
	if err != nil {
		return nil, fmt.Errorf("read the log after %d: %w", cursor, err)
	}
	es := make([]Entry, 0, len(page))
	for _, r := range page {
		if e, ok := l.recent.get(r.cursor); ok {
			es = append(es, e)
			continue
		}
		c, err := cid.Decode(r.cid)
		if err != nil {
			return nil, fmt.Errorf("read the log: bad CID %q at %d", r.cid, r.cursor)
		}
		if r.body == nil && l.blocks != nil {
			if r.body, err = l.blocks.GetBlock(ctx, c); err != nil {
				return nil, fmt.Errorf("read the log: %w", err)
			}
		}
		e, err := decodeStored(c, r.body)
		if err != nil {
			return nil, err
		}
		e.Cursor, e.Local = r.cursor, r.local
		es = append(es, e)
	}
	return es, nil
}

// Rebuild empties the derived state of every Applier and applies every
// stored entry again, actor by actor in seq order, in one transaction
// during which nothing is stored; it returns how many entries it applied.
// The result equals the state built as entries arrived, since Appliers
// depend only on the set of entries.
func (l *Log) Rebuild(ctx context.Context) (int, error) {
	l.appendMu.Lock()
	defer l.appendMu.Unlock()
	l.storeMu.Lock()
	defer l.storeMu.Unlock()
	applied := 0
	err := l.db.Tx(ctx, func(tx *sqlitedb.Tx) error {
		for _, a := range l.appliers {
			if err := a.Clear(ctx, tx); err != nil {
				return err
			}
		}
		actor, seq := "", uint64(0)
		for {
			page, err := l.pageInOrder(ctx, tx, actor, seq, 2000)
			if err != nil || len(page) == 0 {
				return err
			}
			for _, a := range l.appliers {
				if err := a.Apply(ctx, tx, page); err != nil {
					return err
				}
			}
			applied += len(page)
			last := page[len(page)-1].Act
			actor, seq = last.Actor, last.Seq
		}
	})
	if err != nil {
		return 0, fmt.Errorf("rebuild from the log: %w", err)
	}
	return applied, nil
}

// pageInOrder reads, in tx, up to limit entries after (actor, seq) in
// (actor, seq) order.
func (l *Log) pageInOrder(ctx context.Context, tx *sqlitedb.Tx, actor string, seq uint64, limit int) ([]Entry, error) {
	rows, err := tx.QueryContext(ctx, `SELECT rowid, cid, body FROM log_entries WHERE (actor, seq) > (?, ?) ORDER BY actor, seq LIMIT ?`, actor, seq, limit)
	if err != nil {
		return nil, err
	}
	type row struct {
		cursor int64
		cid    string
		body   []byte
	}
	page, err := sqlitedb.Scan(rows, func(rows *sql.Rows) (row, error) {
		var r row
		return r, rows.Scan(&r.cursor, &r.cid, &r.body)
	})
	if err != nil {
		return nil, err
	}
	es := make([]Entry, 0, len(page))
	for _, r := range page {
		c, err := cid.Decode(r.cid)
		if err != nil {
			return nil, fmt.Errorf("bad CID %q in the log", r.cid)
		}
		if r.body == nil && l.blocks != nil {
			if r.body, err = l.blocks.GetBlock(ctx, c); err != nil {
				return nil, fmt.Errorf("entry %s: %w", c, err)
			}
		}
		e, err := decodeStored(c, r.body)
		if err != nil {
			return nil, err
		}
		e.Cursor = r.cursor
		es = append(es, e)
	}
	return es, nil
}

// Activity reads a stored activity by its CID given as text: KindInvalid
// for a string that is not a CID, KindNotFound when it is not stored.
func (l *Log) Activity(ctx context.Context, c string) (*activity.Activity, error) {
	id, err := api.ParseCID(c)
	if err != nil {
		return nil, err
	}
	e, err := l.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	return e.Act, nil
}
