package logsync

import (
	"context"
	"fmt"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node/api"
)

// fetchObjectTimeout bounds a whole FetchObject: the activity over
// bitswap, then its author's log.
const fetchObjectTimeout = 30 * time.Second

// FetchObject brings a resource or a collection the node does not know —
// found through an HQ, say — into the node's views: it fetches the Create
// activity the ID names (over bitswap, from whichever neighbour has it),
// verifies and stores it, then brings its author's log up to the head a
// connected peer reports, for the later versions or items, the author's
// profile and a deletion if there is one. The author is not followed: the
// copy is as of now. KindInvalid when id is not an activity's CID,
// KindNotFound when no neighbour gives it in time or it is not the Create
// of a resource or a collection.
func (s *Service) FetchObject(ctx context.Context, id string) error {
	c, err := cid.Decode(id)
	if err != nil || c.Type() != activity.CodecJSON {
		return api.Invalidf("%s is not the ID of a resource or a collection", api.Quote(id))
	}
	ctx, cancel := context.WithTimeout(ctx, fetchObjectTimeout)
	defer cancel()
	fctx, fcancel := context.WithTimeout(ctx, fetchObjectTimeout/2)
	data, err := s.Blocks.GetBlock(fctx, c)
	fcancel()
	if err != nil {
		return api.Wrap(api.KindNotFound, "no neighbour gave "+id, err)
	}
	e, err := s.verify(data)
	if err != nil || !e.CID.Equals(c) {
		return api.Wrap(api.KindNotFound, id+" is not a valid activity", err)
	}
	if e.Act.Type != activity.TypeCreate || (e.Act.Object.Resource == nil && e.Act.Object.Collection == nil) {
		return api.NotFoundf("%s is a %s, not a resource or a collection", id, e.Act.Type)
	}
	if s.Blocklist.Has(e.Act.Actor) {
		return api.NotFoundf("%s is by a blocked actor", id)
	}
	if err := s.ingest(ctx, e, ""); err != nil {
		return fmt.Errorf("store %s: %w", id, err)
	}
	// The later versions and the author's profile: best effort, the
	// first version is already shown.
	if _, err := s.Fetch(ctx, e.Act.Actor); err != nil {
		s.log.Debug("fetch: the author's log", "object", id, "actor", e.Act.Actor, "err", err)
	}
	return nil
}
