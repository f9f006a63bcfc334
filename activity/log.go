package activity

import (
	"errors"
	"fmt"

	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"
)

// CodecJSON is the multicodec of log entries, "json" (0x0200). Blocks are plain JSON, not
// dag-json (0x0129): JCS orders keys by UTF-16 and formats numbers as
// ECMAScript does, which dag-json's canonical form does not promise, and
// "prev" is a string, not a {"/": …} link, so calling the bytes dag-json
// would invite strict dag-json decoders to reject or rewrite them. Plain
// json is what any IPFS node or gateway serves as-is. sha2-256 is the hash
// every IPFS implementation and gateway verifies by default.
const CodecJSON = 0x0200

// Block returns a signed activity as an IPLD block: its canonical JSON
// (Encode) and their CID (CIDv1, json, sha2-256).
func Block(a *Activity) (cid.Cid, []byte, error) {
	if a.Proof == nil {
		return cid.Undef, nil, fmt.Errorf("block: %w", ErrUnsigned)
	}
	b, err := Encode(a)
	if err != nil {
		return cid.Undef, nil, fmt.Errorf("block: %w", err)
	}
	c, err := BlockCID(b)
	return c, b, err
}

// BlockCID returns the CID of block bytes.
func BlockCID(b []byte) (cid.Cid, error) {
	h, err := mh.Sum(b, mh.SHA2_256, -1)
	if err != nil {
		return cid.Undef, fmt.Errorf("hash block: %w", err)
	}
	return cid.NewCidV1(CodecJSON, h), nil
}

// CIDOf returns the CID of a signed activity's block: its identifier.
func CIDOf(a *Activity) (cid.Cid, error) {
	c, _, err := Block(a)
	return c, err
}

// Fetcher returns the activity stored under a CID, typically from a local
// blockstore or over bitswap. It need not verify anything: the log walker
// does. It carries its own context and deadline.
type Fetcher func(cid.Cid) (*Activity, error)

// Log is what a receiver knows of one actor's log: the seq and CID of the
// newest activity it holds (Seq 0 and an undefined Head if none).
type Log struct {
	Actor string
	Seq   uint64
	Head  cid.Cid
}

// ForkError reports two different signed activities of one actor with the
// same seq: the actor (or whoever holds its key) forked its log.
type ForkError struct {
	Actor string
	Seq   uint64
	A, B  cid.Cid // the two activities' CIDs
}

// Error implements error.
func (e *ForkError) Error() string {
	return fmt.Sprintf("activity: log fork: %s has two activities with seq %d: %s and %s", e.Actor, e.Seq, e.A, e.B)
}

// CheckFork returns a *ForkError if a and b are different activities of
// the same actor with the same seq, and nil otherwise.
func CheckFork(a, b *Activity) error {
	if a.Actor != b.Actor || a.Seq != b.Seq {
		return nil
	}
	ca, err := CIDOf(a)
	if err != nil {
		return err
	}
	cb, err := CIDOf(b)
	if err != nil {
		return err
	}
	if ca.Equals(cb) {
		return nil
	}
	return &ForkError{Actor: a.Actor, Seq: a.Seq, A: ca, B: cb}
}

// Backfill walks prev back from head until it reaches what l already
// holds, and returns the activities l is missing in ascending seq order.
// Every activity is checked: its CID is the one asked for, it is signed by
// l.Actor, its seq is one less than its successor's, and the oldest new one
// links to l.Head (or has seq 1 and no prev if l is empty). A head at or
// below l.Seq yields nothing, or a *ForkError if it differs from l.Head at
// the same seq, as does a chain that reaches l.Seq+1 without linking to
// l.Head. max bounds the number of activities fetched (0: no bound), so a
// forged huge seq cannot make the walk unbounded; the gap is checked on the
// head before any further fetch.
func Backfill(l Log, head cid.Cid, fetch Fetcher, max int) ([]*Activity, error) {
	h, err := fetchChecked(l.Actor, head, fetch)
	if err != nil {
		return nil, err
	}
	if h.Seq <= l.Seq {
		if h.Seq == l.Seq && l.Head.Defined() && !head.Equals(l.Head) {
			return nil, &ForkError{Actor: l.Actor, Seq: l.Seq, A: l.Head, B: head}
		}
		return nil, nil
	}
	gap := h.Seq - l.Seq
	if max > 0 && gap > uint64(max) {
		return nil, fmt.Errorf("backfill %s: gap of %d activities exceeds limit %d", l.Actor, gap, max)
	}
	out := make([]*Activity, gap)
	out[gap-1] = h
	cur := h
	for i := int(gap) - 2; i >= 0; i-- {
		prev, err := parseBlockCID(cur.Prev)
		if err != nil {
			return nil, fmt.Errorf("backfill %s seq %d: %w: prev: %v", l.Actor, cur.Seq, ErrBrokenLog, err)
		}
		a, err := fetchChecked(l.Actor, prev, fetch)
		if err != nil {
			return nil, err
		}
		if a.Seq != cur.Seq-1 {
			return nil, fmt.Errorf("backfill %s: %w: seq %d links to seq %d", l.Actor, ErrBrokenLog, cur.Seq, a.Seq)
		}
		out[i] = a
		cur = a
	}
	// cur has seq l.Seq+1: it must link to what we hold.
	if l.Seq == 0 {
		if cur.Prev != "" {
			return nil, fmt.Errorf("backfill %s: %w: seq 1 has a prev", l.Actor, ErrBrokenLog)
		}
		return out, nil
	}
	prev, err := parseBlockCID(cur.Prev)
	if err != nil {
		return nil, fmt.Errorf("backfill %s seq %d: %w: prev: %v", l.Actor, cur.Seq, ErrBrokenLog, err)
	}
	if l.Head.Defined() && !prev.Equals(l.Head) {
		return nil, &ForkError{Actor: l.Actor, Seq: l.Seq, A: l.Head, B: prev}
	}
	return out, nil
}

// fetchChecked fetches c and checks that it is what c names and that
// actor signed it.
func fetchChecked(actor string, c cid.Cid, fetch Fetcher) (*Activity, error) {
	a, err := fetch(c)
	if err != nil {
		return nil, fmt.Errorf("backfill %s: fetch %s: %w", actor, c, err)
	}
	if a == nil {
		return nil, fmt.Errorf("backfill %s: fetch %s: %w", actor, c, errors.New("no activity"))
	}
	if a.Actor != actor {
		return nil, fmt.Errorf("backfill %s: %w: %s is by %s", actor, ErrBrokenLog, c, a.Actor)
	}
	if err := Verify(a); err != nil {
		return nil, fmt.Errorf("backfill %s: %s: %w", actor, c, err)
	}
	got, err := CIDOf(a)
	if err != nil {
		return nil, fmt.Errorf("backfill %s: %s: %w", actor, c, err)
	}
	if !got.Equals(c) {
		return nil, fmt.Errorf("backfill %s: %w: fetched %s, its CID is %s", actor, ErrBrokenLog, c, got)
	}
	return a, nil
}
