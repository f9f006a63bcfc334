package activity

import (
	"errors"
	"fmt"
	"testing"

	"github.com/ipfs/go-cid"
)

// store is an in-memory block store keyed by CID, as a fetcher sees it.
type store map[cid.Cid][]byte

func (s store) put(tb testing.TB, a *Activity) cid.Cid {
	tb.Helper()
	c, b, err := Block(a)
	if err != nil {
		tb.Fatal(err)
	}
	s[c] = b
	return c
}

func (s store) fetch(c cid.Cid) (*Activity, error) {
	b, ok := s[c]
	if !ok {
		return nil, fmt.Errorf("%s: not found", c)
	}
	return Decode(b)
}

func TestBlockIsCIDv1JSONSHA256OfTheCanonicalBytes(t *testing.T) {
	a := chain(t, "ana")[0]
	c, b, err := Block(a)
	if err != nil {
		t.Fatal(err)
	}
	if c.Version() != 1 || c.Type() != 0x0200 || c.Prefix().MhType != 0x12 {
		t.Fatalf("CID %s has prefix %+v", c, c.Prefix())
	}
	if want, _ := BlockCID(mustEncode(t, a)); !want.Equals(c) || string(b) != string(mustEncode(t, a)) {
		t.Fatal("block is not the canonical encoding")
	}
	a.Proof = nil
	if _, _, err := Block(a); !errors.Is(err, ErrUnsigned) {
		t.Fatalf("unsigned block: %v", err)
	}
}

func TestBackfill(t *testing.T) {
	log := chain(t, "ana")
	s := store{}
	var cids []cid.Cid
	for _, a := range log {
		cids = append(cids, s.put(t, a))
	}
	head := cids[len(cids)-1]
	actor := log[0].Actor

	t.Run("fetches the whole log for a new follower", func(t *testing.T) {
		got, err := Backfill(Log{Actor: actor}, head, s.fetch, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(log) || got[0].Seq != 1 || got[len(got)-1].Seq != uint64(len(log)) {
			t.Fatalf("got %d activities", len(got))
		}
	})
	t.Run("fetches only the gap", func(t *testing.T) {
		got, err := Backfill(Log{Actor: actor, Seq: 5, Head: cids[4]}, head, s.fetch, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(log)-5 || got[0].Seq != 6 {
			t.Fatalf("got %d from seq %d", len(got), got[0].Seq)
		}
	})
	t.Run("returns nothing when up to date", func(t *testing.T) {
		got, err := Backfill(Log{Actor: actor, Seq: uint64(len(log)), Head: head}, head, s.fetch, 0)
		if err != nil || len(got) != 0 {
			t.Fatalf("got %d, %v", len(got), err)
		}
	})
	t.Run("bounds the walk", func(t *testing.T) {
		if _, err := Backfill(Log{Actor: actor}, head, s.fetch, 3); err == nil {
			t.Fatal("want an error")
		}
	})
	t.Run("rejects another actor's head", func(t *testing.T) {
		if _, err := Backfill(Log{Actor: testDID("bob")}, head, s.fetch, 0); !errors.Is(err, ErrBrokenLog) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("rejects a block that is not what its CID names", func(t *testing.T) {
		bad := store{}
		for c, b := range s {
			bad[c] = b
		}
		bad[cids[3]] = s[cids[2]]
		if _, err := Backfill(Log{Actor: actor}, head, bad.fetch, 0); !errors.Is(err, ErrBrokenLog) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("reports a fork", func(t *testing.T) {
		// The same key signs a different seq 5 and builds on it.
		forked := &Activity{Context: DefaultContext(), Type: TypeLike, Actor: actor, Object: Object{Ref: fileCID},
			Seq: 5, Prev: cids[3].String(), Published: t0}
		if err := Sign(forked, testKey("ana"), t0); err != nil {
			t.Fatal(err)
		}
		fc := s.put(t, forked)
		next := &Activity{Context: DefaultContext(), Type: TypeLike, Actor: actor, Object: Object{Ref: fileCID},
			Seq: 6, Prev: fc.String(), Published: t0}
		if err := Sign(next, testKey("ana"), t0); err != nil {
			t.Fatal(err)
		}
		nc := s.put(t, next)
		var fe *ForkError
		_, err := Backfill(Log{Actor: actor, Seq: 5, Head: cids[4]}, nc, s.fetch, 0)
		if !errors.As(err, &fe) || fe.Seq != 5 {
			t.Fatalf("got %v", err)
		}
		_, err = Backfill(Log{Actor: actor, Seq: 5, Head: cids[4]}, fc, s.fetch, 0)
		if !errors.As(err, &fe) {
			t.Fatalf("same-seq head: got %v", err)
		}
		if err := CheckFork(log[4], forked); !errors.As(err, &fe) {
			t.Fatalf("CheckFork: %v", err)
		}
		if err := CheckFork(log[4], log[4]); err != nil {
			t.Fatalf("CheckFork same: %v", err)
		}
	})
}

func TestResourceVersionsChain(t *testing.T) {
	log := chain(t, "ana")
	create, update := log[0], log[len(log)-1]
	id, _ := CIDOf(create)
	r := update.Object.Resource
	if r.ID != id.String() || r.PreviousVersion != id.String() || r.Version != 2 {
		t.Fatalf("update links %q v%d prev %q, want %s", r.ID, r.Version, r.PreviousVersion, id)
	}
	// An Update without the link is invalid.
	bad := *update
	br := *r
	br.PreviousVersion = ""
	bad.Object = Object{Resource: &br}
	var fe *FieldError
	if err := bad.Validate(); !errors.As(err, &fe) || fe.Field != "object.previousVersion" {
		t.Fatalf("got %v", err)
	}
}
