package moodle

import (
	"context"
	"io"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/go-cid"

	"github.com/lyceum-oer/lyceum/node/api"
)

// OAuth is the node's OAuth 2 storage (node/accounts' Service). Its
// refusals are *api.OAuthError; other errors are the node's.
type OAuth interface {
	// RegisterOAuthClient registers a client and returns its secret, once.
	RegisterOAuthClient(ctx context.Context, req api.OAuthClientRequest) (api.NewOAuthClient, error)
	// ExchangeOAuthCode trades an authorization code, once, for tokens.
	ExchangeOAuthCode(ctx context.Context, req api.OAuthCodeExchange) (api.OAuthTokens, error)
	// RefreshOAuthToken trades a refresh token for new tokens (both
	// rotate).
	RefreshOAuthToken(ctx context.Context, req api.OAuthRefresh) (api.OAuthTokens, error)
	// AuthenticateOAuth finds the account of an access token granting
	// scope: KindUnauthorized when it is unknown, expired, revoked or
	// lacks the scope.
	AuthenticateOAuth(ctx context.Context, token, scope string) (api.Account, error)
}

// Files is the content store.
type Files interface {
	// Add imports one file as it streams in (unpinned with o.NoPin); an
	// error from reading f is returned wrapped.
	Add(ctx context.Context, name string, f files.Node, o api.AddOptions, progress func(int64)) (cid.Cid, error)
	// Cat opens a stored file.
	Cat(ctx context.Context, c cid.Cid) (io.ReadSeekCloser, int64, error)
	// Pin keeps c; Unpin lets the garbage collector take it.
	Pin(ctx context.Context, c cid.Cid) error
	Unpin(ctx context.Context, c cid.Cid) error
}

// Drafts are the accounts' unfinished publications.
type Drafts interface {
	// SaveDraft saves a new draft of username (id 0).
	SaveDraft(ctx context.Context, username string, id int64, title string, fields map[string][]string) (api.Draft, error)
	// DeleteDraft deletes one of username's drafts.
	DeleteDraft(ctx context.Context, username string, id int64) error
}

// Services are what the surface needs of the node; all are required.
type Services struct {
	OAuth  OAuth
	Files  Files
	Drafts Drafts
}
