package nodetest

import (
	"sync"
	"testing"

	"github.com/blevesearch/bleve/v2"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node/actorlog"
)

// IndexWithBleveDefaults indexes the resources of es with bleve's dynamic default
// mapping, in one batch.
func IndexWithBleveDefaults(bi bleve.Index, es []actorlog.Entry) error {
	batch := bi.NewBatch()
	for _, e := range es {
		if r := e.Act.Object.Resource; r != nil {
			if err := batch.Index(e.CID.String(), map[string]any{"title": r.Title, "summary": r.Description, "license": r.License,
				"language": r.Language, "subjects": r.Subjects, "type": r.LearningResourceType, "level": r.Level, "author": e.Act.Actor,
				"keywords": r.Keywords, "url": r.Media.URL, "published": r.Published, "version": float64(r.Version)}); err != nil {
				return err
			}
		}
	}
	return bi.Batch(batch)
}

// VerifyAll decodes and verifies msgs in two goroutines, as pubsub runs
// validators concurrently.
func VerifyAll(tb testing.TB, msgs [][]byte) []actorlog.Entry {
	es := make([]actorlog.Entry, len(msgs))
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(msgs); i += 2 {
				a, c, err := activity.VerifyBlock(msgs[i])
				if err != nil {
					tb.Error(err)
					return
				}
				es[i] = actorlog.Entry{Act: a, CID: c, Data: msgs[i], Cursor: int64(i + 1)}
			}
		}()
	}
	wg.Wait()
	return es
}
