package fediverse

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/lyceum-oer/lyceum/node/api"
)

// ActionRequest is the body of the management calls that act as a local
// actor towards the fediverse.
type ActionRequest struct {
	As     string `json:"as"`               // local username
	Handle string `json:"handle,omitempty"` // follow: name@host or actor URL
	Remote string `json:"remote,omitempty"` // unfollow, approve, reject: the remote actor's URL
	Object string `json:"object,omitempty"` // reply, like, boost: the remote post's URL
	Text   string `json:"text,omitempty"`   // reply: plain text
}

// Done answers the management calls that return nothing else.
type Done struct {
	OK bool `json:"ok"`
}

// Replied answers a reply: the ID of the Note sent.
type Replied struct {
	ID string `json:"id"`
}

// Locked answers lock and unlock: whether the actor now approves its
// followers.
type Locked struct {
	Locked bool `json:"locked"`
}

// maxActionBody bounds the body of an action request.
const maxActionBody = 64 << 10

// APICall is one management call: its answer, sent as JSON, or its
// error, sent as the API's {"error": {"kind", "message"}}.
type APICall = func(r *http.Request) (any, error)

// APIRoutes are the node owner's calls on the bridge, under
// /api/v1/fediverse/, by "METHOD /path" pattern (the gateway puts them
// behind the API token and answers them as the rest of its API):
// followers, follows, interactions and reports received, the timeline,
// follow requests, and follow, unfollow, reply, like, boost, approve,
// reject, lock and unlock as a local actor.
func (b *Bridge) APIRoutes() map[string]APICall {
	const base = "/api/v1/fediverse/"
	routes := map[string]APICall{
		"GET " + base + "followers/{as}": func(r *http.Request) (any, error) {
			return b.Followers(r.Context(), r.PathValue("as"))
		},
		"GET " + base + "following/{as}": func(r *http.Request) (any, error) {
			return b.Following(r.Context(), r.PathValue("as"))
		},
		"GET " + base + "requests/{as}": func(r *http.Request) (any, error) {
			return b.Requests(r.Context(), r.PathValue("as"))
		},
		"GET " + base + "interactions/{id}": func(r *http.Request) (any, error) {
			return b.Interactions(r.Context(), r.PathValue("id"))
		},
		"GET " + base + "flags": func(r *http.Request) (any, error) { return b.Flags(r.Context()) },
		"GET " + base + "timeline": func(r *http.Request) (any, error) {
			n, _ := strconv.Atoi(r.URL.Query().Get("limit"))
			return b.Timeline(r.Context(), n)
		},
		"POST " + base + "follow": act(func(ctx context.Context, req ActionRequest) (any, error) {
			return b.Follow(ctx, req.As, req.Handle)
		}),
		"POST " + base + "unfollow": act(done(func(ctx context.Context, req ActionRequest) error {
			return b.Unfollow(ctx, req.As, req.Remote)
		})),
		"POST " + base + "reply": act(func(ctx context.Context, req ActionRequest) (any, error) {
			id, err := b.Reply(ctx, req.As, req.Object, req.Text)
			return Replied{ID: id}, err
		}),
		"POST " + base + "like": act(done(func(ctx context.Context, req ActionRequest) error {
			return b.Like(ctx, req.As, req.Object)
		})),
		"POST " + base + "boost": act(done(func(ctx context.Context, req ActionRequest) error {
			return b.Boost(ctx, req.As, req.Object)
		})),
		"POST " + base + "approve": act(done(func(ctx context.Context, req ActionRequest) error {
			return b.Approve(ctx, req.As, req.Remote)
		})),
		"POST " + base + "reject": act(done(func(ctx context.Context, req ActionRequest) error {
			return b.Reject(ctx, req.As, req.Remote)
		})),
	}
	for _, lock := range []bool{true, false} {
		name := map[bool]string{true: "lock", false: "unlock"}[lock]
		routes["POST "+base+name] = act(func(ctx context.Context, req ActionRequest) (any, error) {
			return Locked{Locked: lock}, b.SetLocked(ctx, req.As, lock)
		})
	}
	return routes
}

// act is a management call that acts as a local actor: it reads the
// ActionRequest of the body and answers what f returns.
func act(f func(ctx context.Context, req ActionRequest) (any, error)) APICall {
	return func(r *http.Request) (any, error) {
		var req ActionRequest
		if err := api.ReadStrict(r.Body, maxActionBody, &req); err != nil {
			return nil, fmt.Errorf("action request: %w", err)
		}
		return f(r.Context(), req)
	}
}

// done adapts an action that returns only an error.
func done(f func(ctx context.Context, req ActionRequest) error) func(context.Context, ActionRequest) (any, error) {
	return func(ctx context.Context, req ActionRequest) (any, error) { return Done{OK: true}, f(ctx, req) }
}
