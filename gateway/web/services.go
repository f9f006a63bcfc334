package web

import (
	"context"
	"io"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/go-cid"

	"github.com/lyceum-oer/lyceum/node/api"
)

// This file declares what the web app needs of the node: one small
// interface per job, in the types of node/api. node/daemon wires the
// node's rooms to them. Every call that acts for a person names its
// local actor (the account's username) in the request's As.

// Identity names the node.
type Identity interface {
	ID() api.Identity
}

// Sessions signs people in and out and tells who a session belongs to.
type Sessions interface {
	// Login checks a username and password (rate-limited per account and
	// per client) and opens a session; a failure says only "wrong
	// username or password".
	Login(ctx context.Context, req api.LoginRequest, client string) (api.Session, error)
	// Session returns the session of a token, renewing its expiry;
	// KindUnauthorized when it is unknown or over.
	Session(ctx context.Context, token string) (api.Session, error)
	// Logout ends a session.
	Logout(ctx context.Context, token string) error
}

// Setup makes the node's first admin.
type Setup interface {
	// NeedsSetup reports whether the node has no active admin yet.
	NeedsSetup(ctx context.Context) (bool, error)
	// CompleteSetup makes the first admin with a setup token, and signs
	// them in.
	CompleteSetup(ctx context.Context, req api.SetupRequest) (api.Registration, error)
}

// Registration lets people ask for an account.
type Registration interface {
	// RegistrationMode is how people get an account: open, approval,
	// invitation or closed.
	RegistrationMode(ctx context.Context) (api.RegistrationMode, error)
	// Register makes an account (pending in approval mode), and signs the
	// person in when it is active.
	Register(ctx context.Context, req api.RegisterRequest, client string) (api.Registration, error)
}

// Settings are what a person changes of their own account.
type Settings interface {
	UpdateProfile(ctx context.Context, username string, req api.ProfileRequest) (api.Account, error)
	// ChangePassword ends every session of the account and opens a new one.
	ChangePassword(ctx context.Context, username string, req api.PasswordChange) (api.Session, error)
	CreateToken(ctx context.Context, username string, req api.CreateTokenRequest) (api.NewToken, error)
	Tokens(ctx context.Context, username string) ([]api.Token, error)
	RevokeToken(ctx context.Context, username string, id int64) error
}

// Admin is what admins and moderators do with the node's accounts; by is
// the acting account's username, whose role the service checks.
type Admin interface {
	Accounts(ctx context.Context, by string, f api.AccountFilter) ([]api.Account, error)
	Approve(ctx context.Context, by, username string) (api.Account, error)
	Reject(ctx context.Context, by, username string) error
	SetRole(ctx context.Context, by, username string, role api.Role) (api.Account, error)
	Disable(ctx context.Context, by, username string) (api.Account, error)
	Enable(ctx context.Context, by, username string) (api.Account, error)
	SetRegistrationMode(ctx context.Context, by string, m api.RegistrationMode) error
	CreateInvitation(ctx context.Context, by string, req api.InvitationRequest) (api.NewInvitation, error)
	Invitations(ctx context.Context, by string) ([]api.Invitation, error)
	RevokeInvitation(ctx context.Context, by string, id int64) error
}

// Dashboards summarise the node for its operator.
type Dashboards interface {
	Dashboard(ctx context.Context) (api.Dashboard, error)
}

// Files stores uploads and serves files.
type Files interface {
	// Add imports one file as it streams in and pins it; progress, if not
	// nil, sees the bytes read so far.
	Add(ctx context.Context, name string, f files.Node, o api.AddOptions, progress func(int64)) (cid.Cid, error)
	// Cat opens a file; the size is the file's whole length.
	Cat(ctx context.Context, c cid.Cid) (io.ReadSeekCloser, int64, error)
}

// Providers counts the peers known to hold a file.
type Providers interface {
	Providers(ctx context.Context, c cid.Cid, limit int) (api.Providers, error)
}

// Resources publishes, changes and shows resources.
type Resources interface {
	Publish(ctx context.Context, req api.PublishRequest) (api.Published, error)
	UpdateResource(ctx context.Context, id string, req api.PublishRequest) (api.Published, error)
	DeleteResource(ctx context.Context, id string) (api.Published, error)
	ShowResource(ctx context.Context, id string) (api.ResourceView, error)
	// Resources lists live resources, newest first.
	Resources(ctx context.Context, q api.ResourceQuery) ([]api.FeedItem, error)
	// FeedOf is a person's feed.
	FeedOf(ctx context.Context, q api.FeedQuery) ([]api.FeedItem, error)
	Like(ctx context.Context, req api.LikeRequest) (api.LikeResponse, error)
	// HasLiked reports whether the local actor as liked the resource.
	HasLiked(ctx context.Context, as, resource string) (bool, error)
}

// Comments are the comments on resources, from Lyceum and the fediverse.
type Comments interface {
	Comment(ctx context.Context, req api.CommentRequest) (api.Commented, error)
	// Comments lists a resource's comments, oldest first.
	Comments(ctx context.Context, resource string) ([]api.Comment, error)
}

// People are actors: persons and communities, their profiles and follows.
type People interface {
	CreateActor(ctx context.Context, req api.CreateActorRequest) (api.Actor, error)
	Actors(ctx context.Context, localOnly bool) ([]api.Actor, error)
	// Profile shows an actor by DID, handle or local name; viewer is the
	// local actor asking ("" = nobody).
	Profile(ctx context.Context, ref, viewer string) (api.Profile, error)
	UpdateActor(ctx context.Context, req api.ActorUpdate) (api.Actor, error)
	Follow(ctx context.Context, req api.FollowRequest) (api.Actor, error)
	Unfollow(ctx context.Context, req api.FollowRequest) error
	// Follows reports whether the local actor as follows target: an
	// actor's DID or a collection's ID.
	Follows(ctx context.Context, as, target string) (bool, error)
}

// Collections are curated lists of resources.
type Collections interface {
	CreateCollection(ctx context.Context, req api.CollectionRequest) (api.CollectionResult, error)
	UpdateCollection(ctx context.Context, id string, req api.CollectionRequest) (api.CollectionResult, error)
	DeleteCollection(ctx context.Context, as, id string) (api.CollectionResult, error)
	AddToCollection(ctx context.Context, id string, req api.CollectionItemRequest) (api.CollectionResult, error)
	RemoveFromCollection(ctx context.Context, id string, req api.CollectionItemRequest) (api.CollectionResult, error)
	Collections(ctx context.Context, owner string) ([]api.Collection, error)
	ShowCollection(ctx context.Context, id string) (api.CollectionView, error)
	// CollectionFeed lists what the collections a local actor follows
	// added, newest first.
	CollectionFeed(ctx context.Context, as string, limit int) ([]api.CollectionAddition, error)
}

// Searcher answers searches from the local index and the HQs.
type Searcher interface {
	Search(ctx context.Context, q api.SearchQuery) (api.SearchResult, error)
	// AllowSearch applies the search rate limit to one client.
	AllowSearch(client string) bool
}

// Drafts are publications a person saved to finish later, theirs alone.
type Drafts interface {
	// SaveDraft saves a new draft (id 0) or over one of username's.
	SaveDraft(ctx context.Context, username string, id int64, title string, fields map[string][]string) (api.Draft, error)
	// Drafts lists username's drafts, the last saved first.
	Drafts(ctx context.Context, username string) ([]api.Draft, error)
	// Draft is one of username's drafts; another's is not found.
	Draft(ctx context.Context, username string, id int64) (api.Draft, error)
	DeleteDraft(ctx context.Context, username string, id int64) error
}

// OAuth is the node's OAuth 2 authorization server as its consent page
// and the settings page use it (Moodle's "Share to MoodleNet").
type OAuth interface {
	// OAuthClient finds a registered client (KindNotFound if none).
	OAuthClient(ctx context.Context, clientID string) (api.OAuthClient, error)
	// Authorize records username's consent and returns the single-use
	// code to send to req.RedirectURI.
	Authorize(ctx context.Context, username string, req api.AuthorizeRequest) (string, error)
	// OAuthGrants lists the Moodle sites username consented to.
	OAuthGrants(ctx context.Context, username string) ([]api.OAuthGrant, error)
	// RevokeOAuthGrant ends one of username's grants; another's is not
	// found.
	RevokeOAuthGrant(ctx context.Context, username string, id int64) error
}

// Fetcher brings into the node what a search found elsewhere: a
// resource or an actor whose log the node does not hold.
type Fetcher interface {
	// FetchObject fetches a resource by ID from the node's neighbours,
	// with its author's log.
	FetchObject(ctx context.Context, id string) error
	// Fetch fetches an actor's log by handle (name@peerID) and returns
	// its DID.
	Fetch(ctx context.Context, ref string) (string, error)
}

// Services are the parts of the node the web app uses. Identity and
// Sessions are required; a nil one of the others leaves its pages out.
type Services struct {
	Identity     Identity
	Sessions     Sessions
	Setup        Setup
	Registration Registration
	Settings     Settings
	Admin        Admin
	Dashboards   Dashboards
	Files        Files
	Providers    Providers
	Resources    Resources
	Comments     Comments
	People       People
	Collections  Collections
	Searcher     Searcher
	Fetcher      Fetcher // nil: a page of what the node lacks is 404
	Drafts       Drafts  // nil: no drafts
	OAuth        OAuth   // nil: no consent page (no sharing from Moodle)
}
