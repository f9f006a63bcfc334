package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/spf13/cobra"

	"github.com/lyceum-oer/lyceum/node/api"
)

// printJSON writes v as indented JSON on stdout.
func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (a *app) addJSONFlag(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&a.jsonOut, "json", false, "print the result as JSON")
}

func (a *app) idCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "id",
		Short: "Show the node's peer ID and addresses",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withBackend(cmd.Context(), func(b backend) error {
				id, err := b.ID(cmd.Context())
				if err != nil {
					return err
				}
				if a.jsonOut {
					return a.printJSON(id)
				}
				fmt.Fprintf(a.stdout, "peer ID: %s\nagent:   %s\n", id.PeerID, id.AgentVersion)
				if !id.Online {
					fmt.Fprintln(a.stdout, "offline: no daemon is running, so the node has no addresses")
				}
				for _, addr := range id.Addrs {
					fmt.Fprintln(a.stdout, addr)
				}
				return nil
			})
		},
	}
	a.addJSONFlag(cmd)
	return cmd
}

func (a *app) connectCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "connect MULTIADDR",
		Short:   "Connect to a peer by its full multiaddr",
		Example: "  lyceum connect /ip4/192.0.2.7/tcp/4101/p2p/12D3KooW…",
		Args:    exactArgs(1, "one multiaddr"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withBackend(cmd.Context(), func(b backend) error {
				res, err := b.Connect(cmd.Context(), api.ConnectRequest{Addr: args[0]})
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "connected to %s\n", res.PeerID)
				return nil
			})
		},
	}
}

func (a *app) peersCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "peers",
		Short: "List the peers the daemon is connected to",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withBackend(cmd.Context(), func(b backend) error {
				peers, err := b.Peers(cmd.Context())
				if err != nil {
					return err
				}
				if a.jsonOut {
					return a.printJSON(peers)
				}
				a.none(len(peers), "no peers connected")
				for _, p := range peers {
					fmt.Fprintf(a.stdout, "%s/p2p/%s\n", p.Addr, p.ID)
				}
				return nil
			})
		},
	}
	a.addJSONFlag(cmd)
	return cmd
}

func (a *app) addCommand() *cobra.Command {
	var (
		o         api.AddOptions
		rawLeaves bool
		noPin     bool
	)
	cmd := &cobra.Command{
		Use:   "add FILE|DIR",
		Short: "Import a file or folder and print its CID",
		Long: `Import a file or folder into the repo, pin it, and print its root CID.

With the defaults, the CID is the one Kubo's 'ipfs add' gives for the same
bytes: CIDv0, 256 KiB chunks, at most 174 links per node, dag-pb leaves.
--cid-version 1 turns on raw leaves, as in Kubo.`,
		Args: exactArgs(1, "one file or folder"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("raw-leaves") {
				o.RawLeaves = &rawLeaves
			}
			o.NoPin = noPin
			path := args[0]
			st, err := os.Stat(path)
			if err != nil {
				return api.Wrap(api.KindNotFound, "cannot read "+path, err)
			}
			var total int64
			if st.Mode().IsRegular() {
				total = st.Size()
			} else {
				total = dirSize(path, o.Hidden)
			}
			return a.withBackend(cmd.Context(), func(b backend) error {
				bar := a.newProgress(total, "adding "+filepath.Base(path))
				c, err := b.Add(cmd.Context(), path, o, bar.set)
				bar.finish(err == nil)
				if err != nil {
					return err
				}
				if a.jsonOut {
					return a.printJSON(map[string]any{"name": filepath.Base(path), "cid": c.String(), "bytes": total})
				}
				if a.quiet {
					fmt.Fprintln(a.stdout, c)
				} else {
					fmt.Fprintf(a.stdout, "added %s %s\n", c, filepath.Base(path))
				}
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.CIDVersion, "cid-version", 0, "CID version: 0 (Kubo's default) or 1 (implies --raw-leaves)")
	f.BoolVar(&rawLeaves, "raw-leaves", false, "store file chunks as raw blocks")
	f.StringVar(&o.Chunker, "chunker", "", "chunking: size-N (bytes); default size-262144")
	f.StringVar(&o.Profile, "profile", "", "UnixFS profile: unixfs-v0-2015 or unixfs-v1-2025 (default: import.profile in config)")
	f.BoolVar(&noPin, "no-pin", false, "do not pin the result (gc will remove it)")
	f.BoolVarP(&o.Hidden, "hidden", "H", false, "include files whose name starts with a dot")
	f.BoolVarP(&a.quiet, "quiet", "q", false, "print only the CID")
	a.addJSONFlag(cmd)
	return cmd
}

// dirSize adds up the sizes of the regular files under dir, for the
// progress bar.
func dirSize(dir string, hidden bool) int64 {
	var total int64
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if !hidden && p != dir && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				total += info.Size()
			}
		}
		return nil
	})
	return total
}

func (a *app) getCommand() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "get CID",
		Short: "Fetch a file or folder by CID and write it to disk",
		Args:  exactArgs(1, "one CID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := api.ParseCID(args[0])
			if err != nil {
				return err
			}
			if out == "" {
				out = c.String()
			}
			if _, err := os.Lstat(out); err == nil {
				return api.Errorf(api.KindConflict, "%s exists already: choose another path with -o", out)
			}
			return a.withBackend(cmd.Context(), func(b backend) error {
				size, err := b.Size(cmd.Context(), c)
				if err != nil {
					return err
				}
				bar := a.newProgress(size, "getting "+c.String())
				err = b.Get(cmd.Context(), c, out, bar.set)
				bar.finish(err == nil)
				if err != nil {
					return err
				}
				if !a.quiet {
					fmt.Fprintf(a.stderr, "saved %s to %s\n", c, out)
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "where to write (default: the CID)")
	cmd.Flags().BoolVarP(&a.quiet, "quiet", "q", false, "print nothing on success")
	return cmd
}

func (a *app) catCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "cat CID",
		Short: "Write a file's bytes to standard output",
		Args:  exactArgs(1, "one CID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := api.ParseCID(args[0])
			if err != nil {
				return err
			}
			return a.withBackend(cmd.Context(), func(b backend) error {
				r, _, err := b.Cat(cmd.Context(), c)
				if err != nil {
					return err
				}
				defer r.Close()
				if _, err := io.Copy(a.stdout, r); err != nil {
					return fmt.Errorf("cat %s: %w", c, err)
				}
				return nil
			})
		},
	}
}

func (a *app) pinCommand() *cobra.Command {
	pin := &cobra.Command{
		Use:   "pin",
		Short: "Keep content in the repo (pins survive gc)",
	}
	add := a.cidCommand("add CID", "Pin a DAG recursively, fetching what the node lacks", "pinned", backend.Pin)
	rm := a.cidCommand("rm CID", "Remove a pin (gc then frees the blocks)", "unpinned", backend.Unpin)
	ls := &cobra.Command{
		Use:   "ls",
		Short: "List the pins",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withBackend(cmd.Context(), func(b backend) error {
				pins, err := b.Pins(cmd.Context())
				if err != nil {
					return err
				}
				if a.jsonOut {
					out := []string{}
					for _, p := range pins {
						out = append(out, p.String())
					}
					return a.printJSON(map[string]any{"pins": out})
				}
				a.none(len(pins), "no pins: `lyceum add FILE` pins what it adds")
				for _, p := range pins {
					fmt.Fprintln(a.stdout, p)
				}
				return nil
			})
		},
	}
	a.addJSONFlag(ls)
	pin.AddCommand(add, rm, ls, a.pinRemoteCommand())
	return pin
}

// cidCommand is a command that does one thing to one CID and says so.
func (a *app) cidCommand(use, short, done string, do func(backend, context.Context, cid.Cid) error) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  exactArgs(1, "one CID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := api.ParseCID(args[0])
			if err != nil {
				return err
			}
			return a.withBackend(cmd.Context(), func(b backend) error {
				if err := do(b, cmd.Context(), c); err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "%s %s\n", done, c)
				return nil
			})
		},
	}
}

func (a *app) gcCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "gc",
		Short: "Remove every block that no pin keeps",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withBackend(cmd.Context(), func(b backend) error {
				n, err := b.GC(cmd.Context())
				if err != nil {
					return err
				}
				if a.jsonOut {
					return a.printJSON(map[string]int{"removed": n})
				}
				fmt.Fprintf(a.stdout, "removed %d blocks\n", n)
				return nil
			})
		},
	}
	a.addJSONFlag(cmd)
	return cmd
}

func (a *app) carCommand() *cobra.Command {
	car := &cobra.Command{
		Use:   "car",
		Short: "Export and import CAR files (content-addressed archives)",
	}
	export := &cobra.Command{
		Use:     "export CID",
		Short:   "Write the whole DAG under CID to standard output as a CARv1",
		Example: "  lyceum car export bafy… > resource.car",
		Args:    exactArgs(1, "one CID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := api.ParseCID(args[0])
			if err != nil {
				return err
			}
			return a.withBackend(cmd.Context(), func(b backend) error {
				return b.ExportCAR(cmd.Context(), c, a.stdout)
			})
		},
	}
	imp := &cobra.Command{
		Use:   "import FILE.car",
		Short: "Store and pin the blocks of a CAR file, checking each against its CID",
		Args:  exactArgs(1, "one CAR file (- for standard input)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var r io.Reader = a.stdin
			if args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return api.Wrap(api.KindNotFound, "cannot read "+args[0], err)
				}
				defer f.Close()
				r = f
			}
			return a.withBackend(cmd.Context(), func(b backend) error {
				res, err := b.ImportCAR(cmd.Context(), r)
				if err != nil {
					return err
				}
				if a.jsonOut {
					return a.printJSON(res)
				}
				for _, root := range res.Roots {
					fmt.Fprintf(a.stdout, "pinned root %s\n", root)
				}
				fmt.Fprintf(a.stdout, "imported %d blocks\n", res.Blocks)
				return nil
			})
		},
	}
	a.addJSONFlag(imp)
	car.AddCommand(export, imp)
	return car
}

func (a *app) statCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "stat",
		Short: "Show repo size, blocks, pins and peers",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withBackend(cmd.Context(), func(b backend) error {
				st, err := b.Stat(cmd.Context())
				if err != nil {
					return err
				}
				if a.jsonOut {
					return a.printJSON(st)
				}
				tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintf(tw, "peer ID\t%s\n", st.PeerID)
				fmt.Fprintf(tw, "repo\t%s\n", st.RepoPath)
				fmt.Fprintf(tw, "repo size\t%s\n", humanBytes(st.RepoSizeBytes))
				fmt.Fprintf(tw, "blocks\t%d\n", st.Blocks)
				fmt.Fprintf(tw, "pins\t%d\n", st.Pins)
				if st.Online {
					fmt.Fprintf(tw, "peers\t%d\n", st.Peers)
					for _, k := range sortedKeys(st.Gossip) {
						fmt.Fprintf(tw, "gossip %s\t%d\n", k, st.Gossip[k])
					}
					fmt.Fprintf(tw, "uptime\t%s\n", time.Duration(st.UptimeSeconds)*time.Second)
				} else {
					fmt.Fprintf(tw, "peers\toffline (no daemon running)\n")
				}
				return tw.Flush()
			})
		},
	}
	a.addJSONFlag(cmd)
	return cmd
}

// none says on stderr that a list is empty, so that an empty answer is
// not mistaken for a failure; stdout stays empty for scripts.
func (a *app) none(n int, msg string) {
	if n == 0 {
		fmt.Fprintln(a.stderr, msg)
	}
}

func sortedKeys(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
