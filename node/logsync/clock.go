package logsync

import (
	"slices"
	"sync"
	"time"
)

// clockSampleSize is how many gossip messages the clock estimate looks at.
const clockSampleSize = 64

// clockSamples keeps, for the last gossip messages accepted, how far the
// node's clock was ahead of the date their signers put on them: the
// signer's clock plus the message's time on the way (seconds). Their
// median says whether this node's clock is off, with no time server.
type clockSamples struct {
	mu   sync.Mutex
	ring [clockSampleSize]time.Duration
	n    int // filled slots
	next int
}

func (c *clockSamples) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ring[c.next] = d
	c.next = (c.next + 1) % clockSampleSize
	c.n = min(c.n+1, clockSampleSize)
}

// median is the median sample and how many there are (0: none yet).
func (c *clockSamples) median() (time.Duration, int) {
	c.mu.Lock()
	s := slices.Clone(c.ring[:c.n])
	c.mu.Unlock()
	if len(s) == 0 {
		return 0, 0
	}
	slices.Sort(s)
	return s[len(s)/2], len(s)
}

// ClockOffset estimates how far this node's clock is ahead of the
// network's (negative: behind), as the median, over the last gossip
// messages accepted, of the time between their signing and their
// arrival; samples is how many messages it rests on (0: no estimate).
// Each includes the message's seconds on the way: only offsets of
// minutes say something.
func (s *Service) ClockOffset() (offset time.Duration, samples int) {
	return s.clock.median()
}
