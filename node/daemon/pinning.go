package daemon

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/pinsvc"
)

// openPins opens the Pinning Service's requests ($LYCEUM_PATH/pinning.db);
// startPins starts its workers once the HTTP server runs.
func (d *Daemon) openPins() error {
	s, err := pinsvc.Open(filepath.Join(d.repo.Path(), "pinning.db"), d.node.Content(), d.node.Swarm(),
		pinsvc.WithLogger(d.log))
	if err != nil {
		return api.Wrap(api.KindUnavailable, "open the pinning service", err)
	}
	d.pins = s
	if reg := d.node.Metrics(); reg != nil {
		if err := s.RegisterMetrics(reg); err != nil {
			return fmt.Errorf("register the pinning service's metrics: %w", err)
		}
	}
	return nil
}

// startPins runs the pinning workers under a context the daemon owns.
func (d *Daemon) startPins() {
	if d.pins == nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	d.stopPins, d.pinsDone = cancel, make(chan struct{})
	go func() {
		defer close(d.pinsDone)
		if err := d.pins.Run(ctx); err != nil && ctx.Err() == nil {
			d.log.Error("pinning workers stopped", "err", err)
		}
	}()
}

// closePins stops the workers (pins under way go back to queued) and
// closes the store.
func (d *Daemon) closePins() error {
	if d.pins == nil {
		return nil
	}
	if d.stopPins != nil {
		d.stopPins()
		<-d.pinsDone
		d.stopPins = nil
	}
	err := d.pins.Close()
	d.pins = nil
	if err != nil {
		return fmt.Errorf("close the pinning service: %w", err)
	}
	return nil
}
