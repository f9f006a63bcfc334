// Package mbz reads what a Moodle backup (.mbz) says of itself: the
// moodle_backup.xml at its root, which names the backup's type (a
// course, a section or an activity), the Moodle that made it, and the
// activities it holds.
//
// A .mbz is a gzip-compressed tar by default (Moodle's tgz packer), or a
// zip when the site sets $CFG->usezipbackups. The tar form is read as it
// streams, to its end, so that a truncated or corrupt backup is refused
// (the gzip trailer's CRC and length are checked); the zip form needs
// random access to its central directory. Every read is bounded: the
// bytes a backup expands to, its entries, and the size of its
// moodle_backup.xml. Errors are api.KindInvalid with a message safe to
// show to whoever sent the backup.
package mbz
