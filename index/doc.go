// Package index is Lyceum's search index: it turns verified activities into
// bleve documents and answers searches with filters, facets, sorting and
// paging. It wraps bleve and imports nothing of Lyceum's but activity; it
// knows neither HTTP nor libp2p (node feeds it, gateway queries it through
// an interface of its own).
//
// # What is indexed
//
// One bleve document per live resource, keyed by the resource's stable ID
// (the CID of its Create). Apply reads Create and Update of a Resource,
// Delete (Tombstone or Ref), Like and Undo; everything else is skipped.
// Beside the documents, bleve's internal key/value store holds, in the same
// batch, the state that makes ingest idempotent and order-insensitive: the
// indexed version of each resource, tombstones (so a late Create or Update
// never resurrects a deleted resource), likers per resource (a like counts
// once per actor; likes may arrive before their resource) and moderation
// marks (Delist, Relist). Only a resource's author may update or delete it
// and only a liker may undo a like.
//
// # Analysis
//
// Title and summary go to per-language fields (title_en, summary_fr, …)
// analyzed with bleve's analyzer for that language (stemming, stop words)
// for en, fr, es, de, it and pt, and with a plain lower-casing analyzer for
// every other language. A query is analyzed per language against that
// language's fields (or only the filtered language's). The title is
// boosted over the summary; words of five letters or more match with one
// typo; "quoted phrases" must match as phrases. There is no _all field and
// nothing dynamic: filters and facets are keyword fields with doc values,
// and only what a Hit shows is stored.
//
// The index is derived state: it can always be rebuilt from the actors'
// logs, and Open refuses (ErrStaleMapping) an index built with an older
// mapping, which the caller then rebuilds.
package index
