package simnet

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/lyceum-oer/lyceum/p2p"
)

// attacker is a peer that speaks GossipSub but not Lyceum: it accepts
// anything it is sent and floods the community topic with bad messages.
type attacker struct {
	idx    int
	h      host.Host
	g      *p2p.Gossip
	mu     sync.Mutex
	honest [][]byte // honest messages seen, to forge and replay
}

func (s *Sim) startAttacker(ctx context.Context, idx int, rng *mrand.Rand) (*attacker, error) {
	k, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		return nil, err
	}
	h, err := s.fabric.NewHost(idx, k)
	if err != nil {
		return nil, err
	}
	a := &attacker{idx: idx, h: h}
	a.g, err = p2p.NewGossip(h, func(context.Context, peer.ID, string, []byte) (p2p.Verdict, any) { return p2p.Accept, nil },
		p2p.GossipConfig{MaxMessageSize: 1 << 20, NoScoring: true, Logger: s.log})
	if err != nil {
		h.Close()
		return nil, err
	}
	topic := *s.col.topic.Load()
	if err := a.g.Join(topic, func(_ string, _ peer.ID, data []byte, _ any) {
		a.mu.Lock()
		if len(a.honest) < 64 {
			a.honest = append(a.honest, append([]byte(nil), data...))
		}
		a.mu.Unlock()
	}); err != nil {
		a.close()
		return nil, err
	}
	for _, j := range rng.Perm(s.sc.Nodes)[:min(s.sc.Degree, s.sc.Nodes)] {
		hb := s.libp2pHost(j)
		if hb == nil {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		_ = h.Connect(cctx, peer.AddrInfo{ID: hb.ID(), Addrs: hb.Addrs()})
		cancel()
	}
	return a, nil
}

func (a *attacker) close() {
	if a.g != nil {
		_ = a.g.Close()
	}
	_ = a.h.Close()
}

// next makes the k-th bad message: forged, replayed, oversized, malformed
// in turn. A replay re-sends an honest message inside a new JSON
// envelope position (a trailing space), so its message ID is new but its
// signed content is old.
func (a *attacker) next(k int, rng *mrand.Rand) []byte {
	a.mu.Lock()
	var honest []byte
	if len(a.honest) > 0 {
		honest = a.honest[rng.IntN(len(a.honest))]
	}
	a.mu.Unlock()
	switch k % 4 {
	case 0:
		if honest != nil {
			// Change a signed field, keep the JSON valid: a bad signature.
			return bytes.Replace(honest, []byte(`"published":"20`), []byte(`"published":"19`), 1)
		}
	case 1:
		if honest != nil {
			return append(append([]byte(nil), honest...), ' ')
		}
	case 2:
		return append(append([]byte(`{"type":"Create","x":"`), bytes.Repeat([]byte("a"), 96<<10)...), []byte(`"}`)...)
	}
	junk := make([]byte, 256)
	for i := range junk {
		junk[i] = byte(rng.IntN(256))
	}
	return junk
}

// runSpam runs the propagation load while attackers flood the topic, then
// reports honest delivery and the attackers' scores at their neighbours.
func (s *Sim) runSpam(ctx context.Context, r *Result, progress Progress) error {
	rng := mrand.New(mrand.NewPCG(s.sc.Seed, 0x5ba))
	var atk []*attacker
	defer func() {
		for _, a := range atk {
			a.close()
		}
	}()
	for i := 0; i < s.sc.Spam.Attackers; i++ {
		a, err := s.startAttacker(ctx, s.sc.Nodes+i, rng)
		if err != nil {
			return fmt.Errorf("attacker %d: %w", i, err)
		}
		atk = append(atk, a)
	}
	cctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var sent [4]int64
	var sentMu sync.Mutex
	topic := *s.col.topic.Load()
	for i, a := range atk {
		wg.Add(1)
		go func(a *attacker, seed uint64) {
			defer wg.Done()
			arng := mrand.New(mrand.NewPCG(s.sc.Seed, seed))
			t := time.NewTicker(time.Duration(float64(time.Second) / s.sc.Spam.Rate))
			defer t.Stop()
			for k := 0; ; k++ {
				select {
				case <-cctx.Done():
					return
				case <-t.C:
				}
				if a.g.Publish(cctx, topic, a.next(k, arng)) == nil {
					sentMu.Lock()
					sent[k%4]++
					sentMu.Unlock()
				}
			}
		}(a, uint64(i)+100)
	}
	ids, err := s.publishAll(ctx, s.schedule(s.sc.Duration.D(), s.sc.Rate, 0), "p", progress)
	stop()
	wg.Wait()
	if err != nil {
		return err
	}
	r.Published = len(ids)
	if err := s.sleep(ctx, s.sc.Settle.D()); err != nil {
		return err
	}
	if err := s.finalConverge(ctx, r, ids, progress); err != nil {
		return err
	}
	for i, name := range []string{"forged", "replayed", "oversized", "malformed"} {
		r.Extra["sent_"+name] = float64(sent[i])
	}
	// Scores the attackers' honest neighbours give them, and how many still
	// keep them connected.
	var scored, graylisted, connected, pairs float64
	minScore := 0.0
	for _, a := range atk {
		for i := 0; i < s.sc.Nodes; i++ {
			n := s.Node(i)
			if n == nil {
				continue
			}
			sc, ok := n.GossipPeerScores()[a.h.ID()]
			if !ok {
				continue
			}
			pairs++
			scored += sc
			minScore = min(minScore, sc)
			if sc < p2p.GraylistThreshold {
				graylisted++
			}
		}
		connected += float64(len(a.h.Network().Peers()))
	}
	if pairs > 0 {
		r.Extra["attacker_mean_score"] = scored / pairs
		r.Extra["attacker_graylisted_share"] = graylisted / pairs
	}
	r.Extra["attacker_min_score"] = minScore
	r.Extra["attacker_peers_left"] = connected / float64(len(atk))
	for i := 0; i < s.sc.Nodes; i++ {
		if n := s.Node(i); n != nil {
			for k, v := range n.Sync().Stats() {
				r.Extra["node_"+k] += float64(v)
			}
		}
	}
	return nil
}
