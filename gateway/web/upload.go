package web

import (
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/go-cid"

	"github.com/lyceum-oer/lyceum/node/api"
)

// The publish and edit forms are multipart, read as they stream: never
// ParseMultipartForm, which would keep a large file in memory or on disk.
// The page puts the file input last, so the fields arrive first and are
// checked before the first byte of the file is read: a form with errors
// stores nothing. The file then streams into the store, unpinned: the
// publish pins it, and a file no resource names goes at the next garbage
// collection.

// The bounds of a multipart form's fields (the file is bounded by
// Config.MaxUploadBytes).
const (
	maxFieldBytes  = 16 << 10
	maxFieldsBytes = 256 << 10
	maxParts       = 300
	maxFilename    = 255
)

// fileField is the form's file input, which must come last.
const fileField = "file"

// upload is a file received with a form, stored but not pinned.
type upload struct {
	CID  cid.Cid
	Name string
	Size int64
}

// storeMode says what receive does with the form's file.
type storeMode int

const (
	storeNothing  storeMode = iota // the fields are only checked: the file is read and dropped
	storeUnpinned                  // stored for a publication, which pins it
	storePinned                    // stored and pinned, for a draft that keeps it
)

// receive reads a multipart form whose file part comes last. Its fields go
// into f; check then validates them, told whether a file follows, before
// the file is read. The file is stored as store says when the fields are
// good (check added no error); storeNothing never stores it. It returns the
// file stored, or nil when none came or it was refused (its error is then
// f's).
func (a *App) receive(r *http.Request, v *visitor, f *form, store storeMode, check func(hasFile bool)) (*upload, error) {
	r.Body = http.MaxBytesReader(v.w, r.Body, a.cfg.MaxUploadBytes+maxFieldsBytes)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, api.Errorf(api.KindInvalid, "%s", v.t("publish.bad_form"))
	}
	var used int
	for n := 0; ; n++ {
		p, err := mr.NextPart()
		if err == io.EOF {
			check(false)
			return nil, nil
		}
		if err != nil {
			return nil, a.bodyError(v, f, err)
		}
		if n >= maxParts {
			return nil, api.Errorf(api.KindInvalid, "%s", v.t("publish.bad_form"))
		}
		if p.FormName() == fileField {
			name := cleanFilename(p.FileName())
			check(name != "")
			if store == storeNothing {
				return nil, a.drain(r, v, f)
			}
			return a.receiveFile(r, v, f, p, name, store == storePinned)
		}
		b, err := io.ReadAll(io.LimitReader(p, maxFieldBytes+1))
		if err != nil {
			return nil, a.bodyError(v, f, err)
		}
		if used += len(b); len(b) > maxFieldBytes || used > maxFieldsBytes {
			return nil, api.Errorf(api.KindInvalid, "%s", v.t("publish.bad_form"))
		}
		f.Values.Add(p.FormName(), string(b))
	}
}

// receiveFile streams the file part into the store when the fields are
// good, bounded by the largest upload the node takes.
func (a *App) receiveFile(r *http.Request, v *visitor, f *form, p *multipart.Part, name string, pin bool) (*upload, error) {
	if name == "" {
		// No file was chosen: browsers send an empty part.
		return nil, a.drain(r, v, f)
	}
	if !f.OK() {
		return nil, a.drain(r, v, f)
	}
	if r.ContentLength > a.cfg.MaxUploadBytes+maxFieldsBytes {
		f.fail(fileField, v.t("publish.file.large", formatBytes(v.lang, a.cfg.MaxUploadBytes)))
		return nil, nil
	}
	lr := &limitedReader{r: p, max: a.cfg.MaxUploadBytes}
	c, err := a.svc.Files.Add(r.Context(), name, files.NewReaderFile(lr), api.AddOptions{NoPin: !pin}, nil)
	var tooBig *http.MaxBytesError
	switch {
	case lr.over || errors.As(lr.err, &tooBig):
		f.fail(fileField, v.t("publish.file.large", formatBytes(v.lang, a.cfg.MaxUploadBytes)))
		return nil, nil
	case lr.err != nil && lr.err != io.EOF:
		return nil, api.Wrap(api.KindInvalid, v.t("publish.file.interrupted"), lr.err)
	case err != nil:
		return nil, err
	case lr.n == 0:
		f.fail(fileField, v.t("publish.file.empty"))
		return nil, nil
	}
	return &upload{CID: c, Name: name, Size: lr.n}, a.drain(r, v, f)
}

// drain reads what is left of the body, so that the browser, still
// sending, gets the page rather than a reset connection. The body is
// bounded by receive's MaxBytesReader.
func (a *App) drain(r *http.Request, v *visitor, f *form) error {
	if _, err := io.Copy(io.Discard, r.Body); err != nil {
		return a.bodyError(v, f, err)
	}
	return nil
}

// bodyError is a body that could not be read: too large (told next to
// the file field), or cut or malformed.
func (a *App) bodyError(v *visitor, f *form, err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		f.fail(fileField, v.t("publish.file.large", formatBytes(v.lang, a.cfg.MaxUploadBytes)))
		return nil
	}
	return api.Wrap(api.KindInvalid, v.t("publish.bad_form"), err)
}

// limitedReader reads at most max bytes, then fails: the file is too
// large. It keeps the count and the first error of the underlying reader.
type limitedReader struct {
	r    io.Reader
	max  int64
	n    int64
	over bool
	err  error
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.over {
		return 0, errFileTooLarge
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	if l.n > l.max {
		l.over = true
		return 0, errFileTooLarge
	}
	if err != nil && l.err == nil {
		l.err = err
	}
	return n, err
}

var errFileTooLarge = errors.New("web: the file is larger than the node takes")

// cleanFilename keeps the base name of an uploaded file, without control
// characters, at most maxFilename bytes: it names the file in the
// resource and in downloads.
func cleanFilename(name string) string {
	name = strings.ToValidUTF8(name, "")
	name = path.Base(strings.ReplaceAll(name, "\\", "/"))
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '"' {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if name == "." || name == "/" || name == ".." {
		return ""
	}
	if len(name) <= maxFilename {
		return name
	}
	// Too long: shorten the name and keep its extension, which gives the
	// file its media type.
	ext := path.Ext(name)
	if len(ext) > 16 {
		ext = ""
	}
	stem := strings.TrimSuffix(name, ext)
	for len(stem)+len(ext) > maxFilename {
		_, size := utf8.DecodeLastRuneInString(stem)
		stem = stem[:len(stem)-size]
	}
	return stem + ext
}
