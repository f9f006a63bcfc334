package delivery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/lyceum-oer/lyceum/gateway/httpsig"
)

// job is one delivery handed to a worker.
type job struct {
	id      int64
	inbox   string
	host    string
	created time.Time
	body    *storedBody
	probe   bool
	started time.Time
}

// storedBody is a body shared by the jobs in flight that send it.
type storedBody struct {
	id    int64
	keyID string
	data  []byte
	refs  int
}

// outcome is what became of an attempt.
type outcome int

const (
	delivered outcome = iota // 2xx
	retry                    // 5xx, 429, network error
	drop                     // refused for good
	aborted                  // the queue is stopping; leave the row as it is
)

type result struct {
	job     job
	outcome outcome
	delay   time.Duration // retry: the server's Retry-After, if any
	reached bool          // the host answered (reachability)
	err     error
}

// Run makes the deliveries until ctx ends or Close is called, with the
// configured number of workers, and returns nil after Close or ctx's
// error. POSTs in flight when it stops are cancelled and stay queued.
// Only one Run may be active at a time.
func (q *Queue) Run(ctx context.Context) error {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return errors.New("delivery queue: closed")
	}
	if q.running {
		q.mu.Unlock()
		return errors.New("delivery queue: already running")
	}
	q.running = true
	q.runWG.Add(1)
	q.mu.Unlock()
	defer func() {
		q.mu.Lock()
		q.running = false
		q.mu.Unlock()
		q.runWG.Done()
	}()

	d := &dispatcher{
		q:        q,
		jobs:     make(chan job, q.cfg.workers),
		results:  make(chan result, q.cfg.workers),
		inflight: map[int64]bool{},
		bodies:   map[int64]*storedBody{},
	}
	workCtx, cancelWork := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range q.cfg.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range d.jobs {
				d.results <- q.attempt(workCtx, j)
			}
		}()
	}
	err := d.loop(ctx)
	cancelWork()
	close(d.jobs)
	go func() { wg.Wait(); close(d.results) }()
	var last []result
	for r := range d.results {
		last = append(last, r)
	}
	d.apply(last)
	return err
}

// dispatcher is Run's state, owned by its goroutine.
type dispatcher struct {
	q        *Queue
	jobs     chan job
	results  chan result
	inflight map[int64]bool
	bodies   map[int64]*storedBody
	cursor   int64
}

func (d *dispatcher) loop(ctx context.Context) error {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		next := d.dispatch()
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(next)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-d.q.stop:
			return nil
		case <-d.q.wake:
		case <-timer.C:
		case r := <-d.results:
			batch := []result{r}
		drain:
			for len(batch) < 256 {
				select {
				case r := <-d.results:
					batch = append(batch, r)
				default:
					break drain
				}
			}
			d.apply(batch)
		}
	}
}

// row is a due delivery read by dispatch.
type row struct {
	id, bodyID, created int64
	inbox, host         string
}

// dispatch starts due deliveries while workers are free and returns how
// long to wait before looking again if nothing else happens.
func (d *dispatcher) dispatch() time.Duration {
	q := d.q
	now := q.cfg.now()
	free := q.cfg.workers - len(d.inflight)
	restarted := false
	for free > 0 {
		rows, err := d.page(now)
		if err != nil {
			q.cfg.log.Warn("delivery: read queue", "err", err)
			return time.Second
		}
		if len(rows) == 0 {
			if d.cursor == 0 || restarted {
				d.cursor = 0
				break
			}
			d.cursor, restarted = 0, true
			continue
		}
		for _, r := range rows {
			d.cursor = r.id
			if d.inflight[r.id] {
				continue
			}
			probe, ok := d.admit(r.host, now)
			if !ok {
				continue
			}
			b, err := d.body(r.bodyID)
			if err != nil {
				q.cfg.log.Warn("delivery: read body", "id", r.bodyID, "err", err)
				d.release(r.host)
				continue
			}
			d.inflight[r.id] = true
			q.inflight.Add(1)
			d.jobs <- job{id: r.id, inbox: r.inbox, host: r.host, created: time.UnixMilli(r.created), body: b, probe: probe, started: now}
			free--
			if free == 0 {
				break
			}
		}
	}
	return d.nextWake(now)
}

// page reads due deliveries after the cursor.
func (d *dispatcher) page(now time.Time) ([]row, error) {
	rs, err := d.q.db.Query(`SELECT id, body_id, created, inbox, host FROM deliveries
		WHERE id > ? AND next_at <= ? ORDER BY id LIMIT 256`, d.cursor, now.UnixMilli())
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []row
	for rs.Next() {
		var r row
		if err := rs.Scan(&r.id, &r.bodyID, &r.created, &r.inbox, &r.host); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rs.Err()
}

// admit reserves a slot for host if its concurrency limit and
// reachability allow; probe is true when the attempt probes an
// unreachable host.
func (d *dispatcher) admit(host string, now time.Time) (probe, ok bool) {
	q := d.q
	q.mu.Lock()
	defer q.mu.Unlock()
	h := q.hosts[host]
	if h == nil {
		h = &hostState{}
		q.hosts[host] = h
	}
	if h.inflight >= q.cfg.perHost {
		return false, false
	}
	if h.unreachable {
		if h.inflight > 0 || now.Before(h.nextProbe) {
			return false, false
		}
		h.nextProbe = now.Add(q.cfg.probeInterval)
		probe = true
	}
	h.inflight++
	return probe, true
}

func (d *dispatcher) release(host string) {
	d.q.mu.Lock()
	if h := d.q.hosts[host]; h != nil && h.inflight > 0 {
		h.inflight--
	}
	d.q.mu.Unlock()
}

// body returns the stored body, shared between the jobs that send it.
func (d *dispatcher) body(id int64) (*storedBody, error) {
	if b := d.bodies[id]; b != nil {
		b.refs++
		return b, nil
	}
	b := &storedBody{id: id, refs: 1}
	if err := d.q.db.QueryRow(`SELECT key_id, body FROM bodies WHERE id = ?`, id).Scan(&b.keyID, &b.data); err != nil {
		return nil, err
	}
	d.bodies[id] = b
	return b, nil
}

// nextWake is how long to sleep: until the next delivery is due or an
// unreachable host may be probed, at most a minute.
func (d *dispatcher) nextWake(now time.Time) time.Duration {
	wait := time.Minute
	var next sql64
	if err := d.q.db.QueryRow(`SELECT MIN(next_at) FROM deliveries WHERE next_at > ?`, now.UnixMilli()).Scan(&next); err == nil && next.valid {
		if w := time.UnixMilli(next.v).Sub(now); w < wait {
			wait = w
		}
	}
	d.q.mu.Lock()
	for _, h := range d.q.hosts {
		if h.unreachable {
			if w := h.nextProbe.Sub(now); w < wait {
				wait = w
			}
		}
	}
	d.q.mu.Unlock()
	if wait < time.Millisecond {
		wait = time.Millisecond
	}
	return wait
}

// sql64 scans a nullable integer.
type sql64 struct {
	v     int64
	valid bool
}

func (s *sql64) Scan(src any) error {
	switch x := src.(type) {
	case nil:
		s.valid = false
	case int64:
		s.v, s.valid = x, true
	default:
		return fmt.Errorf("unexpected %T", src)
	}
	return nil
}

// attempt signs and POSTs one delivery.
func (q *Queue) attempt(ctx context.Context, j job) result {
	if ctx.Err() != nil {
		return result{job: j, outcome: aborted, err: ctx.Err()}
	}
	key, err := q.cfg.signer.Key(j.body.keyID)
	if err != nil {
		return result{job: j, outcome: drop, err: fmt.Errorf("signing key %s: %w", j.body.keyID, err)}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, j.inbox, bytes.NewReader(j.body.data))
	if err != nil {
		return result{job: j, outcome: drop, err: err}
	}
	req.Header.Set("Content-Type", "application/activity+json")
	req.Header.Set("Accept", "application/activity+json, application/ld+json")
	if err := httpsig.Sign(req, j.body.data, j.body.keyID, key, q.cfg.now()); err != nil {
		return result{job: j, outcome: drop, err: err}
	}
	q.signatures.Add(1)
	resp, err := q.client.Do(req)
	if err != nil {
		switch {
		case ctx.Err() != nil:
			return result{job: j, outcome: aborted, err: err}
		case errors.Is(err, ErrForbiddenAddress):
			return result{job: j, outcome: drop, err: err}
		}
		return result{job: j, outcome: retry, err: err}
	}
	drain(resp.Body, responseLimit)
	code := resp.StatusCode
	switch {
	case code >= 200 && code < 300:
		return result{job: j, outcome: delivered, reached: true}
	case code == http.StatusTooManyRequests || code >= 500:
		return result{job: j, outcome: retry, delay: retryAfter(resp.Header.Get("Retry-After"), q.cfg.now()),
			reached: code == http.StatusTooManyRequests, err: fmt.Errorf("%s answered %s", j.host, resp.Status)}
	}
	return result{job: j, outcome: drop, reached: true, err: fmt.Errorf("%s answered %s", j.host, resp.Status)}
}

// retryAfter parses a Retry-After header: seconds or an HTTP date. It
// returns 0 when absent or unparsable.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		if n > 1<<31 {
			n = 1 << 31
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// backoff is the delay before attempt n+1 after n failed attempts
// (n >= 1): base·2^(n-1), at most max, with ±25% jitter.
func backoff(n int, base, max time.Duration) time.Duration {
	d := base
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	jitter := time.Duration((rand.Float64() - 0.5) * 0.5 * float64(d))
	return d + jitter
}

// apply records results in one transaction and updates the host states.
func (d *dispatcher) apply(results []result) {
	if len(results) == 0 {
		return
	}
	q := d.q
	now := q.cfg.now()
	type hostChange struct {
		failures    int
		unreachable bool
		nextProbe   time.Time
	}
	changed := map[string]hostChange{}
	var removed, nRetried, nFailed, nExpired, nDelivered int
	tx, err := q.db.Begin()
	if err != nil {
		q.cfg.log.Warn("delivery: record results", "err", err)
		tx = nil
	}
	exec := func(query string, args ...any) int {
		if tx == nil {
			return 0
		}
		res, err := tx.Exec(query, args...)
		if err != nil {
			q.cfg.log.Warn("delivery: record result", "err", err)
			return 0
		}
		n, _ := res.RowsAffected()
		return int(n)
	}
	emptied := map[int64]bool{}
	held := map[string]time.Time{} // unreachable hosts whose attempt failed: until their next probe
	probed := map[string]bool{}    // of those, the ones whose probe failed
	for _, r := range results {
		j := r.job
		delete(d.inflight, j.id)
		q.inflight.Add(-1)
		j.body.refs--
		if j.body.refs == 0 {
			delete(d.bodies, j.body.id)
		}
		if r.outcome == aborted {
			d.release(j.host)
			continue
		}
		q.mu.Lock()
		h := q.hosts[j.host]
		if h == nil {
			h = &hostState{}
			q.hosts[j.host] = h
		}
		if h.inflight > 0 {
			h.inflight--
		}
		before := hostChange{h.failures, h.unreachable, h.nextProbe}
		stale := j.started.Before(h.resetAt)
		switch {
		case r.outcome == delivered || r.reached:
			h.failures, h.unreachable = 0, false
		case r.outcome == retry && !stale:
			h.failures++
			if !h.unreachable && h.failures >= q.cfg.unreachableAfter {
				h.unreachable = true
				h.nextProbe = now.Add(q.cfg.probeInterval)
				q.cfg.log.Info("delivery: host unreachable", "host", j.host, "failures", h.failures)
			}
		}
		after := hostChange{h.failures, h.unreachable, h.nextProbe}
		if r.outcome == retry && !stale && h.unreachable {
			held[j.host] = h.nextProbe
			probed[j.host] = probed[j.host] || j.probe
		}
		if h.inflight == 0 && h.failures == 0 && !h.unreachable {
			delete(q.hosts, j.host) // keep the map to the hosts that matter
		}
		q.mu.Unlock()
		if after != before {
			changed[j.host] = after
		}

		switch r.outcome {
		case delivered:
			nDelivered++
			removed += exec(`DELETE FROM deliveries WHERE id = ?`, j.id)
			emptied[j.body.id] = true
		case drop:
			nFailed++
			q.cfg.log.Info("delivery: dropped", "inbox", j.inbox, "err", r.err)
			removed += exec(`DELETE FROM deliveries WHERE id = ?`, j.id)
			emptied[j.body.id] = true
		case retry:
			deadline := j.created.Add(q.cfg.maxAge)
			if !now.Before(deadline) {
				nExpired++
				q.cfg.log.Info("delivery: gave up", "inbox", j.inbox, "err", r.err)
				removed += exec(`DELETE FROM deliveries WHERE id = ?`, j.id)
				emptied[j.body.id] = true
				continue
			}
			nRetried++
			var attempts int
			if tx != nil {
				_ = tx.QueryRow(`SELECT attempts FROM deliveries WHERE id = ?`, j.id).Scan(&attempts)
			}
			delay := backoff(attempts+1, q.cfg.backoffBase, q.cfg.backoffMax)
			if r.delay > delay {
				delay = r.delay
			}
			if stale && r.delay == 0 {
				delay = 0 // the host has since contacted us: try again now
			}
			next := now.Add(delay)
			if next.After(deadline) {
				next = deadline
			}
			msg := ""
			if r.err != nil {
				msg = r.err.Error()
				if len(msg) > 500 {
					msg = msg[:500]
				}
			}
			exec(`UPDATE deliveries SET attempts = attempts + 1, next_at = ?, last_error = ? WHERE id = ?`,
				next.UnixMilli(), msg, j.id)
		}
	}
	// An unreachable host's deliveries wait for its next probe, so that
	// the dispatcher does not read them on every pass; those older than
	// MaxAge are given up, as if each had failed once more.
	orphans := false
	for host, until := range held {
		exec(`UPDATE deliveries SET next_at = ? WHERE host = ? AND next_at < ?`, until.UnixMilli(), host, until.UnixMilli())
		if !probed[host] {
			continue // attempts made before the host was marked may still be in flight
		}
		if n := exec(`DELETE FROM deliveries WHERE host = ? AND created <= ?`, host, now.Add(-q.cfg.maxAge).UnixMilli()); n > 0 {
			q.cfg.log.Info("delivery: gave up on unreachable host's deliveries", "host", host, "count", n)
			nExpired += int(n)
			removed += int(n)
			orphans = true
		}
	}
	if orphans {
		exec(`DELETE FROM bodies WHERE NOT EXISTS (SELECT 1 FROM deliveries WHERE deliveries.body_id = bodies.id)`)
	}
	for id := range emptied {
		exec(`DELETE FROM bodies WHERE id = ? AND NOT EXISTS (SELECT 1 FROM deliveries WHERE body_id = ?)`, id, id)
	}
	for host, c := range changed {
		if c.failures == 0 && !c.unreachable {
			exec(`DELETE FROM hosts WHERE host = ?`, host)
			continue
		}
		unreachable := 0
		if c.unreachable {
			unreachable = 1
		}
		exec(`INSERT INTO hosts (host, failures, unreachable, next_probe) VALUES (?, ?, ?, ?)
			ON CONFLICT (host) DO UPDATE SET failures = excluded.failures, unreachable = excluded.unreachable,
			next_probe = excluded.next_probe`, host, c.failures, unreachable, c.nextProbe.UnixMilli())
	}
	if tx != nil {
		if err := tx.Commit(); err != nil {
			q.cfg.log.Warn("delivery: commit results", "err", err)
			return
		}
	}
	q.pending.Add(-int64(removed))
	q.delivered.Add(uint64(nDelivered))
	q.retried.Add(uint64(nRetried))
	q.failed.Add(uint64(nFailed))
	q.expired.Add(uint64(nExpired))
}
