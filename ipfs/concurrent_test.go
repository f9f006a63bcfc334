package ipfs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"
)

// Every path that stores blocks and then pins or keeps them (Add, a CAR
// import that succeeds, Pin fetching over bitswap, PutBlock) runs at the
// same time as GC and as CAR imports of the same data that fail after
// writing blocks. Whatever was acknowledged must then be complete, read
// offline.
func TestAcknowledgedContentSurvivesConcurrentImportsFetchesAndGC(t *testing.T) {
	const chunkSize = 16 << 10
	rounds := 8
	if testing.Short() {
		rounds = 4
	}
	chunker := fmt.Sprintf("size-%d", chunkSize)
	opts := ImportOptions{CIDVersion: 1, Chunker: chunker, Pin: true} // raw leaves: equal chunks, equal blocks
	pool := make([][]byte, 12)
	for i := range pool {
		pool[i] = randomBytes(uint64(500+i), chunkSize)
	}
	// file returns 6 to 17 chunks drawn from the pool: files share leaves
	// but not roots.
	file := func(seed uint64) []byte {
		r := rand.New(rand.NewPCG(seed, 77))
		var out []byte
		for range 6 + r.IntN(12) {
			out = append(out, pool[r.IntN(len(pool))]...)
		}
		return out
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p := MustPeerPair(t)
	b := p.b
	scratch := MustMemContent(t)
	carOf := func(data []byte) (cid.Cid, []byte) {
		root := MustAddBytes(t, scratch, data, opts)
		var buf bytes.Buffer
		if err := scratch.ExportCAR(ctx, root, &buf); err != nil {
			t.Fatal(err)
		}
		return root, buf.Bytes()
	}
	// spoil returns car followed by filler (fresh blocks, which keep the
	// import running a little longer) and then a bad ending of one of three
	// kinds.
	spoil := func(car []byte, filler []Block, how int) []byte {
		out := bytes.Clone(car)
		for _, f := range filler {
			out = append(out, section(f.CID, f.Data)...)
		}
		switch how % 3 {
		case 0: // a block whose bytes do not match its CID
			return append(out, section(rawCID(t, []byte("expected")), []byte("tampered"))...)
		case 1: // a stream cut inside its last section
			last := section(rawCID(t, []byte("the last block")), []byte("the last block"))
			return append(out, last[:len(last)-4]...)
		default: // a block hashed with SHA-1
			h, err := mh.Sum([]byte("sha1"), mh.SHA1, -1)
			if err != nil {
				t.Fatal(err)
			}
			return append(out, section(cid.NewCidV1(cid.Raw, h), []byte("sha1"))...)
		}
	}

	// One round: an add, a good CAR import, a fetch from A and a put of
	// blocks, each racing failing imports of the same data, and GC.
	type round struct {
		addData, carData, fetchData []byte
		carRoot, fetchRoot          cid.Cid
		car                         []byte
		bad                         [][]byte
		put                         []Block
	}
	rs := make([]round, rounds)
	for i := range rs {
		r := &rs[i]
		r.addData = file(uint64(1000 + i))
		r.carData = file(uint64(2000 + i))
		r.fetchData = file(uint64(3000 + i))
		r.carRoot, r.car = carOf(r.carData)
		r.fetchRoot = MustAddBytes(t, p.a, r.fetchData, opts) // only A has it
		for j := range 8 {
			data := randomBytes(uint64(10000+100*i+j), chunkSize)
			r.put = append(r.put, Block{CID: rawCID(t, data), Data: data})
		}
		_, addCAR := carOf(r.addData)
		_, fetchCAR := carOf(r.fetchData)
		r.bad = [][]byte{
			spoil(addCAR, r.put[:4], i),
			spoil(fetchCAR, r.put[4:], i+1),
			spoil(r.car, r.put, i+2),
		}
	}

	var (
		mu     sync.Mutex
		pinned = map[cid.Cid][]byte{} // acknowledged pins and their bytes
		kept   []cid.Cid              // acknowledged puts
		errs   []error                // what should not have failed
	)
	ack := func(root cid.Cid, data []byte) {
		mu.Lock()
		defer mu.Unlock()
		pinned[root] = data
	}
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		errs = append(errs, err)
	}
	// Small batches make imports write block by block, as a slow upload
	// does.
	tune := carTuning{batchBytes: chunkSize}

	for i, r := range rs {
		var wg sync.WaitGroup
		for j, car := range r.bad {
			wg.Go(func() {
				_, _, err := b.importCAR(ctx, bytes.NewReader(car), CARImportOptions{}, tune)
				if !errors.Is(err, ErrBadBlock) && !errors.Is(err, ErrInvalidCAR) {
					fail(fmt.Errorf("round %d: bad CAR %d: got %v, want ErrBadBlock or ErrInvalidCAR", i, j, err))
				}
			})
		}
		wg.Go(func() {
			root, err := b.Add(ctx, "f", files.NewBytesFile(r.addData), opts, nil)
			if err != nil {
				fail(fmt.Errorf("round %d: add: %w", i, err))
				return
			}
			ack(root, r.addData)
		})
		wg.Go(func() {
			if _, _, err := b.importCAR(ctx, bytes.NewReader(r.car), CARImportOptions{}, tune); err != nil {
				fail(fmt.Errorf("round %d: good CAR: %w", i, err))
				return
			}
			ack(r.carRoot, r.carData)
		})
		wg.Go(func() {
			if err := b.Pin(ctx, r.fetchRoot); err != nil {
				fail(fmt.Errorf("round %d: pin from A: %w", i, err))
				return
			}
			ack(r.fetchRoot, r.fetchData)
		})
		wg.Go(func() {
			if err := b.PutBlocks(ctx, r.put); err != nil {
				fail(fmt.Errorf("round %d: put blocks: %w", i, err))
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for _, blk := range r.put {
				kept = append(kept, blk.CID)
			}
		})
		wg.Go(func() {
			if _, err := b.GC(ctx); err != nil {
				fail(fmt.Errorf("round %d: gc: %w", i, err))
			}
		})
		wg.Wait()
	}
	for _, err := range errs {
		t.Error(err)
	}

	offline := New(b.store, nil, WithLogger(quietLogger()))
	check := func(when string) {
		t.Helper()
		pins, err := offline.Pins(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for root, data := range pinned {
			if !slices.ContainsFunc(pins, root.Equals) {
				t.Errorf("%s: acknowledged %s is not pinned", when, root)
				continue
			}
			if err := b.store.walk(ctx, root, cid.NewSet(), false); err != nil {
				t.Errorf("%s: acknowledged %s is incomplete: %v", when, root, err)
				continue
			}
			r, _, err := offline.Cat(ctx, root)
			if err != nil {
				t.Errorf("%s: cat %s: %v", when, root, err)
				continue
			}
			var got bytes.Buffer
			_, err = got.ReadFrom(r)
			_ = r.Close()
			if err != nil || !bytes.Equal(got.Bytes(), data) {
				t.Errorf("%s: cat %s: %d bytes (err %v), want %d", when, root, got.Len(), err, len(data))
			}
		}
		for _, k := range kept {
			if has, err := offline.Has(ctx, k); err != nil || !has {
				t.Errorf("%s: kept block %s is gone (err %v)", when, k, err)
			}
		}
	}
	check("after the run")
	if _, err := offline.GC(ctx); err != nil {
		t.Fatalf("final GC: %v", err)
	}
	check("after a final GC")
}
