package node

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	ma "github.com/multiformats/go-multiaddr"
	"golang.org/x/text/language"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/index"
	"github.com/lyceum-oer/lyceum/p2p"
)

// ProtocolSearch answers search queries over libp2p: one JSON query in,
// one JSON result out.
const ProtocolSearch = protocol.ID("/lyceum/search/1.0.0")

// Limits of ProtocolSearch.
const (
	maxSearchRequest = 8 << 10
	maxSearchAnswer  = 4 << 20
)

// SearchQuery is a search as users give it.
type SearchQuery = index.Query

// SearchHit is one result, with the source that returned it.
type SearchHit struct {
	index.Hit
	// Sources name where the hit came from: "local" or an HQ's peer ID.
	Sources []string `json:"sources"`
}

// SearchResult merges the local index and every HQ that answered.
type SearchResult struct {
	Total  uint64                        `json:"total"`
	Hits   []SearchHit                   `json:"hits"`
	Facets map[string][]index.FacetCount `json:"facets"`
	Page   int                           `json:"page"`
	// Next is the page to ask for the following hits; 0 when there are none.
	Next int `json:"next,omitempty"`
	// Answered and Failed list the HQs by peer ID; Errors says why each
	// failed one did not answer.
	Answered []string          `json:"answered,omitempty"`
	Failed   []string          `json:"failed,omitempty"`
	Errors   map[string]string `json:"errors,omitempty"`
}

// openIndex opens the node's bleve index and catches it up with the log
// entries stored since its checkpoint: the index is derived state, and an
// acknowledged activity that a crash kept out of it is indexed at start.
// An index built with another mapping is rebuilt from the logs.
func (n *Node) openIndex(ctx context.Context) error {
	path := filepath.Join(n.repo.Path(), "index")
	ix, err := index.Open(path)
	if errors.Is(err, index.ErrStaleMapping) {
		n.log.Info("search index built with another mapping: rebuilding it from the logs")
		if err = os.RemoveAll(path); err == nil {
			ix, err = index.Open(path)
		}
	}
	if err != nil {
		return fmt.Errorf("open search index: %w", err)
	}
	n.index = ix
	if err := n.catchUpIndex(ctx); err != nil {
		return err
	}
	return n.redelist(ctx)
}

// redelist applies the recorded moderation marks again: a crash between
// the delisted table and the index may have kept one out of the index.
// Marks the index already has cost a read each.
func (n *Node) redelist(ctx context.Context) error {
	rows, err := n.db.db.QueryContext(ctx, `SELECT id, reason FROM delisted`)
	if err != nil {
		return fmt.Errorf("delisted: %w", err)
	}
	var delisted [][2]string
	for rows.Next() {
		var d [2]string
		if err := rows.Scan(&d[0], &d[1]); err != nil {
			rows.Close()
			return fmt.Errorf("delisted: %w", err)
		}
		delisted = append(delisted, d)
	}
	rows.Close()
	for _, d := range delisted {
		if err := n.index.Delist(ctx, d[0], d[1]); err != nil {
			return err
		}
	}
	return nil
}

// indexBatch is how many log entries catchUpIndex feeds the index at once.
const indexBatch = 2000

// catchUpIndex feeds the index the log entries after its checkpoint: the
// rowid of the last log entry it holds, recorded by the index itself in
// the batch that indexed it, so that the two never disagree after a
// crash (see index.Open).
func (n *Node) catchUpIndex(ctx context.Context) error {
	return n.catchUpIndexBy(ctx, indexBatch)
}

// catchUpIndexBy is catchUpIndex feeding the index size entries at a
// time: a rebuild uses index.RebuildBatch, which builds fewer segments.
func (n *Node) catchUpIndexBy(ctx context.Context, size int) error {
	n.indexMu.Lock()
	defer n.indexMu.Unlock()
	done, err := n.index.Checkpoint()
	if err != nil {
		return fmt.Errorf("index catch-up: %w", err)
	}
	for {
		// What the ingest loop just stored is handed over decoded, in
		// rowid order; the log is read only for the rest (after a
		// restart, or when the index fell behind).
		es, last := n.justStored.takeRun(done+1, size)
		if len(es) == 0 {
			if es, last, err = n.readLogAfter(ctx, done, size); err != nil {
				return fmt.Errorf("index catch-up: %w", err)
			}
		}
		if last == 0 {
			n.justStored.dropThrough(done) // put after the log was read
			return nil
		}
		done = last
		if err := n.index.ApplyThrough(ctx, n.indexDocs(ctx, es), done); err != nil {
			return fmt.Errorf("index catch-up: %w", err)
		}
		n.justStored.dropThrough(done)
	}
}

// readLogAfter reads up to size log entries after rowid done, and the
// rowid of the last; 0 when there are none. It reads on the read pool, so
// the index never waits for the ingest loop's transaction (1.6 s of 6.5 s
// in BenchmarkHQIngest's trace when it did).
func (n *Node) readLogAfter(ctx context.Context, done uint64, size int) ([]entry, uint64, error) {
	rows, err := n.db.readQuery(ctx, `SELECT rowid, cid, body FROM log_entries WHERE rowid > ? ORDER BY rowid LIMIT ?`, done, size)
	if err != nil {
		return nil, 0, err
	}
	type row struct {
		id   uint64
		cid  string
		body []byte
	}
	var batch []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.cid, &r.body); err != nil {
			rows.Close()
			return nil, 0, err
		}
		batch = append(batch, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	if len(batch) == 0 {
		return nil, 0, nil
	}
	var es []entry
	for _, r := range batch {
		c, err := cid.Decode(r.cid)
		if err != nil {
			continue
		}
		e, ok := n.justStored.take(r.id)
		if ok {
			err = nil
		} else if r.body != nil {
			e, err = decodeStored(c, r.body)
		} else {
			e, err = n.loadEntry(ctx, c) // stored before log entries moved into SQLite
		}
		if err != nil {
			return nil, 0, err
		}
		es = append(es, e)
	}
	return es, batch[len(batch)-1].id, nil
}

// indexDocs adds to each entry the handles the index shows.
func (n *Node) indexDocs(ctx context.Context, es []entry) []index.Doc {
	handles := map[string]string{}
	handle := func(did string) string {
		if did == "" {
			return ""
		}
		if h, ok := handles[did]; ok {
			return h
		}
		// On the read pool, as readLogAfter: the actors of entries
		// already committed.
		var h string
		_ = n.db.readRow(ctx, `SELECT username || '@' || node FROM actors WHERE did = ?`, did).Scan(&h)
		handles[did] = h
		return h
	}
	docs := make([]index.Doc, 0, len(es))
	for _, e := range es {
		docs = append(docs, index.Doc{Activity: e.act, CID: e.cid.String(), AuthorHandle: handle(e.act.Actor), CommunityHandle: handle(communityOf(e.act))})
	}
	return docs
}

// RebuildIndex empties the search index and feeds it every stored log
// entry again, then the moderation marks.
func (n *Node) RebuildIndex(ctx context.Context) (int, error) {
	if _, err := n.searchIndex(); err != nil {
		return 0, err
	}
	n.indexMu.Lock()
	if err := n.index.Close(); err != nil {
		n.indexMu.Unlock()
		return 0, fmt.Errorf("close index: %w", err)
	}
	path := filepath.Join(n.repo.Path(), "index")
	if err := os.RemoveAll(path); err != nil {
		n.indexMu.Unlock()
		return 0, fmt.Errorf("remove index: %w", err)
	}
	ix, err := index.Open(path)
	if err != nil {
		n.indexMu.Unlock()
		return 0, fmt.Errorf("create index: %w", err)
	}
	n.index = ix
	n.indexMu.Unlock()
	if err := n.catchUpIndexBy(ctx, index.RebuildBatch); err != nil {
		return 0, err
	}
	if err := n.redelist(ctx); err != nil {
		return 0, err
	}
	if err := n.index.Sync(ctx); err != nil {
		return 0, err
	}
	c, err := n.index.Count()
	return int(c), err
}

// searchIndex is the node's index, or a KindUnavailable error on a node
// started WithoutLocalIndex (the simulator's plain nodes), so that a
// search or moderation call, local or from a peer, is refused rather than
// crashing the node.
func (n *Node) searchIndex() (*index.Index, error) {
	n.indexMu.Lock()
	defer n.indexMu.Unlock()
	if n.index == nil {
		return nil, &Error{Kind: KindUnavailable, Msg: "this node runs without a search index"}
	}
	return n.index, nil
}

// kickIndex wakes indexLoop; it never blocks.
func (n *Node) kickIndex() {
	select {
	case n.indexKick <- struct{}{}:
	default:
	}
}

// indexLoop feeds the search index from the log, after each commit, off
// the path that acknowledges activities: the index trails the log by a
// batch at most and catches up from its checkpoint after a crash.
func (n *Node) indexLoop(ctx context.Context) {
	defer n.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case <-n.indexKick:
		}
		if err := n.catchUpIndex(ctx); err != nil && ctx.Err() == nil {
			n.log.Warn("index", "err", err)
		}
	}
}

// WaitIndexed blocks until the search index holds every stored log entry;
// for tests and benchmarks.
func (n *Node) WaitIndexed(ctx context.Context) error {
	return n.catchUpIndex(ctx)
}

// searchLocal asks the node's own index.
func (n *Node) searchLocal(ctx context.Context, q SearchQuery) (index.Result, error) {
	ix, err := n.searchIndex()
	if err != nil {
		return index.Result{}, err
	}
	res, err := ix.Search(ctx, q)
	var qe *index.QueryError
	if errors.As(err, &qe) {
		return index.Result{}, &Error{Kind: KindInvalid, Msg: qe.Msg}
	}
	if err != nil {
		return index.Result{}, fmt.Errorf("search the local index: %w", err)
	}
	return res, nil
}

// Search asks the local index and every configured HQ in parallel, waits
// for the HQs until the deadline, and merges the answers: hits are
// deduplicated by resource ID (the newest version wins), facets added up
// from the largest answer. An HQ that does not answer is named in Failed;
// the local answer is always there.
func (n *Node) Search(ctx context.Context, q SearchQuery) (SearchResult, error) {
	q, err := checkSearch(q)
	if err != nil {
		return SearchResult{}, err
	}
	type answer struct {
		source string
		res    index.Result
		err    error
	}
	hqs := n.cfg.Search.HQs
	answers := make(chan answer, len(hqs)+1)
	go func() {
		var a answer
		defer func() {
			if p := recover(); p != nil {
				n.log.Error("panic in local search", "panic", p, "stack", string(debug.Stack()))
				a = answer{source: "local", err: fmt.Errorf("local search: panic: %v", p)}
			}
			answers <- a
		}()
		res, err := n.searchLocal(ctx, q)
		a = answer{source: "local", res: res, err: err}
	}()
	timeout := time.Duration(n.cfg.Search.Timeout)
	if timeout <= 0 {
		timeout = 3 * time.Second
	}
	hctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for _, hq := range hqs {
		go func(hq string) {
			res, src, err := n.searchHQ(hctx, hq, q)
			if src == "" {
				src = hq
			}
			answers <- answer{source: src, res: res, err: err}
		}(hq)
	}
	out := SearchResult{Page: q.Page, Facets: map[string][]index.FacetCount{}, Errors: map[string]string{}}
	byID := map[string]int{}
	for range len(hqs) + 1 {
		a := <-answers
		if a.err != nil {
			if a.source == "local" {
				return SearchResult{}, a.err
			}
			out.Failed = append(out.Failed, a.source)
			out.Errors[a.source] = a.err.Error()
			continue
		}
		if a.source != "local" {
			out.Answered = append(out.Answered, a.source)
		}
		if a.res.Total > out.Total {
			out.Total = a.res.Total
			out.Facets = a.res.Facets
		}
		for _, h := range a.res.Hits {
			if i, ok := byID[h.ID]; ok {
				out.Hits[i].Sources = append(out.Hits[i].Sources, a.source)
				if h.Version > out.Hits[i].Version {
					out.Hits[i].Hit = h
				}
				continue
			}
			byID[h.ID] = len(out.Hits)
			out.Hits = append(out.Hits, SearchHit{Hit: h, Sources: []string{a.source}})
		}
	}
	sortHits(out.Hits, q.Sort)
	if len(out.Hits) > q.Size {
		out.Hits = out.Hits[:q.Size]
	}
	if uint64(q.Page*q.Size) < out.Total {
		out.Next = q.Page + 1
	}
	sort.Strings(out.Failed)
	return out, nil
}

func sortHits(hs []SearchHit, by string) {
	sort.SliceStable(hs, func(i, j int) bool {
		switch by {
		case "newest":
			return hs[i].Published.After(hs[j].Published)
		case "popular":
			return hs[i].Likes > hs[j].Likes
		}
		return hs[i].Score > hs[j].Score
	})
}

// searchHQ sends q to one HQ over ProtocolSearch. hq is a full multiaddr
// or a peer ID.
func (n *Node) searchHQ(ctx context.Context, hq string, q SearchQuery) (index.Result, string, error) {
	if n.host == nil {
		return index.Result{}, "", errors.New("offline")
	}
	var info peer.AddrInfo
	if strings.HasPrefix(hq, "/") {
		m, err := ma.NewMultiaddr(hq)
		if err != nil {
			return index.Result{}, "", err
		}
		ai, err := peer.AddrInfoFromP2pAddr(m)
		if err != nil {
			return index.Result{}, "", err
		}
		info = *ai
	} else {
		id, err := peer.Decode(hq)
		if err != nil {
			return index.Result{}, "", err
		}
		info.ID = id
	}
	src := info.ID.String()
	if err := n.host.Libp2p().Connect(ctx, info); err != nil {
		return index.Result{}, src, fmt.Errorf("unreachable: %w", err)
	}
	body, err := json.Marshal(q)
	if err != nil {
		return index.Result{}, src, err
	}
	data, err := p2p.Request(ctx, n.host.Libp2p(), info.ID, ProtocolSearch, body, maxSearchAnswer)
	if err != nil {
		return index.Result{}, src, err
	}
	var res index.Result
	if err := decodeStrict(data, &res); err != nil {
		return index.Result{}, src, fmt.Errorf("bad answer: %w", err)
	}
	return res, src, nil
}

// searchService bounds ProtocolSearch: the rate is search.rate_limit per
// peer, as over HTTP per IP.
func (n *Node) searchService() p2p.ServiceConfig {
	return p2p.ServiceConfig{MaxRequest: maxSearchRequest, MaxResponse: maxSearchAnswer,
		PeerRate: n.cfg.Search.RateLimit, PeerBurst: 2*int(n.cfg.Search.RateLimit) + 1,
		RateLimitedPeers: n.cfg.Limits.RateLimitedClients}
}

// handleSearch answers ProtocolSearch from the local index: on an HQ, the
// whole network's.
func (n *Node) handleSearch(ctx context.Context, _ peer.ID, data []byte) ([]byte, error) {
	var q SearchQuery
	if err := decodeStrict(data, &q); err != nil {
		return nil, p2p.Refusef("bad search request: %v", err)
	}
	q, err := checkSearch(q)
	if err != nil {
		return nil, p2p.Refusef("%s", PublicMessage(err))
	}
	res, err := n.searchLocal(ctx, q)
	if err != nil {
		if KindOf(err) == KindInternal {
			return nil, err
		}
		return nil, p2p.Refusef("%s", PublicMessage(err))
	}
	return json.Marshal(res)
}

// AllowSearch applies the node's search rate limit to an HTTP client (its
// IP); peers are limited by ProtocolSearch's own per-peer rate.
func (n *Node) AllowSearch(client string) bool { return n.searchLimit.Allow(client) }

// checkSearch validates a search as a user or a peer gave it and fills in
// the defaults: page and size in range (with no overflow however large),
// a known kind and sort, filters from the vocabularies, and a text of
// bounded length and words.
func checkSearch(q SearchQuery) (SearchQuery, error) {
	switch {
	case q.Page < 0:
		return q, invalidf("page must be a whole number from 1")
	case q.Size < 0 || q.Size > index.MaxSize:
		return q, invalidf("size must be from 1 to %d", index.MaxSize)
	}
	q.Page, q.Size = max(q.Page, 1), cmp.Or(q.Size, index.DefaultSize)
	if q.Page > index.MaxDepth/q.Size {
		return q, invalidf("page %d of %d results is too deep: at most %d results can be paged through", q.Page, q.Size, index.MaxDepth)
	}
	if q.Kind != "" && !slices.Contains(index.Kinds, q.Kind) {
		return q, invalidf("kind must be one of %s", strings.Join(index.Kinds, ", "))
	}
	switch q.Sort {
	case "", index.SortRelevance, index.SortNewest, index.SortPopular:
	default:
		return q, invalidf("sort must be relevance, newest or popular")
	}
	if len(q.Text) > index.MaxTextBytes || !utf8.ValidString(q.Text) {
		return q, invalidf("the search text must be valid UTF-8 of at most %d bytes", index.MaxTextBytes)
	}
	if q.Language != "" {
		if _, err := language.Parse(q.Language); err != nil || len(q.Language) > 35 {
			return q, invalidf("language %q is not a BCP 47 tag such as en, fr or pt-BR", truncateRunes(q.Language, 40))
		}
	}
	if q.License != "" {
		if _, ok := activity.LookupLicense(q.License); !ok {
			return q, invalidf("license %q is not one of %s", truncateRunes(q.License, 40), strings.Join(licenseIDs(), ", "))
		}
	}
	if q.Subject != "" {
		if _, ok := activity.LookupSubject(q.Subject); !ok {
			return q, invalidf("subject %q is not an ISCED-F 2013 code such as 0541 (mathematics)", truncateRunes(q.Subject, 40))
		}
	}
	if q.Level != "" {
		if _, ok := activity.LookupLevel(q.Level); !ok {
			return q, invalidf("level %q is not an ISCED 2011 level: 0 to 8, or adult", truncateRunes(q.Level, 40))
		}
	}
	if q.Type != "" {
		if _, ok := activity.LookupType(q.Type); !ok {
			return q, invalidf("type %q is not a resource type such as assessment, course or reading", truncateRunes(q.Type, 40))
		}
	}
	return q, nil
}

// licenseIDs lists the licences of the vocabulary, for messages.
func licenseIDs() []string {
	var ids []string
	for _, l := range activity.Vocab().Licenses {
		ids = append(ids, l.ID)
	}
	return ids
}

// Delist hides a resource from this node's search results (HQ
// moderation); the origin keeps it. The reason is recorded.
func (n *Node) Delist(ctx context.Context, id, reason string) error {
	if reason == "" {
		return invalidf("say why: --reason")
	}
	ix, err := n.searchIndex()
	if err != nil {
		return err
	}
	if err := ix.Delist(ctx, id, reason); err != nil {
		return fmt.Errorf("delist %s: %w", id, err)
	}
	_, err = n.db.db.ExecContext(ctx, `INSERT OR REPLACE INTO delisted (id, reason, at) VALUES (?, ?, ?)`, id, reason, time.Now().UTC().Format(time.RFC3339))
	return err
}

// Relist undoes Delist.
func (n *Node) Relist(ctx context.Context, id string) error {
	ix, err := n.searchIndex()
	if err != nil {
		return err
	}
	if err := ix.Relist(ctx, id); err != nil {
		return fmt.Errorf("relist %s: %w", id, err)
	}
	_, err = n.db.db.ExecContext(ctx, `DELETE FROM delisted WHERE id = ?`, id)
	return err
}

// storedEntries hands the entries the ingest loop just stored, decoded
// and by rowid, to the index loop, which would otherwise read them back
// from the log and decode them again: decoding is a tenth of what
// ingesting an activity costs. It holds at most maxJustStored; what it
// drops is read from the log again.
type storedEntries struct {
	mu sync.Mutex
	m  map[uint64]entry
}

const maxJustStored = 4 * indexBatch

// put adds entries stored under rowids.
func (s *storedEntries) put(rowids []uint64, es []entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[uint64]entry{}
	}
	for i, e := range es {
		if len(s.m) >= maxJustStored {
			// Entries the index read from the log before they were put
			// here are never taken: start again rather than keep them.
			clear(s.m)
		}
		s.m[rowids[i]] = e
	}
}

// takeRun takes the entries of rowids from, from+1, … up to size of
// them, and returns the last rowid taken (0 if none).
func (s *storedEntries) takeRun(from uint64, size int) ([]entry, uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var es []entry
	id := from
	for ; len(es) < size; id++ {
		e, ok := s.m[id]
		if !ok {
			break
		}
		delete(s.m, id)
		es = append(es, e)
	}
	if len(es) == 0 {
		return nil, 0
	}
	return es, id - 1
}

// take takes the entry stored under rowid.
func (s *storedEntries) take(rowid uint64) (entry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[rowid]
	if ok {
		delete(s.m, rowid)
	}
	return e, ok
}

// dropThrough drops the entries of rowids up to done: the index read them
// from the log before they were put here.
func (s *storedEntries) dropThrough(done uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id := range s.m {
		if id <= done {
			delete(s.m, id)
		}
	}
}

// waiting is how many stored entries wait for the index.
func (s *storedEntries) waiting() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

// maxIndexLag is how many stored entries may wait for the index before the
// ingest loop waits for it (up to maxIndexLagWait a batch). Running ahead
// only moved work to the end, with less of it in parallel: on
// BenchmarkHQIngest activities were acknowledged at 3,900/s but indexed at
// 2,900/s, where both went at 3,200/s before; and the index decodes again
// what maxJustStored drops.
const (
	maxIndexLag     = indexBatch
	maxIndexLagWait = 100 * time.Millisecond
)

// waitForIndex waits, up to maxIndexLagWait, until fewer than maxIndexLag
// stored entries wait for the index. A broken index slows ingest down;
// it does not stop it.
func (n *Node) waitForIndex(ctx context.Context) {
	if n.index == nil {
		return
	}
	deadline := time.Now().Add(maxIndexLagWait)
	for n.justStored.waiting() >= maxIndexLag && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Millisecond):
		}
	}
}
