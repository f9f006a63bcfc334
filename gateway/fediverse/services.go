package fediverse

import (
	"context"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node/api"
)

// This file declares what the bridge reads of the node: one small
// interface per job, in the types of node/api. The bridge changes nothing
// on the Lyceum side; it renders what the node's actors do and keeps what
// the fediverse sends in its own store.

// Identity names the node.
type Identity interface {
	// ID describes the node; the bridge shows its peer ID in NodeInfo and
	// on the instance actor.
	ID() api.Identity
}

// Actors finds the node's actors and whom they follow.
type Actors interface {
	// LocalActorByName finds a local actor by username (KindNotFound if
	// none).
	LocalActorByName(ctx context.Context, username string) (api.Actor, error)
	// Actor finds a known actor by DID (KindNotFound if unknown).
	Actor(ctx context.Context, ref string) (api.Actor, error)
	// Actors lists known actors; localOnly keeps the node's own.
	Actors(ctx context.Context, localOnly bool) ([]api.Actor, error)
	// FollowingOf lists the DIDs a local actor follows on Lyceum.
	FollowingOf(ctx context.Context, did string) ([]string, error)
}

// Resources reads resources.
type Resources interface {
	// ShowResource gives a resource with its latest metadata and its
	// versions, newest first (KindNotFound if unknown).
	ShowResource(ctx context.Context, id string) (api.ResourceView, error)
	// ResourceIDs lists an actor's or community's live resources, newest
	// first, at most limit.
	ResourceIDs(ctx context.Context, did string, limit int) ([]string, error)
}

// Collections reads collections.
type Collections interface {
	// Collections lists the live collections of an actor ("" = of every
	// local actor).
	Collections(ctx context.Context, owner string) ([]api.Collection, error)
	// ShowCollection gives a collection with its items in order.
	ShowCollection(ctx context.Context, id string) (api.CollectionView, error)
}

// Log is the node's log as the bridge follows it.
type Log interface {
	// TailEntries calls fn with every entry stored after cursor, in the order
	// they were stored, a batch at a time: those stored already, then
	// each new batch as soon as it is stored, never polled. It returns
	// when ctx ends (ctx.Err()) or fn fails (fn's error).
	TailEntries(ctx context.Context, cursor int64, fn func([]api.LogEntry) error) error
	// LastCursor is the cursor of the newest stored entry (0 if none).
	LastCursor(ctx context.Context) (int64, error)
	// Activity reads a stored activity by its CID (KindNotFound when it
	// is not stored, KindInvalid for a bad CID).
	Activity(ctx context.Context, cid string) (*activity.Activity, error)
}

// Services are the parts of the node the bridge reads. All are required.
type Services struct {
	Identity    Identity
	Actors      Actors
	Resources   Resources
	Collections Collections
	Log         Log
}
