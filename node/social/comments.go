package social

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ipfs/go-cid"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node/actorlog"
	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/sqlitedb"
)

// This file holds comments: a comment is a Create{Note} in its author's
// log, in reply to a resource (inReplyTo: the resource ID). It is
// addressed to the public and to the resource's community, if any, and
// copies (cc) the resource's author, so that it travels on the topics of
// the author and of the community as well as on its own author's: whoever
// follows the resource's author or community sees the discussion. A
// Delete of the note (a Tombstone with its CID) takes it back.

// MaxComment is the longest comment, in characters (runes), after
// trimming.
const MaxComment = activity.MaxNote

// MaxComments is how many comments of a resource Comments lists: the
// latest ones.
const MaxComments = 500

// commentSchema is part of the views' schema. published is a sortableTime.
const commentSchema = `
CREATE TABLE IF NOT EXISTS comments (
	activity_cid TEXT PRIMARY KEY,
	resource     TEXT NOT NULL,
	actor        TEXT NOT NULL,
	content      TEXT NOT NULL,
	published    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS comments_resource ON comments (resource, published);
`

// applyNote keeps a note that answers a resource (or another note: its
// inReplyTo is a CID), unless its author deleted it already: a Delete may
// arrive before what it deletes.
func applyNote(exec execFunc, e actorlog.Entry) error {
	a, n := e.Act, e.Act.Object.Note
	if _, err := cid.Decode(n.InReplyTo); err != nil {
		return nil // an answer to a community or to a URL: not a comment on a resource
	}
	return exec(`INSERT OR IGNORE INTO comments (activity_cid, resource, actor, content, published)
		SELECT ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM deletions WHERE object = ? AND actor = ?)`,
		e.CID.String(), n.InReplyTo, a.Actor, n.Content, sortableTime(a.Published), e.CID.String(), a.Actor)
}

// Comment signs a comment on a resource the node knows as a local actor:
// a Create{Note} in the actor's log, which gossip takes to the followers
// of the commenter, of the resource's author and of its community.
func (s *Service) Comment(ctx context.Context, req api.CommentRequest) (api.Commented, error) {
	did, err := s.actingAs(ctx, req.As)
	if err != nil {
		return api.Commented{}, err
	}
	text, err := commentText(req.Content)
	if err != nil {
		return api.Commented{}, err
	}
	to, cc, err := s.replyAudience(ctx, did, req.Resource)
	if err != nil {
		return api.Commented{}, err
	}
	note := &activity.Note{Content: text, InReplyTo: req.Resource}
	if err := note.Validate(); err != nil {
		return api.Commented{}, api.Invalidf("comment: %v", err)
	}
	e, err := s.log.Append(ctx, did, &activity.Activity{Type: activity.TypeCreate, Object: activity.Object{Note: note}, To: to, CC: cc})
	if err != nil {
		return api.Commented{}, err
	}
	return api.Commented{ID: e.CID.String()}, nil
}

// commentText trims a comment and checks its length.
func commentText(s string) (string, error) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) {
		return "", api.Invalidf("a comment must be valid UTF-8 text")
	}
	switch n := utf8.RuneCountInString(s); {
	case n == 0:
		return "", api.Invalidf("a comment cannot be empty")
	case n > MaxComment:
		return "", api.Invalidf("a comment is at most %d characters; this one has %d", MaxComment, n)
	}
	return s, nil
}

// replyAudience addresses a comment on a live resource: to the public and
// the resource's community, copying its author unless the author is the
// commenter.
func (s *Service) replyAudience(ctx context.Context, did, resource string) (to, cc []string, err error) {
	if _, err := cid.Decode(resource); err != nil {
		return nil, nil, api.Invalidf("%s is not a resource ID (a CID)", api.Quote(resource))
	}
	var author, community string
	var deleted bool
	err = s.db.QueryRow(ctx, `SELECT r.actor, r.community, EXISTS (SELECT 1 FROM deletions d WHERE d.object = r.id AND d.actor = r.actor)
		FROM resources r WHERE r.id = ? AND r.latest > 0`, resource).Scan(&author, &community, &deleted)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, api.NotFoundf("no resource %s known here", resource)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("comment on %s: %w", resource, err)
	}
	if deleted {
		return nil, nil, api.NotFoundf("resource %s was deleted", resource)
	}
	to = []string{activity.PublicAudience}
	if community != "" {
		to = append(to, community)
	}
	if author != did {
		cc = []string{author}
	}
	return to, cc, nil
}

// DeleteComment takes back a comment of a local actor (as: name, handle or
// DID; "" = whoever wrote it) with a Delete addressed as the comment was.
func (s *Service) DeleteComment(ctx context.Context, as, id string) error {
	var author string
	err := s.db.QueryRow(ctx, `SELECT actor FROM comments WHERE activity_cid = ?`, id).Scan(&author)
	if errors.Is(err, sql.ErrNoRows) {
		return api.NotFoundf("no comment %s known here", id)
	}
	if err != nil {
		return fmt.Errorf("comment %s: %w", id, err)
	}
	if as != "" {
		did, err := s.Resolve(ctx, as)
		if err != nil {
			return err
		}
		if did != author {
			return api.Errorf(api.KindForbidden, "comment %s is not %s's", id, as)
		}
	}
	if !s.log.IsLocal(ctx, author) {
		return api.Invalidf("only the node of a comment's author can delete it")
	}
	c, err := cid.Decode(id)
	if err != nil {
		return api.Invalidf("%s is not a comment ID (a CID)", api.Quote(id))
	}
	note, err := s.log.Get(ctx, c)
	if err != nil {
		return fmt.Errorf("delete comment %s: %w", id, err)
	}
	_, err = s.log.Append(ctx, author, &activity.Activity{Type: activity.TypeDelete, To: note.Act.To, CC: note.Act.CC,
		Object: activity.Object{Tombstone: &activity.Tombstone{ID: id, FormerType: "Note", Deleted: time.Now().UTC()}}})
	return err
}

// commentsSQL reads the latest comments on a resource (at most the second
// argument), then puts them oldest first.
const commentsSQL = `SELECT * FROM (
	SELECT c.activity_cid, c.resource, c.actor, coalesce(nullif(a.name, ''), a.username, ''),
		coalesce(a.username || '@' || a.node, ''), c.content, c.published
	FROM comments c LEFT JOIN actors a ON a.did = c.actor
	WHERE c.resource = ? ORDER BY c.published DESC LIMIT ?) ORDER BY 7`

// Comments lists the comments the node has on a resource, oldest first:
// the latest MaxComments of them, with their authors' names and handles
// when the node knows their profiles ("" when it does not).
func (s *Service) Comments(ctx context.Context, resource string) ([]api.Comment, error) {
	if _, err := cid.Decode(resource); err != nil {
		return nil, api.Invalidf("%s is not a resource ID (a CID)", api.Quote(resource))
	}
	rows, err := s.db.ReadQuery(ctx, commentsSQL, resource, MaxComments)
	if err != nil {
		return nil, fmt.Errorf("comments on %s: %w", resource, err)
	}
	return sqlitedb.Scan(rows, func(rows *sql.Rows) (api.Comment, error) {
		var c api.Comment
		var published string
		err := rows.Scan(&c.ID, &c.Resource, &c.Author, &c.AuthorName, &c.AuthorHandle, &c.Content, &published)
		c.Published, _ = time.Parse(time.RFC3339Nano, published)
		return c, err
	})
}
