package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/lyceum-oer/lyceum/cmd/lyceum/manifest"
	"github.com/lyceum-oer/lyceum/gateway"
	"github.com/lyceum-oer/lyceum/node/api"
)

// importBackend is what `lyceum import-resources` needs of the node: the
// commands' backend, and the drafts of accounts.
type importBackend interface {
	backend
	// SaveDraft saves a new draft of the account req.As.
	SaveDraft(ctx context.Context, req api.DraftRequest) (api.Draft, error)
	// Drafts lists the account's drafts.
	Drafts(ctx context.Context, as string) ([]api.Draft, error)
}

var (
	_ importBackend = (*gateway.Client)(nil)
	_ importBackend = localNode{}
)

func (l localNode) SaveDraft(ctx context.Context, req api.DraftRequest) (api.Draft, error) {
	title, fields := api.DraftFields(req)
	return l.n.Accounts().SaveDraft(ctx, req.As, 0, title, fields)
}

func (l localNode) Drafts(ctx context.Context, as string) ([]api.Draft, error) {
	return l.n.Accounts().Drafts(ctx, as)
}

// importOptions are the flags of `lyceum import-resources`.
type importOptions struct {
	as           string
	publish      bool
	links        bool
	dryRun       bool
	retryUnknown bool
	allowOutside bool
	allowPrivate bool
	statePath    string
	maxSize      int64
	fetchTimeout time.Duration
}

// The statuses of a line in the report.
const (
	lineImported = "imported" // saved as a draft, or published, now
	lineSkipped  = "skipped"  // imported by an earlier run
	lineRefused  = "refused"  // not imported: see its problems
	lineUnknown  = "unknown"  // an earlier run was cut while publishing it
	lineChecked  = "checked"  // --dry-run: it would be imported
)

// importLine is the report of one line of the manifest.
type importLine struct {
	Line     int                `json:"line"`
	Status   string             `json:"status"`
	Title    string             `json:"title,omitempty"`
	Draft    int64              `json:"draft,omitempty"`
	ID       string             `json:"id,omitempty"`
	FileCID  string             `json:"file_cid,omitempty"`
	Notes    []string           `json:"notes,omitempty"`
	Problems []manifest.Problem `json:"problems,omitempty"`
}

// importReport is what `lyceum import-resources --json` prints.
type importReport struct {
	Manifest    string       `json:"manifest"`
	State       string       `json:"state,omitempty"`
	As          string       `json:"as"`
	Mode        string       `json:"mode"` // "drafts", "publish" or "dry-run"
	Imported    int          `json:"imported"`
	Skipped     int          `json:"skipped"`
	Refused     int          `json:"refused"`
	Unknown     int          `json:"unknown"`
	Interrupted bool         `json:"interrupted,omitempty"`
	Lines       []importLine `json:"lines"`
}

func (a *app) importCommand() *cobra.Command {
	var o importOptions
	cmd := &cobra.Command{
		Use:   "import-resources MANIFEST.csv|MANIFEST.jsonl",
		Short: "Import a library: one resource a line of a CSV or JSON Lines manifest, as drafts or published",
		Long: `Import many resources at once, for a school moving its library from
moodle.net, another MoodleNet or another repository. Each line of the
manifest is one resource: its file (a path, relative to the manifest's
folder) or an http(s) URL (downloaded and stored, or kept as a link with
--links), and its metadata.

Columns (CSV header names, or JSON Lines keys):
  source       file path or http(s) URL (required)
  title        3–160 characters (required)
  description  plain text or Markdown, up to 4000 characters
  license      SPDX id (CC-BY-SA-4.0) or MoodleNet's code (cc-by-sa)
  language     BCP 47 (fr, pt-BR) or ISO 639-3 as MoodleNet has it (fra)
  subject      ISCED-F codes (0533) or MoodleNet's keys (F0533)
  level        ISCED level 0–8 or adult, or MoodleNet's ED0–ED8, ADT
  type         one of 'lyceum vocab types' (MoodleNet's 21 types)
  keywords     free tags
  creators     the authors' names (you publish; they are credited)
subject, keywords and creators hold several values: separated by ";" in
CSV, an array of strings in JSON Lines. An unknown column is refused.
docs/IMPORT.md has the whole mapping of MoodleNet's codes.

By default each resource becomes a draft of the account --as, to finish
and publish in the web app (an account keeps at most 100 drafts);
--publish publishes each at once as the person --as, and then license and
language are required. The import is resumable: what it did is kept in a
state file beside the manifest (MANIFEST.lyceum-import), keyed by each
line's content, so a rerun after an interruption or a fix skips what was
done and never imports a line twice. Every line refused is reported with
its field and why; a refused line is tried again by the next run.

Exit codes: 0 every line imported (or skipped as done before), 3 some
lines refused, 130 interrupted (rerun to go on); others as for every
command.`,
		Example: `  lyceum import-resources library.csv --as alice
  lyceum import-resources library.jsonl --as alice --publish --json

A CSV manifest:
  source,title,description,license,language,subject,level,type,keywords,creators
  worksheets/fractions.pdf,Fractions worksheet,Ten exercises.,cc-by-sa,fra,F0541,ED1,assessment,fractions;maths,Ana Silva
  https://example.org/atoms.pdf,Atoms,,CC-BY-4.0,en,0533,ED3,reading,,

The same resource as a line of JSON Lines:
  {"source": "worksheets/fractions.pdf", "title": "Fractions worksheet", "license": "cc-by-sa", "language": "fra", "subject": ["F0541"], "level": "ED1", "type": "assessment", "keywords": ["fractions", "maths"], "creators": ["Ana Silva"]}`,
		Args: exactArgs(1, "one manifest (.csv or .jsonl)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.as == "" && !o.dryRun {
				return usageError{cmd: "import-resources", err: errors.New("say who imports: --as USERNAME (drafts are an account's; --publish publishes as its person)")}
			}
			if o.maxSize <= 0 || o.fetchTimeout <= 0 {
				return usageError{cmd: "import-resources", err: errors.New("--max-size and --fetch-timeout must be positive")}
			}
			return a.importResources(cmd.Context(), args[0], o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.as, "as", "", "the account whose drafts they become, or with --publish the person who publishes (required)")
	f.BoolVar(&o.publish, "publish", false, "publish each resource at once instead of saving drafts")
	f.BoolVar(&o.links, "links", false, "keep http(s) sources as links instead of downloading and storing them")
	f.BoolVar(&o.dryRun, "dry-run", false, "only read and check the manifest: report what would be imported")
	f.BoolVar(&o.retryUnknown, "retry-unknown", false, "publish again the lines an earlier run was cut while publishing (check first that they are not published)")
	f.BoolVar(&o.allowOutside, "allow-outside", false, "allow file paths outside the manifest's folder")
	f.BoolVar(&o.allowPrivate, "allow-private-urls", false, "allow URLs of this machine and of private networks")
	f.StringVar(&o.statePath, "state", "", "the state file (default: the manifest's path + .lyceum-import)")
	f.Int64Var(&o.maxSize, "max-size", 2<<30, "largest file a URL may give, in bytes")
	f.DurationVar(&o.fetchTimeout, "fetch-timeout", 10*time.Minute, "longest a URL's download may take")
	a.addJSONFlag(cmd)
	return cmd
}

// importRun is one run of an import.
type importRun struct {
	a       *app
	o       importOptions
	b       importBackend
	dir     string // the manifest's folder, for relative paths
	state   *importState
	fetch   *fetcher
	peerID  string
	who     string           // whom the import is as: the account's username, or the person's DID
	drafts  map[string]int64 // the account's drafts by import key
	seen    map[string]int   // the lines of this run by key
	report  importReport
	bar     *progressbar.ProgressBar
	showBar bool
}

// importResources runs an import: one pass to check the whole manifest
// (so that a broken one stops before anything is imported) and to count
// its lines, then one to import.
func (a *app) importResources(ctx context.Context, path string, o importOptions) error {
	format, err := manifest.FormatOf(path)
	if err != nil {
		return err
	}
	total, err := countManifest(path, format, o)
	if err != nil {
		return err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("manifest %s: %w", path, err)
	}
	r := &importRun{a: a, o: o, dir: filepath.Dir(abs), seen: map[string]int{}}
	r.report = importReport{Manifest: path, As: o.as, Mode: "drafts", Lines: []importLine{}}
	switch {
	case o.dryRun:
		r.report.Mode = "dry-run"
		return r.run(ctx, path, format, total)
	case o.publish:
		r.report.Mode = "publish"
	}
	return a.withBackend(ctx, func(b backend) error {
		ib, ok := b.(importBackend)
		if !ok {
			return fmt.Errorf("the backend %T cannot import", b)
		}
		r.b = ib
		if err := r.prepare(ctx, abs); err != nil {
			return err
		}
		defer r.state.Close()
		return r.run(ctx, path, format, total)
	})
}

// countManifest reads the whole manifest once: its records, or the error
// that stops it.
func countManifest(path string, format manifest.Format, o importOptions) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, api.Wrap(api.KindNotFound, "cannot read "+path, err)
	}
	defer f.Close()
	rd, err := manifest.NewReader(f, format, manifest.Options{Complete: o.publish})
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	n := 0
	for {
		if _, err := rd.Next(); errors.Is(err, io.EOF) {
			return n, nil
		} else if err != nil {
			return 0, fmt.Errorf("%s: %w", path, err)
		}
		n++
	}
}

// prepare checks who imports, opens the state and reads the account's
// drafts.
func (r *importRun) prepare(ctx context.Context, abs string) error {
	id, err := r.b.ID(ctx)
	if err != nil {
		return err
	}
	r.peerID = id.PeerID
	if r.o.publish {
		act, err := r.b.Actor(ctx, r.o.as)
		if err != nil {
			return fmt.Errorf("--as %s: %w", r.o.as, err)
		}
		if !act.Local {
			return api.Invalidf("--as %s is not a person of this node", r.o.as)
		}
		r.who = act.DID
	} else {
		r.who = r.o.as
		if _, err := r.b.Account(ctx, r.o.as); err != nil {
			return fmt.Errorf("--as %s: drafts are an account's: %w", r.o.as, err)
		}
		ds, err := r.b.Drafts(ctx, r.o.as)
		if err != nil {
			return err
		}
		r.drafts = map[string]int64{}
		for _, d := range ds {
			if k := d.Request().Key; k != "" {
				r.drafts[k] = d.ID
			}
		}
	}
	statePath := r.o.statePath
	if statePath == "" {
		statePath = abs + ".lyceum-import"
	}
	if r.state, err = openImportState(statePath); err != nil {
		return err
	}
	r.report.State = statePath
	tmp := os.TempDir()
	r.fetch = newFetcher(r.o.maxSize, r.o.fetchTimeout, r.o.allowPrivate, tmp)
	return nil
}

// run imports the manifest's lines in order, reporting each.
func (r *importRun) run(ctx context.Context, path string, format manifest.Format, total int) error {
	f, err := os.Open(path)
	if err != nil {
		return api.Wrap(api.KindNotFound, "cannot read "+path, err)
	}
	defer f.Close()
	rd, err := manifest.NewReader(f, format, manifest.Options{Complete: r.o.publish})
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	r.startBar(total)
	var stop error
	for {
		if ctx.Err() != nil {
			r.report.Interrupted = true
			stop = ctx.Err()
			break
		}
		e, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil { // the manifest changed since it was checked
			stop = fmt.Errorf("%s: %w", path, err)
			break
		}
		line, err := r.importLine(ctx, e)
		if ctx.Err() != nil && line.Status != lineImported {
			// Cut by the interrupt: the next run does this line.
			r.report.Interrupted = true
			stop = ctx.Err()
			break
		}
		r.add(line)
		if err != nil {
			stop = err
			break
		}
	}
	r.finishBar()
	if err := r.print(); err != nil {
		return err
	}
	switch {
	case stop != nil && ctx.Err() != nil:
		return fmt.Errorf("interrupted: rerun the same command to go on: %w", ctx.Err())
	case stop != nil:
		return stop
	case r.report.Refused > 0:
		return api.Invalidf("%d of %d lines refused: fix them and rerun (what was imported is skipped)", r.report.Refused, len(r.report.Lines))
	case r.report.Unknown > 0:
		return api.Errorf(api.KindConflict, "%d lines may have been published by a run that was cut: check, then rerun with --retry-unknown", r.report.Unknown)
	}
	return nil
}

// add counts a line in the report.
func (r *importRun) add(l importLine) {
	r.report.Lines = append(r.report.Lines, l)
	switch l.Status {
	case lineImported, lineChecked:
		r.report.Imported++
	case lineSkipped:
		r.report.Skipped++
	case lineRefused:
		r.report.Refused++
	case lineUnknown:
		r.report.Unknown++
	}
	if r.bar != nil {
		_ = r.bar.Add(1)
	}
}

// importLine imports one line. A returned error stops the run (the node
// is unavailable, the drafts are full): the line is reported too.
func (r *importRun) importLine(ctx context.Context, e manifest.Entry) (importLine, error) {
	l := importLine{Line: e.Line, Title: e.Record.Title, Notes: e.Notes}
	refuse := func(field, format string, args ...any) importLine {
		l.Status = lineRefused
		l.Problems = append(l.Problems, manifest.Problem{Line: e.Line, Field: field, Reason: fmt.Sprintf(format, args...)})
		return l
	}
	if e.Refused() {
		l.Status, l.Problems = lineRefused, e.Problems
		return l, nil
	}
	key := importKey(r.peerID, r.who, e.Hash)
	if first, ok := r.seen[key]; ok {
		return refuse("", "the same resource as line %d", first), nil
	}
	r.seen[key] = e.Line
	if r.o.dryRun {
		if !e.IsURL() {
			if _, err := r.localFile(e.Record.Source); err != nil {
				return refuse("source", "%s", api.PublicMessage(err)), nil
			}
		}
		l.Status = lineChecked
		return l, nil
	}
	m, marked := r.state.marks[key]
	switch {
	case marked && m.Status == markDone:
		l.Status, l.Draft, l.ID, l.FileCID = lineSkipped, m.Draft, m.ID, m.FileCID
		return l, nil
	case r.drafts != nil && r.drafts[key] != 0:
		// A draft made by a run whose state was lost or cut: done.
		l.Status, l.Draft = lineSkipped, r.drafts[key]
		return l, r.state.mark(importMark{Key: key, Line: e.Line, Status: markDone, Draft: l.Draft})
	case marked && m.Status == markPending && r.o.publish && !r.o.retryUnknown:
		l.Status, l.FileCID = lineUnknown, m.FileCID
		l.Problems = []manifest.Problem{{Line: e.Line, Reason: "an earlier run was cut while publishing it: look for it (lyceum search, the web app) and rerun with --retry-unknown if it is not there"}}
		return l, nil
	}

	req := e.Request
	req.As = r.o.as
	switch {
	case e.IsURL() && r.o.links:
		req.URL = e.Record.Source
	case e.IsURL():
		c, name, err := r.addURL(ctx, e.Record.Source)
		if err != nil {
			if k := api.KindOf(err); k == api.KindInvalid || k == api.KindNotFound {
				return refuse("source", "%s", err), nil
			}
			if ctx.Err() != nil {
				return refuse("source", "interrupted"), ctx.Err()
			}
			return refuse("source", "%s", err), nil
		}
		req.FileCID, req.Filename = c, name
	default:
		p, err := r.localFile(e.Record.Source)
		if err != nil {
			return refuse("source", "%s", api.PublicMessage(err)), nil
		}
		c, err := r.b.Add(ctx, p, api.AddOptions{CIDVersion: 1}, nil)
		if err != nil {
			if ctx.Err() != nil {
				return refuse("source", "interrupted"), ctx.Err()
			}
			return refuse("source", "%s", err), fmt.Errorf("line %d: add %s: %w", e.Line, e.Record.Source, err)
		}
		req.FileCID, req.Filename = c.String(), filepath.Base(p)
	}
	l.FileCID = req.FileCID

	if err := r.state.mark(importMark{Key: key, Line: e.Line, Status: markPending, FileCID: req.FileCID}); err != nil {
		return refuse("", "%s", err), err
	}
	// Once asked, the node's answer is waited for even on an interrupt:
	// cutting the call would leave it unknown whether the line was done.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	var err error
	if r.o.publish {
		var p api.Published
		if p, err = r.b.Publish(cctx, req); err == nil {
			l.ID = p.ID
		}
	} else {
		var d api.Draft
		if d, err = r.b.SaveDraft(cctx, api.DraftRequest{PublishRequest: req, Key: key}); err == nil {
			l.Draft = d.ID
		}
	}
	if err != nil {
		switch api.KindOf(err) {
		case api.KindInvalid, api.KindNotFound, api.KindForbidden:
			if merr := r.state.mark(importMark{Key: key, Line: e.Line, Status: markFailed, FileCID: req.FileCID}); merr != nil {
				return refuse("", "%s", err), merr
			}
			return refuse("", "the node refused it: %s", api.PublicMessage(err)), nil
		case api.KindConflict:
			// The drafts are full: every next line would be refused too.
			_ = r.state.mark(importMark{Key: key, Line: e.Line, Status: markFailed, FileCID: req.FileCID})
			return refuse("", "%s", api.PublicMessage(err)), fmt.Errorf("line %d: %w (or import with --publish)", e.Line, err)
		}
		return refuse("", "%s", err), fmt.Errorf("line %d: %w", e.Line, err)
	}
	if err := r.state.mark(importMark{Key: key, Line: e.Line, Status: markDone, Draft: l.Draft, ID: l.ID, FileCID: req.FileCID}); err != nil {
		l.Status = lineImported
		return l, err
	}
	l.Status = lineImported
	r.a.log.Info("imported", "line", e.Line, "draft", l.Draft, "id", l.ID)
	return l, nil
}

// localFile resolves a manifest's file path (relative to the manifest's
// folder): a regular file, inside that folder unless --allow-outside, as
// a manifest may come from someone else and must not publish the
// importer's other files.
func (r *importRun) localFile(source string) (string, error) {
	p := source
	if !filepath.IsAbs(p) {
		p = filepath.Join(r.dir, p)
	}
	resolved, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", api.Wrap(api.KindNotFound, "cannot read "+source, err)
	}
	st, err := os.Stat(resolved)
	switch {
	case err != nil:
		return "", api.Wrap(api.KindNotFound, "cannot read "+source, err)
	case st.IsDir():
		return "", api.Invalidf("%s is a folder: import one file a line", source)
	case !st.Mode().IsRegular():
		return "", api.Invalidf("%s is not a regular file", source)
	}
	if !r.o.allowOutside {
		dir, err := filepath.EvalSymlinks(r.dir)
		if err != nil {
			return "", fmt.Errorf("the manifest's folder: %w", err)
		}
		if rel, err := filepath.Rel(dir, resolved); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return "", api.Invalidf("%s is outside the manifest's folder (--allow-outside allows it)", source)
		}
	}
	return resolved, nil
}

// addURL downloads a URL to a temporary file and adds it.
func (r *importRun) addURL(ctx context.Context, u string) (string, string, error) {
	tmp, name, _, err := r.fetch.fetch(ctx, u, nil)
	if err != nil {
		return "", "", err
	}
	defer os.Remove(tmp)
	c, err := r.b.Add(ctx, tmp, api.AddOptions{CIDVersion: 1}, nil)
	if err != nil {
		return "", "", fmt.Errorf("add %s: %w", u, err)
	}
	return c.String(), name, nil
}

// startBar shows a bar of lines on a terminal's standard error, for a
// manifest of more than a few lines.
func (r *importRun) startBar(total int) {
	if total < 5 || r.a.jsonOut || !isTerminal(r.a.stderr) {
		return
	}
	r.bar = progressbar.NewOptions(total,
		progressbar.OptionSetWriter(r.a.stderr),
		progressbar.OptionSetDescription("importing"),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionShowCount(),
		progressbar.OptionSetItsString("lines"),
		progressbar.OptionShowIts(),
		progressbar.OptionClearOnFinish(),
	)
}

func (r *importRun) finishBar() {
	if r.bar != nil {
		_ = r.bar.Finish()
	}
}

// print writes the report: JSON, or each line that is not plainly done
// and a summary.
func (r *importRun) print() error {
	rep := r.report
	if r.a.jsonOut {
		return r.a.printJSON(rep)
	}
	w := r.a.stdout
	for _, l := range rep.Lines {
		switch l.Status {
		case lineImported:
			if l.Draft != 0 {
				fmt.Fprintf(w, "line %d: draft %d: %s\n", l.Line, l.Draft, l.Title)
			} else {
				fmt.Fprintf(w, "line %d: published %s: %s\n", l.Line, l.ID, l.Title)
			}
		case lineRefused, lineUnknown:
			for _, p := range l.Problems {
				fmt.Fprintf(r.a.stderr, "%s (%s)\n", p.Error(), l.Status)
			}
		}
		for _, n := range l.Notes {
			if l.Status != lineSkipped {
				fmt.Fprintf(w, "line %d: note: %s\n", l.Line, n)
			}
		}
	}
	what := map[string]string{"drafts": "as drafts of " + rep.As, "publish": "published as " + rep.As, "dry-run": "would be imported"}[rep.Mode]
	fmt.Fprintf(w, "%d imported %s, %d skipped (done before), %d refused", rep.Imported, what, rep.Skipped, rep.Refused)
	if rep.Unknown > 0 {
		fmt.Fprintf(w, ", %d unknown", rep.Unknown)
	}
	fmt.Fprintln(w)
	if rep.State != "" {
		fmt.Fprintf(w, "state: %s\n", rep.State)
	}
	return nil
}
