package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/lyceum-oer/lyceum/gateway"
	"github.com/lyceum-oer/lyceum/node"
)

// collectionBackend is what the collection commands need; both backends
// have it.
type collectionBackend interface {
	CreateCollection(ctx context.Context, as, title, summary string) (node.CollectionResult, error)
	UpdateCollection(ctx context.Context, as, id, title, summary string) (node.CollectionResult, error)
	DeleteCollection(ctx context.Context, as, id string) (node.CollectionResult, error)
	AddToCollection(ctx context.Context, as, id, resourceID string) (node.CollectionResult, error)
	RemoveFromCollection(ctx context.Context, as, id, resourceID string) (node.CollectionResult, error)
	Collections(ctx context.Context, owner string) ([]node.CollectionInfo, error)
	ShowCollection(ctx context.Context, id string) (node.CollectionView, error)
}

var (
	_ collectionBackend = (*gateway.Client)(nil)
	_ collectionBackend = localNode{}
)

// withCollections runs f with the backend's collections.
func (a *app) withCollections(ctx context.Context, f func(b collectionBackend) error) error {
	return a.withBackend(ctx, func(b backend) error {
		cb, ok := b.(collectionBackend)
		if !ok {
			return &node.Error{Kind: node.KindUnavailable, Msg: "this backend has no collections"}
		}
		return f(cb)
	})
}

func (a *app) printCollectionResult(r node.CollectionResult) error {
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
	var as, title, summary string
	asFlag := func(cmd *cobra.Command) {
		cmd.Flags().StringVar(&as, "as", "", "the local person or community that owns it (default: the only person; for changes, the owner)")
		a.addJSONFlag(cmd)
	}
	create := &cobra.Command{
		Use:   "create TITLE",
		Short: "Create an empty collection and print its ID",
		Args:  exactArgs(1, "one title"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withCollections(cmd.Context(), func(b collectionBackend) error {
				r, err := b.CreateCollection(cmd.Context(), as, args[0], summary)
				if err != nil {
					return err
				}
				return a.printCollectionResult(r)
			})
		},
	}
	create.Flags().StringVar(&summary, "summary", "", "a short description")
	asFlag(create)
	item := func(use, short string, remove bool) *cobra.Command {
		cmd := &cobra.Command{
			Use:   use + " COLLECTION RESOURCE",
			Short: short,
			Args:  exactArgs(2, "a collection ID and a resource ID"),
			RunE: func(cmd *cobra.Command, args []string) error {
				return a.withCollections(cmd.Context(), func(b collectionBackend) error {
					f := b.AddToCollection
					if remove {
						f = b.RemoveFromCollection
					}
					r, err := f(cmd.Context(), as, args[0], args[1])
					if err != nil {
						return err
					}
					return a.printCollectionResult(r)
				})
			},
		}
		asFlag(cmd)
		return cmd
	}
	rename := &cobra.Command{
		Use:   "update COLLECTION",
		Short: "Change a collection's title (--title) or summary (--summary)",
		Args:  exactArgs(1, "one collection ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withCollections(cmd.Context(), func(b collectionBackend) error {
				r, err := b.UpdateCollection(cmd.Context(), as, args[0], title, summary)
				if err != nil {
					return err
				}
				return a.printCollectionResult(r)
			})
		},
	}
	rename.Flags().StringVar(&title, "title", "", "new title")
	rename.Flags().StringVar(&summary, "summary", "", "new summary")
	asFlag(rename)
	del := &cobra.Command{
		Use:   "delete COLLECTION",
		Short: "Delete a collection (its resources stay)",
		Args:  exactArgs(1, "one collection ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withCollections(cmd.Context(), func(b collectionBackend) error {
				r, err := b.DeleteCollection(cmd.Context(), as, args[0])
				if err != nil {
					return err
				}
				return a.printCollectionResult(r)
			})
		},
	}
	asFlag(del)
	ls := &cobra.Command{
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
			return a.withCollections(cmd.Context(), func(b collectionBackend) error {
				cs, err := b.Collections(cmd.Context(), owner)
				if err != nil {
					return err
				}
				if a.jsonOut {
					return a.printJSON(cs)
				}
				tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				for _, c := range cs {
					fmt.Fprintf(tw, "%s\t%s\t%d items\t%s\n", c.ID, c.Title, c.Items, c.OwnerHandle)
				}
				return tw.Flush()
			})
		},
	}
	asFlag(ls)
	show := &cobra.Command{
		Use:   "show COLLECTION",
		Short: "Show a collection and its resources in order",
		Args:  exactArgs(1, "one collection ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withCollections(cmd.Context(), func(b collectionBackend) error {
				v, err := b.ShowCollection(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				if a.jsonOut {
					return a.printJSON(v)
				}
				tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintf(tw, "title\t%s\n", v.Title)
				if v.Summary != "" {
					fmt.Fprintf(tw, "summary\t%s\n", v.Summary)
				}
				fmt.Fprintf(tw, "owner\t%s\n", firstNonEmptyString(v.OwnerHandle, v.Owner))
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
			})
		},
	}
	a.addJSONFlag(show)
	coll.AddCommand(create, item("add", "Append a resource to a collection", false),
		item("remove", "Take a resource out of a collection", true), rename, del, ls, show)
	return coll
}

func firstNonEmptyString(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
