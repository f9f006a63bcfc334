package node

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"mime"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/lyceum-oer/lyceum/activity"
)

// PublishRequest describes a resource to publish or, in UpdateResource, the
// fields to change (empty fields keep their value).
type PublishRequest struct {
	As          string   `json:"as,omitempty"`   // local actor: name, handle or DID; "" = the only person
	Path        string   `json:"path,omitempty"` // a file on the node's disk (the CLI uploads it first)
	FileCID     string   `json:"file_cid,omitempty"`
	Filename    string   `json:"filename,omitempty"`
	URL         string   `json:"url,omitempty"` // a link resource instead of a file
	Title       string   `json:"title,omitempty"`
	Summary     string   `json:"summary,omitempty"`
	License     string   `json:"license,omitempty"`
	Language    string   `json:"language,omitempty"`
	Subjects    []string `json:"subjects,omitempty"`
	Keywords    []string `json:"keywords,omitempty"`
	Level       string   `json:"level,omitempty"`
	Type        string   `json:"type,omitempty"`
	Community   string   `json:"community,omitempty"` // name, handle or DID
	DerivedFrom []string `json:"derived_from,omitempty"`
}

// Published is the answer to a publish, update or delete.
type Published struct {
	ID          string `json:"id"`           // the resource's stable ID
	Version     uint64 `json:"version"`      // 0 for a delete
	ActivityCID string `json:"activity_cid"` // the activity in the actor's log
	FileCID     string `json:"file_cid,omitempty"`
}

// Publish imports the file (or takes the link), signs a Create of the
// resource as the actor, appends it to the actor's log, stores it and
// announces it on gossip.
func (n *Node) Publish(ctx context.Context, req PublishRequest) (Published, error) {
	did, err := n.defaultActor(ctx, req.As)
	if err != nil {
		return Published{}, err
	}
	media, err := n.media(ctx, req)
	if err != nil {
		return Published{}, err
	}
	actor, err := n.Actor(ctx, did)
	if err != nil {
		return Published{}, err
	}
	r := &activity.Resource{
		Type: activity.Document, Version: 1, Media: media,
		Title: req.Title, Description: req.Summary, License: req.License, Language: req.Language,
		Subjects: req.Subjects, Keywords: req.Keywords, Level: req.Level, LearningResourceType: req.Type,
		DerivedFrom: req.DerivedFrom, Published: time.Now().UTC(),
		Creators: []activity.Creator{{Name: firstNonEmpty(actor.Name, actor.Username), Actor: did, Role: "author"}},
		Origin:   &activity.Origin{Node: actor.Node, Handle: actor.Handle},
	}
	if media.Kind == activity.KindLink {
		r.Type = activity.Link
	}
	a := &activity.Activity{Type: activity.TypeCreate, Object: activity.Object{Resource: r}}
	if req.Community != "" {
		g, err := n.community(ctx, req.Community)
		if err != nil {
			return Published{}, err
		}
		if member, err := n.joined(ctx, did, g); err != nil {
			return Published{}, err
		} else if !member {
			return Published{}, invalidf("join %s before posting in it (lyceum follow %s)", req.Community, req.Community)
		}
		a.To = []string{activity.PublicAudience, g}
	}
	c, err := n.appendActivity(ctx, did, a)
	if err != nil {
		return Published{}, err
	}
	if g := communityOf(a); g != "" {
		n.announceInCommunity(ctx, g, c)
	}
	return Published{ID: c.String(), Version: 1, ActivityCID: c.String(), FileCID: media.CID}, nil
}

func (n *Node) media(ctx context.Context, req PublishRequest) (activity.Media, error) {
	switch {
	case req.URL != "" && (req.Path != "" || req.FileCID != ""):
		return activity.Media{}, invalidf("give a file or a URL, not both")
	case req.URL != "":
		u, err := url.Parse(req.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return activity.Media{}, invalidf("%q is not an http(s) URL", req.URL)
		}
		return activity.Media{Kind: activity.KindLink, URL: req.URL}, nil
	case req.Path != "":
		st, err := os.Stat(req.Path)
		if err != nil {
			return activity.Media{}, &Error{Kind: KindNotFound, Msg: "cannot read " + req.Path, Err: err}
		}
		c, err := n.AddPath(ctx, req.Path, AddOptions{CIDVersion: 1}, nil)
		if err != nil {
			return activity.Media{}, err
		}
		return fileMedia(c.String(), filepath.Base(req.Path), st.Size()), nil
	case req.FileCID != "":
		c, err := ParseCID(req.FileCID)
		if err != nil {
			return activity.Media{}, err
		}
		// A published file is kept: pinned (fetched first if need be), as
		// a file published from a path is by its add.
		if err := n.Pin(ctx, c); err != nil {
			return activity.Media{}, err
		}
		size, err := n.Size(ctx, c)
		if err != nil {
			return activity.Media{}, err
		}
		return fileMedia(c.String(), firstNonEmpty(req.Filename, c.String()), size), nil
	}
	return activity.Media{}, invalidf("a resource needs content: a file or a URL")
}

func fileMedia(c, name string, size int64) activity.Media {
	mt := mime.TypeByExtension(strings.ToLower(filepath.Ext(name)))
	if mt == "" {
		mt = "application/octet-stream"
	}
	mt, _, _ = strings.Cut(mt, ";")
	return activity.Media{Kind: activity.KindFile, CID: c, Filename: name, MediaType: mt, Size: size}
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// community resolves a community reference to its DID; it must be a Group.
func (n *Node) community(ctx context.Context, ref string) (string, error) {
	a, err := n.Actor(ctx, ref)
	if err != nil {
		return "", err
	}
	if a.Type != string(activity.Group) {
		return "", invalidf("%s is a %s, not a community", ref, a.Type)
	}
	return a.DID, nil
}

// joined reports whether a local actor may post in a community: it follows
// (has joined) the community, or the community is hosted here.
func (n *Node) joined(ctx context.Context, did, group string) (bool, error) {
	if n.hostsCommunity(ctx, group) {
		return true, nil
	}
	var k int
	if err := n.db.queryRow(ctx, `SELECT count(*) FROM follows WHERE follower = ? AND followee = ?`, did, group).Scan(&k); err != nil {
		return false, fmt.Errorf("membership of %s: %w", group, err)
	}
	return k > 0, nil
}

// latestVersion reads the newest version of a resource.
func (n *Node) latestVersion(ctx context.Context, id string) (*activity.Activity, string, error) {
	var c string
	err := n.db.db.QueryRowContext(ctx, `SELECT activity_cid FROM versions WHERE resource_id = ? ORDER BY version DESC LIMIT 1`, id).Scan(&c)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", &Error{Kind: KindNotFound, Msg: fmt.Sprintf("no resource %s known here", id)}
	}
	if err != nil {
		return nil, "", err
	}
	// The activity's bytes are its log entry's (versions.body holds them
	// only in repos made before log entries moved into lyceum.db, where
	// the block store still has them too).
	ac, err := cid.Decode(c)
	if err != nil {
		return nil, "", fmt.Errorf("resource %s: version %q: %w", id, c, err)
	}
	e, err := n.loadEntry(ctx, ac)
	if err != nil {
		return nil, "", fmt.Errorf("resource %s: %w", id, err)
	}
	return e.act, c, nil
}

// UpdateResource publishes a new version of a resource, linked to the
// previous one; fields left empty in req keep their value.
func (n *Node) UpdateResource(ctx context.Context, id string, req PublishRequest) (Published, error) {
	prev, prevCID, err := n.latestVersion(ctx, id)
	if err != nil {
		return Published{}, err
	}
	if _, err := n.localKey(ctx, prev.Actor); err != nil {
		return Published{}, &Error{Kind: KindInvalid, Msg: "only the author's node can update a resource"}
	}
	r := *prev.Object.Resource
	r.ID, r.Version, r.PreviousVersion = id, r.Version+1, prevCID
	r.Published, r.Updated = time.Now().UTC(), time.Now().UTC()
	if req.Path != "" || req.URL != "" || req.FileCID != "" {
		m, err := n.media(ctx, req)
		if err != nil {
			return Published{}, err
		}
		r.Media = m
	}
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&r.Title, req.Title)
	set(&r.Description, req.Summary)
	set(&r.License, req.License)
	set(&r.Language, req.Language)
	set(&r.Level, req.Level)
	set(&r.LearningResourceType, req.Type)
	if len(req.Subjects) > 0 {
		r.Subjects = req.Subjects
	}
	if len(req.Keywords) > 0 {
		r.Keywords = req.Keywords
	}
	if len(req.DerivedFrom) > 0 {
		r.DerivedFrom = req.DerivedFrom
	}
	a := &activity.Activity{Type: activity.TypeUpdate, Object: activity.Object{Resource: &r}, To: prev.To}
	c, err := n.appendActivity(ctx, prev.Actor, a)
	if err != nil {
		return Published{}, err
	}
	if g := communityOf(a); g != "" {
		n.announceInCommunity(ctx, g, c)
	}
	return Published{ID: id, Version: r.Version, ActivityCID: c.String(), FileCID: r.Media.CID}, nil
}

// DeleteResource publishes a tombstone: followers drop the resource from
// their views; pinned copies of its files stay where they are.
func (n *Node) DeleteResource(ctx context.Context, id string) (Published, error) {
	prev, _, err := n.latestVersion(ctx, id)
	if err != nil {
		return Published{}, err
	}
	if _, err := n.localKey(ctx, prev.Actor); err != nil {
		return Published{}, &Error{Kind: KindInvalid, Msg: "only the author's node can delete a resource"}
	}
	a := &activity.Activity{Type: activity.TypeDelete, To: prev.To, Object: activity.Object{Tombstone: &activity.Tombstone{
		ID: id, FormerType: string(prev.Object.Resource.Type), Deleted: time.Now().UTC(),
	}}}
	c, err := n.appendActivity(ctx, prev.Actor, a)
	if err != nil {
		return Published{}, err
	}
	return Published{ID: id, ActivityCID: c.String()}, nil
}

// Follow makes a local actor follow another actor or a community: it
// finds the actor (resolving handles over the network), fetches its whole
// log, signs a Follow, and subscribes to its topics.
func (n *Node) Follow(ctx context.Context, as, ref string) (ActorInfo, error) {
	did, err := n.defaultActor(ctx, as)
	if err != nil {
		return ActorInfo{}, err
	}
	target, err := n.lookupDID(ctx, ref)
	if err != nil || !n.hasLog(ctx, target) {
		ans, from, rerr := n.resolveRemote(ctx, ref)
		if rerr != nil {
			return ActorInfo{}, rerr
		}
		if err := n.syncActor(ctx, ans, from); err != nil {
			return ActorInfo{}, wrapKind(KindUnavailable, "fetch the log of "+ref, err)
		}
		target = ans.DID
	}
	if target == did {
		return ActorInfo{}, invalidf("an actor cannot follow itself")
	}
	if _, err := n.appendActivity(ctx, did, &activity.Activity{Type: activity.TypeFollow, To: n.audienceOf(ctx, target), Object: activity.Object{Ref: target}}); err != nil {
		return ActorInfo{}, err
	}
	n.subscribe(target)
	return n.Actor(ctx, target)
}

// audienceOf addresses a Follow of target, and its Undo: to the public,
// and to a community itself, so that joining and leaving travel on the
// community's topic and its node knows who its members are.
func (n *Node) audienceOf(ctx context.Context, target string) []string {
	if a, err := n.Actor(ctx, target); err == nil && a.Type == string(activity.Group) {
		return []string{activity.PublicAudience, target}
	}
	return []string{activity.PublicAudience}
}

func (n *Node) hasLog(ctx context.Context, did string) bool {
	seq, _, err := n.logHead(ctx, did)
	return err == nil && seq > 0
}

// Unfollow takes a Follow back with an Undo.
func (n *Node) Unfollow(ctx context.Context, as, ref string) error {
	did, err := n.defaultActor(ctx, as)
	if err != nil {
		return err
	}
	target, err := n.lookupDID(ctx, ref)
	if err != nil {
		return err
	}
	var followCID string
	err = n.db.db.QueryRowContext(ctx, `SELECT activity_cid FROM follows WHERE follower = ? AND followee = ?`, did, target).Scan(&followCID)
	if errors.Is(err, sql.ErrNoRows) {
		return &Error{Kind: KindNotFound, Msg: fmt.Sprintf("%s does not follow %s", did, ref)}
	}
	if err != nil {
		return err
	}
	if _, err := n.appendActivity(ctx, did, &activity.Activity{Type: activity.TypeUndo, To: n.audienceOf(ctx, target), Object: activity.Object{Ref: followCID}}); err != nil {
		return err
	}
	if !n.tracks(ctx, target) {
		n.unsubscribe(target)
	}
	return nil
}

// Like signs a Like of a resource.
func (n *Node) Like(ctx context.Context, as, id string) (string, error) {
	did, err := n.defaultActor(ctx, as)
	if err != nil {
		return "", err
	}
	if _, err := cid.Decode(id); err != nil {
		return "", invalidf("%q is not a resource ID (a CID)", id)
	}
	c, err := n.appendActivity(ctx, did, &activity.Activity{Type: activity.TypeLike, Object: activity.Object{Ref: id}})
	if err != nil {
		return "", err
	}
	return c.String(), nil
}

// FeedItem is one entry of a feed: a version of a resource.
type FeedItem struct {
	ResourceID  string `json:"resource_id"`
	Version     uint64 `json:"version"`
	ActivityCID string `json:"activity_cid"`
	Title       string `json:"title"`
	Author      string `json:"author"`
	AuthorName  string `json:"author_handle"`
	Community   string `json:"community,omitempty"`
	// CommunityHandle is name@node of the community, when known.
	CommunityHandle string    `json:"community_handle,omitempty"`
	FileCID         string    `json:"file_cid,omitempty"`
	URL             string    `json:"url,omitempty"`
	License         string    `json:"license"`
	Language        string    `json:"language"`
	Published       time.Time `json:"published"`
}

// Feed lists, newest first, the resource versions published by the actors
// and in the communities that the node's actors follow, leaving out
// deleted resources.
func (n *Node) Feed(ctx context.Context, limit int) ([]FeedItem, error) {
	if limit <= 0 {
		limit = 50
	}
	rows, err := n.db.db.QueryContext(ctx, `
		WITH followed AS (SELECT f.followee AS did FROM follows f JOIN local_actors l ON l.did = f.follower)
		SELECT v.resource_id, v.version, v.activity_cid, v.title, v.actor, coalesce(a.username || '@' || a.node, ''),
			r.community, coalesce(c.username || '@' || c.node, ''), v.media_cid, v.url, v.license, v.language, v.published
		FROM versions v JOIN resources r ON r.id = v.resource_id
		LEFT JOIN actors a ON a.did = v.actor LEFT JOIN actors c ON c.did = r.community
		WHERE (r.actor IN (SELECT did FROM followed) OR r.community IN (SELECT did FROM followed))
		AND NOT EXISTS (SELECT 1 FROM deletions d WHERE d.object = v.resource_id AND d.actor = r.actor)
		ORDER BY v.published DESC, v.version DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("feed: %w", err)
	}
	defer rows.Close()
	return scanFeed(rows)
}

func scanFeed(rows *sql.Rows) ([]FeedItem, error) {
	out := []FeedItem{}
	for rows.Next() {
		var it FeedItem
		var published string
		if err := rows.Scan(&it.ResourceID, &it.Version, &it.ActivityCID, &it.Title, &it.Author, &it.AuthorName,
			&it.Community, &it.CommunityHandle, &it.FileCID, &it.URL, &it.License, &it.Language, &published); err != nil {
			return nil, err
		}
		it.Published, _ = time.Parse(time.RFC3339Nano, published)
		out = append(out, it)
	}
	return out, rows.Err()
}

// ResourceView is a resource with all its versions.
type ResourceView struct {
	ID          string             `json:"id"`
	Author      string             `json:"author"`
	Community   string             `json:"community,omitempty"`
	Deleted     bool               `json:"deleted"`
	Likes       int                `json:"likes"`
	DerivedFrom []string           `json:"derived_from,omitempty"`
	Versions    []FeedItem         `json:"versions"`
	Latest      *activity.Resource `json:"-"`
	Raw         map[string]any     `json:"latest,omitempty"`
}

// ShowResource returns a resource with every version the node has, newest
// first, and where it was derived from.
func (n *Node) ShowResource(ctx context.Context, id string) (ResourceView, error) {
	latest, _, err := n.latestVersion(ctx, id)
	if err != nil {
		return ResourceView{}, err
	}
	v := ResourceView{ID: id, Author: latest.Actor, Community: communityOf(latest), Latest: latest.Object.Resource, DerivedFrom: latest.Object.Resource.DerivedFrom}
	_ = n.db.db.QueryRowContext(ctx, `SELECT count(*) FROM likes WHERE object = ?`, id).Scan(&v.Likes)
	var del int
	_ = n.db.db.QueryRowContext(ctx, `SELECT count(*) FROM deletions WHERE object = ? AND actor = ?`, id, latest.Actor).Scan(&del)
	v.Deleted = del > 0
	rows, err := n.db.db.QueryContext(ctx, `SELECT v.resource_id, v.version, v.activity_cid, v.title, v.actor,
		coalesce(a.username || '@' || a.node, ''), r.community, coalesce(c.username || '@' || c.node, ''), v.media_cid, v.url, v.license, v.language, v.published
		FROM versions v JOIN resources r ON r.id = v.resource_id LEFT JOIN actors a ON a.did = v.actor
		LEFT JOIN actors c ON c.did = r.community
		WHERE v.resource_id = ? ORDER BY v.version DESC`, id)
	if err != nil {
		return ResourceView{}, err
	}
	defer rows.Close()
	v.Versions, err = scanFeed(rows)
	return v, err
}

// BlockActor makes the node drop everything from an actor, on gossip and
// in backfill.
func (n *Node) BlockActor(ctx context.Context, did, reason string) error {
	if _, err := activity.PublicKeyFromDID(did); err != nil {
		return invalidf("%q is not a did:key: %v", did, err)
	}
	n.blockMu.Lock()
	defer n.blockMu.Unlock()
	if _, err := n.db.db.ExecContext(ctx, `INSERT OR REPLACE INTO blocked (did, reason) VALUES (?, ?)`, did, reason); err != nil {
		return err
	}
	return n.loadBlocked(ctx)
}

// GossipStats counts the gossip messages the validator accepted and
// rejected, by reason, since the node started.
func (n *Node) GossipStats() map[string]int64 {
	out := n.rejected.snapshot()
	for k, v := range n.accepted.snapshot() {
		out[k] = v
	}
	return out
}
