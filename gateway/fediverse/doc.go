// Package fediverse is Lyceum's ActivityPub bridge: it lets people on
// Mastodon, GoToSocial, Pleroma or Lemmy follow Lyceum people,
// communities and collections, see each new resource rendered as a Note,
// and reply, like and boost without a Lyceum account.
//
// The bridge serves discovery (WebFinger, host-meta, NodeInfo 2.0/2.1),
// actor documents (Person; Group for communities and for collections,
// which boost each resource added to them once; and the node's
// Application instance actor) with content negotiation, collections (outbox, followers,
// following, featured), the Notes that resources are rendered as, and the
// personal and shared inboxes. It follows the node's log from a checkpoint
// of its own and hands one Create, Update, Delete or Announce per remote
// inbox to a durable delivery queue (gateway/delivery), signed with HTTP
// Signatures (gateway/httpsig) by a persistent RSA key per bridged actor.
//
// A locked actor (SetLocked) answers manuallyApprovesFollowers: true and
// keeps each Follow as a request until Approve or Reject.
//
// Its state — RSA keys, locks, collection usernames, remote actors,
// remote followers and follows,
// inbox de-duplication, and the comments, likes and boosts received from
// the fediverse — lives in its own SQLite file (fediverse.db in the repo),
// not in lyceum.db: none of it is derived from the signed Lyceum logs, so
// `lyceum repair --rebuild-views` must never drop it, and the node stays
// ignorant of ActivityPub.
package fediverse
