package simnet

import (
	"context"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"sort"
	"sync"
	"time"

	"github.com/ipfs/boxo/files"

	"github.com/lyceum-oer/lyceum/node/api"
)

// runPopular: node 0 publishes a large file; many nodes fetch it at once.
// Each fetcher dials node 0 first (what content routing would tell it),
// then reads the file: bitswap asks every connected peer, so fetchers
// that already hold blocks serve their neighbours too.
func (s *Sim) runPopular(ctx context.Context, r *Result, progress Progress) error {
	rng := mrand.New(mrand.NewPCG(s.sc.Seed, 0x909))
	data := make([]byte, s.sc.Popular.Size)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	n0 := s.Node(0)
	c, err := n0.Content().Add(ctx, "popular.bin", files.NewBytesFile(data), api.AddOptions{CIDVersion: 1}, nil)
	if err != nil {
		return fmt.Errorf("add the file: %w", err)
	}
	res, err := n0.Social().Publish(ctx, api.PublishRequest{FileCID: c.String(), Filename: "popular.bin", Title: "simres popular",
		License: "CC-BY-4.0", Language: "en", Community: s.community})
	if err != nil {
		return err
	}
	_ = res
	r.Published = 1
	perm := rng.Perm(s.sc.Nodes - 1)
	fetchers := make([]int, s.sc.Popular.Fetchers)
	for i := range fetchers {
		fetchers[i] = perm[i] + 1
	}
	sent0 := s.bytesSent()
	start := time.Now()
	times := make([]float64, len(fetchers))
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	done := 0
	for k, i := range fetchers {
		wg.Add(1)
		go func(k, i int) {
			defer wg.Done()
			err := func() error {
				if err := s.connect(ctx, i, 0); err != nil {
					return err
				}
				fctx, cancel := context.WithTimeout(ctx, s.sc.Converge.D()+time.Minute)
				defer cancel()
				rc, _, err := s.Node(i).Content().Cat(fctx, c)
				if err != nil {
					return err
				}
				defer rc.Close()
				got, err := io.Copy(io.Discard, rc)
				if err != nil {
					return err
				}
				if got != s.sc.Popular.Size {
					return fmt.Errorf("node %d read %d bytes of %d", i, got, s.sc.Popular.Size)
				}
				return nil
			}()
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			if err == nil {
				times[k] = ms(time.Since(start))
			} else {
				times[k] = -1
			}
			done++
			progress(s.variant.Name+": fetch", done, len(fetchers))
		}(k, i)
	}
	wg.Wait()
	ok := 0
	var ts []float64
	for _, t := range times {
		if t >= 0 {
			ok++
			ts = append(ts, t)
		}
	}
	sort.Float64s(ts)
	sent1 := s.bytesSent()
	var total, origin int64
	for i := range sent1 {
		d := sent1[i] - sent0[i]
		total += d
		if i == 0 {
			origin = d
		}
	}
	r.Completeness = float64(ok) / float64(len(fetchers))
	r.Extra["fetchers"] = float64(len(fetchers))
	r.Extra["fetch_p50_ms"] = quantile(ts, 0.5)
	r.Extra["fetch_p95_ms"] = quantile(ts, 0.95)
	if len(ts) > 0 {
		r.Extra["fetch_max_ms"] = ts[len(ts)-1]
	}
	r.Extra["file_bytes"] = float64(s.sc.Popular.Size)
	if total > 0 {
		r.Extra["origin_share_of_bytes"] = float64(origin) / float64(total)
	}
	r.Extra["origin_sent_per_copy"] = float64(origin) / float64(s.sc.Popular.Size*int64(len(fetchers)))
	if ok == len(fetchers) {
		r.ConvergeMs = ts[len(ts)-1]
	} else {
		r.ConvergeMs = -1
	}
	if firstErr != nil && ok == 0 {
		return firstErr
	}
	return nil
}
