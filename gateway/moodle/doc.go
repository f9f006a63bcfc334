// Package moodle is the HTTP surface that Moodle LMS (4.2 to 5.1) speaks
// to a MoodleNet instance, served by a Lyceum node so that "Share to
// MoodleNet" lands here: the OAuth 2 authorization server's metadata
// (RFC 8414), open dynamic client registration (RFC 7591), the token
// endpoint (authorization_code and refresh_token grants, client_secret_post
// and client_secret_basic), and MoodleNet's
// POST /.pkg/@moodlenet/ed-resource/basic/v1/create, which takes a Moodle
// backup (.mbz) and makes it a draft of the teacher who consented.
//
// The consent page itself (/oauth/authorize) is the web app's
// (gateway/web), where the teacher signs in. OAuth storage is the
// accounts room's (node/accounts); this package declares what it needs of
// it, and of the content store and the drafts, as small interfaces
// (services.go).
//
// A backup streams into the content store unpinned while a second
// goroutine reads it, through a bounded buffer, for its
// moodle_backup.xml (gateway/moodle/mbz): nothing of it is held in
// memory, and a backup refused at any point leaves only unpinned blocks,
// which the next garbage collection removes, and no draft.
package moodle
