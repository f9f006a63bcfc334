package delivery

import (
	"context"
	"crypto/rsa"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lyceum-oer/lyceum/node/sqlitedb"
)

// Delivery is one activity to POST to one inbox.
type Delivery struct {
	// Inbox is the URL to POST to: a shared inbox, or an actor's inbox
	// when its server has none.
	Inbox string
	// Body is the exact JSON activity to send.
	Body []byte
	// KeyID names the key the POST is signed with (the sending actor's
	// URL + "#main-key"); the queue asks its Signer for the private key at
	// send time.
	KeyID string
}

// Signer gives the queue the private key of a local actor when it signs a
// delivery. It is called from worker goroutines and must be safe for
// concurrent use.
type Signer interface {
	// Key returns the private key that keyID names. An error drops the
	// delivery (the actor is gone or the key is unknown).
	Key(keyID string) (*rsa.PrivateKey, error)
}

// SignerFunc adapts a function to Signer.
type SignerFunc func(keyID string) (*rsa.PrivateKey, error)

// Key calls f.
func (f SignerFunc) Key(keyID string) (*rsa.PrivateKey, error) { return f(keyID) }

// Stats are the queue's counters for /metrics. Counts are since Open
// except Pending and UnreachableHosts, which are the queue's state.
type Stats struct {
	// Pending is the number of deliveries stored: waiting, in flight or
	// held for unreachable hosts.
	Pending int64
	// InFlight is the number of POSTs being made.
	InFlight int64
	// Delivered counts deliveries a server accepted (2xx).
	Delivered uint64
	// Retried counts attempts that failed and were scheduled again.
	Retried uint64
	// Failed counts deliveries dropped because the server refused them
	// (4xx other than 429, redirects, forbidden addresses, unknown keys).
	Failed uint64
	// Expired counts deliveries dropped after retrying for MaxAge.
	Expired uint64
	// Signatures counts the HTTP Signatures made.
	Signatures uint64
	// UnreachableHosts is the number of hosts currently marked unreachable.
	UnreachableHosts int
}

// Defaults of the Queue's options.
const (
	DefaultWorkers          = 32
	DefaultPerHost          = 4
	DefaultBackoffBase      = 30 * time.Second
	DefaultBackoffMax       = 12 * time.Hour
	DefaultMaxAge           = 48 * time.Hour
	DefaultUnreachableAfter = 10
	DefaultProbeInterval    = 10 * time.Minute
	DefaultMaxBody          = 1 << 20
	// MaxInboxLen is the longest inbox URL Enqueue accepts.
	MaxInboxLen = 2048
	// responseLimit is how much of a response body is read (and dropped)
	// so the connection can be reused.
	responseLimit = 64 << 10
)

type config struct {
	signer           Signer
	client           *http.Client
	workers          int
	perHost          int
	backoffBase      time.Duration
	backoffMax       time.Duration
	maxAge           time.Duration
	unreachableAfter int
	probeInterval    time.Duration
	maxBody          int
	now              func() time.Time
	log              *slog.Logger
}

// Option configures a Queue.
type Option func(*config)

// WithSigner sets where the queue gets signing keys. Required.
func WithSigner(s Signer) Option { return func(c *config) { c.signer = s } }

// WithHTTPClient sets the client POSTs go through (default
// NewHTTPClient()). The queue never follows redirects: a signature covers
// one URL.
func WithHTTPClient(h *http.Client) Option { return func(c *config) { c.client = h } }

// WithWorkers sets how many POSTs may be in flight at once (default 32).
func WithWorkers(n int) Option { return func(c *config) { c.workers = n } }

// WithPerHost sets how many POSTs may be in flight to one host (default 4).
func WithPerHost(n int) Option { return func(c *config) { c.perHost = n } }

// WithBackoff sets the delay after the first failure and the longest
// delay between two attempts (defaults 30 s and 12 h); the delay doubles
// after each failure, with ±25% jitter.
func WithBackoff(base, max time.Duration) Option {
	return func(c *config) { c.backoffBase, c.backoffMax = base, max }
}

// WithMaxAge sets how long a delivery is retried before it is dropped
// (default 48 h).
func WithMaxAge(d time.Duration) Option { return func(c *config) { c.maxAge = d } }

// WithUnreachable sets after how many consecutive failed attempts a host
// is marked unreachable (default 10) and how often one of its deliveries
// is tried as a probe while it is (default 10 min).
func WithUnreachable(after int, probeEvery time.Duration) Option {
	return func(c *config) { c.unreachableAfter, c.probeInterval = after, probeEvery }
}

// WithMaxBody sets the largest body Enqueue accepts (default 1 MiB).
func WithMaxBody(n int) Option { return func(c *config) { c.maxBody = n } }

// WithClock sets the clock used for signatures and schedules (default
// time.Now).
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.log = l } }

// Queue is a persistent outgoing delivery queue. Enqueue may be called at
// any time; Run makes the deliveries until its context ends or Close is
// called.
type Queue struct {
	cfg config
	// store is delivery.db, opened by the node's one SQLite helper; db is
	// its writing connection, on which the queue runs its statements
	// itself: recording results goes on in memory when a statement fails,
	// which the helper's Tx does not allow.
	store  *sqlitedb.DB
	db     *sql.DB
	client *http.Client

	wake chan struct{}
	stop chan struct{}

	mu      sync.Mutex
	closed  bool
	running bool
	hosts   map[string]*hostState
	runWG   sync.WaitGroup
	closeMu sync.Once

	pending, inflight                               atomic.Int64
	delivered, retried, failed, expired, signatures atomic.Uint64
}

// hostState is what the queue knows of one remote host. Guarded by
// Queue.mu.
type hostState struct {
	failures    int
	unreachable bool
	nextProbe   time.Time
	inflight    int
	// resetAt is when MarkReachable was last called: failures of attempts
	// started before it are old news and do not count.
	resetAt time.Time
}

const schema = `
CREATE TABLE IF NOT EXISTS bodies (
	id     INTEGER PRIMARY KEY,
	key_id TEXT NOT NULL,
	body   BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS deliveries (
	id         INTEGER PRIMARY KEY,
	body_id    INTEGER NOT NULL REFERENCES bodies(id),
	inbox      TEXT NOT NULL,
	host       TEXT NOT NULL,
	attempts   INTEGER NOT NULL DEFAULT 0,
	created    INTEGER NOT NULL,
	next_at    INTEGER NOT NULL,
	last_error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS deliveries_body ON deliveries(body_id);
CREATE INDEX IF NOT EXISTS deliveries_next ON deliveries(next_at);
CREATE TABLE IF NOT EXISTS hosts (
	host        TEXT PRIMARY KEY,
	failures    INTEGER NOT NULL,
	unreachable INTEGER NOT NULL,
	next_probe  INTEGER NOT NULL
);
`

// Open opens (creating it if needed) the queue stored in the SQLite file
// at path. The file is the queue's own, readable by the owner only.
func Open(path string, opts ...Option) (*Queue, error) {
	c := config{
		workers: DefaultWorkers, perHost: DefaultPerHost,
		backoffBase: DefaultBackoffBase, backoffMax: DefaultBackoffMax, maxAge: DefaultMaxAge,
		unreachableAfter: DefaultUnreachableAfter, probeInterval: DefaultProbeInterval,
		maxBody: DefaultMaxBody, now: time.Now,
	}
	for _, o := range opts {
		o(&c)
	}
	if c.signer == nil {
		return nil, errors.New("delivery queue: no signer")
	}
	if c.workers < 1 || c.perHost < 1 || c.backoffBase <= 0 || c.backoffMax < c.backoffBase ||
		c.maxAge <= 0 || c.unreachableAfter < 1 || c.probeInterval <= 0 || c.maxBody < 1 {
		return nil, errors.New("delivery queue: bad options")
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.client == nil {
		c.client = NewHTTPClient()
	}
	client := *c.client
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	// The helper opens it owner-only, in WAL mode with synchronous
	// commits and foreign keys on (deliveries reference their bodies).
	store, err := sqlitedb.Open(path, sqlitedb.Options{Schema: schema})
	if err != nil {
		return nil, fmt.Errorf("open delivery queue: %w", err)
	}
	q := &Queue{
		cfg: c, store: store, db: store.SQL(), client: &client,
		wake:  make(chan struct{}, 1),
		stop:  make(chan struct{}),
		hosts: map[string]*hostState{},
	}
	if err := q.load(); err != nil {
		store.Close()
		return nil, fmt.Errorf("open delivery queue %s: %w", path, err)
	}
	return q, nil
}

// load reads the pending count and the host states.
func (q *Queue) load() error {
	var n int64
	if err := q.db.QueryRow(`SELECT COUNT(*) FROM deliveries`).Scan(&n); err != nil {
		return err
	}
	q.pending.Store(n)
	rows, err := q.db.Query(`SELECT host, failures, unreachable, next_probe FROM hosts`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var host string
		var failures, unreachable int
		var probe int64
		if err := rows.Scan(&host, &failures, &unreachable, &probe); err != nil {
			return err
		}
		q.hosts[host] = &hostState{failures: failures, unreachable: unreachable != 0, nextProbe: time.UnixMilli(probe)}
	}
	return rows.Err()
}

// Enqueue stores one delivery; once it returns nil the delivery survives
// a crash.
func (q *Queue) Enqueue(ctx context.Context, d Delivery) error {
	return q.EnqueueBatch(ctx, d.KeyID, d.Body, []string{d.Inbox})
}

// EnqueueBatch stores the delivery of one body, signed with keyID, to
// every inbox (duplicates removed), in one transaction: the body is stored
// once. Once it returns nil every delivery survives a crash.
func (q *Queue) EnqueueBatch(ctx context.Context, keyID string, body []byte, inboxes []string) error {
	if keyID == "" {
		return errors.New("enqueue: no key id")
	}
	if len(body) == 0 || len(body) > q.cfg.maxBody {
		return fmt.Errorf("enqueue: body of %d bytes (limit %d)", len(body), q.cfg.maxBody)
	}
	type target struct{ inbox, host string }
	targets := make([]target, 0, len(inboxes))
	seen := make(map[string]bool, len(inboxes))
	for _, in := range inboxes {
		if seen[in] {
			continue
		}
		seen[in] = true
		host, err := inboxHost(in)
		if err != nil {
			return fmt.Errorf("enqueue: %w", err)
		}
		targets = append(targets, target{in, host})
	}
	if len(targets) == 0 {
		return nil
	}
	q.mu.Lock()
	closed := q.closed
	q.mu.Unlock()
	if closed {
		return errors.New("enqueue: queue closed")
	}
	now := q.cfg.now().UnixMilli()
	tx, err := q.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("enqueue: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `INSERT INTO bodies (key_id, body) VALUES (?, ?)`, keyID, body)
	if err != nil {
		return fmt.Errorf("enqueue: store body: %w", err)
	}
	bodyID, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("enqueue: %w", err)
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO deliveries (body_id, inbox, host, created, next_at) VALUES (?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("enqueue: %w", err)
	}
	defer stmt.Close()
	for _, t := range targets {
		if _, err := stmt.ExecContext(ctx, bodyID, t.inbox, t.host, now, now); err != nil {
			return fmt.Errorf("enqueue %s: %w", t.inbox, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("enqueue: commit: %w", err)
	}
	q.pending.Add(int64(len(targets)))
	q.poke()
	return nil
}

// inboxHost validates an inbox URL and returns its host (with port),
// lower-cased: the unit of per-host concurrency and reachability.
func inboxHost(inbox string) (string, error) {
	if len(inbox) > MaxInboxLen {
		return "", fmt.Errorf("inbox URL longer than %d bytes", MaxInboxLen)
	}
	u, err := url.Parse(inbox)
	if err != nil {
		return "", fmt.Errorf("inbox %q: %w", inbox, err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.Fragment != "" {
		return "", fmt.Errorf("inbox %q is not an http(s) URL with a host", inbox)
	}
	return strings.ToLower(u.Host), nil
}

// MarkReachable clears the failures of host (as an inbox URL's host:
// name[:port]), so its deliveries are attempted again at once. Call it
// when the host contacts us.
func (q *Queue) MarkReachable(host string) {
	host = strings.ToLower(host)
	q.mu.Lock()
	h := q.hosts[host]
	changed := h != nil && (h.unreachable || h.failures > 0 || h.inflight > 0)
	if changed {
		h.unreachable, h.failures, h.resetAt = false, 0, q.cfg.now()
	}
	closed := q.closed
	q.mu.Unlock()
	if !changed || closed {
		return
	}
	if _, err := q.db.Exec(`DELETE FROM hosts WHERE host = ?`, host); err != nil {
		q.cfg.log.Warn("delivery: mark host reachable", "host", host, "err", err)
	}
	// Deliveries waiting on backoff are due again now.
	if _, err := q.db.Exec(`UPDATE deliveries SET next_at = ? WHERE host = ? AND next_at > ?`,
		q.cfg.now().UnixMilli(), host, q.cfg.now().UnixMilli()); err != nil {
		q.cfg.log.Warn("delivery: reschedule host", "host", host, "err", err)
	}
	q.poke()
}

// Unreachable reports whether host is currently marked unreachable.
func (q *Queue) Unreachable(host string) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	h := q.hosts[strings.ToLower(host)]
	return h != nil && h.unreachable
}

// Stats returns the queue's counters.
func (q *Queue) Stats() Stats {
	q.mu.Lock()
	unreachable := 0
	for _, h := range q.hosts {
		if h.unreachable {
			unreachable++
		}
	}
	q.mu.Unlock()
	return Stats{
		Pending:          q.pending.Load(),
		InFlight:         q.inflight.Load(),
		Delivered:        q.delivered.Load(),
		Retried:          q.retried.Load(),
		Failed:           q.failed.Load(),
		Expired:          q.expired.Load(),
		Signatures:       q.signatures.Load(),
		UnreachableHosts: unreachable,
	}
}

// poke wakes the dispatcher without blocking.
func (q *Queue) poke() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// Close stops Run (POSTs in flight are cancelled and stay queued; results
// already received are recorded) and closes the database. It is safe to
// call more than once.
func (q *Queue) Close() error {
	var err error
	q.closeMu.Do(func() {
		q.mu.Lock()
		q.closed = true
		q.mu.Unlock()
		close(q.stop)
		q.runWG.Wait()
		err = q.store.Close()
	})
	return err
}
