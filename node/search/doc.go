// Package search is the node's search room: it feeds the bleve index
// (package index) from the log, as the log stores entries, answers
// searches from the local index and the configured HQs in parallel, and
// serves /lyceum/search so that other nodes can search this one (an HQ's
// index holds the whole network).
//
// The index is derived state: it records its own checkpoint (the cursor of
// the last entry it holds) in the same batch as the documents, catches up
// from it after a crash, and can be rebuilt from the log. The delisted
// table of lyceum.db (the HQ's moderation marks) is owned state: a rebuild
// applies it again and never drops it.
package search
