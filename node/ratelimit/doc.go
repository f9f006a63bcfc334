// Package ratelimit limits the rate of requests per key (an IP, a peer,
// an actor, a server) with a token bucket for each, remembering a bounded
// number of keys: the least recently seen are forgotten, so that a flood
// of new keys costs memory up to the bound and never lifts the limits of
// the keys that keep sending (as forgetting every key at once would).
package ratelimit
