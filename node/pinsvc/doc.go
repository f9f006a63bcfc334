// Package pinsvc is the room of the node's IPFS Pinning Service: the pin
// requests accounts make through the Pinning Service API
// (gateway/pinning), kept in $LYCEUM_PATH/pinning.db, and the bounded
// pool of workers that pins them in the background with the node's
// content service, dialling the request's origins first.
//
// Every read and write names the account: another account's request is
// "not found". A request's CID is unpinned when its last request goes,
// and only if the service made the pin: what was pinned by hand (or by
// publishing) stays.
package pinsvc
