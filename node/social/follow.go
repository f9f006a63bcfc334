package social

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node/actorlog"
	"github.com/lyceum-oer/lyceum/node/api"
)

// Follow makes a local actor follow another actor or a community: it
// finds the actor (fetching its whole log over the network when the node
// lacks it), signs a Follow, and subscribes to its topics. Following a
// community is joining it: the Follow is addressed to the community too,
// so that it travels on the community's topic and its node knows its
// members.
func (s *Service) Follow(ctx context.Context, req api.FollowRequest) (api.Actor, error) {
	did, err := s.actingAs(ctx, req.As)
	if err != nil {
		return api.Actor{}, err
	}
	if c, ok := s.knownCollection(ctx, req.Actor); ok {
		return s.followCollection(ctx, did, c)
	}
	target, err := s.Resolve(ctx, req.Actor)
	if err != nil || !s.hasLog(ctx, target) {
		if target, err = s.net.Fetch(ctx, req.Actor); err != nil {
			return api.Actor{}, err
		}
	}
	if target == did {
		return api.Actor{}, api.Invalidf("an actor cannot follow itself")
	}
	to := s.audienceOf(ctx, target)
	e, err := s.log.Append(ctx, did, &activity.Activity{Type: activity.TypeFollow, To: to, Object: activity.Object{Ref: target}})
	if err != nil {
		return api.Actor{}, err
	}
	if len(to) > 1 {
		s.net.Join(ctx, target, e.CID.String())
	}
	s.net.Subscribe(target)
	return s.Actor(ctx, target)
}

// audienceOf addresses a Follow of target, and its Undo: to the public,
// and to a community itself (a join).
func (s *Service) audienceOf(ctx context.Context, target string) []string {
	if a, err := s.Actor(ctx, target); err == nil && a.Type == string(activity.Group) {
		return []string{activity.PublicAudience, target}
	}
	return []string{activity.PublicAudience}
}

func (s *Service) hasLog(ctx context.Context, did string) bool {
	seq, _, err := s.log.Head(ctx, did)
	return err == nil && seq > 0
}

// Unfollow takes a Follow back with an Undo, and leaves the actor's topics
// when no local actor follows it any more.
func (s *Service) Unfollow(ctx context.Context, req api.FollowRequest) error {
	did, err := s.actingAs(ctx, req.As)
	if err != nil {
		return err
	}
	var target, topic string // what is unfollowed, and whose topics it came through
	if c, ok := s.knownCollection(ctx, req.Actor); ok {
		target, topic = c.ID, c.Owner
	} else if target, err = s.Resolve(ctx, req.Actor); err != nil {
		return err
	} else {
		topic = target
	}
	followCID, err := s.views.FollowCID(ctx, did, target)
	if err != nil {
		return err
	}
	if followCID == "" {
		return api.NotFoundf("%s does not follow %s", did, req.Actor)
	}
	to := s.audienceOf(ctx, target)
	e, err := s.log.Append(ctx, did, &activity.Activity{Type: activity.TypeUndo, To: to, Object: activity.Object{Ref: followCID}})
	if err != nil {
		return err
	}
	if len(to) > 1 {
		s.net.Join(ctx, target, e.CID.String())
	}
	if !s.views.FollowedByLocal(ctx, topic) {
		s.net.Unsubscribe(topic)
	}
	return nil
}

// knownCollection is the collection ref names, when ref is the ID of a
// live collection the node knows.
func (s *Service) knownCollection(ctx context.Context, ref string) (api.Collection, bool) {
	if strings.Contains(ref, ":") || strings.Contains(ref, "@") {
		return api.Collection{}, false // a DID or a handle
	}
	c, err := s.collection(ctx, ref)
	return c, err == nil && !c.Deleted
}

// followCollection makes a local actor follow a collection: a Follow of
// the collection's ID, public. The node then keeps its owner's log whole
// (Views.FollowedByLocal) and listens on the owner's topics, so that
// what the owner adds reaches the follower's collection feed. It returns
// the owner.
func (s *Service) followCollection(ctx context.Context, did string, c api.Collection) (api.Actor, error) {
	if c.Owner == did {
		return api.Actor{}, api.Invalidf("an actor cannot follow its own collection")
	}
	if _, err := s.log.Append(ctx, did, &activity.Activity{Type: activity.TypeFollow, To: []string{activity.PublicAudience},
		Object: activity.Object{Ref: c.ID}}); err != nil {
		return api.Actor{}, err
	}
	s.net.Subscribe(c.Owner)
	return s.Actor(ctx, c.Owner)
}

// Follows reports whether the local actor as follows target: an actor's
// DID or a collection's ID.
func (s *Service) Follows(ctx context.Context, as, target string) (bool, error) {
	did, err := s.actingAs(ctx, as)
	if err != nil {
		return false, err
	}
	c, err := s.views.FollowCID(ctx, did, target)
	return c != "", err
}

// Announcer has the communities of this node announce posts.
type Announcer struct {
	log   *actorlog.Log
	views *Views
}

// NewAnnouncer returns the Announcer of the communities of log.
func NewAnnouncer(log *actorlog.Log, views *Views) *Announcer {
	return &Announcer{log: log, views: views}
}

// Announce has a community of this node announce a post, once, in its own
// log, so that its members can backfill the community; it reports whether
// the post is announced. It does nothing for a community of another node.
// Whether the post may be announced (its author a member, within its
// rate) is the caller's to decide.
func (a *Announcer) Announce(ctx context.Context, group, activityCID string) bool {
	if !a.log.IsLocal(ctx, group) {
		return false
	}
	if a.views.Announced(ctx, group, activityCID) {
		return true
	}
	_, err := a.log.Append(ctx, group, &activity.Activity{Type: activity.TypeAnnounce, Object: activity.Object{Ref: activityCID}})
	return err == nil
}

// FollowCID is the CID of follower's standing Follow of followee, "" when
// there is none.
func (v *Views) FollowCID(ctx context.Context, follower, followee string) (string, error) {
	var c string
	err := v.db.QueryRow(ctx, `SELECT activity_cid FROM follows WHERE follower = ? AND followee = ?`, follower, followee).Scan(&c)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("follow of %s by %s: %w", followee, follower, err)
	}
	return c, nil
}

// FollowedByLocal reports whether an actor of this node follows did: the
// node then keeps did's log whole.
func (v *Views) FollowedByLocal(ctx context.Context, did string) bool {
	k, _ := v.db.Count(ctx, `SELECT count(*) FROM follows f JOIN local_actors l ON l.did = f.follower
		WHERE f.followee = ?1 OR f.followee IN (SELECT id FROM collections WHERE owner = ?1)`, did)
	return k > 0
}

// followedSQL selects the DIDs the node's actors follow: the actors they
// follow, and the owners of the collections they follow.
const followedSQL = `SELECT f.followee AS did FROM follows f JOIN local_actors l ON l.did = f.follower
	UNION SELECT c.owner FROM follows f JOIN local_actors l ON l.did = f.follower JOIN collections c ON c.id = f.followee`

// Followee is an actor the node's actors follow, with its origin node's
// peer ID when known.
type Followee struct {
	DID  string
	Node string
}

// Followees lists the actors the node's actors follow, and the owners of
// the collections they follow.
func (v *Views) Followees(ctx context.Context) ([]Followee, error) {
	rows, err := v.db.Query(ctx, `SELECT d.did, coalesce(a.node, '') FROM (`+followedSQL+`) d
		LEFT JOIN actors a ON a.did = d.did WHERE d.did LIKE 'did:%'`)
	if err != nil {
		return nil, fmt.Errorf("followees: %w", err)
	}
	defer rows.Close()
	var out []Followee
	for rows.Next() {
		var f Followee
		if err := rows.Scan(&f.DID, &f.Node); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// Subscriptions lists the actors whose topics the node listens on: what
// its actors follow (the owners of the collections they follow) and its
// own communities.
func (v *Views) Subscriptions(ctx context.Context) ([]string, error) {
	return v.db.Strings(ctx, `SELECT did FROM (`+followedSQL+`) WHERE did LIKE 'did:%'
		UNION SELECT did FROM local_actors WHERE type = 'Group'`)
}

// IsMember reports whether actor may post in group: an actor whose Follow
// of the community (its join) is stored and not undone, or an actor of
// this node. Every community is open for now.
func (v *Views) IsMember(ctx context.Context, group, actor string) (bool, error) {
	k, err := v.db.Count(ctx, `SELECT (SELECT count(*) FROM follows WHERE follower = ? AND followee = ?)
		+ (SELECT count(*) FROM local_actors WHERE did = ?)`, actor, group, actor)
	if err != nil {
		return false, fmt.Errorf("membership of %s in %s: %w", actor, group, err)
	}
	return k > 0, nil
}

// Announced reports whether a community announced an activity.
func (v *Views) Announced(ctx context.Context, group, activityCID string) bool {
	k, _ := v.db.Count(ctx, `SELECT count(*) FROM announces WHERE community = ? AND activity_cid = ?`, group, activityCID)
	return k > 0
}

// Unfetched lists the activities a community announced that the node does
// not have: a community's log lists its posts, their authors' logs hold
// them.
func (v *Views) Unfetched(ctx context.Context, group string) ([]string, error) {
	return v.db.Strings(ctx, `SELECT a.activity_cid FROM announces a
		WHERE a.community = ? AND NOT EXISTS (SELECT 1 FROM log_entries e WHERE e.cid = a.activity_cid)`, group)
}

// Origin is the peer ID of the node did comes from, "" when the node does
// not know it.
func (v *Views) Origin(ctx context.Context, did string) string {
	var node string
	_ = v.db.QueryRow(ctx, `SELECT node FROM actors WHERE did = ?`, did).Scan(&node)
	return node
}

// Handle is did's name@node, "" when the node does not know it. It reads
// the read pool: for the search index, which must not wait for a store.
func (v *Views) Handle(ctx context.Context, did string) string {
	if did == "" {
		return ""
	}
	var h string
	_ = v.db.ReadRow(ctx, `SELECT username || '@' || node FROM actors WHERE did = ?`, did).Scan(&h)
	return h
}
