package node

import (
	"sync"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"golang.org/x/time/rate"
)

// clientLimiter rate-limits clients by key (an IP, a peer ID, an actor),
// remembering at most size of them: the least recently seen are forgotten,
// so a flood of new keys costs memory up to the bound and never clears
// the limits of the others.
type clientLimiter struct {
	mu    sync.Mutex
	per   *simplelru.LRU[string, *rate.Limiter]
	rate  rate.Limit
	burst int
}

func newClientLimiter(perSecond float64, burst, size int) *clientLimiter {
	per, err := simplelru.NewLRU[string, *rate.Limiter](max(size, 1), nil)
	if err != nil {
		panic(err) // only for a size below 1
	}
	return &clientLimiter{per: per, rate: rate.Limit(perSecond), burst: max(burst, 1)}
}

// Allow reports whether client may make one more request now.
func (l *clientLimiter) Allow(client string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.per.Get(client)
	if !ok {
		lim = rate.NewLimiter(l.rate, l.burst)
		l.per.Add(client, lim)
	}
	return lim.Allow()
}
