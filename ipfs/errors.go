package ipfs

import (
	"errors"
	"fmt"
	"time"

	"github.com/ipfs/go-cid"
)

// Errors callers can test with errors.Is to decide what to tell the user.
// Every error returned by this package wraps at most one of them, together
// with context naming the operation and the CID involved.
var (
	// ErrNotFound means a block or CID is not in the local store and could
	// not be fetched (the Content is offline, or the context ended first).
	ErrNotFound = errors.New("not found")

	// ErrInvalidCAR means a CAR stream is malformed: bad header, unknown
	// version, truncated or corrupt section.
	ErrInvalidCAR = errors.New("invalid CAR")

	// ErrBadBlock means a block is unacceptable on its own: its bytes do
	// not hash to its CID, it is larger than allowed, or its CID uses a
	// hash function that is not allowed.
	ErrBadBlock = errors.New("bad block")

	// ErrNotFile means a CID names something other than a UnixFS file
	// where a file was expected (for example a directory given to Cat).
	ErrNotFile = errors.New("not a file")

	// ErrClosed means the Store was used after Close.
	ErrClosed = errors.New("store closed")
)

// ErrNotPinned means Unpin was given a CID that is not pinned recursively.
var ErrNotPinned = errors.New("not pinned")

// NoProviderError is the ErrNotFound of a CID that no peer offered within
// the find timeout (WithFindTimeout).
type NoProviderError struct {
	CID   cid.Cid
	After time.Duration
}

func (e *NoProviderError) Error() string {
	return fmt.Sprintf("no provider found for %s after %s; is a peer that has it online?", e.CID, e.After)
}

// Is makes a NoProviderError an ErrNotFound.
func (e *NoProviderError) Is(target error) bool { return target == ErrNotFound }
