package activity

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Default decoding limits.
const (
	// DefaultMaxSize is the largest activity Decode accepts: 64 KiB.
	DefaultMaxSize = 64 << 10
	// DefaultMaxDepth is the deepest JSON nesting Decode accepts. A
	// resource Create needs 4 levels; the rest is room for extensions.
	DefaultMaxDepth = 16
)

// DecodeOption changes a Decode limit.
type DecodeOption func(*decodeConfig)

type decodeConfig struct {
	maxSize  int
	maxDepth int
}

// WithMaxSize sets the largest input Decode accepts, in bytes.
func WithMaxSize(n int) DecodeOption { return func(c *decodeConfig) { c.maxSize = n } }

// WithMaxDepth sets the deepest nesting of objects and arrays Decode
// accepts.
func WithMaxDepth(n int) DecodeOption { return func(c *decodeConfig) { c.maxDepth = n } }

// Decode parses and validates one activity. It is strict (see the package
// documentation): errors match ErrTooLarge, ErrTooDeep, ErrMalformed or
// ErrInvalid (a *FieldError naming the field). Decode does not verify the
// proof; call Verify.
func Decode(b []byte, opts ...DecodeOption) (*Activity, error) {
	cfg := decodeConfig{maxSize: DefaultMaxSize, maxDepth: DefaultMaxDepth}
	for _, o := range opts {
		o(&cfg)
	}
	if len(b) > cfg.maxSize {
		return nil, fmt.Errorf("decode activity: %w: %d bytes, limit %d", ErrTooLarge, len(b), cfg.maxSize)
	}
	tree, err := parseJSON(b, cfg.maxDepth)
	if err != nil {
		return nil, fmt.Errorf("decode activity: %w", err)
	}
	a, err := readActivity(tree)
	if err != nil {
		return nil, fmt.Errorf("decode activity: %w", err)
	}
	if err := a.Validate(); err != nil {
		return nil, fmt.Errorf("decode %s: %w", a.Type, err)
	}
	return a, nil
}

// reader reads the members of one JSON object, remembering the first error
// and which members were used.
type reader struct {
	path string
	ms   []member
	used []bool
	err  error
}

func newReader(path string, v value) *reader {
	return &reader{path: path, ms: v.obj, used: make([]bool, len(v.obj))}
}

func (r *reader) fail(key, format string, args ...any) {
	if r.err == nil {
		r.err = fieldErr(join(r.path, key), format, args...)
	}
}

// get returns the member's value; null and absent are both "absent", but
// null is an error (omit instead).
func (r *reader) get(key string) (value, bool) {
	for i := range r.ms {
		if r.ms[i].key == key {
			r.used[i] = true
			if r.ms[i].val.kind == kNull {
				r.fail(key, "must not be null (omit it)")
				return value{}, false
			}
			return r.ms[i].val, true
		}
	}
	return value{}, false
}

func (r *reader) str(key string) string {
	v, ok := r.get(key)
	if !ok {
		return ""
	}
	if v.kind != kString {
		r.fail(key, "must be a string")
		return ""
	}
	if v.s == "" {
		r.fail(key, "must not be empty (omit it)")
	}
	return v.s
}

func (r *reader) strs(key string) []string {
	v, ok := r.get(key)
	if !ok {
		return nil
	}
	if v.kind != kArray {
		r.fail(key, "must be an array of strings")
		return nil
	}
	if len(v.arr) == 0 {
		r.fail(key, "must not be empty (omit it)")
		return nil
	}
	out := make([]string, len(v.arr))
	for i, e := range v.arr {
		if e.kind != kString || e.s == "" {
			if r.err == nil {
				r.err = fieldErr(index(join(r.path, key), i), "must be a non-empty string")
			}
			return nil
		}
		out[i] = e.s
	}
	return out
}

// uint reads a non-negative integer written as a plain integer literal no
// larger than 2^53-1, so that every JSON implementation reads it exactly.
func (r *reader) uint(key string) (uint64, bool) {
	v, ok := r.get(key)
	if !ok {
		return 0, false
	}
	if v.kind != kNumber {
		r.fail(key, "must be a number")
		return 0, false
	}
	n, err := strconv.ParseUint(v.s, 10, 64)
	if err != nil || n >= maxSafeInt {
		r.fail(key, "%s is not an integer in 0…2^53-1", v.s)
		return 0, false
	}
	return n, true
}

func (r *reader) time(key string) time.Time {
	s := r.str(key)
	if s == "" {
		return time.Time{}
	}
	t, err := parseTime(s)
	if err != nil {
		r.fail(key, "%v", err)
	}
	return t
}

// parseTime accepts exactly what formatTime writes, so a decoded time
// re-encodes to the same bytes.
func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 date-time", s)
	}
	t = t.UTC()
	if formatTime(t) != s {
		return time.Time{}, fmt.Errorf("%q must be in UTC as %q", s, formatTime(t))
	}
	return t, nil
}

func (r *reader) object(key string) (*reader, bool) {
	v, ok := r.get(key)
	if !ok {
		return nil, false
	}
	if v.kind != kObject {
		r.fail(key, "must be an object")
		return nil, false
	}
	return newReader(join(r.path, key), v), true
}

// strict reports the first unknown member as an error.
func (r *reader) strict() {
	for i, u := range r.used {
		if !u {
			r.fail(r.ms[i].key, "unknown member")
			return
		}
	}
}

// extra returns the unknown members in canonical form.
func (r *reader) extra() map[string]json.RawMessage {
	var out map[string]json.RawMessage
	for i, u := range r.used {
		if u {
			continue
		}
		b, err := writeCanonical(nil, r.ms[i].val)
		if err != nil {
			if r.err == nil {
				r.err = fmt.Errorf("%s: %w", join(r.path, r.ms[i].key), err)
			}
			return nil
		}
		if out == nil {
			out = make(map[string]json.RawMessage)
		}
		out[r.ms[i].key] = b
	}
	return out
}

// done merges a nested reader's error into r.
func (r *reader) done(sub *reader) {
	if r.err == nil && sub != nil {
		r.err = sub.err
	}
}

func readActivity(v value) (*Activity, error) {
	r := newReader("", v)
	a := &Activity{}
	ctx, ok := r.get("@context")
	if !ok {
		r.fail("@context", "is required")
	} else if ctx.kind != kArray {
		r.fail("@context", "must be an array of IRIs")
	} else {
		a.Context = make([]string, len(ctx.arr))
		for i, e := range ctx.arr {
			if e.kind != kString {
				r.fail("@context", "must be an array of IRIs")
				break
			}
			a.Context[i] = e.s
		}
	}
	a.ID = r.str("id")
	a.Type = Type(r.str("type"))
	a.Actor = r.str("actor")
	if ov, ok := r.get("object"); ok {
		a.Object = readObject(r, ov)
	}
	a.Target = r.str("target")
	a.Summary = r.str("summary")
	a.Seq, _ = r.uint("seq")
	a.Prev = r.str("prev")
	a.Published = r.time("published")
	a.To = r.strs("to")
	a.CC = r.strs("cc")
	if pr, ok := r.object("proof"); ok {
		a.Proof = readProof(pr)
		r.done(pr)
	}
	a.Extra = r.extra()
	return a, r.err
}

func readProof(r *reader) *Proof {
	p := &Proof{
		Type:               r.str("type"),
		Cryptosuite:        r.str("cryptosuite"),
		Created:            r.time("created"),
		VerificationMethod: r.str("verificationMethod"),
		ProofPurpose:       r.str("proofPurpose"),
		ProofValue:         r.str("proofValue"),
	}
	p.Context = r.strs("@context")
	r.strict()
	return p
}

func readObject(parent *reader, v value) Object {
	switch v.kind {
	case kString:
		if v.s == "" {
			parent.fail("object", "must not be empty")
		}
		return Object{Ref: v.s}
	case kObject:
	default:
		parent.fail("object", "must be a reference string or an object")
		return Object{}
	}
	r := newReader("object", v)
	defer parent.done(r)
	switch t := r.str("type"); t {
	case string(Document), string(Link):
		return Object{Resource: readResource(r, ResourceType(t))}
	case "Note":
		n := &Note{Content: r.str("content"), InReplyTo: r.str("inReplyTo"), Published: r.time("published")}
		n.Extra = r.extra()
		return Object{Note: n}
	case "OrderedCollection":
		c := &Collection{ID: r.str("id"), Title: r.str("name"), Description: r.str("summary"),
			Owner: r.str("attributedTo"), Items: r.strs("orderedItems")}
		c.Extra = r.extra()
		return Object{Collection: c}
	case string(Person), string(Group), string(Service):
		a := &Actor{Type: ActorType(t), ID: r.str("id"), PreferredUsername: r.str("preferredUsername"),
			Name: r.str("name"), Summary: r.str("summary"), Node: r.str("node"), Published: r.time("published")}
		if ir, ok := r.object("icon"); ok {
			a.Icon = readImage(ir)
			r.done(ir)
		}
		a.Extra = r.extra()
		return Object{Actor: a}
	case "Tombstone":
		tb := &Tombstone{ID: r.str("id"), FormerType: r.str("formerType"), Deleted: r.time("deleted")}
		tb.Extra = r.extra()
		return Object{Tombstone: tb}
	case "":
		r.fail("type", "is required")
	default:
		r.fail("type", "%q is not a known object type", t)
	}
	return Object{}
}

func readImage(r *reader) *Image {
	im := &Image{CID: r.str("cid"), MediaType: r.str("mediaType"), Credit: r.str("credit")}
	r.strict()
	return im
}

func readResource(r *reader, t ResourceType) *Resource {
	res := &Resource{Type: t}
	res.ID = r.str("id")
	res.Version, _ = r.uint("version")
	res.PreviousVersion = r.str("previousVersion")
	res.Title = r.str("name")
	res.Description = r.str("summary")
	if mr, ok := r.object("media"); ok {
		res.Media = Media{Kind: MediaKind(mr.str("kind")), CID: mr.str("cid"), Filename: mr.str("filename"),
			MediaType: mr.str("mediaType"), URL: mr.str("url")}
		if n, ok := mr.uint("size"); ok {
			res.Media.Size = int64(n)
		} else if res.Media.Kind == KindFile && mr.err == nil {
			mr.fail("size", "is required for a file")
		}
		mr.strict()
		r.done(mr)
	}
	res.License = r.str("license")
	res.Language = r.str("language")
	res.Subjects = r.strs("subjects")
	res.Keywords = r.strs("keywords")
	res.Level = r.str("level")
	res.LearningResourceType = r.str("learningResourceType")
	res.Created = r.str("created")
	res.Published = r.time("published")
	res.Updated = r.time("updated")
	if cv, ok := r.get("creators"); ok {
		if cv.kind != kArray || len(cv.arr) == 0 {
			r.fail("creators", "must be a non-empty array of objects")
		} else {
			res.Creators = make([]Creator, len(cv.arr))
			for i, e := range cv.arr {
				p := index("object.creators", i)
				if e.kind != kObject {
					if r.err == nil {
						r.err = fieldErr(p, "must be an object")
					}
					break
				}
				cr := newReader(p, e)
				res.Creators[i] = Creator{Name: cr.str("name"), Actor: cr.str("actor"), Role: cr.str("role")}
				cr.strict()
				r.done(cr)
			}
		}
	}
	res.CreditText = r.str("creditText")
	res.DerivedFrom = r.strs("derivedFrom")
	res.Teaches = r.strs("teaches")
	if tr, ok := r.object("thumbnail"); ok {
		res.Thumbnail = readImage(tr)
		r.done(tr)
	}
	res.Audience = r.strs("audience")
	if or, ok := r.object("origin"); ok {
		res.Origin = &Origin{Node: or.str("node"), Handle: or.str("handle"), URL: or.str("url")}
		or.strict()
		r.done(or)
	}
	res.Extra = r.extra()
	return res
}
