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
// of its own — pushed each entry as it is stored (Log.Tail), never polling
// — and hands one Create, Update, Delete or Announce per remote inbox to a
// durable delivery queue (gateway/delivery), signed with HTTP Signatures
// (gateway/httpsig) by a persistent RSA key per bridged actor. It reads
// the node through the small interfaces of services.go, in the types of
// node/api.
//
// A locked actor (SetLocked) answers manuallyApprovesFollowers: true and
// keeps each Follow as a request until Approve or Reject.
//
// Whoever sends a signed request chooses the key URL the bridge fetches
// to verify it, so that is bounded: requests are rate-limited by client
// address (an IPv6 /64; X-Forwarded-For only from TrustedProxies) before
// any key is fetched, and by the verified actor's server after; a key
// that could not be fetched is not fetched again for a while, a bad
// signature refetches a key only once it is old enough, and only a few
// fetches run at once. Signature errors tell the sender what was wrong
// with its request, never why a key could not be fetched.
//
// What the fediverse says of a note is believed only from the note's
// host: a note is stored when its author delivers it signed, or when it
// is fetched by its ID from the ID's host (the notes embedded in a
// replies collection are only pointers to fetch). Only its author changes
// or deletes it.
//
// Its state — RSA keys, locks, collection usernames, remote actors,
// remote followers and follows, inbox de-duplication, and the comments,
// likes and boosts received from the fediverse — is owned state and lives
// in its own SQLite file (fediverse.db in the repo, opened by
// node/sqlitedb), not in lyceum.db: none of it is derived from the signed
// Lyceum logs, so `lyceum repair --rebuild-views` must never drop it, and
// the node stays ignorant of ActivityPub.
package fediverse
