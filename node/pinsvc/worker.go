package pinsvc

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/lyceum-oer/lyceum/node/api"
)

// dialTimeout bounds one origin's dial.
const dialTimeout = 10 * time.Second

// Run pins queued requests with the service's workers until ctx ends;
// requests under way then go back to queued, to be pinned at the next
// Run. It returns when every worker has stopped.
func (s *Service) Run(ctx context.Context) error {
	// A pin cut by the last stop starts over.
	if _, err := s.sdb.Exec(ctx, `UPDATE requests SET status = 'queued' WHERE status = 'pinning'`); err != nil {
		return fmt.Errorf("requeue the pins under way: %w", err)
	}
	var wg sync.WaitGroup
	for range s.workers {
		wg.Go(func() { s.work(ctx) })
	}
	wg.Wait()
	return nil
}

// work pins one queued request after another; with none, it waits for
// one to be queued (or for a minute, in case a signal was missed).
func (s *Service) work(ctx context.Context) {
	for ctx.Err() == nil {
		id, c, origins, ok := s.claim(ctx)
		if !ok {
			select {
			case <-ctx.Done():
				return
			case <-s.wake:
			case <-time.After(time.Minute):
			}
			continue
		}
		// Another worker may find more.
		select {
		case s.wake <- struct{}{}:
		default:
		}
		s.pin(ctx, id, c, origins)
	}
}

// claim takes the oldest queued request and marks it pinning.
func (s *Service) claim(ctx context.Context) (id, c string, origins []string, ok bool) {
	var raw string
	err := s.sdb.SQL().QueryRowContext(ctx, `UPDATE requests SET status = 'pinning'
		WHERE id = (SELECT id FROM requests WHERE status = 'queued' ORDER BY created LIMIT 1)
		RETURNING id, cid, origins`).Scan(&id, &c, &raw)
	if err != nil {
		if !errors.Is(err, sql.ErrNoRows) && ctx.Err() == nil {
			s.log.Warn("take a queued pin request", "err", err)
		}
		return "", "", nil, false
	}
	_ = jsonUnmarshal(raw, &origins)
	return id, c, origins, true
}

// pin runs one request: origins dialled, then the DAG fetched and pinned.
func (s *Service) pin(ctx context.Context, id, cs string, origins []string) {
	pctx, stop := context.WithTimeout(ctx, s.pinTimeout)
	defer stop()
	s.mu.Lock()
	s.running[id] = stop
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.running, id)
		s.mu.Unlock()
	}()
	c, err := cid.Decode(cs)
	if err == nil {
		s.dialOrigins(pctx, origins)
		err = s.pinOwned(pctx, c)
	}
	switch {
	case ctx.Err() != nil:
		// The daemon stops: the request waits for the next start.
		s.setStatus(id, api.PinQueued, "")
	case err != nil && errors.Is(pctx.Err(), context.Canceled):
		// Deleted or replaced while it ran: nothing to record.
	case err != nil:
		s.log.Info("pin request failed", "request", id, "cid", cs, "err", err)
		msg := api.PublicMessage(err)
		if errors.Is(pctx.Err(), context.DeadlineExceeded) {
			msg = fmt.Sprintf("not found on the network within %s", s.pinTimeout)
		}
		s.setStatus(id, api.PinFailed, msg) // the blocks fetched so far go at the next gc
	default:
		if !s.setStatus(id, api.PinPinned, "") {
			s.release(cs) // removed while it was pinned
		}
	}
}

// pinOwned pins c and, when c was not pinned before, notes that the
// service made the pin.
func (s *Service) pinOwned(ctx context.Context, c cid.Cid) error {
	pins, err := s.content.Pins(ctx)
	if err != nil {
		return err
	}
	had := slices.ContainsFunc(pins, c.Equals)
	if err := s.content.Pin(ctx, c); err != nil {
		return err
	}
	if had {
		return nil
	}
	if _, err := s.sdb.Exec(ctx, `INSERT OR IGNORE INTO owned (cid) VALUES (?)`, c.String()); err != nil {
		return fmt.Errorf("note the pin of %s: %w", c, err)
	}
	return nil
}

// setStatus records the end of a pin; false when the request is gone.
func (s *Service) setStatus(id string, st api.PinState, details string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := s.sdb.Exec(ctx, `UPDATE requests SET status = ?, details = ? WHERE id = ?`, string(st), details, id)
	if err != nil {
		s.log.Warn("record a pin's status", "request", id, "status", st, "err", err)
		return true
	}
	n, err := res.RowsAffected()
	return err != nil || n > 0
}

// dialOrigins connects to the request's origins, at most maxDials of
// them, each bounded in time; failures only slow the pin down (the spec
// calls origins best effort).
func (s *Service) dialOrigins(ctx context.Context, origins []string) {
	self := s.swarm.ID().PeerID
	tried := map[peer.ID]bool{}
	dials := 0
	for _, o := range origins {
		if dials >= s.maxDials || ctx.Err() != nil {
			return
		}
		m, err := ma.NewMultiaddr(o)
		if err != nil {
			continue
		}
		info, err := peer.AddrInfoFromP2pAddr(m)
		if err != nil || tried[info.ID] || info.ID.String() == self {
			continue
		}
		dials++
		dctx, cancel := context.WithTimeout(ctx, dialTimeout)
		_, err = s.swarm.Connect(dctx, api.ConnectRequest{Addr: o})
		cancel()
		if err == nil {
			tried[info.ID] = true // connected: its other addresses are not needed
		}
	}
}
