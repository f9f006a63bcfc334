package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/gateway"
	"github.com/lyceum-oer/lyceum/node"
)

// backend is what the commands need: a running daemon over HTTP
// (*gateway.Client) or the repo opened in this process (localNode).
type backend interface {
	ID(ctx context.Context) (node.Identity, error)
	Connect(ctx context.Context, addr string) (string, error)
	Peers(ctx context.Context) ([]node.Peer, error)
	Add(ctx context.Context, path string, o node.AddOptions, progress func(int64)) (cid.Cid, error)
	Cat(ctx context.Context, c cid.Cid) (io.ReadCloser, int64, error)
	Size(ctx context.Context, c cid.Cid) (int64, error)
	Get(ctx context.Context, c cid.Cid, outPath string, progress func(int64)) error
	Pin(ctx context.Context, c cid.Cid) error
	Unpin(ctx context.Context, c cid.Cid) error
	Pins(ctx context.Context) ([]cid.Cid, error)
	GC(ctx context.Context) (int, error)
	ExportCAR(ctx context.Context, c cid.Cid, w io.Writer) error
	ImportCAR(ctx context.Context, r io.Reader) (node.CARImport, error)
	Stat(ctx context.Context) (node.Stat, error)

	CreateActor(ctx context.Context, username, name, summary string, typ activity.ActorType) (node.ActorInfo, error)
	Actors(ctx context.Context, localOnly bool) ([]node.ActorInfo, error)
	Actor(ctx context.Context, ref string) (node.ActorInfo, error)
	Publish(ctx context.Context, req node.PublishRequest) (node.Published, error)
	UpdateResource(ctx context.Context, id string, req node.PublishRequest) (node.Published, error)
	DeleteResource(ctx context.Context, id string) (node.Published, error)
	ShowResource(ctx context.Context, id string) (node.ResourceView, error)
	Follow(ctx context.Context, as, ref string) (node.ActorInfo, error)
	Unfollow(ctx context.Context, as, ref string) error
	Like(ctx context.Context, as, id string) (string, error)
	Feed(ctx context.Context, limit int) ([]node.FeedItem, error)
	RebuildViews(ctx context.Context) (int, error)
	BlockActor(ctx context.Context, did, reason string) error

	Search(ctx context.Context, q node.SearchQuery) (node.SearchResult, error)
	Delist(ctx context.Context, id, reason string) error
	Relist(ctx context.Context, id string) error
	RebuildIndex(ctx context.Context) (int, error)
}

var (
	_ backend = (*gateway.Client)(nil)
	_ backend = localNode{}
)

// localNode runs the commands on an offline node in this process.
type localNode struct{ *node.Node }

func (l localNode) ID(context.Context) (node.Identity, error) { return l.Node.ID(), nil }

func (l localNode) Peers(context.Context) ([]node.Peer, error) {
	return nil, &node.Error{Kind: node.KindUnavailable, Msg: "no daemon is running: start `lyceum daemon` to connect to peers"}
}

func (l localNode) Add(ctx context.Context, path string, o node.AddOptions, progress func(int64)) (cid.Cid, error) {
	return l.Node.AddPath(ctx, path, o, progress)
}

func (l localNode) Cat(ctx context.Context, c cid.Cid) (io.ReadCloser, int64, error) {
	return l.Node.Cat(ctx, c)
}

// openBackend returns the running daemon's API client when a daemon holds
// the repo, and otherwise opens the repo offline in this process. The
// returned close function releases whatever was opened.
func (a *app) openBackend(ctx context.Context) (backend, func(), error) {
	addr, token, err := node.ReadAPI(a.repoPath)
	if err == nil {
		c := gateway.NewClient(addr, token)
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, perr := c.ID(pctx)
		cancel()
		if perr == nil {
			return c, func() {}, nil
		}
		if node.KindOf(perr) != node.KindUnavailable {
			return nil, nil, perr
		}
		// The api file outlived its daemon (killed): fall through to the
		// repo, whose lock tells whether anyone still holds it.
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("read the daemon's address: %w", err)
	}
	repo, err := node.OpenRepo(a.repoPath)
	if err != nil {
		return nil, nil, err
	}
	n, err := node.New(repo, node.WithOffline(), node.WithLogger(a.log))
	if err != nil {
		repo.Close()
		return nil, nil, err
	}
	return localNode{n}, func() {
		if err := n.Close(); err != nil {
			a.log.Warn("close repo", "err", err)
		}
	}, nil
}

// withBackend runs f with a backend and closes it afterwards.
func (a *app) withBackend(ctx context.Context, f func(b backend) error) error {
	b, done, err := a.openBackend(ctx)
	if err != nil {
		return err
	}
	defer done()
	return f(b)
}
