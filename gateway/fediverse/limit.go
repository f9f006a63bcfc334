package fediverse

import (
	"sync"

	"golang.org/x/time/rate"
)

// hostLimiter rate-limits inbox POSTs per remote host. It forgets every
// host when it tracks too many, so that a flood of hosts cannot grow it
// without bound.
type hostLimiter struct {
	mu    sync.Mutex
	rate  rate.Limit
	burst int
	hosts map[string]*rate.Limiter
}

const maxTrackedHosts = 10000

func newHostLimiter(perSecond, burst float64) *hostLimiter {
	return &hostLimiter{rate: rate.Limit(perSecond), burst: int(burst) + 1, hosts: map[string]*rate.Limiter{}}
}

// allow reports whether host may make one more request now.
func (l *hostLimiter) allow(host string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.hosts[host]
	if !ok {
		if len(l.hosts) >= maxTrackedHosts {
			clear(l.hosts)
		}
		lim = rate.NewLimiter(l.rate, l.burst)
		l.hosts[host] = lim
	}
	return lim.Allow()
}
