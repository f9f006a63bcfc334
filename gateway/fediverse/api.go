package fediverse

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"

	"github.com/lyceum-oer/lyceum/node"
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

// API serves the node owner's view of the bridge under /api/v1/fediverse/
// (the gateway puts it behind the API token): followers, follows,
// interactions and reports received, the timeline, follow requests, and
// follow, unfollow, reply, like, boost, approve, reject, lock and unlock
// as a local actor.
func (b *Bridge) API() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/fediverse/followers/{as}", func(w http.ResponseWriter, r *http.Request) {
		fs, err := b.Followers(r.Context(), r.PathValue("as"))
		answer(w, fs, err)
	})
	mux.HandleFunc("GET /api/v1/fediverse/following/{as}", func(w http.ResponseWriter, r *http.Request) {
		fs, err := b.Following(r.Context(), r.PathValue("as"))
		answer(w, fs, err)
	})
	mux.HandleFunc("GET /api/v1/fediverse/requests/{as}", func(w http.ResponseWriter, r *http.Request) {
		rs, err := b.Requests(r.Context(), r.PathValue("as"))
		answer(w, rs, err)
	})
	mux.HandleFunc("GET /api/v1/fediverse/interactions/{id}", func(w http.ResponseWriter, r *http.Request) {
		its, err := b.Interactions(r.Context(), r.PathValue("id"))
		answer(w, its, err)
	})
	mux.HandleFunc("GET /api/v1/fediverse/flags", func(w http.ResponseWriter, r *http.Request) {
		fs, err := b.Flags(r.Context())
		answer(w, fs, err)
	})
	mux.HandleFunc("GET /api/v1/fediverse/timeline", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		its, err := b.Timeline(r.Context(), n)
		answer(w, its, err)
	})
	mux.HandleFunc("POST /api/v1/fediverse/{action}", func(w http.ResponseWriter, r *http.Request) {
		var req ActionRequest
		data, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		if err == nil {
			err = json.Unmarshal(data, &req)
		}
		if err != nil {
			answer(w, nil, &node.Error{Kind: node.KindInvalid, Msg: "body: want a JSON action request", Err: err})
			return
		}
		ctx := r.Context()
		switch r.PathValue("action") {
		case "follow":
			a, err := b.Follow(ctx, req.As, req.Handle)
			answer(w, a, err)
		case "unfollow":
			answer(w, map[string]bool{"ok": true}, b.Unfollow(ctx, req.As, req.Remote))
		case "reply":
			id, err := b.Reply(ctx, req.As, req.Object, req.Text)
			answer(w, map[string]string{"id": id}, err)
		case "like":
			answer(w, map[string]bool{"ok": true}, b.Like(ctx, req.As, req.Object))
		case "boost":
			answer(w, map[string]bool{"ok": true}, b.Boost(ctx, req.As, req.Object))
		case "approve":
			answer(w, map[string]bool{"ok": true}, b.Approve(ctx, req.As, req.Remote))
		case "reject":
			answer(w, map[string]bool{"ok": true}, b.Reject(ctx, req.As, req.Remote))
		case "lock", "unlock":
			answer(w, map[string]bool{"locked": r.PathValue("action") == "lock"}, b.SetLocked(ctx, req.As, r.PathValue("action") == "lock"))
		default:
			http.NotFound(w, r)
		}
	})
	return mux
}

// answer writes v, or err as the API's {"error": {"kind", "message"}}.
func answer(w http.ResponseWriter, v any, err error) {
	if err == nil {
		writeJSONType(w, "application/json", http.StatusOK, v)
		return
	}
	kind := node.KindOf(err)
	st := map[node.Kind]int{
		node.KindInvalid: http.StatusBadRequest, node.KindNotFound: http.StatusNotFound, node.KindConflict: http.StatusConflict,
		node.KindUnauthorized: http.StatusUnauthorized, node.KindUnavailable: http.StatusServiceUnavailable,
	}[kind]
	if st == 0 {
		st = http.StatusInternalServerError
	}
	var body struct {
		Error struct {
			Kind    node.Kind `json:"kind"`
			Message string    `json:"message"`
		} `json:"error"`
	}
	body.Error.Kind, body.Error.Message = kind, err.Error()
	writeJSONType(w, "application/json", st, body)
}
