package gateway

import (
	"context"
	"io"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/go-cid"

	"github.com/lyceum-oer/lyceum/node/api"
)

// This file declares what the gateway needs of the node: one small
// interface per job, in the request and response types of node/api. The
// node's rooms satisfy them (node/daemon wires them); the gateway never
// sees the node whole. Every error a method returns is reported by its
// kind (api.KindOf) and public message (api.PublicMessage).

// Identity names the node.
type Identity interface {
	// ID describes the node: peer ID, addresses, agent, whether online.
	ID() api.Identity
}

// Swarm dials peers and lists the connections.
type Swarm interface {
	// Connect dials a peer by its full multiaddr (KindInvalid for a bad
	// address, KindUnavailable offline or when the peer cannot be
	// reached).
	Connect(ctx context.Context, req api.ConnectRequest) (api.ConnectResponse, error)
	// Peers lists the open connections ([] when offline).
	Peers() []api.Peer
}

// Adder imports uploads.
type Adder interface {
	// Add imports a file or folder tree and returns its root CID;
	// progress, if not nil, sees the bytes read so far. An error from
	// reading f is returned as it is (wrapped), so that the gateway can
	// tell a bad upload from a failure of the node.
	Add(ctx context.Context, name string, f files.Node, o api.AddOptions, progress func(int64)) (cid.Cid, error)
}

// Catter reads files by CID.
type Catter interface {
	// Cat opens a file; the size is the file's whole length. KindNotFound
	// when the node lacks it and cannot fetch it.
	Cat(ctx context.Context, c cid.Cid) (io.ReadSeekCloser, int64, error)
	// Size is the UnixFS size of a file or folder.
	Size(ctx context.Context, c cid.Cid) (int64, error)
}

// Pinner keeps content.
type Pinner interface {
	// Pin pins c recursively, fetching what is missing first.
	Pin(ctx context.Context, c cid.Cid) error
	// Unpin removes the recursive pin of c.
	Unpin(ctx context.Context, c cid.Cid) error
	// Pins lists the recursive pins.
	Pins(ctx context.Context) ([]cid.Cid, error)
}

// Collector removes what no pin keeps.
type Collector interface {
	// GC removes every unpinned block and says how many went.
	GC(ctx context.Context) (int, error)
}

// CARs moves DAGs in and out as CAR streams.
type CARs interface {
	// ExportCAR writes the DAG under c as a CARv1 stream.
	ExportCAR(ctx context.Context, c cid.Cid, w io.Writer) error
	// ImportCAR stores every block of a CAR stream, each checked against
	// its CID, and pins its roots (KindInvalid for a bad CAR).
	ImportCAR(ctx context.Context, r io.Reader) (api.CARImport, error)
}

// Statter summarises the node.
type Statter interface {
	// Stat is the repo's size and the network's state.
	Stat(ctx context.Context) (api.Stat, error)
}

// Actors makes and finds actors.
type Actors interface {
	// CreateActor makes a local person or community with its own key
	// (KindConflict when the username is taken).
	CreateActor(ctx context.Context, req api.CreateActorRequest) (api.Actor, error)
	// Actors lists the known actors, local ones first; localOnly keeps
	// the node's own.
	Actors(ctx context.Context, localOnly bool) ([]api.Actor, error)
	// Actor finds one known actor by DID, handle or local username.
	Actor(ctx context.Context, ref string) (api.Actor, error)
}

// Publisher publishes resources and their new versions.
type Publisher interface {
	// Publish signs and announces a new resource.
	Publish(ctx context.Context, req api.PublishRequest) (api.Published, error)
	// UpdateResource publishes a new version; empty fields keep their
	// value.
	UpdateResource(ctx context.Context, id string, req api.PublishRequest) (api.Published, error)
	// DeleteResource publishes a tombstone.
	DeleteResource(ctx context.Context, id string) (api.Published, error)
}

// ResourceReader shows resources.
type ResourceReader interface {
	// ShowResource gives a resource with its latest metadata and every
	// version the node has (KindNotFound if unknown).
	ShowResource(ctx context.Context, id string) (api.ResourceView, error)
}

// Follower follows actors and communities as a local actor.
type Follower interface {
	// Follow finds the actor (over the network if need be) and follows
	// it; it returns the actor followed.
	Follow(ctx context.Context, req api.FollowRequest) (api.Actor, error)
	// Unfollow takes a follow back.
	Unfollow(ctx context.Context, req api.FollowRequest) error
}

// Liker likes resources as a local actor.
type Liker interface {
	// Like signs a Like of a resource.
	Like(ctx context.Context, req api.LikeRequest) (api.LikeResponse, error)
}

// Feeds reads what the followed actors published.
type Feeds interface {
	// Feed lists, newest first, the resource versions of the followed
	// actors and communities; limit 0 takes the default.
	Feed(ctx context.Context, limit int) ([]api.FeedItem, error)
}

// Curator changes collections as a local actor.
type Curator interface {
	// CreateCollection signs a Create of an empty collection.
	CreateCollection(ctx context.Context, req api.CollectionRequest) (api.CollectionResult, error)
	// UpdateCollection renames a collection or changes its summary.
	UpdateCollection(ctx context.Context, id string, req api.CollectionRequest) (api.CollectionResult, error)
	// DeleteCollection publishes its tombstone; as names the owner ("" =
	// the only person).
	DeleteCollection(ctx context.Context, as, id string) (api.CollectionResult, error)
	// AddToCollection appends a resource; adding one already there
	// changes nothing.
	AddToCollection(ctx context.Context, id string, req api.CollectionItemRequest) (api.CollectionResult, error)
	// RemoveFromCollection takes a resource out (KindNotFound if absent).
	RemoveFromCollection(ctx context.Context, id string, req api.CollectionItemRequest) (api.CollectionResult, error)
}

// CollectionReader shows collections.
type CollectionReader interface {
	// Collections lists an actor's live collections ("" = every local
	// actor's), newest first.
	Collections(ctx context.Context, owner string) ([]api.Collection, error)
	// ShowCollection gives a collection with its items in order.
	ShowCollection(ctx context.Context, id string) (api.CollectionView, error)
}

// Rebuilder drops derived state and rebuilds it from the stored logs:
// the views (social) or the search index (search).
type Rebuilder interface {
	// Rebuild replays the logs and says how much it rebuilt.
	Rebuild(ctx context.Context) (api.Rebuilt, error)
}

// Blocker blocks actors.
type Blocker interface {
	// Block makes the node drop everything from an actor from now on.
	Block(ctx context.Context, req api.BlockRequest) error
}

// Searcher answers searches.
type Searcher interface {
	// Search asks the local index and the configured HQs; an invalid
	// query is KindInvalid.
	Search(ctx context.Context, q api.SearchQuery) (api.SearchResult, error)
	// AllowSearch applies the search rate limit to one client (its IP).
	AllowSearch(client string) bool
}

// Delister hides resources from this node's search results (HQ
// moderation).
type Delister interface {
	// Delist hides a resource; the reason is recorded.
	Delist(ctx context.Context, req api.DelistRequest) error
	// Relist shows it again.
	Relist(ctx context.Context, req api.DelistRequest) error
}

// PersonalFeeds is an ability a Feeds may have: the feed of one local
// actor. An account that reads GET /api/v1/feed reads its own.
type PersonalFeeds interface {
	// FeedOf lists, newest first, what q.As follows, the communities it
	// joined and what it published.
	FeedOf(ctx context.Context, q api.FeedQuery) ([]api.FeedItem, error)
}

// Accounts finds the account of a personal API token.
type Accounts interface {
	// Authenticate finds the account of a personal API token (lyc_…,
	// without "Bearer ") and records its use: KindUnauthorized for an
	// unknown, revoked or malformed token, KindForbidden for a token of
	// an account that is not active.
	Authenticate(ctx context.Context, token string) (api.Account, error)
}

// AccountAdmin reads and changes the node's accounts. by is the acting
// account's username, or api.Operator for the node's API token; each
// method checks that by may (KindForbidden otherwise), with the account's
// role of the moment.
type AccountAdmin interface {
	// Account finds an account by username (KindNotFound if none).
	Account(ctx context.Context, username string) (api.Account, error)
	// Accounts lists accounts by username, filtered and paged.
	Accounts(ctx context.Context, by string, f api.AccountFilter) ([]api.Account, error)
	// CreateAccount makes an active account of any role and its Person
	// actor, without registration rules: the caller checked that its
	// caller may (api.ActionManageAccounts).
	CreateAccount(ctx context.Context, req api.CreateAccountRequest) (api.Account, error)
	// Approve makes a registration waiting for approval active.
	Approve(ctx context.Context, by, username string) (api.Account, error)
	// Reject deletes a registration waiting for approval.
	Reject(ctx context.Context, by, username string) error
	// SetRole gives an account a role; the last active admin keeps
	// theirs (KindConflict).
	SetRole(ctx context.Context, by, username string, role api.Role) (api.Account, error)
	// Disable stops an account: its sessions end, its tokens stop
	// working.
	Disable(ctx context.Context, by, username string) (api.Account, error)
	// Enable makes a disabled account active again.
	Enable(ctx context.Context, by, username string) (api.Account, error)
	// ResetPassword sets a new password without the current one; every
	// session of the account ends.
	ResetPassword(ctx context.Context, by, username, password string) error
}

// Tokens keeps the personal API tokens of accounts. Who may ask about
// whose tokens is the caller's to check.
type Tokens interface {
	// CreateToken makes a token of the account username; its secret is
	// in the answer only. KindConflict for a name it has already.
	CreateToken(ctx context.Context, username string, req api.CreateTokenRequest) (api.NewToken, error)
	// Tokens lists the account's tokens, newest first, without secrets.
	Tokens(ctx context.Context, username string) ([]api.Token, error)
	// RevokeToken deletes a token of the account (KindNotFound if it has
	// no such token).
	RevokeToken(ctx context.Context, username string, id int64) error
}

// Registrations are how people get accounts: the registration mode and
// invitations. by is as in AccountAdmin.
type Registrations interface {
	// RegistrationMode is how people get an account.
	RegistrationMode(ctx context.Context) (api.RegistrationMode, error)
	// SetRegistrationMode sets it; by must be an admin.
	SetRegistrationMode(ctx context.Context, by string, m api.RegistrationMode) error
	// CreateInvitation makes a single-use invitation code, shown in the
	// answer only; a moderator invites members only.
	CreateInvitation(ctx context.Context, by string, req api.InvitationRequest) (api.NewInvitation, error)
	// Invitations lists the invitations, newest first, without codes.
	Invitations(ctx context.Context, by string) ([]api.Invitation, error)
	// RevokeInvitation deletes an unused invitation.
	RevokeInvitation(ctx context.Context, by string, id int64) error
}

// Services are the node's services the gateway serves, each a small
// interface. A nil field leaves its routes out (a simulator's node, a
// test), except Identity, which the front page needs.
type Services struct {
	Identity    Identity
	Swarm       Swarm
	Adder       Adder
	Catter      Catter
	Pinner      Pinner
	Collector   Collector
	CARs        CARs
	Stat        Statter
	Backup      Backuper
	Doctor      Doctor
	Actors      Actors
	Publisher   Publisher
	Resources   ResourceReader
	Follower    Follower
	Liker       Liker
	Feeds       Feeds
	Curator     Curator
	Collections CollectionReader
	// Views rebuilds the social views; Index the search index.
	Views    Rebuilder
	Index    Rebuilder
	Blocker  Blocker
	Searcher Searcher
	Delister Delister
	// Accounts recognises personal API tokens; nil takes only the node's
	// API token. AccountAdmin, Tokens and Registrations serve the account
	// calls (/api/v1/me, /api/v1/accounts…).
	Accounts      Accounts
	AccountAdmin  AccountAdmin
	Tokens        Tokens
	Registrations Registrations
	// Drafts serves the accounts' drafts (/api/v1/drafts).
	Drafts Drafts
}
