package ratelimit

import (
	"sync"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"golang.org/x/time/rate"
)

// Keyed allows each key perSecond requests, in bursts of burst. It is safe
// for concurrent use.
type Keyed struct {
	rate  rate.Limit
	burst int

	mu   sync.Mutex
	keys *simplelru.LRU[string, *rate.Limiter]
}

// New returns a Keyed limiter that remembers at most size keys (at least
// one); burst is at least one.
func New(perSecond float64, burst, size int) *Keyed {
	keys, err := simplelru.NewLRU[string, *rate.Limiter](max(size, 1), nil)
	if err != nil {
		panic(err) // only for a size below 1
	}
	return &Keyed{rate: rate.Limit(perSecond), burst: max(burst, 1), keys: keys}
}

// Allow reports whether key may make one more request now, and counts it
// if so.
func (l *Keyed) Allow(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.keys.Get(key)
	if !ok {
		lim = rate.NewLimiter(l.rate, l.burst)
		l.keys.Add(key, lim)
	}
	return lim.Allow()
}

// Exhausted reports whether key has no request left now, without
// counting one nor remembering a key it does not know: for limits that
// count failures only (Allow on each failure), checked before trying.
func (l *Keyed) Exhausted(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.keys.Peek(key)
	return ok && lim.Tokens() < 1
}

// Len is how many keys are remembered.
func (l *Keyed) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.keys.Len()
}
