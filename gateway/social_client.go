package gateway

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/lyceum-oer/lyceum/node/api"
)

// CreateActor makes a local person or community.
func (c *Client) CreateActor(ctx context.Context, req api.CreateActorRequest) (api.Actor, error) {
	var out api.Actor
	return out, c.call(ctx, http.MethodPost, "/api/v1/actors", req, &out)
}

// Actors lists known actors; localOnly keeps the node's own.
func (c *Client) Actors(ctx context.Context, localOnly bool) ([]api.Actor, error) {
	var out []api.Actor
	return out, c.call(ctx, http.MethodGet, "/api/v1/actors?local="+strconv.FormatBool(localOnly), nil, &out)
}

// Actor finds one known actor by DID, handle or local username.
func (c *Client) Actor(ctx context.Context, ref string) (api.Actor, error) {
	var out api.Actor
	return out, c.call(ctx, http.MethodGet, "/api/v1/actors/"+url.PathEscape(ref), nil, &out)
}

// Publish signs and announces a resource: a file already added (by
// file_cid) or a link.
func (c *Client) Publish(ctx context.Context, req api.PublishRequest) (api.Published, error) {
	var out api.Published
	return out, c.call(ctx, http.MethodPost, "/api/v1/resources", req, &out)
}

// UpdateResource publishes a new version.
func (c *Client) UpdateResource(ctx context.Context, id string, req api.PublishRequest) (api.Published, error) {
	var out api.Published
	return out, c.call(ctx, http.MethodPut, "/api/v1/resources/"+url.PathEscape(id), req, &out)
}

// DeleteResource publishes a tombstone.
func (c *Client) DeleteResource(ctx context.Context, id string) (api.Published, error) {
	var out api.Published
	return out, c.call(ctx, http.MethodDelete, "/api/v1/resources/"+url.PathEscape(id), nil, &out)
}

// ShowResource returns a resource with its versions.
func (c *Client) ShowResource(ctx context.Context, id string) (api.ResourceView, error) {
	var out api.ResourceView
	return out, c.call(ctx, http.MethodGet, "/api/v1/resources/"+url.PathEscape(id), nil, &out)
}

// Follow follows an actor or community.
func (c *Client) Follow(ctx context.Context, req api.FollowRequest) (api.Actor, error) {
	var out api.Actor
	return out, c.call(ctx, http.MethodPost, "/api/v1/follow", req, &out)
}

// Unfollow takes a follow back.
func (c *Client) Unfollow(ctx context.Context, req api.FollowRequest) error {
	return c.call(ctx, http.MethodPost, "/api/v1/unfollow", req, &Unfollowed{})
}

// Like likes a resource.
func (c *Client) Like(ctx context.Context, req api.LikeRequest) (api.LikeResponse, error) {
	var out api.LikeResponse
	return out, c.call(ctx, http.MethodPost, "/api/v1/like", req, &out)
}

// Feed lists what the followed actors published.
func (c *Client) Feed(ctx context.Context, limit int) ([]api.FeedItem, error) {
	var out []api.FeedItem
	return out, c.call(ctx, http.MethodGet, "/api/v1/feed?limit="+strconv.Itoa(limit), nil, &out)
}

// Block makes the node drop everything from an actor.
func (c *Client) Block(ctx context.Context, req api.BlockRequest) error {
	return c.call(ctx, http.MethodPost, "/api/v1/block", req, &api.BlockRequest{})
}

// RebuildViews replays the logs into fresh views.
func (c *Client) RebuildViews(ctx context.Context) (api.Rebuilt, error) {
	var out api.Rebuilt
	return out, c.call(ctx, http.MethodPost, "/api/v1/repair/rebuild-views", nil, &out)
}

// CreateCollection makes an empty collection.
func (c *Client) CreateCollection(ctx context.Context, req api.CollectionRequest) (api.CollectionResult, error) {
	var out api.CollectionResult
	return out, c.call(ctx, http.MethodPost, "/api/v1/collections", req, &out)
}

// UpdateCollection renames a collection or changes its summary.
func (c *Client) UpdateCollection(ctx context.Context, id string, req api.CollectionRequest) (api.CollectionResult, error) {
	var out api.CollectionResult
	return out, c.call(ctx, http.MethodPut, "/api/v1/collections/"+url.PathEscape(id), req, &out)
}

// DeleteCollection publishes a collection's tombstone; as names the owner
// ("" = the only person).
func (c *Client) DeleteCollection(ctx context.Context, as, id string) (api.CollectionResult, error) {
	var out api.CollectionResult
	return out, c.call(ctx, http.MethodDelete, "/api/v1/collections/"+url.PathEscape(id)+"?as="+url.QueryEscape(as), nil, &out)
}

// AddToCollection appends a resource to a collection.
func (c *Client) AddToCollection(ctx context.Context, id string, req api.CollectionItemRequest) (api.CollectionResult, error) {
	var out api.CollectionResult
	return out, c.call(ctx, http.MethodPost, "/api/v1/collections/"+url.PathEscape(id)+"/items", req, &out)
}

// RemoveFromCollection takes a resource out of a collection.
func (c *Client) RemoveFromCollection(ctx context.Context, id string, req api.CollectionItemRequest) (api.CollectionResult, error) {
	var out api.CollectionResult
	return out, c.call(ctx, http.MethodDelete, "/api/v1/collections/"+url.PathEscape(id)+"/items", req, &out)
}

// Collections lists an actor's collections ("" = the local actors').
func (c *Client) Collections(ctx context.Context, owner string) ([]api.Collection, error) {
	var out []api.Collection
	return out, c.call(ctx, http.MethodGet, "/api/v1/collections?owner="+url.QueryEscape(owner), nil, &out)
}

// ShowCollection gives a collection with its items in order.
func (c *Client) ShowCollection(ctx context.Context, id string) (api.CollectionView, error) {
	var out api.CollectionView
	return out, c.call(ctx, http.MethodGet, "/api/v1/collections/"+url.PathEscape(id), nil, &out)
}
