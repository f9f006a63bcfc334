package daemon

import (
	"context"
	"io"

	"github.com/lyceum-oer/lyceum/node"
)

// backuper serves the node's backups to the gateway (POST /api/v1/backup).
type backuper struct{ n *node.Node }

func (b backuper) Backup(ctx context.Context, w io.Writer) error {
	_, err := b.n.Backup(ctx, w)
	return err
}
