// Package delivery is the gateway's outgoing federation HTTP: a client that
// will not be pointed at private addresses, and a persistent queue that
// POSTs signed activities to remote inboxes.
//
// NewHTTPClient checks every address it dials, after DNS resolution, so a
// name that resolves (or is rebound) to a loopback, private, link-local,
// multicast or unspecified address is refused unless allow-listed.
//
// Queue keeps deliveries in its own SQLite file, opened by the node's one
// SQLite helper (node/sqlitedb: owner-only, WAL, synchronous=FULL, foreign
// keys on): an Enqueue that returned survives a crash. Workers sign each POST when
// it is sent, and again on every retry; 5xx, 429 and network errors are
// retried with exponential backoff (honouring Retry-After) for up to 48
// hours; other 4xx answers drop the delivery. Concurrency per remote host
// is bounded, and a host that keeps failing is marked unreachable: its
// deliveries are kept but not attempted, except one probe now and then,
// until a probe succeeds or MarkReachable is called (it contacted us).
// Delivery is at least once: a POST that succeeded just before a crash or
// Close, but whose success was not yet recorded, is sent again; receivers
// deduplicate by activity id.
package delivery
