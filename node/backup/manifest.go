package backup

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/ipfs/go-cid"
)

// Format and Version name the archive format in its manifest.
const (
	Format  = "lyceum-backup"
	Version = 1
)

// Names of the archive's entries besides the blocks.
const (
	ManifestName = "MANIFEST.json"
	RecordsName  = "store/records"
	blocksDir    = "store/blocks/"
)

// repoFiles are copied from the repo as they are; required says which a
// repo cannot lack.
var repoFiles = []struct {
	name     string
	required bool
}{
	{"config.toml", true}, {"identity.key", true}, {"api.token", true}, {"version", true}, {"peers.json", false},
}

// databases are the SQLite files of a repo, copied with VACUUM INTO; only
// lyceum.db is always there (accounts.db is made at the first start, the
// bridge's files when the daemon first runs it).
var databases = []struct {
	name     string
	required bool
}{
	{"lyceum.db", true}, {"accounts.db", false}, {"fediverse.db", false}, {"delivery.db", false}, {"pinning.db", false},
}

// Manifest describes an archive; it is its last entry.
type Manifest struct {
	Format  string    `json:"format"`
	Version int       `json:"version"`
	NodeID  string    `json:"node_id"`
	Created time.Time `json:"created"`
	// Files are every entry but the blocks and the manifest, in archive
	// order.
	Files []File `json:"files"`
	// Blocks counts the store/blocks entries: each is checked against its
	// CID rather than listed.
	Blocks Blocks `json:"blocks"`
}

// File is one entry of the archive.
type File struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Blocks sums up the archive's blocks.
type Blocks struct {
	Count int64 `json:"count"`
	Bytes int64 `json:"bytes"`
}

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

// check validates the manifest on its own.
func (m *Manifest) check() error {
	if m.Format != Format {
		return fmt.Errorf("manifest: format %q, want %q", m.Format, Format)
	}
	if m.Version != Version {
		return fmt.Errorf("manifest: version %d; this lyceum reads version %d", m.Version, Version)
	}
	if m.NodeID == "" {
		return fmt.Errorf("manifest: no node ID")
	}
	if m.Blocks.Count < 0 || m.Blocks.Bytes < 0 {
		return fmt.Errorf("manifest: negative block counts")
	}
	seen := map[string]bool{}
	for _, f := range m.Files {
		if kind := entryKind(f.Name); kind == entryInvalid || kind == entryBlock || kind == entryManifest {
			return fmt.Errorf("manifest: %q is not a file of an archive", f.Name)
		}
		if seen[f.Name] {
			return fmt.Errorf("manifest: %s listed twice", f.Name)
		}
		seen[f.Name] = true
		if f.Size < 0 || !sha256Hex.MatchString(f.SHA256) {
			return fmt.Errorf("manifest: %s has a bad size or digest", f.Name)
		}
	}
	for _, list := range [][]struct {
		name     string
		required bool
	}{repoFiles, databases} {
		for _, f := range list {
			if f.required && !seen[f.name] {
				return fmt.Errorf("manifest: %s is missing", f.name)
			}
		}
	}
	return nil
}

type entry int

const (
	entryInvalid entry = iota
	entryRepoFile
	entryDatabase
	entryRecords
	entryBlock
	entryManifest
)

// entryKind says what an entry name is; entryInvalid for any name an
// archive may not hold.
func entryKind(name string) entry {
	for _, f := range repoFiles {
		if name == f.name {
			return entryRepoFile
		}
	}
	for _, f := range databases {
		if name == f.name {
			return entryDatabase
		}
	}
	switch name {
	case RecordsName:
		return entryRecords
	case ManifestName:
		return entryManifest
	}
	if rest, ok := strings.CutPrefix(name, blocksDir); ok {
		if c, err := cid.Decode(rest); err == nil && c.String() == rest {
			return entryBlock
		}
	}
	return entryInvalid
}
