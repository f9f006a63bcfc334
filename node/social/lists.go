package social

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/sqlitedb"
)

// This file holds the lists of resources the pages show: the network's
// newest, an actor's or a community's, feeds, and the adaptations of a
// resource. Each reads an index in the order it lists (resources by date
// of their latest version; a feed, each followee's newest versions), so
// that a page costs what it shows, not what the node knows
// (TestListsUseTheirIndexes, TestListsAreFastAtTenThousandResources).

// Page sizes of the lists.
const (
	DefaultPage = 20
	MaxPage     = 100
	// MaxAdaptedBy bounds the adaptations ShowResource lists.
	MaxAdaptedBy = 50
)

// pageSize is the size of a page asked with limit: 0 (or less) is
// DefaultPage, and no page is larger than MaxPage.
func pageSize(limit int) int {
	if limit <= 0 {
		return DefaultPage
	}
	return min(limit, MaxPage)
}

// itemCols reads a version (v) of a resource (r) with its author's (a)
// and community's (c) handles, as itemJoins joins them.
const itemCols = `v.resource_id, v.version, v.activity_cid, v.title, v.actor, coalesce(a.username || '@' || a.node, ''),
	r.community, coalesce(c.username || '@' || c.node, ''), v.media_cid, v.url, v.license, v.language, v.published`

const itemJoins = `LEFT JOIN actors a ON a.did = v.actor LEFT JOIN actors c ON c.did = r.community`

// live keeps resources that their author has not deleted.
const live = `NOT EXISTS (SELECT 1 FROM deletions d WHERE d.object = r.id AND d.actor = r.actor)`

func scanFeedItem(rows *sql.Rows) (api.FeedItem, error) {
	var it api.FeedItem
	var published string
	err := rows.Scan(&it.ResourceID, &it.Version, &it.ActivityCID, &it.Title, &it.Author, &it.AuthorHandle,
		&it.Community, &it.CommunityHandle, &it.FileCID, &it.URL, &it.License, &it.Language, &published)
	it.Published, _ = time.Parse(time.RFC3339Nano, published)
	return it, err
}

// Resources lists the live resources the node knows, the latest version
// of each, newest version first: all of them, or an author's, or those
// posted in a community (actors named by DID, handle or local name).
func (s *Service) Resources(ctx context.Context, q api.ResourceQuery) ([]api.FeedItem, error) {
	var where []string
	var args []any
	for _, f := range []struct{ col, ref string }{{"r.actor", q.Author}, {"r.community", q.Community}} {
		if f.ref == "" {
			continue
		}
		did, err := s.Resolve(ctx, f.ref)
		if err != nil {
			return nil, err
		}
		where, args = append(where, f.col+" = ?"), append(args, did)
	}
	if !q.Before.IsZero() {
		where, args = append(where, "r.updated < ?"), append(args, sortableTime(q.Before))
	}
	rows, err := s.db.ReadQuery(ctx, resourcesSQL(where), append(args, pageSize(q.Limit))...)
	if err != nil {
		return nil, fmt.Errorf("list resources: %w", err)
	}
	items, err := sqlitedb.Scan(rows, scanFeedItem)
	if err != nil {
		return nil, fmt.Errorf("list resources: %w", err)
	}
	return items, nil
}

// resourcesSQL lists live resources by the index of its first condition
// (by author, by community, or none), newest first: a page reads about as
// many rows as it shows.
func resourcesSQL(where []string) string {
	return `SELECT ` + itemCols + ` FROM resources r
		JOIN versions v ON v.resource_id = r.id AND v.version = r.latest ` + itemJoins + `
		WHERE ` + strings.Join(append(where, live), " AND ") + ` ORDER BY r.updated DESC LIMIT ?`
}

// The followed sets of feeds: what any local actor follows (the node's
// feed), and what one actor (?1) follows, with the actor itself (its
// feed). The CROSS JOIN makes SQLite read the few local actors first, then
// their follows, never every follow it knows.
const (
	nodeFollows  = `SELECT f.followee FROM local_actors l CROSS JOIN follows f ON f.follower = l.did`
	actorFollows = `SELECT followee FROM follows WHERE follower = ?1 UNION SELECT ?1`
)

// notBefore stands for no Before: later than any date.
const notBefore = "9999-12-31T23:59:59.999999999Z"

// Feed lists, newest first, the resource versions published by the actors
// and in the communities that the node's actors follow, leaving out
// deleted resources.
func (s *Service) Feed(ctx context.Context, limit int) ([]api.FeedItem, error) {
	if limit <= 0 || limit > 1000 {
		limit = 50
	}
	return s.feed(ctx, nodeFollows, "", time.Time{}, limit)
}

// FeedOf is a feed, newest first, a page at a time: with q.As, a local
// actor's own (the resource versions of the actors it follows, of the
// communities it joined, and its own); without, the node's (Feed). An
// actor's feed reads that actor's follows only.
func (s *Service) FeedOf(ctx context.Context, q api.FeedQuery) ([]api.FeedItem, error) {
	if q.As == "" {
		return s.feed(ctx, nodeFollows, "", q.Before, pageSize(q.Limit))
	}
	did, err := s.actingAs(ctx, q.As)
	if err != nil {
		return nil, err
	}
	return s.feed(ctx, actorFollows, did, q.Before, pageSize(q.Limit))
}

// feed lists the versions of live resources signed by, or posted in the
// communities of, the actors that followed selects (about actor, if it
// names one), published before before.
func (s *Service) feed(ctx context.Context, followed, actor string, before time.Time, limit int) ([]api.FeedItem, error) {
	at := notBefore
	if !before.IsZero() {
		at = sortableTime(before)
	}
	rows, err := s.db.ReadQuery(ctx, feedSQL(followed), actor, at, limit)
	if err != nil {
		return nil, fmt.Errorf("feed: %w", err)
	}
	items, err := sqlitedb.Scan(rows, scanFeedItem)
	if err != nil {
		return nil, fmt.Errorf("feed: %w", err)
	}
	return items, nil
}

// feedSQL lists the ?3 newest versions published before ?2 of the live
// resources of the actors followed selects and of their communities: the
// latest version of each resource only, so that a resource shows once,
// where its latest version was published (an update brings it up). For
// each followed actor it reads, through the indexes by signer and by
// community, only its ?3 newest live versions (a resource is live unless
// the signer of the version deleted it); it keeps the ?3 newest of those,
// and only then reads their rows: a page costs the number of followees
// times its size, however much they published.
func feedSQL(followed string) string {
	newest := func(match string) string {
		return `SELECT v.rowid, v.published FROM followed fd JOIN versions v ON v.rowid IN (
			SELECT x.rowid FROM versions x WHERE ` + match + ` AND x.published < ?2
			AND x.version = (SELECT latest FROM resources WHERE id = x.resource_id)
			AND NOT EXISTS (SELECT 1 FROM deletions d WHERE d.object = x.resource_id AND d.actor = x.actor)
			ORDER BY x.published DESC LIMIT ?3)`
	}
	// CROSS JOIN: the picked versions first, never all of them.
	return `WITH followed(did) AS (` + followed + `),
		picked(id, at) AS (` + newest("x.actor = fd.did") + ` UNION ` + newest("x.community = fd.did AND x.community != ''") + `),
		top(id) AS (SELECT id FROM picked ORDER BY at DESC, id DESC LIMIT ?3)
		SELECT ` + itemCols + ` FROM top p CROSS JOIN versions v ON v.rowid = p.id
		JOIN resources r ON r.id = v.resource_id ` + itemJoins + `
		ORDER BY v.published DESC, v.rowid DESC`
}

// adaptedBySQL lists the live resources whose latest version names ?1,
// or one of its versions' CIDs, in its derivedFrom, newest first, ?2 at
// most.
const adaptedBySQL = `WITH sources(cid) AS (SELECT ?1 UNION SELECT activity_cid FROM versions WHERE resource_id = ?1)
	SELECT ` + itemCols + ` FROM resources r JOIN versions v ON v.resource_id = r.id AND v.version = r.latest ` + itemJoins + `
	WHERE r.id IN (SELECT d.resource_id FROM derivations d JOIN resources x ON x.id = d.resource_id AND x.latest = d.version
		WHERE d.source IN (SELECT cid FROM sources))
	AND r.id != ?1 AND ` + live + ` ORDER BY r.updated DESC LIMIT ?2`

// adaptedBy lists the live resources whose latest version names id, or
// one of its versions, in its derivedFrom: newest first, at most
// MaxAdaptedBy.
func (s *Service) adaptedBy(ctx context.Context, id string) ([]api.FeedItem, error) {
	rows, err := s.db.ReadQuery(ctx, adaptedBySQL, id, MaxAdaptedBy)
	if err != nil {
		return nil, fmt.Errorf("adaptations of %s: %w", id, err)
	}
	items, err := sqlitedb.Scan(rows, scanFeedItem)
	if err != nil {
		return nil, fmt.Errorf("adaptations of %s: %w", id, err)
	}
	return items, nil
}
