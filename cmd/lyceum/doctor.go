package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/spf13/cobra"

	"github.com/lyceum-oer/lyceum/gateway"
	"github.com/lyceum-oer/lyceum/node"
	"github.com/lyceum-oer/lyceum/node/api"
)

func (a *app) doctorCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Look the node over and say what to do about each problem",
		Long: `doctor checks what a new operator hits: whether other nodes can reach this
one (AutoNAT), its peers, its HQs, the disk space left, the clock, and the
repo's integrity (a random sample of blocks re-hashed against their CIDs,
each local actor's log walked through its seqs and prev links). The network
checks need a running daemon; without one they are skipped.

It exits 1 when a check failed.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.doctor(cmd.Context())
		},
	}
	a.addJSONFlag(cmd)
	return cmd
}

func (a *app) doctor(ctx context.Context) error {
	rep, err := a.runDoctor(ctx)
	if err != nil {
		return err
	}
	if a.jsonOut {
		if err := a.printJSON(rep); err != nil {
			return err
		}
	} else {
		for _, c := range rep.Checks {
			fmt.Fprintf(a.stdout, "%-7s %s: %s\n", "["+c.Status+"]", c.Name, c.Detail)
			if c.Fix != "" && c.Status != api.CheckOK {
				fmt.Fprintf(a.stdout, "        → %s\n", c.Fix)
			}
		}
	}
	if !rep.OK {
		return errors.New("doctor: some checks failed (see above)")
	}
	return nil
}

// runDoctor asks the running daemon, or looks the repo over offline.
func (a *app) runDoctor(ctx context.Context) (api.DoctorReport, error) {
	if addr, token, err := node.ReadAPI(a.repoPath); err == nil {
		c := gateway.NewClient(addr, token)
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, perr := c.ID(pctx)
		cancel()
		if perr == nil {
			return c.Doctor(ctx)
		}
		if api.KindOf(perr) != api.KindUnavailable {
			return api.DoctorReport{}, perr
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return api.DoctorReport{}, fmt.Errorf("read the daemon's address: %w", err)
	}
	repo, err := node.OpenRepo(a.repoPath)
	if err != nil {
		return api.DoctorReport{}, err
	}
	n, err := node.New(repo, node.WithOffline(), node.WithLogger(a.log))
	if err != nil {
		repo.Close()
		return api.DoctorReport{}, err
	}
	defer n.Close()
	return n.Doctor(ctx, "")
}
