package fediverse

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/lyceum-oer/lyceum/gateway/clientip"
	"github.com/lyceum-oer/lyceum/gateway/httpsig"
)

// The kinds of interaction the bridge records from the fediverse.
const (
	// KindComment is a reply to one of our resources (or to a comment on
	// it): shown as a comment on the resource.
	KindComment = "comment"
	// KindLike is a Like of one of our resources.
	KindLike = "like"
	// KindBoost is an Announce of one of our resources, or a boost by a
	// followed remote actor.
	KindBoost = "boost"
	// KindPost is a post of a remote actor a local actor follows.
	KindPost = "post"
)

// Interaction is something received from the fediverse.
type Interaction struct {
	ID        string    `json:"id"`
	Kind      string    `json:"kind"`
	Actor     string    `json:"actor"`
	Object    string    `json:"object"` // resource ID (comment, like, boost), or what was boosted
	Content   string    `json:"content,omitempty"`
	URL       string    `json:"url,omitempty"`
	Published time.Time `json:"published"`
	Updated   time.Time `json:"updated,omitzero"`
}

// errRetry marks inbox failures of our own (storage), answered 500 so
// that the sender retries; every other problem with an activity is the
// sender's, answered 202 and logged, as Mastodon does.
var errRetry = errors.New("temporary failure")

// serveInbox is the personal and the shared inbox.
func (b *Bridge) serveInbox(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	// Before anything else, and before any key is fetched: the sender
	// chooses the keyId, but not the address it connects from.
	if !b.clientLimit.Allow(clientip.Key(r, b.cfg.TrustedProxies)) {
		tooMany(w, "too many requests from your address")
		return
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || !(mt == apType || (mt == "application/ld+json" && strings.Contains(params["profile"], "activitystreams"))) {
		http.Error(w, "Content-Type: want application/activity+json or application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"", http.StatusUnsupportedMediaType)
		return
	}
	if name := r.PathValue("name"); name != "" {
		if _, err := b.localActor(ctx, name); err != nil {
			b.notFound(w, err)
			return
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, b.cfg.MaxInboxBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		} else {
			http.Error(w, "could not read the body", http.StatusBadRequest)
		}
		return
	}
	key, err := b.verify(ctx, r, body)
	if err != nil && keyGone(err) && deletesItself(body) {
		// A deleted account's key is gone with it (410), yet Mastodon
		// sends its Delete to every server that knew it. Unverifiable, it
		// changes nothing here (followers whose inbox is gone are dropped
		// by the delivery queue on 410); acknowledge it so that the sender
		// stops retrying.
		w.WriteHeader(http.StatusAccepted)
		return
	}
	if err != nil {
		b.sigError(w, r, err)
		return
	}
	if !b.serverLimit.Allow(hostOf(key.Owner)) {
		tooMany(w, "too many requests from your server")
		return
	}
	if st, msg := b.receive(ctx, body, key.Owner); st != http.StatusAccepted {
		http.Error(w, msg, st)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

func tooMany(w http.ResponseWriter, msg string) {
	w.Header().Set("Retry-After", "1")
	http.Error(w, msg, http.StatusTooManyRequests)
}

// hostOf is the lower-cased host[:port] of a URL, "" if it has none.
func hostOf(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return strings.ToLower(p.Host)
}

// receive applies a verified inbox POST whose signing key belongs to
// owner, and says what to answer.
func (b *Bridge) receive(ctx context.Context, body []byte, owner string) (int, string) {
	doc, err := parseDoc(body)
	if err != nil {
		return http.StatusBadRequest, err.Error()
	}
	actor := ref(doc["actor"])
	if actor == "" || actor != owner {
		return http.StatusUnauthorized, "the activity's actor is not the owner of the signing key"
	}
	id := ref(doc["id"])
	if id == "" || !sameHost(id, actor) || len(id) > 2048 {
		return http.StatusBadRequest, "the activity needs an id on its actor's host"
	}
	if m, ok := b.cfg.Delivery.(interface{ MarkReachable(host string) }); ok {
		if u, err := url.Parse(actor); err == nil {
			m.MarkReachable(u.Host)
		}
	}
	fresh, err := b.db.markSeen(ctx, id)
	if err != nil {
		b.log.Error("inbox", "err", err)
		return http.StatusInternalServerError, "internal error"
	}
	if fresh {
		if err := b.handle(ctx, doc, actor); err != nil {
			if errors.Is(err, errRetry) {
				// Let the sender try again: forget we saw it.
				_, _ = b.db.db.Exec(ctx, `DELETE FROM seen WHERE id = ?`, id)
				b.log.Error("inbox", "err", err)
				return http.StatusInternalServerError, "internal error"
			}
			b.log.Info("inbox: activity ignored", "id", id, "type", firstType(doc), "reason", err)
		}
	}
	return http.StatusAccepted, ""
}

// deletesItself reports whether body is an actor's Delete of itself.
func deletesItself(body []byte) bool {
	doc, err := parseDoc(body)
	if err != nil || firstType(doc) != "Delete" {
		return false
	}
	actor := ref(doc["actor"])
	return actor != "" && ref(doc["object"]) == actor
}

// verify checks a request's HTTP signature.
func (b *Bridge) verify(ctx context.Context, r *http.Request, body []byte) (httpsig.PublicKey, error) {
	return b.verifier.Verify(ctx, r, body)
}

// keyGone reports whether a verification failed because the key could not
// be had from its server (not because the bridge was busy or its own
// storage failed).
func keyGone(err error) bool {
	return errors.Is(err, httpsig.ErrKeyUnavailable) && !errors.Is(err, errKeyFetchBusy) && !errors.Is(err, errRetry)
}

// sigError answers a request whose signature was refused. The sender is
// told what was wrong with its request, never why a key could not be
// fetched (the dial error of a keyId pointing at a closed port would make
// the inbox a port scanner): that is for the debug log.
func (b *Bridge) sigError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, errRetry):
		b.internal(w, err)
		return
	case errors.Is(err, errKeyFetchBusy):
		b.log.Debug("signature not verified: every key fetch is busy", "path", r.URL.Path)
		w.Header().Set("Retry-After", "30")
		http.Error(w, "busy: try again later", http.StatusServiceUnavailable)
		return
	}
	b.log.Debug("signature refused", "path", r.URL.Path, "client", clientip.Of(r, b.cfg.TrustedProxies), "err", err)
	st := httpsig.Status(err)
	if st == http.StatusInternalServerError {
		st = http.StatusUnauthorized
	}
	http.Error(w, "HTTP signature: "+httpsig.Message(err), st)
}

func retry(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w: %v", errRetry, err)
}

// handle applies one verified activity from actor.
func (b *Bridge) handle(ctx context.Context, doc obj, actor string) error {
	switch firstType(doc) {
	case "Follow":
		return b.onFollow(ctx, doc, actor)
	case "Accept", "Reject":
		return b.onAcceptReject(ctx, doc, actor)
	case "Undo":
		return b.onUndo(ctx, doc, actor)
	case "Create":
		note := object(doc["object"])
		if note == nil {
			return errors.New("Create without an embedded object")
		}
		return b.onNote(ctx, note, actor, false, signedByAuthor)
	case "Update":
		o := object(doc["object"])
		if o == nil {
			return errors.New("Update without an embedded object")
		}
		if ref(o["id"]) == actor {
			_, err := b.fetchActor(ctx, actor, nil)
			return err
		}
		return b.onNote(ctx, o, actor, true, signedByAuthor)
	case "Like":
		return b.onReaction(ctx, doc, actor, KindLike)
	case "Announce":
		return b.onReaction(ctx, doc, actor, KindBoost)
	case "Delete":
		return b.onDelete(ctx, doc, actor)
	case "Flag":
		content := clip(b.sanitize.Sanitize(str(doc, "content")), 5000)
		objs := strings.Join(refs(doc["object"]), " ")
		b.log.Warn("fediverse report (Flag) for the moderators", "from", actor, "objects", objs, "content", content)
		_, err := b.db.db.Exec(ctx, `INSERT OR IGNORE INTO flags (id, actor, objects, content, at) VALUES (?, ?, ?, ?, ?)`,
			ref(doc["id"]), actor, objs, content, now())
		return retry(err)
	case "Move":
		b.log.Info("fediverse actor moved", "from", actor, "to", ref(doc["target"]))
		return nil
	}
	return nil // unknown types are accepted and ignored
}

// onFollow accepts a Follow of one of our actors at once and answers
// Accept with the Follow embedded, as Mastodon expects; a Follow of a
// locked actor waits as a request (see locked.go), unless the remote
// actor already follows it.
func (b *Bridge) onFollow(ctx context.Context, doc obj, actor string) error {
	target := ref(doc["object"])
	username := b.localUsername(target)
	if username == "" {
		return fmt.Errorf("Follow of %q, not one of our actors", target)
	}
	if _, err := b.localActor(ctx, username); err != nil {
		return err
	}
	remote, err := b.remoteActor(ctx, actor)
	if err != nil {
		return err
	}
	followID := ref(doc["id"])
	state := "accepted"
	if b.isLocked(ctx, target) {
		state = "pending"
	}
	if _, err := b.db.db.Exec(ctx, `INSERT INTO followers (local, remote, follow_id, state, since) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (local, remote) DO UPDATE SET follow_id = excluded.follow_id,
		state = CASE WHEN followers.state = 'accepted' THEN 'accepted' ELSE excluded.state END`, target, actor, followID, state, now()); err != nil {
		return retry(err)
	}
	if b.db.count(ctx, `SELECT count(*) FROM followers WHERE local = ? AND remote = ? AND state = 'accepted'`, target, actor) == 0 {
		b.log.Info("follow request waits for approval", "actor", target, "from", actor)
		return nil
	}
	return retry(b.emit(ctx, target, followAnswer("Accept", target, actor, followID), "", []string{remote.Inbox}))
}

func (b *Bridge) onAcceptReject(ctx context.Context, doc obj, actor string) error {
	inner := object(doc["object"])
	followID := ref(doc["object"])
	var err error
	if firstType(doc) == "Accept" {
		_, err = b.db.db.Exec(ctx, `UPDATE following SET state = 'accepted' WHERE remote = ? AND (follow_id = ? OR local = ?)`,
			actor, followID, ref(inner["actor"]))
	} else {
		_, err = b.db.db.Exec(ctx, `DELETE FROM following WHERE remote = ? AND (follow_id = ? OR local = ?)`,
			actor, followID, ref(inner["actor"]))
	}
	return retry(err)
}

// onUndo takes back a Follow, Like or Announce, named by ID or embedded
// (then matched by actor and object as well).
func (b *Bridge) onUndo(ctx context.Context, doc obj, actor string) error {
	inner := object(doc["object"])
	innerID := ref(doc["object"])
	if inner != nil && ref(inner["actor"]) != "" && ref(inner["actor"]) != actor {
		return errors.New("Undo of another actor's activity")
	}
	target := ref(inner["object"])
	kind := firstType(inner)
	var err error
	switch {
	case kind == "Follow" || (inner == nil && b.db.count(ctx, `SELECT count(*) FROM followers WHERE remote = ? AND follow_id = ?`, actor, innerID) > 0):
		_, err = b.db.db.Exec(ctx, `DELETE FROM followers WHERE remote = ? AND (follow_id = ? OR local = ?)`, actor, innerID, target)
	default:
		k := map[string]string{"Like": KindLike, "Announce": KindBoost}[kind]
		_, err = b.db.db.Exec(ctx, `DELETE FROM interactions WHERE actor = ? AND (id = ? OR (kind = ? AND object = ?))`,
			actor, innerID, k, b.localResource(target))
	}
	return retry(err)
}

// noteSource is how the bridge knows that a note is what its author
// wrote. A note's authority is its ID's host: nothing else may create or
// change the row under its ID.
type noteSource int

const (
	// signedByAuthor: in an activity delivered to an inbox, signed by the
	// note's attributedTo actor, on the note's host.
	signedByAuthor noteSource = iota
	// fetchedFromOrigin: dereferenced by its ID from the ID's host.
	fetchedFromOrigin
)

// onNote records a Note by actor, its verified author: a reply to one of
// our resources (or to a comment on one) becomes a comment; a post of an
// actor a local actor follows goes to the timeline. With update, it
// replaces the content of the note actor sent before.
//
// A row under the note's ID already stored for another actor is settled
// by the ID's host: a signed note then dereferences the ID, and what is
// fetched from its host replaces the row (or, if it no longer replies to
// us, removes it).
func (b *Bridge) onNote(ctx context.Context, note obj, actor string, update bool, src noteSource) error {
	if !hasType(note, "Note", "Article", "Page", "Question") {
		return fmt.Errorf("object of type %q ignored", firstType(note))
	}
	id := ref(note["id"])
	if id == "" || len(id) > 2048 || !sameHost(id, actor) || ref(note["attributedTo"]) != actor {
		return errors.New("note not attributed to the sender, or not on its host")
	}
	content := clip(b.sanitize.Sanitize(clip(str(note, "content"), 64<<10)), 32<<10)
	published := parseTime(str(note, "published"))
	var stored string // the actor of the row under this ID
	switch err := b.db.db.QueryRow(ctx, `SELECT actor FROM interactions WHERE id = ?`, id).Scan(&stored); {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return retry(err)
	case stored != actor && src == signedByAuthor:
		// Two claims on one ID: ask its host.
		return b.dereferenceNote(ctx, id, "")
	case stored == actor && src == signedByAuthor:
		if !update {
			return nil // a repeated Create
		}
		_, err := b.db.db.Exec(ctx, `UPDATE interactions SET content = ?, updated = ? WHERE id = ? AND actor = ?`,
			content, now(), id, actor)
		return retry(err)
	}
	kind, object := "", ""
	reply := ref(note["inReplyTo"])
	if rid := b.localResource(reply); rid != "" {
		if _, _, err := b.localResourceView(ctx, rid); err == nil {
			kind, object = KindComment, rid
		}
	} else if reply != "" {
		// A reply in a thread under one of our resources.
		var parent string
		if err := b.db.db.QueryRow(ctx, `SELECT object FROM interactions WHERE id = ? AND kind = ?`, reply, KindComment).Scan(&parent); err == nil {
			kind, object = KindComment, parent
		}
	}
	if kind == "" && b.db.count(ctx, `SELECT count(*) FROM following WHERE remote = ?`, actor) > 0 {
		kind, object = KindPost, reply
	}
	if kind == "" {
		if stored != "" && stored != actor {
			// What the ID's host serves contradicts the stored row.
			_, err := b.db.db.Exec(ctx, `DELETE FROM interactions WHERE id = ? AND actor = ?`, id, stored)
			return retry(err)
		}
		return errors.New("note neither replies to us nor comes from an actor we follow")
	}
	// Signed, the note is new here (or another delivery of it just won
	// the race); fetched from its host, it replaces whatever the row held,
	// and counts as an edit if its author's content changed.
	q := `INSERT OR IGNORE INTO interactions (id, kind, actor, object, content, url, published) VALUES (?, ?, ?, ?, ?, ?, ?)`
	args := []any{id, kind, actor, object, content, clip(ref(note["url"]), 2048), published.UTC().Format(time.RFC3339Nano)}
	if src == fetchedFromOrigin {
		q = `INSERT INTO interactions (id, kind, actor, object, content, url, published) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, actor = excluded.actor, object = excluded.object,
			content = excluded.content, url = excluded.url, published = excluded.published,
			updated = CASE WHEN interactions.actor != excluded.actor THEN ''
				WHEN interactions.content != excluded.content THEN ? ELSE interactions.updated END`
		args = append(args, now())
	}
	if _, err := b.db.db.Exec(ctx, q, args...); err != nil {
		return retry(err)
	}
	if kind == KindComment {
		b.fetchReplies(note)
	}
	return nil
}

// dereferenceNote fetches a note by its ID from the ID's host and stores
// it as that host serves it, for its attributedTo actor (which must be
// wantAuthor, when given).
func (b *Bridge) dereferenceNote(ctx context.Context, id, wantAuthor string) error {
	doc, err := b.getJSON(ctx, id)
	if err != nil {
		return fmt.Errorf("fetch note: %w", err)
	}
	if got := ref(doc["id"]); got != id {
		return fmt.Errorf("note %s: its host serves %q", id, clip(got, 200))
	}
	author := ref(doc["attributedTo"])
	if author == "" || !sameHost(author, id) {
		return fmt.Errorf("note %s: no author on its host", id)
	}
	if wantAuthor != "" && author != wantAuthor {
		return fmt.Errorf("note %s: by %s, not %s", id, clip(author, 200), clip(wantAuthor, 200))
	}
	return b.onNote(ctx, doc, author, false, fetchedFromOrigin)
}

func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Now()
	}
	return t
}

// onReaction records a Like or Announce of one of our resources, or a
// boost by an actor a local actor follows.
func (b *Bridge) onReaction(ctx context.Context, doc obj, actor, kind string) error {
	target := ref(doc["object"])
	rid := b.localResource(target)
	if rid == "" {
		if kind == KindBoost && b.db.count(ctx, `SELECT count(*) FROM following WHERE remote = ?`, actor) > 0 {
			_, err := b.db.db.Exec(ctx, `INSERT OR IGNORE INTO interactions (id, kind, actor, object, published) VALUES (?, ?, ?, ?, ?)`,
				ref(doc["id"]), KindBoost, actor, clip(target, 2048), now())
			return retry(err)
		}
		return fmt.Errorf("%s of %q, not one of our resources", kind, target)
	}
	if _, _, err := b.localResourceView(ctx, rid); err != nil {
		return err
	}
	_, err := b.db.db.Exec(ctx, `INSERT OR IGNORE INTO interactions (id, kind, actor, object, published) VALUES (?, ?, ?, ?, ?)`,
		ref(doc["id"]), kind, actor, rid, now())
	return retry(err)
}

// onDelete forgets a deleted remote actor or one of its notes.
func (b *Bridge) onDelete(ctx context.Context, doc obj, actor string) error {
	target := ref(doc["object"])
	if target == actor {
		return retry(b.db.deleteRemote(ctx, actor))
	}
	_, err := b.db.db.Exec(ctx, `DELETE FROM interactions WHERE id = ? AND actor = ?`, target, actor)
	return retry(err)
}

// Interactions lists what the fediverse did with a resource: comments,
// likes and boosts, oldest first.
func (b *Bridge) Interactions(ctx context.Context, resourceID string) ([]Interaction, error) {
	return b.interactions(ctx, `WHERE object = ? AND kind IN ('comment', 'like', 'boost') ORDER BY published, id`, resourceID)
}

// Timeline lists the posts and boosts of the fediverse actors local
// actors follow, newest first.
func (b *Bridge) Timeline(ctx context.Context, limit int) ([]Interaction, error) {
	if limit <= 0 {
		limit = 50
	}
	return b.interactions(ctx, `WHERE actor IN (SELECT remote FROM following) AND kind IN ('post', 'boost') ORDER BY published DESC LIMIT ?`, limit)
}

func (b *Bridge) interactions(ctx context.Context, where string, args ...any) ([]Interaction, error) {
	rows, err := b.db.db.Query(ctx, `SELECT id, kind, actor, object, content, url, published, updated FROM interactions `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Interaction{}
	for rows.Next() {
		var it Interaction
		var p, u string
		if err := rows.Scan(&it.ID, &it.Kind, &it.Actor, &it.Object, &it.Content, &it.URL, &p, &u); err != nil {
			return nil, err
		}
		it.Published, _ = time.Parse(time.RFC3339Nano, p)
		it.Updated, _ = time.Parse(time.RFC3339Nano, u)
		out = append(out, it)
	}
	return out, rows.Err()
}

// Flag is a report received from the fediverse, for the moderators.
type Flag struct {
	ID      string    `json:"id"`
	Actor   string    `json:"actor"`
	Objects []string  `json:"objects"`
	Content string    `json:"content,omitempty"`
	At      time.Time `json:"at"`
}

// Flags lists the reports received, newest first.
func (b *Bridge) Flags(ctx context.Context) ([]Flag, error) {
	rows, err := b.db.db.Query(ctx, `SELECT id, actor, objects, content, at FROM flags ORDER BY at DESC LIMIT 500`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Flag{}
	for rows.Next() {
		var f Flag
		var objs, at string
		if err := rows.Scan(&f.ID, &f.Actor, &objs, &f.Content, &at); err != nil {
			return nil, err
		}
		f.Objects = strings.Fields(objs)
		f.At, _ = time.Parse(time.RFC3339Nano, at)
		out = append(out, f)
	}
	return out, rows.Err()
}

// Followers lists the fediverse actors that follow a local actor.
func (b *Bridge) Followers(ctx context.Context, username string) ([]RemoteActor, error) {
	if _, err := b.localActor(ctx, username); err != nil {
		return nil, err
	}
	return b.db.followerInboxes(ctx, b.actorURL(username))
}

// fetchReplies reads the replies collection of a remote comment, since
// replies in its thread are not always addressed to us. The collection is
// read from the comment's host; each note in it is the collection's word,
// not its author's, so it is dereferenced from its own host and stored as
// fetched, or not at all. It runs in the background, owned by the bridge;
// it reads the first page only.
func (b *Bridge) fetchReplies(note obj) {
	replies, noteID := note["replies"], ref(note["id"])
	if replies == nil {
		return
	}
	select {
	case b.repliesSem <- struct{}{}:
	default:
		return // busy: skip rather than queue without bound
	}
	started := b.goBackground(func(ctx context.Context) {
		defer func() { <-b.repliesSem }()
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		// get reads a part of the collection, embedded or from the note's host.
		get := func(v any) obj {
			if o := object(v); o != nil {
				return o
			}
			u := ref(v)
			if u == "" || !sameHost(u, noteID) {
				return nil
			}
			o, err := b.getJSON(ctx, u)
			if err != nil {
				b.log.Debug("replies collection not read", "note", noteID, "err", err)
			}
			return o
		}
		page := get(replies)
		if page == nil {
			return
		}
		if first := page["first"]; first != nil {
			if page = get(first); page == nil {
				return
			}
		}
		items := append(refsOrObjects(page["items"]), refsOrObjects(page["orderedItems"])...)
		for i, it := range items {
			if i == 20 || ctx.Err() != nil {
				break
			}
			id, author := ref(it), ""
			if n := object(it); n != nil {
				// The embedded copy only names the note and its author.
				if author = ref(n["attributedTo"]); author == "" || !sameHost(id, author) {
					continue
				}
			}
			if checkURL(id) != nil || b.knownNote(ctx, id, author) {
				continue
			}
			if err := b.dereferenceNote(ctx, id, author); err != nil {
				b.log.Debug("reply in a replies collection dropped", "note", noteID, "reply", id, "err", err)
			}
		}
	})
	if !started {
		<-b.repliesSem
	}
}

// knownNote reports whether a note is stored, for author if given.
func (b *Bridge) knownNote(ctx context.Context, id, author string) bool {
	var stored string
	if err := b.db.db.QueryRow(ctx, `SELECT actor FROM interactions WHERE id = ?`, id).Scan(&stored); err != nil {
		return false
	}
	return author == "" || stored == author
}

func refsOrObjects(v any) []any {
	switch x := v.(type) {
	case []any:
		return x
	case nil:
		return nil
	}
	return []any{v}
}

// emit stores an activity of ours under its /ap/out/ ID (a fresh one
// unless act has one), so that it can be dereferenced, and queues it for inboxes, signed by actorURL's key.
func (b *Bridge) emit(ctx context.Context, actorURL string, act obj, object string, inboxes []string) error {
	id, _ := act["id"].(string)
	if id == "" {
		id = b.url(pathOut + randomID())
		act["id"] = id
	}
	data, err := jsonMarshal(act)
	if err != nil {
		return err
	}
	if _, err := b.db.db.Exec(ctx, `INSERT INTO outgoing (id, actor, type, object, body, created) VALUES (?, ?, ?, ?, ?, ?)`,
		id, actorURL, firstType(act), object, data, now()); err != nil {
		return err
	}
	if len(inboxes) == 0 {
		return nil
	}
	return b.cfg.Delivery.EnqueueBatch(ctx, keyIDOf(actorURL), data, inboxes)
}
