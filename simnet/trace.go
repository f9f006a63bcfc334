package simnet

import (
	"crypto/sha256"
	"sync"
	"sync/atomic"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"google.golang.org/protobuf/proto"
)

// collector gathers GossipSub events from every node's tracer: the first
// time each message was seen anywhere (its publication), when each node
// delivered it, duplicates, rejections and message bytes sent.
type collector struct {
	mu       sync.Mutex
	topic    atomic.Pointer[string] // the measured topic
	first    map[string]time.Time   // message ID -> first event anywhere
	size     map[string]int         // message ID -> payload size
	origin   map[string]int         // message ID -> publishing node
	delivers map[string]map[int]time.Time
	rejects  map[string]int64 // reason -> count

	dups     atomic.Int64
	dataSent atomic.Int64 // message payload bytes sent, measured topic
	// rpcSent splits the RPCs' bytes: message payloads of other topics,
	// message envelopes (author, seqno, signature, topic), and control
	// messages by kind. Protobuf framing is left out.
	rpcSent   [rpcParts]atomic.Int64
	delivered atomic.Int64
	perNode   []nodeCounters
}

type nodeCounters struct {
	dups atomic.Int64
}

func newCollector(nodes int) *collector {
	c := &collector{origin: map[string]int{}, first: map[string]time.Time{}, size: map[string]int{},
		delivers: map[string]map[int]time.Time{}, rejects: map[string]int64{}, perNode: make([]nodeCounters, nodes)}
	c.setTopic("")
	return c
}

func (c *collector) setTopic(t string) { c.topic.Store(&t) }

func (c *collector) measured(m *pubsub.Message) bool { return m.GetTopic() == *c.topic.Load() }

func (c *collector) seen(id string, size int, now time.Time) {
	if _, ok := c.first[id]; !ok {
		c.first[id] = now
		c.size[id] = size
	}
}

// reset forgets what was measured (after setup).
func (c *collector) reset() {
	c.mu.Lock()
	c.first = map[string]time.Time{}
	c.size = map[string]int{}
	c.delivers = map[string]map[int]time.Time{}
	c.origin = map[string]int{}
	c.rejects = map[string]int64{}
	c.mu.Unlock()
	c.dups.Store(0)
	c.dataSent.Store(0)
	for i := range c.rpcSent {
		c.rpcSent[i].Store(0)
	}
	c.delivered.Store(0)
}

// tracer is one node's pubsub.RawTracer; it must not block.
type tracer struct {
	c   *collector
	idx int
}

var _ pubsub.RawTracer = tracer{}

func (t tracer) ValidateMessage(m *pubsub.Message) {
	if !t.c.measured(m) {
		return
	}
	now := time.Now()
	t.c.mu.Lock()
	k := key(m.Data)
	t.c.seen(k, len(m.Data), now)
	t.c.mu.Unlock()
}

func (t tracer) DeliverMessage(m *pubsub.Message) {
	if !t.c.measured(m) {
		return
	}
	now := time.Now()
	t.c.mu.Lock()
	k := key(m.Data)
	t.c.seen(k, len(m.Data), now)
	d := t.c.delivers[k]
	if d == nil {
		d = map[int]time.Time{}
		t.c.delivers[k] = d
	}
	if _, ok := d[t.idx]; !ok {
		d[t.idx] = now
		t.c.delivered.Add(1)
	}
	t.c.mu.Unlock()
}

func (t tracer) RejectMessage(m *pubsub.Message, reason string) {
	if !t.c.measured(m) {
		return
	}
	if reason == pubsub.RejectValidationIgnored {
		// The node's validator ignores what it already holds (it came by
		// backfill first): the node has the message, so it counts as
		// delivered, at the time this copy arrived.
		t.DeliverMessage(m)
	}
	t.c.mu.Lock()
	t.c.rejects[reason]++
	t.c.mu.Unlock()
}

func (t tracer) DuplicateMessage(m *pubsub.Message) {
	if !t.c.measured(m) {
		return
	}
	t.c.dups.Add(1)
	t.c.perNode[t.idx].dups.Add(1)
}

// SendRPC counts message bytes sent, and finds publications: pubsub
// traces no event for a node's own message but its sending, so the first
// node to send a message it never received is its publisher, and the
// clock starts then.
func (t tracer) SendRPC(rpc *pubsub.RPC, p peer.ID) {
	topic := *t.c.topic.Load()
	var n int64
	for _, m := range rpc.GetPublish() {
		if m.GetTopic() != topic {
			continue
		}
		n += int64(len(m.GetData()))
		k := key(m.GetData())
		t.c.mu.Lock()
		if _, ok := t.c.first[k]; !ok {
			t.c.first[k] = time.Now()
			t.c.size[k] = len(m.GetData())
			t.c.origin[k] = t.idx
		}
		t.c.mu.Unlock()
	}
	if n > 0 {
		t.c.dataSent.Add(n)
	}
	t.countRPC(rpc)
}

// The parts of GossipSub's RPCs that collector.rpcSent counts.
const (
	rpcOtherTopics = iota
	rpcEnvelope
	rpcIHave
	rpcIWant
	rpcIDontWant
	rpcGraftPrune
	rpcSubscriptions
	rpcParts
)

var rpcPartNames = [rpcParts]string{"other_topics", "envelope", "ihave", "iwant", "idontwant", "graft_prune", "subscriptions"}

func (t tracer) countRPC(rpc *pubsub.RPC) {
	topic := *t.c.topic.Load()
	var parts [rpcParts]int
	for _, m := range rpc.GetPublish() {
		if m.GetTopic() != topic {
			parts[rpcOtherTopics] += len(m.GetData())
		}
		parts[rpcEnvelope] += proto.Size(m) - len(m.GetData())
	}
	for _, s := range rpc.GetSubscriptions() {
		parts[rpcSubscriptions] += proto.Size(s)
	}
	if ctl := rpc.GetControl(); ctl != nil {
		for _, x := range ctl.GetIhave() {
			parts[rpcIHave] += proto.Size(x)
		}
		for _, x := range ctl.GetIwant() {
			parts[rpcIWant] += proto.Size(x)
		}
		for _, x := range ctl.GetIdontwant() {
			parts[rpcIDontWant] += proto.Size(x)
		}
		for _, x := range ctl.GetGraft() {
			parts[rpcGraftPrune] += proto.Size(x)
		}
		for _, x := range ctl.GetPrune() {
			parts[rpcGraftPrune] += proto.Size(x)
		}
	}
	for i, n := range parts {
		if n > 0 {
			t.c.rpcSent[i].Add(int64(n))
		}
	}
}

// key names a message by its payload (one measured topic).
func key(data []byte) string {
	s := sha256.Sum256(data)
	return string(s[:16])
}

func (tracer) OnNewOutboundStream(peer.ID, protocol.ID) {}
func (tracer) OnClosedOutboundStream(peer.ID)           {}
func (tracer) AddPeer(peer.ID, protocol.ID)             {}
func (tracer) RemovePeer(peer.ID)                       {}
func (tracer) Join(string)                              {}
func (tracer) Leave(string)                             {}
func (tracer) Graft(peer.ID, string)                    {}
func (tracer) Prune(peer.ID, string)                    {}
func (tracer) ThrottlePeer(peer.ID)                     {}
func (tracer) RecvRPC(*pubsub.RPC)                      {}
func (tracer) DropRPC(*pubsub.RPC, peer.ID)             {}
func (tracer) UndeliverableMessage(*pubsub.Message)     {}
