package search

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	ma "github.com/multiformats/go-multiaddr"
	"golang.org/x/text/language"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/index"
	"github.com/lyceum-oer/lyceum/node/actorlog"
	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/ratelimit"
	"github.com/lyceum-oer/lyceum/node/sqlitedb"
	"github.com/lyceum-oer/lyceum/node/worker"
	"github.com/lyceum-oer/lyceum/p2p"
)

// ProtocolSearch answers search queries over libp2p: one api.SearchQuery
// in, one api.SearchPage out.
const ProtocolSearch = protocol.ID("/lyceum/search/1.0.0")

// Limits of ProtocolSearch.
const (
	maxSearchRequest = 8 << 10
	maxSearchAnswer  = 4 << 20
)

// Handles names actors for the index: name@node.
type Handles interface {
	Handle(ctx context.Context, did string) string
}

// Config is the search room's plain-data configuration.
type Config struct {
	// IndexPath is the folder of the bleve index; "" runs without one
	// (the simulator's plain nodes): local search is then unavailable.
	IndexPath string
	// HQs are the indexing peers asked besides the local index: full
	// multiaddrs or peer IDs. Timeout is how long a search waits for them.
	HQs     []string
	Timeout time.Duration
	// RateLimit is the searches per second one client (IP over HTTP,
	// peer over libp2p) may make, in bursts of twice that; RateLimited
	// bounds the clients remembered.
	RateLimit   float64
	RateLimited int
	// IndexOptions tune the index (benchmarks).
	IndexOptions []index.Option
	// Logger; nil = slog.Default().
	Logger *slog.Logger
}

// Deps are the parts of the node the search room works with.
type Deps struct {
	Log     *actorlog.Log
	DB      *sqlitedb.DB // lyceum.db: the delisted table
	Handles Handles
	Host    *p2p.Host   // nil when offline
	RPC     *p2p.Server // nil when offline
	Workers *worker.Group
}

// Service is the search room.
type Service struct {
	cfg Config
	Deps
	log     *slog.Logger
	clients *ratelimit.Keyed // HTTP clients
	peers   *ratelimit.Keyed // peers on ProtocolSearch

	// mu guards ix and gen; feedMu is held while a batch goes into the
	// index (by the feeder, or a rebuild's catch-up).
	mu     sync.Mutex
	ix     *index.Index
	gen    int
	feedMu sync.Mutex

	// hqs are the last answers of the HQs (hqstatus.go).
	hqs hqStates

	counts searchCounts // metrics.go
}

// New opens the index (rebuilding one built with another mapping) and
// returns the search room; Start feeds it.
func New(ctx context.Context, cfg Config, d Deps) (*Service, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	burst := 2*int(cfg.RateLimit) + 1
	s := &Service{cfg: cfg, Deps: d, log: cfg.Logger.With("component", "search"),
		clients: ratelimit.New(cfg.RateLimit, burst, cfg.RateLimited), peers: ratelimit.New(cfg.RateLimit, burst, cfg.RateLimited)}
	if _, err := d.DB.SQL().ExecContext(ctx, `CREATE TABLE IF NOT EXISTS delisted (id TEXT PRIMARY KEY, reason TEXT NOT NULL, at TEXT NOT NULL)`); err != nil {
		return nil, fmt.Errorf("create the delisted table: %w", err)
	}
	if cfg.IndexPath == "" {
		return s, nil
	}
	ix, err := index.Open(cfg.IndexPath, cfg.IndexOptions...)
	if errors.Is(err, index.ErrStaleMapping) {
		s.log.Info("search index built with another mapping: rebuilding it from the logs")
		if err = os.RemoveAll(cfg.IndexPath); err == nil {
			ix, err = index.Open(cfg.IndexPath, cfg.IndexOptions...)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("open search index: %w", err)
	}
	s.ix = ix
	// Moderation marks again: a crash between the delisted table and the
	// index may have kept one out of the index.
	if err := s.redelist(ctx, ix); err != nil {
		ix.Close()
		return nil, err
	}
	return s, nil
}

// Start serves ProtocolSearch and feeds the index from the log until ctx
// ends.
func (s *Service) Start(ctx context.Context) {
	if s.RPC != nil {
		s.RPC.Serve(ctx, ProtocolSearch, p2p.ServiceConfig{MaxRequest: maxSearchRequest, MaxResponse: maxSearchAnswer, PerPeer: s.peers}, s.handleSearch)
	}
	if s.ix != nil {
		s.Workers.Go(func() { s.feed(ctx) })
	}
}

// Close closes the index; the feeder stops with Start's context, which
// the caller ends and waits for first.
func (s *Service) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ix == nil {
		return nil
	}
	err := s.ix.Close()
	s.ix = nil
	return err
}

// index is the node's index and its generation, or a KindUnavailable
// error on a node that runs without one.
func (s *Service) index() (*index.Index, int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ix == nil {
		return nil, 0, api.Errorf(api.KindUnavailable, "this node runs without a search index")
	}
	return s.ix, s.gen, nil
}

// errRebuilt ends a feeding pass whose index was replaced.
var errRebuilt = errors.New("the index was rebuilt")

// feed keeps the index in step with the log: it follows the log from the
// index's own checkpoint, off the path that acknowledges activities, and
// holds ingest back when it falls behind (actorlog.TailOptions.HoldsStores).
func (s *Service) feed(ctx context.Context) {
	for ctx.Err() == nil {
		ix, gen, err := s.index()
		if err != nil {
			return
		}
		done, err := ix.Checkpoint()
		if err == nil {
			err = s.Log.Tail(ctx, int64(done), actorlog.TailOptions{Batch: indexBatch, HoldsStores: true}, func(es []actorlog.Entry) error {
				var err error
				s.Workers.Survive("index", func() { err = s.applyBatch(ctx, gen, es) })
				return err
			})
		}
		if ctx.Err() != nil {
			return
		}
		if !errors.Is(err, errRebuilt) {
			s.log.Warn("index", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
}

// indexBatch is how many log entries the feeder hands the index at once.
const indexBatch = 2000

func (s *Service) applyBatch(ctx context.Context, gen int, es []actorlog.Entry) error {
	s.feedMu.Lock()
	defer s.feedMu.Unlock()
	ix, cur, err := s.index()
	if err != nil {
		return err
	}
	if cur != gen {
		return errRebuilt
	}
	if err := ix.ApplyThrough(ctx, s.docs(ctx, es), uint64(es[len(es)-1].Cursor)); err != nil {
		return err
	}
	s.counts.indexed.Add(int64(len(es)))
	return nil
}

// docs adds to each entry the handles the index shows.
func (s *Service) docs(ctx context.Context, es []actorlog.Entry) []index.Doc {
	handles := map[string]string{}
	handle := func(did string) string {
		if did == "" {
			return ""
		}
		h, ok := handles[did]
		if !ok {
			h = s.Handles.Handle(ctx, did)
			handles[did] = h
		}
		return h
	}
	docs := make([]index.Doc, 0, len(es))
	for _, e := range es {
		docs = append(docs, index.Doc{Activity: e.Act, CID: e.CID.String(), AuthorHandle: handle(e.Act.Actor), CommunityHandle: handle(e.Act.Community())})
	}
	return docs
}

// WaitIndexed waits until the index holds every entry the log had stored
// when it was called; for tests and benchmarks.
func (s *Service) WaitIndexed(ctx context.Context) error {
	last, err := s.Log.LastCursor(ctx)
	if err != nil {
		return err
	}
	for {
		ix, _, err := s.index()
		if err != nil {
			return err
		}
		if done, err := ix.Checkpoint(); err != nil || done >= uint64(last) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// Persist waits until everything the index holds is on disk.
func (s *Service) Persist(ctx context.Context) error {
	ix, _, err := s.index()
	if err != nil {
		return err
	}
	return ix.Sync(ctx)
}

// Rebuild empties the index and feeds it every stored log entry again,
// then the moderation marks; it returns how many documents it holds.
func (s *Service) Rebuild(ctx context.Context) (api.Rebuilt, error) {
	s.feedMu.Lock()
	defer s.feedMu.Unlock()
	if _, _, err := s.index(); err != nil {
		return api.Rebuilt{}, err
	}
	s.mu.Lock()
	err := s.ix.Close()
	if err == nil {
		err = os.RemoveAll(s.cfg.IndexPath)
	}
	var ix *index.Index
	if err == nil {
		ix, err = index.Open(s.cfg.IndexPath, s.cfg.IndexOptions...)
	}
	s.ix, s.gen = ix, s.gen+1
	s.mu.Unlock()
	if err != nil {
		return api.Rebuilt{}, fmt.Errorf("rebuild the index: %w", err)
	}
	var done int64
	for {
		es, err := s.Log.After(ctx, done, index.RebuildBatch)
		if err != nil {
			return api.Rebuilt{}, fmt.Errorf("rebuild the index: %w", err)
		}
		if len(es) == 0 {
			break
		}
		done = es[len(es)-1].Cursor
		if err := ix.ApplyThrough(ctx, s.docs(ctx, es), uint64(done)); err != nil {
			return api.Rebuilt{}, fmt.Errorf("rebuild the index: %w", err)
		}
	}
	if err := s.redelist(ctx, ix); err != nil {
		return api.Rebuilt{}, err
	}
	if err := ix.Sync(ctx); err != nil {
		return api.Rebuilt{}, err
	}
	n, err := ix.Count()
	return api.Rebuilt{Count: int(n)}, err
}

// redelist applies the recorded moderation marks to ix. Marks the index
// already has cost a read each.
func (s *Service) redelist(ctx context.Context, ix *index.Index) error {
	rows, err := s.DB.Query(ctx, `SELECT id, reason FROM delisted`)
	if err != nil {
		return fmt.Errorf("delisted: %w", err)
	}
	marks, err := sqlitedb.Scan(rows, func(rows *sql.Rows) ([2]string, error) {
		var d [2]string
		return d, rows.Scan(&d[0], &d[1])
	})
	if err != nil {
		return fmt.Errorf("delisted: %w", err)
	}
	for _, d := range marks {
		if err := ix.Delist(ctx, d[0], d[1]); err != nil {
			return err
		}
	}
	return nil
}

// Delist hides a resource from this node's search results (HQ
// moderation); the origin keeps it. The reason is recorded.
func (s *Service) Delist(ctx context.Context, req api.DelistRequest) error {
	if req.Reason == "" {
		return api.Invalidf("say why: --reason")
	}
	ix, _, err := s.index()
	if err != nil {
		return err
	}
	if err := ix.Delist(ctx, req.ID, req.Reason); err != nil {
		return fmt.Errorf("delist %s: %w", req.ID, err)
	}
	_, err = s.DB.Exec(ctx, `INSERT OR REPLACE INTO delisted (id, reason, at) VALUES (?, ?, ?)`, req.ID, req.Reason, time.Now().UTC().Format(time.RFC3339))
	return err
}

// Relist undoes Delist.
func (s *Service) Relist(ctx context.Context, req api.DelistRequest) error {
	ix, _, err := s.index()
	if err != nil {
		return err
	}
	if err := ix.Relist(ctx, req.ID); err != nil {
		return fmt.Errorf("relist %s: %w", req.ID, err)
	}
	_, err = s.DB.Exec(ctx, `DELETE FROM delisted WHERE id = ?`, req.ID)
	return err
}

// AllowSearch applies the search rate limit to an HTTP client (its IP);
// peers are limited on ProtocolSearch itself.
func (s *Service) AllowSearch(client string) bool { return s.clients.Allow(client) }

// Check validates a search as a user or a peer gave it and fills in the
// defaults: page and size in range (with no overflow however large), a
// known kind and sort, filters from the vocabularies, and a text of
// bounded length. The index bounds the words.
func Check(q api.SearchQuery) (api.SearchQuery, error) {
	switch {
	case q.Page < 0:
		return q, api.Invalidf("page must be a whole number from 1")
	case q.Size < 0 || q.Size > index.MaxSize:
		return q, api.Invalidf("size must be from 1 to %d", index.MaxSize)
	}
	q.Page, q.Size = max(q.Page, 1), cmp.Or(q.Size, index.DefaultSize)
	if q.Page > index.MaxDepth/q.Size {
		return q, api.Invalidf("page %d of %d results is too deep: at most %d results can be paged through", q.Page, q.Size, index.MaxDepth)
	}
	if q.Kind != "" && !slices.Contains(index.Kinds, q.Kind) {
		return q, api.Invalidf("kind must be one of %s", strings.Join(index.Kinds, ", "))
	}
	switch q.Sort {
	case "", index.SortRelevance, index.SortNewest, index.SortPopular:
	default:
		return q, api.Invalidf("sort must be relevance, newest or popular")
	}
	if len(q.Text) > index.MaxTextBytes || !utf8.ValidString(q.Text) {
		return q, api.Invalidf("the search text must be valid UTF-8 of at most %d bytes", index.MaxTextBytes)
	}
	return q, checkFilters(q)
}

// checkFilters checks the filters against the vocabularies.
func checkFilters(q api.SearchQuery) error {
	if q.Language != "" {
		if _, err := language.Parse(q.Language); err != nil || len(q.Language) > 35 {
			return api.Invalidf("language %s is not a BCP 47 tag such as en, fr or pt-BR", api.Quote(q.Language))
		}
	}
	if q.License != "" {
		if _, ok := activity.LookupLicense(q.License); !ok {
			var ids []string
			for _, l := range activity.Vocab().Licenses {
				ids = append(ids, l.ID)
			}
			return api.Invalidf("license %s is not one of %s", api.Quote(q.License), strings.Join(ids, ", "))
		}
	}
	if q.Subject != "" {
		if _, ok := activity.LookupSubject(q.Subject); !ok {
			return api.Invalidf("subject %s is not an ISCED-F 2013 code such as 0541 (mathematics)", api.Quote(q.Subject))
		}
	}
	if q.Level != "" {
		if _, ok := activity.LookupLevel(q.Level); !ok {
			return api.Invalidf("level %s is not an ISCED 2011 level: 0 to 8, or adult", api.Quote(q.Level))
		}
	}
	if q.Type != "" {
		if _, ok := activity.LookupType(q.Type); !ok {
			return api.Invalidf("type %s is not a resource type such as assessment, course or reading", api.Quote(q.Type))
		}
	}
	return nil
}

// searchLocal asks the node's own index.
func (s *Service) searchLocal(ctx context.Context, q api.SearchQuery) (api.SearchPage, error) {
	ix, _, err := s.index()
	if err != nil {
		return api.SearchPage{}, err
	}
	res, err := ix.Search(ctx, index.Query{Text: q.Text, Kind: q.Kind, Language: q.Language, License: q.License, Subject: q.Subject,
		Type: q.Type, Level: q.Level, Sort: q.Sort, Page: q.Page, Size: q.Size, Facets: q.Facets})
	var qe *index.QueryError
	if errors.As(err, &qe) {
		return api.SearchPage{}, api.Invalidf("%s", qe.Msg)
	}
	if err != nil {
		return api.SearchPage{}, fmt.Errorf("search the local index: %w", err)
	}
	return pageOf(res), nil
}

// pageOf is an index result in the API's words.
func pageOf(r index.Result) api.SearchPage {
	p := api.SearchPage{Total: r.Total, Hits: make([]api.SearchHit, 0, len(r.Hits)), Facets: map[string][]api.FacetCount{}}
	for _, h := range r.Hits {
		p.Hits = append(p.Hits, api.SearchHit{ID: h.ID, Kind: h.Kind, Title: h.Title, Snippet: h.Snippet, Author: h.Author,
			AuthorHandle: h.AuthorHandle, Community: h.Community, CommunityHandle: h.CommunityHandle, License: h.License,
			Language: h.Language, Origin: h.Origin, FileCID: h.FileCID, URL: h.URL, Version: h.Version, Items: h.Items,
			Published: h.Published, Likes: h.Likes, Score: h.Score, Sources: []string{}})
	}
	for name, counts := range r.Facets {
		out := make([]api.FacetCount, 0, len(counts))
		for _, c := range counts {
			out = append(out, api.FacetCount{Term: c.Term, Count: c.Count})
		}
		p.Facets[name] = out
	}
	return p
}

// Search asks the local index and every configured HQ in parallel, waits
// for the HQs until the timeout, and merges the answers: hits are
// deduplicated by ID (the newest version wins), facets taken from the
// largest answer. An HQ that does not answer is named in Failed; the local
// answer is always there.
func (s *Service) Search(ctx context.Context, q api.SearchQuery) (api.SearchResult, error) {
	s.counts.requests[0].Add(1)
	defer s.counts.observe(time.Now())
	q, err := Check(q)
	if err != nil {
		return api.SearchResult{}, err
	}
	type answer struct {
		source string
		page   api.SearchPage
		err    error
	}
	hqs := s.cfg.HQs
	answers := make(chan answer, len(hqs)+1)
	go func() {
		var a answer
		defer func() {
			if p := recover(); p != nil {
				s.log.Error("panic in local search", "panic", p, "stack", string(debug.Stack()))
				a = answer{source: "local", err: fmt.Errorf("local search: panic: %v", p)}
			}
			answers <- a
		}()
		page, err := s.searchLocal(ctx, q)
		a = answer{source: "local", page: page, err: err}
	}()
	hctx, cancel := context.WithTimeout(ctx, cmp.Or(s.cfg.Timeout, 3*time.Second))
	defer cancel()
	for _, hq := range hqs {
		go func(hq string) {
			page, src, err := s.searchHQ(hctx, hq, q)
			answers <- answer{source: cmp.Or(src, hq), page: page, err: err}
		}(hq)
	}
	out := api.SearchResult{Page: q.Page, Hits: []api.SearchHit{}, Facets: map[string][]api.FacetCount{},
		Answered: []string{}, Failed: []string{}, Errors: map[string]string{}}
	byID := map[string]int{}
	for range len(hqs) + 1 {
		a := <-answers
		if a.source != "local" {
			s.hqs.record(a.source, a.err)
			s.counts.hqAnswer(a.err)
		}
		if a.err != nil {
			if a.source == "local" {
				return api.SearchResult{}, a.err
			}
			s.log.Debug("HQ did not answer", "hq", a.source, "err", a.err)
			out.Failed = append(out.Failed, a.source)
			out.Errors[a.source] = hqFailure(a.err)
			continue
		}
		if a.source != "local" {
			out.Answered = append(out.Answered, a.source)
		}
		if a.page.Total > out.Total && a.page.Facets != nil {
			out.Total, out.Facets = a.page.Total, a.page.Facets
		} else if a.page.Total > out.Total {
			out.Total = a.page.Total
		}
		for _, h := range a.page.Hits {
			if i, ok := byID[h.ID]; ok {
				sources := append(out.Hits[i].Sources, a.source)
				if h.Version > out.Hits[i].Version {
					out.Hits[i] = h
				}
				out.Hits[i].Sources = sources
				continue
			}
			byID[h.ID] = len(out.Hits)
			h.Sources = []string{a.source}
			out.Hits = append(out.Hits, h)
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

// hqFailure says why an HQ did not answer, in words fit for anyone: its
// refusal, or that it could not be reached or did not answer; the details
// (addresses, dial errors) go to the node's debug log only.
func hqFailure(err error) string {
	var re *p2p.RemoteError
	switch {
	case errors.As(err, &re) && re.Refused:
		return "refused: " + re.Msg
	case errors.Is(err, errUnreachable):
		return "unreachable"
	case errors.Is(err, context.DeadlineExceeded):
		return "did not answer in time"
	}
	return "did not answer"
}

// errUnreachable marks an HQ the node could not connect to.
var errUnreachable = errors.New("unreachable")

func sortHits(hs []api.SearchHit, by string) {
	sort.SliceStable(hs, func(i, j int) bool {
		switch by {
		case index.SortNewest:
			return hs[i].Published.After(hs[j].Published)
		case index.SortPopular:
			return hs[i].Likes > hs[j].Likes
		}
		return hs[i].Score > hs[j].Score
	})
}

// searchHQ sends q to one HQ over ProtocolSearch. hq is a full multiaddr
// or a peer ID; src is its peer ID.
func (s *Service) searchHQ(ctx context.Context, hq string, q api.SearchQuery) (page api.SearchPage, src string, err error) {
	if s.Host == nil {
		return page, "", errors.New("offline")
	}
	var info peer.AddrInfo
	if strings.HasPrefix(hq, "/") {
		m, err := ma.NewMultiaddr(hq)
		if err != nil {
			return page, "", err
		}
		ai, err := peer.AddrInfoFromP2pAddr(m)
		if err != nil {
			return page, "", err
		}
		info = *ai
	} else if info.ID, err = peer.Decode(hq); err != nil {
		return page, "", err
	}
	src = info.ID.String()
	if err := s.Host.Libp2p().Connect(ctx, info); err != nil {
		return page, src, fmt.Errorf("%w: %w", errUnreachable, err)
	}
	body, err := json.Marshal(q)
	if err != nil {
		return page, src, err
	}
	data, err := p2p.Request(ctx, s.Host.Libp2p(), info.ID, ProtocolSearch, body, maxSearchAnswer)
	if err != nil {
		return page, src, err
	}
	if err := api.DecodeStrict(data, &page); err != nil {
		return page, src, fmt.Errorf("bad answer: %w", err)
	}
	return page, src, nil
}

// handleSearch answers ProtocolSearch from the local index: on an HQ, the
// whole network's.
func (s *Service) handleSearch(ctx context.Context, _ peer.ID, data []byte) ([]byte, error) {
	s.counts.requests[1].Add(1)
	var q api.SearchQuery
	if err := api.DecodeStrict(data, &q); err != nil {
		return nil, p2p.Refusef("bad search request: %s", api.PublicMessage(err))
	}
	q, err := Check(q)
	if err != nil {
		return nil, p2p.Refusef("%s", api.PublicMessage(err))
	}
	page, err := s.searchLocal(ctx, q)
	if err != nil {
		if api.KindOf(err) == api.KindInternal {
			return nil, err
		}
		return nil, p2p.Refusef("%s", api.PublicMessage(err))
	}
	return json.Marshal(page)
}
