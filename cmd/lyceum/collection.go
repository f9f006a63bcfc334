package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/lyceum-oer/lyceum/node/api"
)

func (a *app) printCollectionResult(r api.CollectionResult) error {
	if a.jsonOut {
		return a.printJSON(r)
	}
	if !r.Changed {
		fmt.Fprintf(a.stdout, "%s unchanged\n", r.ID)
		return nil
	}
	fmt.Fprintln(a.stdout, r.ID)
	return nil
}

func (a *app) collectionCommand() *cobra.Command {
	coll := &cobra.Command{Use: "collection", Short: "Collections: ordered, curated lists of resources"}
	coll.AddCommand(a.collectionCreateCommand(),
		a.collectionItemCommand("add", "Append a resource to a collection", false),
		a.collectionItemCommand("remove", "Take a resource out of a collection", true),
		a.collectionUpdateCommand(), a.collectionDeleteCommand(), a.collectionLsCommand(), a.collectionShowCommand())
	return coll
}

// asFlag adds --as (the owner acting) and --json to a collection command.
func (a *app) asFlag(cmd *cobra.Command, as *string) {
	cmd.Flags().StringVar(as, "as", "", "the local person or community that owns it (default: the only person; for changes, the owner)")
	a.addJSONFlag(cmd)
}

// changeCollection runs a change of a collection and prints its result.
func (a *app) changeCollection(cmd *cobra.Command, change func(b backend) (api.CollectionResult, error)) error {
	return a.withBackend(cmd.Context(), func(b backend) error {
		r, err := change(b)
		if err != nil {
			return err
		}
		return a.printCollectionResult(r)
	})
}

func (a *app) collectionCreateCommand() *cobra.Command {
	var req api.CollectionRequest
	cmd := &cobra.Command{
		Use:   "create TITLE",
		Short: "Create an empty collection and print its ID",
		Args:  exactArgs(1, "one title"),
		RunE: func(cmd *cobra.Command, args []string) error {
			req.Title = args[0]
			return a.changeCollection(cmd, func(b backend) (api.CollectionResult, error) {
				return b.CreateCollection(cmd.Context(), req)
			})
		},
	}
	cmd.Flags().StringVar(&req.Summary, "summary", "", "a short description")
	a.asFlag(cmd, &req.As)
	return cmd
}

func (a *app) collectionItemCommand(use, short string, remove bool) *cobra.Command {
	var as string
	cmd := &cobra.Command{
		Use:   use + " COLLECTION RESOURCE",
		Short: short,
		Args:  exactArgs(2, "a collection ID and a resource ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.changeCollection(cmd, func(b backend) (api.CollectionResult, error) {
				f := b.AddToCollection
				if remove {
					f = b.RemoveFromCollection
				}
				return f(cmd.Context(), args[0], api.CollectionItemRequest{As: as, Resource: args[1]})
			})
		},
	}
	a.asFlag(cmd, &as)
	return cmd
}

func (a *app) collectionUpdateCommand() *cobra.Command {
	var req api.CollectionRequest
	cmd := &cobra.Command{
		Use:   "update COLLECTION",
		Short: "Change a collection's title (--title) or summary (--summary)",
		Args:  exactArgs(1, "one collection ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.changeCollection(cmd, func(b backend) (api.CollectionResult, error) {
				return b.UpdateCollection(cmd.Context(), args[0], req)
			})
		},
	}
	cmd.Flags().StringVar(&req.Title, "title", "", "new title")
	cmd.Flags().StringVar(&req.Summary, "summary", "", "new summary")
	a.asFlag(cmd, &req.As)
	return cmd
}

func (a *app) collectionDeleteCommand() *cobra.Command {
	var as string
	cmd := &cobra.Command{
		Use:   "delete COLLECTION",
		Short: "Delete a collection (its resources stay)",
		Args:  exactArgs(1, "one collection ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.changeCollection(cmd, func(b backend) (api.CollectionResult, error) {
				return b.DeleteCollection(cmd.Context(), as, args[0])
			})
		},
	}
	a.asFlag(cmd, &as)
	return cmd
}

func (a *app) collectionLsCommand() *cobra.Command {
	var as string
	cmd := &cobra.Command{
		Use:   "ls [ACTOR]",
		Short: "List an actor's collections (default: those of the node's actors)",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usageError{cmd: "collection ls", err: fmt.Errorf("want at most one actor")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			owner := as
			if len(args) == 1 {
				owner = args[0]
			}
			return a.withBackend(cmd.Context(), func(b backend) error {
				cs, err := b.Collections(cmd.Context(), owner)
				if err != nil {
					return err
				}
				if a.jsonOut {
					return a.printJSON(cs)
				}
				a.none(len(cs), "no collections yet: make one with `lyceum collection create TITLE`")
				tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				for _, c := range cs {
					fmt.Fprintf(tw, "%s\t%s\t%d items\t%s\n", c.ID, c.Title, c.Items, c.OwnerHandle)
				}
				return tw.Flush()
			})
		},
	}
	a.asFlag(cmd, &as)
	return cmd
}

func (a *app) collectionShowCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "show COLLECTION",
		Short: "Show a collection and its resources in order",
		Args:  exactArgs(1, "one collection ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withBackend(cmd.Context(), func(b backend) error {
				v, err := b.ShowCollection(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				if a.jsonOut {
					return a.printJSON(v)
				}
				return a.printCollection(v)
			})
		},
	}
	a.addJSONFlag(cmd)
	return cmd
}

func (a *app) printCollection(v api.CollectionView) error {
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "title\t%s\n", v.Title)
	if v.Summary != "" {
		fmt.Fprintf(tw, "summary\t%s\n", v.Summary)
	}
	fmt.Fprintf(tw, "owner\t%s\n", firstOf(v.OwnerHandle, v.Owner))
	fmt.Fprintf(tw, "id\t%s\n", v.ID)
	if v.Deleted {
		fmt.Fprintf(tw, "deleted\ttrue\n")
	}
	for _, it := range v.Entries {
		t := it.Title
		if t == "" {
			t = "(unknown here)"
		}
		if it.Deleted {
			t += " (deleted)"
		}
		fmt.Fprintf(tw, "%d.\t%s\t%s\n", it.Position, t, it.ResourceID)
	}
	return tw.Flush()
}
