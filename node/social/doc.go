// Package social is the node's social room: people and communities (its
// own and the ones it knows) and their profiles, resources and their
// versions and adaptations, follows, likes, comments, feeds and lists,
// collections and communities' announcements.
//
// It owns the views (views.go), the state derived from actors' logs that
// every other room reads through this package, never by SQL of its own;
// the views hold nothing that is not in some log, so a rebuild may drop
// them at any time. Its queries join the log's tables (local_actors: which
// actors are this node's; log_entries: which activities it has),
// read-only: the only tables of another room it reads. Everything it changes it changes by appending a
// signed activity to a local actor's log (package actorlog); what other
// nodes need to know travels from there (package logsync gossips what is
// appended).
package social
