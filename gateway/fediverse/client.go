package fediverse

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node/api"
)

// What a local actor does towards the fediverse: follow a remote actor,
// and reply to, like or boost a remote post. These activities are the
// bridge's own (signed with the actor's RSA key, kept in fediverse.db);
// they do not enter the actor's signed Lyceum log, which speaks of
// did:key actors and CIDs only.

// localActorURL checks that username is a local actor and returns its URL.
func (b *Bridge) localActorURL(ctx context.Context, username string) (string, error) {
	if _, err := b.svc.Actors.LocalActorByName(ctx, username); err != nil {
		return "", err
	}
	return b.actorURL(username), nil
}

// Follow makes a local actor follow a fediverse actor, found by handle
// (name@host, through WebFinger) or URL. The follow is pending until the
// remote server accepts it.
func (b *Bridge) Follow(ctx context.Context, username, handle string) (RemoteActor, error) {
	me, err := b.localActorURL(ctx, username)
	if err != nil {
		return RemoteActor{}, err
	}
	remote, err := b.Resolve(ctx, handle)
	if err != nil {
		return RemoteActor{}, &api.Error{Kind: api.KindUnavailable, Msg: "find " + handle, Err: err}
	}
	// The follow is recorded before it is sent, so that the Accept always
	// finds it.
	follow := obj{"@context": asContext, "id": b.url(pathOut + randomID()), "type": "Follow", "actor": me, "object": remote.ID}
	if _, err := b.db.db.Exec(ctx, `INSERT INTO following (local, remote, follow_id, state, since) VALUES (?, ?, ?, 'pending', ?)
		ON CONFLICT (local, remote) DO UPDATE SET follow_id = excluded.follow_id, state = 'pending'`, me, remote.ID, follow["id"], now()); err != nil {
		return RemoteActor{}, err
	}
	return remote, b.emit(ctx, me, follow, remote.ID, []string{remote.Inbox})
}

// Unfollow takes a Follow back with an Undo.
func (b *Bridge) Unfollow(ctx context.Context, username, remoteID string) error {
	me, err := b.localActorURL(ctx, username)
	if err != nil {
		return err
	}
	var followID string
	err = b.db.db.QueryRow(ctx, `SELECT follow_id FROM following WHERE local = ? AND remote = ?`, me, remoteID).Scan(&followID)
	if errors.Is(err, sql.ErrNoRows) {
		return &api.Error{Kind: api.KindNotFound, Msg: fmt.Sprintf("%s does not follow %s", username, remoteID)}
	}
	if err != nil {
		return err
	}
	remote, err := b.remoteActor(ctx, remoteID)
	if err != nil {
		return err
	}
	undo := obj{"@context": asContext, "type": "Undo", "actor": me,
		"object": obj{"id": followID, "type": "Follow", "actor": me, "object": remoteID}}
	if err := b.emit(ctx, me, undo, remoteID, []string{remote.Inbox}); err != nil {
		return err
	}
	_, err = b.db.db.Exec(ctx, `DELETE FROM following WHERE local = ? AND remote = ?`, me, remoteID)
	return err
}

// authorOf fetches a remote post and its author.
func (b *Bridge) authorOf(ctx context.Context, objectURL string) (RemoteActor, error) {
	doc, err := b.getJSON(ctx, objectURL)
	if err != nil {
		return RemoteActor{}, &api.Error{Kind: api.KindUnavailable, Msg: "fetch " + objectURL, Err: err}
	}
	author := ref(doc["attributedTo"])
	if author == "" || !sameHost(author, objectURL) {
		return RemoteActor{}, &api.Error{Kind: api.KindInvalid, Msg: objectURL + " has no author on its host"}
	}
	return b.remoteActor(ctx, author)
}

// Reply posts a public Note from a local actor in reply to a remote post;
// it goes to the post's author and the actor's fediverse followers.
func (b *Bridge) Reply(ctx context.Context, username, inReplyTo, text string) (string, error) {
	me, err := b.localActorURL(ctx, username)
	if err != nil {
		return "", err
	}
	if text == "" || len(text) > 5000 {
		return "", &api.Error{Kind: api.KindInvalid, Msg: "a reply needs 1–5000 characters"}
	}
	author, err := b.authorOf(ctx, inReplyTo)
	if err != nil {
		return "", err
	}
	noteID := b.url(pathOut + randomID())
	note := obj{"id": noteID, "type": "Note", "attributedTo": me, "inReplyTo": inReplyTo,
		"to": []string{activity.PublicAudience}, "cc": []string{author.ID, me + "/followers"},
		"content": paragraphs(text), "published": stamp(time.Now()),
		"tag": []obj{{"type": "Mention", "href": author.ID, "name": "@" + author.Username}}}
	data, _ := jsonMarshal(obj{"@context": asContext, "id": noteID, "type": "Note", "attributedTo": me, "inReplyTo": inReplyTo,
		"to": note["to"], "cc": note["cc"], "content": note["content"], "published": note["published"]})
	if _, err := b.db.db.Exec(ctx, `INSERT INTO outgoing (id, actor, type, object, body, created) VALUES (?, ?, 'Note', ?, ?, ?)`,
		noteID, me, inReplyTo, data, now()); err != nil {
		return "", err
	}
	create := obj{"@context": asContext, "type": "Create", "actor": me, "to": note["to"], "cc": note["cc"], "object": note}
	return noteID, b.emit(ctx, me, create, noteID, b.inboxesWith(ctx, me, author))
}

// inboxesWith is the inboxes of an actor's fediverse followers and one more.
func (b *Bridge) inboxesWith(ctx context.Context, me string, extra RemoteActor) []string {
	fs, _ := b.db.followerInboxes(ctx, me)
	return collapse(append([]RemoteActor{extra}, fs...))
}

// Like likes a remote post as a local actor.
func (b *Bridge) Like(ctx context.Context, username, objectURL string) error {
	me, err := b.localActorURL(ctx, username)
	if err != nil {
		return err
	}
	author, err := b.authorOf(ctx, objectURL)
	if err != nil {
		return err
	}
	like := obj{"@context": asContext, "type": "Like", "actor": me, "object": objectURL}
	return b.emit(ctx, me, like, objectURL, []string{firstNonEmpty(author.SharedInbox, author.Inbox)})
}

// Boost announces a remote post to a local actor's fediverse followers and
// its author.
func (b *Bridge) Boost(ctx context.Context, username, objectURL string) error {
	me, err := b.localActorURL(ctx, username)
	if err != nil {
		return err
	}
	author, err := b.authorOf(ctx, objectURL)
	if err != nil {
		return err
	}
	ann := obj{"@context": asContext, "type": "Announce", "actor": me, "object": objectURL, "published": stamp(time.Now()),
		"to": []string{activity.PublicAudience}, "cc": []string{author.ID, me + "/followers"}}
	return b.emit(ctx, me, ann, objectURL, b.inboxesWith(ctx, me, author))
}

// Following lists the fediverse actors a local actor follows, with the
// state of each follow (pending or accepted).
func (b *Bridge) Following(ctx context.Context, username string) (map[string]string, error) {
	me, err := b.localActorURL(ctx, username)
	if err != nil {
		return nil, err
	}
	rows, err := b.db.db.Query(ctx, `SELECT remote, state FROM following WHERE local = ?`, me)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var r, s string
		if err := rows.Scan(&r, &s); err != nil {
			return nil, err
		}
		out[r] = s
	}
	return out, rows.Err()
}
