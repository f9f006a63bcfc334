package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/lyceum-oer/lyceum/gateway"
	"github.com/lyceum-oer/lyceum/node"
	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/content"
	"github.com/lyceum-oer/lyceum/node/search"
	"github.com/lyceum-oer/lyceum/node/social"
)

// backend is what the commands need, in the types of node/api: a running
// daemon over HTTP (*gateway.Client) or the repo opened in this process
// (localNode).
type backend interface {
	ID(ctx context.Context) (api.Identity, error)
	Connect(ctx context.Context, req api.ConnectRequest) (api.ConnectResponse, error)
	Peers(ctx context.Context) ([]api.Peer, error)
	Stat(ctx context.Context) (api.Stat, error)

	Add(ctx context.Context, path string, o api.AddOptions, progress func(int64)) (cid.Cid, error)
	Cat(ctx context.Context, c cid.Cid) (io.ReadCloser, int64, error)
	Size(ctx context.Context, c cid.Cid) (int64, error)
	Get(ctx context.Context, c cid.Cid, outPath string, progress func(int64)) error
	Pin(ctx context.Context, c cid.Cid) error
	Unpin(ctx context.Context, c cid.Cid) error
	Pins(ctx context.Context) ([]cid.Cid, error)
	GC(ctx context.Context) (int, error)
	ExportCAR(ctx context.Context, c cid.Cid, w io.Writer) error
	ImportCAR(ctx context.Context, r io.Reader) (api.CARImport, error)

	CreateActor(ctx context.Context, req api.CreateActorRequest) (api.Actor, error)
	Actors(ctx context.Context, localOnly bool) ([]api.Actor, error)
	Actor(ctx context.Context, ref string) (api.Actor, error)
	Publish(ctx context.Context, req api.PublishRequest) (api.Published, error)
	UpdateResource(ctx context.Context, id string, req api.PublishRequest) (api.Published, error)
	DeleteResource(ctx context.Context, id string) (api.Published, error)
	ShowResource(ctx context.Context, id string) (api.ResourceView, error)
	Follow(ctx context.Context, req api.FollowRequest) (api.Actor, error)
	Unfollow(ctx context.Context, req api.FollowRequest) error
	Like(ctx context.Context, req api.LikeRequest) (api.LikeResponse, error)
	Feed(ctx context.Context, limit int) ([]api.FeedItem, error)
	RebuildViews(ctx context.Context) (api.Rebuilt, error)
	Block(ctx context.Context, req api.BlockRequest) error

	CreateCollection(ctx context.Context, req api.CollectionRequest) (api.CollectionResult, error)
	UpdateCollection(ctx context.Context, id string, req api.CollectionRequest) (api.CollectionResult, error)
	DeleteCollection(ctx context.Context, as, id string) (api.CollectionResult, error)
	AddToCollection(ctx context.Context, id string, req api.CollectionItemRequest) (api.CollectionResult, error)
	RemoveFromCollection(ctx context.Context, id string, req api.CollectionItemRequest) (api.CollectionResult, error)
	Collections(ctx context.Context, owner string) ([]api.Collection, error)
	ShowCollection(ctx context.Context, id string) (api.CollectionView, error)

	Search(ctx context.Context, q api.SearchQuery) (api.SearchResult, error)
	Delist(ctx context.Context, req api.DelistRequest) error
	Relist(ctx context.Context, req api.DelistRequest) error
	RebuildIndex(ctx context.Context) (api.Rebuilt, error)

	accountsBackend
}

var (
	_ backend = (*gateway.Client)(nil)
	_ backend = localNode{}
)

// localNode runs the commands on an offline node in this process, each
// on the room that owns it.
type localNode struct{ n *node.Node }

func (l localNode) content() *content.Service { return l.n.Content() }
func (l localNode) social() *social.Service   { return l.n.Social() }
func (l localNode) search() *search.Service   { return l.n.Search() }

func (l localNode) ID(context.Context) (api.Identity, error) { return l.n.Swarm().ID(), nil }

func (l localNode) Connect(ctx context.Context, req api.ConnectRequest) (api.ConnectResponse, error) {
	return l.n.Swarm().Connect(ctx, req)
}

func (l localNode) Peers(context.Context) ([]api.Peer, error) {
	return nil, api.Errorf(api.KindUnavailable, "no daemon is running: start `lyceum daemon` to connect to peers")
}

func (l localNode) Stat(ctx context.Context) (api.Stat, error) { return l.n.Stat(ctx) }

func (l localNode) Add(ctx context.Context, path string, o api.AddOptions, progress func(int64)) (cid.Cid, error) {
	return l.content().AddPath(ctx, path, o, progress)
}

func (l localNode) Cat(ctx context.Context, c cid.Cid) (io.ReadCloser, int64, error) {
	return l.content().Cat(ctx, c)
}

func (l localNode) Size(ctx context.Context, c cid.Cid) (int64, error) {
	return l.content().Size(ctx, c)
}

func (l localNode) Get(ctx context.Context, c cid.Cid, outPath string, progress func(int64)) error {
	return l.content().Get(ctx, c, outPath, progress)
}

func (l localNode) Pin(ctx context.Context, c cid.Cid) error   { return l.content().Pin(ctx, c) }
func (l localNode) Unpin(ctx context.Context, c cid.Cid) error { return l.content().Unpin(ctx, c) }
func (l localNode) Pins(ctx context.Context) ([]cid.Cid, error) {
	return l.content().Pins(ctx)
}
func (l localNode) GC(ctx context.Context) (int, error) { return l.content().GC(ctx) }

func (l localNode) ExportCAR(ctx context.Context, c cid.Cid, w io.Writer) error {
	return l.content().ExportCAR(ctx, c, w)
}

func (l localNode) ImportCAR(ctx context.Context, r io.Reader) (api.CARImport, error) {
	return l.content().ImportCAR(ctx, r)
}

func (l localNode) CreateActor(ctx context.Context, req api.CreateActorRequest) (api.Actor, error) {
	return l.social().CreateActor(ctx, req)
}

func (l localNode) Actors(ctx context.Context, localOnly bool) ([]api.Actor, error) {
	return l.social().Actors(ctx, localOnly)
}

func (l localNode) Actor(ctx context.Context, ref string) (api.Actor, error) {
	return l.social().Actor(ctx, ref)
}

func (l localNode) Publish(ctx context.Context, req api.PublishRequest) (api.Published, error) {
	return l.social().Publish(ctx, req)
}

func (l localNode) UpdateResource(ctx context.Context, id string, req api.PublishRequest) (api.Published, error) {
	return l.social().UpdateResource(ctx, id, req)
}

func (l localNode) DeleteResource(ctx context.Context, id string) (api.Published, error) {
	return l.social().DeleteResource(ctx, id)
}

func (l localNode) ShowResource(ctx context.Context, id string) (api.ResourceView, error) {
	return l.social().ShowResource(ctx, id)
}

func (l localNode) Follow(ctx context.Context, req api.FollowRequest) (api.Actor, error) {
	return l.social().Follow(ctx, req)
}

func (l localNode) Unfollow(ctx context.Context, req api.FollowRequest) error {
	return l.social().Unfollow(ctx, req)
}

func (l localNode) Like(ctx context.Context, req api.LikeRequest) (api.LikeResponse, error) {
	return l.social().Like(ctx, req)
}

func (l localNode) Feed(ctx context.Context, limit int) ([]api.FeedItem, error) {
	return l.social().Feed(ctx, limit)
}

func (l localNode) RebuildViews(ctx context.Context) (api.Rebuilt, error) {
	return l.social().Rebuild(ctx)
}

func (l localNode) Block(ctx context.Context, req api.BlockRequest) error {
	return l.n.Blocklist().Block(ctx, req)
}

func (l localNode) CreateCollection(ctx context.Context, req api.CollectionRequest) (api.CollectionResult, error) {
	return l.social().CreateCollection(ctx, req)
}

func (l localNode) UpdateCollection(ctx context.Context, id string, req api.CollectionRequest) (api.CollectionResult, error) {
	return l.social().UpdateCollection(ctx, id, req)
}

func (l localNode) DeleteCollection(ctx context.Context, as, id string) (api.CollectionResult, error) {
	return l.social().DeleteCollection(ctx, as, id)
}

func (l localNode) AddToCollection(ctx context.Context, id string, req api.CollectionItemRequest) (api.CollectionResult, error) {
	return l.social().AddToCollection(ctx, id, req)
}

func (l localNode) RemoveFromCollection(ctx context.Context, id string, req api.CollectionItemRequest) (api.CollectionResult, error) {
	return l.social().RemoveFromCollection(ctx, id, req)
}

func (l localNode) Collections(ctx context.Context, owner string) ([]api.Collection, error) {
	return l.social().Collections(ctx, owner)
}

func (l localNode) ShowCollection(ctx context.Context, id string) (api.CollectionView, error) {
	return l.social().ShowCollection(ctx, id)
}

func (l localNode) Search(ctx context.Context, q api.SearchQuery) (api.SearchResult, error) {
	return l.search().Search(ctx, q)
}

func (l localNode) Delist(ctx context.Context, req api.DelistRequest) error {
	return l.search().Delist(ctx, req)
}

func (l localNode) Relist(ctx context.Context, req api.DelistRequest) error {
	return l.search().Relist(ctx, req)
}

func (l localNode) RebuildIndex(ctx context.Context) (api.Rebuilt, error) {
	return l.search().Rebuild(ctx)
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
		if api.KindOf(perr) != api.KindUnavailable {
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
