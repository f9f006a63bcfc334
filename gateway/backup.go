package gateway

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Backuper writes a backup of the running node (node/backup's archive).
type Backuper interface {
	// Backup writes the whole archive to w; an error may come after some
	// of it was written (the archive is then cut short of its manifest,
	// which a restore refuses).
	Backup(ctx context.Context, w io.Writer) error
}

// apiBackup streams a backup archive. The headers go before the archive
// is made: a failure midway cuts the stream, so that the client never
// sees a complete-looking archive.
func (s *Server) apiBackup(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/gzip")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="lyceum-backup-%s.tar.gz"`, time.Now().UTC().Format("20060102-150405")))
	if err := s.svc.Backup.Backup(r.Context(), w); err != nil {
		s.log.Warn("backup failed", "err", err)
		panic(http.ErrAbortHandler)
	}
}

// Backup asks the daemon for a backup archive and copies it to w.
func (c *Client) Backup(ctx context.Context, w io.Writer) error {
	resp, err := c.do(ctx, http.MethodPost, "/api/v1/backup", nil, "")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("backup: the stream broke off: %w", err)
	}
	return nil
}
