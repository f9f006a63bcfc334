package moodle

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/lyceum-oer/lyceum/node/api"
)

// What Moodle's moodlenet_client sends to the create call: a multipart
// body of two parts, the metadata first.
const (
	// MetadataPart holds {"name": …, "description": …}.
	MetadataPart = "."
	// ResourcePart holds the backup, with its file name.
	ResourcePart = ".resource"
)

// The bounds of a share's multipart body besides the backup.
const (
	maxMetadata = 256 << 10 // the "." part
	maxParts    = 8
	// partSlack is what a share's body may hold besides the backup:
	// boundaries, part headers and the metadata.
	partSlack = maxMetadata + 64<<10
)

// shareMetadata is the "." part. Moodle sends name and description
// (plain text, the activity's or course's); other members are ignored.
type shareMetadata struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// shareRequest is a share as read from its body.
type shareRequest struct {
	meta   shareMetadata
	stored *stored // nil when no backup came
}

// storeFunc stores the backup part as it streams; filename is what the
// part's header says.
type storeFunc func(filename string, r io.Reader) (*stored, error)

// readShare reads a share's multipart body: the "." part (at most
// maxMetadata bytes of JSON) and the ".resource" part, which store
// streams into the store. Any other part, a part twice, or more than
// maxParts parts is refused, naming the part. When it fails after store
// succeeded, the stored backup is returned with the error, for the caller
// to let go.
func readShare(mr *multipart.Reader, store storeFunc) (shareRequest, error) {
	var req shareRequest
	var haveMeta bool
	for n := 0; ; n++ {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return req, bodyError("", err)
		}
		if n >= maxParts {
			return req, badField("", "a share has two parts, %q and %q; this one has more than %d", MetadataPart, ResourcePart, maxParts)
		}
		switch name := partName(p.Header); name {
		case MetadataPart:
			if haveMeta {
				return req, badField(MetadataPart, "the part %q is sent twice", MetadataPart)
			}
			if req.meta, err = readMetadata(p); err != nil {
				return req, err
			}
			haveMeta = true
		case ResourcePart:
			if req.stored != nil {
				return req, badField(ResourcePart, "the part %q is sent twice", ResourcePart)
			}
			if req.stored, err = store(partFilename(p), p); err != nil {
				return req, err
			}
		default:
			return req, badField(name, "unexpected part %s: a share has the parts %q (JSON name and description) and %q (the Moodle backup)",
				api.Quote(name), MetadataPart, ResourcePart)
		}
	}
	switch {
	case !haveMeta:
		return req, badField(MetadataPart, "the part %q, the JSON name and description, is missing", MetadataPart)
	case req.stored == nil:
		return req, badField(ResourcePart, "the part %q, the Moodle backup, is missing", ResourcePart)
	}
	return req, nil
}

// bodyError is a body that could not be read: too large, cut, or not
// multipart.
func bodyError(field string, err error) error {
	var tooBig *http.MaxBytesError
	var ae *api.Error
	switch {
	case errors.As(err, &tooBig):
		return &fieldError{field: ResourcePart, status: http.StatusRequestEntityTooLarge, err: api.Wrap(api.KindInvalid, "the share is larger than this node takes", err)}
	case errors.As(err, &ae):
		return &fieldError{field: field, err: err}
	}
	return &fieldError{field: field, err: api.Wrap(api.KindInvalid, "the multipart body is malformed or was cut short", err)}
}

// readMetadata reads the "." part.
func readMetadata(r io.Reader) (shareMetadata, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxMetadata+1))
	if err != nil {
		return shareMetadata{}, bodyError(MetadataPart, err)
	}
	if len(b) > maxMetadata {
		return shareMetadata{}, badField(MetadataPart, "the part %q is larger than %d KiB", MetadataPart, maxMetadata>>10)
	}
	var m shareMetadata
	dec := json.NewDecoder(strings.NewReader(string(b)))
	if err := dec.Decode(&m); err != nil || dec.More() {
		return m, badField(MetadataPart, "the part %q is not a JSON object with name and description", MetadataPart)
	}
	if !utf8.ValidString(m.Name) || !utf8.ValidString(m.Description) {
		return m, badField("name", "name and description must be UTF-8 text")
	}
	if m.Name = strings.TrimSpace(m.Name); m.Name == "" {
		return m, badField("name", "name is missing: the resource needs a title")
	}
	return m, nil
}

// nameParam finds a name parameter in a Content-Disposition that
// mime.ParseMediaType refuses (Moodle writes the file name unescaped, so
// a name with a quote breaks the header).
var nameParam = regexp.MustCompile(`(?i)(?:^|;)\s*name="([^"]*)"`)

// partName is a part's form name, leniently.
func partName(h textproto.MIMEHeader) string {
	cd := h.Get("Content-Disposition")
	if _, params, err := mime.ParseMediaType(cd); err == nil {
		return params["name"]
	}
	if m := nameParam.FindStringSubmatch(cd); m != nil {
		return m[1]
	}
	return ""
}

// partFilename is the backup's file name, or "" when the header has
// none that can be read.
func partFilename(p *multipart.Part) string {
	if name := p.FileName(); name != "" {
		return name
	}
	return ""
}
