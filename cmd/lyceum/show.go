package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node/api"
)

// actorNamer finds an actor by DID, for its name and handle.
type actorNamer interface {
	Actor(ctx context.Context, ref string) (api.Actor, error)
}

// knownNames names people as people do: "Alice Martin (alice@12D3…)"
// for an actor the node knows, else by the handle given, else by DID.
// Each actor is looked up once.
func knownNames(ctx context.Context, b actorNamer) func(did, handle string) string {
	names := map[string]string{}
	return func(did, handle string) string {
		if did == "" {
			return handle
		}
		if n, ok := names[did]; ok {
			return n
		}
		n := firstOf(handle, did)
		if act, err := b.Actor(ctx, did); err == nil {
			n = act.DisplayName() + " (" + firstOf(act.Handle, handle, did) + ")"
		}
		names[did] = n
		return n
	}
}

// codeName is a code with its English name: "CC-BY-4.0 — Creative
// Commons Attribution 4.0 International"; the code alone when it has none.
func codeName(code, name string) string {
	if name == "" || name == code {
		return code
	}
	return code + " — " + name
}

// languageName is a BCP 47 tag with its English name.
func languageName(tag string) string {
	t, err := language.Parse(tag)
	if err != nil {
		return tag
	}
	return codeName(tag, display.English.Tags().Name(t))
}

// printResource writes a resource as `lyceum show` shows it: its latest
// version's metadata with every code named, then every version.
func printResource(ctx context.Context, w io.Writer, b actorNamer, v api.ResourceView) {
	r := v.Latest
	line := func(label, value string) {
		if value != "" {
			fmt.Fprintf(w, "%-13s %s\n", label, value)
		}
	}
	fmt.Fprintf(w, "%s\n", r.Title)
	if v.Deleted {
		fmt.Fprintln(w, "(deleted by its author)")
	}
	line("id", v.ID)
	nameOf := knownNames(ctx, b)
	line("by", nameOf(v.Author, ""))
	line("community", nameOf(v.Community, ""))
	line("published", r.Published.Format("2006-01-02 15:04"))
	if l, ok := activity.LookupLicense(r.License); ok {
		line("licence", codeName(r.License, l.Name))
	} else {
		line("licence", r.License)
	}
	line("language", languageName(r.Language))
	var subjects []string
	for _, s := range r.Subjects {
		sub, _ := activity.LookupSubject(s)
		subjects = append(subjects, codeName(s, sub.Name))
	}
	line("subjects", strings.Join(subjects, "; "))
	if l, ok := activity.LookupLevel(r.Level); ok {
		line("level", codeName(r.Level, l.Name))
	}
	if t, ok := activity.LookupType(r.Type); ok {
		line("type", codeName(r.Type, t.Name))
	}
	line("keywords", strings.Join(r.Keywords, ", "))
	var creators []string
	for _, c := range r.Creators {
		creators = append(creators, c.Name)
	}
	line("creators", strings.Join(creators, ", "))
	line("credit", r.CreditText)
	if f := r.File; f != nil {
		line("file", fmt.Sprintf("%s (%s, %s)  %s", f.Filename, f.MediaType, humanBytes(f.Size), f.CID))
	}
	line("link", r.URL)
	line("summary", strings.ReplaceAll(r.Summary, "\n", "\n              "))
	line("likes", fmt.Sprint(v.Likes))
	for _, d := range v.DerivedFrom {
		line("derived from", d)
	}
	for _, a := range v.AdaptedBy {
		line("adapted by", a.ResourceID+"  "+a.Title)
	}
	fmt.Fprintln(w, "versions")
	for _, it := range v.Versions {
		fmt.Fprintf(w, "  v%d  %s  %s  activity %s\n", it.Version, it.Published.Format("2006-01-02 15:04"), it.Title, it.ActivityCID)
	}
}
