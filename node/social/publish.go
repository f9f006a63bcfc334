package social

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"mime"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node/actorlog"
	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/sqlitedb"
)

// Publish signs a Create of the resource as the actor (the file given by
// its CID is pinned), appends it to the actor's log and, when it is posted
// in a community of this node, has the community announce it.
func (s *Service) Publish(ctx context.Context, req api.PublishRequest) (api.Published, error) {
	did, err := s.actingAs(ctx, req.As)
	if err != nil {
		return api.Published{}, err
	}
	if err := checkCreators(req.Creators); err != nil {
		return api.Published{}, err
	}
	media, err := s.media(ctx, req)
	if err != nil {
		return api.Published{}, err
	}
	actor, err := s.Actor(ctx, did)
	if err != nil {
		return api.Published{}, err
	}
	r := &activity.Resource{
		Type: activity.Document, Version: 1, Media: media,
		Title: req.Title, Description: req.Summary, License: req.License, Language: req.Language,
		Subjects: req.Subjects, Keywords: req.Keywords, Level: req.Level, LearningResourceType: req.Type,
		DerivedFrom: req.DerivedFrom, Published: time.Now().UTC(),
		Creators: creators(actor.DisplayName(), did, "author", req.Creators),
		Origin:   &activity.Origin{Node: actor.Node, Handle: actor.Handle},
	}
	if media.Kind == activity.KindLink {
		r.Type = activity.Link
	}
	a := &activity.Activity{Type: activity.TypeCreate, Object: activity.Object{Resource: r}}
	if req.Community != "" {
		g, err := s.community(ctx, req.Community)
		if err != nil {
			return api.Published{}, err
		}
		if member, err := s.joined(ctx, did, g); err != nil {
			return api.Published{}, err
		} else if !member {
			return api.Published{}, api.Invalidf("join %s before posting in it (lyceum follow %s)", req.Community, req.Community)
		}
		a.To = []string{activity.PublicAudience, g}
	}
	e, err := s.log.Append(ctx, did, a)
	if err != nil {
		return api.Published{}, err
	}
	if g := a.Community(); g != "" {
		s.announcer.Announce(ctx, g, e.CID.String())
	}
	return api.Published{ID: e.CID.String(), Version: 1, ActivityCID: e.CID.String(), FileCID: media.CID}, nil
}

// creators are a resource's creators: the signing actor, its author, or
// its publisher when the request names the authors (an imported library),
// who follow it; a creator without a role is an author.
func creators(name, did, role string, given []api.Creator) []activity.Creator {
	if len(given) > 0 {
		role = "publisher"
	}
	out := []activity.Creator{{Name: name, Actor: did, Role: role}}
	for _, c := range given {
		if c.Role == "" {
			c.Role = "author"
		}
		out = append(out, activity.Creator{Name: c.Name, Role: c.Role})
	}
	return out
}

// checkCreators refuses creators that name an actor: a resource credits
// another actor only in that actor's own log, so a publisher names the
// authors by name.
func checkCreators(given []api.Creator) error {
	for _, c := range given {
		if c.Actor != "" {
			return api.Invalidf("creators are named by name only: leave out %s's actor", api.Quote(c.Name))
		}
	}
	return nil
}

// media is the content a request names: a link, or a file of the store,
// which it pins.
func (s *Service) media(ctx context.Context, req api.PublishRequest) (activity.Media, error) {
	switch {
	case req.URL != "" && req.FileCID != "":
		return activity.Media{}, api.Invalidf("give a file or a URL, not both")
	case req.URL != "":
		u, err := url.Parse(req.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return activity.Media{}, api.Invalidf("%s is not an http(s) URL", api.Quote(req.URL))
		}
		return activity.Media{Kind: activity.KindLink, URL: req.URL}, nil
	case req.FileCID != "":
		c, err := api.ParseCID(req.FileCID)
		if err != nil {
			return activity.Media{}, err
		}
		// A published file is kept: pinned (fetched first if need be).
		if err := s.files.Pin(ctx, c); err != nil {
			return activity.Media{}, err
		}
		size, err := s.files.Size(ctx, c)
		if err != nil {
			return activity.Media{}, err
		}
		return fileMedia(c.String(), firstNonEmpty(req.Filename, c.String()), size), nil
	}
	return activity.Media{}, api.Invalidf("a resource needs content: a file or a URL")
}

func fileMedia(c, name string, size int64) activity.Media {
	mt := mime.TypeByExtension(strings.ToLower(filepath.Ext(name)))
	if mt == "" {
		mt = "application/octet-stream"
	}
	mt, _, _ = strings.Cut(mt, ";")
	return activity.Media{Kind: activity.KindFile, CID: c, Filename: name, MediaType: mt, Size: size}
}

// community resolves a community reference to its DID; it must be a Group.
func (s *Service) community(ctx context.Context, ref string) (string, error) {
	a, err := s.Actor(ctx, ref)
	if err != nil {
		return "", err
	}
	if a.Type != string(activity.Group) {
		return "", api.Invalidf("%s is a %s, not a community", ref, a.Type)
	}
	return a.DID, nil
}

// joined reports whether a local actor may post in a community: it follows
// (has joined) the community, or the community is hosted here.
func (s *Service) joined(ctx context.Context, did, group string) (bool, error) {
	if s.log.IsLocal(ctx, group) {
		return true, nil
	}
	k, err := s.db.Count(ctx, `SELECT count(*) FROM follows WHERE follower = ? AND followee = ?`, did, group)
	if err != nil {
		return false, fmt.Errorf("membership of %s: %w", group, err)
	}
	return k > 0, nil
}

// latestVersion reads the newest version of a resource.
func (s *Service) latestVersion(ctx context.Context, id string) (actorlog.Entry, error) {
	var c string
	err := s.db.QueryRow(ctx, `SELECT activity_cid FROM versions WHERE resource_id = ? ORDER BY version DESC LIMIT 1`, id).Scan(&c)
	if errors.Is(err, sql.ErrNoRows) {
		return actorlog.Entry{}, api.NotFoundf("no resource %s known here", id)
	}
	if err != nil {
		return actorlog.Entry{}, fmt.Errorf("resource %s: %w", id, err)
	}
	ac, err := cid.Decode(c)
	if err != nil {
		return actorlog.Entry{}, fmt.Errorf("resource %s: version %q: %w", id, c, err)
	}
	e, err := s.log.Get(ctx, ac)
	if err != nil {
		return actorlog.Entry{}, fmt.Errorf("resource %s: %w", id, err)
	}
	return e, nil
}

// UpdateResource publishes a new version of a resource, linked to the
// previous one; fields left empty in req keep their value.
func (s *Service) UpdateResource(ctx context.Context, id string, req api.PublishRequest) (api.Published, error) {
	prev, err := s.latestVersion(ctx, id)
	if err != nil {
		return api.Published{}, err
	}
	if !s.log.IsLocal(ctx, prev.Act.Actor) {
		return api.Published{}, api.Invalidf("only the author's node can update a resource")
	}
	if err := checkCreators(req.Creators); err != nil {
		return api.Published{}, err
	}
	r := *prev.Act.Object.Resource
	r.ID, r.Version, r.PreviousVersion = id, r.Version+1, prev.CID.String()
	r.Published, r.Updated = time.Now().UTC(), time.Now().UTC()
	if req.URL != "" || req.FileCID != "" {
		m, err := s.media(ctx, req)
		if err != nil {
			return api.Published{}, err
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
	if len(req.Creators) > 0 && len(r.Creators) > 0 {
		signer := r.Creators[0]
		r.Creators = creators(signer.Name, signer.Actor, "author", req.Creators)
	}
	a := &activity.Activity{Type: activity.TypeUpdate, Object: activity.Object{Resource: &r}, To: prev.Act.To}
	e, err := s.log.Append(ctx, prev.Act.Actor, a)
	if err != nil {
		return api.Published{}, err
	}
	if g := a.Community(); g != "" {
		s.announcer.Announce(ctx, g, e.CID.String())
	}
	return api.Published{ID: id, Version: r.Version, ActivityCID: e.CID.String(), FileCID: r.Media.CID}, nil
}

// DeleteResource publishes a tombstone: followers drop the resource from
// their views; pinned copies of its files stay where they are.
func (s *Service) DeleteResource(ctx context.Context, id string) (api.Published, error) {
	prev, err := s.latestVersion(ctx, id)
	if err != nil {
		return api.Published{}, err
	}
	if !s.log.IsLocal(ctx, prev.Act.Actor) {
		return api.Published{}, api.Invalidf("only the author's node can delete a resource")
	}
	a := &activity.Activity{Type: activity.TypeDelete, To: prev.Act.To, Object: activity.Object{Tombstone: &activity.Tombstone{
		ID: id, FormerType: string(prev.Act.Object.Resource.Type), Deleted: time.Now().UTC(),
	}}}
	e, err := s.log.Append(ctx, prev.Act.Actor, a)
	if err != nil {
		return api.Published{}, err
	}
	return api.Published{ID: id, ActivityCID: e.CID.String()}, nil
}

// Like signs a Like of a resource.
func (s *Service) Like(ctx context.Context, req api.LikeRequest) (api.LikeResponse, error) {
	did, err := s.actingAs(ctx, req.As)
	if err != nil {
		return api.LikeResponse{}, err
	}
	if _, err := cid.Decode(req.ID); err != nil {
		return api.LikeResponse{}, api.Invalidf("%s is not a resource ID (a CID)", api.Quote(req.ID))
	}
	e, err := s.log.Append(ctx, did, &activity.Activity{Type: activity.TypeLike, Object: activity.Object{Ref: req.ID}})
	if err != nil {
		return api.LikeResponse{}, err
	}
	return api.LikeResponse{ActivityCID: e.CID.String()}, nil
}

// HasLiked reports whether the local actor as (name, handle or DID) likes
// a resource; nobody (as "") likes anything.
func (s *Service) HasLiked(ctx context.Context, as, resource string) (bool, error) {
	if as == "" {
		return false, nil
	}
	did, err := s.actingAs(ctx, as)
	if err != nil {
		return false, err
	}
	k, err := s.db.Count(ctx, `SELECT count(*) FROM likes WHERE actor = ? AND object = ?`, did, resource)
	if err != nil {
		return false, fmt.Errorf("likes of %s: %w", as, err)
	}
	return k > 0, nil
}

// ShowResource returns a resource with its latest version's metadata,
// every version the node has, newest first, where it was derived from and
// the resources adapted from it.
func (s *Service) ShowResource(ctx context.Context, id string) (api.ResourceView, error) {
	latest, err := s.latestVersion(ctx, id)
	if err != nil {
		return api.ResourceView{}, err
	}
	r := latest.Act.Object.Resource
	v := api.ResourceView{ID: id, Author: latest.Act.Actor, Community: latest.Act.Community(),
		Latest: api.ResourceOf(id, latest.CID.String(), latest.Act.Actor, r)}
	v.DerivedFrom = v.Latest.DerivedFrom
	if v.Likes, err = s.db.Count(ctx, `SELECT count(*) FROM likes WHERE object = ?`, id); err != nil {
		return api.ResourceView{}, fmt.Errorf("likes of %s: %w", id, err)
	}
	del, err := s.db.Count(ctx, `SELECT count(*) FROM deletions WHERE object = ? AND actor = ?`, id, latest.Act.Actor)
	if err != nil {
		return api.ResourceView{}, fmt.Errorf("deletion of %s: %w", id, err)
	}
	v.Deleted = del > 0
	rows, err := s.db.Query(ctx, `SELECT `+itemCols+` FROM versions v JOIN resources r ON r.id = v.resource_id `+itemJoins+`
		WHERE v.resource_id = ? ORDER BY v.version DESC`, id)
	if err != nil {
		return api.ResourceView{}, fmt.Errorf("versions of %s: %w", id, err)
	}
	if v.Versions, err = sqlitedb.Scan(rows, scanFeedItem); err != nil {
		return api.ResourceView{}, fmt.Errorf("versions of %s: %w", id, err)
	}
	if v.AdaptedBy, err = s.adaptedBy(ctx, id); err != nil {
		return api.ResourceView{}, err
	}
	return v, nil
}

// ResourceIDs lists the resources an actor published or, for a community,
// that were posted in it, newest first, deleted ones left out.
func (s *Service) ResourceIDs(ctx context.Context, did string, limit int) ([]string, error) {
	if limit <= 0 {
		limit = 20
	}
	ids, err := s.db.Strings(ctx, `SELECT r.id FROM resources r
		WHERE (r.actor = ? OR r.community = ?)
		AND NOT EXISTS (SELECT 1 FROM deletions d WHERE d.object = r.id AND d.actor = r.actor)
		ORDER BY r.created DESC LIMIT ?`, did, did, limit)
	if err != nil {
		return nil, fmt.Errorf("resources of %s: %w", did, err)
	}
	return ids, nil
}

// Rebuild drops every view and replays the stored logs.
func (s *Service) Rebuild(ctx context.Context) (api.Rebuilt, error) {
	n, err := s.log.Rebuild(ctx)
	return api.Rebuilt{Count: n}, err
}
