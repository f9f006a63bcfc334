package ipfs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ipfs/boxo/bitswap"
	"github.com/ipfs/boxo/bitswap/network/bsnet"
	"github.com/ipfs/boxo/exchange"
	"github.com/ipfs/boxo/provider"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/routing"
)

// DefaultProvideInterval is how often every root is announced again when
// ExchangeConfig.ProvideInterval is zero; it matches Kubo's reprovider.
const DefaultProvideInterval = 22 * time.Hour

// ExchangeConfig is the plain-data configuration of an Exchange.
type ExchangeConfig struct {
	// ProvideInterval is the time between two announcements of every root.
	// Zero means DefaultProvideInterval; a negative value disables
	// reproviding (new roots are still announced once).
	ProvideInterval time.Duration

	// Provide enables announcing roots to the router. With it off, or with a
	// nil router, the node still serves blocks to peers that ask.
	Provide bool

	// ProvideWorkers bounds concurrent announcements; zero means boxo's
	// default (64).
	ProvideWorkers int
}

// ExchangeOption configures NewExchange.
type ExchangeOption func(*exchangeOptions)

type exchangeOptions struct {
	log *slog.Logger
}

// WithExchangeLogger sets the logger the Exchange reports to; the default is
// slog.Default().
func WithExchangeLogger(l *slog.Logger) ExchangeOption {
	return func(o *exchangeOptions) { o.log = l }
}

// Exchange fetches and serves blocks with bitswap over a libp2p host, and
// announces the store's roots to a content router in the background.
//
// Providing follows Kubo's "roots" strategy: only the roots of recursive
// pins and of added files and directories are announced, never the chunks
// inside them; peers that find a root get the rest over bitswap from the
// same provider. New roots go into a persistent queue in the Store and are
// announced by a background worker, so no call waits on the DHT.
type Exchange struct {
	store *Store
	host  host.Host
	log   *slog.Logger
	bs    *bitswap.Bitswap
	early *earlyPeers
	prov  provider.System // nil when not providing

	fetches dagFetches     // DAG streams being received
	counts  dagCounters    // their traffic, both ways
	done    chan struct{}  // closed by Close: DAG streams stop
	wg      sync.WaitGroup // the DAG stream receivers

	closeOnce sync.Once
}

// NewExchange starts bitswap on h over s's blockstore and, when cfg.Provide
// is set and router is not nil, the background provider. router is also
// used to find providers of blocks no connected peer has; nil keeps bitswap
// to directly connected peers.
func NewExchange(h host.Host, router routing.Routing, s *Store, cfg ExchangeConfig, opts ...ExchangeOption) (*Exchange, error) {
	o := exchangeOptions{log: slog.Default()}
	for _, opt := range opts {
		opt(&o)
	}
	e := &Exchange{store: s, host: h, log: o.log, done: make(chan struct{}),
		fetches: dagFetches{byRoot: map[cid.Cid]*dagFetch{}}}

	var finder routing.ContentDiscovery // a typed nil would look like a router to bitswap
	if router != nil {
		finder = router
	}
	// bitswap ties its workers to this context; Close stops them.
	e.bs = bitswap.New(context.Background(), bsnet.NewFromIpfsHost(h), finder, s.bs)
	e.early = adoptEarlyPeers(h.Network(), e.bs)
	h.SetStreamHandler(DAGProtocol, newDAGServer(e).handle)

	if cfg.Provide && router != nil {
		interval := cfg.ProvideInterval
		switch {
		case interval == 0:
			interval = DefaultProvideInterval
		case interval < 0:
			interval = 0 // boxo: no reprovide scheduling
		}
		popts := []provider.Option{
			provider.Online(router),
			provider.ReproviderInterval(interval),
			provider.KeyProvider(s.rootKeys),
		}
		if cfg.ProvideWorkers > 0 {
			popts = append(popts, provider.ProvideWorkerCount(cfg.ProvideWorkers))
		}
		prov, err := provider.New(s.root, popts...)
		if err != nil {
			h.RemoveStreamHandler(DAGProtocol)
			e.early.close()
			_ = e.bs.Close()
			return nil, fmt.Errorf("start provider: %w", err)
		}
		e.prov = prov
	}
	e.log.Debug("ipfs: exchange started", "peer", h.ID(), "providing", e.prov != nil)
	return e, nil
}

// Provide queues c to be announced to the router and returns at once. It
// is a no-op when the Exchange does not provide.
func (e *Exchange) Provide(ctx context.Context, c cid.Cid) error {
	if e.prov == nil {
		return nil
	}
	if err := e.prov.Provide(ctx, c, true); err != nil {
		return fmt.Errorf("queue provide %s: %w", c, err)
	}
	return nil
}

// Reprovide announces every root again now, without waiting for the
// interval. It blocks until the announcements are done or ctx ends.
func (e *Exchange) Reprovide(ctx context.Context) error {
	if e.prov == nil {
		return nil
	}
	if err := e.prov.Reprovide(ctx); err != nil {
		return fmt.Errorf("reprovide: %w", err)
	}
	return nil
}

// exchange returns the exchange for a block service: bitswap, with the
// DAG streams in front.
func (e *Exchange) exchange() exchange.Interface { return streamingExchange{e} }

// Close stops the provider (its queue stays in the Store for the next
// start) and bitswap. It does not close the host or the Store.
func (e *Exchange) Close() error {
	e.host.RemoveStreamHandler(DAGProtocol)
	e.closeOnce.Do(func() { close(e.done) })
	e.wg.Wait()
	var errs []error
	if e.prov != nil {
		if err := e.prov.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close provider: %w", err))
		}
	}
	e.early.close()
	if err := e.bs.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close bitswap: %w", err))
	}
	return errors.Join(errs...)
}

// rootKeys streams the CIDs the provider announces on each reprovide: the
// recursive pins, then the added roots still in the store.
func (s *Store) rootKeys(ctx context.Context) (<-chan cid.Cid, error) {
	pins, err := s.recursivePins(ctx)
	if err != nil {
		return nil, fmt.Errorf("list pins: %w", err)
	}
	roots, err := s.roots(ctx)
	if err != nil {
		return nil, fmt.Errorf("list roots: %w", err)
	}
	ch := make(chan cid.Cid)
	go func() {
		defer close(ch)
		seen := cid.NewSet()
		for _, c := range append(pins, roots...) {
			if !seen.Visit(c) {
				continue
			}
			if has, err := s.bs.Has(ctx, c); err != nil || !has {
				continue // garbage collected since it was added
			}
			select {
			case ch <- c:
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch, nil
}
