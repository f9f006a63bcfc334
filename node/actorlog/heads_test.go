package actorlog

import (
	"testing"

	"github.com/lyceum-oer/lyceum/activity"
)

func headEntries(did string, seqs ...uint64) []Entry {
	var es []Entry
	for _, s := range seqs {
		es = append(es, Entry{Act: &activity.Activity{Actor: did, Seq: s}})
	}
	return es
}

// store runs one store through h, committed or not.
func store(h *logHeads, committed bool, es []Entry) {
	h.stored(h.storing(es), committed, es)
}

// TestLogHeadsStayExactOrForget walks logs through the cases: entries in
// order move the head on, an entry above a gap marks it, filling the gap
// forgets the head (SQLite knows how far the fill reaches), and so do a
// failed commit and the outer of two stores at once. While a store is
// under way its actors' heads answer only for seqs beyond it, and a head
// read meanwhile is not kept.
func TestLogHeadsStayExactOrForget(t *testing.T) {
	h := newLogHeads()
	if h.unstored("a", 1) {
		t.Fatal("an unknown log was taken as known")
	}
	h.learn("a", 2, false, h.readStart())
	if !h.unstored("a", 3) || h.unstored("a", 2) {
		t.Fatal("a learned head does not answer")
	}
	store(h, true, append(headEntries("a", 3, 4), headEntries("b", 1)...))
	if k, _ := h.contiguous("a"); k != 4 || !h.unstored("a", 5) {
		t.Fatalf("after 3 and 4: %d", k)
	}
	if _, ok := h.contiguous("b"); ok {
		t.Fatal("a log never read was remembered from one entry")
	}
	store(h, true, headEntries("a", 6))
	if k, _ := h.contiguous("a"); k != 4 {
		t.Fatalf("after 6: %d", k)
	}
	if h.unstored("a", 7) {
		t.Fatal("with entries above a gap, a higher seq must be asked of SQLite")
	}
	store(h, true, headEntries("a", 5))
	if _, ok := h.contiguous("a"); ok {
		t.Fatal("filling the gap kept a head that may be short")
	}

	h.learn("a", 6, false, h.readStart())
	p := h.storing(headEntries("a", 7, 8))
	if _, ok := h.contiguous("a"); ok {
		t.Fatal("a head told how far its log is stored while a store was under way")
	}
	if h.unstored("a", 8) || !h.unstored("a", 9) {
		t.Fatal("during a store, a head must answer for seqs beyond it only")
	}
	h.learn("e", 1, false, h.readStart())
	if _, ok := h.contiguous("e"); ok {
		t.Fatal("a head read during a store was kept")
	}
	h.stored(p, true, headEntries("a", 7, 8))
	if k, _ := h.contiguous("a"); k != 8 {
		t.Fatalf("after 7 and 8: %d", k)
	}

	epoch := h.readStart()
	store(h, true, headEntries("c", 1))
	h.learn("c", 0, false, epoch)
	if _, ok := h.contiguous("c"); ok {
		t.Fatal("a head read across a store was kept")
	}

	store(h, false, headEntries("a", 9))
	if _, ok := h.contiguous("a"); ok {
		t.Fatal("a failed commit left a head")
	}

	h.learn("a", 7, false, h.readStart())
	h.learn("d", 1, false, h.readStart())
	pa := h.storing(headEntries("a", 8))
	pb := h.storing(headEntries("a", 8))
	if h.unstored("a", 9) {
		t.Fatal("two stores of one log at once left its head")
	}
	h.stored(pb, false, nil)
	h.learn("a", 7, false, h.readStart())
	if _, ok := h.contiguous("a"); ok {
		t.Fatal("a head was learned while a store was under way")
	}
	pd := h.storing(headEntries("d", 2))
	h.stored(pd, true, headEntries("d", 2))
	h.stored(pa, true, headEntries("a", 8))
	// d's store saw nothing else begin or end: its head comes back. a's
	// store did (d's might have stored entries of a's log): it does not.
	if k, _ := h.contiguous("d"); k != 2 {
		t.Fatalf("after the inner store: %d", k)
	}
	if _, ok := h.contiguous("a"); ok {
		t.Fatal("the outer of two stores at once put its head back")
	}
}
