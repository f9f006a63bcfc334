package fediverse

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node/api"
)

// errGone says that what an activity is about has been deleted since.
var errGone = errors.New("deleted")

const cursorKey = "outbox_cursor"

// retryAfter is how long the outbox waits before it follows the log again
// after a failure (of its store, or of the delivery queue); it doubles up
// to maxRetryAfter while the failures go on.
const (
	retryAfter    = time.Second
	maxRetryAfter = time.Minute
)

// outboxLoop follows the node's log from the bridge's checkpoint, pushed
// each new batch as it is stored, and hands each new local activity to the
// delivery queue. The checkpoint moves only after the deliveries are
// durable, so a crash delivers an activity twice at worst (receivers
// de-duplicate by ID), never not at all. A failure stops the tail; it
// starts again from the checkpoint after a pause.
func (b *Bridge) outboxLoop(ctx context.Context) {
	wait := retryAfter
	for {
		started := time.Now()
		err := b.followLog(ctx)
		if ctx.Err() != nil {
			return
		}
		if time.Since(started) > maxRetryAfter {
			wait = retryAfter // it had been following: a new failure
		}
		b.log.Warn("outbox: following the log stopped; trying again", "in", wait, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, maxRetryAfter)
	}
}

// followLog tails the log from the checkpoint until ctx ends or an entry
// cannot be handed over.
func (b *Bridge) followLog(ctx context.Context) error {
	cursor, err := b.checkpoint(ctx)
	if err != nil {
		return err
	}
	return b.svc.Log.TailEntries(ctx, cursor, func(es []api.LogEntry) error {
		return b.dispatchBatch(ctx, es)
	})
}

// checkpoint is the cursor of the last entry the outbox handled. On the
// bridge's first start it is the log's newest entry: the node's history
// was never announced to the fediverse, and should not be now.
func (b *Bridge) checkpoint(ctx context.Context) (int64, error) {
	cursor, ok, err := b.db.getState(ctx, cursorKey)
	if err != nil || ok {
		return cursor, err
	}
	if cursor, err = b.svc.Log.LastCursor(ctx); err != nil {
		return 0, err
	}
	if err := b.db.setState(ctx, cursorKey, cursor); err != nil {
		return 0, err
	}
	// The collections made before get their usernames now.
	return cursor, b.nameCollections(ctx)
}

// dispatchBatch hands each local activity of es to the delivery queue,
// moving the checkpoint after each; the entries of other actors only move
// it, once for the batch.
func (b *Bridge) dispatchBatch(ctx context.Context, es []api.LogEntry) error {
	moved := false
	for _, e := range es {
		if !e.Local {
			moved = true
			continue
		}
		if err := b.dispatch(ctx, e); err != nil {
			return fmt.Errorf("deliver %s: %w", e.CID, err)
		}
		if err := b.db.setState(ctx, cursorKey, e.Cursor); err != nil {
			return err
		}
		moved = false
	}
	if moved {
		return b.db.setState(ctx, cursorKey, es[len(es)-1].Cursor)
	}
	return nil
}

// pruneLoop forgets the inbox activity IDs older than the signatures'
// time window, hourly.
func (b *Bridge) pruneLoop(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if err := b.db.pruneSeen(ctx, time.Now().Add(-seenWindow)); err != nil && ctx.Err() == nil {
			b.log.Warn("prune inbox IDs", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// lemmyLike names the servers that want a community's posts as FEP-1b12
// Announce{Create{…}} rather than Announce{object URL}.
func lemmyLike(software string) bool {
	switch strings.ToLower(software) {
	case "lemmy", "mbin", "kbin", "piefed", "lotide":
		return true
	}
	return false
}

// dispatch renders one local activity and queues it for its audience.
func (b *Bridge) dispatch(ctx context.Context, e api.LogEntry) error {
	a := e.Activity
	if ok, err := b.dispatchCollection(ctx, e); ok || err != nil {
		return err
	}
	actor, err := b.svc.Actors.Actor(ctx, a.Actor)
	if err != nil {
		return err
	}
	actorURL := b.actorURL(actor.Username)
	keyID := keyIDOf(actorURL)
	if a.Type == activity.TypeAnnounce {
		return b.dispatchBoost(ctx, e, actorURL)
	}
	body, err := b.renderEntry(ctx, e, false)
	if errors.Is(err, errGone) || body == nil {
		return nil
	}
	if err != nil {
		b.log.Warn("render for the fediverse", "cid", e.CID, "err", err)
		return nil
	}
	audience := []string{actorURL}
	// The community's followers saw the post through its boost: they get
	// its edits and deletion too.
	if a.Type == activity.TypeUpdate || a.Type == activity.TypeDelete {
		if g := communityTo(a); g != "" {
			if ga, err := b.svc.Actors.Actor(ctx, g); err == nil && ga.Local {
				audience = append(audience, b.actorURL(ga.Username))
			}
		}
		// So did the followers of the collections that boosted it.
		audience = append(audience, b.boostedBy(ctx, a)...)
	}
	var followers []RemoteActor
	for _, who := range audience {
		fs, err := b.db.followerInboxes(ctx, who)
		if err != nil {
			return err
		}
		followers = append(followers, fs...)
	}
	return b.send(ctx, followers, body, keyID)
}

// dispatchBoost turns a community's Announce of a new resource into the
// fediverse boost: Announce{Note URL} for Mastodon and GoToSocial,
// Announce{Create{Note}} with audience (FEP-1b12) for Lemmy-like servers.
// Announces of updates are not boosted again: a community boosts each
// resource once.
func (b *Bridge) dispatchBoost(ctx context.Context, e api.LogEntry, groupURL string) error {
	followers, err := b.db.followerInboxes(ctx, groupURL)
	if err != nil || len(followers) == 0 {
		return err
	}
	var plain, lemmy []RemoteActor
	for _, f := range followers {
		if lemmyLike(f.Software) {
			lemmy = append(lemmy, f)
		} else {
			plain = append(plain, f)
		}
	}
	for _, g := range []struct {
		to    []RemoteActor
		style bool
	}{{plain, false}, {lemmy, true}} {
		if len(g.to) == 0 {
			continue
		}
		body, err := b.renderEntry(ctx, e, g.style)
		if errors.Is(err, errGone) || body == nil {
			return nil
		}
		if err != nil {
			b.log.Warn("render boost", "cid", e.CID, "err", err)
			return nil
		}
		if err := b.send(ctx, g.to, body, keyIDOf(groupURL)); err != nil {
			return err
		}
	}
	return nil
}

// send queues body for each follower's shared inbox, or its own inbox
// where its server has none: one POST per shared inbox.
func (b *Bridge) send(ctx context.Context, to []RemoteActor, body obj, keyID string) error {
	inboxes := collapse(to)
	if len(inboxes) == 0 {
		return nil
	}
	data, err := json.Marshal(body)
	if err != nil {
		return err
	}
	return b.cfg.Delivery.EnqueueBatch(ctx, keyID, data, inboxes)
}

// collapse maps followers to the inboxes to POST to: shared inboxes once
// each, personal inboxes for servers without one.
func collapse(to []RemoteActor) []string {
	seen := map[string]bool{}
	var out []string
	for _, f := range to {
		in := firstNonEmpty(f.SharedInbox, f.Inbox)
		if in == "" || seen[in] {
			continue
		}
		seen[in] = true
		out = append(out, in)
	}
	return out
}

func communityTo(a *activity.Activity) string {
	for _, to := range a.To {
		if strings.HasPrefix(to, "did:key:") {
			return to
		}
	}
	return ""
}

// renderEntry is the ActivityPub form of a local activity, or nil when it
// has none (follows, likes and the like stay on the Lyceum network).
func (b *Bridge) renderEntry(ctx context.Context, e api.LogEntry, lemmyStyle bool) (obj, error) {
	a := e.Activity
	actor, err := b.svc.Actors.Actor(ctx, a.Actor)
	if err != nil {
		return nil, err
	}
	actorURL := b.actorURL(actor.Username)
	id := b.url(pathActivities + e.CID)
	switch {
	case (a.Type == activity.TypeCreate || a.Type == activity.TypeUpdate) && a.Object.Resource != nil:
		rid := a.Object.Resource.ID
		if a.Type == activity.TypeCreate {
			rid = e.CID
		}
		v, _, err := b.localResourceView(ctx, rid)
		if err != nil {
			return nil, err
		}
		if v.Deleted {
			return nil, errGone
		}
		note, err := b.renderNote(ctx, v)
		if err != nil {
			return nil, err
		}
		delete(note, "@context")
		out := obj{"@context": noteContext, "id": id, "type": string(a.Type), "actor": actorURL,
			"published": note["published"], "to": note["to"], "cc": note["cc"], "object": note}
		if a.Type == activity.TypeUpdate {
			out["published"] = stamp(a.Published)
		}
		if aud, ok := note["audience"]; ok {
			out["audience"] = aud
		}
		return out, nil
	case a.Type == activity.TypeUpdate && a.Object.Actor != nil:
		la, err := b.svc.Actors.LocalActorByName(ctx, actor.Username)
		if err != nil {
			return nil, err
		}
		doc, err := b.renderActor(ctx, la)
		if err != nil {
			return nil, err
		}
		delete(doc, "@context")
		return obj{"@context": actorContext, "id": id, "type": "Update", "actor": actorURL,
			"to": []string{activity.PublicAudience}, "cc": []string{actorURL + "/followers"}, "object": doc}, nil
	case a.Type == activity.TypeDelete && a.Object.Tombstone != nil:
		noteID := b.noteURL(a.Object.Tombstone.ID)
		return obj{"@context": asContext, "id": id, "type": "Delete", "actor": actorURL,
			"to": []string{activity.PublicAudience}, "cc": []string{actorURL + "/followers"},
			"object": obj{"id": noteID, "type": "Tombstone"}}, nil
	case a.Type == activity.TypeAnnounce && a.Object.Ref != "":
		return b.renderBoost(ctx, id, actorURL, a, a.Object.Ref, lemmyStyle)
	case a.Type == activity.TypeAdd && a.Object.Ref != "":
		return b.renderCollectionAdd(ctx, e, lemmyStyle)
	}
	return nil, nil
}

// renderBoost is a group's boost (a community's Announce, a collection's
// Add) of the resource created by the activity named createCID:
// Announce{Note URL}, or for Lemmy-like servers Announce{Create{Note}}
// with audience (FEP-1b12).
func (b *Bridge) renderBoost(ctx context.Context, id, actorURL string, a *activity.Activity, createCID string, lemmyStyle bool) (obj, error) {
	target, err := b.svc.Log.Activity(ctx, createCID)
	if err != nil {
		return nil, err
	}
	if target.Type != activity.TypeCreate || target.Object.Resource == nil {
		return nil, nil // updates are not boosted again
	}
	if !lemmyStyle {
		v, _, err := b.localResourceView(ctx, createCID)
		if err != nil {
			return nil, err
		}
		if v.Deleted {
			return nil, errGone
		}
		return obj{"@context": asContext, "id": id, "type": "Announce", "actor": actorURL,
			"published": stamp(a.Published), "to": []string{activity.PublicAudience},
			"cc": []string{actorURL + "/followers"}, "object": b.noteURL(createCID)}, nil
	}
	create, err := b.renderEntry(ctx, api.LogEntry{CID: createCID, Activity: target}, false)
	if err != nil || create == nil {
		return nil, err
	}
	delete(create, "@context")
	create["audience"] = actorURL
	// Lemmy shows a community post by its title.
	if note, ok := create["object"].(obj); ok && target.Object.Resource != nil {
		if v, err := b.svc.Resources.ShowResource(ctx, createCID); err == nil {
			note["name"] = v.Latest.Title
		}
	}
	return obj{"@context": noteContext, "id": id + "/1b12", "type": "Announce", "actor": actorURL,
		"published": stamp(a.Published), "to": []string{activity.PublicAudience},
		"cc": []string{actorURL + "/followers"}, "audience": actorURL, "object": create}, nil
}
