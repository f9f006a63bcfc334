// Package web is the node's web app: the pages teachers, institutions'
// admins and moderators use from a browser, served by the daemon at "/".
//
// Pages are rendered on the server from html/template (which escapes all
// output) and work without JavaScript; a little JavaScript, served from
// the node like every asset (no build step, no inline script: the
// Content-Security-Policy forbids it), enhances them: upload progress,
// drag and drop. Every text of the interface goes through the message
// catalogs of i18n/ (English and French, complete), and codes (subjects,
// levels, licences, types, languages) are shown by their names in the
// interface language.
//
// A person signs in with an account of the node (package node/accounts):
// a session cookie (HttpOnly, SameSite=Lax, Secure over HTTPS) and, on
// every form, a CSRF token bound to the session (or, before sign-in, to a
// cookie of its own). The app calls the node's rooms only through the
// small interfaces of services.go, in the types of node/api.
package web
