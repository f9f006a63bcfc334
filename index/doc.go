// Package index is Lyceum's search index: it turns verified activities into
// bleve documents and answers searches with filters, facets, sorting and
// paging. It wraps bleve and imports nothing of Lyceum's but activity; it
// knows neither HTTP nor libp2p (node feeds it, gateway queries it through
// an interface of its own).
//
// # What is indexed
//
// One bleve document per live public thing, keyed by its stable ID:
// resources and collections (the CID of their Create), communities and
// persons (their did:key, from the profile they publish about themselves;
// nodes are not indexed). Apply reads Create and Update of a Resource,
// Collection or Actor, Delete (Tombstone or Ref), Like and Undo; everything
// else is skipped. Each document stores its record (JSON): what a Hit
// shows and what ordering versions needs. Beside the documents, small
// state documents written in the same batch hold what makes ingest
// idempotent and order-insensitive: tombstones (a late Create or Update
// never resurrects a deleted thing), likers per resource (a like counts
// once per actor; likes may arrive before their resource), moderation
// marks (Delist, Relist) and the caller's checkpoint. Only the author may
// update or delete; resources are ordered by version, collections and
// actors by the seq of the activity; the smaller CID wins a tie.
//
// # Analysis and queries
//
// Title (with keywords) and summary go to per-language fields (title_en,
// summary_fr, …) analyzed with bleve's analyzer for that language
// (stemming, stop words) for en, fr, es, de, it and pt, and with a plain
// lower-casing analyzer for every other language and for collections,
// communities and persons. Creators' names and handles go to one plain
// field. Documents are built directly, field for field as the mapping
// describes them, and tokenized by a fast path that gives exactly the
// tokens of bleve's Unicode tokenizer on Latin text (and defers to it on
// anything else). A query word is analyzed once per language and looked
// up in the term dictionaries; the query asks only the fields that have
// it (the filtered language's, when there is a language filter). The title weighs
// more than the summary; a word of five letters or more that matches
// nothing exactly matches the words one typo away; "quoted phrases" must
// match as phrases. Filters and facets are terms of one keyword field with
// doc values, counted only when asked for; snippets are highlighted from
// the stored record, so a search never collects match locations.
//
// # Durability
//
// Batches are persisted in the background (scorch's unsafe_batch): Apply
// returns once a batch is searchable. The index is derived state, rebuilt
// from the actors' logs, which the node stores durably before it
// acknowledges anything; ApplyThrough records the caller's position in
// those logs in the same batch, so after a crash Checkpoint says where to
// resume and nothing acknowledged is lost. Delist, Relist, Sync and Close
// wait until persisted. Open refuses (ErrStaleMapping) an index built with
// another mapping, which the caller then rebuilds.
package index
