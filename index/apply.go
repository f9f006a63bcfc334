package index

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	bleveindex "github.com/blevesearch/bleve_index_api"

	"github.com/lyceum-oer/lyceum/activity"
)

// Doc is one verified activity to index, with what the node knows around
// it.
type Doc struct {
	Activity        *activity.Activity
	CID             string // the activity's CID (activity.CIDOf)
	AuthorHandle    string // name@node of the actor, may be ""
	CommunityHandle string // name@node of the community it was posted to, may be ""
}

// Keys of the state kept beside the resources as small state documents:
// the key is the document ID and the value a stored-only field, so they
// match no query but the resource filter excludes them anyway. They are
// written in the same batch as the resources, so the two never disagree
// after a crash. (bleve's SetInternal would be simpler, but scorch keeps
// internal keys in every snapshot and rewrites all of them to bolt on each
// persist: ingest went quadratic in the number of resources.) Resource IDs
// are CIDs and never start with these prefixes.
const (
	keyMappingVersion = "lyceum/mapping"
	prefRecord        = "r/" // + resource ID → JSON record of the indexed version
	prefTomb          = "t/" // + resource ID → did of the actor who deleted it
	prefDelist        = "x/" // + resource ID → moderation reason
	prefLikeCount     = "n/" // + resource ID → decimal like count
	prefLiker         = "l/" // + resource ID + "\x00" + liker did → Like CID
	prefLikeAct       = "u/" // + Like CID → resource ID + "\x00" + liker did
	prefUndone        = "z/" // + activity CID → did of the actor who undid it before we saw it
)

// record is what the index remembers of a resource's current version: what
// it needs to rebuild the bleve document when its likes or moderation
// state change, and to order versions.
type record struct {
	CID             string    `json:"c"` // activity that published this version
	Author          string    `json:"a"`
	AuthorHandle    string    `json:"ah,omitempty"`
	Community       string    `json:"co,omitempty"`
	CommunityHandle string    `json:"ch,omitempty"`
	Version         uint64    `json:"v"`
	Title           string    `json:"t"`
	Summary         string    `json:"s,omitempty"`
	License         string    `json:"li,omitempty"`
	Language        string    `json:"la,omitempty"`
	Subjects        []string  `json:"su,omitempty"`
	Type            string    `json:"ty,omitempty"`
	Level           string    `json:"le,omitempty"`
	Origin          string    `json:"o,omitempty"`
	FileCID         string    `json:"f,omitempty"`
	URL             string    `json:"u,omitempty"`
	Published       time.Time `json:"p"`
}

// Apply indexes docs in one bleve batch. It is idempotent (applying an
// activity twice changes nothing) and order-insensitive where it matters:
// an older version never replaces a newer one, a deleted resource is not
// brought back by a Create or Update that arrives after its Delete, and
// likes that arrive before their resource are kept until it comes.
// Activities that mean nothing to the index (Follow, Note, …) and docs
// without an activity are skipped.
func (ix *Index) Apply(ctx context.Context, docs []Doc) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	tx := ix.begin()
	for i := range docs {
		if err := tx.apply(&docs[i]); err != nil {
			return fmt.Errorf("index: apply %s: %w", docs[i].CID, err)
		}
	}
	if err := ctxErr(ctx); err != nil {
		return err
	}
	return tx.commit()
}

// Delist hides a resource from search results (HQ moderation) and records
// why. It may be called before the resource arrives.
func (ix *Index) Delist(ctx context.Context, id, reason string) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if id == "" {
		return fmt.Errorf("index: delist: empty id")
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	tx := ix.begin()
	tx.put(prefDelist+id, []byte(reason))
	tx.dirty[id] = true
	return tx.commit()
}

// Relist undoes Delist.
func (ix *Index) Relist(ctx context.Context, id string) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	tx := ix.begin()
	tx.del(prefDelist + id)
	tx.dirty[id] = true
	return tx.commit()
}

// Delisted reports whether id is delisted and why.
func (ix *Index) Delisted(id string) (reason string, ok bool, err error) {
	v, err := ix.getState(prefDelist + id)
	if err != nil {
		return "", false, fmt.Errorf("index: delisted %s: %w", id, err)
	}
	return string(v), v != nil, nil
}

// txn reads through its own writes: several activities in one batch may
// touch the same keys, and bleve's GetInternal sees only committed state.
type txn struct {
	ix      *Index
	overlay map[string][]byte // nil value: deleted
	dirty   map[string]bool   // resource IDs whose document must be rebuilt
	err     error
}

func (ix *Index) begin() *txn {
	return &txn{ix: ix, overlay: map[string][]byte{}, dirty: map[string]bool{}}
}

func (tx *txn) get(key string) []byte {
	if v, ok := tx.overlay[key]; ok {
		return v
	}
	v, err := tx.ix.getState(key)
	if err != nil && tx.err == nil {
		tx.err = err
	}
	return v
}

// getState reads the state document key: nil if there is none.
func (ix *Index) getState(key string) ([]byte, error) {
	d, err := ix.bi.Document(key)
	if err != nil || d == nil {
		return nil, err
	}
	var v []byte
	d.VisitFields(func(f bleveindex.Field) {
		if f.Name() == fState {
			v = f.Value()
		}
	})
	if len(v) == 0 {
		return nil, nil
	}
	return append([]byte(nil), v[1:]...), nil // drop the "=" that keeps empty values non-empty
}

func (tx *txn) has(key string) bool { return tx.get(key) != nil }

func (tx *txn) put(key string, v []byte) {
	if v == nil {
		v = []byte{}
	}
	tx.overlay[key] = v
}

func (tx *txn) del(key string) { tx.overlay[key] = nil }

func (tx *txn) record(id string) *record {
	v := tx.get(prefRecord + id)
	if v == nil {
		return nil
	}
	var r record
	if err := json.Unmarshal(v, &r); err != nil {
		if tx.err == nil {
			tx.err = fmt.Errorf("record %s: %w", id, err)
		}
		return nil
	}
	return &r
}

func (tx *txn) likes(id string) int {
	n, _ := strconv.Atoi(string(tx.get(prefLikeCount + id)))
	return n
}

func (tx *txn) addLikes(id string, d int) {
	n := max(tx.likes(id)+d, 0)
	if n == 0 {
		tx.del(prefLikeCount + id)
	} else {
		tx.put(prefLikeCount+id, []byte(strconv.Itoa(n)))
	}
	tx.dirty[id] = true
}

func (tx *txn) apply(d *Doc) error {
	a := d.Activity
	if a == nil {
		return nil
	}
	switch a.Type {
	case activity.TypeCreate, activity.TypeUpdate:
		if a.Object.Resource != nil {
			tx.applyResource(d)
		}
	case activity.TypeDelete:
		id := a.Object.Ref
		if t := a.Object.Tombstone; t != nil {
			id = t.ID
		}
		if id != "" {
			tx.applyDelete(a.Actor, id)
		}
	case activity.TypeLike:
		if a.Object.Ref != "" && d.CID != "" {
			tx.applyLike(a.Actor, a.Object.Ref, d.CID)
		}
	case activity.TypeUndo:
		if a.Object.Ref != "" {
			tx.applyUndo(a.Actor, a.Object.Ref)
		}
	}
	return tx.err
}

func (tx *txn) applyResource(d *Doc) {
	a, res := d.Activity, d.Activity.Object.Resource
	id := res.ID
	if id == "" {
		id = d.CID // version 1: the Create's own CID is the stable ID
	}
	if id == "" {
		return
	}
	// A genuine Create is the one whose CID is the ID: it settles who the
	// author is, whatever arrived before it.
	genuineCreate := a.Type == activity.TypeCreate && d.CID == id
	if by := tx.get(prefTomb + id); by != nil {
		if string(by) == a.Actor {
			return // deleted by its author: never resurrect
		}
		if genuineCreate {
			tx.del(prefTomb + id) // a Delete by someone who is not the author
		}
	}
	r := newRecord(d, id)
	if old := tx.record(id); old != nil {
		switch {
		case old.Author != r.Author:
			if !genuineCreate {
				return // only the author publishes versions
			}
		case r.Version < old.Version:
			return // a late, older version
		case r.Version == old.Version && r.CID >= old.CID:
			return // the same activity again, or a fork: the smaller CID wins everywhere
		}
	}
	b, err := json.Marshal(r)
	if err != nil {
		tx.err = err
		return
	}
	tx.put(prefRecord+id, b)
	tx.dirty[id] = true
}

func (tx *txn) applyDelete(actor, id string) {
	if old := tx.record(id); old != nil && old.Author != actor {
		return // only the author deletes a resource
	}
	if by := tx.get(prefTomb + id); by != nil && string(by) == actor {
		return
	}
	tx.put(prefTomb+id, []byte(actor))
	if tx.has(prefRecord + id) {
		tx.del(prefRecord + id)
		tx.dirty[id] = true
	}
}

func (tx *txn) applyLike(liker, id, likeCID string) {
	if by := tx.get(prefUndone + likeCID); by != nil && string(by) == liker {
		return // its Undo came first
	}
	if tx.has(prefLikeAct + likeCID) {
		return // seen
	}
	tx.put(prefLikeAct+likeCID, []byte(id+"\x00"+liker))
	lk := prefLiker + id + "\x00" + liker
	if tx.has(lk) {
		return // a second Like by the same actor counts once
	}
	tx.put(lk, []byte(likeCID))
	tx.addLikes(id, 1)
}

func (tx *txn) applyUndo(actor, ref string) {
	v := tx.get(prefLikeAct + ref)
	if v == nil {
		// Not a Like we know: either not a Like at all or one that has not
		// arrived yet. Remember it so that the Like, if it comes, is ignored.
		tx.put(prefUndone+ref, []byte(actor))
		return
	}
	id, liker, ok := strings.Cut(string(v), "\x00")
	if !ok || liker != actor {
		return // only the liker undoes a like
	}
	tx.del(prefLikeAct + ref)
	tx.put(prefUndone+ref, []byte(actor))
	lk := prefLiker + id + "\x00" + liker
	if tx.has(lk) {
		tx.del(lk)
		tx.addLikes(id, -1)
	}
}

// commit writes the rebuilt documents and the internal keys in one batch.
func (tx *txn) commit() error {
	if tx.err != nil {
		return fmt.Errorf("index: %w", tx.err)
	}
	b := tx.ix.bi.NewBatch()
	for id := range tx.dirty {
		r := tx.record(id)
		if r == nil || tx.has(prefDelist+id) {
			b.Delete(id)
			continue
		}
		if err := b.Index(id, r.fields(tx.likes(id))); err != nil {
			return fmt.Errorf("index: %s: %w", id, err)
		}
	}
	if tx.err != nil {
		return fmt.Errorf("index: %w", tx.err)
	}
	for k, v := range tx.overlay {
		if v == nil {
			b.Delete(k)
		} else if err := b.Index(k, map[string]any{fState: "=" + string(v)}); err != nil {
			return fmt.Errorf("index: %s: %w", k, err)
		}
	}
	if b.Size() == 0 {
		return nil
	}
	if err := tx.ix.bi.Batch(b); err != nil {
		return fmt.Errorf("index: batch: %w", err)
	}
	return nil
}

func newRecord(d *Doc, id string) *record {
	a, res := d.Activity, d.Activity.Object.Resource
	r := &record{
		CID:             d.CID,
		Author:          a.Actor,
		AuthorHandle:    d.AuthorHandle,
		CommunityHandle: d.CommunityHandle,
		Version:         max(res.Version, 1),
		Title:           res.Title,
		Summary:         res.Description,
		License:         res.License,
		Language:        res.Language,
		Type:            res.LearningResourceType,
		Level:           res.Level,
		FileCID:         res.Media.CID,
		URL:             res.Media.URL,
		Published:       res.Published,
	}
	if r.Published.IsZero() {
		r.Published = a.Published
	}
	r.Published = r.Published.UTC()
	seen := map[string]bool{}
	for _, s := range res.Subjects {
		if s != "" && !seen[s] {
			seen[s] = true
			r.Subjects = append(r.Subjects, s)
		}
	}
	// A community post carries the community's did:key in To.
	for _, to := range a.To {
		if strings.HasPrefix(to, "did:key:") && to != a.Actor {
			r.Community = to
			break
		}
	}
	if o := res.Origin; o != nil {
		r.Origin = o.Node
		if r.Origin == "" {
			if _, node, ok := strings.Cut(o.Handle, "@"); ok {
				r.Origin = node
			}
		}
		if r.AuthorHandle == "" {
			r.AuthorHandle = o.Handle
		}
		if o.URL != "" {
			r.URL = o.URL
		}
	}
	return r
}

// langSuffix maps a BCP 47 tag to the suffix of its text fields.
func langSuffix(tag string) string {
	p := primary(tag)
	for _, l := range Languages {
		if p == l {
			return l
		}
	}
	return plainLang
}

// primary returns the lower-case primary language subtag of a BCP 47 tag.
func primary(tag string) string {
	p, _, _ := strings.Cut(tag, "-")
	return strings.ToLower(p)
}

// fields is the bleve document of r.
func (r *record) fields(likes int) map[string]any {
	l := langSuffix(r.Language)
	m := map[string]any{
		fKind:         kindResource,
		fTitle + l:    r.Title,
		fPublished:    r.Published,
		fLikes:        float64(likes),
		fVersion:      float64(r.Version),
		fAuthor:       r.Author,
		fLanguageTag:  r.Language,
		fLanguage:     primary(r.Language),
		fLicense:      r.License,
		fType:         r.Type,
		fLevel:        r.Level,
		fAuthorHandle: r.AuthorHandle,
	}
	if r.Summary != "" {
		m[fSummary+l] = r.Summary
	}
	if len(r.Subjects) > 0 {
		m[fSubjects] = r.Subjects
	}
	for k, v := range map[string]string{
		fCommunity: r.Community, fCommunityHandle: r.CommunityHandle,
		fOrigin: r.Origin, fFileCID: r.FileCID, fURL: r.URL,
	} {
		if v != "" {
			m[k] = v
		}
	}
	for _, k := range []string{fLanguageTag, fLanguage, fLicense, fType, fLevel, fAuthorHandle} {
		if m[k] == "" {
			delete(m, k)
		}
	}
	return m
}
