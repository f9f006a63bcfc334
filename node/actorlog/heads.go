package actorlog

import (
	"sync"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// logHeadsSize bounds the actors whose log heads are remembered. An HQ
// hears every actor of the network; an actor forgotten is read again from
// SQLite the next time one of its entries comes.
const logHeadsSize = 1 << 16

// logHeads remembers how far each actor's log is stored without a gap, so
// that the gossip validators and the ingest loop tell a new entry from a
// stored one without reading SQLite: nearly every entry gossip brings is
// new, and those reads were a tenth of an HQ's CPU per activity.
//
// A head is exact when no store of its actor is under way. A store marks
// the heads of its actors before it commits (storing) and moves them past
// what it stored after (stored); while it is under way, a head still
// answers for the entries the store does not hold. A head read from
// SQLite is kept only if no store began or ended while it was read
// (learn). Anything unsure is dropped and read from SQLite again.
type logHeads struct {
	mu       sync.Mutex
	heads    *simplelru.LRU[string, logHead] // guarded by mu
	epoch    uint64                          // stores begun and ended
	inFlight int                             // stores begun and not ended
}

// logHead is what is stored of one actor's log.
type logHead struct {
	contiguous uint64 // entries 1..contiguous are all stored
	above      bool   // and some above contiguous+1 too
	storing    uint64 // the highest seq a store under way holds, if any
}

func newLogHeads() *logHeads {
	c, err := simplelru.NewLRU[string, logHead](logHeadsSize, nil)
	if err != nil {
		panic(err) // only for a size below 1
	}
	return &logHeads{heads: c}
}

// contiguous returns how far did's log is stored without a gap, if that
// is known.
func (h *logHeads) contiguous(did string) (uint64, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	l, ok := h.heads.Get(did)
	if !ok || l.storing > 0 {
		return 0, false
	}
	return l.contiguous, true
}

// unstored reports whether entry seq of did is certainly not stored: the
// log is remembered, has nothing stored above its contiguous part, and
// seq is beyond it and beyond what a store under way holds. False means
// "ask SQLite".
func (h *logHeads) unstored(did string, seq uint64) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	l, ok := h.heads.Get(did)
	return ok && !l.above && seq > l.contiguous && seq > l.storing
}

// readStart is called before reading a head from SQLite; pass what it
// returns to learn.
func (h *logHeads) readStart() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.epoch
}

// learn remembers a head read from SQLite, unless a store began or ended
// since readStart returned epoch, or is under way.
func (h *logHeads) learn(did string, contiguous uint64, above bool, epoch uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.epoch == epoch && h.inFlight == 0 {
		h.heads.Add(did, logHead{contiguous: contiguous, above: above})
	}
}

// pendingStore is a store under way; pass it to stored.
type pendingStore struct {
	marked map[string]bool // actors whose heads storing marked
	epoch  uint64          // the epoch once storing began
}

// storing is called before committing es: it marks the heads of their
// actors with the highest seq es holds.
func (h *logHeads) storing(es []Entry) pendingStore {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.epoch++
	h.inFlight++
	p := pendingStore{marked: map[string]bool{}, epoch: h.epoch}
	for _, e := range es {
		l, ok := h.heads.Peek(e.Act.Actor)
		if !ok {
			continue
		}
		if l.storing > 0 && !p.marked[e.Act.Actor] {
			// Two stores of one log at once: forget it until both end.
			h.heads.Remove(e.Act.Actor)
			continue
		}
		l.storing = max(l.storing, e.Act.Seq)
		h.heads.Add(e.Act.Actor, l)
		p.marked[e.Act.Actor] = true
	}
	return p
}

// stored ends a store begun with storing. When it committed, and no other
// store began or ended meanwhile, the heads it marked move past es (the
// entries it stored, in each actor's seq order); otherwise they are
// forgotten.
func (h *logHeads) stored(p pendingStore, committed bool, es []Entry) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.inFlight--
	h.epoch++
	moved := map[string]logHead{}
	for did := range p.marked {
		l, ok := h.heads.Peek(did)
		if !ok || !committed || h.epoch != p.epoch+1 {
			h.heads.Remove(did)
			continue
		}
		l.storing = 0
		moved[did] = l
	}
	for _, e := range es {
		l, ok := moved[e.Act.Actor]
		if !ok {
			continue
		}
		switch seq := e.Act.Seq; {
		case seq <= l.contiguous:
		case seq == l.contiguous+1 && l.above:
			// The gap is filled, up to where? SQLite knows.
			delete(moved, e.Act.Actor)
			h.heads.Remove(e.Act.Actor)
			continue
		case seq == l.contiguous+1:
			l.contiguous = seq
		default:
			l.above = true
		}
		moved[e.Act.Actor] = l
	}
	for did, l := range moved {
		h.heads.Add(did, l)
	}
}
