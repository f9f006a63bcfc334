package fediverse

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node/api"
)

// This file bridges collections. A local collection is a Group actor on
// the fediverse, followable like a community, under a preferredUsername
// the bridge gives it the first time it sees it (a slug of its title,
// made unique against the node's people and communities and the other
// collections, and kept when the collection is renamed). When a resource
// is added to it, the collection boosts it once to its fediverse
// followers, as a community does for the resources posted in it.

// collectionType marks the api.Actor that stands for a collection.
const collectionType = "Collection"

// errCollectionGone says a collection was deleted (its actor answers 410).
var errCollectionGone = &api.Error{Kind: api.KindNotFound, Msg: "collection deleted", Err: errGone}

// localActor finds a bridged actor by username: a local person or
// community, or else a local collection.
func (b *Bridge) localActor(ctx context.Context, username string) (api.Actor, error) {
	a, err := b.svc.Actors.LocalActorByName(ctx, username)
	if err == nil || api.KindOf(err) != api.KindNotFound {
		return a, err
	}
	id, ok := b.collectionByName(ctx, username)
	if !ok {
		// A collection made since the outbox loop last looked has no name
		// yet; unknown names from outside make this scan at most once a
		// second.
		if !b.mayScanCollections() {
			return a, err
		}
		if serr := b.nameCollections(ctx); serr != nil {
			return a, serr
		}
		if id, ok = b.collectionByName(ctx, username); !ok {
			return a, err
		}
	}
	v, cerr := b.svc.Collections.ShowCollection(ctx, id)
	if cerr != nil {
		return a, cerr
	}
	if !v.Local {
		return a, err
	}
	if v.Deleted {
		return a, errCollectionGone
	}
	return api.Actor{
		DID: v.ID, Type: collectionType, Username: username, Name: v.Title, Summary: v.Summary, Local: true, Created: v.Created,
	}, nil
}

func (b *Bridge) collectionByName(ctx context.Context, name string) (string, bool) {
	ids, err := b.db.strings(ctx, `SELECT collection FROM collection_names WHERE name = ?`, name)
	if err != nil || len(ids) == 0 {
		return "", false
	}
	return ids[0], true
}

// nameCollections gives every local collection without a name one.
func (b *Bridge) nameCollections(ctx context.Context) error {
	cs, err := b.svc.Collections.Collections(ctx, "")
	if err != nil {
		return err
	}
	for _, c := range cs {
		if _, err := b.collectionName(ctx, c.ID, c.Title); err != nil {
			return err
		}
	}
	return nil
}

// collectionName returns the username of a local collection, choosing it
// on first use.
func (b *Bridge) collectionName(ctx context.Context, id, title string) (string, error) {
	names, err := b.db.strings(ctx, `SELECT name FROM collection_names WHERE collection = ?`, id)
	if err != nil {
		return "", err
	}
	if len(names) > 0 {
		return names[0], nil
	}
	base := slug(title)
	for i := 1; i < 1000; i++ {
		name := base
		if i > 1 {
			name = base + "-" + strconv.Itoa(i)
		}
		if name == b.instanceUsername() {
			continue
		}
		if _, err := b.svc.Actors.LocalActorByName(ctx, name); err == nil {
			continue
		} else if api.KindOf(err) != api.KindNotFound {
			return "", err
		}
		res, err := b.db.db.Exec(ctx, `INSERT OR IGNORE INTO collection_names (name, collection) VALUES (?, ?)`, name, id)
		if err != nil {
			return "", err
		}
		if k, _ := res.RowsAffected(); k == 1 {
			return name, nil
		}
		// Taken by another collection, or this one was named meanwhile.
		if got, ok := b.collectionByName(ctx, name); ok && got == id {
			return name, nil
		}
	}
	return "", fmt.Errorf("no free username for collection %s", id)
}

// slug makes a username from a title: lower-case ASCII letters and
// digits separated by '-', at most 40 characters; "collection" if nothing
// is left.
func slug(title string) string {
	var sb strings.Builder
	dash := false
	for _, r := range norm.NFKD.String(strings.ToLower(title)) {
		switch {
		case r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if dash && sb.Len() > 0 {
				sb.WriteByte('-')
			}
			dash = false
			sb.WriteRune(r)
		case unicode.Is(unicode.Mn, r): // accents dropped: é → e
		default:
			dash = true
		}
		if sb.Len() >= 40 {
			break
		}
	}
	s := strings.Trim(sb.String(), "-")
	if s == "" {
		return "collection"
	}
	return s
}

// collectionActorURL is the URL of the actor of a live local collection.
func (b *Bridge) collectionActorURL(ctx context.Context, id string) (string, error) {
	v, err := b.svc.Collections.ShowCollection(ctx, id)
	if err != nil {
		return "", err
	}
	if !v.Local {
		return "", &api.Error{Kind: api.KindNotFound, Msg: "not a collection of this node"}
	}
	if v.Deleted {
		return "", errGone
	}
	name, err := b.collectionName(ctx, v.ID, v.Title)
	if err != nil {
		return "", err
	}
	return b.actorURL(name), nil
}

// dispatchCollection handles the local activities that concern
// collections; it reports whether e was one.
func (b *Bridge) dispatchCollection(ctx context.Context, e api.LogEntry) (bool, error) {
	a := e.Activity
	switch {
	case a.Type == activity.TypeCreate && a.Object.Collection != nil:
		_, err := b.collectionName(ctx, e.CID, a.Object.Collection.Title)
		return true, err
	case a.Type == activity.TypeUpdate && a.Object.Collection != nil:
		// Followers see the new name: an Update of the Group.
		collURL, err := b.collectionActorURL(ctx, a.Object.Collection.ID)
		if err != nil {
			return true, ignoreGone(err)
		}
		la, err := b.localActor(ctx, b.localUsername(collURL))
		if err != nil {
			return true, ignoreGone(err)
		}
		return true, b.sendActorUpdate(ctx, la)
	case a.Type == activity.TypeDelete && a.Object.Tombstone != nil:
		names, err := b.db.strings(ctx, `SELECT name FROM collection_names WHERE collection = ?`, a.Object.Tombstone.ID)
		if err != nil {
			return true, err
		}
		if len(names) == 0 {
			// Not a bridged collection: a resource's tombstone, or a
			// collection nobody on the fediverse could follow.
			return a.Object.Tombstone.FormerType == "OrderedCollection", nil
		}
		collURL := b.actorURL(names[0])
		followers, err := b.db.followerInboxes(ctx, collURL)
		if err != nil {
			return true, err
		}
		// As Mastodon deletes an account: Delete{actor} to its followers.
		return true, b.send(ctx, followers, obj{"@context": asContext, "id": b.url(pathActivities + e.CID), "type": "Delete",
			"actor": collURL, "to": []string{activity.PublicAudience}, "object": collURL}, keyIDOf(collURL))
	case a.Type == activity.TypeAdd:
		collURL, err := b.collectionActorURL(ctx, a.Target)
		if err != nil {
			return true, ignoreGone(err)
		}
		rid := a.Object.Ref
		if b.db.count(ctx, `SELECT count(*) FROM collection_boosts WHERE collection = ? AND resource = ?`, a.Target, rid) > 0 {
			return true, nil // boosted once already: a re-add is not news
		}
		if err := b.dispatchBoost(ctx, e, collURL); err != nil {
			return true, err
		}
		_, err = b.db.db.Exec(ctx, `INSERT OR IGNORE INTO collection_boosts (collection, resource, activity, at) VALUES (?, ?, ?, ?)`,
			a.Target, rid, e.CID, now())
		return true, err
	case a.Type == activity.TypeRemove:
		return true, nil
	}
	return false, nil
}

// ignoreGone drops the errors that only say there is nothing to send.
func ignoreGone(err error) error {
	if errors.Is(err, errGone) || api.KindOf(err) == api.KindNotFound {
		return nil
	}
	return err
}

// renderCollectionAdd is the boost of the resource an Add put in a local
// collection, by the collection's actor.
func (b *Bridge) renderCollectionAdd(ctx context.Context, e api.LogEntry, lemmyStyle bool) (obj, error) {
	a := e.Activity
	collURL, err := b.collectionActorURL(ctx, a.Target)
	if err != nil {
		return nil, err
	}
	return b.renderBoost(ctx, b.url(pathActivities+e.CID), collURL, a, a.Object.Ref, lemmyStyle)
}

// sendActorUpdate sends Update{actor} to the actor's followers, under a
// fresh /ap/out/ ID that dereferences.
func (b *Bridge) sendActorUpdate(ctx context.Context, la api.Actor) error {
	actorURL := b.actorURL(la.Username)
	followers, err := b.db.followerInboxes(ctx, actorURL)
	if err != nil || len(followers) == 0 {
		return err
	}
	doc, err := b.renderActor(ctx, la)
	if err != nil {
		return err
	}
	delete(doc, "@context")
	return b.emit(ctx, actorURL, obj{"@context": actorContext, "type": "Update", "actor": actorURL,
		"to": []string{activity.PublicAudience}, "cc": []string{actorURL + "/followers"}, "object": doc}, "", collapse(followers))
}

// collectionOutbox lists a collection's boosts of its items, newest first.
func (b *Bridge) collectionOutbox(ctx context.Context, a api.Actor) ([]any, int, error) {
	v, err := b.svc.Collections.ShowCollection(ctx, a.DID)
	if err != nil {
		return nil, 0, err
	}
	me := b.actorURL(a.Username)
	var items []any
	for i := len(v.Entries) - 1; i >= 0 && len(items) < collectionSize; i-- {
		it := v.Entries[i]
		if it.Deleted {
			continue
		}
		if _, _, err := b.localResourceView(ctx, it.ResourceID); err != nil {
			continue
		}
		items = append(items, obj{"id": b.url(pathActivities + it.AddedBy), "type": "Announce", "actor": me, "object": b.noteURL(it.ResourceID),
			"to": []string{activity.PublicAudience}, "cc": []string{me + "/followers"}})
	}
	return items, len(v.Entries), nil
}

// goneActor answers 410 for a deleted collection's actor. The Tombstone
// keeps the public key, so that the Delete sent to its followers can still
// be verified by a server that had not cached the key.
func (b *Bridge) goneActor(w http.ResponseWriter, r *http.Request, id string) {
	if !wantsJSON(r) {
		http.Error(w, "deleted", http.StatusGone)
		return
	}
	doc := obj{"@context": actorContext, "id": id, "type": "Tombstone", "formerType": "Group"}
	if pub, err := b.publicKeyPEM(r.Context(), id); err == nil {
		doc["publicKey"] = obj{"id": keyIDOf(id), "owner": id, "publicKeyPem": pub}
	}
	writeAP(w, http.StatusGone, doc)
}

// boostedBy lists the actor URLs of the collections that boosted the
// resource an Update or Delete is about.
func (b *Bridge) boostedBy(ctx context.Context, a *activity.Activity) []string {
	var rid string
	switch {
	case a.Object.Resource != nil:
		rid = a.Object.Resource.ID
	case a.Object.Tombstone != nil:
		rid = a.Object.Tombstone.ID
	}
	if rid == "" {
		return nil
	}
	names, err := b.db.strings(ctx, `SELECT n.name FROM collection_boosts c JOIN collection_names n ON n.collection = c.collection
		WHERE c.resource = ? ORDER BY n.name`, rid)
	if err != nil {
		b.log.Warn("collections that boosted a resource", "resource", rid, "err", err)
		return nil
	}
	out := make([]string, 0, len(names))
	for _, n := range names {
		out = append(out, b.actorURL(n))
	}
	return out
}

// mayScanCollections rations the scans for unnamed collections.
func (b *Bridge) mayScanCollections() bool {
	b.scanMu.Lock()
	defer b.scanMu.Unlock()
	if time.Since(b.scannedAt) < time.Second {
		return false
	}
	b.scannedAt = time.Now()
	return true
}

// collectionPageItems is the ordered list of a collection's resources on
// its web page ("" for other actors).
func (b *Bridge) collectionPageItems(ctx context.Context, a api.Actor) string {
	if a.Type != collectionType {
		return ""
	}
	v, err := b.svc.Collections.ShowCollection(ctx, a.DID)
	if err != nil || len(v.Entries) == 0 {
		return ""
	}
	var sb strings.Builder
	sb.WriteString("<ol>")
	for _, it := range v.Entries {
		if it.Deleted {
			continue
		}
		title := html.EscapeString(firstNonEmpty(it.Title, it.ResourceID))
		if _, _, err := b.localResourceView(ctx, it.ResourceID); err == nil {
			fmt.Fprintf(&sb, `<li><a href="%s">%s</a></li>`, html.EscapeString(b.noteURL(it.ResourceID)), title)
		} else {
			fmt.Fprintf(&sb, `<li>%s</li>`, title)
		}
	}
	sb.WriteString("</ol>")
	return sb.String()
}
