package social

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/sqlitedb"
)

// collectionFeedSQL lists what the collections ?1 follows added, newest
// addition first, ?2 at most: the live items of live collections, each
// with the latest version of its resource, leaving out deleted resources.
const collectionFeedSQL = `SELECT ` + itemCols + `, k.id, k.title, e.published
	FROM follows f
	JOIN collections k ON k.id = f.followee AND k.has_create = 1
	JOIN collection_items i ON i.collection = k.id AND i.actor = k.actor AND i.added_seq > i.removed_seq
	JOIN log_entries e ON e.cid = i.added_cid
	JOIN resources r ON r.id = i.resource
	JOIN versions v ON v.resource_id = r.id AND v.version = r.latest ` + itemJoins + `
	WHERE f.follower = ?1 AND ` + live + `
	AND NOT EXISTS (SELECT 1 FROM deletions d WHERE d.object = k.id AND d.actor = k.actor)
	ORDER BY e.published DESC, e.rowid DESC LIMIT ?2`

// CollectionFeed lists, newest first, the resources that the collections
// the local actor as follows added (limit at most, DefaultPage when 0).
func (s *Service) CollectionFeed(ctx context.Context, as string, limit int) ([]api.CollectionAddition, error) {
	did, err := s.actingAs(ctx, as)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.ReadQuery(ctx, collectionFeedSQL, did, pageSize(limit))
	if err != nil {
		return nil, fmt.Errorf("collection feed of %s: %w", as, err)
	}
	out, err := sqlitedb.Scan(rows, func(rows *sql.Rows) (api.CollectionAddition, error) {
		var a api.CollectionAddition
		var published, added string
		err := rows.Scan(&a.ResourceID, &a.Version, &a.ActivityCID, &a.Title, &a.Author, &a.AuthorHandle,
			&a.Community, &a.CommunityHandle, &a.FileCID, &a.URL, &a.License, &a.Language, &published,
			&a.CollectionID, &a.CollectionTitle, &added)
		a.Published, _ = time.Parse(time.RFC3339Nano, published)
		a.Added, _ = time.Parse(time.RFC3339Nano, added)
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("collection feed of %s: %w", as, err)
	}
	return out, nil
}
