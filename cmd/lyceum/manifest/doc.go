// Package manifest reads the manifest of a bulk import (`lyceum
// import-resources`): CSV with a header row, or JSON Lines, one resource
// a line. It is strict, as a parser of outside input should be: sizes are
// bounded per record and per field, an unknown column is refused by name,
// and every line that cannot be imported says why (line, field, reason).
//
// It also maps the codes such a manifest holds to Lyceum's vocabularies
// (docs/METADATA.md): Lyceum's own codes, and MoodleNet's (licences such
// as cc-by-sa, ISCED-F keys such as F0533, ISCED levels such as ED2, its
// 21 resource types, ISO 639-3 languages), so that a library exported
// from moodle.net or another MoodleNet imports as it is. The table is in
// moodlenet.go and listed in docs/IMPORT.md.
//
// It does no I/O of its own besides reading the manifest: fetching the
// files and talking to the node are the command's.
package manifest
