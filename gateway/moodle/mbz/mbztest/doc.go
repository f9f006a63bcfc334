// Package mbztest makes Moodle backups (.mbz) for tests and benchmarks:
// a moodle_backup.xml as Moodle 4.x writes it, the activities' folders,
// and any large file, in a gzip-compressed tar or a zip.
package mbztest
