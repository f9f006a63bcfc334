// Package accounts is the node's accounts room: the people of the node
// (accounts), their roles (admin, moderator, member), their passwords,
// browser sessions and personal API tokens, the registration mode and
// invitations, the one-time setup token that makes the first admin, and
// the storage of the node's OAuth 2 authorization server for Moodle's
// "Share to MoodleNet" (oauth.go: registered clients, single-use codes,
// grants with their rotating access and refresh tokens).
//
// It owns accounts.db, a database file of its own (opened with package
// sqlitedb: owner-only, WAL, synchronous commits), never lyceum.db. All
// of it is owned state: nothing in it can be derived from the logs, and
// no rebuild of the views or the index touches it. A session or token
// that a call returned is durable: it survives a crash or restart.
//
// Each active account owns a Person actor of the same username, made
// through an ActorMaker (node/social's Service) in the transaction that
// makes the account active, so that a failure leaves neither half. An
// account waiting for approval has no actor yet: nothing reaches the
// network before an admin accepts the person, and a rejected registration
// leaves no trace.
//
// Secrets are stored only hashed: passwords with argon2id (password.go),
// the random tokens (sessions, API tokens, invitations, setup, OAuth
// client secrets, codes and tokens) with
// SHA-256, enough for 128 to 256 random bits. Every method validates what
// it is given and answers with api.Error kinds whose messages may be
// shown to the person; login failures say only "wrong username or
// password", and cost the same whether the username exists or not.
package accounts
