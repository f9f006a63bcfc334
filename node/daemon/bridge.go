package daemon

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lyceum-oer/lyceum/gateway/delivery"
	"github.com/lyceum-oer/lyceum/gateway/fediverse"
	"github.com/lyceum-oer/lyceum/node"
	"github.com/lyceum-oer/lyceum/node/api"
)

// openBridge opens the ActivityPub bridge: its delivery queue
// ($LYCEUM_PATH/delivery.db) and the bridge's state
// ($LYCEUM_PATH/fediverse.db). startBridge starts them once the HTTP
// server runs.
func (d *Daemon) openBridge(cfg node.Config) error {
	allowed, err := cfg.Gateway.AllowedPrivatePrefixes()
	if err != nil {
		return err
	}
	proxies, err := cfg.Gateway.TrustedProxyPrefixes()
	if err != nil {
		return err
	}
	client := delivery.NewHTTPClient(delivery.WithAllowedNetworks(allowed),
		delivery.WithUserAgent("Lyceum/"+node.Version+" (+"+cfg.Gateway.PublicURL+")"))
	// The queue signs with the bridge's keys, and the bridge queues
	// through the queue: the signer reads the bridge once it exists.
	signer := delivery.SignerFunc(func(keyID string) (*rsa.PrivateKey, error) {
		if d.bridge == nil {
			return nil, errors.New("the fediverse bridge is not open")
		}
		return d.bridge.Key(keyID)
	})
	d.queue, err = delivery.Open(filepath.Join(d.repo.Path(), "delivery.db"),
		delivery.WithSigner(signer), delivery.WithHTTPClient(client), delivery.WithLogger(d.log))
	if err != nil {
		return api.Wrap(api.KindUnavailable, "open the delivery queue", err)
	}
	d.bridge, err = fediverse.New(fediverse.Config{
		PublicURL:         cfg.Gateway.PublicURL,
		DBPath:            filepath.Join(d.repo.Path(), "fediverse.db"),
		AuthorizedFetch:   cfg.Gateway.AuthorizedFetch,
		TrustedProxies:    proxies,
		Client:            client,
		Delivery:          d.queue,
		Version:           node.Version,
		InboxRate:         cfg.Gateway.InboxRate,
		InboxIPRate:       cfg.Gateway.InboxIPRate,
		RateLimitEntries:  cfg.Limits.RateLimitedClients,
		MaxKeyFetches:     cfg.Gateway.MaxKeyFetches,
		KeyFailureTTL:     time.Duration(cfg.Gateway.KeyFailureTTL),
		KeyFailureEntries: cfg.Limits.FediverseKeyFailures,
		KeyRefreshMinAge:  time.Duration(cfg.Gateway.KeyRefreshMinAge),
		Logger:            d.log,
	}, BridgeServices(d.node))
	if err != nil {
		return api.Wrap(api.KindUnavailable, "start the fediverse bridge", err)
	}
	registerQueueMetrics(d.node.Metrics(), d.queue)
	return nil
}

// startBridge starts the delivery queue's workers and the bridge's loops.
func (d *Daemon) startBridge() {
	if d.bridge == nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	d.stopQueue, d.queueDone = cancel, make(chan struct{})
	go func() {
		defer close(d.queueDone)
		if err := d.queue.Run(ctx); err != nil && ctx.Err() == nil {
			d.log.Error("delivery queue stopped", "err", err)
		}
	}()
	d.bridge.Start()
}

// stopBridge stops the bridge, then the queue's workers, then closes the
// queue: deliveries queued and not made stay in delivery.db.
func (d *Daemon) stopBridge() error {
	var errs []error
	if d.bridge != nil {
		if err := d.bridge.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close the fediverse bridge: %w", err))
		}
	}
	if d.stopQueue != nil {
		d.stopQueue()
		<-d.queueDone
	}
	if d.queue != nil {
		if err := d.queue.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close the delivery queue: %w", err))
		}
	}
	return errors.Join(errs...)
}

// registerQueueMetrics exports the delivery queue's counters as
// lyceum_fediverse_*.
func registerQueueMetrics(reg *prometheus.Registry, q *delivery.Queue) {
	gauge := func(name, help string, f func(delivery.Stats) float64) {
		_ = reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "lyceum_fediverse_" + name, Help: help},
			func() float64 { return f(q.Stats()) }))
	}
	counter := func(name, help string, f func(delivery.Stats) float64) {
		_ = reg.Register(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "lyceum_fediverse_" + name, Help: help},
			func() float64 { return f(q.Stats()) }))
	}
	gauge("deliveries_pending", "Deliveries stored: waiting, in flight or held for unreachable hosts.", func(s delivery.Stats) float64 { return float64(s.Pending) })
	gauge("unreachable_hosts", "Remote hosts currently marked unreachable.", func(s delivery.Stats) float64 { return float64(s.UnreachableHosts) })
	counter("delivered_total", "Deliveries a remote server accepted.", func(s delivery.Stats) float64 { return float64(s.Delivered) })
	counter("retried_total", "Delivery attempts that failed and were scheduled again.", func(s delivery.Stats) float64 { return float64(s.Retried) })
	counter("failed_total", "Deliveries dropped because the remote server refused them.", func(s delivery.Stats) float64 { return float64(s.Failed) })
	counter("expired_total", "Deliveries dropped after retrying for 48 hours.", func(s delivery.Stats) float64 { return float64(s.Expired) })
	counter("signatures_total", "HTTP Signatures made for deliveries.", func(s delivery.Stats) float64 { return float64(s.Signatures) })
}

// BridgeServices are the node's rooms as the fediverse bridge reads them.
func BridgeServices(n *node.Node) fediverse.Services {
	return fediverse.Services{
		Identity: n.Swarm(), Actors: n.Social(), Resources: n.Social(), Collections: n.Social(),
		Log: n.Log(),
	}
}
