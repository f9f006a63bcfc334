package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node"
)

func (c *Client) postJSON(ctx context.Context, method, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return c.getJSON(ctx, method, path, bytes.NewReader(body), "application/json", out)
}

// CreateActor makes a local Person or Group.
func (c *Client) CreateActor(ctx context.Context, username, name, summary string, typ activity.ActorType) (node.ActorInfo, error) {
	var out node.ActorInfo
	return out, c.postJSON(ctx, http.MethodPost, "/api/v1/actors", ActorRequest{Username: username, Name: name, Summary: summary, Type: string(typ)}, &out)
}

// Actors lists known actors.
func (c *Client) Actors(ctx context.Context, localOnly bool) ([]node.ActorInfo, error) {
	var out []node.ActorInfo
	return out, c.getJSON(ctx, http.MethodGet, "/api/v1/actors?local="+strconv.FormatBool(localOnly), nil, "", &out)
}

// Actor finds one known actor.
func (c *Client) Actor(ctx context.Context, ref string) (node.ActorInfo, error) {
	var out node.ActorInfo
	return out, c.getJSON(ctx, http.MethodGet, "/api/v1/actors/"+url.PathEscape(ref), nil, "", &out)
}

// Publish signs and announces a resource; send the file's CID, not a path.
func (c *Client) Publish(ctx context.Context, req node.PublishRequest) (node.Published, error) {
	var out node.Published
	return out, c.postJSON(ctx, http.MethodPost, "/api/v1/resources", req, &out)
}

// UpdateResource publishes a new version.
func (c *Client) UpdateResource(ctx context.Context, id string, req node.PublishRequest) (node.Published, error) {
	var out node.Published
	return out, c.postJSON(ctx, http.MethodPut, "/api/v1/resources/"+url.PathEscape(id), req, &out)
}

// DeleteResource publishes a tombstone.
func (c *Client) DeleteResource(ctx context.Context, id string) (node.Published, error) {
	var out node.Published
	return out, c.getJSON(ctx, http.MethodDelete, "/api/v1/resources/"+url.PathEscape(id), nil, "", &out)
}

// ShowResource returns a resource with its versions.
func (c *Client) ShowResource(ctx context.Context, id string) (node.ResourceView, error) {
	var out node.ResourceView
	return out, c.getJSON(ctx, http.MethodGet, "/api/v1/resources/"+url.PathEscape(id), nil, "", &out)
}

// Follow follows an actor or community.
func (c *Client) Follow(ctx context.Context, as, ref string) (node.ActorInfo, error) {
	var out node.ActorInfo
	return out, c.postJSON(ctx, http.MethodPost, "/api/v1/follow", FollowRequest{As: as, Actor: ref}, &out)
}

// Unfollow takes a follow back.
func (c *Client) Unfollow(ctx context.Context, as, ref string) error {
	var out map[string]string
	return c.postJSON(ctx, http.MethodPost, "/api/v1/unfollow", FollowRequest{As: as, Actor: ref}, &out)
}

// Like likes a resource.
func (c *Client) Like(ctx context.Context, as, id string) (string, error) {
	var out LikeResponse
	return out.ActivityCID, c.postJSON(ctx, http.MethodPost, "/api/v1/like", LikeRequest{As: as, ID: id}, &out)
}

// Feed lists what the followed actors published.
func (c *Client) Feed(ctx context.Context, limit int) ([]node.FeedItem, error) {
	var out []node.FeedItem
	return out, c.getJSON(ctx, http.MethodGet, "/api/v1/feed?limit="+strconv.Itoa(limit), nil, "", &out)
}

// BlockActor makes the node drop everything from an actor.
func (c *Client) BlockActor(ctx context.Context, did, reason string) error {
	var out BlockRequest
	return c.postJSON(ctx, http.MethodPost, "/api/v1/block", BlockRequest{Actor: did, Reason: reason}, &out)
}

// RebuildViews replays the logs into fresh views.
func (c *Client) RebuildViews(ctx context.Context) (int, error) {
	var out RebuildResponse
	return out.Replayed, c.getJSON(ctx, http.MethodPost, "/api/v1/repair/rebuild-views", nil, "", &out)
}

// CreateCollection makes an empty collection owned by as.
func (c *Client) CreateCollection(ctx context.Context, as, title, summary string) (node.CollectionResult, error) {
	var out node.CollectionResult
	return out, c.postJSON(ctx, http.MethodPost, "/api/v1/collections", CollectionRequest{As: as, Title: title, Summary: summary}, &out)
}

// UpdateCollection renames a collection or changes its summary.
func (c *Client) UpdateCollection(ctx context.Context, as, id, title, summary string) (node.CollectionResult, error) {
	var out node.CollectionResult
	return out, c.postJSON(ctx, http.MethodPut, "/api/v1/collections/"+url.PathEscape(id), CollectionRequest{As: as, Title: title, Summary: summary}, &out)
}

// DeleteCollection publishes a collection's tombstone.
func (c *Client) DeleteCollection(ctx context.Context, as, id string) (node.CollectionResult, error) {
	var out node.CollectionResult
	return out, c.getJSON(ctx, http.MethodDelete, "/api/v1/collections/"+url.PathEscape(id)+"?as="+url.QueryEscape(as), nil, "", &out)
}

// AddToCollection appends a resource to a collection.
func (c *Client) AddToCollection(ctx context.Context, as, id, resourceID string) (node.CollectionResult, error) {
	var out node.CollectionResult
	return out, c.postJSON(ctx, http.MethodPost, "/api/v1/collections/"+url.PathEscape(id)+"/items", CollectionItemRequest{As: as, Resource: resourceID}, &out)
}

// RemoveFromCollection takes a resource out of a collection.
func (c *Client) RemoveFromCollection(ctx context.Context, as, id, resourceID string) (node.CollectionResult, error) {
	var out node.CollectionResult
	return out, c.postJSON(ctx, http.MethodDelete, "/api/v1/collections/"+url.PathEscape(id)+"/items", CollectionItemRequest{As: as, Resource: resourceID}, &out)
}

// Collections lists an actor's collections ("" = the local actors').
func (c *Client) Collections(ctx context.Context, owner string) ([]node.CollectionInfo, error) {
	var out []node.CollectionInfo
	return out, c.getJSON(ctx, http.MethodGet, "/api/v1/collections?owner="+url.QueryEscape(owner), nil, "", &out)
}

// ShowCollection gives a collection with its items in order.
func (c *Client) ShowCollection(ctx context.Context, id string) (node.CollectionView, error) {
	var out node.CollectionView
	return out, c.getJSON(ctx, http.MethodGet, "/api/v1/collections/"+url.PathEscape(id), nil, "", &out)
}
