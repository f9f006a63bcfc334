package swarm

import (
	"sync"
	"sync/atomic"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
)

// Reachability follows what AutoNAT says of the node's addresses, for
// the operator's dashboard. Its one goroutine drains the host's
// reachability events (a subscriber that stops reading would stall the
// host's event bus) until Close.
type Reachability struct {
	sub  event.Subscription // nil offline
	last atomic.Int32       // a network.Reachability
	done chan struct{}
	once sync.Once
}

// FollowReachability starts following the host's reachability events;
// the caller owns the result and must Close it before the host closes.
// Offline, it follows nothing and says "".
func (s *Service) FollowReachability() (*Reachability, error) {
	r := &Reachability{done: make(chan struct{})}
	if s.host == nil {
		close(r.done)
		return r, nil
	}
	sub, err := s.host.Libp2p().EventBus().Subscribe(new(event.EvtLocalReachabilityChanged))
	if err != nil {
		return nil, err
	}
	r.sub = sub
	go r.follow()
	return r, nil
}

func (r *Reachability) follow() {
	defer close(r.done)
	// The event is stateful: the last one comes first, then the changes.
	for e := range r.sub.Out() {
		if ev, ok := e.(event.EvtLocalReachabilityChanged); ok {
			r.last.Store(int32(ev.Reachability))
		}
	}
}

// String is what AutoNAT last said: "public", "private" or "unknown"
// (also before it said anything); "" offline.
func (r *Reachability) String() string {
	if r.sub == nil {
		return ""
	}
	switch network.Reachability(r.last.Load()) {
	case network.ReachabilityPublic:
		return "public"
	case network.ReachabilityPrivate:
		return "private"
	}
	return "unknown"
}

// Close stops following and waits for the goroutine to end.
func (r *Reachability) Close() error {
	var err error
	r.once.Do(func() {
		if r.sub != nil {
			err = r.sub.Close()
		}
	})
	<-r.done
	return err
}
