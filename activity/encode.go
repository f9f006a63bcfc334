package activity

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// Known member names per object, so an Extra entry cannot shadow a field.
var (
	activityKeys   = []string{"@context", "id", "type", "actor", "object", "target", "summary", "seq", "prev", "published", "to", "cc", "proof"}
	resourceKeys   = []string{"type", "id", "version", "previousVersion", "name", "summary", "media", "license", "language", "subjects", "keywords", "level", "learningResourceType", "created", "published", "updated", "creators", "creditText", "derivedFrom", "teaches", "thumbnail", "audience", "origin"}
	actorKeys      = []string{"type", "id", "preferredUsername", "name", "summary", "node", "published", "icon"}
	collectionKeys = []string{"type", "id", "name", "summary", "attributedTo", "orderedItems"}
	noteKeys       = []string{"type", "content", "inReplyTo", "published"}
	tombstoneKeys  = []string{"type", "id", "formerType", "deleted"}
)

// Encode returns the canonical JSON of a: RFC 8785 (JCS) bytes, which are
// also its IPLD block (see Block). It validates a first.
func Encode(a *Activity) ([]byte, error) {
	if err := a.Validate(); err != nil {
		return nil, fmt.Errorf("encode %s: %w", a.Type, err)
	}
	v, err := activityTree(a, true)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", a.Type, err)
	}
	out, err := writeCanonical(make([]byte, 0, 2048), v)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", a.Type, err)
	}
	return out, nil
}

// obj builds an object value; empty optional values are left out, as
// Decode rejects them.
type obj struct{ ms []member }

func (o *obj) add(k string, v value) { o.ms = append(o.ms, member{key: k, val: v}) }

func (o *obj) str(k, s string) {
	if s != "" {
		o.add(k, value{kind: kString, s: s})
	}
}

func (o *obj) strs(k string, ss []string) {
	if len(ss) == 0 {
		return
	}
	arr := make([]value, len(ss))
	for i, s := range ss {
		arr[i] = value{kind: kString, s: s}
	}
	o.add(k, value{kind: kArray, arr: arr})
}

func (o *obj) uint(k string, n uint64) {
	o.add(k, value{kind: kNumber, s: strconv.FormatUint(n, 10)})
}

func (o *obj) time(k string, t time.Time) {
	if !t.IsZero() {
		o.add(k, value{kind: kString, s: formatTime(t)})
	}
}

// extra adds the unknown members kept by Decode, refusing names that
// belong to a known field.
func (o *obj) extra(path string, extra map[string]json.RawMessage, known []string) error {
	for k, raw := range extra {
		if slices.Contains(known, k) {
			return fieldErr(join(path, k), "Extra must not hold a known member")
		}
		v, err := parseAny(raw)
		if err != nil {
			return fmt.Errorf("%s: %w", join(path, k), err)
		}
		o.add(k, v)
	}
	return nil
}

// value is the object, its members sorted as the canonical form has them
// (in place: the writer would otherwise sort a copy).
func (o *obj) value() value {
	slices.SortFunc(o.ms, compareMembers)
	return value{kind: kObject, obj: o.ms}
}

// formatTime writes a time as Lyceum does: RFC 3339 in UTC, fractional
// seconds only when non-zero and without trailing zeros.
func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// parseAny parses a JSON value of any kind (used for Extra values).
func parseAny(raw []byte) (value, error) {
	p := parser{b: raw, maxDepth: DefaultMaxDepth}
	p.ws()
	v, err := p.value(0)
	if err != nil {
		return value{}, err
	}
	p.ws()
	if p.i != len(p.b) {
		return value{}, p.errf("trailing data")
	}
	return v, nil
}

func contextValue(ctx []string) value {
	if ctx == nil {
		ctx = DefaultContext()
	}
	arr := make([]value, len(ctx))
	for i, s := range ctx {
		arr[i] = value{kind: kString, s: s}
	}
	return value{kind: kArray, arr: arr}
}

// activityTree builds the JSON tree of a, with its proof if withProof.
func activityTree(a *Activity, withProof bool) (value, error) {
	o := obj{ms: make([]member, 0, 14)}
	o.add("@context", contextValue(a.Context))
	o.str("id", a.ID)
	o.str("type", string(a.Type))
	o.str("actor", a.Actor)
	ov, err := objectTree(a.Object)
	if err != nil {
		return value{}, err
	}
	o.add("object", ov)
	o.str("target", a.Target)
	o.str("summary", a.Summary)
	o.uint("seq", a.Seq)
	o.str("prev", a.Prev)
	o.time("published", a.Published)
	o.strs("to", a.To)
	o.strs("cc", a.CC)
	if withProof && a.Proof != nil {
		o.add("proof", proofTree(a.Proof, true))
	}
	if err := o.extra("", a.Extra, activityKeys); err != nil {
		return value{}, err
	}
	return o.value(), nil
}

// proofTree builds the proof object; without proofValue it is the proof
// configuration that eddsa-jcs-2022 hashes.
func proofTree(p *Proof, withValue bool) value {
	o := obj{ms: make([]member, 0, 7)}
	o.str("type", p.Type)
	o.str("cryptosuite", p.Cryptosuite)
	o.time("created", p.Created)
	o.str("verificationMethod", p.VerificationMethod)
	o.str("proofPurpose", p.ProofPurpose)
	if p.Context != nil {
		o.add("@context", contextValue(p.Context))
	}
	if withValue {
		o.str("proofValue", p.ProofValue)
	}
	return o.value()
}

func objectTree(ob Object) (value, error) {
	switch ob.Kind() {
	case RefObject:
		return value{kind: kString, s: ob.Ref}, nil
	case ResourceObject:
		return resourceTree(ob.Resource)
	case NoteObject:
		n := ob.Note
		o := obj{}
		o.str("type", "Note")
		o.str("content", n.Content)
		o.str("inReplyTo", n.InReplyTo)
		o.time("published", n.Published)
		if err := o.extra("object", n.Extra, noteKeys); err != nil {
			return value{}, err
		}
		return o.value(), nil
	case CollectionObject:
		c := ob.Collection
		o := obj{}
		o.str("type", "OrderedCollection")
		o.str("id", c.ID)
		o.str("name", c.Title)
		o.str("summary", c.Description)
		o.str("attributedTo", c.Owner)
		o.strs("orderedItems", c.Items)
		if err := o.extra("object", c.Extra, collectionKeys); err != nil {
			return value{}, err
		}
		return o.value(), nil
	case ActorObject:
		return actorTree(ob.Actor)
	case TombstoneObject:
		t := ob.Tombstone
		o := obj{}
		o.str("type", "Tombstone")
		o.str("id", t.ID)
		o.str("formerType", t.FormerType)
		o.time("deleted", t.Deleted)
		if err := o.extra("object", t.Extra, tombstoneKeys); err != nil {
			return value{}, err
		}
		return o.value(), nil
	}
	return value{}, fieldErr("object", "exactly one object must be set")
}

func imageTree(im *Image) value {
	o := obj{}
	o.str("cid", im.CID)
	o.str("mediaType", im.MediaType)
	o.str("credit", im.Credit)
	return o.value()
}

func actorTree(a *Actor) (value, error) {
	o := obj{}
	o.str("type", string(a.Type))
	o.str("id", a.ID)
	o.str("preferredUsername", a.PreferredUsername)
	o.str("name", a.Name)
	o.str("summary", a.Summary)
	o.str("node", a.Node)
	o.time("published", a.Published)
	if a.Icon != nil {
		o.add("icon", imageTree(a.Icon))
	}
	if err := o.extra("object", a.Extra, actorKeys); err != nil {
		return value{}, err
	}
	return o.value(), nil
}

func resourceTree(r *Resource) (value, error) {
	o := obj{ms: make([]member, 0, 24)}
	o.str("type", string(r.Type))
	o.str("id", r.ID)
	o.uint("version", r.Version)
	o.str("previousVersion", r.PreviousVersion)
	o.str("name", r.Title)
	o.str("summary", r.Description)
	m := obj{}
	m.str("kind", string(r.Media.Kind))
	m.str("cid", r.Media.CID)
	m.str("filename", r.Media.Filename)
	m.str("mediaType", r.Media.MediaType)
	if r.Media.Kind == KindFile {
		m.uint("size", uint64(r.Media.Size))
	}
	m.str("url", r.Media.URL)
	o.add("media", m.value())
	o.str("license", r.License)
	o.str("language", r.Language)
	o.strs("subjects", r.Subjects)
	o.strs("keywords", r.Keywords)
	o.str("level", r.Level)
	o.str("learningResourceType", r.LearningResourceType)
	o.str("created", r.Created)
	o.time("published", r.Published)
	o.time("updated", r.Updated)
	if len(r.Creators) > 0 {
		arr := make([]value, len(r.Creators))
		for i, c := range r.Creators {
			co := obj{}
			co.str("name", c.Name)
			co.str("actor", c.Actor)
			co.str("role", c.Role)
			arr[i] = co.value()
		}
		o.add("creators", value{kind: kArray, arr: arr})
	}
	o.str("creditText", r.CreditText)
	o.strs("derivedFrom", r.DerivedFrom)
	o.strs("teaches", r.Teaches)
	if r.Thumbnail != nil {
		o.add("thumbnail", imageTree(r.Thumbnail))
	}
	o.strs("audience", r.Audience)
	if r.Origin != nil {
		oo := obj{}
		oo.str("node", r.Origin.Node)
		oo.str("handle", r.Origin.Handle)
		oo.str("url", r.Origin.URL)
		o.add("origin", oo.value())
	}
	if err := o.extra("object", r.Extra, resourceKeys); err != nil {
		return value{}, err
	}
	return o.value(), nil
}
