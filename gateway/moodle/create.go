package moodle

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"path"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/go-cid"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/gateway/moodle/mbz"
	"github.com/lyceum-oer/lyceum/node/api"
)

// stored is a backup in the content store, unpinned, with what its
// moodle_backup.xml says.
type stored struct {
	cid  cid.Cid
	name string
	size int64
	info mbz.Info
}

// created is the create call's answer. Moodle reads homepage: the page
// where the teacher finishes the draft.
type created struct {
	Homepage string      `json:"homepage"`
	Draft    int64       `json:"draft"`
	Name     string      `json:"name"`
	File     createdFile `json:"file"`
	Backup   backupFacts `json:"backup"`
}

type createdFile struct {
	CID  string `json:"cid"`
	Name string `json:"name"`
	Size int64  `json:"size"`
}

type backupFacts struct {
	Type          string   `json:"type,omitempty"`
	MoodleVersion string   `json:"moodle_version,omitempty"`
	MoodleRelease string   `json:"moodle_release,omitempty"`
	Course        string   `json:"course,omitempty"`
	Activities    []string `json:"activities"`
}

// create is MoodleNet's create call: a backup shared from Moodle becomes
// a draft of the teacher whose access token it carries.
func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	acc, err := s.authenticate(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		s.fail(w, r, badField("", "send the share as multipart/form-data with the parts %q and %q", MetadataPart, ResourcePart))
		return
	}
	max := s.o.maxResource + partSlack
	if r.ContentLength > max {
		s.fail(w, r, &fieldError{field: ResourcePart, status: http.StatusRequestEntityTooLarge,
			err: api.Invalidf("the backup is larger than this node takes (%d bytes)", s.o.maxResource)})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, max)
	req, err := readShare(multipart.NewReader(r.Body, params["boundary"]), func(filename string, p io.Reader) (*stored, error) {
		return s.storeBackup(r.Context(), filename, p)
	})
	if err != nil {
		// What was stored is unpinned: the garbage collector takes it.
		s.fail(w, r, err)
		return
	}
	d, err := s.draft(context.WithoutCancel(r.Context()), acc, req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	st := req.stored
	facts := backupFacts{Type: st.info.Type, MoodleVersion: st.info.MoodleVersion, MoodleRelease: st.info.MoodleRelease,
		Course: st.info.Course, Activities: []string{}}
	for _, a := range st.info.Activities {
		facts.Activities = append(facts.Activities, a.Title)
	}
	s.log.Info("a Moodle backup is shared as a draft", "account", acc.Username, "draft", d.ID, "cid", st.cid, "size", st.size, "type", st.info.Type)
	writeJSON(w, http.StatusCreated, created{Homepage: s.base + s.o.drafts(d.ID), Draft: d.ID, Name: d.Title,
		File: createdFile{CID: st.cid.String(), Name: st.name, Size: st.size}, Backup: facts})
}

// authenticate finds the account of the request's bearer token, with a
// limit on failures per client.
func (s *Server) authenticate(r *http.Request) (api.Account, error) {
	client := s.client(r)
	if s.badAuth.Exhausted(client) {
		return api.Account{}, api.Errorf(api.KindRateLimited, "too many requests with bad tokens from this address; try again in a minute")
	}
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		s.badAuth.Allow(client)
		return api.Account{}, api.Errorf(api.KindUnauthorized, "send the access token: Authorization: Bearer …")
	}
	acc, err := s.svc.OAuth.AuthenticateOAuth(r.Context(), strings.TrimSpace(token), api.ScopeMoodleNetWrite)
	if err != nil {
		if api.KindOf(err) == api.KindUnauthorized {
			s.badAuth.Allow(client)
		}
		return api.Account{}, err
	}
	if !acc.Can(api.ActionPublish) {
		return api.Account{}, api.Errorf(api.KindForbidden, "this account may not publish")
	}
	return acc, nil
}

// storeBackup streams the backup into the content store, unpinned, and
// reads its moodle_backup.xml on the way: a gzip-compressed tar through
// a bounded pipe as it streams, a zip from the store once stored. What is
// not a Moodle backup is refused from its first bytes, before anything is
// stored.
func (s *Server) storeBackup(ctx context.Context, filename string, part io.Reader) (*stored, error) {
	name := backupName(filename)
	br := bufio.NewReaderSize(part, 64<<10)
	head, err := br.Peek(mbz.SniffLen)
	if err != nil && err != io.EOF {
		return nil, bodyError(ResourcePart, err)
	}
	if len(head) == 0 {
		return nil, badField(ResourcePart, "the backup is empty")
	}
	format := mbz.Sniff(head)
	if format == mbz.FormatUnknown {
		return nil, badField(ResourcePart, "the file is not a Moodle backup (.mbz): it is neither gzip nor zip")
	}
	lr := &limitedReader{r: br, max: s.o.maxResource}
	st := &stored{name: name}
	var readErr error
	switch format {
	case mbz.FormatTarGz:
		st.cid, st.info, readErr, err = s.storeTarGz(ctx, name, lr)
	case mbz.FormatZip:
		st.cid, st.info, readErr, err = s.storeZip(ctx, name, lr)
	}
	st.size = lr.n
	switch {
	case lr.over:
		return nil, &fieldError{field: ResourcePart, status: http.StatusRequestEntityTooLarge,
			err: api.Invalidf("the backup is larger than this node takes (%d bytes)", s.o.maxResource)}
	case lr.err != nil && lr.err != io.EOF:
		return nil, bodyError(ResourcePart, lr.err)
	case api.KindOf(readErr) == api.KindInvalid:
		return nil, &fieldError{field: ResourcePart, err: readErr}
	case err != nil:
		return nil, fmt.Errorf("store a backup: %w", err)
	case readErr != nil:
		return nil, fmt.Errorf("read a backup: %w", readErr)
	}
	return st, nil
}

// storeTarGz adds the stream while a goroutine reads it as a tar.gz. It
// returns the reader's error apart from the store's.
func (s *Server) storeTarGz(ctx context.Context, name string, r io.Reader) (cid.Cid, mbz.Info, error, error) {
	p := newPipe(16, 256<<10)
	type result struct {
		info mbz.Info
		err  error
	}
	done := make(chan result, 1)
	go func() {
		info, err := mbz.ReadTarGz(p, mbz.WithMaxExpanded(s.o.maxExpanded))
		// Stop the upload at once when the backup is refused; after a
		// clean end nothing more is written.
		p.closeRead(err)
		done <- result{info, err}
	}()
	c, err := s.svc.Files.Add(ctx, name, files.NewReaderFile(&teeReader{r: r, w: p}), api.AddOptions{NoPin: true}, nil)
	p.closeWrite(err)
	res := <-done
	return c, res.info, res.err, err
}

// storeZip adds the stream, then reads the stored zip's central
// directory.
func (s *Server) storeZip(ctx context.Context, name string, r io.Reader) (cid.Cid, mbz.Info, error, error) {
	c, err := s.svc.Files.Add(ctx, name, files.NewReaderFile(r), api.AddOptions{NoPin: true}, nil)
	if err != nil {
		return c, mbz.Info{}, nil, err
	}
	f, size, err := s.svc.Files.Cat(ctx, c)
	if err != nil {
		return c, mbz.Info{}, nil, err
	}
	defer f.Close()
	info, err := mbz.ReadZip(&readerAt{rs: f}, size)
	return c, info, err, nil
}

// readerAt reads a ReadSeeker at offsets, one read at a time.
type readerAt struct {
	mu sync.Mutex
	rs io.ReadSeeker
}

func (r *readerAt) ReadAt(p []byte, off int64) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, err := r.rs.Seek(off, io.SeekStart); err != nil {
		return 0, err
	}
	return io.ReadFull(r.rs, p)
}

// limitedReader reads at most max bytes; over is set when r holds more.
type limitedReader struct {
	r    io.Reader
	max  int64
	n    int64
	over bool
	err  error
}

var errTooLarge = errors.New("the backup is larger than the node takes")

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n >= l.max {
		// One byte more tells a file of exactly max bytes from a larger one.
		var one [1]byte
		n, err := l.r.Read(one[:])
		if n > 0 {
			l.over, l.err = true, errTooLarge
			return 0, errTooLarge
		}
		l.err = err
		return 0, err
	}
	if rest := l.max - l.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	if err != nil {
		l.err = err
	}
	return n, err
}

// backupName is the stored file's name: the part's, cleaned, or
// Moodle's own default.
func backupName(filename string) string {
	name := path.Base(strings.ReplaceAll(filename, `\`, "/"))
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '/' {
			return -1
		}
		return r
	}, strings.ToValidUTF8(name, ""))
	name = strings.TrimSpace(name)
	if name == "" || name == "." || name == ".." || len(name) > 255 {
		return "resource_backup.mbz"
	}
	if !strings.HasSuffix(strings.ToLower(name), ".mbz") {
		name += ".mbz"
	}
	return name
}

// draft makes the share a draft of acc: the title and summary from the
// request and the backup, the file kept (pinned) for the publish form.
func (s *Server) draft(ctx context.Context, acc api.Account, req shareRequest) (api.Draft, error) {
	st := req.stored
	title := truncate(oneLine(req.meta.Name), activity.MaxTitle)
	fields := map[string][]string{
		"title":     {title},
		"summary":   {summary(req.meta.Description, st.info)},
		"kept_cid":  {st.cid.String()},
		"kept_name": {st.name},
	}
	if t := resourceType(st.info); t != "" {
		fields["type"] = []string{t}
	}
	d, err := s.svc.Drafts.SaveDraft(ctx, acc.Username, 0, title, fields)
	if err != nil {
		return api.Draft{}, err
	}
	if err := s.svc.Files.Pin(ctx, st.cid); err != nil {
		if derr := s.svc.Drafts.DeleteDraft(ctx, acc.Username, d.ID); derr != nil {
			s.log.Warn("remove a draft whose file could not be pinned", "account", acc.Username, "draft", d.ID, "err", derr)
		}
		return api.Draft{}, fmt.Errorf("pin a shared backup: %w", err)
	}
	return d, nil
}

// resourceType is the resource type a backup suggests: a course is a
// course; a quiz, an assessment.
func resourceType(info mbz.Info) string {
	switch {
	case info.Type == "course":
		return "course"
	case info.Type == "activity" && len(info.Activities) == 1 && info.Activities[0].Module == "quiz":
		return "assessment"
	}
	return ""
}

// summary is Moodle's description followed by what the backup says of
// itself, within the summary's bound, without anything that reads as
// HTML.
func summary(description string, info mbz.Info) string {
	var b strings.Builder
	what := map[string]string{"course": "a Moodle course", "section": "a section of a Moodle course", "activity": "a Moodle activity"}[info.Type]
	if what == "" {
		what = "a Moodle backup"
	}
	fmt.Fprintf(&b, "Shared from Moodle: %s", what)
	if info.Course != "" {
		fmt.Fprintf(&b, " (course “%s”)", oneLine(info.Course))
	}
	if info.MoodleRelease != "" {
		fmt.Fprintf(&b, ", made with Moodle %s", oneLine(info.MoodleRelease))
	}
	b.WriteString(".")
	if len(info.Activities) > 0 {
		b.WriteString(" Activities: ")
		for i, a := range info.Activities {
			if i > 0 {
				b.WriteString("; ")
			}
			fmt.Fprintf(&b, "%s (%s)", oneLine(a.Title), oneLine(a.Module))
		}
		if info.ActivityCount > len(info.Activities) {
			fmt.Fprintf(&b, "; and %d more", info.ActivityCount-len(info.Activities))
		}
		b.WriteString(".")
	}
	facts := noTags(b.String())
	desc := noTags(strings.TrimSpace(strings.ReplaceAll(description, "\r\n", "\n")))
	room := activity.MaxDescription - utf8.RuneCountInString(facts) - 2
	if room < 200 {
		facts = truncate(facts, activity.MaxDescription/2)
		room = activity.MaxDescription - utf8.RuneCountInString(facts) - 2
	}
	if desc == "" {
		return facts
	}
	return truncate(desc, room) + "\n\n" + facts
}

// oneLine is s with its runs of spaces and control characters made one
// space.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
}

// noTags keeps angle brackets from reading as HTML, which a summary may
// not hold.
func noTags(s string) string { return strings.NewReplacer("<", "‹", ">", "›").Replace(s) }

// truncate cuts s to at most n characters, marking the cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
