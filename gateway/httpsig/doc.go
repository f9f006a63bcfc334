// Package httpsig signs and verifies HTTP requests with draft-cavage HTTP
// Signatures the way Mastodon does, which is what the fediverse speaks.
//
// Outgoing requests are signed with rsa-sha256 over
// "(request-target) host date digest" (requests with a body) or
// "(request-target) host date" (GET), with a Digest header holding the
// SHA-256 of the exact body. They must be signed when they are sent and
// again on every retry: Mastodon refuses a Date more than an hour or so
// old.
//
// Incoming requests are verified at least as strictly as Mastodon's
// SignatureVerification concern (app/lib/signed_request.rb): algorithm
// rsa-sha256, hs2019 or absent; (request-target) and date (or (created))
// signed; host signed on GET and HEAD; digest signed on POST and equal to
// the body's SHA-256; the creation time at most an hour in the future and
// the signature expired at most an hour ago (a signature without
// (expires) expires five minutes after it was made, as in Mastodon). A
// key that fails to verify is asked for once more with refresh, so that a
// rotated key is picked up; the KeyFetcher refetches it only if its copy
// is old enough, so forged signatures cannot make it fetch at will. The
// caller checks that the returned key's Owner is the actor of the
// activity.
//
// Failures are reported with the sentinel errors of this package, which
// callers test with errors.Is to choose a status (see Status) and turn
// into a message safe to send back (see Message): why a key could not be
// fetched is for the node's log only.
package httpsig
