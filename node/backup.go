package node

import (
	"context"
	"io"

	"github.com/lyceum-oer/lyceum/node/backup"
)

// Backup writes an archive of the running node to w (see package backup):
// consistent copies of its databases, its files and keys, its pins and
// blocks; not the search index, which a restored node rebuilds.
func (n *Node) Backup(ctx context.Context, w io.Writer) (backup.Manifest, error) {
	return backup.Write(ctx, w, backup.Source{
		RepoPath: n.repo.Path(), TmpDir: n.tmpDir(), NodeID: n.repo.PeerID().String(), Store: n.store,
	})
}
