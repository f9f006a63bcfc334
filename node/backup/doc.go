// Package backup writes a node's repo to one archive while the node runs,
// and restores such an archive into a new repo.
//
// An archive is a tar stream, gzipped, whose entries are: the repo's own
// files (config.toml, identity.key, api.token, version, peers.json);
// consistent copies of its SQLite databases, made with VACUUM INTO
// (lyceum.db with the logs, the local actors' keys and the views;
// accounts.db; the fediverse bridge's fediverse.db and delivery.db; the
// pinning service's pinning.db);
// store/records, the content store's pins and records; one
// store/blocks/<CID> entry per block; and MANIFEST.json last: the format
// version, the node's peer ID, and every other file's size and SHA-256
// (blocks are checked against their CIDs, and counted). The search index
// is left out: a restored node rebuilds it from the logs.
//
// Reading is strict, as for any input from outside: known names only,
// regular files only, no duplicates, sizes bounded (Limits), the manifest
// last and matching what was read. A restore is staged in a folder beside
// the target and renamed into place only once it has been verified.
//
// The package owns no state.
package backup
