package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/ipfs/go-cid"
	"github.com/spf13/cobra"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node/api"
)

func (a *app) printActor(act api.Actor) error {
	if a.jsonOut {
		return a.printJSON(act)
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "handle\t%s\n", act.Handle)
	fmt.Fprintf(tw, "type\t%s\n", act.Type)
	if act.Name != "" {
		fmt.Fprintf(tw, "name\t%s\n", act.Name)
	}
	if act.Summary != "" {
		fmt.Fprintf(tw, "summary\t%s\n", act.Summary)
	}
	fmt.Fprintf(tw, "did\t%s\n", act.DID)
	fmt.Fprintf(tw, "activities\t%d\n", act.Seq)
	fmt.Fprintf(tw, "local\t%v\n", act.Local)
	return tw.Flush()
}

func (a *app) createActorCommand(use, short string, typ activity.ActorType) *cobra.Command {
	var name, summary string
	cmd := &cobra.Command{
		Use:   use + " NAME",
		Short: short,
		Args:  exactArgs(1, "one name (lower-case letters, digits, '.', '_', '-')"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withBackend(cmd.Context(), func(b backend) error {
				act, err := b.CreateActor(cmd.Context(), api.CreateActorRequest{Username: args[0], Name: name, Summary: summary, Type: string(typ)})
				if err != nil {
					return err
				}
				return a.printActor(act)
			})
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "display name")
	cmd.Flags().StringVar(&summary, "summary", "", "a short description")
	a.addJSONFlag(cmd)
	return cmd
}

func (a *app) actorCommand() *cobra.Command {
	actor := &cobra.Command{Use: "actor", Short: "People of this node, and actors it knows"}
	var all bool
	ls := &cobra.Command{
		Use:   "ls",
		Short: "List the node's actors (--all: every actor it knows)",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withBackend(cmd.Context(), func(b backend) error {
				as, err := b.Actors(cmd.Context(), !all)
				if err != nil {
					return err
				}
				if a.jsonOut {
					return a.printJSON(as)
				}
				a.none(len(as), "no actors: create one with `lyceum actor create NAME`")
				tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				for _, x := range as {
					fmt.Fprintf(tw, "%s\t%s\t%s\n", x.Username, x.Type, x.Name)
				}
				return tw.Flush()
			})
		},
	}
	ls.Flags().BoolVar(&all, "all", false, "also list remote actors")
	a.addJSONFlag(ls)
	show := &cobra.Command{
		Use:   "show ACTOR",
		Short: "Show an actor by name, handle (name@node) or DID",
		Args:  exactArgs(1, "one actor"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withBackend(cmd.Context(), func(b backend) error {
				act, err := b.Actor(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				return a.printActor(act)
			})
		},
	}
	a.addJSONFlag(show)
	actor.AddCommand(a.createActorCommand("create", "Create a person with their own key", activity.Person), ls, show)
	return actor
}

func (a *app) communityCommand() *cobra.Command {
	c := &cobra.Command{Use: "community", Short: "Communities (groups) of this node"}
	c.AddCommand(a.createActorCommand("create", "Create a community with its own key", activity.Group))
	return c
}

// resourceFlags are the metadata flags of publish and update.
type resourceFlags struct {
	req         api.PublishRequest
	subjects    []string
	keywords    []string
	derivedFrom []string
}

func (f *resourceFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.req.As, "as", "", "the local person who publishes (default: the only one)")
	fl.StringVar(&f.req.Title, "title", "", "title, 3–160 characters")
	fl.StringVar(&f.req.Summary, "summary", "", "description: plain text or Markdown")
	fl.StringVar(&f.req.License, "license", "", "SPDX licence id, e.g. CC-BY-4.0")
	fl.StringVar(&f.req.Language, "language", "", "BCP 47 language, e.g. fr or pt-BR")
	fl.StringSliceVar(&f.subjects, "subject", nil, "ISCED-F subject code, e.g. 0541 (repeatable)")
	fl.StringSliceVar(&f.keywords, "keyword", nil, "free tag (repeatable)")
	fl.StringVar(&f.req.Level, "level", "", "ISCED level 0–8 or adult")
	fl.StringVar(&f.req.Type, "type", "", "resource type, e.g. assessment")
	fl.StringVar(&f.req.Community, "community", "", "community to publish in")
	fl.StringSliceVar(&f.derivedFrom, "derived-from", nil, "ID or CID of a source (repeatable)")
}

// request fills in the file or link: a file is uploaded (or imported)
// first and named by its CID.
func (a *app) request(cmd *cobra.Command, b backend, f *resourceFlags, source string) (api.PublishRequest, error) {
	req := f.req
	req.Subjects, req.Keywords, req.DerivedFrom = f.subjects, f.keywords, f.derivedFrom
	switch {
	case source == "":
	case strings.HasPrefix(source, "http://") || strings.HasPrefix(source, "https://"):
		req.URL = source
	default:
		st, err := os.Stat(source)
		if err != nil {
			return req, api.Wrap(api.KindNotFound, "cannot read "+source, err)
		}
		if st.IsDir() {
			return req, api.Invalidf("%s is a folder: publish one file (or a link)", source)
		}
		bar := a.newProgress(st.Size(), "adding "+filepath.Base(source))
		c, err := b.Add(cmd.Context(), source, api.AddOptions{CIDVersion: 1}, bar.set)
		bar.finish(err == nil)
		if err != nil {
			return req, err
		}
		req.FileCID, req.Filename = c.String(), filepath.Base(source)
	}
	return req, nil
}

func (a *app) printPublished(verb string, p api.Published) error {
	if a.jsonOut {
		return a.printJSON(p)
	}
	fmt.Fprintf(a.stdout, "%s %s", verb, p.ID)
	if p.Version > 0 {
		fmt.Fprintf(a.stdout, " (version %d)", p.Version)
	}
	fmt.Fprintln(a.stdout)
	return nil
}

func (a *app) publishCommand() *cobra.Command {
	var f resourceFlags
	cmd := &cobra.Command{
		Use:   "publish FILE|URL",
		Short: "Publish a resource: import it, sign a Create and announce it",
		Example: `  lyceum publish fractions.pdf --as alice --title "Fractions worksheet" \
    --license CC-BY-4.0 --language fr --subject 0541 --level 2 --type assessment`,
		Args: exactArgs(1, "one file or http(s) URL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withBackend(cmd.Context(), func(b backend) error {
				req, err := a.request(cmd, b, &f, args[0])
				if err != nil {
					return err
				}
				p, err := b.Publish(cmd.Context(), req)
				if err != nil {
					return err
				}
				return a.printPublished("published", p)
			})
		},
	}
	f.add(cmd)
	a.addJSONFlag(cmd)
	return cmd
}

func (a *app) updateCommand() *cobra.Command {
	var f resourceFlags
	var source string
	cmd := &cobra.Command{
		Use:   "update ID",
		Short: "Publish a new version of a resource (flags left out keep their value)",
		Args:  exactArgs(1, "one resource ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withBackend(cmd.Context(), func(b backend) error {
				req, err := a.request(cmd, b, &f, source)
				if err != nil {
					return err
				}
				p, err := b.UpdateResource(cmd.Context(), args[0], req)
				if err != nil {
					return err
				}
				return a.printPublished("updated", p)
			})
		},
	}
	f.add(cmd)
	cmd.Flags().StringVar(&source, "file", "", "new file or URL for the resource")
	a.addJSONFlag(cmd)
	return cmd
}

func (a *app) deleteCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "delete ID",
		Short: "Publish a tombstone: followers drop the resource; pinned copies stay",
		Args:  exactArgs(1, "one resource ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withBackend(cmd.Context(), func(b backend) error {
				p, err := b.DeleteResource(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				return a.printPublished("deleted", p)
			})
		},
	}
	a.addJSONFlag(cmd)
	return cmd
}

func (a *app) followCommands() []*cobra.Command {
	var as string
	follow := &cobra.Command{
		Use:   "follow ACTOR|COLLECTION",
		Short: "Follow a person or community (name@node, name@/ip4/…/p2p/ID, or did:key), or a collection by ID",
		Args:  exactArgs(1, "one actor"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withBackend(cmd.Context(), func(b backend) error {
				act, err := b.Follow(cmd.Context(), api.FollowRequest{As: as, Actor: args[0]})
				if err != nil {
					return err
				}
				if a.jsonOut {
					return a.printJSON(act)
				}
				if _, err := cid.Decode(args[0]); err == nil { // a collection's ID
					fmt.Fprintf(a.stdout, "following collection %s of %s\n", args[0], act.Handle)
					return nil
				}
				fmt.Fprintf(a.stdout, "following %s (%s, %d activities)\n", act.Handle, act.Type, act.Seq)
				return nil
			})
		},
	}
	follow.Flags().StringVar(&as, "as", "", "the local person who follows (default: the only one)")
	a.addJSONFlag(follow)
	var uas string
	unfollow := &cobra.Command{
		Use:   "unfollow ACTOR|COLLECTION",
		Short: "Stop following a person, a community or a collection",
		Args:  exactArgs(1, "one actor"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withBackend(cmd.Context(), func(b backend) error {
				if err := b.Unfollow(cmd.Context(), api.FollowRequest{As: uas, Actor: args[0]}); err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "unfollowed %s\n", args[0])
				return nil
			})
		},
	}
	unfollow.Flags().StringVar(&uas, "as", "", "the local person (default: the only one)")
	var las string
	like := &cobra.Command{
		Use:   "like ID",
		Short: "Like a resource",
		Args:  exactArgs(1, "one resource ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withBackend(cmd.Context(), func(b backend) error {
				res, err := b.Like(cmd.Context(), api.LikeRequest{As: las, ID: args[0]})
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "liked %s (%s)\n", args[0], res.ActivityCID)
				return nil
			})
		},
	}
	like.Flags().StringVar(&las, "as", "", "the local person (default: the only one)")
	return []*cobra.Command{follow, unfollow, like}
}

func (a *app) feedCommand() *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:   "feed",
		Short: "What the people and communities you follow published, newest first",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withBackend(cmd.Context(), func(b backend) error {
				items, err := b.Feed(cmd.Context(), limit)
				if err != nil {
					return err
				}
				if a.jsonOut {
					return a.printJSON(items)
				}
				if len(items) == 0 {
					fmt.Fprintln(a.stderr, "nothing yet: follow someone with `lyceum follow name@node`")
				}
				nameOf := knownNames(cmd.Context(), b)
				for _, it := range items {
					fmt.Fprintf(a.stdout, "%s  %s", it.Published.Format("2006-01-02 15:04"), it.Title)
					if it.Version > 1 {
						fmt.Fprintf(a.stdout, "  (version %d)", it.Version)
					}
					fmt.Fprintf(a.stdout, "  by %s", nameOf(it.Author, it.AuthorHandle))
					if it.Community != "" {
						fmt.Fprintf(a.stdout, " in %s", nameOf(it.Community, it.CommunityHandle))
					}
					fmt.Fprintf(a.stdout, "\n    id %s  file %s\n", it.ResourceID, firstOf(it.FileCID, it.URL))
				}
				return nil
			})
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 50, "how many entries")
	a.addJSONFlag(cmd)
	return cmd
}

func firstOf(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func (a *app) showCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show a resource with all its versions and its sources",
		Args:  exactArgs(1, "one resource ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withBackend(cmd.Context(), func(b backend) error {
				v, err := b.ShowResource(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				if a.jsonOut {
					return a.printJSON(v)
				}
				printResource(cmd.Context(), a.stdout, b, v)
				return nil
			})
		},
	}
	a.addJSONFlag(cmd)
	return cmd
}

func (a *app) blockCommand() *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "block DID",
		Short: "Drop everything from an actor: its gossip is rejected and its peers scored down",
		Args:  exactArgs(1, "one did:key"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withBackend(cmd.Context(), func(b backend) error {
				if err := b.Block(cmd.Context(), api.BlockRequest{Actor: args[0], Reason: reason}); err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "blocked %s\n", args[0])
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why (recorded)")
	return cmd
}

func (a *app) repairCommand() *cobra.Command {
	var rebuild bool
	cmd := &cobra.Command{
		Use:   "repair",
		Short: "Repair derived state",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !rebuild {
				return usageError{cmd: "repair", err: fmt.Errorf("say what to repair: --rebuild-views")}
			}
			return a.withBackend(cmd.Context(), func(b backend) error {
				res, err := b.RebuildViews(cmd.Context())
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "rebuilt the views from %d stored activities\n", res.Count)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&rebuild, "rebuild-views", false, "drop the SQLite views and replay the stored logs")
	return cmd
}
