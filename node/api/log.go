package api

import "github.com/lyceum-oer/lyceum/activity"

// LogEntry is one stored activity of an actor's log, with its place in the
// order the node stored them.
type LogEntry struct {
	// Cursor orders entries as they were stored: it only grows. A reader
	// that checkpoints the last cursor it handled resumes after it.
	Cursor   int64
	CID      string
	Activity *activity.Activity
	// Local is true for an activity of one of the node's own actors.
	Local bool
}
