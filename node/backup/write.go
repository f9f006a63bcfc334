package backup

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	blocks "github.com/ipfs/go-block-format"

	"github.com/lyceum-oer/lyceum/node/sqlitedb"
)

// Store is the content store as a backup reads it (ipfs.Store): its
// records, then its blocks, with no GC in between.
type Store interface {
	Backup(ctx context.Context, record func(key string, value []byte) error, block func(blocks.Block) error) error
}

// Source is the running node a backup reads.
type Source struct {
	// RepoPath is the repo's folder: its files and its SQLite databases.
	RepoPath string
	// TmpDir is where the database copies are made before they are
	// archived; they are removed after.
	TmpDir string
	// NodeID is the node's peer ID, written in the manifest.
	NodeID string
	// Store is the node's content store.
	Store Store
}

// Write writes a backup of src to w, gzipped, and returns its manifest.
// It reads the databases first (each a consistent copy), then the store
// (its pins before its blocks): whatever a copied log entry names was
// pinned before it was appended.
func Write(ctx context.Context, w io.Writer, src Source) (Manifest, error) {
	m := Manifest{Format: Format, Version: Version, NodeID: src.NodeID, Created: time.Now().UTC()}
	if err := os.MkdirAll(src.TmpDir, 0o700); err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	tmp, err := os.MkdirTemp(src.TmpDir, "backup-")
	if err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	defer os.RemoveAll(tmp)
	zw := gzip.NewWriter(w)
	tw := tar.NewWriter(zw)
	aw := &archiveWriter{tw: tw, m: &m}
	if err := aw.addRepoFiles(ctx, src.RepoPath, tmp); err != nil {
		return m, err
	}
	if err := aw.addStore(ctx, src.Store, tmp); err != nil {
		return m, err
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return m, err
	}
	if err := aw.header(ManifestName, int64(len(data))); err != nil {
		return m, err
	}
	if _, err := tw.Write(data); err != nil {
		return m, fmt.Errorf("backup: manifest: %w", err)
	}
	if err := tw.Close(); err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	if err := zw.Close(); err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	return m, nil
}

// addRepoFiles adds consistent copies of the repo's databases (made in
// tmp) and its other files.
func (aw *archiveWriter) addRepoFiles(ctx context.Context, repo, tmp string) error {
	for _, db := range databases {
		path := filepath.Join(repo, db.name)
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) && !db.required {
			continue
		}
		copyPath := filepath.Join(tmp, db.name)
		if err := vacuumInto(ctx, path, copyPath); err != nil {
			return err
		}
		if err := aw.addFile(db.name, copyPath); err != nil {
			return err
		}
		os.Remove(copyPath)
	}
	for _, f := range repoFiles {
		path := filepath.Join(repo, f.name)
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) && !f.required {
			continue
		}
		if err := aw.addFile(f.name, path); err != nil {
			return err
		}
	}
	return nil
}

// addStore adds the content store: its records (pins and the node's own
// datastore records) as one file, then every block. The records go to a
// file in tmp first (a tar header needs the size), the blocks straight
// into the archive once the records are in.
func (aw *archiveWriter) addStore(ctx context.Context, store Store, tmp string) error {
	recPath := filepath.Join(tmp, "records")
	rf, err := os.OpenFile(recPath, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer rf.Close()
	rbuf := bufio.NewWriter(rf)
	recordsDone := false
	addRecords := func() error {
		if recordsDone {
			return nil
		}
		recordsDone = true
		if err := rbuf.Flush(); err != nil {
			return fmt.Errorf("backup: records: %w", err)
		}
		return aw.addFile(RecordsName, recPath)
	}
	err = store.Backup(ctx, func(key string, value []byte) error {
		return writeRecord(rbuf, key, value)
	}, func(b blocks.Block) error {
		if err := addRecords(); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		return aw.addBlock(b)
	})
	if err != nil {
		return fmt.Errorf("backup: store: %w", err)
	}
	return addRecords()
}

// vacuumInto copies the SQLite database at path to dest with VACUUM
// INTO: a consistent copy of one read transaction, while other
// connections (the running node's) go on writing.
func vacuumInto(ctx context.Context, path, dest string) error {
	db, err := sqlitedb.Open(path, sqlitedb.Options{})
	if err != nil {
		return fmt.Errorf("backup %s: %w", filepath.Base(path), err)
	}
	defer db.Close()
	if _, err := db.SQL().ExecContext(ctx, "VACUUM INTO ?", dest); err != nil {
		return fmt.Errorf("backup %s: %w", filepath.Base(path), err)
	}
	return nil
}

// writeRecord appends one record: its key's length and bytes, its
// value's length and bytes (lengths as uvarints).
func writeRecord(w io.Writer, key string, value []byte) error {
	var n [binary.MaxVarintLen64]byte
	for _, part := range [][]byte{[]byte(key), value} {
		if _, err := w.Write(n[:binary.PutUvarint(n[:], uint64(len(part)))]); err != nil {
			return err
		}
		if _, err := w.Write(part); err != nil {
			return err
		}
	}
	return nil
}

type archiveWriter struct {
	tw *tar.Writer
	m  *Manifest
}

func (a *archiveWriter) header(name string, size int64) error {
	err := a.tw.WriteHeader(&tar.Header{Name: name, Size: size, Mode: 0o600, Typeflag: tar.TypeReg,
		ModTime: a.m.Created, Format: tar.FormatPAX})
	if err != nil {
		return fmt.Errorf("backup: %s: %w", name, err)
	}
	return nil
}

// addFile archives the file at path as name and lists it in the manifest.
func (a *archiveWriter) addFile(name, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := a.header(name, st.Size()); err != nil {
		return err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(a.tw, h), io.LimitReader(f, st.Size()))
	if err != nil {
		return fmt.Errorf("backup: %s: %w", name, err)
	}
	if n != st.Size() {
		return fmt.Errorf("backup: %s changed size while it was read", name)
	}
	a.m.Files = append(a.m.Files, File{Name: name, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))})
	return nil
}

func (a *archiveWriter) addBlock(b blocks.Block) error {
	data := b.RawData()
	if err := a.header(blocksDir+b.Cid().String(), int64(len(data))); err != nil {
		return err
	}
	if _, err := a.tw.Write(data); err != nil {
		return fmt.Errorf("backup: block %s: %w", b.Cid(), err)
	}
	a.m.Blocks.Count++
	a.m.Blocks.Bytes += int64(len(data))
	return nil
}
