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

// Keys of the state kept beside the indexed documents as small state
// documents: the key is the document ID and the value a stored-only field,
// so they match no query. They are written in the same batch as the
// documents, so the two never disagree after a crash. (bleve's SetInternal
// would be simpler, but scorch keeps internal keys in every snapshot and
// rewrites all of them to bolt on each persist: ingest went quadratic in
// the number of resources.) IDs are CIDs or did:keys and never start with
// these prefixes. What the index knows of a thing's current version (its
// record) is not a state document: it is stored in the thing's own
// document (fRec), which a delisted thing keeps without its searchable
// fields.
const (
	keyMappingVersion = "lyceum/mapping"
	keySync           = "lyceum/sync"       // internal key that Sync writes to have something to persist
	keyCheckpoint     = "lyceum/checkpoint" // state document: the checkpoint of ApplyThrough
	prefTomb          = "t/"                // + ID → did of the actor who deleted it
	prefDelist        = "x/"                // + ID → moderation reason
	prefLikeCount     = "n/"                // + resource ID → decimal like count
	prefLiker         = "l/"                // + resource ID + "\x00" + liker did → Like CID
	prefLikeAct       = "u/"                // + Like CID → resource ID + "\x00" + liker did
	prefUndone        = "z/"                // + activity CID → did of the actor who undid it before we saw it
)

// record is what the index remembers of the current version of a
// resource, collection, community or person: what a Hit shows, what it
// needs to rebuild the document when likes or moderation state change, and
// what orders versions.
type record struct {
	Kind            string    `json:"k"`
	CID             string    `json:"c"` // activity that published this version
	Author          string    `json:"a"`
	AuthorHandle    string    `json:"ah,omitempty"`
	Community       string    `json:"co,omitempty"`
	CommunityHandle string    `json:"ch,omitempty"`
	Version         uint64    `json:"v"` // resources: their version; others: the seq of the activity
	Title           string    `json:"t"`
	Summary         string    `json:"s,omitempty"`
	Keywords        []string  `json:"kw,omitempty"`
	Creators        []string  `json:"cr,omitempty"` // names
	License         string    `json:"li,omitempty"`
	Language        string    `json:"la,omitempty"`
	Subjects        []string  `json:"su,omitempty"`
	Type            string    `json:"ty,omitempty"`
	Level           string    `json:"le,omitempty"`
	Origin          string    `json:"o,omitempty"`
	FileCID         string    `json:"f,omitempty"`
	URL             string    `json:"u,omitempty"`
	Items           int       `json:"i,omitempty"` // collections: how many resources
	Published       time.Time `json:"p"`
	// Likes is the count when the document was written, for Hits; the
	// state document prefLikeCount is what Apply counts from.
	Likes int `json:"n,omitempty"`
}

// Apply indexes docs in one bleve batch. It is idempotent (applying an
// activity twice changes nothing) and order-insensitive where it matters:
// an older version never replaces a newer one, a deleted resource is not
// brought back by a Create or Update that arrives after its Delete, and
// likes that arrive before their resource are kept until it comes.
// Activities that mean nothing to the index (Follow, Note, …) and docs
// without an activity are skipped.
//
// Apply returns once the batch is searchable; see Open for when it is
// persisted.
func (ix *Index) Apply(ctx context.Context, docs []Doc) error {
	return ix.apply(ctx, docs, nil)
}

// RebuildBatch is how many documents a full rebuild (from empty, replaying
// the logs) should pass to each ApplyThrough. Every batch becomes one
// segment, and scorch's merger then rewrites segments about log10(N/batch)
// times, so batches ten times bigger than live ingest's ~1,000 build
// fewer segments (each with a term dictionary per field) and merge one
// tier less: a 1M build went from 5 min 22 s to 4 min 23 s (quiet
// machine). Durability is unchanged: each batch still carries its
// checkpoint, so a crash loses at most unpersisted batches, which
// Checkpoint tells the caller to replay. The cost is memory: that build
// peaked at ~1 GiB of RSS (348 MiB with batches of 1,000), and a process
// that opens the fresh index peaks at ~400 MiB instead of ~140 MiB.
const RebuildBatch = 10_000

// ApplyThrough is Apply that also records checkpoint (the caller's
// position in its logs, say) in the same batch, so that after a crash
// Checkpoint tells where the persisted index ends.
func (ix *Index) ApplyThrough(ctx context.Context, docs []Doc, checkpoint uint64) error {
	return ix.apply(ctx, docs, &checkpoint)
}

// Checkpoint returns the checkpoint of the last ApplyThrough, 0 if none.
// Right after Open it is the last one persisted.
func (ix *Index) Checkpoint() (uint64, error) {
	v, err := ix.getState(keyCheckpoint)
	if err != nil || v == nil {
		return 0, err
	}
	n, err := strconv.ParseUint(string(v), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("index: checkpoint %q: %w", v, err)
	}
	return n, nil
}

func (ix *Index) apply(ctx context.Context, docs []Doc, checkpoint *uint64) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	tx := ix.begin()
	defer tx.close()
	for i := range docs {
		if err := tx.apply(&docs[i]); err != nil {
			return fmt.Errorf("index: apply %s: %w", docs[i].CID, err)
		}
	}
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if checkpoint != nil {
		tx.put(keyCheckpoint, []byte(strconv.FormatUint(*checkpoint, 10)))
	}
	_, err := tx.commit()
	return err
}

// Delist hides a resource (or a collection, community or person) from
// search results (HQ moderation) and records why. It may be called before
// the thing arrives.
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
	defer tx.close()
	if v := tx.get(prefDelist + id); v != nil && string(v) == reason {
		return tx.err // already so: nothing to write
	}
	tx.put(prefDelist+id, []byte(reason))
	if tx.record(id) != nil {
		tx.dirty[id] = true
	}
	wait, err := tx.commit()
	if err != nil {
		return err
	}
	return wait(ctx)
}

// Relist undoes Delist.
func (ix *Index) Relist(ctx context.Context, id string) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	tx := ix.begin()
	defer tx.close()
	if !tx.has(prefDelist + id) {
		return tx.err // not delisted: nothing to write
	}
	tx.del(prefDelist + id)
	if tx.record(id) != nil {
		tx.dirty[id] = true
	}
	wait, err := tx.commit()
	if err != nil {
		return err
	}
	return wait(ctx)
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
// touch the same keys, and bleve sees only committed state. It reads
// committed state through one index snapshot, opened on first use.
type txn struct {
	ix      *Index
	rd      bleveindex.IndexReader
	overlay map[string][]byte  // state documents; nil value: deleted
	recs    map[string]*record // records written in this txn; nil: deleted
	dirty   map[string]bool    // IDs whose document must be rebuilt
	err     error
}

func (ix *Index) begin() *txn {
	return &txn{ix: ix, overlay: map[string][]byte{}, recs: map[string]*record{}, dirty: map[string]bool{}}
}

// close releases the snapshot.
func (tx *txn) close() {
	if tx.rd != nil {
		tx.rd.Close()
		tx.rd = nil
	}
}

// stored returns the stored field f of document id through the txn's
// snapshot; nil if there is none.
func (tx *txn) stored(id, f string) []byte {
	if tx.err != nil {
		return nil
	}
	if tx.rd == nil {
		adv, err := tx.ix.bi.Advanced()
		if err == nil {
			tx.rd, err = adv.Reader()
		}
		if err != nil {
			tx.err = err
			return nil
		}
	}
	d, err := tx.rd.Document(id)
	if err != nil {
		tx.err = err
		return nil
	}
	return storedField(d, f)
}

func storedField(d bleveindex.Document, f string) []byte {
	if d == nil {
		return nil
	}
	var v []byte
	d.VisitFields(func(fl bleveindex.Field) {
		if fl.Name() == f {
			v = append([]byte(nil), fl.Value()...)
		}
	})
	return v
}

func (tx *txn) get(key string) []byte {
	if v, ok := tx.overlay[key]; ok {
		return v
	}
	return stateValue(tx.stored(key, fState))
}

// stateValue drops the "=" that keeps empty values non-empty.
func stateValue(v []byte) []byte {
	if len(v) == 0 {
		return nil
	}
	return v[1:]
}

// getState reads the state document key: nil if there is none.
func (ix *Index) getState(key string) ([]byte, error) {
	d, err := ix.bi.Document(key)
	if err != nil {
		return nil, err
	}
	return stateValue(storedField(d, fState)), nil
}

func (tx *txn) has(key string) bool { return tx.get(key) != nil }

func (tx *txn) put(key string, v []byte) {
	if v == nil {
		v = []byte{}
	}
	tx.overlay[key] = v
}

func (tx *txn) del(key string) { tx.overlay[key] = nil }

// record returns the current record of id, nil if there is none.
func (tx *txn) record(id string) *record {
	if r, ok := tx.recs[id]; ok {
		return r
	}
	v := tx.stored(id, fRec)
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
	tx.recs[id] = &r
	return &r
}

func (tx *txn) setRecord(id string, r *record) {
	tx.recs[id] = r
	tx.dirty[id] = true
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
	if tx.record(id) != nil {
		tx.dirty[id] = true
	}
}

func (tx *txn) apply(d *Doc) error {
	a := d.Activity
	if a == nil {
		return nil
	}
	switch a.Type {
	case activity.TypeCreate, activity.TypeUpdate:
		switch {
		case a.Object.Resource != nil:
			id := a.Object.Resource.ID
			if id == "" {
				id = d.CID // version 1: the Create's own CID is the stable ID
			}
			tx.applyRecord(id, newResourceRecord(d), a.Type == activity.TypeCreate && d.CID == id)
		case a.Object.Collection != nil:
			id := a.Object.Collection.ID
			if id == "" {
				id = d.CID
			}
			tx.applyRecord(id, newCollectionRecord(d), a.Type == activity.TypeCreate && d.CID == id)
		case a.Object.Actor != nil:
			// Only an actor describes itself, so its author is settled.
			if p := a.Object.Actor; p.ID == a.Actor {
				if r := newActorRecord(d); r != nil {
					tx.applyRecord(p.ID, r, true)
				}
			}
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

// applyRecord makes r the current version of id unless what the index
// holds wins: a deletion by the author, a newer version, or the same
// version with a smaller CID. genuine says that the activity settles who
// the author is (a Create whose CID is the ID, or an actor describing
// itself), whatever arrived before it.
func (tx *txn) applyRecord(id string, r *record, genuine bool) {
	if id == "" {
		return
	}
	if by := tx.get(prefTomb + id); by != nil {
		if string(by) == r.Author {
			return // deleted by its author: never resurrect
		}
		if genuine {
			tx.del(prefTomb + id) // a Delete by someone who is not the author
		}
	}
	if old := tx.record(id); old != nil {
		switch {
		case old.Author != r.Author:
			if !genuine {
				return // only the author publishes versions
			}
		case r.Version < old.Version:
			return // a late, older version
		case r.Version == old.Version && r.CID >= old.CID:
			return // the same activity again, or a fork: the smaller CID wins everywhere
		}
	}
	tx.setRecord(id, r)
}

func (tx *txn) applyDelete(actor, id string) {
	if old := tx.record(id); old != nil && old.Author != actor {
		return // only the author deletes
	}
	if by := tx.get(prefTomb + id); by != nil && string(by) == actor {
		return
	}
	tx.put(prefTomb+id, []byte(actor))
	if tx.record(id) != nil {
		tx.setRecord(id, nil)
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

// commit writes the rebuilt documents and the state documents in one
// batch. It returns once the batch is searchable, with a function that
// waits until it is persisted.
func (tx *txn) commit() (func(context.Context) error, error) {
	noWait := func(context.Context) error { return nil }
	defer tx.close()
	if tx.err != nil {
		return nil, fmt.Errorf("index: %w", tx.err)
	}
	b := tx.ix.bi.NewBatch()
	for id := range tx.dirty {
		r := tx.record(id)
		if r == nil {
			b.Delete(id)
			continue
		}
		r.Likes = tx.likes(id)
		doc, err := tx.ix.bleveDocument(id, r, tx.has(prefDelist+id))
		if err == nil {
			err = b.IndexAdvanced(doc)
		}
		if err != nil {
			return nil, fmt.Errorf("index: %s: %w", id, err)
		}
	}
	if tx.err != nil {
		return nil, fmt.Errorf("index: %w", tx.err)
	}
	for k, v := range tx.overlay {
		if v == nil {
			b.Delete(k)
		} else if err := b.IndexAdvanced(stateDocument(k, v)); err != nil {
			return nil, fmt.Errorf("index: %s: %w", k, err)
		}
	}
	if b.Size() == 0 {
		return noWait, nil
	}
	wait := tx.ix.persisted(b)
	if err := tx.ix.bi.Batch(b); err != nil {
		return nil, fmt.Errorf("index: batch: %w", err)
	}
	return wait, nil
}

func newResourceRecord(d *Doc) *record {
	a, res := d.Activity, d.Activity.Object.Resource
	r := &record{
		Kind:            KindResource,
		CID:             d.CID,
		Author:          a.Actor,
		AuthorHandle:    d.AuthorHandle,
		CommunityHandle: d.CommunityHandle,
		Version:         max(res.Version, 1),
		Title:           res.Title,
		Summary:         res.Description,
		Keywords:        dedupe(res.Keywords),
		License:         res.License,
		Language:        res.Language,
		Subjects:        dedupe(res.Subjects),
		Type:            res.LearningResourceType,
		Level:           res.Level,
		FileCID:         res.Media.CID,
		URL:             res.Media.URL,
		Published:       res.Published,
	}
	for _, c := range res.Creators {
		if c.Name != "" {
			r.Creators = append(r.Creators, c.Name)
		}
	}
	if r.Published.IsZero() {
		r.Published = a.Published
	}
	r.Published = r.Published.UTC()
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

// newCollectionRecord: a collection's versions are ordered by the seq of
// the activities that published them (only its author publishes them).
func newCollectionRecord(d *Doc) *record {
	a, c := d.Activity, d.Activity.Object.Collection
	r := &record{
		Kind:            KindCollection,
		CID:             d.CID,
		Author:          a.Actor,
		AuthorHandle:    d.AuthorHandle,
		CommunityHandle: d.CommunityHandle,
		Version:         max(a.Seq, 1),
		Title:           c.Title,
		Summary:         c.Description,
		Items:           len(c.Items),
		Published:       a.Published.UTC(),
	}
	if c.Owner != "" && c.Owner != a.Actor {
		r.Community = c.Owner
	}
	if _, node, ok := strings.Cut(d.AuthorHandle, "@"); ok {
		r.Origin = node
	}
	return r
}

// newActorRecord describes a person or a community (a Group); nodes
// (Service) are not indexed.
func newActorRecord(d *Doc) *record {
	a, p := d.Activity, d.Activity.Object.Actor
	var kind string
	switch p.Type {
	case activity.Person:
		kind = KindPerson
	case activity.Group:
		kind = KindCommunity
	default:
		return nil
	}
	r := &record{
		Kind:         kind,
		CID:          d.CID,
		Author:       p.ID,
		AuthorHandle: p.Handle(),
		Version:      max(a.Seq, 1),
		Title:        p.Name,
		Summary:      p.Summary,
		Keywords:     []string{p.PreferredUsername},
		Origin:       p.Node,
		Published:    p.Published,
	}
	if r.Title == "" {
		r.Title = p.PreferredUsername
	}
	if r.Published.IsZero() {
		r.Published = a.Published
	}
	r.Published = r.Published.UTC()
	return r
}

func dedupe(ss []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range ss {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
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

// sortTime is a fixed-width UTC layout: its strings sort as the times do.
const sortTime = "2006-01-02T15:04:05.000000000Z"

// Terms of fFacet are a one-byte code of the facet name and the value,
// and a kind is one byte too: a search with facets reads the doc values of
// every match, so every byte saved there is saved a million times at 1M.
var (
	facetCodes = map[string]byte{FacetKind: 'k', FacetLanguage: 'g', FacetLicense: 'l', FacetSubject: 's', FacetType: 't', FacetLevel: 'v'}
	facetNames = map[byte]string{'k': FacetKind, 'g': FacetLanguage, 'l': FacetLicense, 's': FacetSubject, 't': FacetType, 'v': FacetLevel}
	kindCodes  = map[string]string{KindResource: "r", KindCollection: "c", KindCommunity: "m", KindPerson: "p"}
	kindNames  = map[string]string{"r": KindResource, "c": KindCollection, "m": KindCommunity, "p": KindPerson}
)

// facetTerm is the fFacet term of value v of facet name.
func facetTerm(name, v string) string {
	if name == FacetKind {
		v = kindCodes[v]
	}
	return string(facetCodes[name]) + v
}

// parseFacetTerm undoes facetTerm.
func parseFacetTerm(t string) (name, v string, ok bool) {
	if t == "" {
		return "", "", false
	}
	name, ok = facetNames[t[0]]
	v = t[1:]
	if name == FacetKind {
		v, ok = kindNames[v]
	}
	return name, v, ok
}

// facetTerms are r's filter and facet terms, for fFacet.
func (r *record) facetTerms() []string {
	facets := []string{facetTerm(FacetKind, r.Kind)}
	for _, f := range []struct{ name, v string }{
		{FacetLanguage, primary(r.Language)}, {FacetLicense, r.License}, {FacetType, r.Type}, {FacetLevel, r.Level},
	} {
		if f.v != "" {
			facets = append(facets, facetTerm(f.name, f.v))
		}
	}
	for _, s := range r.Subjects {
		facets = append(facets, facetTerm(FacetSubject, s))
	}
	return facets
}

// people are the creators' names and the author's and community's
// handles, for fPeople.
func (r *record) people() []string {
	var people []string
	for _, p := range append(append([]string(nil), r.Creators...), r.AuthorHandle, r.CommunityHandle) {
		if p != "" {
			people = append(people, p)
		}
	}
	return people
}
