package gateway

import (
	"errors"
	"io"
	"net/http"

	"github.com/ipfs/boxo/files"

	"github.com/lyceum-oer/lyceum/node/api"
)

// uploadError marks a failure to read what the client sent, as opposed to
// a failure of the node, so that it is answered 400 and not 500.
type uploadError struct{ err error }

func (e uploadError) Error() string { return "bad upload: " + e.err.Error() }
func (e uploadError) Unwrap() error { return e.err }

// markUpload wraps a file tree read from a request so that its read errors
// are uploadErrors.
func markUpload(n files.Node) files.Node {
	switch n := n.(type) {
	case *files.Symlink:
		return n
	case files.Directory:
		return uploadDir{n}
	case files.File:
		return uploadFile{n}
	}
	return n
}

type uploadDir struct{ files.Directory }

func (d uploadDir) Entries() files.DirIterator { return uploadIter{d.Directory.Entries()} }

type uploadIter struct{ files.DirIterator }

func (it uploadIter) Node() files.Node { return markUpload(it.DirIterator.Node()) }

func (it uploadIter) Err() error {
	if err := it.DirIterator.Err(); err != nil {
		return uploadError{err}
	}
	return nil
}

type uploadFile struct{ files.File }

func (f uploadFile) Read(p []byte) (int, error) {
	n, err := f.File.Read(p)
	if err != nil && err != io.EOF {
		err = uploadError{err}
	}
	return n, err
}

// classifyUpload gives upload failures the kind the client should see.
func classifyUpload(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return &api.Error{Kind: api.KindInvalid, Msg: "upload too large", Err: err}
	}
	var ue uploadError
	if errors.As(err, &ue) {
		return &api.Error{Kind: api.KindInvalid, Msg: "bad upload", Err: ue.err}
	}
	return err
}
