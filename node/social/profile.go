package social

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node/api"
)

// IconTypes are the media types a profile's icon may have: what every
// browser shows.
var IconTypes = []string{"image/png", "image/jpeg", "image/webp", "image/gif"}

// profileSQL reads the icon and the counts of the actor ?1.
const profileSQL = `SELECT icon_cid,
	(SELECT count(*) FROM follows WHERE followee = ?1),
	(SELECT count(*) FROM follows WHERE follower = ?1),
	(SELECT count(*) FROM resources r WHERE (r.actor = ?1 OR r.community = ?1) AND r.latest > 0 AND ` + live + `)
	FROM actors WHERE did = ?1`

// Profile shows an actor known here (DID, handle or local name) as its
// page does: its profile, icon and counts. viewer, when set, is the local
// actor asking, and FollowedByViewer says whether it follows the actor.
func (s *Service) Profile(ctx context.Context, ref, viewer string) (api.Profile, error) {
	a, err := s.Actor(ctx, ref)
	if err != nil {
		return api.Profile{}, err
	}
	p := api.Profile{Actor: a}
	err = s.db.ReadRow(ctx, profileSQL, a.DID).Scan(&p.IconCID, &p.Followers, &p.Following, &p.Resources)
	if err != nil {
		return api.Profile{}, fmt.Errorf("profile of %s: %w", ref, err)
	}
	if viewer == "" {
		return p, nil
	}
	did, err := s.actingAs(ctx, viewer)
	if err != nil {
		return api.Profile{}, err
	}
	followCID, err := s.views.FollowCID(ctx, did, a.DID)
	if err != nil {
		return api.Profile{}, err
	}
	p.FollowedByViewer = followCID != ""
	return p, nil
}

// UpdateActor changes a local actor's profile — name, summary, icon — by
// signing an Update of the actor in its log: followers' nodes apply it
// as they receive it. The icon must be an image file the node holds; it
// is pinned.
func (s *Service) UpdateActor(ctx context.Context, req api.ActorUpdate) (api.Actor, error) {
	did, err := s.actingAs(ctx, req.As)
	if err != nil {
		return api.Actor{}, err
	}
	cur, err := s.Actor(ctx, did)
	if err != nil {
		return api.Actor{}, err
	}
	icon, err := s.icon(ctx, did, req)
	if err != nil {
		return api.Actor{}, err
	}
	profile := &activity.Actor{ID: did, Type: activity.ActorType(cur.Type), PreferredUsername: cur.Username,
		Name: strings.TrimSpace(req.Name), Summary: strings.TrimSpace(req.Summary), Node: s.peerID, Published: cur.Created, Icon: icon}
	if err := profile.Validate(); err != nil {
		return api.Actor{}, api.Invalidf("profile: %v", err)
	}
	if _, err := s.log.Append(ctx, did, &activity.Activity{Type: activity.TypeUpdate, Object: activity.Object{Actor: profile}}); err != nil {
		return api.Actor{}, err
	}
	return s.Actor(ctx, did)
}

// icon is the icon an update gives an actor: none, the one it has, or a
// new one, which must be a file the node holds, of an image type browsers
// show.
func (s *Service) icon(ctx context.Context, did string, req api.ActorUpdate) (*activity.Image, error) {
	switch {
	case req.RemoveIcon && req.IconCID != "":
		return nil, api.Invalidf("give a new icon or remove the icon, not both")
	case req.RemoveIcon:
		return nil, nil
	case req.IconCID == "":
		var c, typ string
		if err := s.db.QueryRow(ctx, `SELECT icon_cid, icon_type FROM actors WHERE did = ?`, did).Scan(&c, &typ); err != nil {
			return nil, fmt.Errorf("icon of %s: %w", did, err)
		}
		if c == "" {
			return nil, nil
		}
		return &activity.Image{CID: c, MediaType: typ}, nil
	}
	c, err := api.ParseCID(req.IconCID)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(IconTypes, req.IconType) {
		return nil, api.Invalidf("an icon must be one of %s, not %s", strings.Join(IconTypes, ", "), api.Quote(req.IconType))
	}
	if s.files == nil {
		return nil, api.Errorf(api.KindUnavailable, "this node has no content store for icons")
	}
	held, err := s.files.Holds(ctx, c)
	if err != nil {
		return nil, err
	}
	if !held {
		return nil, api.Invalidf("icon %s is not a file this node holds: upload it first", c)
	}
	// The icon is kept as long as the profile shows it: pinned.
	if err := s.files.Pin(ctx, c); err != nil {
		return nil, err
	}
	return &activity.Image{CID: c.String(), MediaType: req.IconType}, nil
}
