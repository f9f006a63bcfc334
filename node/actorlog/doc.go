// Package actorlog is the node's copy of actors' hash-linked logs: the
// source of truth from which everything else a node shows is derived.
//
// It owns two tables of lyceum.db, both owned state that no rebuild
// touches: log_entries (every stored activity of every actor the node
// keeps, with its canonical bytes, by actor and seq) and local_actors (the
// node's own actors and their private keys).
//
// A Log appends activities of local actors (numbered, signed, linked to
// the previous entry), stores verified activities from other nodes,
// answers what is stored (heads, gaps, pages, single entries, blocks for
// bitswap), and hands every stored entry, in the order it was stored, to
// its readers: the Appliers that keep derived state in step inside the
// storing transaction (the views), and the tails (Tail) that follow it
// from a cursor of their own — the search index, the fediverse bridge,
// the gossip announcer — pushed as entries are stored, never polled.
package actorlog
