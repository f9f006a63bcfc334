package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	"github.com/lyceum-oer/lyceum/node/api"
)

// importState is what an import has done, kept beside its manifest so
// that a rerun skips it: an append-only JSON Lines file, one mark a line,
// each synced before the import goes on. It is held under an exclusive
// lock, so two imports of one manifest cannot run at once.
type importState struct {
	path string
	f    *os.File
	// marks are the last mark of each key.
	marks map[string]importMark
}

// The states of a line in the state file.
const (
	markPending = "pending" // about to be saved or published: the outcome is not known yet
	markDone    = "done"    // saved as a draft or published
	markFailed  = "failed"  // the node refused it: a rerun tries again
)

// importMark is one line of the state file.
type importMark struct {
	Key     string    `json:"key"`
	Line    int       `json:"line"`
	Status  string    `json:"status"`
	Draft   int64     `json:"draft,omitempty"`
	ID      string    `json:"id,omitempty"`
	FileCID string    `json:"file_cid,omitempty"`
	At      time.Time `json:"at"`
}

// maxStateLine bounds one line of the state file when it is read back.
const maxStateLine = 4 << 10

// importKey is what identifies an imported record: the node, the account
// or actor it is imported as, and the record's content hash, whatever
// line it is on. The same manifest imported on another node, or as
// another person, is imported again.
func importKey(peerID, as, recordHash string) string {
	sum := sha256.Sum256([]byte(peerID + "\x00" + as + "\x00" + recordHash))
	return hex.EncodeToString(sum[:16])
}

// openImportState opens (or creates) the state file and locks it; a
// state file locked by another import is KindUnavailable.
func openImportState(path string) (*importState, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, api.Wrap(api.KindInvalid, "cannot open the import's state file "+path+" (choose another with --state)", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, api.Errorf(api.KindUnavailable, "another import of this manifest is running (it holds %s)", path)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	s := &importState{path: path, f: f, marks: map[string]importMark{}}
	if err := s.load(); err != nil {
		f.Close()
		return nil, err
	}
	return s, nil
}

// load reads the marks. A last line cut short (a crash while writing
// it) is dropped; any other bad line is an error, as the file is not
// ours then.
func (s *importState) load() error {
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("read %s: %w", s.path, err)
	}
	br := bufio.NewReader(s.f)
	for n := 1; ; n++ {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, io.EOF) && len(line) == 0 {
			return nil
		}
		cut := errors.Is(err, io.EOF) // no end of line: the last write did not finish
		if err != nil && !cut {
			if errors.Is(err, bufio.ErrBufferFull) || len(line) > maxStateLine {
				return api.Invalidf("%s line %d is too long: it is not an import's state file", s.path, n)
			}
			return fmt.Errorf("read %s: %w", s.path, err)
		}
		var m importMark
		if jerr := json.Unmarshal(line, &m); jerr != nil || m.Key == "" {
			if cut {
				return nil
			}
			return api.Invalidf("%s line %d is not a mark of an import: remove the file or choose another with --state", s.path, n)
		}
		s.marks[m.Key] = m
		if cut {
			return nil
		}
	}
}

// mark appends a mark and syncs it, so that it outlives a crash.
func (s *importState) mark(m importMark) error {
	m.At = time.Now().UTC()
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode a mark: %w", err)
	}
	if _, err := s.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("write %s: %w", s.path, err)
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", s.path, err)
	}
	s.marks[m.Key] = m
	return nil
}

// Close releases the lock.
func (s *importState) Close() error { return s.f.Close() }
