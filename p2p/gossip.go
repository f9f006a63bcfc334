package p2p

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/prometheus/client_golang/prometheus"
)

// Verdict is what a validator decides about one gossip message.
type Verdict int

// Verdicts, as GossipSub understands them.
const (
	// Accept delivers the message and forwards it.
	Accept Verdict = iota
	// Reject drops it and counts it against the peer that sent it.
	Reject
	// Ignore drops it without penalty (e.g. a duplicate).
	Ignore
)

// Validator checks a message before it is delivered or forwarded. It may
// return a decoded value that the subscription handler receives, so the
// message is decoded once.
type Validator func(ctx context.Context, from peer.ID, topic string, data []byte) (Verdict, any)

// Handler receives the accepted messages of a topic. It runs on the
// subscription's goroutine: slow handlers hold up only their topic.
type Handler func(topic string, from peer.ID, data []byte, decoded any)

// GossipConfig is the plain-data configuration of Gossip.
type GossipConfig struct {
	// MaxMessageSize bounds one message on the wire; 0 = 128 KiB.
	MaxMessageSize int
	// Params overrides GossipSub's parameters (mesh degree, heartbeat…);
	// nil = DefaultGossipParams.
	Params *pubsub.GossipSubParams
	// NoScoring turns peer scoring off (for side-by-side measurements).
	NoScoring bool
	// NoFloodPublish sends our own messages to the mesh only, as
	// go-libp2p-pubsub does by default; by default Gossip sends them to
	// every peer in the topic, so a publication goes out at once, before
	// the first heartbeat has built a mesh.
	NoFloodPublish bool
	// ValidateQueue bounds the messages waiting for the validator; beyond
	// it GossipSub drops them. 0 = 1024: the validator reads SQLite, and
	// pubsub's default of 32 dropped messages at a few publications a
	// second in simnet's runs.
	ValidateQueue int
	// Tracer, if set, sees every GossipSub event (the simulator's
	// measurements).
	Tracer pubsub.RawTracer
	// Registerer, if set, receives lyceum_gossip_panics_total: panics
	// recovered in the validator and the topic handlers.
	Registerer prometheus.Registerer
	// Logger; nil = slog.Default().
	Logger *slog.Logger
}

// DefaultGossipParams are the GossipSub parameters Lyceum runs with:
// go-libp2p-pubsub's defaults (1 s heartbeat, IDONTWANT above 1 KiB, gossip
// to 6 peers outside the mesh) with a smaller mesh: D=4, Dlo=3, Dhi=6,
// Dout=1 instead of 6, 5, 12, 2. simnet measured both on the same
// 200-node network (degree 8, 50 ms ± 20 ms links): duplicates per
// delivery 5.0 → 2.0, bytes on the wire 6.7× → 3.8× the payload, p99
// 213 → 279 ms, every message delivered either way (docs/SIMULATION.md).
// Backfill, not mesh redundancy, is what guarantees a follower ends with
// every activity. Change them only with simnet's figures.
func DefaultGossipParams() pubsub.GossipSubParams {
	p := pubsub.DefaultGossipSubParams()
	p.D, p.Dlo, p.Dhi, p.Dout = 4, 3, 6, 1
	return p
}

// Gossip is GossipSub over a host, with one validator for every topic and
// peer scoring that pushes away peers who send what the validator rejects.
type Gossip struct {
	ps     *pubsub.PubSub
	log    *slog.Logger
	panics prometheus.Counter // nil: not counted
	cancel context.CancelFunc
	wg     sync.WaitGroup
	scored bool

	mu     sync.Mutex
	topics map[string]*joined
	scores map[peer.ID]float64

	// Validator calls in flight: Close waits for them, so that no
	// validator runs once Close returned (pubsub runs them on goroutines
	// of its own, which cancelling it does not wait for).
	vmu     sync.Mutex
	vclosed bool
	vwg     sync.WaitGroup
}

// enterValidator reports whether a validator call may start; exitValidator
// must follow one that did.
func (g *Gossip) enterValidator() bool {
	g.vmu.Lock()
	defer g.vmu.Unlock()
	if g.vclosed {
		return false
	}
	g.vwg.Add(1)
	return true
}

type joined struct {
	topic  *pubsub.Topic
	sub    *pubsub.Subscription // nil when joined only to publish
	cancel context.CancelFunc
}

// NewGossip starts GossipSub on h. Messages are not signed by peers: what
// travels is signed by its author at the application level, and the
// message ID is the SHA-256 of the topic and payload (messageID).
func NewGossip(h host.Host, v Validator, cfg GossipConfig) (*Gossip, error) {
	if cfg.MaxMessageSize == 0 {
		cfg.MaxMessageSize = 128 << 10
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ValidateQueue == 0 {
		cfg.ValidateQueue = 1024
	}
	ctx, cancel := context.WithCancel(context.Background())
	g := &Gossip{log: cfg.Logger.With("component", "gossip"), cancel: cancel, topics: map[string]*joined{}, scored: !cfg.NoScoring}
	if cfg.Registerer != nil {
		g.panics = prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lyceum_gossip_panics_total",
			Help: "Panics recovered in the gossip validator and topic handlers.",
		})
		if err := cfg.Registerer.Register(g.panics); err != nil {
			cancel()
			return nil, fmt.Errorf("p2p: register gossip metrics: %w", err)
		}
	}
	opts := []pubsub.Option{
		pubsub.WithMessageSignaturePolicy(pubsub.StrictNoSign),
		pubsub.WithNoAuthor(),
		pubsub.WithMessageIdFn(messageID),
		pubsub.WithMaxMessageSize(cfg.MaxMessageSize),
		pubsub.WithSeenMessagesTTL(10 * time.Minute),
		pubsub.WithPeerExchange(true),
		pubsub.WithValidateQueueSize(cfg.ValidateQueue),
		pubsub.WithFloodPublish(!cfg.NoFloodPublish),
		pubsub.WithDefaultValidator(func(ctx context.Context, from peer.ID, m *pubsub.Message) pubsub.ValidationResult {
			if !g.enterValidator() {
				return pubsub.ValidationIgnore
			}
			defer g.vwg.Done()
			verdict, decoded := g.validate(ctx, v, from, m)
			switch verdict {
			case Accept:
				m.ValidatorData = decoded
				return pubsub.ValidationAccept
			case Ignore:
				return pubsub.ValidationIgnore
			default:
				return pubsub.ValidationReject
			}
		}),
	}
	params := DefaultGossipParams()
	if cfg.Params != nil {
		params = *cfg.Params
	}
	opts = append(opts, pubsub.WithGossipSubParams(params))
	if cfg.Tracer != nil {
		opts = append(opts, pubsub.WithRawTracer(cfg.Tracer))
	}
	if g.scored {
		opts = append(opts,
			pubsub.WithPeerScore(peerScoreParams(), peerScoreThresholds()),
			pubsub.WithPeerScoreInspect(func(m map[peer.ID]float64) {
				g.mu.Lock()
				g.scores = m
				g.mu.Unlock()
			}, time.Second))
	}
	ps, err := pubsub.NewGossipSub(ctx, h, opts...)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("p2p: start gossipsub: %w", err)
	}
	g.ps = ps
	return g, nil
}

// messageID is the SHA-256 of the topic and the payload: the same payload
// relayed by several peers is one message, and the same payload published
// on several topics (an activity goes to its actor's, its community's and
// the index topic) is one message per topic. Hashing the payload alone
// made the second and third publications duplicates of the first, so
// they never left the node (found by simnet).
func messageID(m *pb.Message) string {
	h := sha256.New()
	h.Write([]byte(m.GetTopic()))
	h.Write([]byte{0})
	h.Write(m.Data)
	return string(h.Sum(nil))
}

// peerScoreParams penalise, above all, invalid messages: a peer that sends
// a few forged or malformed messages falls below the graylist threshold
// and is ignored, then pruned. IP colocation is not scored: nodes behind
// one NAT, and simulated or test nodes on loopback, share an address.
func peerScoreParams() *pubsub.PeerScoreParams {
	return &pubsub.PeerScoreParams{
		Topics: map[string]*pubsub.TopicScoreParams{},
		AppSpecificScore: func(peer.ID) float64 {
			return 0
		},
		DecayInterval:               time.Second,
		DecayToZero:                 0.01,
		RetainScore:                 10 * time.Minute,
		BehaviourPenaltyWeight:      -10,
		BehaviourPenaltyThreshold:   6,
		BehaviourPenaltyDecay:       pubsub.ScoreParameterDecay(10 * time.Minute),
		IPColocationFactorWeight:    0,
		IPColocationFactorThreshold: 1,
		TopicScoreCap:               100,
	}
}

// Score thresholds: below GossipThreshold a peer gets no IHAVE/IWANT
// gossip; below GraylistThreshold its messages are ignored.
const (
	GossipThreshold   = -100
	GraylistThreshold = -400
)

func peerScoreThresholds() *pubsub.PeerScoreThresholds {
	return &pubsub.PeerScoreThresholds{
		GossipThreshold:             GossipThreshold,
		PublishThreshold:            -200,
		GraylistThreshold:           GraylistThreshold,
		AcceptPXThreshold:           10,
		OpportunisticGraftThreshold: 5,
	}
}

// topicScoreParams: each rejected message costs 100 points squared-ish
// (the counter is squared), decaying over about an hour; delivering first
// earns a little.
func topicScoreParams() *pubsub.TopicScoreParams {
	return &pubsub.TopicScoreParams{
		TopicWeight:                     1,
		TimeInMeshWeight:                0.01,
		TimeInMeshQuantum:               time.Second,
		TimeInMeshCap:                   100,
		FirstMessageDeliveriesWeight:    1,
		FirstMessageDeliveriesDecay:     pubsub.ScoreParameterDecay(10 * time.Minute),
		FirstMessageDeliveriesCap:       50,
		InvalidMessageDeliveriesWeight:  -100,
		InvalidMessageDeliveriesDecay:   pubsub.ScoreParameterDecay(time.Hour),
		MeshMessageDeliveriesWeight:     0,
		MeshMessageDeliveriesDecay:      0.5,
		MeshMessageDeliveriesThreshold:  1,
		MeshMessageDeliveriesCap:        1,
		MeshMessageDeliveriesActivation: time.Minute,
		MeshMessageDeliveriesWindow:     10 * time.Millisecond,
		MeshFailurePenaltyWeight:        0,
		MeshFailurePenaltyDecay:         0.5,
	}
}

// Join subscribes to topic and hands every accepted message to h, on a
// goroutine that Leave or Close stops. Joining twice is a no-op.
func (g *Gossip) Join(topic string, h Handler) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if j, ok := g.topics[topic]; ok && j.sub != nil {
		return nil
	}
	j, err := g.topicLocked(topic)
	if err != nil {
		return err
	}
	sub, err := j.topic.Subscribe(pubsub.WithBufferSize(256))
	if err != nil {
		return fmt.Errorf("p2p: subscribe to %s: %w", topic, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	j.sub, j.cancel = sub, cancel
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		for {
			m, err := sub.Next(ctx)
			if err != nil {
				return
			}
			g.deliver(h, topic, m)
		}
	}()
	return nil
}

// validate runs the validator; a message that makes it panic is rejected
// (the panic is logged and counted), since pubsub runs validators on
// goroutines whose panics would end the process.
func (g *Gossip) validate(ctx context.Context, v Validator, from peer.ID, m *pubsub.Message) (verdict Verdict, decoded any) {
	defer func() {
		if p := recover(); p != nil {
			g.recovered("validator", m.GetTopic(), from, p)
			verdict, decoded = Reject, nil
		}
	}()
	return v(ctx, from, m.GetTopic(), m.Data)
}

// deliver hands an accepted message to a topic's handler, recovering a
// panic so that the subscription goes on.
func (g *Gossip) deliver(h Handler, topic string, m *pubsub.Message) {
	defer func() {
		if p := recover(); p != nil {
			g.recovered("handler", topic, m.ReceivedFrom, p)
		}
	}()
	h(topic, m.ReceivedFrom, m.Data, m.ValidatorData)
}

func (g *Gossip) recovered(where, topic string, from peer.ID, p any) {
	if g.panics != nil {
		g.panics.Inc()
	}
	g.log.Error("panic in gossip "+where, "topic", topic, "peer", from, "panic", p, "stack", string(debug.Stack()))
}

func (g *Gossip) topicLocked(topic string) (*joined, error) {
	if j, ok := g.topics[topic]; ok {
		return j, nil
	}
	t, err := g.ps.Join(topic)
	if err != nil {
		return nil, fmt.Errorf("p2p: join %s: %w", topic, err)
	}
	if g.scored {
		if err := t.SetScoreParams(topicScoreParams()); err != nil {
			t.Close()
			return nil, fmt.Errorf("p2p: score params of %s: %w", topic, err)
		}
	}
	j := &joined{topic: t}
	g.topics[topic] = j
	return j, nil
}

// Leave unsubscribes from topic and stops its handler.
func (g *Gossip) Leave(topic string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	j, ok := g.topics[topic]
	if !ok {
		return nil
	}
	delete(g.topics, topic)
	if j.sub != nil {
		j.sub.Cancel()
		j.cancel()
	}
	return j.topic.Close()
}

// Publish sends data on topic; the node need not be subscribed. Our own
// validator runs on it first, as on any message.
func (g *Gossip) Publish(ctx context.Context, topic string, data []byte) error {
	g.mu.Lock()
	j, err := g.topicLocked(topic)
	g.mu.Unlock()
	if err != nil {
		return err
	}
	if err := j.topic.Publish(ctx, data); err != nil {
		return fmt.Errorf("p2p: publish on %s: %w", topic, err)
	}
	return nil
}

// PeerScores is the latest snapshot (taken every second) of the scores
// GossipSub gives the peers; peers below -400 are ignored, and the mesh
// prunes negative ones.
func (g *Gossip) PeerScores() map[peer.ID]float64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make(map[peer.ID]float64, len(g.scores))
	for k, v := range g.scores {
		out[k] = v
	}
	return out
}

// Topics lists the topics the node is subscribed to.
func (g *Gossip) Topics() []string { return g.ps.GetTopics() }

// TopicPeers lists the peers known to be subscribed to topic.
func (g *Gossip) TopicPeers(topic string) []peer.ID { return g.ps.ListPeers(topic) }

// Close leaves every topic and stops GossipSub.
func (g *Gossip) Close() error {
	g.mu.Lock()
	var errs []error
	for name, j := range g.topics {
		if j.sub != nil {
			j.sub.Cancel()
			j.cancel()
		}
		if err := j.topic.Close(); err != nil && !errors.Is(err, context.Canceled) {
			errs = append(errs, fmt.Errorf("close %s: %w", name, err))
		}
	}
	g.topics = map[string]*joined{}
	g.mu.Unlock()
	g.wg.Wait()
	g.vmu.Lock()
	g.vclosed = true
	g.vmu.Unlock()
	g.cancel()
	g.vwg.Wait()
	return errors.Join(errs...)
}
