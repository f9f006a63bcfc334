package pinsvc

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/sqlitedb"
)

// Content is what the room needs of the node's content service.
type Content interface {
	// Pin pins c recursively, fetching what the node lacks.
	Pin(ctx context.Context, c cid.Cid) error
	// Unpin removes the recursive pin of c.
	Unpin(ctx context.Context, c cid.Cid) error
	// Pins lists the recursive pins.
	Pins(ctx context.Context) ([]cid.Cid, error)
}

// Swarm is what the room needs of the node's swarm: dialling origins and
// naming the node's own addresses as delegates.
type Swarm interface {
	// Connect dials a peer by its full multiaddr.
	Connect(ctx context.Context, req api.ConnectRequest) (api.ConnectResponse, error)
	// ID describes the node: its peer ID and listen addresses.
	ID() api.Identity
}

const schema = `
CREATE TABLE IF NOT EXISTS requests (
	id         TEXT PRIMARY KEY,          -- 32 hex characters
	account    TEXT NOT NULL,             -- the username that made it
	cid        TEXT NOT NULL,             -- canonical string
	name       TEXT NOT NULL DEFAULT '',
	name_lower TEXT NOT NULL DEFAULT '',  -- for iexact and ipartial
	origins    TEXT NOT NULL DEFAULT '[]',
	meta       TEXT NOT NULL DEFAULT '{}',
	status     TEXT NOT NULL,
	details    TEXT NOT NULL DEFAULT '',  -- why it failed
	created    INTEGER NOT NULL UNIQUE    -- µs since the epoch, unique: the spec pages by it
) STRICT;
CREATE INDEX IF NOT EXISTS requests_account ON requests (account, created);
CREATE INDEX IF NOT EXISTS requests_status ON requests (status, created);
CREATE INDEX IF NOT EXISTS requests_cid ON requests (cid);
-- The CIDs this service pinned itself (they were not pinned before): only
-- these are unpinned when their last request goes.
CREATE TABLE IF NOT EXISTS owned (cid TEXT PRIMARY KEY) STRICT;
`

// Option configures Open.
type Option func(*Service)

// WithLogger sets the logger; the default is slog.Default().
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// WithQueueSize bounds the requests waiting to be pinned, all accounts
// together (default 10,000): past it, new requests are refused.
func WithQueueSize(n int) Option { return func(s *Service) { s.queueSize = n } }

// WithWorkers sets how many pins run at once (default 4).
func WithWorkers(n int) Option { return func(s *Service) { s.workers = n } }

// WithPinTimeout bounds one pin, origins dialled and DAG fetched; past
// it the request fails (default 10 minutes).
func WithPinTimeout(d time.Duration) Option { return func(s *Service) { s.pinTimeout = d } }

// WithMaxPerAccount bounds the requests an account keeps (default 100,000).
func WithMaxPerAccount(n int) Option { return func(s *Service) { s.maxPerAccount = n } }

// WithMaxOriginDials bounds the origins dialled for one request (default 8).
func WithMaxOriginDials(n int) Option { return func(s *Service) { s.maxDials = n } }

// Service keeps the pin requests and pins them.
type Service struct {
	sdb     *sqlitedb.DB
	content Content
	swarm   Swarm
	log     *slog.Logger

	queueSize, workers, maxPerAccount, maxDials int
	pinTimeout                                  time.Duration

	wake chan struct{} // a request was queued

	stampMu   sync.Mutex // guards lastMicro
	lastMicro int64      // the last created stamp handed out

	mu      sync.Mutex                    // guards running; serialises releasing pins
	running map[string]context.CancelFunc // pins under way, by request id
}

// Open opens (or creates) the store at path. Run pins its requests.
func Open(path string, content Content, swarm Swarm, opts ...Option) (*Service, error) {
	s := &Service{content: content, swarm: swarm, log: slog.Default(), queueSize: 10000, workers: 4,
		pinTimeout: 10 * time.Minute, maxPerAccount: 100000, maxDials: 8,
		wake: make(chan struct{}, 1), running: map[string]context.CancelFunc{}}
	for _, o := range opts {
		o(s)
	}
	s.log = s.log.With("component", "pinning")
	db, err := sqlitedb.Open(path, sqlitedb.Options{Schema: schema, ReadConns: 2})
	if err != nil {
		return nil, fmt.Errorf("open the pinning service's store: %w", err)
	}
	s.sdb = db
	if err := db.ReadRow(context.Background(), `SELECT coalesce(max(created), 0) FROM requests`).Scan(&s.lastMicro); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("read the pinning service's store: %w", err)
	}
	return s, nil
}

// Close closes the store; Run must have returned.
func (s *Service) Close() error { return s.sdb.Close() }

// newID is an opaque request id: 128 random bits in hex.
func newID() string {
	b := make([]byte, 16)
	rand.Read(b) // never fails
	return hex.EncodeToString(b)
}

// validID reports whether id has the shape of a request id, so that
// anything else is not found without a look-up.
func validID(id string) bool {
	if len(id) != 32 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil && strings.ToLower(id) == id
}

// stamp is a creation time unique in the store, strictly after the last.
func (s *Service) stamp() int64 {
	s.stampMu.Lock()
	defer s.stampMu.Unlock()
	now := time.Now().UnixMicro()
	if now <= s.lastMicro {
		now = s.lastMicro + 1
	}
	s.lastMicro = now
	return now
}

// Add queues a pin request of account.
func (s *Service) Add(ctx context.Context, account string, p api.Pin) (api.PinRequest, error) {
	return s.insert(ctx, account, p, "")
}

// Replace removes the request id of account and queues p in its place,
// in one transaction: the old CID is unpinned (if nothing else keeps it)
// only once the new request is stored. The answer has a new request id.
func (s *Service) Replace(ctx context.Context, account, id string, p api.Pin) (api.PinRequest, error) {
	if !validID(id) {
		return api.PinRequest{}, errNotFound(id)
	}
	return s.insert(ctx, account, p, id)
}

func errNotFound(id string) error {
	return api.NotFoundf("no pin request %s", api.Quote(id))
}

func (s *Service) insert(ctx context.Context, account string, p api.Pin, replaces string) (api.PinRequest, error) {
	c, err := CheckPin(p)
	if err != nil {
		return api.PinRequest{}, err
	}
	p.CID = c.String()
	origins, _ := json.Marshal(nonNil(p.Origins))
	meta, _ := json.Marshal(nonNilMap(p.Meta))
	id, created := newID(), s.stamp()
	var oldCID string
	err = s.sdb.Tx(ctx, func(tx *sqlitedb.Tx) error {
		if replaces != "" {
			if err := tx.QueryRowContext(ctx, `DELETE FROM requests WHERE id = ? AND account = ? RETURNING cid`, replaces, account).Scan(&oldCID); err != nil {
				if errors.Is(err, sql.ErrNoRows) {
					return errNotFound(replaces)
				}
				return err
			}
		}
		var queued, mine int
		if err := tx.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM requests WHERE status = 'queued'), (SELECT count(*) FROM requests WHERE account = ?)`, account).Scan(&queued, &mine); err != nil {
			return err
		}
		switch {
		case queued >= s.queueSize:
			return api.Errorf(api.KindRateLimited, "the pinning queue is full (%d requests); try again later", queued)
		case mine >= s.maxPerAccount:
			return api.Errorf(api.KindConflict, "you have %d pin requests, the most an account may have; remove some first", mine)
		}
		_, err := tx.Exec(ctx, `INSERT INTO requests (id, account, cid, name, name_lower, origins, meta, status, created) VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', ?)`,
			id, account, p.CID, p.Name, strings.ToLower(p.Name), string(origins), string(meta), created)
		return err
	})
	if err != nil {
		if api.KindOf(err) != api.KindInternal {
			return api.PinRequest{}, err
		}
		return api.PinRequest{}, fmt.Errorf("store a pin request: %w", err)
	}
	if replaces != "" {
		s.cancel(replaces)
		if oldCID != p.CID {
			s.release(oldCID)
		}
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return api.PinRequest{RequestID: id, Status: api.PinQueued, Created: time.UnixMicro(created).UTC(), Pin: p, Delegates: s.delegates()}, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// delegates are the node's own addresses, with its peer ID: where a
// client may send the blocks (at most the spec's 20).
func (s *Service) delegates() []string {
	id := s.swarm.ID()
	out := []string{}
	for _, a := range id.Addrs {
		if len(out) == 20 {
			break
		}
		if !strings.Contains(a, "/p2p/") {
			a += "/p2p/" + id.PeerID
		}
		out = append(out, a)
	}
	return out
}

const requestCols = `id, cid, name, origins, meta, status, details, created`

func (s *Service) scan(row interface{ Scan(...any) error }) (api.PinRequest, error) {
	var r api.PinRequest
	var origins, meta, details string
	var created int64
	if err := row.Scan(&r.RequestID, &r.Pin.CID, &r.Pin.Name, &origins, &meta, &r.Status, &details, &created); err != nil {
		return r, err
	}
	r.Created = time.UnixMicro(created).UTC()
	if err := json.Unmarshal([]byte(origins), &r.Pin.Origins); err != nil {
		return r, fmt.Errorf("origins of %s: %w", r.RequestID, err)
	}
	if err := json.Unmarshal([]byte(meta), &r.Pin.Meta); err != nil {
		return r, fmt.Errorf("meta of %s: %w", r.RequestID, err)
	}
	if len(r.Pin.Origins) == 0 {
		r.Pin.Origins = nil
	}
	if len(r.Pin.Meta) == 0 {
		r.Pin.Meta = nil
	}
	if details != "" {
		r.Info = map[string]string{"status_details": details}
	}
	return r, nil
}

// Get reads the request id of account; another account's is not found.
func (s *Service) Get(ctx context.Context, account, id string) (api.PinRequest, error) {
	if !validID(id) {
		return api.PinRequest{}, errNotFound(id)
	}
	r, err := s.scan(s.sdb.ReadRow(ctx, `SELECT `+requestCols+` FROM requests WHERE id = ? AND account = ?`, id, account))
	if errors.Is(err, sql.ErrNoRows) {
		return api.PinRequest{}, errNotFound(id)
	}
	if err != nil {
		return api.PinRequest{}, fmt.Errorf("read a pin request: %w", err)
	}
	r.Delegates = s.delegates()
	return r, nil
}

// List returns account's requests that match q, newest first, and how
// many match in all.
func (s *Service) List(ctx context.Context, account string, q api.PinQuery) (api.PinResults, error) {
	if err := CheckQuery(&q); err != nil {
		return api.PinResults{}, err
	}
	where := []string{"account = ?"}
	args := []any{account}
	in := func(col string, vals []string) {
		where = append(where, col+" IN ("+strings.TrimSuffix(strings.Repeat("?,", len(vals)), ",")+")")
		for _, v := range vals {
			args = append(args, v)
		}
	}
	if len(q.CIDs) > 0 {
		in("cid", q.CIDs)
	}
	states := make([]string, len(q.Statuses))
	for i, st := range q.Statuses {
		states[i] = string(st)
	}
	in("status", states)
	if q.Name != "" {
		switch q.Match {
		case api.MatchExact:
			where, args = append(where, "name = ?"), append(args, q.Name)
		case api.MatchIExact:
			where, args = append(where, "name_lower = ?"), append(args, strings.ToLower(q.Name))
		case api.MatchPartial:
			where, args = append(where, "instr(name, ?) > 0"), append(args, q.Name)
		case api.MatchIPartial:
			where, args = append(where, "instr(name_lower, ?) > 0"), append(args, strings.ToLower(q.Name))
		}
	}
	if !q.Before.IsZero() {
		where, args = append(where, "created < ?"), append(args, q.Before.UnixMicro())
	}
	if !q.After.IsZero() {
		where, args = append(where, "created > ?"), append(args, q.After.UnixMicro())
	}
	for k, v := range q.Meta {
		where = append(where, "EXISTS (SELECT 1 FROM json_each(meta) WHERE key = ? AND type = 'text' AND value = ?)")
		args = append(args, k, v)
	}
	cond := strings.Join(where, " AND ")
	out := api.PinResults{Results: []api.PinRequest{}}
	if err := s.sdb.ReadRow(ctx, `SELECT count(*) FROM requests WHERE `+cond, args...).Scan(&out.Count); err != nil {
		return api.PinResults{}, fmt.Errorf("count pin requests: %w", err)
	}
	rows, err := s.sdb.ReadQuery(ctx, `SELECT `+requestCols+` FROM requests WHERE `+cond+` ORDER BY created DESC LIMIT ?`, append(args, q.Limit)...)
	if err != nil {
		return api.PinResults{}, fmt.Errorf("list pin requests: %w", err)
	}
	res, err := sqlitedb.Scan(rows, func(rows *sql.Rows) (api.PinRequest, error) { return s.scan(rows) })
	if err != nil {
		return api.PinResults{}, fmt.Errorf("list pin requests: %w", err)
	}
	delegates := s.delegates()
	for i := range res {
		res[i].Delegates = delegates
	}
	out.Results = append(out.Results, res...)
	return out, nil
}

// Delete removes the request id of account, stopping its pin if it runs;
// its CID is unpinned if no other request keeps it and the service made
// the pin.
func (s *Service) Delete(ctx context.Context, account, id string) error {
	if !validID(id) {
		return errNotFound(id)
	}
	var c string
	err := s.sdb.SQL().QueryRowContext(ctx, `DELETE FROM requests WHERE id = ? AND account = ? RETURNING cid`, id, account).Scan(&c)
	if errors.Is(err, sql.ErrNoRows) {
		return errNotFound(id)
	}
	if err != nil {
		return fmt.Errorf("delete a pin request: %w", err)
	}
	s.cancel(id)
	s.release(c)
	return nil
}

// cancel stops the pin of request id, if one runs.
func (s *Service) cancel(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if stop, ok := s.running[id]; ok {
		stop()
	}
}

// release unpins c when no request names it any more and the service
// made its pin. Failures are logged: the pin stays, which is safe.
func (s *Service) release(c string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var left, owned int
	if err := s.sdb.SQL().QueryRowContext(ctx, `SELECT (SELECT count(*) FROM requests WHERE cid = ?), (SELECT count(*) FROM owned WHERE cid = ?)`, c, c).Scan(&left, &owned); err != nil {
		s.log.Warn("check a released pin", "cid", c, "err", err)
		return
	}
	if left > 0 || owned == 0 {
		return
	}
	id, err := cid.Decode(c)
	if err != nil {
		s.log.Warn("a stored CID does not decode", "cid", c, "err", err)
		return
	}
	if err := s.content.Unpin(ctx, id); err != nil && api.KindOf(err) != api.KindNotFound {
		s.log.Warn("unpin a released CID", "cid", c, "err", err)
		return
	}
	if _, err := s.sdb.Exec(ctx, `DELETE FROM owned WHERE cid = ?`, c); err != nil {
		s.log.Warn("forget a released pin", "cid", c, "err", err)
	}
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
