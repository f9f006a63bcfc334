// Package logsync keeps the node's copies of actors' logs in step with the
// network: it validates what gossip brings (the GossipSub validator of
// every Lyceum topic), stores it in batches, holds entries above a gap
// until gossip fills it or backfills the gap from a peer, syncs followed
// logs whenever a peer connects and every interval, announces the node's
// own new entries on gossip, and serves and calls the Lyceum protocols
// that carry logs between nodes (/lyceum/log: heads and pages;
// /lyceum/deliver: a post straight to its community's node), over the one
// request/response helper of package p2p.
//
// It owns two tables of lyceum.db: blocked (the actors whose activities
// the node drops) and pending_deliveries (local posts in other nodes'
// communities, until the community announced them). Both are owned state:
// no rebuild touches them.
package logsync
