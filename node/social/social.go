package social

import (
	"context"

	"github.com/ipfs/go-cid"

	"github.com/lyceum-oer/lyceum/node/actorlog"
	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/sqlitedb"
)

// Files is what the social room needs of the content store: a published
// file is pinned, and its size recorded; a profile's icon must be held.
type Files interface {
	// Pin pins c recursively, fetching what is missing first.
	Pin(ctx context.Context, c cid.Cid) error
	// Size is the UnixFS size of the file c.
	Size(ctx context.Context, c cid.Cid) (int64, error)
	// Holds reports whether the whole file c is in the local store,
	// without fetching anything.
	Holds(ctx context.Context, c cid.Cid) (bool, error)
}

// Network is what the social room needs of the other nodes.
type Network interface {
	// Fetch finds an actor anywhere — a did:key (asking connected peers),
	// name@peerID or name@/multiaddr/…/p2p/ID — and brings the node's
	// copy of its log up to date. It returns the actor's DID.
	Fetch(ctx context.Context, ref string) (string, error)
	// Subscribe and Unsubscribe join and leave the topics through which
	// an actor's activities arrive.
	Subscribe(did string)
	Unsubscribe(did string)
	// Join tells a community's node that a local actor joined or left it
	// (the Follow or Undo activityCID), best effort.
	Join(ctx context.Context, group, activityCID string)
}

// Service is the social room's services.
type Service struct {
	log       *actorlog.Log
	views     *Views
	announcer *Announcer
	db        *sqlitedb.DB
	files     Files
	net       Network
	peerID    string // this node's, the Node of its actors
}

// New returns the social services over a log whose Applier is views. net
// may be nil for an offline node.
func New(log *actorlog.Log, views *Views, files Files, net Network, peerID string) *Service {
	if net == nil {
		net = offline{}
	}
	return &Service{log: log, views: views, announcer: NewAnnouncer(log, views), db: views.db, files: files, net: net, peerID: peerID}
}

// Views are the service's views, for the rooms that read them.
func (s *Service) Views() *Views { return s.views }

// offline is the Network of a node without one.
type offline struct{}

func (offline) Fetch(context.Context, string) (string, error) {
	return "", api.Errorf(api.KindUnavailable, "the node is offline: start `lyceum daemon` to reach other nodes")
}
func (offline) Subscribe(string)                     {}
func (offline) Unsubscribe(string)                   {}
func (offline) Join(context.Context, string, string) {}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
