package logsync

import (
	"context"
	"fmt"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node/api"
)

// fetchResourceTimeout bounds a whole FetchResource: the activity over
// bitswap, then its author's log.
const fetchResourceTimeout = 30 * time.Second

// FetchResource brings a resource the node does not know — found through
// an HQ, say — into the node's views: it fetches the Create activity the
// resource's ID names (over bitswap, from whichever neighbour has it),
// verifies and stores it, then brings its author's log up to the head a
// connected peer reports, for the later versions, the author's profile
// and a deletion if there is one. The author is not followed: the copy
// is as of now. KindInvalid when id is not an activity's CID, KindNotFound
// when no neighbour gives it in time or it is not a resource's Create.
func (s *Service) FetchResource(ctx context.Context, id string) error {
	c, err := cid.Decode(id)
	if err != nil || c.Type() != activity.CodecJSON {
		return api.Invalidf("%s is not a resource ID", api.Quote(id))
	}
	ctx, cancel := context.WithTimeout(ctx, fetchResourceTimeout)
	defer cancel()
	fctx, fcancel := context.WithTimeout(ctx, fetchResourceTimeout/2)
	data, err := s.Blocks.GetBlock(fctx, c)
	fcancel()
	if err != nil {
		return api.Wrap(api.KindNotFound, "no neighbour gave resource "+id, err)
	}
	e, err := s.verify(data)
	if err != nil || !e.CID.Equals(c) {
		return api.Wrap(api.KindNotFound, "resource "+id+" is not a valid activity", err)
	}
	if e.Act.Type != activity.TypeCreate || e.Act.Object.Resource == nil {
		return api.NotFoundf("%s is a %s, not a resource", id, e.Act.Type)
	}
	if s.Blocklist.Has(e.Act.Actor) {
		return api.NotFoundf("resource %s is by a blocked actor", id)
	}
	if err := s.ingest(ctx, e, ""); err != nil {
		return fmt.Errorf("store resource %s: %w", id, err)
	}
	// The later versions and the author's profile: best effort, the
	// first version is already shown.
	if _, err := s.Fetch(ctx, e.Act.Actor); err != nil {
		s.log.Debug("fetch resource: the author's log", "resource", id, "actor", e.Act.Actor, "err", err)
	}
	return nil
}
