package simnet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/metrics"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/transport"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// LinkParams describe one direction of a simulated link.
type LinkParams struct {
	// Latency is the one-way propagation delay.
	Latency time.Duration
	// Loss is the probability that a segment of segmentSize bytes is lost;
	// streams are reliable, so a loss shows as a retransmission delay
	// (head-of-line blocking), as over TCP.
	Loss float64
}

// segmentSize is the payload of one simulated packet (a TCP MSS).
const segmentSize = 1400

// minRTO is the smallest retransmission timeout, as Linux TCP uses.
const minRTO = 200 * time.Millisecond

// ErrUnreachable is returned when dialling a node that is down or on the
// other side of a partition.
var ErrUnreachable = errors.New("simnet: unreachable")

// Fabric is the simulated network: endpoints by address, the link
// parameters between them, partitions, and byte counters. It is safe for
// concurrent use.
type Fabric struct {
	link   func(a, b int) LinkParams
	uplink int64 // bytes per second per node; 0 = unlimited
	seed   uint64

	scale atomic.Uint64 // math.Float64bits of the latency multiplier

	// streams counts what every host wrote to its streams, by protocol
	// (libp2p's own accounting, given to each host as its bandwidth
	// reporter).
	streams *metrics.BandwidthCounter

	mu        sync.Mutex
	listeners map[string]*listener // by "ip:port"
	groups    map[int]int          // partition group per node; absent = 0
	conns     map[*pipeConn]struct{}
	eps       map[int]*endpoint
}

// NewFabric makes a fabric; link gives the parameters of the link from
// node a to node b (it must be deterministic), uplink bounds what each
// node sends per second (0 = unlimited), seed drives the loss draws.
func NewFabric(link func(a, b int) LinkParams, uplink int64, seed uint64) *Fabric {
	f := &Fabric{link: link, uplink: uplink, seed: seed, streams: metrics.NewBandwidthCounter(),
		listeners: map[string]*listener{}, groups: map[int]int{},
		conns: map[*pipeConn]struct{}{}, eps: map[int]*endpoint{}}
	f.SetScale(1)
	return f
}

// SetScale multiplies every link's latency by k from now on, open
// connections included (Scenario.TimeScale).
func (f *Fabric) SetScale(k float64) { f.scale.Store(math.Float64bits(k)) }

// latency is the link's latency at the current scale.
func (c *pipeConn) latency() time.Duration {
	return time.Duration(float64(c.link.Latency) * math.Float64frombits(c.f.scale.Load()))
}

// rto is the retransmission timeout after a loss: two latencies, at least
// Linux's 200 ms (scaled too).
func (c *pipeConn) rto(lat time.Duration) time.Duration {
	return max(time.Duration(float64(minRTO)*math.Float64frombits(c.f.scale.Load())), 2*lat)
}

// endpoint is one node's attachment to the fabric: its uplink queue and
// counters survive the node's restarts.
type endpoint struct {
	idx  int
	sent atomic.Int64
	recv atomic.Int64

	mu     sync.Mutex
	upBusy time.Time // when the uplink finishes sending what is queued
}

func (f *Fabric) endpoint(i int) *endpoint {
	f.mu.Lock()
	defer f.mu.Unlock()
	ep, ok := f.eps[i]
	if !ok {
		ep = &endpoint{idx: i}
		f.eps[i] = ep
	}
	return ep
}

// BytesSent counts what node i wrote to its links (all protocols,
// handshakes included).
func (f *Fabric) BytesSent(i int) int64 { return f.endpoint(i).sent.Load() }

// SentByProtocol counts what all the hosts wrote to their streams, by
// protocol ID ("" for the bytes written before a protocol is agreed). The
// links carry these plus the connections' own bytes (handshakes, yamux
// frames and window updates).
func (f *Fabric) SentByProtocol() map[string]int64 {
	out := map[string]int64{}
	for p, st := range f.streams.GetBandwidthByProtocol() {
		out[string(p)] = st.TotalOut
	}
	return out
}

// BytesReceived counts what node i read from its links.
func (f *Fabric) BytesReceived(i int) int64 { return f.endpoint(i).recv.Load() }

// Addr is the simulated address of node i.
func Addr(i int) ma.Multiaddr {
	return ma.StringCast(fmt.Sprintf("/ip4/10.%d.%d.%d/tcp/4001", (i>>16)&255, (i>>8)&255, i&255))
}

func nodeOf(a ma.Multiaddr) (int, string, error) {
	na, err := manet.ToNetAddr(a)
	if err != nil {
		return 0, "", err
	}
	t, ok := na.(*net.TCPAddr)
	if !ok {
		return 0, "", fmt.Errorf("simnet: %s is not a tcp address", a)
	}
	ip := t.IP.To4()
	if ip == nil || ip[0] != 10 {
		return 0, "", fmt.Errorf("simnet: %s is not a simulated address", a)
	}
	return int(ip[1])<<16 | int(ip[2])<<8 | int(ip[3]), t.String(), nil
}

// Partition puts each node in a group; nodes in different groups cannot
// dial each other, and their open connections are cut. nil heals.
func (f *Fabric) Partition(groupOf map[int]int) {
	f.mu.Lock()
	f.groups = map[int]int{}
	for k, v := range groupOf {
		f.groups[k] = v
	}
	var cut []*pipeConn
	for c := range f.conns {
		if f.groups[c.local.idx] != f.groups[c.remote.idx] {
			cut = append(cut, c)
		}
	}
	f.mu.Unlock()
	for _, c := range cut {
		c.breakBoth()
	}
}

func (f *Fabric) reachable(a, b int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.groups[a] == f.groups[b]
}

type simTransport struct {
	f   *Fabric
	idx int
	up  transport.Upgrader
	rm  network.ResourceManager
}

var _ transport.Transport = (*simTransport)(nil)

func (t *simTransport) CanDial(a ma.Multiaddr) bool {
	_, _, err := nodeOf(a)
	return err == nil
}

func (t *simTransport) Protocols() []int { return []int{ma.P_TCP} }
func (t *simTransport) Proxy() bool      { return false }
func (t *simTransport) String() string   { return "simnet" }

func (t *simTransport) Dial(ctx context.Context, raddr ma.Multiaddr, p peer.ID) (transport.CapableConn, error) {
	ri, key, err := nodeOf(raddr)
	if err != nil {
		return nil, err
	}
	if !t.f.reachable(t.idx, ri) {
		return nil, fmt.Errorf("dial %s: %w", raddr, ErrUnreachable)
	}
	t.f.mu.Lock()
	l := t.f.listeners[key]
	t.f.mu.Unlock()
	if l == nil {
		return nil, fmt.Errorf("dial %s: %w (nobody listens)", raddr, ErrUnreachable)
	}
	scope, err := t.rm.OpenConnection(network.DirOutbound, false, raddr)
	if err != nil {
		return nil, err
	}
	if err := scope.SetPeer(p); err != nil {
		scope.Done()
		return nil, err
	}
	local, remote := t.f.pipe(t.idx, ri, Addr(t.idx), raddr)
	// The SYN takes one latency to arrive.
	select {
	case <-time.After(local.latency()):
	case <-ctx.Done():
		local.breakBoth()
		scope.Done()
		return nil, ctx.Err()
	}
	if err := l.deliver(ctx, remote); err != nil {
		local.breakBoth()
		scope.Done()
		return nil, err
	}
	dir := network.DirOutbound
	if ok, isClient, _ := network.GetSimultaneousConnect(ctx); ok && !isClient {
		dir = network.DirInbound
	}
	c, err := t.up.Upgrade(ctx, t, local, dir, p, scope)
	if err != nil {
		local.breakBoth()
		return nil, err
	}
	return c, nil
}

func (t *simTransport) Listen(laddr ma.Multiaddr) (transport.Listener, error) {
	i, key, err := nodeOf(laddr)
	if err != nil {
		return nil, err
	}
	if i != t.idx {
		return nil, fmt.Errorf("simnet: node %d cannot listen on %s", t.idx, laddr)
	}
	l := &listener{f: t.f, key: key, addr: laddr, ch: make(chan *pipeConn, 64), done: make(chan struct{})}
	t.f.mu.Lock()
	if t.f.listeners[key] != nil {
		t.f.mu.Unlock()
		return nil, fmt.Errorf("simnet: %s already in use", laddr)
	}
	t.f.listeners[key] = l
	t.f.mu.Unlock()
	return t.up.UpgradeGatedMaListener(t, t.up.GateMaListener(l)), nil
}

// listener hands dialled connections to the upgrader's accept loop.
type listener struct {
	f    *Fabric
	key  string
	addr ma.Multiaddr
	ch   chan *pipeConn
	once sync.Once
	done chan struct{}
}

func (l *listener) deliver(ctx context.Context, c *pipeConn) error {
	select {
	case l.ch <- c:
		return nil
	case <-l.done:
		return fmt.Errorf("dial %s: %w (listener closed)", l.addr, ErrUnreachable)
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *listener) Accept() (manet.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *listener) Close() error {
	l.once.Do(func() {
		close(l.done)
		l.f.mu.Lock()
		if l.f.listeners[l.key] == l {
			delete(l.f.listeners, l.key)
		}
		l.f.mu.Unlock()
	})
	return nil
}

func (l *listener) Multiaddr() ma.Multiaddr { return l.addr }
func (l *listener) Addr() net.Addr {
	na, _ := manet.ToNetAddr(l.addr)
	return na
}

// pipe makes the two ends of a connection from node a to node b.
func (f *Fabric) pipe(a, b int, aAddr, bAddr ma.Multiaddr) (*pipeConn, *pipeConn) {
	ab, ba := newHalf(), newHalf()
	h := uint64(a)*1_000_003 + uint64(b)
	f.mu.Lock()
	f.seed++
	s := f.seed
	f.mu.Unlock()
	ca := &pipeConn{f: f, local: f.endpoint(a), remote: f.endpoint(b), link: f.link(a, b), in: ba, out: ab,
		laddr: aAddr, raddr: bAddr, rng: rand.New(rand.NewPCG(s, h))}
	cb := &pipeConn{f: f, local: f.endpoint(b), remote: f.endpoint(a), link: f.link(b, a), in: ab, out: ba,
		laddr: bAddr, raddr: aAddr, rng: rand.New(rand.NewPCG(s, h^0x9e3779b97f4a7c15))}
	ca.peer, cb.peer = cb, ca
	f.mu.Lock()
	f.conns[ca] = struct{}{}
	f.conns[cb] = struct{}{}
	f.mu.Unlock()
	return ca, cb
}

// half is one direction of a connection: segments in flight, each with
// its arrival time, in order.
type half struct {
	mu      sync.Mutex
	segs    []segment
	lastAt  time.Time
	eofAt   time.Time // zero: the writer has not closed
	broken  bool
	closedR bool // the reader closed its end
	wake    chan struct{}
}

type segment struct {
	at   time.Time
	data []byte
}

func newHalf() *half { return &half{wake: make(chan struct{}, 1)} }

func (h *half) signal() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// pipeConn is one end of a simulated connection; it is a manet.Conn that
// the libp2p upgrader secures (plaintext) and multiplexes (yamux).
type pipeConn struct {
	f             *Fabric
	local, remote *endpoint
	link          LinkParams
	in, out       *half
	peer          *pipeConn
	laddr, raddr  ma.Multiaddr
	rng           *rand.Rand // loss draws; guarded by out.mu

	dmu      sync.Mutex
	deadline time.Time
}

var _ manet.Conn = (*pipeConn)(nil)

// Write queues p behind what the node's uplink is already sending; it
// never blocks: yamux's flow-control windows bound what is in flight.
func (c *pipeConn) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	now := time.Now()
	ep := c.local
	ep.mu.Lock()
	start := ep.upBusy
	if start.Before(now) {
		start = now
	}
	end := start
	if c.f.uplink > 0 {
		end = start.Add(time.Duration(float64(len(p)) / float64(c.f.uplink) * float64(time.Second)))
	}
	ep.upBusy = end
	ep.mu.Unlock()

	h := c.out
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.broken || !h.eofAt.IsZero() {
		return 0, net.ErrClosed
	}
	lat := c.latency()
	at := end.Add(lat)
	if c.link.Loss > 0 {
		segs := (len(p) + segmentSize - 1) / segmentSize
		if c.rng.Float64() < 1-math.Pow(1-c.link.Loss, float64(segs)) {
			at = at.Add(c.rto(lat))
		}
	}
	if at.Before(h.lastAt) {
		at = h.lastAt
	}
	h.lastAt = at
	if !h.closedR {
		h.segs = append(h.segs, segment{at: at, data: append([]byte(nil), p...)})
	}
	h.signal()
	ep.sent.Add(int64(len(p)))
	return len(p), nil
}

// Read returns bytes whose arrival time has passed, waiting for them.
func (c *pipeConn) Read(p []byte) (int, error) {
	h := c.in
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		now := time.Now()
		h.mu.Lock()
		if h.broken {
			h.mu.Unlock()
			return 0, net.ErrClosed
		}
		n := 0
		for len(h.segs) > 0 && !h.segs[0].at.After(now) && n < len(p) {
			k := copy(p[n:], h.segs[0].data)
			n += k
			if k == len(h.segs[0].data) {
				h.segs[0].data = nil
				h.segs = h.segs[1:]
			} else {
				h.segs[0].data = h.segs[0].data[k:]
			}
		}
		if n > 0 {
			h.mu.Unlock()
			c.local.recv.Add(int64(n))
			return n, nil
		}
		var wait time.Duration = -1
		if len(h.segs) > 0 {
			wait = h.segs[0].at.Sub(now)
		} else if !h.eofAt.IsZero() {
			if !h.eofAt.After(now) {
				h.mu.Unlock()
				return 0, io.EOF
			}
			wait = h.eofAt.Sub(now)
		}
		h.mu.Unlock()
		c.dmu.Lock()
		dl := c.deadline
		c.dmu.Unlock()
		if !dl.IsZero() {
			if !dl.After(now) {
				return 0, os.ErrDeadlineExceeded
			}
			if d := dl.Sub(now); wait < 0 || d < wait {
				wait = d
			}
		}
		if wait >= 0 {
			if timer == nil {
				timer = time.NewTimer(wait)
			} else {
				timer.Reset(wait)
			}
			select {
			case <-h.wake:
			case <-timer.C:
			}
		} else {
			<-h.wake
		}
	}
}

// Close sends a FIN (the peer reads EOF after what is in flight) and
// closes this end.
func (c *pipeConn) Close() error {
	h := c.out
	h.mu.Lock()
	if h.eofAt.IsZero() {
		at := time.Now().Add(c.latency())
		if at.Before(h.lastAt) {
			at = h.lastAt
		}
		h.eofAt = at
		h.signal()
	}
	h.mu.Unlock()
	in := c.in
	in.mu.Lock()
	in.broken = true
	in.closedR = true
	in.segs = nil
	in.signal()
	in.mu.Unlock()
	c.f.mu.Lock()
	delete(c.f.conns, c)
	c.f.mu.Unlock()
	return nil
}

// breakBoth cuts the connection at once in both directions (a partition,
// a crash).
func (c *pipeConn) breakBoth() {
	for _, h := range []*half{c.in, c.out} {
		h.mu.Lock()
		h.broken = true
		h.segs = nil
		h.signal()
		h.mu.Unlock()
	}
	c.f.mu.Lock()
	delete(c.f.conns, c)
	delete(c.f.conns, c.peer)
	c.f.mu.Unlock()
}

func (c *pipeConn) LocalAddr() net.Addr {
	na, _ := manet.ToNetAddr(c.laddr)
	return na
}
func (c *pipeConn) RemoteAddr() net.Addr {
	na, _ := manet.ToNetAddr(c.raddr)
	return na
}
func (c *pipeConn) LocalMultiaddr() ma.Multiaddr  { return c.laddr }
func (c *pipeConn) RemoteMultiaddr() ma.Multiaddr { return c.raddr }

func (c *pipeConn) SetDeadline(t time.Time) error { return c.SetReadDeadline(t) }
func (c *pipeConn) SetReadDeadline(t time.Time) error {
	c.dmu.Lock()
	c.deadline = t
	c.dmu.Unlock()
	c.in.signal()
	return nil
}

// SetWriteDeadline is a no-op: writes never block.
func (c *pipeConn) SetWriteDeadline(time.Time) error { return nil }
