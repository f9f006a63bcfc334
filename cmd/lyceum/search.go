package main

import (
	"fmt"
	"html"
	"regexp"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node/api"
)

var markTag = regexp.MustCompile(`</?mark>`)

// terminalSnippet turns a highlighted HTML snippet into terminal text:
// matched words in bold when stdout is a terminal, in *stars* otherwise.
func terminalSnippet(s string, tty bool) string {
	open, close := "*", "*"
	if tty {
		open, close = "\x1b[1m", "\x1b[0m"
	}
	s = markTag.ReplaceAllStringFunc(s, func(t string) string {
		if t == "<mark>" {
			return open
		}
		return close
	})
	return html.UnescapeString(s)
}

func (a *app) searchCommand() *cobra.Command {
	var q api.SearchQuery
	cmd := &cobra.Command{
		Use:   "search [WORDS]",
		Short: "Search the local index and the configured HQs",
		Long: `Search resources, collections, communities and persons: the local index
and every HQ in search.hqs are asked in parallel; answers are merged and
deduplicated. Words in "double quotes" are a phrase; a word of five letters
or more that matches (almost) nothing forgives one typo. Facet counts come
with the first page.`,
		Example: `  lyceum search "fractions worksheet" --language fr --license CC-BY-4.0 --sort newest
  lyceum search algebra --kind community`,
		RunE: func(cmd *cobra.Command, args []string) error {
			q.Text = strings.Join(args, " ")
			q.Facets = q.Page <= 1
			return a.withBackend(cmd.Context(), func(b backend) error {
				res, err := b.Search(cmd.Context(), q)
				if err != nil {
					return err
				}
				if a.jsonOut {
					return a.printJSON(res)
				}
				a.printSearch(res, knownNames(cmd.Context(), b))
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&q.Kind, "kind", "", "only this kind: resource, collection, community or person")
	f.StringVar(&q.Language, "language", "", "only this language (BCP 47)")
	f.StringVar(&q.License, "license", "", "only this licence (SPDX id)")
	f.StringVar(&q.Subject, "subject", "", "only this ISCED-F subject")
	f.StringVar(&q.Type, "type", "", "only this resource type")
	f.StringVar(&q.Level, "level", "", "only this ISCED level")
	f.StringVar(&q.Sort, "sort", "relevance", "relevance, newest or popular")
	f.IntVar(&q.Page, "page", 1, "page of results")
	f.IntVar(&q.Size, "size", 20, "results per page (at most 100)")
	a.addJSONFlag(cmd)
	return cmd
}

func (a *app) printSearch(res api.SearchResult, nameOf func(did, handle string) string) {
	tty := isTerminal(a.stdout)
	fmt.Fprintf(a.stdout, "%d results", res.Total)
	if len(res.Answered) > 0 {
		fmt.Fprintf(a.stdout, " (local index and %d HQ)", len(res.Answered))
	}
	fmt.Fprintln(a.stdout)
	for _, hq := range res.Failed {
		fmt.Fprintf(a.stderr, "HQ %s did not answer (%s): results are from the local index only\n", hq, res.Errors[hq])
	}
	for i, h := range res.Hits {
		var tags []string
		if h.Kind != "" && h.Kind != "resource" {
			tags = append(tags, h.Kind)
		}
		for _, t := range []string{h.License, h.Language} {
			if t != "" {
				tags = append(tags, t)
			}
		}
		fmt.Fprintf(a.stdout, "\n%d. %s  [%s]\n", (res.Page-1)*len(res.Hits)+i+1, h.Title, strings.Join(tags, ", "))
		if h.Snippet != "" {
			fmt.Fprintf(a.stdout, "   %s\n", terminalSnippet(h.Snippet, tty))
		}
		by := nameOf(h.Author, h.AuthorHandle)
		if h.CommunityHandle != "" || h.Community != "" {
			by += " in " + nameOf(h.Community, h.CommunityHandle)
		}
		switch h.Kind {
		case "", "resource":
			fmt.Fprintf(a.stdout, "   by %s · %d likes · origin %s\n", by, h.Likes, h.Origin)
			fmt.Fprintf(a.stdout, "   id %s  file %s\n", h.ID, firstOf(h.FileCID, h.URL))
		case "collection":
			fmt.Fprintf(a.stdout, "   by %s · origin %s\n   id %s\n", by, h.Origin, h.ID)
		default:
			fmt.Fprintf(a.stdout, "   %s · origin %s\n   id %s\n", by, h.Origin, h.ID)
		}
	}
	if len(res.Facets) > 0 {
		fmt.Fprintln(a.stdout)
		keys := make([]string, 0, len(res.Facets))
		for k := range res.Facets {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if len(res.Facets[k]) == 0 {
				continue
			}
			fmt.Fprintf(a.stdout, "%s (--%s):\n", k, k)
			for _, fc := range res.Facets[k] {
				fmt.Fprintf(a.stdout, "  %s  %d\n", facetLabel(k, fc.Term), fc.Count)
			}
		}
	}
	if res.Next > 0 {
		fmt.Fprintf(a.stdout, "\nmore: --page %d\n", res.Next)
	}
}

func (a *app) hqCommand() *cobra.Command {
	hq := &cobra.Command{Use: "hq", Short: "HQ moderation: hide items from this node's search results"}
	var reason string
	delist := &cobra.Command{
		Use:   "delist ID",
		Short: "Hide a resource from this node's search results (its origin keeps it)",
		Args:  exactArgs(1, "one resource ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withBackend(cmd.Context(), func(b backend) error {
				if err := b.Delist(cmd.Context(), api.DelistRequest{ID: args[0], Reason: reason}); err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "delisted %s\n", args[0])
				return nil
			})
		},
	}
	delist.Flags().StringVar(&reason, "reason", "", "why (recorded)")
	relist := &cobra.Command{
		Use:   "relist ID",
		Short: "Show a delisted resource in search results again",
		Args:  exactArgs(1, "one resource ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withBackend(cmd.Context(), func(b backend) error {
				if err := b.Relist(cmd.Context(), api.DelistRequest{ID: args[0]}); err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "relisted %s\n", args[0])
				return nil
			})
		},
	}
	hq.AddCommand(delist, relist)
	return hq
}

func (a *app) indexCommand() *cobra.Command {
	ix := &cobra.Command{Use: "index", Short: "The node's search index"}
	rebuild := &cobra.Command{
		Use:   "rebuild",
		Short: "Re-create the search index from the stored logs",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withBackend(cmd.Context(), func(b backend) error {
				res, err := b.RebuildIndex(cmd.Context())
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "rebuilt the index: %d documents\n", res.Count)
				return nil
			})
		},
	}
	ix.AddCommand(rebuild)
	return ix
}

// facetLabel is a facet's value with its English name: "0541 —
// Mathematics", "fr — French"; the code alone when it has none.
func facetLabel(facet, term string) string {
	switch facet {
	case "license":
		if l, ok := activity.LookupLicense(term); ok {
			return codeName(term, l.Name)
		}
	case "language":
		return languageName(term)
	case "subject":
		if s, ok := activity.LookupSubject(term); ok {
			return codeName(term, s.Name)
		}
	case "level":
		if l, ok := activity.LookupLevel(term); ok {
			return codeName(term, l.Name)
		}
	case "type":
		if t, ok := activity.LookupType(term); ok {
			return codeName(term, t.Name)
		}
	}
	return term
}
