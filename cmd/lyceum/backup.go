package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/lyceum-oer/lyceum/gateway"
	"github.com/lyceum-oer/lyceum/node"
	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/backup"
)

func (a *app) backupCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "backup FILE",
		Short: "Write the whole node to one archive (while the daemon runs, through it)",
		Long: `backup writes the node to FILE, a gzipped tar: consistent copies of its
databases (logs, local actors' keys, accounts, the fediverse bridge), its
config, identity key and API token, its pins and its blocks, with a manifest
of sizes and SHA-256 digests. The search index is left out: a restored node
rebuilds it. FILE holds every secret of the node: keep it as safe as the repo.

While a daemon runs, the backup is made by the daemon (POST /api/v1/backup)
and the node keeps working; otherwise on the repo directly.`,
		Args: exactArgs(1, "FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.backup(cmd.Context(), args[0])
		},
	}
	a.addJSONFlag(cmd)
	return cmd
}

func (a *app) backup(ctx context.Context, path string) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer func() {
		tmp.Close()
		if err != nil {
			os.Remove(tmp.Name())
		}
	}()
	if err := a.writeBackup(ctx, tmp); err != nil {
		return err
	}
	// Read it back: an archive the daemon cut short is refused here, not
	// on the day it is needed.
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return err
	}
	m, err := backup.Check(ctx, tmp)
	if err != nil {
		return api.Wrap(api.KindUnavailable, "backup: the archive is incomplete", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if a.jsonOut {
		return a.printJSON(m)
	}
	fmt.Fprintf(a.stdout, "backed up node %s to %s: %d files, %d blocks (%d bytes)\n",
		m.NodeID, path, len(m.Files), m.Blocks.Count, m.Blocks.Bytes)
	return nil
}

// writeBackup has the daemon write the archive when one runs, and writes
// it from the repo otherwise.
func (a *app) writeBackup(ctx context.Context, w io.Writer) error {
	if addr, token, err := node.ReadAPI(a.repoPath); err == nil {
		c := gateway.NewClient(addr, token)
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, perr := c.ID(pctx)
		cancel()
		if perr == nil {
			return c.Backup(ctx, w)
		}
		if api.KindOf(perr) != api.KindUnavailable {
			return perr
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("read the daemon's address: %w", err)
	}
	repo, err := node.OpenRepo(a.repoPath)
	if err != nil {
		return err
	}
	n, err := node.New(repo, node.WithOffline(), node.WithLogger(a.log))
	if err != nil {
		repo.Close()
		return err
	}
	defer n.Close()
	_, err = n.Backup(ctx, w)
	return err
}

func (a *app) restoreCommand() *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "restore FILE",
		Short: "Make the repo (--repo, $LYCEUM_PATH) from a backup archive",
		Long: `restore reads an archive written by 'lyceum backup' into the repo folder,
which must not exist or be empty (--force replaces it; never while a daemon
holds it). Every file is checked against the archive's manifest and every
block against its CID before the repo is put in place. The search index is
rebuilt from the logs when the node next starts.`,
		Args: exactArgs(1, "FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.restore(cmd.Context(), args[0], force)
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "replace a folder that is not empty")
	a.addJSONFlag(cmd)
	return cmd
}

func (a *app) restore(ctx context.Context, path string, force bool) error {
	f, err := os.Open(path)
	if err != nil {
		return api.Wrap(api.KindNotFound, "restore", err)
	}
	defer f.Close()
	if force && node.IsInitialized(a.repoPath) {
		// The repo's lock says whether a daemon holds it.
		repo, err := node.OpenRepo(a.repoPath)
		if err != nil {
			return err
		}
		repo.Close()
	}
	m, err := backup.Restore(ctx, f, a.repoPath, backup.Options{Force: force})
	if errors.Is(err, backup.ErrNotEmpty) {
		return api.Wrap(api.KindConflict, "restore", err)
	}
	if errors.Is(err, backup.ErrInvalid) {
		return api.Wrap(api.KindInvalid, "restore", err)
	}
	if err != nil {
		return err
	}
	if a.jsonOut {
		return a.printJSON(m)
	}
	fmt.Fprintf(a.stdout, "restored node %s into %s (%d blocks); the search index is rebuilt when it starts\n",
		m.NodeID, a.repoPath, m.Blocks.Count)
	return nil
}
