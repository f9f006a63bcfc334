package fediverse

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node"
)

// errGone says that what an activity is about has been deleted since.
var errGone = errors.New("deleted")

const cursorKey = "outbox_cursor"

// outboxLoop follows the node's log from the bridge's checkpoint and hands
// each new local activity to the delivery queue. The checkpoint moves only
// after the deliveries are durable, so a crash delivers an activity twice
// at worst (receivers de-duplicate by ID), never not at all.
func (b *Bridge) outboxLoop(ctx context.Context) {
	t := time.NewTicker(b.cfg.PollInterval)
	defer t.Stop()
	var pruned time.Time
	for {
		if err := b.catchUp(ctx); err != nil && ctx.Err() == nil {
			b.log.Warn("outbox", "err", err)
		}
		if time.Since(pruned) > time.Hour {
			pruned = time.Now()
			if err := b.db.pruneSeen(ctx, time.Now().Add(-seenWindow)); err != nil && ctx.Err() == nil {
				b.log.Warn("prune inbox IDs", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-b.kick:
		}
	}
}

// catchUp handles every local activity after the checkpoint.
func (b *Bridge) catchUp(ctx context.Context) error {
	cursor, ok, err := b.db.getState(ctx, cursorKey)
	if err != nil {
		return err
	}
	if !ok {
		// First start: the node's history was never announced to the
		// fediverse, and should not be now.
		if cursor, err = b.node.LastCursor(ctx); err != nil {
			return err
		}
		if err := b.db.setState(ctx, cursorKey, cursor); err != nil {
			return err
		}
		// The collections made before get their usernames now.
		if err := b.nameCollections(ctx); err != nil {
			return err
		}
	}
	for {
		es, err := b.node.LocalEntries(ctx, cursor, "", 100)
		if err != nil {
			return err
		}
		for _, e := range es {
			if err := b.dispatch(ctx, e); err != nil {
				return fmt.Errorf("deliver %s: %w", e.CID, err)
			}
			cursor = e.Cursor
			if err := b.db.setState(ctx, cursorKey, cursor); err != nil {
				return err
			}
		}
		if len(es) < 100 {
			return nil
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
func (b *Bridge) dispatch(ctx context.Context, e node.LocalEntry) error {
	a := e.Activity
	if ok, err := b.dispatchCollection(ctx, e); ok || err != nil {
		return err
	}
	actor, err := b.node.Actor(ctx, a.Actor)
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
			if ga, err := b.node.Actor(ctx, g); err == nil && ga.Local {
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
func (b *Bridge) dispatchBoost(ctx context.Context, e node.LocalEntry, groupURL string) error {
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
func (b *Bridge) renderEntry(ctx context.Context, e node.LocalEntry, lemmyStyle bool) (obj, error) {
	a := e.Activity
	actor, err := b.node.Actor(ctx, a.Actor)
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
		la, err := b.node.LocalActorByName(ctx, actor.Username)
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
	target, err := b.node.Entry(ctx, createCID)
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
	create, err := b.renderEntry(ctx, node.LocalEntry{CID: createCID, Activity: target}, false)
	if err != nil || create == nil {
		return nil, err
	}
	delete(create, "@context")
	create["audience"] = actorURL
	// Lemmy shows a community post by its title.
	if note, ok := create["object"].(obj); ok && target.Object.Resource != nil {
		if v, err := b.node.ShowResource(ctx, createCID); err == nil && v.Latest != nil {
			note["name"] = v.Latest.Title
		}
	}
	return obj{"@context": noteContext, "id": id + "/1b12", "type": "Announce", "actor": actorURL,
		"published": stamp(a.Published), "to": []string{activity.PublicAudience},
		"cc": []string{actorURL + "/followers"}, "audience": actorURL, "object": create}, nil
}
